package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sangamhealth/sangam/database"
)

// jobInserter is what the intake needs of the River client.
type jobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// IntakeConfig configures NewIntake.
type IntakeConfig struct {
	Pool   *pgxpool.Pool // application pool
	Jobs   jobInserter   // the River client (*jobs.Client)
	Tokens *Tokens
	Logger *slog.Logger
}

// Intake receives the events source systems push.
type Intake struct {
	cfg IntakeConfig
}

// NewIntake returns the event intake.
func NewIntake(cfg IntakeConfig) (*Intake, error) {
	switch {
	case cfg.Pool == nil:
		return nil, errors.New("sources intake: Pool is required")
	case cfg.Jobs == nil:
		return nil, errors.New("sources intake: Jobs is required")
	case cfg.Tokens == nil:
		return nil, errors.New("sources intake: Tokens is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Intake{cfg: cfg}, nil
}

// EventsPath is the intake route; :system is the source_systems id.
const EventsPath = "/api/sources/:system/events"

// Register mounts POST /api/sources/:system/events on r. The route
// authenticates with the source's own bearer token, so it must sit outside
// staff sign-in and CSRF checks. Answers: 202 {"id", "status": "accepted"
// or "duplicate"} once the event is stored; 400, 401, 404 or 413 with
// {"error": {"code", "message"}}.
func (in *Intake) Register(r fiber.Router) {
	r.Post(EventsPath, in.receive)
}

func (in *Intake) receive(c *fiber.Ctx) error {
	ctx := c.UserContext()
	// Params are borrowed from fasthttp's buffers; copy.
	system := strings.Clone(c.Params("system"))
	if _, err := uuid.Parse(system); err != nil {
		return reject(c, fiber.StatusNotFound, "unknown_source", "the path must name a source system by its id")
	}
	log := in.cfg.Logger.With("source_system", system)

	token, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	tenant, err := in.cfg.Tokens.Authenticate(ctx, system, strings.TrimSpace(token))
	if errors.Is(err, ErrUnauthorized) {
		log.InfoContext(ctx, "source event refused: bad token")
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="sangam-sources"`)
		return reject(c, fiber.StatusUnauthorized, "invalid_token", "the bearer token is missing, unknown, expired or not this source's")
	}
	if err != nil {
		return in.serverError(c, log, err)
	}

	body := c.Body()
	if len(body) > maxEventBytes {
		return reject(c, fiber.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("an event is at most %d bytes", maxEventBytes))
	}
	ev, err := ParseEvent(body)
	if err != nil {
		log.InfoContext(ctx, "source event refused: invalid", "error", err)
		return reject(c, fiber.StatusBadRequest, "invalid_event", strings.TrimPrefix(err.Error(), ErrInvalidInput.Error()+": "))
	}

	id, duplicate, err := in.store(ctx, tenant, system, ev)
	if err != nil {
		return in.serverError(c, log, err)
	}
	status := "accepted"
	if duplicate {
		status = "duplicate"
	}
	log.InfoContext(ctx, "source event stored", "event", id, "type", ev.Type, "status", status)
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": id, "status": status})
}

// store writes the event and queues its processing in one transaction, so
// an acknowledged event is never lost and never processed before it is
// stored. A resent event (same event_id) is found and not queued again.
func (in *Intake) store(ctx context.Context, tenantID, sourceSystemID string, ev Event) (id int64, duplicate bool, err error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return 0, false, fmt.Errorf("encoding event: %w", err)
	}
	err = database.InTenant(ctx, in.cfg.Pool, tenantID, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO source_events (tenant_id, source_system_id, event_id, type, payload)
			SELECT tenant_id, id, $2, $3, $4 FROM source_systems WHERE id::text = $1
			ON CONFLICT (source_system_id, event_id) DO NOTHING
			RETURNING id`, sourceSystemID, ev.EventID, ev.Type, payload).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			duplicate = true
			return tx.QueryRow(ctx, `SELECT id FROM source_events WHERE source_system_id::text = $1 AND event_id = $2`,
				sourceSystemID, ev.EventID).Scan(&id)
		}
		if err != nil {
			return err
		}
		_, err = in.cfg.Jobs.InsertTx(ctx, tx, EventArgs{Tenant: tenantID, Event: id}, nil)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("storing source event: %w", err)
	}
	return id, duplicate, nil
}

func reject(c *fiber.Ctx, status int, code, msg string) error {
	return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": msg}})
}

func (in *Intake) serverError(c *fiber.Ctx, log *slog.Logger, err error) error {
	log.ErrorContext(c.UserContext(), "source event intake failed", "error", err)
	return reject(c, fiber.StatusInternalServerError, "internal", "the event could not be stored; send it again")
}
