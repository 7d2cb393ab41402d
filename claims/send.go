package claims

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims/hcx"
)

// Request is a request of a case to send to the payer through NHCX.
type Request struct {
	CaseID string
	// Path is the request path: hcx.PathCoverageEligibilityCheck,
	// hcx.PathPreauthSubmit, hcx.PathClaimSubmit, hcx.PathStatus, ...
	Path string
	// Payload is the FHIR bundle as JSON. claims does not look inside what
	// it sends.
	Payload []byte
	// CorrelationID starts a new request/response cycle when empty. A
	// status request (/v1/status) carries the correlation id of the cycle
	// it asks about.
	CorrelationID string
	// WorkflowID overrides the case's for this message (PMJAY codes change
	// per message).
	WorkflowID string
	// MaxAttempts overrides Config.SendMaxAttempts when positive.
	MaxAttempts int
}

// Send stores a request in the ledger and queues its job; the job sends
// it. See SendTx.
func (s *Service) Send(ctx context.Context, tenant string, out Request) (Message, error) {
	var m Message
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		m, err = s.SendTx(ctx, tx, tenant, out)
		return err
	})
	return m, err
}

// SendTx stores a request in the ledger and queues the job that sends it,
// both in tx, which must run under tenant (database.InTenant): nothing is
// sent unless tx commits. The case moves to StatusSending.
func (s *Service) SendTx(ctx context.Context, tx pgx.Tx, tenant string, out Request) (Message, error) {
	route, err := hcx.RouteOf(out.Path)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if route.Kind != hcx.KindRequest {
		return Message{}, fmt.Errorf("%w: %s answers a payer's request; use Reply", ErrInvalid, out.Path)
	}
	payload, err := checkPayload(out.Payload)
	if err != nil {
		return Message{}, err
	}
	c, err := getCase(ctx, tx, out.CaseID, true)
	if err != nil {
		return Message{}, err
	}
	correlation := out.CorrelationID
	if correlation == "" {
		correlation = uuid.NewString()
	}
	workflow := out.WorkflowID
	if workflow == "" {
		workflow = c.WorkflowID
	}
	maxAttempts := s.sendAttempts(out.MaxAttempts)
	h := hcx.Headers{SenderCode: c.ParticipantCode, RecipientCode: c.PayerCode, CorrelationID: correlation,
		RequestID: uuid.NewString(), WorkflowID: workflow, BenABHAID: c.BenABHAID, Status: hcx.StatusRequestInitiated}
	id, err := insertOutbound(ctx, tx, outboundRow{tenant: tenant, caseID: c.ID, path: out.Path, headers: h,
		payload: payload, maxAttempts: maxAttempts})
	if err != nil {
		return Message{}, err
	}
	if stage := stageOf(out.Path); stage != StageNone {
		_, err = tx.Exec(ctx, `UPDATE claims_cases SET status = 'sending', stage = $2, error_code = '', error_message = '',
			status_message = $3, updated_at = now() WHERE id = $1::uuid`, c.ID, string(stage), id)
	} else {
		_, err = tx.Exec(ctx, `UPDATE claims_cases SET updated_at = now() WHERE id = $1::uuid`, c.ID)
	}
	if err != nil {
		return Message{}, fmt.Errorf("updating case %s: %w", c.ID, err)
	}
	if err := s.enqueueSend(ctx, tx, tenant, id, maxAttempts, jobTag(out.Path)); err != nil {
		return Message{}, err
	}
	return getMessage(ctx, tx, id, false)
}

// ReplyOptions adjust a reply's headers.
type ReplyOptions struct {
	// WorkflowID overrides the x-hcx-workflow_id of the reply: PM-JAY
	// wants the provider's code of the answer (reference §11: 19 or 151
	// for a query's answer, 17 for a payment acknowledgement). Empty
	// repeats the request's workflow id, or the case's when the request
	// had none.
	WorkflowID string
}

// Reply answers a payer's request we received (a communication request
// or a payment notice) with payload, e.g. the documents asked for or the
// payment acknowledgement: it goes to the matching on_request path with
// the request's correlation id. The request is marked replied once the
// switch accepts the answer. See ReplyWith.
func (s *Service) Reply(ctx context.Context, tenant string, inboundID int64, payload []byte) (Message, error) {
	return s.ReplyWith(ctx, tenant, inboundID, payload, ReplyOptions{})
}

// ReplyWith is Reply with options.
func (s *Service) ReplyWith(ctx context.Context, tenant string, inboundID int64, payload []byte, opts ReplyOptions) (Message, error) {
	payload, err := checkPayload(payload)
	if err != nil {
		return Message{}, err
	}
	var m Message
	err = s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		in, err := getMessage(ctx, tx, inboundID, true)
		if err != nil {
			return err
		}
		route, rerr := hcx.RouteOf(in.Path)
		if in.Direction != Inbound || rerr != nil || route.Kind != hcx.KindRequest {
			return fmt.Errorf("%w: message %d is not a request from a payer", ErrInvalid, inboundID)
		}
		switch in.State {
		case StateRefused:
			return fmt.Errorf("%w: message %d was refused", ErrInvalid, inboundID)
		}
		replyPath := strings.TrimSuffix(in.Path, in.Action) + "on_" + in.Action
		if _, err := hcx.RouteOf(replyPath); err != nil {
			return fmt.Errorf("%w: %s has no answer path", ErrInvalid, in.Path)
		}
		h := hcx.Headers{SenderCode: in.RecipientCode, RecipientCode: in.SenderCode, CorrelationID: in.CorrelationID,
			RequestID: in.RequestID, WorkflowID: cmp.Or(strings.TrimSpace(opts.WorkflowID), in.WorkflowID),
			Status: hcx.StatusResponseComplete}
		if h.RequestID == "" {
			h.RequestID = uuid.NewString()
		}
		if h.WorkflowID == "" && in.CaseID != "" {
			c, err := getCase(ctx, tx, in.CaseID, false)
			if err != nil {
				return err
			}
			h.WorkflowID = c.WorkflowID
		}
		maxAttempts := s.sendAttempts(0)
		id, err := insertOutbound(ctx, tx, outboundRow{tenant: tenant, caseID: in.CaseID, path: replyPath, headers: h,
			payload: payload, maxAttempts: maxAttempts, respondsTo: in.ID})
		if err != nil {
			return err
		}
		if err := s.enqueueSend(ctx, tx, tenant, id, maxAttempts, jobTag(replyPath)); err != nil {
			return err
		}
		m, err = getMessage(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("replying to message %d: %w", inboundID, err)
	}
	return m, nil
}

