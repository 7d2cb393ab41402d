package server

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// The billing desk: insurance cases through NHCX. Billing staff see the
// cases of their facilities, find any patient of the group, and claim for
// stays at their facilities with evidence from every facility.

const (
	billingPath  = "/billing"
	billingCases = 200
)

// Billing is what the billing pages need (*claims.Workflow).
type Billing interface {
	// Payers and empanelments, set up by hospital IT (/admin/payers).
	SetPayer(ctx context.Context, tenant string, p claims.Payer) (claims.Payer, error)
	SetEmpanelment(ctx context.Context, tenant string, e claims.Empanelment) (claims.Empanelment, error)
	Encounters(ctx context.Context, tenant, patientID string) ([]claims.BillableEncounter, []claims.Problem, error)
	Evidence(ctx context.Context, tenant, patientID, encounterRef string) (claims.Evidence, error)
	Draft(ev *claims.Evidence, use nrces.ClaimUse, estimate string) claims.ClaimDraft
	Readiness(ev *claims.Evidence, cov claims.Coverage, payer claims.Payer) []string
	Cases(ctx context.Context, tenant string, f claims.CaseFilter) ([]claims.Case, error)
	CaseDetail(ctx context.Context, tenant, id string) (claims.CaseDetail, error)
	Payers(ctx context.Context, tenant string) ([]claims.Payer, error)
	Empanelments(ctx context.Context, tenant, facilityID string) ([]claims.Empanelment, error)
	Coverages(ctx context.Context, tenant, patientID string) ([]claims.Coverage, error)
	SetCoverage(ctx context.Context, tenant string, c claims.Coverage) (claims.Coverage, error)
	CheckCoverage(ctx context.Context, tenant string, sub claims.Submission) (claims.Case, error)
	RequestPreauth(ctx context.Context, tenant string, sub claims.Submission) (claims.Case, error)
	RequestEnhancement(ctx context.Context, tenant string, sub claims.Submission) (claims.Case, error)
	SubmitClaim(ctx context.Context, tenant string, sub claims.Submission) (claims.Case, error)
	AnswerQuery(ctx context.Context, tenant string, a claims.QueryAnswer) (claims.Message, error)
	AcknowledgePayment(ctx context.Context, tenant, caseID string, messageID int64, actor claims.Actor) (claims.Message, error)
	Replay(ctx context.Context, tenant, caseID string, messageID int64) (claims.Message, error)
	UploadLimits() claims.UploadLimits
}

// billingAccess is who may use the billing pages.
func billingAccess() access { return allow(roleBilling, roleAdmin) }

// billingOnly answers 503 with an explanation when Sangam runs without
// NHCX.
func (s *Server) billingOnly(h fiber.Handler) fiber.Handler {
	return servingOnlyIf(func() bool { return s.billing != nil }, "Claims are not set up here",
		"This Sangam runs without its NHCX billing service, so it cannot send claims. Ask whoever runs Sangam to configure NHCX (NHCX_URL and the participant codes).", h)
}

