package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/keys"
)

// sending is what one attempt of an outbound message needs.
type sending struct {
	skip     bool
	msg      Message
	headers  hcx.Headers
	payload  []byte
	facility string
	attempt  int
}

// deliver makes one attempt to send an outbound message. A switch that is
// unavailable (5xx, timeouts, connection failures, a payer it cannot
// reach) is retried with backoff up to the message's max attempts; what
// the switch or payer refuses, and setup problems (no private key, no
// payer certificate), dead-letter the message at once. A dead-lettered
// message is sent again only by Replay.
func (s *Service) deliver(ctx context.Context, job *river.Job[SendArgs]) error {
	sd, err := s.claimSend(ctx, job)
	if err != nil || sd.skip {
		return err
	}
	var sent *hcx.Sent
	p, callErr := s.participant(ctx, Participant{Tenant: job.Args.Tenant, Facility: sd.facility, Code: sd.msg.SenderCode})
	if callErr == nil {
		sent, callErr = p.client.Send(ctx, sd.msg.Path, sd.headers, sd.payload)
	}
	// A stop of the process cancels ctx; an attempt cut short by it says
	// nothing about the switch.
	interrupted := ctx.Err() != nil && errors.Is(callErr, context.Canceled)
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if callErr == nil {
		return s.sent(bctx, job, sd, sent)
	}
	return s.sendFailed(bctx, job, sd, callErr, interrupted)
}

// claimSend reads the message under lock and counts the attempt before it
// goes on the wire.
func (s *Service) claimSend(ctx context.Context, job *river.Job[SendArgs]) (sending, error) {
	var sd sending
	err := s.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		sd = sending{}
		m, err := getMessage(ctx, tx, job.Args.Message, true)
		if errors.Is(err, ErrNotFound) {
			sd.skip = true
			return nil
		}
		if err != nil {
			return err
		}
		if m.Direction != Outbound || m.State != StateQueued {
			sd.skip = true // settled by an earlier run whose completion was lost
			return nil
		}
		if err := json.Unmarshal(m.Headers, &sd.headers); err != nil {
			return fmt.Errorf("reading headers of message %d: %w", m.ID, err)
		}
		if err := tx.QueryRow(ctx, "SELECT payload FROM claims_messages WHERE id = $1", m.ID).Scan(&sd.payload); err != nil {
			return fmt.Errorf("reading payload of message %d: %w", m.ID, err)
		}
		p, err := participantInTenant(ctx, tx, m.SenderCode)
		if err != nil {
			return err
		}
		sd.facility = p.Facility
		err = tx.QueryRow(ctx, `UPDATE claims_messages SET attempts = attempts + 1, updated_at = now()
			WHERE id = $1 RETURNING attempts`, m.ID).Scan(&sd.attempt)
		if err != nil {
			return fmt.Errorf("counting attempt of message %d: %w", m.ID, err)
		}
		sd.msg = m
		return nil
	})
	if err != nil {
		return sd, fmt.Errorf("claiming message %d: %w", job.Args.Message, err)
	}
	return sd, nil
}

