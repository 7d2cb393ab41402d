package claims

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/nrces"
)

// Workflow is the billing desk's NHCX workflow: it turns a patient's stay,
// as the evidence gatherer reads it from every facility and source system,
// into the insurer's messages (coverage check, pre-authorisation,
// enhancement, final claim), answers the insurer's requests (documents for
// a query, the acknowledgement of a payment) and reads cases back for the
// billing pages.
//
// Every bundle is built by nrces and passes its quality gate before it is
// queued; missing data (no diagnosis, no bill, no coverage in force, a
// facility not empanelled with the payer) is refused with a *Refusal that
// says what is missing and where, and nothing is sent.
//
// Bundles carry clinical and financial data: the workflow never logs them.
type Workflow struct {
	svc      *Service
	evidence EvidenceSource
	builder  *nrces.Builder
	log      *slog.Logger
	now      func() time.Time
	limits   UploadLimits
}

// EvidenceSource gathers what a claim draws on (*Gatherer).
type EvidenceSource interface {
	Encounters(ctx context.Context, tenant, patientID string) ([]BillableEncounter, []Problem, error)
	Gather(ctx context.Context, tenant, patientID, encounterRef string) (Evidence, error)
}

// UploadLimits bound the documents billing uploads to answer a payer's
// query. Base64 makes them a third larger in the bundle, and payers cap
// bundle sizes (reference §13.9), so the defaults are modest.
type UploadLimits struct {
	// PerFile bounds one file (default 5 MiB).
	PerFile int
	// Total bounds all files of one answer (default 10 MiB).
	Total int
	// Files bounds how many files one answer may carry (default 10).
	Files int
}

// Default upload limits.
const (
	DefaultUploadPerFile = 5 << 20
	DefaultUploadTotal   = 10 << 20
	DefaultUploadFiles   = 10
)

// WorkflowConfig configures a Workflow.
type WorkflowConfig struct {
	Service  *Service
	Evidence EvidenceSource
	Builder  *nrces.Builder
	Uploads  UploadLimits
	Logger   *slog.Logger
	Now      func() time.Time
}

// NewWorkflow returns the workflow over cfg's service, evidence and
// builder.
func NewWorkflow(cfg WorkflowConfig) (*Workflow, error) {
	var errs []error
	if cfg.Service == nil {
		errs = append(errs, errors.New("Service is required"))
	}
	if cfg.Evidence == nil {
		errs = append(errs, errors.New("Evidence (the gatherer) is required"))
	}
	if cfg.Builder == nil {
		errs = append(errs, errors.New("Builder is required"))
	}
	if cfg.Uploads.PerFile < 0 || cfg.Uploads.Total < 0 || cfg.Uploads.Files < 0 {
		errs = append(errs, errors.New("upload limits cannot be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("claims workflow config: %w", err)
	}
	setDefault(&cfg.Uploads.PerFile, DefaultUploadPerFile)
	setDefault(&cfg.Uploads.Total, DefaultUploadTotal)
	setDefault(&cfg.Uploads.Files, DefaultUploadFiles)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Workflow{svc: cfg.Service, evidence: cfg.Evidence, builder: cfg.Builder, log: cfg.Logger,
		now: cfg.Now, limits: cfg.Uploads}, nil
}

// Refusal is why the workflow sent nothing: what is missing or wrong, in
// sentences billing staff can act on. It wraps ErrInvalid.
type Refusal struct {
	Reasons []string
	// Findings are the quality gate's, when a built bundle failed it.
	Findings []nrces.Finding
}

func (r *Refusal) Error() string {
	return "claims: nothing was sent: " + strings.Join(r.Reasons, "; ")
}

// Unwrap makes a Refusal an ErrInvalid.
func (r *Refusal) Unwrap() error { return ErrInvalid }

func nothingSent(reasons ...string) *Refusal { return &Refusal{Reasons: reasons} }

// Actor is the staff member asking: the eligibility request names them as
// its enterer and a payment acknowledgement as who acknowledged.
type Actor struct {
	// ID is stable (the sign-in subject); Name is shown.
	ID   string
	Name string
}

// Submission says what a request is about: an existing case, or a
// patient's encounter and the coverage to claim under.
type Submission struct {
	// CaseID, when set, names the case; PatientID and EncounterRef then
	// come from it.
	CaseID       string
	PatientID    string
	EncounterRef string
	// CoverageID picks the coverage on file. It may be empty for a case
	// when the patient has one coverage with the case's payer.
	CoverageID string
	// Estimate is an estimated total (decimal text, e.g. "85000") for a
	// pre-authorisation or enhancement, sent as one estimated line in
	// place of the bill's lines. Empty uses the bill.
	Estimate string
	// Reason explains an enhancement (required there).
	Reason string
	Actor  Actor
}

// Encounters lists a patient's admissions and visits at every facility
// (see Gatherer.Encounters).
func (w *Workflow) Encounters(ctx context.Context, tenant, patientID string) ([]BillableEncounter, []Problem, error) {
	return w.evidence.Encounters(ctx, tenant, patientID)
}

// Evidence gathers what a claim for the encounter would carry, for the
// page that shows it before it is sent.
func (w *Workflow) Evidence(ctx context.Context, tenant, patientID, encounterRef string) (Evidence, error) {
	return w.evidence.Gather(ctx, tenant, patientID, encounterRef)
}

// Cases lists the tenant's cases (Service.Cases).
func (w *Workflow) Cases(ctx context.Context, tenant string, f CaseFilter) ([]Case, error) {
	return w.svc.Cases(ctx, tenant, f)
}

// Case returns one case (Service.Case).
func (w *Workflow) Case(ctx context.Context, tenant, id string) (Case, error) {
	return w.svc.Case(ctx, tenant, id)
}

// Payers lists the tenant's payers (Service.Payers).
func (w *Workflow) Payers(ctx context.Context, tenant string) ([]Payer, error) {
	return w.svc.Payers(ctx, tenant)
}

// Empanelments lists facilities' empanelments (Service.Empanelments).
func (w *Workflow) Empanelments(ctx context.Context, tenant, facilityID string) ([]Empanelment, error) {
	return w.svc.Empanelments(ctx, tenant, facilityID)
}

// Coverages lists a patient's coverage on file (Service.Coverages).
func (w *Workflow) Coverages(ctx context.Context, tenant, patientID string) ([]Coverage, error) {
	return w.svc.Coverages(ctx, tenant, patientID)
}

// SetCoverage adds or changes a patient's coverage (Service.SetCoverage).
func (w *Workflow) SetCoverage(ctx context.Context, tenant string, c Coverage) (Coverage, error) {
	return w.svc.SetCoverage(ctx, tenant, c)
}

// Payload returns a message's FHIR payload (Service.Payload).
func (w *Workflow) Payload(ctx context.Context, tenant string, id int64) ([]byte, error) {
	return w.svc.Payload(ctx, tenant, id)
}

// Replay sends one of a case's outbound messages again (Service.Replay),
// after the switch or the payer could not take it.
func (w *Workflow) Replay(ctx context.Context, tenant, caseID string, messageID int64) (Message, error) {
	m, err := w.svc.Message(ctx, tenant, messageID)
	if err != nil {
		return Message{}, err
	}
	if m.CaseID != caseID {
		return Message{}, fmt.Errorf("message %d is not one of case %s's: %w", messageID, caseID, ErrNotFound)
	}
	return w.svc.Replay(ctx, tenant, messageID)
}

// UploadLimits returns the limits on documents uploaded with an answer.
func (w *Workflow) UploadLimits() UploadLimits { return w.limits }
