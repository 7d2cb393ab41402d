package claims

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims/hcx"
)

// InboundPaths are the paths NHCX delivers to a provider's registered
// endpoint_url (reference §3, "Roles"): answers to our requests, requests
// payers start, and NHCX's own failure reports on /v1/error.
var InboundPaths = []string{
	hcx.PathCoverageEligibilityOnCheck,
	hcx.PathPreauthOnSubmit,
	hcx.PathPredeterminationOnSubmit,
	hcx.PathClaimOnSubmit,
	hcx.PathCommunicationRequest,
	hcx.PathPaymentNoticeRequest,
	hcx.PathOnStatus,
	hcx.PathSearchOnSubmit,
	hcx.PathTaskOnSubmit,
	hcx.PathInsurancePlanOnRequest,
	hcx.PathError,
}

// maxAPICallIDLen bounds the ids we store; NHCX sends UUIDs.
const maxAPICallIDLen = 128

// RegisterCallbacks mounts a POST handler for each of InboundPaths on r.
// Mount r where the participant's registered endpoint_url points (NHCX
// appends the paths). The handlers authenticate by decrypting with our
// private key, so they sit outside staff sign-in and CSRF checks; r's
// body limit must admit Config.MaxBodyBytes. Each handler writes its own
// answer: 202 with the receipt NHCX expects, or a 4xx/5xx with the same
// shape and an error.
func (s *Service) RegisterCallbacks(r fiber.Router) {
	for _, p := range InboundPaths {
		r.Post(p, s.receive(p))
	}
}

// delivery is a parsed, not yet stored, NHCX delivery.
type delivery struct {
	path    string
	headers hcx.Headers
	// compact is the JWE; empty for a plain protocol response (/v1/error,
	// or an error report on an on_* path).
	compact string
	raw     []byte
	// apiCallID is the header's, or one derived from the body when a
	// plain report has none.
	apiCallID string
}

// receive is the handler of one inbound path.
func (s *Service) receive(path string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		body := c.Body()
		if len(body) > s.cfg.MaxBodyBytes {
			return refuse(c, s, fiber.StatusRequestEntityTooLarge, hcx.Headers{}, "ERR_INVALID_PAYLOAD",
				fmt.Sprintf("the body is %d bytes; at most %d are accepted", len(body), s.cfg.MaxBodyBytes))
		}
		d, code, msg := parseDelivery(path, body)
		if code != "" {
			s.log.InfoContext(ctx, "nhcx delivery refused", "path", path, "code", code, "reason", msg)
			return refuse(c, s, fiber.StatusBadRequest, d.headers, code, msg)
		}
		log := s.log.With("path", path, "api_call_id", d.apiCallID, "correlation_id", d.headers.CorrelationID)

		part, err := s.routeDelivery(ctx, d)
		if errors.Is(err, ErrNotFound) {
			log.InfoContext(ctx, "nhcx delivery refused: not addressed to a participant of ours",
				"recipient", d.headers.RecipientCode, "sender", d.headers.SenderCode)
			return refuse(c, s, fiber.StatusNotFound, d.headers, "ERR_INVALID_RECIPIENT",
				"the recipient is not a participant code served here")
		}
		if err != nil {
			return serverError(c, s, log, d.headers, err)
		}
		log = log.With("tenant", part.Tenant)

		if prior, found, err := s.priorDelivery(ctx, part.Tenant, d.apiCallID); err != nil {
			return serverError(c, s, log, d.headers, err)
		} else if found {
			log.InfoContext(ctx, "nhcx delivery repeated; acknowledged again, not processed again", "message", prior.id)
			return c.Status(prior.status).Type("json").Send(prior.ack)
		}

		var payload []byte
		if d.compact == "" {
			payload = body // a plain report: no clinical data, kept as sent
		} else if payload, err = s.open(ctx, part, d.compact); err != nil {
			if !errors.Is(err, hcx.ErrDecrypt) && !errors.Is(err, hcx.ErrMalformed) {
				return serverError(c, s, log, d.headers, err)
			}
			id, serr := s.storeRefused(ctx, part.Tenant, d, err)
			if serr != nil {
				return serverError(c, s, log, d.headers, serr)
			}
			log.WarnContext(ctx, "nhcx delivery refused: cannot decrypt with our key", "message", id, "error", err)
			return refuse(c, s, fiber.StatusBadRequest, d.headers, "ERR_INVALID_ENCRYPTION",
				"the message cannot be decrypted with the recipient's registered key")
		}

		stored, err := s.storeDelivery(ctx, part, d, payload)
		if err != nil {
			return serverError(c, s, log, d.headers, err)
		}
		if stored.duplicate {
			log.InfoContext(ctx, "nhcx delivery repeated; acknowledged again, not processed again", "message", stored.id)
		} else {
			log.InfoContext(ctx, "nhcx delivery received", "message", stored.id)
		}
		return c.Status(stored.status).Type("json").Send(stored.ack)
	}
}

