package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/jobs"
)

// sending is what one attempt of an outbound call needs.
type sending struct {
	skip          bool
	method, path  string
	requestID     string
	role, service string
	linkTokenName string
	body          []byte
	attempt       int
	sends         int // sends of requestID, this one included
	related       int64
}

// deliver makes one attempt of an outbound call. See the package
// documentation for the retry, dead-letter and duplicate rules.
func (b *Bridge) deliver(ctx context.Context, job *river.Job[OutboundArgs]) error {
	s, err := b.claimSend(ctx, job)
	if err != nil || s.skip {
		return err
	}
	req := abdm.Request{Method: s.method, Path: s.path, Tenant: job.Args.Tenant, RequestID: s.requestID}
	if s.body != nil {
		req.Body = json.RawMessage(s.body)
	}
	switch abdm.Role(s.role) {
	case abdm.RoleHIP:
		req.HIPID = s.service
	case abdm.RoleHIU:
		req.HIUID = s.service
	}
	var (
		resp    *abdm.Response
		callErr error
	)
	if s.linkTokenName != "" {
		req.LinkToken, callErr = b.cfg.LinkTokens.LinkToken(ctx, job.Args.Tenant, s.linkTokenName)
		if callErr != nil {
			callErr = fmt.Errorf("looking up link token %q: %w", s.linkTokenName, callErr)
		}
	}
	if callErr == nil {
		resp, callErr = b.gw.Do(ctx, req)
	}
	// A stop of the process cancels ctx; an attempt cut short by it says
	// nothing about the gateway, and River does not count it either.
	interrupted := errors.Is(ctx.Err(), context.Canceled) && errors.Is(callErr, context.Canceled)
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	return b.settleSend(bctx, job, s, resp, callErr, interrupted)
}

// claimSend reads the call under lock and counts the send before it goes
// on the wire, so that a crash during the call still leaves the send
// counted and a later duplicate answer is understood.
func (b *Bridge) claimSend(ctx context.Context, job *river.Job[OutboundArgs]) (sending, error) {
	var s sending
	err := b.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		s = sending{}
		var (
			state  State
			purged bool
		)
		err := tx.QueryRow(ctx, `
			SELECT state, method, path, request_id, service_role, service_id, link_token_name,
			       body, body_purged_at IS NOT NULL, coalesce(related_id, 0)
			FROM bridge_exchanges WHERE id = $1 AND direction = 'outbound' FOR UPDATE`, job.Args.Exchange,
		).Scan(&state, &s.method, &s.path, &s.requestID, &s.role, &s.service, &s.linkTokenName,
			&s.body, &purged, &s.related)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			s.skip = true
			return nil
		case err != nil:
			return fmt.Errorf("reading call %d: %w", job.Args.Exchange, err)
		case state != StateQueued:
			s.skip = true // settled by an earlier run whose completion was lost
			return nil
		case purged:
			s.skip = true
			if err := setState(ctx, tx, job.Args.Exchange, StateDeadLettered, 0, "body purged before it was sent", ""); err != nil {
				return err
			}
			return addEvents(ctx, tx, job.Args.Tenant, event{exchange: job.Args.Exchange, kind: EventDeadLettered,
				detail: "the body was purged before the call could be sent"})
		}
		return tx.QueryRow(ctx, `
			UPDATE bridge_exchanges SET attempts = attempts + 1, request_sends = request_sends + 1, updated_at = now()
			WHERE id = $1 RETURNING attempts, request_sends`, job.Args.Exchange).Scan(&s.attempt, &s.sends)
	})
	if err != nil {
		return s, fmt.Errorf("claiming call %d: %w", job.Args.Exchange, err)
	}
	return s, nil
}

