package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Exchange is one callback or gateway call as the ops console lists it.
// It never carries the body; ExchangeDetail does.
type Exchange struct {
	ID        int64     `db:"id"`
	Direction Direction `db:"direction"`
	// Route is the callback route name (e.g. "hip.discover") or the gateway
	// route name (e.g. "on_discover"), Path the path itself.
	Route  string `db:"route"`
	Method string `db:"method"`
	Path   string `db:"path"`
	// RequestID is the REQUEST-ID header: the gateway's for a callback,
	// ours for a call.
	RequestID string `db:"request_id"`
	// ServiceRole ("HIP" or "HIU") and ServiceID are the addressing header:
	// X-HIP-ID / X-HIU-ID.
	ServiceRole string `db:"service_role"`
	ServiceID   string `db:"service_id"`
	// FacilityID is the facility the service id belongs to ("" if none).
	FacilityID string `db:"facility_id"`
	// CorrelationID is response.requestId of a callback (the call it
	// answers) or the inbound REQUEST-ID an on-* call answers.
	CorrelationID string `db:"correlation_id"`
	// RelatedID is the exchange CorrelationID names, 0 when unknown.
	RelatedID int64 `db:"related_id"`
	State     State `db:"state"`
	// AckStatus is the HTTP status a callback was acknowledged with.
	AckStatus int `db:"ack_status"`
	// Attempts counts sends (outbound) or processing runs (inbound).
	Attempts    int `db:"attempts"`
	MaxAttempts int `db:"max_attempts"`
	// LastStatus, LastError and LastErrorCode describe the last failure.
	LastStatus    int        `db:"last_status"`
	LastError     string     `db:"last_error"`
	LastErrorCode string     `db:"last_error_code"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	BodyPurgedAt  *time.Time `db:"body_purged_at"`
}

// IsReplayable reports whether Replay accepts the exchange.
func (x *Exchange) IsReplayable() bool {
	switch {
	case x.BodyPurgedAt != nil:
		return false
	case x.Direction == Outbound:
		return x.State == StateDeadLettered
	default:
		return x.State == StateFailed || x.State == StateUnhandled
	}
}

// Event is one entry of an exchange's timeline.
type Event struct {
	ID         int64     `db:"id"`
	At         time.Time `db:"occurred_at"`
	Kind       string    `db:"kind"`
	Attempt    int       `db:"attempt"`
	HTTPStatus int       `db:"http_status"`
	Detail     string    `db:"detail"`
}

// ExchangeDetail is one exchange with its body, timeline and the exchanges
// correlated with it.
type ExchangeDetail struct {
	Exchange
	// Body is the raw JSON, nil once purged or for refused callbacks. It may
	// hold patient data: show it only to operators, never log it.
	Body   []byte
	Events []Event
	// Related are the exchanges linked to this one either way: the call a
	// callback answers, the callbacks answering a call, the on-* reply to a
	// gateway event.
	Related []Exchange
}

// Filter narrows Timeline. Zero fields do not filter.
type Filter struct {
	Direction Direction
	State     State
	Route     string
	// RequestID matches the REQUEST-ID or the correlation id.
	RequestID string
	// FacilityID limits to one facility's exchanges.
	FacilityID string
	Since      time.Time
	Until      time.Time
	// BeforeID pages backwards: only exchanges with a smaller id.
	BeforeID int64
	// Limit defaults to 50 and is capped at 500.
	Limit int
}

// Timeline lists the tenant's exchanges, newest first.
func (b *Bridge) Timeline(ctx context.Context, tenant string, f Filter) ([]Exchange, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Direction != "" {
		add("direction = ?", string(f.Direction))
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.Route != "" {
		add("route = ?", f.Route)
	}
	if f.RequestID != "" {
		add("(request_id = ? OR correlation_id = ?)", f.RequestID)
	}
	if f.FacilityID != "" {
		add("facility_id::text = ?", f.FacilityID)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		add("created_at < ?", f.Until)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	q := "SELECT " + exchangeColumns + " FROM bridge_exchanges"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)

	var out []Exchange
	err := b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByName[Exchange])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing bridge exchanges: %w", err)
	}
	return out, nil
}

// Exchange returns one exchange of the tenant with its body, timeline and
// related exchanges, or an error matching ErrNotFound.
func (b *Bridge) Exchange(ctx context.Context, tenant string, id int64) (*ExchangeDetail, error) {
	var d ExchangeDetail
	err := b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		x, err := getExchange(ctx, tx, id, false)
		if err != nil {
			return err
		}
		d.Exchange = *x
		if d.Body, err = exchangeBody(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT id, occurred_at, kind, coalesce(attempt, 0) AS attempt,
			       coalesce(http_status, 0) AS http_status, detail
			FROM bridge_events WHERE exchange_id = $1 ORDER BY id`, id)
		if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		if d.Events, err = pgx.CollectRows(rows, pgx.RowToStructByName[Event]); err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		rows, err = tx.Query(ctx, "SELECT "+exchangeColumns+`
			FROM bridge_exchanges WHERE related_id = $1 OR id = $2 ORDER BY id`, id, x.RelatedID)
		if err != nil {
			return fmt.Errorf("reading related exchanges: %w", err)
		}
		d.Related, err = pgx.CollectRows(rows, pgx.RowToStructByName[Exchange])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading bridge exchange %d: %w", id, err)
	}
	return &d, nil
}
