package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
)

// Direction says which way an exchange went.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"  // a callback from the gateway
	Outbound Direction = "outbound" // a call to the gateway
)

// State is where an exchange stands.
type State string

// Inbound states: acknowledged (stored, processing queued), then processed,
// unhandled (no processor) or failed (attempts exhausted), then replied
// once an on-* answer to it was delivered. Refused callbacks are stored
// without their body.
//
// Outbound states: queued (waiting for or between attempts), then delivered
// or dead_lettered.
const (
	StateRefused      State = "refused"
	StateAcknowledged State = "acknowledged"
	StateProcessed    State = "processed"
	StateUnhandled    State = "unhandled"
	StateFailed       State = "failed"
	StateReplied      State = "replied"
	StateQueued       State = "queued"
	StateDelivered    State = "delivered"
	StateDeadLettered State = "dead_lettered"
)

// Event kinds on an exchange's timeline.
const (
	EventReceived      = "received"
	EventAcknowledged  = "acknowledged"
	EventRefused       = "refused"
	EventDuplicate     = "duplicate"
	EventConflict      = "conflict"
	EventProcessed     = "processed"
	EventUnhandled     = "unhandled"
	EventFailed        = "failed"
	EventReplied       = "replied"
	EventQueued        = "queued"
	EventAttempt       = "attempt"
	EventDelivered     = "delivered"
	EventDeadLettered  = "dead_lettered"
	EventReplayed      = "replayed"
	EventAnswered      = "answered"
	EventBodyPurged    = "body_purged"
	EventProcessFailed = "process_failed"
)

// event is one timeline entry to write. Zero attempt and status are stored
// as NULL.
type event struct {
	exchange int64
	kind     string
	attempt  int
	status   int
	detail   string
}

// addEvents writes events in one statement.
func addEvents(ctx context.Context, tx pgx.Tx, tenant string, evs ...event) error {
	if len(evs) == 0 {
		return nil
	}
	ids := make([]int64, len(evs))
	kinds := make([]string, len(evs))
	attempts := make([]int32, len(evs))
	statuses := make([]int32, len(evs))
	details := make([]string, len(evs))
	for i, e := range evs {
		ids[i], kinds[i], attempts[i], statuses[i], details[i] = e.exchange, e.kind, int32(e.attempt), int32(e.status), e.detail
	}
	// WITH ORDINALITY keeps the given order in the ids, so a timeline
	// sorted by id reads in the order the events happened.
	_, err := tx.Exec(ctx, `
		INSERT INTO bridge_events (tenant_id, exchange_id, kind, attempt, http_status, detail)
		SELECT $1, e.x, e.k, NULLIF(e.a, 0), NULLIF(e.s, 0), e.d
		FROM unnest($2::bigint[], $3::text[], $4::int[], $5::int[], $6::text[]) WITH ORDINALITY AS e(x, k, a, s, d, n)
		ORDER BY e.n`,
		tenant, ids, kinds, attempts, statuses, details)
	if err != nil {
		return fmt.Errorf("recording %s event: %w", evs[0].kind, err)
	}
	return nil
}

// inTenant runs fn in a transaction under the tenant's row-level security
// context, after checking that the tenant id is a UUID: a malformed id
// would otherwise surface as a confusing cast error from the policy.
func (b *Bridge) inTenant(ctx context.Context, tenant string, fn func(pgx.Tx) error) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	return database.InTenant(ctx, b.pool, tenant, fn)
}

func checkTenant(tenant string) error {
	if _, err := uuid.Parse(tenant); err != nil {
		return fmt.Errorf("tenant id %q is not a UUID: %w", tenant, ErrNotFound)
	}
	return nil
}

// exchangeColumns selects an Exchange for pgx.RowToStructByName.
const exchangeColumns = `id, direction, route, method, path, request_id, service_role, service_id,
	coalesce(facility_id::text, '') AS facility_id, correlation_id, coalesce(related_id, 0) AS related_id,
	state, coalesce(ack_status, 0) AS ack_status, attempts, max_attempts,
	coalesce(last_status, 0) AS last_status, last_error, last_error_code,
	created_at, updated_at, body_purged_at`

func getExchange(ctx context.Context, tx pgx.Tx, id int64, lock bool) (*Exchange, error) {
	q := "SELECT " + exchangeColumns + " FROM bridge_exchanges WHERE id = $1"
	if lock {
		q += " FOR UPDATE"
	}
	rows, err := tx.Query(ctx, q, id)
	if err != nil {
		return nil, fmt.Errorf("reading exchange %d: %w", id, err)
	}
	x, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Exchange])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("exchange %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading exchange %d: %w", id, err)
	}
	return x, nil
}

// exchangeBody returns the stored body, nil once purged.
func exchangeBody(ctx context.Context, tx pgx.Tx, id int64) ([]byte, error) {
	var body []byte
	if err := tx.QueryRow(ctx, "SELECT body FROM bridge_exchanges WHERE id = $1", id).Scan(&body); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("exchange %d: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("reading body of exchange %d: %w", id, err)
	}
	return body, nil
}

// setState moves an exchange to state and records the outcome of its last
// attempt.
func setState(ctx context.Context, tx pgx.Tx, id int64, state State, lastStatus int, lastErr, lastCode string) error {
	_, err := tx.Exec(ctx, `
		UPDATE bridge_exchanges
		SET state = $2, last_status = NULLIF($3, 0), last_error = $4, last_error_code = $5, updated_at = now()
		WHERE id = $1`, id, state, lastStatus, lastErr, lastCode)
	if err != nil {
		return fmt.Errorf("updating exchange %d to %s: %w", id, state, err)
	}
	return nil
}

// retentionDeadline is when a body stored now must be dropped.
func (b *Bridge) retentionDeadline() time.Time {
	return time.Now().Add(b.cfg.Retention)
}
