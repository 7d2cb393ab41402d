package claims

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CaseStatus is the latest business state of a case.
type CaseStatus string

// Case statuses. A case moves to StatusSending when a request is queued,
// to StatusAwaitingResponse when the switch acknowledges it, and then to
// what the payer's answer says.
const (
	StatusOpen              CaseStatus = "open"
	StatusSending           CaseStatus = "sending"
	StatusAwaitingResponse  CaseStatus = "awaiting_response"
	StatusPended            CaseStatus = "pended" // the payer queued it (outcome "queued")
	StatusEligible          CaseStatus = "eligible"
	StatusNotEligible       CaseStatus = "not_eligible"
	StatusApproved          CaseStatus = "approved"
	StatusPartiallyApproved CaseStatus = "partially_approved"
	StatusRejected          CaseStatus = "rejected"
	StatusNeedsDocuments    CaseStatus = "needs_documents"
	StatusPaid              CaseStatus = "paid"
	// StatusFailed: a message could not be sent, or NHCX reported it could
	// not be delivered (/v1/error); ErrorCode and ErrorMessage say why.
	StatusFailed CaseStatus = "failed"
)

// Stage is the step of the case the status belongs to.
type Stage string

// Stages.
const (
	StageNone                Stage = ""
	StageCoverageEligibility Stage = "coverageeligibility"
	StagePreauth             Stage = "preauth"
	StagePredetermination    Stage = "predetermination"
	StageClaim               Stage = "claim"
	StagePayment             Stage = "payment"
)

