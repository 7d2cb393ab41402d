package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/jobs"
)

// process reads a received message, finds its case and updates the case
// from what it says, then marks the message processed (or unmatched when
// no case fits) and completes the job, all in one transaction.
func (s *Service) process(ctx context.Context, job *river.Job[ProcessArgs]) error {
	err := s.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error { return s.processTx(ctx, tx, job) })
	if err != nil {
		interrupted := ctx.Err() != nil && errors.Is(err, context.Canceled)
		bctx, cancel := bookkeeping(ctx)
		defer cancel()
		if rerr := s.processFailed(bctx, job, err, interrupted); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	s.log.InfoContext(ctx, "nhcx delivery processed", "message", job.Args.Message)
	return nil
}

// processTx is process's transaction.
func (s *Service) processTx(ctx context.Context, tx pgx.Tx, job *river.Job[ProcessArgs]) error {
	var forget *forgetCert
	m, err := getMessage(ctx, tx, job.Args.Message, true)
	if errors.Is(err, ErrNotFound) {
		return jobs.CompleteTx(ctx, tx, job)
	}
	if err != nil {
		return err
	}
	if m.Direction != Inbound || m.State != StateReceived {
		// Settled by an earlier run whose completion was lost; doing it
		// again would apply the answer twice.
		return jobs.CompleteTx(ctx, tx, job)
	}
	var payload []byte
	if err := tx.QueryRow(ctx, "SELECT payload FROM claims_messages WHERE id = $1", m.ID).Scan(&payload); err != nil {
		return fmt.Errorf("reading payload of message %d: %w", m.ID, err)
	}
	var h hcx.Headers
	if err := json.Unmarshal(m.Headers, &h); err != nil {
		return fmt.Errorf("reading headers of message %d: %w", m.ID, err)
	}
	protocolError := m.Path == hcx.PathError || m.HasPayload && !m.HasJWE
	c, respondsTo, why, err := matchCase(ctx, tx, m, payload, protocolError)
	if err != nil {
		return err
	}
	r := readMessage(m, h, payload, protocolError)
	state := StateProcessed
	if c == nil {
		state = StateUnmatched
		r.unread = why
	} else if err := applyReading(ctx, tx, c.ID, m.ID, r); err != nil {
		return err
	}
	if protocolError && respondsTo != 0 {
		// The request the report is about shows it too.
		if _, err := tx.Exec(ctx, `UPDATE claims_messages SET error_code = $2, error_message = $3, updated_at = now()
			WHERE id = $1`, respondsTo, r.errorCode, r.errorMessage); err != nil {
			return fmt.Errorf("recording error on message %d: %w", respondsTo, err)
		}
	}
	if protocolError {
		if forget, err = forgetFor(ctx, tx, m, c, r); err != nil {
			return err
		}
		if forget != nil {
			// Before the commit makes the error visible, so that a
			// replay prompted by it fetches the certificate again.
			s.forgetCertificate(ctx, *forget)
		}
	}
	caseID := ""
	if c != nil {
		caseID = c.ID
	}
	errCode, errMsg := "", r.unread
	if protocolError {
		errCode, errMsg = r.errorCode, r.errorMessage
	}
	_, err = tx.Exec(ctx, `
		UPDATE claims_messages SET state = $2, outcome = $3, case_id = nullif($4, '')::uuid,
			responds_to = nullif($5, 0), error_code = $6, error_message = $7, attempts = attempts + 1,
			processed_at = now(), updated_at = now()
		WHERE id = $1`, m.ID, string(state), r.outcome, caseID, respondsTo, errCode, clip(errMsg, 1000))
	if err != nil {
		return fmt.Errorf("recording message %d processed: %w", m.ID, err)
	}
	return jobs.CompleteTx(ctx, tx, job)
}