// parseDelivery reads a body into a delivery, or returns an error code
// and message to refuse it with. It is lenient where senders differ
// (reference §13 #11): "type" may be missing, unknown members are ignored,
// a plain protocol response is accepted on any path.
func parseDelivery(path string, body []byte) (delivery, string, string) {
	d := delivery{path: path, raw: body}
	rcv, err := hcx.ParseBody(body)
	if err != nil {
		return d, "ERR_INVALID_PAYLOAD", err.Error()
	}
	if rcv.Protocol != nil {
		d.headers = *rcv.Protocol
		d.apiCallID = d.headers.APICallID
		if d.apiCallID == "" {
			// Reports without an id are told apart by their content, so an
			// identical repeat is still recognised.
			sum := sha256.Sum256(body)
			d.apiCallID = "sha256:" + hex.EncodeToString(sum[:16])
		}
	} else {
		h, _, err := hcx.ReadHeaders(rcv.Payload)
		switch {
		case errors.Is(err, hcx.ErrAlgorithmNotAllowed):
			return d, "ERR_INVALID_ENCRYPTION", err.Error()
		case err != nil:
			return d, "ERR_INVALID_PAYLOAD", err.Error()
		}
		d.headers, d.compact, d.apiCallID = h, rcv.Payload, h.APICallID
		switch {
		case d.apiCallID == "":
			return d, "ERR_MANDATORY_HEADER_MISSING", "x-hcx-api_call_id is missing"
		case strings.TrimSpace(h.RecipientCode) == "":
			return d, "ERR_MANDATORY_HEADER_MISSING", "x-hcx-recipient_code is missing"
		}
	}
	if len(d.apiCallID) > maxAPICallIDLen {
		return d, "ERR_INVALID_API_CALL_ID", fmt.Sprintf("x-hcx-api_call_id is longer than %d characters", maxAPICallIDLen)
	}
	return d, "", ""
}

// routeDelivery finds the participant a delivery is for: the recipient of
// an encrypted message; for a plain report, the recipient or else the
// sender, because NHCX's /v1/error repeats the headers of the request
// that failed, whose sender was us.
func (s *Service) routeDelivery(ctx context.Context, d delivery) (Participant, error) {
	codes := []string{d.headers.RecipientCode}
	if d.compact == "" {
		codes = append(codes, d.headers.SenderCode)
	}
	err := error(ErrNotFound)
	for _, code := range codes {
		var p Participant
		if p, err = s.routeParticipant(ctx, code); err == nil {
			return p, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Participant{}, err
		}
	}
	return Participant{}, err
}

// open decrypts a message with the participant's key. When the cached key
// fails it is read again once, in case it was replaced in the key store.
func (s *Service) open(ctx context.Context, p Participant, compact string) ([]byte, error) {
	for retried := false; ; retried = true {
		part, err := s.participant(ctx, p)
		if err != nil {
			return nil, err
		}
		msg, err := hcx.Open(compact, part.key)
		if err == nil {
			return msg.Payload, nil
		}
		if retried || !errors.Is(err, hcx.ErrDecrypt) {
			return nil, err
		}
		s.forgetParticipant(p.Tenant, p.Code)
	}
}

type priorAck struct {
	id     int64
	status int
	ack    []byte
}