// sent records the switch's acknowledgement and completes the job in the
// same transaction.
func (s *Service) sent(ctx context.Context, job *river.Job[SendArgs], sd sending, sent *hcx.Sent) error {
	headers, err := json.Marshal(sent.Headers)
	if err != nil {
		return fmt.Errorf("encoding headers: %w", err)
	}
	ack, err := json.Marshal(sent.Ack)
	if err != nil {
		return fmt.Errorf("encoding acknowledgement: %w", err)
	}
	err = s.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE claims_messages SET state = 'sent', api_call_id = $2, headers = $3, ack = $4, http_status = $5,
				protocol_status = $6, error_code = '', error_message = '', sent_at = now(), updated_at = now()
			WHERE id = $1`,
			sd.msg.ID, sent.Headers.APICallID, headers, ack, sent.HTTPStatus, string(sent.Headers.Status))
		if err != nil {
			return fmt.Errorf("recording message %d sent: %w", sd.msg.ID, err)
		}
		if sd.msg.RespondsTo != 0 {
			// Our answer to a payer's request went out.
			if _, err := tx.Exec(ctx, `UPDATE claims_messages SET state = 'replied', updated_at = now()
				WHERE id = $1 AND direction = 'inbound' AND state IN ('processed', 'unmatched')`, sd.msg.RespondsTo); err != nil {
				return fmt.Errorf("marking message %d replied: %w", sd.msg.RespondsTo, err)
			}
		}
		if sd.msg.CaseID != "" {
			// Only a case still waiting for this send moves on: an answer
			// processed in the meantime must not be overwritten.
			next := StatusAwaitingResponse
			from := []string{string(StatusSending)}
			if sd.msg.Path == hcx.PathCommunicationOnRequest {
				from = append(from, string(StatusNeedsDocuments))
			}
			if sd.msg.Path != hcx.PathPaymentNoticeOnRequest {
				if _, err := tx.Exec(ctx, `UPDATE claims_cases SET status = $2, updated_at = now()
					WHERE id = $1::uuid AND status = ANY($3)`, sd.msg.CaseID, string(next), from); err != nil {
					return fmt.Errorf("updating case %s: %w", sd.msg.CaseID, err)
				}
			}
		}
		return jobs.CompleteTx(ctx, tx, job)
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "nhcx message sent", "message", sd.msg.ID, "path", sd.msg.Path,
		"api_call_id", sent.Headers.APICallID, "correlation_id", sent.Headers.CorrelationID, "attempt", sd.attempt)
	return nil
}

// sendFailed records a failed attempt; after the last one, or when the
// failure is not retryable, the message is dead-lettered and the case
// shows the error.
func (s *Service) sendFailed(ctx context.Context, job *river.Job[SendArgs], sd sending, callErr error, interrupted bool) error {
	permanent := isPermanent(callErr) && !interrupted
	final := permanent || (job.Attempt >= job.MaxAttempts && !interrupted)
	code, status, message := errorDetails(callErr)
	err := s.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		state := StateQueued
		if final {
			state = StateDeadLettered
		}
		if interrupted {
			message = "interrupted: Sangam was stopping; will retry"
		}
		_, err := tx.Exec(ctx, `
			UPDATE claims_messages SET state = $2, error_code = $3, error_message = $4,
				http_status = nullif($5, 0), updated_at = now()
			WHERE id = $1`, sd.msg.ID, string(state), code, message, status)
		if err != nil {
			return fmt.Errorf("recording attempt of message %d: %w", sd.msg.ID, err)
		}
		if final && sd.msg.CaseID != "" {
			// A failed answer to a payer's request leaves the case's status
			// alone; a failed request means the case is stuck.
			q := `UPDATE claims_cases SET status = 'failed', error_code = $2, error_message = $3, status_message = $4,
				updated_at = now() WHERE id = $1::uuid`
			if sd.msg.RespondsTo != 0 {
				q = `UPDATE claims_cases SET error_code = $2, error_message = $3, updated_at = now()
					WHERE id = $1::uuid AND $4::bigint IS NOT NULL`
			}
			if _, err := tx.Exec(ctx, q, sd.msg.CaseID, code, message, sd.msg.ID); err != nil {
				return fmt.Errorf("updating case %s: %w", sd.msg.CaseID, err)
			}
		}
		return nil
	})
	if err != nil {
		return errors.Join(callErr, err)
	}
	attrs := []any{"message", sd.msg.ID, "path", sd.msg.Path, "attempt", sd.attempt, "code", code, "http_status", status, "error", callErr}
	switch {
	case final:
		s.log.WarnContext(ctx, "nhcx message dead-lettered", attrs...)
	default:
		s.log.InfoContext(ctx, "nhcx message not sent; will retry", attrs...)
	}
	if permanent {
		return river.JobCancel(callErr)
	}
	return callErr
}

// isPermanent reports whether sending again unchanged cannot succeed
// until a person acts: the switch or payer refused the message, or our
// setup is incomplete. Unknown failures (token service down, database
// hiccups) are retried.
func isPermanent(err error) bool {
	if hcx.Retryable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var he *hcx.Error
	var hdr *hcx.HeaderError
	return errors.As(err, &he) || errors.As(err, &hdr) || errors.Is(err, keys.ErrNotFound) ||
		errors.Is(err, hcx.ErrNoCertificate) || errors.Is(err, hcx.ErrOwnCertificate) ||
		errors.Is(err, hcx.ErrCertificateExpired) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid)
}

// errorDetails gives the code, HTTP status and text to record for a
// failed attempt. The text of an *hcx.Error is the switch's own words,
// which never carry the payload (it is encrypted).
func errorDetails(err error) (code string, status int, message string) {
	var he *hcx.Error
	var hdr *hcx.HeaderError
	switch {
	case errors.As(err, &he):
		message = he.Error()
		if he.Explanation != "" {
			message += " — " + he.Explanation
		}
		return he.Code, he.HTTPStatus, clip(message, 1000)
	case errors.As(err, &hdr):
		return hdr.Code, 0, clip(hdr.Error(), 1000)
	case errors.Is(err, keys.ErrNotFound):
		return "", 0, "no NHCX private key is stored for this participant code: " + clip(err.Error(), 500)
	}
	return "", 0, clip(err.Error(), 1000)
}