// matchCase finds the case a received message belongs to: the case of
// our request with the same correlation id (an answer, or a report about
// it); else, for a request the payer started (a query, a payment notice),
// the case with this payer and the same workflow id, or failing that, for
// a PM-JAY payer, its case for the claim number the request is about.
// PM-JAY payers send their own numeric codes as the workflow id and a new
// correlation id (reference §11), so for them only the claim number names
// the case. Other payers are sent the case's UUID as workflow id and
// repeat it; for them the claim number, which is easier to guess than
// the UUID, is not taken as the case's name (messages are not signed).
// Answers must come from the case's payer; anything else is left
// unmatched with the reason.
func matchCase(ctx context.Context, tx pgx.Tx, m Message, payload []byte, protocolError bool) (*Case, int64, string, error) {
	var respondsTo int64
	var caseID string
	if m.CorrelationID != "" {
		err := tx.QueryRow(ctx, `
			SELECT id, coalesce(case_id::text, '') FROM claims_messages
			WHERE direction = 'outbound' AND correlation_id = $1 AND action NOT LIKE 'on\_%'
			ORDER BY id LIMIT 1`, m.CorrelationID).Scan(&respondsTo, &caseID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, 0, "", fmt.Errorf("matching message %d to a request: %w", m.ID, err)
		}
	}
	if caseID == "" && m.WorkflowID != "" && !protocolError {
		rows, err := tx.Query(ctx, `SELECT id::text FROM claims_cases WHERE workflow_id = $1 AND payer_code = $2 LIMIT 2`,
			m.WorkflowID, m.SenderCode)
		if err != nil {
			return nil, 0, "", fmt.Errorf("matching message %d to a case: %w", m.ID, err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, 0, "", fmt.Errorf("matching message %d to a case: %w", m.ID, err)
		}
		if len(ids) == 1 {
			caseID = ids[0]
		}
	}
	if numbers := claimNumbersOf(m.Path, payload); caseID == "" && len(numbers) > 0 && !protocolError {
		// The claim number is the stay's reference (claimNumber), shared
		// by the stay's cases with different payers, hence the payer. A
		// stay with one payer has one open case at a time (openCase); a
		// paid one yields to it.
		err := tx.QueryRow(ctx, `
			SELECT c.id::text FROM claims_cases c
			JOIN claims_payers p ON p.tenant_id = c.tenant_id AND p.payer_code = c.payer_code
			WHERE c.payer_code = $1 AND p.scheme_kind = 'pmjay' AND c.encounter_ref = ANY($2)
			ORDER BY c.status = 'paid', c.updated_at DESC LIMIT 1`, m.SenderCode, numbers).Scan(&caseID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, 0, "", fmt.Errorf("matching message %d to a case by claim number: %w", m.ID, err)
		}
	}
	if caseID == "" {
		return nil, respondsTo, "no case has a request with this correlation id, or this payer and workflow id (or, for PM-JAY, claim number)", nil
	}
	c, err := getCase(ctx, tx, caseID, true)
	if err != nil {
		return nil, 0, "", err
	}
	if !protocolError && m.SenderCode != c.PayerCode {
		return nil, respondsTo, fmt.Sprintf("sent by %s, but the case's payer is %s", m.SenderCode, c.PayerCode), nil
	}
	return &c, respondsTo, "", nil
}

// claimNumbersOf reads the claim numbers a payer's request is about: the
// CommunicationRequest's basedOn and about, the PaymentNotice's request.
// Each is a Reference holding our Claim.identifier (system
// claimNumberSystem, or none: payers echo the value alone) or pointing
// to a Claim in the bundle that carries it.
func claimNumbersOf(path string, payload []byte) []string {
	var refs []fhirRef
	b := readBundle(payload)
	switch path {
	case hcx.PathCommunicationRequest:
		var cr struct {
			BasedOn []fhirRef `json:"basedOn"`
			About   []fhirRef `json:"about"`
		}
		if b.first("CommunicationRequest", &cr) {
			refs = append(cr.BasedOn, cr.About...)
		}
	case hcx.PathPaymentNoticeRequest:
		var pn struct {
			Request *fhirRef `json:"request"`
		}
		if b.first("PaymentNotice", &pn) && pn.Request != nil {
			refs = append(refs, *pn.Request)
		}
	default:
		return nil
	}
	var out []string
	add := func(id fhirIdentifier) {
		if v := strings.TrimSpace(id.Value); v != "" && (id.System == "" || id.System == claimNumberSystem) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, r := range refs {
		if r.Identifier != nil {
			add(*r.Identifier)
		}
		var claim struct {
			Identifier []fhirIdentifier `json:"identifier"`
		}
		if r.Reference != "" && b.resolve(r.Reference, "Claim", &claim) {
			for _, id := range claim.Identifier {
				add(id)
			}
		}
	}
	return out
}

// fhirRef and fhirIdentifier are FHIR's Reference and Identifier, as far
// as matching needs them.
type (
	fhirRef struct {
		Reference  string          `json:"reference"`
		Identifier *fhirIdentifier `json:"identifier"`
	}
	fhirIdentifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	}
)

// bundleEntries is a bundle's resources with the fullUrl and
// type/id each can be referred to by.
type bundleEntries []struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
}