// priorDelivery finds an earlier delivery with the same api_call_id and
// counts this one as its duplicate.
func (s *Service) priorDelivery(ctx context.Context, tenant, apiCallID string) (priorAck, bool, error) {
	var p priorAck
	found := false
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE claims_messages SET duplicates = duplicates + 1, updated_at = now()
			WHERE direction = 'inbound' AND api_call_id = $1 AND state <> 'refused'
			RETURNING id, coalesce(http_status, 202), coalesce(ack::text, '{}')`, apiCallID).Scan(&p.id, &p.status, &p.ack)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return p, false, fmt.Errorf("looking up earlier deliveries: %w", err)
	}
	return p, found, nil
}

type storedDelivery struct {
	id        int64
	status    int
	ack       []byte
	duplicate bool
}

// storeDelivery writes a delivery and its processing job in one
// transaction, and returns the receipt to answer with, as stored, so that
// a redelivery gets the very same bytes. A concurrent delivery of the same
// api_call_id that won the race makes this one a duplicate.
func (s *Service) storeDelivery(ctx context.Context, p Participant, d delivery, payload []byte) (storedDelivery, error) {
	entity, action := splitPath(d.path)
	ackEntity := entity
	if r, err := hcx.RouteOf(d.path); err == nil {
		ackEntity = r.EntityType
	} else if d.headers.EntityType != "" {
		ackEntity = d.headers.EntityType
	}
	receipt := hcx.NewReceipt(d.headers, ackEntity, s.cfg.Now())
	ack, err := json.Marshal(receipt)
	if err != nil {
		return storedDelivery{}, fmt.Errorf("encoding receipt: %w", err)
	}
	headers, err := json.Marshal(d.headers)
	if err != nil {
		return storedDelivery{}, fmt.Errorf("encoding headers: %w", err)
	}
	var jwe *string
	if d.compact != "" {
		jwe = &d.compact
	}
	sum := sha256.Sum256(payload)
	out := storedDelivery{status: fiber.StatusAccepted, ack: ack}
	err = s.inTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO claims_messages (tenant_id, direction, path, entity, action, sender_code, recipient_code,
				api_call_id, correlation_id, request_id, workflow_id, protocol_status, state, headers, jwe,
				payload, payload_sha256, ack, http_status, max_attempts)
			VALUES ($1, 'inbound', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'received', $12, $13, $14, $15, $16, $17, $18)
			ON CONFLICT (tenant_id, direction, api_call_id) WHERE api_call_id IS NOT NULL AND state <> 'refused' DO NOTHING
			RETURNING id, ack::text`,
			p.Tenant, d.path, entity, action, normalizeCode(d.headers.SenderCode), normalizeCode(d.headers.RecipientCode),
			d.apiCallID, d.headers.CorrelationID, d.headers.RequestID, d.headers.WorkflowID, string(d.headers.Status),
			headers, jwe, payload, sum[:], ack, out.status, s.cfg.ProcessMaxAttempts,
		).Scan(&out.id, &out.ack)
		if errors.Is(err, pgx.ErrNoRows) {
			out.duplicate = true
			return tx.QueryRow(ctx, `
				UPDATE claims_messages SET duplicates = duplicates + 1, updated_at = now()
				WHERE direction = 'inbound' AND api_call_id = $1 AND state <> 'refused'
				RETURNING id, coalesce(http_status, 202), coalesce(ack::text, '{}')`, d.apiCallID).Scan(&out.id, &out.status, &out.ack)
		}
		if err != nil {
			return fmt.Errorf("storing delivery: %w", err)
		}
		return s.enqueueProcess(ctx, tx, p.Tenant, out.id, jobTag(d.path))
	})
	if err != nil {
		return storedDelivery{}, err
	}
	return out, nil
}

// storeRefused keeps a delivery we could not decrypt, without its
// content, so the ledger shows it.
func (s *Service) storeRefused(ctx context.Context, tenant string, d delivery, why error) (int64, error) {
	entity, action := splitPath(d.path)
	headers, err := json.Marshal(d.headers)
	if err != nil {
		return 0, fmt.Errorf("encoding headers: %w", err)
	}
	var id int64
	err = s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		// NHCX retries a refused delivery; one row per api_call_id is enough.
		err := tx.QueryRow(ctx, `
			UPDATE claims_messages SET duplicates = duplicates + 1, updated_at = now()
			WHERE direction = 'inbound' AND api_call_id = $1 AND state = 'refused'
			RETURNING id`, d.apiCallID).Scan(&id)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO claims_messages (tenant_id, direction, path, entity, action, sender_code, recipient_code,
				api_call_id, correlation_id, request_id, workflow_id, protocol_status, state, headers, http_status,
				error_code, error_message)
			VALUES ($1, 'inbound', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'refused', $12, 400,
				'ERR_INVALID_ENCRYPTION', $13)
			RETURNING id`,
			tenant, d.path, entity, action, normalizeCode(d.headers.SenderCode), normalizeCode(d.headers.RecipientCode),
			d.apiCallID, d.headers.CorrelationID, d.headers.RequestID, d.headers.WorkflowID, string(d.headers.Status),
			headers, clip(why.Error(), 500),
		).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("recording refused delivery: %w", err)
	}
	return id, nil
}

// refuse answers a delivery with the acknowledgement shape and an error,
// which is how NHCX itself reports refusals.
func refuse(c *fiber.Ctx, s *Service, status int, h hcx.Headers, code, message string) error {
	return c.Status(status).JSON(hcx.Ack{
		Timestamp:     hcx.FormatAckTimestamp(s.cfg.Now()),
		APICallID:     h.APICallID,
		CorrelationID: h.CorrelationID,
		Error:         &hcx.Details{Code: code, Message: message},
	})
}

// serverError answers 500, so NHCX retries later, and logs the cause once.
func serverError(c *fiber.Ctx, s *Service, log *slog.Logger, h hcx.Headers, err error) error {
	log.ErrorContext(c.UserContext(), "nhcx delivery failed", "error", err)
	return refuse(c, s, fiber.StatusInternalServerError, h, "ERR_SERVICE_UNAVAILABLE",
		"the delivery could not be stored; retry later")
}
