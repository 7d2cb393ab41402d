package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/jobs"
)

// Callback is a stored callback handed to its processor.
type Callback struct {
	Tenant     string // tenant id
	ExchangeID int64
	// Route is the callback route name, e.g. "hip.discover".
	Route string
	// RequestID is the gateway's REQUEST-ID: an on-* answer echoes it as
	// response.requestId and passes it as OutboundCall.RespondsTo.
	RequestID string
	// ServiceRole and ServiceID are the addressing header (X-HIP-ID or
	// X-HIU-ID), FacilityID the facility it names.
	ServiceRole string
	ServiceID   string
	FacilityID  string
	// CorrelationID is the body's response.requestId; RelatedID is the
	// exchange of our call it answers (Sent.ExchangeID), 0 when unknown.
	CorrelationID string
	RelatedID     int64
	// Body is the raw JSON as received. It may hold patient data.
	Body       json.RawMessage
	ReceivedAt time.Time
	// Attempt counts processing runs of this callback, from 1.
	Attempt int
}

// Decode unmarshals the body into v, e.g. the route's abdm message type.
func (c *Callback) Decode(v any) error {
	if err := json.Unmarshal(c.Body, v); err != nil {
		return fmt.Errorf("decoding %s callback: %w", c.Route, err)
	}
	return nil
}

// ProcessFunc processes one callback inside tx, a transaction under the
// callback's tenant that also marks the callback processed and completes
// its job: everything fn writes (including replies queued with Send on tx)
// commits together with that, or not at all.
//
// Returning an error rolls tx back and retries later with backoff, up to
// Config.ProcessMaxAttempts; wrap it with river.JobCancel to give up at
// once. Either way the timeline shows the error text, so it must not
// contain patient data.
type ProcessFunc func(ctx context.Context, tx pgx.Tx, cb *Callback) error

// errProcessor marks an error returned (or a panic raised) by a processor,
// as opposed to one of the bridge's own bookkeeping.
type errProcessor struct{ err error }

func (e *errProcessor) Error() string { return e.err.Error() }
func (e *errProcessor) Unwrap() error { return e.err }

// process runs a callback's processor. See ProcessFunc.
func (b *Bridge) process(ctx context.Context, job *river.Job[InboundArgs]) error {
	a := job.Args
	err := b.inTenant(ctx, a.Tenant, func(tx pgx.Tx) error {
		x, body, err := lockInbound(ctx, tx, a.Exchange)
		if errors.Is(err, ErrNotFound) {
			return jobs.CompleteTx(ctx, tx, job)
		}
		if err != nil {
			return err
		}
		if x.State != StateAcknowledged {
			// Already settled by an earlier run of this job whose completion
			// was lost; doing it again would process twice.
			return jobs.CompleteTx(ctx, tx, job)
		}
		attempt := x.Attempts + 1
		fn := b.processor(x.Route)
		if fn == nil {
			return settleInbound(ctx, tx, job, x, attempt, StateUnhandled, event{kind: EventUnhandled,
				detail: fmt.Sprintf("no processor is registered for %s; replay it once one is", x.Route)})
		}
		if x.BodyPurgedAt != nil {
			return settleInbound(ctx, tx, job, x, attempt, StateFailed, event{kind: EventFailed,
				detail: "the body was purged before it could be processed"})
		}
		cb := &Callback{
			Tenant: a.Tenant, ExchangeID: x.ID, Route: x.Route, RequestID: x.RequestID,
			ServiceRole: x.ServiceRole, ServiceID: x.ServiceID, FacilityID: x.FacilityID,
			CorrelationID: x.CorrelationID, RelatedID: x.RelatedID,
			Body: body, ReceivedAt: x.CreatedAt, Attempt: attempt,
		}
		if err := runProcessor(ctx, fn, tx, cb); err != nil {
			return &errProcessor{err}
		}
		return settleInbound(ctx, tx, job, x, attempt, StateProcessed, event{kind: EventProcessed})
	})
	var perr *errProcessor
	if errors.As(err, &perr) {
		interrupted := errors.Is(ctx.Err(), context.Canceled) && errors.Is(perr.err, context.Canceled)
		bctx, cancel := bookkeeping(ctx)
		defer cancel()
		if rerr := b.processFailed(bctx, job, perr.err, interrupted); rerr != nil {
			return errors.Join(err, rerr)
		}
		return perr.err
	}
	return err
}

// runProcessor turns a processor's panic into an error, so the timeline
// records it like any other failure.
func runProcessor(ctx context.Context, fn ProcessFunc, tx pgx.Tx, cb *Callback) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("processor panicked: %v", r)
		}
	}()
	return fn(ctx, tx, cb)
}

// lockInbound reads a callback with its body and locks it for this run.
func lockInbound(ctx context.Context, tx pgx.Tx, id int64) (*Exchange, []byte, error) {
	rows, err := tx.Query(ctx, "SELECT "+exchangeColumns+`, body
		FROM bridge_exchanges WHERE id = $1 AND direction = 'inbound' FOR UPDATE`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("reading callback %d: %w", id, err)
	}
	x, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[struct {
		Exchange
		Body []byte `db:"body"`
	}])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("callback %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading callback %d: %w", id, err)
	}
	return &x.Exchange, x.Body, nil
}

// settleInbound records the outcome of a processing run and completes the
// job in the same transaction.
func settleInbound(ctx context.Context, tx pgx.Tx, job *river.Job[InboundArgs], x *Exchange, attempt int, state State, ev event) error {
	_, err := tx.Exec(ctx, `
		WITH u AS (
			UPDATE bridge_exchanges SET state = $2, attempts = $3, updated_at = now() WHERE id = $1 RETURNING id
		)
		INSERT INTO bridge_events (tenant_id, exchange_id, kind, attempt, detail)
		SELECT app_tenant_id(), id, $4, $3, $5 FROM u`,
		x.ID, state, attempt, ev.kind, ev.detail)
	if err != nil {
		return fmt.Errorf("updating callback %d: %w", x.ID, err)
	}
	return jobs.CompleteTx(ctx, tx, job)
}

// processFailed records a failed processing run; after the last attempt,
// or when the processor gave up with river.JobCancel, the callback is
// failed for good (until replayed).
//
// A run interrupted by the process stopping is never final: it says nothing
// about the callback.
func (b *Bridge) processFailed(ctx context.Context, job *river.Job[InboundArgs], procErr error, interrupted bool) error {
	var cancel *river.JobCancelError
	final := !interrupted && (job.Attempt >= job.MaxAttempts || errors.As(procErr, &cancel))
	return b.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		state, kind := StateAcknowledged, EventProcessFailed
		if final {
			state, kind = StateFailed, EventFailed
		}
		var attempt int
		err := tx.QueryRow(ctx, `
			UPDATE bridge_exchanges
			SET state = $2, attempts = attempts + 1, last_error = $3, updated_at = now()
			WHERE id = $1 AND state = 'acknowledged'
			RETURNING attempts`, job.Args.Exchange, state, procErr.Error()).Scan(&attempt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("recording processing failure of callback %d: %w", job.Args.Exchange, err)
		}
		detail := procErr.Error()
		if !final {
			detail += "; will retry"
		}
		return addEvents(ctx, tx, job.Args.Tenant, event{exchange: job.Args.Exchange, kind: kind, attempt: attempt, detail: detail})
	})
}