// settleSend records the attempt's outcome and decides the job's: complete,
// retry or give up.
func (b *Bridge) settleSend(ctx context.Context, job *river.Job[OutboundArgs], s sending, resp *abdm.Response, callErr error, interrupted bool) error {
	status, code := 0, ""
	if resp != nil {
		status = resp.StatusCode
	}
	var ae *abdm.Error
	if errors.As(callErr, &ae) {
		status, code = ae.HTTPStatus, ae.Code
	}
	switch {
	case callErr == nil:
		return b.delivered(ctx, job, s, status, fmt.Sprintf("HTTP %d", status))
	case errors.Is(callErr, abdm.ErrDuplicate) && s.sends > 1:
		return b.delivered(ctx, job, s, status,
			fmt.Sprintf("the gateway answered duplicate request (%s): an earlier send of this REQUEST-ID got through", code))
	}

	permanent := isPermanent(callErr) && !interrupted
	final := permanent || (job.Attempt >= job.MaxAttempts && !interrupted)
	err := b.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		state, detail := StateQueued, callErr.Error()+"; will retry"
		switch {
		case interrupted:
			detail = "interrupted: Sangam was stopping; will retry"
		case final:
			state, detail = StateDeadLettered, callErr.Error()
		}
		if err := setState(ctx, tx, job.Args.Exchange, state, status, callErr.Error(), code); err != nil {
			return err
		}
		evs := []event{{exchange: job.Args.Exchange, kind: EventAttempt, attempt: s.attempt, status: status, detail: detail}}
		if final {
			why := fmt.Sprintf("no attempts left after %d", job.Attempt)
			if permanent {
				why = "not retryable: " + deadLetterReason(callErr)
			}
			evs = append(evs, event{exchange: job.Args.Exchange, kind: EventDeadLettered, attempt: s.attempt, status: status, detail: why})
		}
		return addEvents(ctx, tx, job.Args.Tenant, evs...)
	})
	if err != nil {
		return errors.Join(callErr, fmt.Errorf("recording attempt of call %d: %w", job.Args.Exchange, err))
	}
	if permanent {
		return river.JobCancel(callErr)
	}
	return callErr
}

func deadLetterReason(err error) string {
	var ae *abdm.Error
	switch {
	case errors.Is(err, ErrNoCredentials):
		return "the tenant has no ABDM credentials; store them with `sangam onboard`, then replay"
	case errors.As(err, &ae):
		return "the gateway refused the call; " + ae.Explanation
	}
	return err.Error()
}

// delivered marks the call delivered and, when it answered a callback,
// marks that callback replied; the job completes in the same transaction.
func (b *Bridge) delivered(ctx context.Context, job *river.Job[OutboundArgs], s sending, status int, detail string) error {
	tenant := job.Args.Tenant
	err := b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		if err := setState(ctx, tx, job.Args.Exchange, StateDelivered, status, "", ""); err != nil {
			return err
		}
		evs := []event{
			{exchange: job.Args.Exchange, kind: EventAttempt, attempt: s.attempt, status: status, detail: detail},
			{exchange: job.Args.Exchange, kind: EventDelivered, status: status},
		}
		if s.related != 0 {
			// Only a processed callback moves on to replied; the event is
			// recorded whatever its state, so the timeline is complete.
			_, err := tx.Exec(ctx, `
				UPDATE bridge_exchanges SET state = 'replied', updated_at = now()
				WHERE id = $1 AND direction = 'inbound' AND state = 'processed'`, s.related)
			if err != nil {
				return fmt.Errorf("marking callback %d replied: %w", s.related, err)
			}
			evs = append(evs, event{exchange: s.related, kind: EventReplied, status: status,
				detail: fmt.Sprintf("answered by exchange %d (%s)", job.Args.Exchange, job.Args.Route)})
		}
		if err := addEvents(ctx, tx, tenant, evs...); err != nil {
			return err
		}
		return jobs.CompleteTx(ctx, tx, job)
	})
	if err != nil {
		return fmt.Errorf("recording delivery of call %d: %w", job.Args.Exchange, err)
	}
	return nil
}