// billingScope is the user's facilities by id: the ones they may claim
// for and whose cases they see.
func (s *Server) billingScope(ctx context.Context) (map[string]facility, error) {
	fs, err := s.facilitiesOf(ctx, staffFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := make(map[string]facility, len(fs))
	for _, f := range fs {
		out[f.ID] = f
	}
	return out, nil
}

// auditBilling records a billing action in the tenant's audit log: who
// sent what on which case (never patient or claim data). The action has
// already happened, in the claims workflow's own transaction, so a failure
// here is logged rather than shown.
func (s *Server) auditBilling(ctx context.Context, action string, detail map[string]any) {
	st := staffFrom(ctx)
	err := database.InTenant(ctx, s.pool, st.TenantID, func(tx pgx.Tx) error {
		return recordAudit(ctx, tx, st.TenantID, st.Subject, action, detail)
	})
	if err != nil {
		s.log.WarnContext(ctx, "recording a billing audit event", "action", action, "error", err.Error())
	}
}

func billingActor(st *staff) claims.Actor {
	return claims.Actor{ID: st.Subject, Name: st.displayName()}
}

func billingPatientURL(id string) string { return billingPath + "/patients/" + url.PathEscape(id) }

func billingEncounterURL(patientID, ref string) string {
	return billingPatientURL(patientID) + "/claim?encounter=" + url.QueryEscape(ref)
}

func billingCaseURL(id string) string { return billingPath + "/cases/" + url.PathEscape(id) }

// showBillingDesk is the billing home: a patient search and the cases of
// the user's facilities.
func (s *Server) showBillingDesk(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	fs, err := s.facilitiesOf(ctx, st)
	if err != nil {
		return err
	}
	v := views.BillingHome{Facilities: facilityRefs(fs), Query: strings.Clone(strings.TrimSpace(c.Query("q")))}
	status := fiber.StatusOK
	if v.Query != "" {
		v.Searched = true
		if len([]rune(v.Query)) > maxSearchChars {
			v.SearchError = "Keep the search under " + strconv.Itoa(maxSearchChars) + " characters."
			status = fiber.StatusBadRequest
		} else {
			results, err := s.patientsReader().Search(ctx, st.TenantID, patients.ParseSearch(v.Query), searchResults)
			switch {
			case errors.Is(err, patients.ErrInvalid):
				v.SearchError = "Give a name with the year of birth (for example “Kavya Shetty 1996”), an ABHA number or address, a mobile number or a record number."
				status = fiber.StatusBadRequest
			case err != nil:
				return err
			}
			for _, r := range results {
				row := patientRow(r.Patient, time.Now())
				row.URL = billingPatientURL(r.Patient.ID)
				row.MatchedBy = matchedByText(r)
				v.Patients = append(v.Patients, row)
			}
		}
	}
	if s.billing == nil {
		v.Unavailable = "Claims are not set up on this Sangam: it runs without its NHCX billing service. Ask whoever runs Sangam to configure NHCX."
		return render(c, status, views.BillingPage(s.pageFor(c, "Billing", roleBilling.home()), v))
	}
	var cases []claims.Case
	for _, f := range fs {
		cs, err := s.billing.Cases(ctx, st.TenantID, claims.CaseFilter{Facility: f.ID, Limit: billingCases})
		if err != nil {
			return err
		}
		cases = append(cases, cs...)
	}
	slices.SortFunc(cases, func(a, b claims.Case) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	payers, err := s.billing.Payers(ctx, st.TenantID)
	if err != nil {
		return err
	}
	rows, err := s.caseRows(ctx, st.TenantID, cases, fs, payers)
	if err != nil {
		return err
	}
	for i, cs := range cases {
		if caseClosed(cs) {
			v.Closed = append(v.Closed, rows[i])
		} else {
			v.Open = append(v.Open, rows[i])
		}
	}
	return render(c, status, views.BillingPage(s.pageFor(c, "Billing", roleBilling.home()), v))
}

// caseRows describes cases for lists, with their patients' names and
// their payers' (from payers, which the caller has read already).
func (s *Server) caseRows(ctx context.Context, tenant string, cases []claims.Case, fs []facility, payers []claims.Payer) ([]views.BillingCaseRow, error) {
	names := map[string]string{}
	for _, cs := range cases {
		if _, ok := names[cs.PatientRef]; ok {
			continue
		}
		p, err := s.patientsReader().Patient(ctx, tenant, cs.PatientRef)
		switch {
		case errors.Is(err, patients.ErrNotFound):
			names[cs.PatientRef] = "Patient " + cs.PatientRef
		case err != nil:
			return nil, err
		default:
			names[cs.PatientRef] = cmp.Or(p.Summary.Name, "Patient "+cs.PatientRef)
		}
	}
	payerName := make(map[string]string, len(payers))
	for _, p := range payers {
		payerName[p.Code] = p.Name
	}
	facilities := map[string]string{}
	for _, f := range fs {
		facilities[f.ID] = f.Name
	}
	out := make([]views.BillingCaseRow, len(cases))
	for i, cs := range cases {
		out[i] = caseRow(cs, names[cs.PatientRef], cmp.Or(facilities[cs.Facility], "another facility"), labelOr(payerName, cs.PayerCode))
	}
	return out, nil
}

// billingPatientID reads the :id parameter: a malformed id is a 400.
func billingPatientID(c *fiber.Ctx) (string, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return "", fiber.NewError(fiber.StatusBadRequest, "A patient is named by an id like 0b6f7c1e-5d8a-4c1e-9a43-2f0e6d1b7a55; this one is not.")
	}
	return id.String(), nil
}

// billingNotFound turns the claims package's not-found into a 404 page.
func billingNotFound(err error, what string) error {
	if errors.Is(err, claims.ErrNotFound) || errors.Is(err, patients.ErrNotFound) {
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "There is no such " + what + " at your facilities. Find the patient from the billing page instead.", err: err}
	}
	return err
}

// refusalText turns what the workflow refused into sentences for the
// desk; ok is false for errors that are not the user's to fix.
func refusalText(err error) ([]string, bool) {
	var r *claims.Refusal
	if errors.As(err, &r) {
		out := make([]string, len(r.Reasons))
		for i, m := range r.Reasons {
			out[i] = sentence(m)
		}
		return out, true
	}
	var fe *claims.FieldError
	if errors.As(err, &fe) || errors.Is(err, claims.ErrInvalid) {
		var out []string
		for _, e := range unjoin(err) {
			if errors.As(e, &fe) {
				out = append(out, sentence(fieldLabel(fe.Field)+" "+fe.Problem))
				continue
			}
			msg := e.Error()
			if i := strings.LastIndex(msg, claims.ErrInvalid.Error()+": "); i >= 0 {
				msg = msg[i+len(claims.ErrInvalid.Error())+2:]
			}
			out = append(out, sentence(msg))
		}
		return out, true
	}
	if errors.Is(err, claims.ErrNotFound) {
		return []string{"The patient's record for this stay could not be found in its source system; it may have been removed. Reload the patient's page."}, true
	}
	return nil, false
}

// unjoin lists the errors joined into err (claims joins field errors),
// or err alone.
func unjoin(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}

var billingFieldLabels = map[string]string{
	"PayerCode": "The payer", "PolicyNumber": "The policy number", "MemberID": "The member id", "PlanName": "The plan",
	"Relationship": "The relationship", "ValidTo": "The end date", "ValidFrom": "The start date", "CoverageID": "The coverage",
	"PatientID": "The patient", "EncounterRef": "The stay", "Reason": "The reason", "Uploads": "The files",
	"Evidence": "The documents", "Note": "The note", "MessageID": "The request answered", "UpdatedBy": "Who entered it",
	"ID": "The coverage",
}

func fieldLabel(f string) string { return labelOr(billingFieldLabels, f) }

// sentence starts s with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	s = string(r)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