// Replay sends an outbound message again: a new ledger row with the same
// path, payload, correlation id and request id, replay_of the original,
// and a fresh api_call_id when it goes out. Use it after a dead letter,
// or when the payer never answered or could not read the message.
func (s *Service) Replay(ctx context.Context, tenant string, id int64) (Message, error) {
	var m Message
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		orig, err := getMessage(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if orig.Direction != Outbound || orig.State == StateQueued {
			return fmt.Errorf("%w (%s %s)", ErrNotReplayable, orig.Direction, orig.State)
		}
		var h hcx.Headers
		if err := json.Unmarshal(orig.Headers, &h); err != nil {
			return fmt.Errorf("reading headers of message %d: %w", id, err)
		}
		var payload []byte
		if err := tx.QueryRow(ctx, "SELECT payload FROM claims_messages WHERE id = $1", id).Scan(&payload); err != nil {
			return fmt.Errorf("reading payload of message %d: %w", id, err)
		}
		if payload == nil {
			return fmt.Errorf("%w: its payload is no longer kept", ErrNotReplayable)
		}
		// The call-specific headers are set again when it is sent.
		h.APICallID, h.Timestamp = "", ""
		maxAttempts := s.sendAttempts(0)
		newID, err := insertOutbound(ctx, tx, outboundRow{tenant: tenant, caseID: orig.CaseID, path: orig.Path, headers: h,
			payload: payload, maxAttempts: maxAttempts, respondsTo: orig.RespondsTo, replayOf: orig.ID})
		if err != nil {
			return err
		}
		if orig.CaseID != "" && !strings.Contains(orig.Action, "on_") {
			if _, err := tx.Exec(ctx, `UPDATE claims_cases SET status = 'sending', error_code = '', error_message = '',
				status_message = $2, updated_at = now() WHERE id = $1::uuid`, orig.CaseID, newID); err != nil {
				return fmt.Errorf("updating case %s: %w", orig.CaseID, err)
			}
		}
		if err := s.enqueueSend(ctx, tx, tenant, newID, maxAttempts, jobTag(orig.Path)); err != nil {
			return err
		}
		m, err = getMessage(ctx, tx, newID, false)
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("replaying message %d: %w", id, err)
	}
	return m, nil
}

func (s *Service) sendAttempts(override int) int {
	if override > 0 {
		return override
	}
	return s.cfg.SendMaxAttempts
}

// checkPayload refuses what can never be a FHIR resource in JSON; the
// rest is the caller's business.
func checkPayload(p []byte) ([]byte, error) {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return nil, fmt.Errorf("%w: the payload must be a JSON object (a FHIR bundle)", ErrInvalid)
	}
	return p, nil
}

// stageOf is the case stage a request path belongs to.
func stageOf(path string) Stage {
	switch path {
	case hcx.PathCoverageEligibilityCheck, hcx.PathCoverageEligibilityOnCheck:
		return StageCoverageEligibility
	case hcx.PathPreauthSubmit, hcx.PathPreauthOnSubmit:
		return StagePreauth
	case hcx.PathPredeterminationSubmit, hcx.PathPredeterminationOnSubmit:
		return StagePredetermination
	case hcx.PathClaimSubmit, hcx.PathClaimOnSubmit:
		return StageClaim
	case hcx.PathPaymentNoticeRequest:
		return StagePayment
	}
	return StageNone
}

type outboundRow struct {
	tenant      string
	caseID      string
	path        string
	headers     hcx.Headers
	payload     []byte
	maxAttempts int
	respondsTo  int64
	replayOf    int64
}

func insertOutbound(ctx context.Context, tx pgx.Tx, r outboundRow) (int64, error) {
	entity, action := splitPath(r.path)
	headers, err := json.Marshal(r.headers)
	if err != nil {
		return 0, fmt.Errorf("encoding headers: %w", err)
	}
	sum := sha256.Sum256(r.payload)
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO claims_messages (tenant_id, case_id, direction, path, entity, action, sender_code, recipient_code,
			correlation_id, request_id, workflow_id, protocol_status, state, headers, payload, payload_sha256,
			max_attempts, responds_to, replay_of)
		VALUES ($1, nullif($2, '')::uuid, 'outbound', $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $13, $14,
			$15, nullif($16, 0), nullif($17, 0))
		RETURNING id`,
		r.tenant, r.caseID, r.path, entity, action, r.headers.SenderCode, r.headers.RecipientCode,
		r.headers.CorrelationID, r.headers.RequestID, r.headers.WorkflowID, string(r.headers.Status), headers,
		r.payload, sum[:], r.maxAttempts, r.respondsTo, r.replayOf,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storing %s message: %w", r.path, err)
	}
	return id, nil
}
