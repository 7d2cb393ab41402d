package hiu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/database"
)

// pushBody is one pushed page. Key material is read with fidelius's lenient
// type: senders write expiry in many shapes and nobody checks it.
type pushBody struct {
	PageNumber    int                  `json:"pageNumber"`
	PageCount     int                  `json:"pageCount"`
	TransactionID string               `json:"transactionId"`
	Entries       []pushEntry          `json:"entries"`
	KeyMaterial   fidelius.KeyMaterial `json:"keyMaterial"`
}

type pushEntry struct {
	Content              string `json:"content,omitempty"`
	Link                 string `json:"link,omitempty"`
	Media                string `json:"media"`
	Checksum             string `json:"checksum"`
	CareContextReference string `json:"careContextReference"`
}

// RegisterDataPush mounts POST /bridge/:tenant/hiu/data-push/:request, the
// dataPushUrl given to HIPs (":tenant" is the tenant slug). The app's
// BodyLimit must allow Config.MaxPushBytes.
func (s *Service) RegisterDataPush(r fiber.Router) {
	r.Post("/bridge/:tenant/hiu/data-push/:request", s.receivePush)
}

// pushError is the body of a refused push.
func pushError(c *fiber.Ctx, status int, code, msg string) error {
	return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": msg}})
}

type refusal struct {
	status int
	code   string
	msg    string
}

func (r *refusal) Error() string { return r.msg }

func (s *Service) receivePush(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if len(c.Body()) > s.cfg.MaxPushBytes {
		return pushError(c, http.StatusRequestEntityTooLarge, "HIU-413", "page too large")
	}
	reqID := c.Params("request")
	if _, err := uuid.Parse(reqID); err != nil {
		return pushError(c, http.StatusNotFound, "HIU-404", "unknown data push URL")
	}
	var tenant string
	err := s.pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", c.Params("tenant")).Scan(&tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return pushError(c, http.StatusNotFound, "HIU-404", "unknown data push URL")
	}
	if err != nil {
		s.log.ErrorContext(ctx, "data push: reading tenant", "err", err)
		return pushError(c, http.StatusInternalServerError, "HIU-500", "try again")
	}
	var body pushBody
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return pushError(c, http.StatusBadRequest, "HIU-400", "body is not a data push")
	}
	if body.TransactionID == "" || len(body.Entries) == 0 || body.PageNumber < 0 || body.PageCount < 1 || body.PageNumber > body.PageCount {
		return pushError(c, http.StatusBadRequest, "HIU-400", "transactionId, entries and page numbers are required")
	}
	// Check the key material now so a malformed push is refused while the
	// sender can still fix it; decryption happens in the job.
	if _, _, err := body.KeyMaterial.Parse(); err != nil {
		return pushError(c, http.StatusBadRequest, "HIU-400", "keyMaterial is unusable")
	}
	dup, err := s.storePage(ctx, tenant, reqID, &body, c.Body())
	var ref *refusal
	if errors.As(err, &ref) {
		s.log.WarnContext(ctx, "data push refused", "tenant", tenant, "reason", ref.msg)
		return pushError(c, ref.status, ref.code, ref.msg)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "data push: storing page", "tenant", tenant, "err", err)
		return pushError(c, http.StatusInternalServerError, "HIU-500", "try again")
	}
	if dup {
		s.log.InfoContext(ctx, "data push page already received", "tenant", tenant, "page", body.PageNumber)
	}
	return c.Status(http.StatusAccepted).JSON(fiber.Map{"status": "accepted"})
}

// storePage stores a page once and queues its processing with it. It
// reports whether the page had been received before.
func (s *Service) storePage(ctx context.Context, tenant, reqID string, body *pushBody, raw []byte) (dup bool, err error) {
	err = database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		var status, txn string
		var expires time.Time
		err := tx.QueryRow(ctx, `SELECT status, transaction_id, expires_at FROM hiu_data_requests
			WHERE id = $1 FOR UPDATE`, reqID).Scan(&status, &txn, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return &refusal{http.StatusNotFound, "HIU-404", "unknown data push URL"}
		}
		if err != nil {
			return fmt.Errorf("reading data request: %w", err)
		}
		if txn != "" && txn != body.TransactionID {
			return &refusal{http.StatusNotFound, "HIU-404", "unknown transaction"}
		}
		if !expires.After(s.now()) || status == dataExpired || status == dataFailed {
			return &refusal{http.StatusGone, "HIU-410", "transaction expired"}
		}
		var pageID int64
		err = tx.QueryRow(ctx, `INSERT INTO hiu_pages (tenant_id, data_request_id, page_number, page_count, body)
			VALUES (app_tenant_id(), $1, $2, $3, $4) ON CONFLICT (data_request_id, page_number) DO NOTHING
			RETURNING id`, reqID, body.PageNumber, body.PageCount, raw).Scan(&pageID)
		if errors.Is(err, pgx.ErrNoRows) {
			dup = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("storing page: %w", err)
		}
		if status == dataCompleted {
			return &refusal{http.StatusConflict, "HIU-409", "transaction already complete"}
		}
		if _, err := tx.Exec(ctx, `UPDATE hiu_data_requests SET transaction_id = $2, page_count = $3,
			status = CASE WHEN status = 'requested' THEN 'acknowledged' ELSE status END, updated_at = now()
			WHERE id = $1`, reqID, body.TransactionID, body.PageCount); err != nil {
			return fmt.Errorf("updating data request: %w", err)
		}
		if _, err := s.inserter.InsertTx(ctx, tx, PageArgs{Tenant: tenant, Page: pageID}, &river.InsertOpts{Queue: s.cfg.Queue}); err != nil {
			return fmt.Errorf("queueing page: %w", err)
		}
		return nil
	})
	return dup, err
}