func readBundle(payload []byte) bundleEntries {
	var b struct {
		Entry bundleEntries `json:"entry"`
	}
	_ = json.Unmarshal(payload, &b)
	return b.Entry
}

type entryHead struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
}

// first decodes the first resource of type typ into v.
func (b bundleEntries) first(typ string, v any) bool {
	for _, e := range b {
		var h entryHead
		if json.Unmarshal(e.Resource, &h) == nil && h.ResourceType == typ {
			return json.Unmarshal(e.Resource, v) == nil
		}
	}
	return false
}

// resolve decodes the resource of type typ that ref points to (by fullUrl,
// or "Type/id" with or without a base) into v.
func (b bundleEntries) resolve(ref, typ string, v any) bool {
	for _, e := range b {
		var h entryHead
		if json.Unmarshal(e.Resource, &h) != nil || h.ResourceType != typ {
			continue
		}
		local := typ + "/" + h.ID
		if (e.FullURL != "" && e.FullURL == ref) || (h.ID != "" && (ref == local || strings.HasSuffix(ref, "/"+local))) {
			return json.Unmarshal(e.Resource, v) == nil
		}
	}
	return false
}

// readMessage reads what a message says, by its path.
func readMessage(m Message, h hcx.Headers, payload []byte, protocolError bool) reading {
	if protocolError {
		r := reading{status: StatusFailed, outcome: "error", errorCode: "", errorMessage: "NHCX reported an error without details"}
		if d := h.ErrorDetails; d != nil {
			r.errorCode, r.errorMessage = d.Code, clip(d.Message, 500)
			if e := d.Err(); e.Explanation != "" {
				r.errorMessage += " — " + e.Explanation
			}
		}
		return r
	}
	switch m.Path {
	case hcx.PathCoverageEligibilityOnCheck:
		return readEligibility(payload)
	case hcx.PathPreauthOnSubmit, hcx.PathPredeterminationOnSubmit, hcx.PathClaimOnSubmit:
		return readClaimResponse(payload, stageOf(m.Path))
	case hcx.PathCommunicationRequest:
		return readCommunicationRequest(payload)
	case hcx.PathPaymentNoticeRequest:
		return readPaymentNotice(payload)
	}
	// on_status, search, task and insurance plan answers are kept in the
	// ledger for the pages that show them; they do not move the case.
	return reading{outcome: "recorded"}
}

