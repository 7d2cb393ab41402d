package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Direction says which way a message went.
type Direction string

// Directions.
const (
	Outbound Direction = "outbound" // we sent it to the switch
	Inbound  Direction = "inbound"  // the switch delivered it to us
)

// MessageState is where a message is in its life.
type MessageState string

// Message states. Outbound: queued, then sent (the switch acknowledged
// it) or dead_lettered (it gave up). Inbound: received (acknowledged,
// processing queued), then processed, unmatched (no case found), failed
// (processing gave up) or replied (a payer's request we answered);
// refused deliveries are kept without payload.
const (
	StateQueued       MessageState = "queued"
	StateSent         MessageState = "sent"
	StateDeadLettered MessageState = "dead_lettered"
	StateReceived     MessageState = "received"
	StateProcessed    MessageState = "processed"
	StateUnmatched    MessageState = "unmatched"
	StateFailed       MessageState = "failed"
	StateReplied      MessageState = "replied"
	StateRefused      MessageState = "refused"
)

// Message is one ledger row, without its payload (see Payload).
type Message struct {
	ID        int64
	Tenant    string
	CaseID    string // empty when no case was found
	Direction Direction
	// Path is the NHCX path, e.g. /v1/preauth/submit; Entity and Action
	// are its parts ("preauth", "submit"; "status"/"on_status" for
	// /v1/on_status, "error"/"error" for /v1/error).
	Path           string
	Entity         string
	Action         string
	SenderCode     string
	RecipientCode  string
	APICallID      string
	CorrelationID  string
	RequestID      string
	WorkflowID     string
	ProtocolStatus string
	State          MessageState
	// Outcome is what processing read from an inbound message.
	Outcome string
	// Headers are the x-hcx-* headers as JSON.
	Headers json.RawMessage
	// Ack is the switch's acknowledgement (outbound) or our receipt
	// (inbound).
	Ack          json.RawMessage
	HTTPStatus   int
	ErrorCode    string
	ErrorMessage string
	Attempts     int
	MaxAttempts  int
	// Duplicates counts redeliveries of an inbound message.
	Duplicates  int
	RespondsTo  int64
	ReplayOf    int64
	HasPayload  bool
	HasJWE      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SentAt      *time.Time
	ProcessedAt *time.Time
}

const messageColumns = `id, tenant_id::text, coalesce(case_id::text, ''), direction, path, entity, action,
	sender_code, recipient_code, coalesce(api_call_id, ''), correlation_id, request_id, workflow_id,
	protocol_status, state, outcome, headers, coalesce(ack, 'null'::jsonb), coalesce(http_status, 0),
	error_code, error_message, attempts, max_attempts, duplicates, coalesce(responds_to, 0),
	coalesce(replay_of, 0), payload IS NOT NULL, jwe IS NOT NULL, created_at, updated_at, sent_at, processed_at`

func scanMessage(row pgx.CollectableRow) (Message, error) {
	var m Message
	var headers, ack []byte
	err := row.Scan(&m.ID, &m.Tenant, &m.CaseID, &m.Direction, &m.Path, &m.Entity, &m.Action,
		&m.SenderCode, &m.RecipientCode, &m.APICallID, &m.CorrelationID, &m.RequestID, &m.WorkflowID,
		&m.ProtocolStatus, &m.State, &m.Outcome, &headers, &ack, &m.HTTPStatus,
		&m.ErrorCode, &m.ErrorMessage, &m.Attempts, &m.MaxAttempts, &m.Duplicates, &m.RespondsTo,
		&m.ReplayOf, &m.HasPayload, &m.HasJWE, &m.CreatedAt, &m.UpdatedAt, &m.SentAt, &m.ProcessedAt)
	m.Headers = headers
	if string(ack) != "null" {
		m.Ack = ack
	}
	return m, err
}

// LedgerFilter narrows Ledger; zero fields match everything.
type LedgerFilter struct {
	CaseID        string
	CorrelationID string
	APICallID     string
	Direction     Direction
	State         MessageState
	// Limit defaults to 200.
	Limit int
}

// Ledger lists the tenant's messages, oldest first, for status pages and
// audit.
func (s *Service) Ledger(ctx context.Context, tenant string, f LedgerFilter) ([]Message, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	var out []Message
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+messageColumns+` FROM claims_messages
			WHERE ($1 = '' OR case_id::text = $1) AND ($2 = '' OR correlation_id = $2)
			  AND ($3 = '' OR api_call_id = $3) AND ($4 = '' OR direction = $4) AND ($5 = '' OR state = $5)
			ORDER BY id LIMIT $6`,
			f.CaseID, f.CorrelationID, f.APICallID, string(f.Direction), string(f.State), f.Limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanMessage)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	return out, nil
}

// Message returns one ledger row of the tenant.
func (s *Service) Message(ctx context.Context, tenant string, id int64) (Message, error) {
	var m Message
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		m, err = getMessage(ctx, tx, id, false)
		return err
	})
	return m, err
}

// Payload returns a message's FHIR payload: what we sent, or what we
// received, decrypted. It is clinical and financial data; show it only to
// staff allowed to see the case and never log it.
func (s *Service) Payload(ctx context.Context, tenant string, id int64) ([]byte, error) {
	var p []byte
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "SELECT payload FROM claims_messages WHERE id = $1", id).Scan(&p)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("message %d: %w", id, ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading payload of message %d: %w", id, err)
	}
	return p, nil
}

func getMessage(ctx context.Context, tx pgx.Tx, id int64, lock bool) (Message, error) {
	q := "SELECT " + messageColumns + " FROM claims_messages WHERE id = $1"
	if lock {
		q += " FOR UPDATE"
	}
	rows, err := tx.Query(ctx, q, id)
	if err != nil {
		return Message{}, fmt.Errorf("reading message %d: %w", id, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMessage)
	if errors.Is(err, pgx.ErrNoRows) {
		return Message{}, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("reading message %d: %w", id, err)
	}
	return m, nil
}

// splitPath names a path's entity and action for the ledger.
func splitPath(path string) (entity, action string) {
	switch path {
	case "/v1/status":
		return "status", "status"
	case "/v1/on_status":
		return "status", "on_status"
	case "/v1/error":
		return "error", "error"
	}
	entity, action, _ = strings.Cut(strings.TrimPrefix(path, "/v1/"), "/")
	return entity, action
}

// clip bounds texts from the other side that go into error columns.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