// Case is one insurance case of an encounter with one payer.
type Case struct {
	ID              string
	Tenant          string
	Facility        string
	ParticipantCode string // ours, the sender
	PayerCode       string
	PatientRef      string
	EncounterRef    string
	// WorkflowID is sent as x-hcx-workflow_id on every request of the case.
	WorkflowID string
	BenABHAID  string
	// CoverageID is the coverage on file the case was opened for; empty
	// when not recorded or since removed.
	CoverageID string
	Stage      Stage
	Status     CaseStatus
	// Amounts are decimal text as the payer gave them ("70000.00"), empty
	// when not known yet.
	Currency        string
	RequestedAmount string
	ApprovedAmount  string
	PaidAmount      string
	PreauthRef      string
	// UTR is the bank reference of the payment.
	UTR string
	// PaidOn is the payment date (YYYY-MM-DD), empty when not paid.
	PaidOn string
	// PayerNote is the payer's disposition or question. It may describe
	// the patient's condition: show it to billing staff, never log it.
	PayerNote    string
	ErrorCode    string
	ErrorMessage string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewCase starts a case.
type NewCase struct {
	Tenant   string
	Facility string // facility id
	// ParticipantCode is ours; empty picks the facility's code, else the
	// tenant-wide one.
	ParticipantCode string
	PayerCode       string
	PatientRef      string
	EncounterRef    string
	// WorkflowID defaults to a new UUID (HCX); PMJAY payers expect their
	// numeric codes (reference §11).
	WorkflowID string
	// BenABHAID, the patient's 14-digit ABHA number, is sent as
	// x-hcx-ben-abha-id when set.
	BenABHAID string
	// CoverageID, when set, is the coverage on file (Coverage.ID) the case
	// claims under; it must be with PayerCode. An existing case without
	// one takes it.
	CoverageID string
}

const caseColumns = `id::text, tenant_id::text, facility_id::text, participant_code, payer_code, patient_ref,
	encounter_ref, workflow_id, ben_abha_id, coalesce(coverage_id::text, ''), stage, status, currency,
	coalesce(requested_amount::text, ''), coalesce(approved_amount::text, ''), coalesce(paid_amount::text, ''),
	preauth_ref, utr, coalesce(paid_on::text, ''), payer_note, error_code, error_message, created_at, updated_at`

func scanCase(row pgx.CollectableRow) (Case, error) {
	var c Case
	err := row.Scan(&c.ID, &c.Tenant, &c.Facility, &c.ParticipantCode, &c.PayerCode, &c.PatientRef,
		&c.EncounterRef, &c.WorkflowID, &c.BenABHAID, &c.CoverageID, &c.Stage, &c.Status, &c.Currency,
		&c.RequestedAmount, &c.ApprovedAmount, &c.PaidAmount,
		&c.PreauthRef, &c.UTR, &c.PaidOn, &c.PayerNote, &c.ErrorCode, &c.ErrorMessage, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// StartCase opens a case, or returns the existing one with the same
// facility, patient, encounter and workflow id (giving it nc's coverage
// if it had none).
func (s *Service) StartCase(ctx context.Context, nc NewCase) (Case, error) {
	nc.PayerCode = normalizeCode(nc.PayerCode)
	nc.PatientRef, nc.EncounterRef = strings.TrimSpace(nc.PatientRef), strings.TrimSpace(nc.EncounterRef)
	switch {
	case nc.PayerCode == "":
		return Case{}, fmt.Errorf("%w: a case needs the payer's participant code", ErrInvalid)
	case nc.PatientRef == "":
		return Case{}, fmt.Errorf("%w: a case needs a patient reference", ErrInvalid)
	}
	if _, err := uuid.Parse(nc.Facility); err != nil {
		return Case{}, fmt.Errorf("%w: facility %q is not a facility id", ErrInvalid, nc.Facility)
	}
	if nc.CoverageID = strings.TrimSpace(nc.CoverageID); nc.CoverageID != "" && uuid.Validate(nc.CoverageID) != nil {
		return Case{}, fmt.Errorf("%w: coverage %q is not a coverage id", ErrInvalid, nc.CoverageID)
	}
	if nc.WorkflowID == "" {
		nc.WorkflowID = uuid.NewString()
	}
	var c Case
	err := s.inTenant(ctx, nc.Tenant, func(tx pgx.Tx) error {
		var p Participant
		var err error
		if nc.ParticipantCode != "" {
			p, err = participantInTenant(ctx, tx, nc.ParticipantCode)
		} else {
			p, err = defaultParticipant(ctx, tx, nc.Facility)
		}
		if err != nil {
			return err
		}
		if p.Code == nc.PayerCode {
			return fmt.Errorf("%w: the payer code is our own participant code", ErrInvalid)
		}
		if nc.CoverageID != "" {
			if err := checkCaseCoverage(ctx, tx, nc.CoverageID, nc.PayerCode); err != nil {
				return err
			}
		}
		// The update keeps the existing row as it was (but for a coverage
		// it lacked), and makes RETURNING give it too.
		rows, err := tx.Query(ctx, `
			INSERT INTO claims_cases (tenant_id, facility_id, participant_code, payer_code, patient_ref,
				encounter_ref, workflow_id, ben_abha_id, coverage_id)
			VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, nullif($9, '')::uuid)
			ON CONFLICT (tenant_id, facility_id, patient_ref, encounter_ref, workflow_id)
			DO UPDATE SET coverage_id = coalesce(claims_cases.coverage_id, EXCLUDED.coverage_id)
			RETURNING `+caseColumns,
			nc.Tenant, nc.Facility, p.Code, nc.PayerCode, nc.PatientRef, nc.EncounterRef, nc.WorkflowID, nc.BenABHAID,
			nc.CoverageID)
		if err != nil {
			return err
		}
		c, err = pgx.CollectExactlyOneRow(rows, scanCase)
		return err
	})
	if err != nil {
		return Case{}, fmt.Errorf("starting case: %w", err)
	}
	return c, nil
}

// checkCaseCoverage refuses a coverage the tenant does not have on file
// (row-level security hides other tenants', which the foreign key alone
// would accept) or that is with another payer.
func checkCaseCoverage(ctx context.Context, tx pgx.Tx, coverageID, payerCode string) error {
	var payer string
	err := tx.QueryRow(ctx, `SELECT payer_code FROM claims_coverages WHERE id = $1::uuid`, coverageID).Scan(&payer)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: coverage %s is not on file", ErrInvalid, coverageID)
	case err != nil:
		return fmt.Errorf("reading coverage %s: %w", coverageID, err)
	case payer != payerCode:
		return fmt.Errorf("%w: coverage %s is with %s, not the case's payer %s", ErrInvalid, coverageID, payer, payerCode)
	}
	return nil
}

// setCaseCoverage gives a case that has none the coverage its requests
// claim under: cases opened before coverages were kept learn theirs on
// their next request.
func (s *Service) setCaseCoverage(ctx context.Context, tenant, caseID, coverageID string) (Case, error) {
	var c Case
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		if c, err = getCase(ctx, tx, caseID, true); err != nil || c.CoverageID != "" {
			return err
		}
		if err := checkCaseCoverage(ctx, tx, coverageID, c.PayerCode); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE claims_cases SET coverage_id = $2::uuid WHERE id = $1::uuid AND coverage_id IS NULL`,
			caseID, coverageID); err != nil {
			return fmt.Errorf("recording the coverage of case %s: %w", caseID, err)
		}
		c.CoverageID = coverageID
		return nil
	})
	if err != nil {
		return Case{}, fmt.Errorf("setting the coverage of case %s: %w", caseID, err)
	}
	return c, nil
}

// Case returns one case of the tenant.
func (s *Service) Case(ctx context.Context, tenant, id string) (Case, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Case{}, fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	var c Case
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		c, err = getCase(ctx, tx, id, false)
		return err
	})
	return c, err
}

func getCase(ctx context.Context, tx pgx.Tx, id string, lock bool) (Case, error) {
	q := "SELECT " + caseColumns + " FROM claims_cases WHERE id = $1::uuid"
	if lock {
		q += " FOR UPDATE"
	}
	rows, err := tx.Query(ctx, q, id)
	if err != nil {
		return Case{}, fmt.Errorf("reading case %s: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCase)
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, fmt.Errorf("case %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Case{}, fmt.Errorf("reading case %s: %w", id, err)
	}
	return c, nil
}

// CaseFilter narrows Cases; zero fields match everything.
type CaseFilter struct {
	Facility     string
	PatientRef   string
	EncounterRef string
	Status       CaseStatus
	// Limit defaults to 100.
	Limit int
}

// Cases lists the tenant's cases, most recently updated first.
func (s *Service) Cases(ctx context.Context, tenant string, f CaseFilter) ([]Case, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []Case
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+caseColumns+` FROM claims_cases
			WHERE ($1 = '' OR facility_id::text = $1) AND ($2 = '' OR patient_ref = $2)
			  AND ($3 = '' OR encounter_ref = $3) AND ($4 = '' OR status = $4)
			ORDER BY updated_at DESC, id LIMIT $5`,
			f.Facility, f.PatientRef, f.EncounterRef, string(f.Status), f.Limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanCase)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing cases: %w", err)
	}
	return out, nil
}