// applyReading writes a reading of message msgID into its case. The
// status (with stage, note and error) is taken only from a message that
// arrived after the one that set the current status, so answers processed
// out of order (a payment notice before the claim's answer) end where
// their arrival order says; amounts and references are merged always. A
// business answer clears an earlier error; a protocol error sets one.
func applyReading(ctx context.Context, tx pgx.Tx, caseID string, msgID int64, r reading) error {
	_, err := tx.Exec(ctx, `
		UPDATE claims_cases SET
			status = CASE WHEN newer THEN $2 ELSE status END,
			stage = CASE WHEN newer AND $3 <> '' THEN $3 ELSE stage END,
			payer_note = CASE WHEN newer AND $11 <> '' THEN $11 ELSE payer_note END,
			error_code = CASE WHEN newer THEN $12 ELSE error_code END,
			error_message = CASE WHEN newer THEN $13 ELSE error_message END,
			status_message = CASE WHEN newer THEN $14 ELSE status_message END,
			currency = coalesce(nullif($4, ''), currency),
			requested_amount = coalesce($5::numeric, requested_amount),
			approved_amount = CASE WHEN $2 = 'rejected' AND newer THEN coalesce($6::numeric, 0)
			                       ELSE coalesce($6::numeric, approved_amount) END,
			paid_amount = coalesce($7::numeric, paid_amount),
			preauth_ref = coalesce(nullif($8, ''), preauth_ref),
			utr = coalesce(nullif($9, ''), utr),
			paid_on = coalesce(nullif($10, '')::date, paid_on),
			updated_at = now()
		FROM (SELECT $2 <> '' AND coalesce(status_message, 0) < $14 AS newer
		      FROM claims_cases WHERE id = $1::uuid) AS o
		WHERE id = $1::uuid`,
		caseID, string(r.status), string(r.stage), r.currency, amountText(r.requested), amountText(r.approved),
		amountText(r.paid), r.preauthRef, r.utr, r.paidOn, clip(r.note, 4000), r.errorCode, clip(r.errorMessage, 1000), msgID)
	if err != nil {
		return fmt.Errorf("updating case %s: %w", caseID, err)
	}
	return nil
}

// forgetCert names a payer certificate to drop from a participant's cache.
type forgetCert struct {
	participant Participant
	payer       string
	err         error
}

// forgetFor says which cached certificate a payer's PAYR-1001/1002 report
// makes stale: the payer's, in the cache of our participant that sent.
// Without a case, the headers say which side is ours: NHCX's /v1/error
// repeats our request's (we are the sender), a payer's report is
// addressed to us.
func forgetFor(ctx context.Context, tx pgx.Tx, m Message, c *Case, r reading) (*forgetCert, error) {
	e := (&hcx.Details{Code: r.errorCode, Message: r.errorMessage}).Err()
	if !errors.Is(e, hcx.ErrStaleCertificate) {
		return nil, nil
	}
	if c != nil {
		return &forgetCert{participant: Participant{Tenant: m.Tenant, Code: c.ParticipantCode}, payer: c.PayerCode, err: e}, nil
	}
	ours, payer := m.RecipientCode, m.SenderCode
	_, err := participantInTenant(ctx, tx, m.SenderCode)
	switch {
	case err == nil:
		ours, payer = m.SenderCode, m.RecipientCode
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	return &forgetCert{participant: Participant{Tenant: m.Tenant, Code: ours}, payer: payer, err: e}, nil
}

// forgetCertificate drops the payer's cached certificate so the next send
// fetches it again (reference §7).
func (s *Service) forgetCertificate(ctx context.Context, f forgetCert) {
	s.mu.Lock()
	p := s.parts[f.participant.Tenant+"/"+f.participant.Code]
	s.mu.Unlock()
	if p != nil && p.registry.ForgetOnError(f.payer, f.err) {
		s.log.InfoContext(ctx, "nhcx payer reported a stale certificate; it will be fetched again",
			"payer", f.payer, "participant", f.participant.Code)
	}
}

// processFailed records a failed processing run; after the last attempt
// the message is failed for good.
func (s *Service) processFailed(ctx context.Context, job *river.Job[ProcessArgs], procErr error, interrupted bool) error {
	final := !interrupted && job.Attempt >= job.MaxAttempts
	state := StateReceived
	if final {
		state = StateFailed
	}
	return s.inTenant(ctx, job.Args.Tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE claims_messages SET state = $2, attempts = attempts + 1, error_message = $3, updated_at = now()
			WHERE id = $1 AND state = 'received'`, job.Args.Message, string(state), clip(procErr.Error(), 1000))
		if err != nil {
			return fmt.Errorf("recording processing failure of message %d: %w", job.Args.Message, err)
		}
		return nil
	})
}
