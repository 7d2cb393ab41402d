package server

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/views"
)

// billingSendForm is the send form of the encounter page, as typed.
type billingSendForm struct {
	Coverage string
	Estimate string
	// Payer, from a case's link, picks the patient's coverage with that
	// payer when no coverage is chosen.
	Payer string
}

// showBillingEncounter shows what a claim for one stay would carry,
// gathered from every facility, and the form that sends it.
func (s *Server) showBillingEncounter(c *fiber.Ctx) error {
	id, err := billingPatientID(c)
	if err != nil {
		return err
	}
	ref := strings.Clone(c.Query("encounter"))
	form := billingSendForm{Coverage: strings.Clone(c.Query("coverage")), Payer: strings.Clone(c.Query("payer"))}
	v, err := s.billingEncounterModel(c.UserContext(), id, ref, form)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.BillingEncounterPage(s.pageFor(c, v.Kind+" · Billing", roleBilling.home()), v))
}

// sendBillingRequest sends the coverage check, pre-authorisation or final
// claim the button asked for, then shows the case. What the workflow
// refuses comes back on the same page with the form as typed.
func (s *Server) sendBillingRequest(c *fiber.Ctx) error {
	id, err := billingPatientID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	ref := strings.Clone(c.Query("encounter"))
	form := billingSendForm{Coverage: strings.Clone(c.FormValue("coverage")), Estimate: strings.Clone(strings.TrimSpace(c.FormValue("estimate")))}
	action := c.FormValue("action")
	if err := s.claimableHere(ctx, ref); err != nil {
		return err
	}
	sub := claims.Submission{PatientID: id, EncounterRef: ref, CoverageID: form.Coverage, Estimate: form.Estimate, Actor: billingActor(st)}
	var cs claims.Case
	switch action {
	case "check":
		cs, err = s.billing.CheckCoverage(ctx, st.TenantID, sub)
	case "preauth":
		cs, err = s.billing.RequestPreauth(ctx, st.TenantID, sub)
	case "claim":
		cs, err = s.billing.SubmitClaim(ctx, st.TenantID, sub)
	default:
		return fiber.NewError(fiber.StatusBadRequest, "Choose what to send: a coverage check, a pre-authorisation or the final claim.")
	}
	if err == nil {
		s.auditBilling(ctx, "billing."+action, map[string]any{"case": cs.ID, "encounter": ref, "payer": cs.PayerCode})
		return c.Redirect(billingCaseURL(cs.ID)+"?sent="+action, fiber.StatusSeeOther)
	}
	problems, ok := refusalText(err)
	if !ok {
		return err
	}
	v, err := s.billingEncounterModel(ctx, id, ref, form)
	if err != nil {
		return err
	}
	v.Errors = problems
	return render(c, fiber.StatusBadRequest, views.BillingEncounterPage(s.pageFor(c, v.Kind+" · Billing", roleBilling.home()), v))
}

// claimableHere refuses a stay at a facility the user does not bill for.
func (s *Server) claimableHere(ctx context.Context, ref string) error {
	hfr, _, err := claims.ParseEncounterRef(ref)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "The stay is named by its facility and reference, like IN2910000587/his:ipd:790002; this one is not.")
	}
	scope, err := s.billingScope(ctx)
	if err != nil {
		return err
	}
	if why := notClaimableIn(scope, hfr); why != "" {
		return forbidden(why)
	}
	return nil
}

// notClaimableIn says why the user, billing for scope, may not claim for
// a stay at the facility with HFR id hfr; "" when they may.
func notClaimableIn(scope map[string]facility, hfr string) string {
	for _, f := range scope {
		if f.HFRID == hfr {
			return ""
		}
	}
	return "You bill for " + scopeNames(scope) + " only; claims for this stay are made by its own facility's billing desk."
}

func scopeNames(scope map[string]facility) string {
	var names []string
	for _, f := range scope {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return "no facility"
	}
	return joinAnd(names)
}

// billingEncounterModel fills the encounter page from the gathered
// evidence.
func (s *Server) billingEncounterModel(ctx context.Context, patientID, ref string, form billingSendForm) (views.BillingEncounter, error) {
	st := staffFrom(ctx)
	hfr, _, err := claims.ParseEncounterRef(ref)
	if err != nil {
		return views.BillingEncounter{}, fiber.NewError(fiber.StatusBadRequest, "Choose a stay from the patient's page; this link does not name one.")
	}
	ev, err := s.billing.Evidence(ctx, st.TenantID, patientID, ref)
	if errors.Is(err, claims.ErrNotFound) || errors.Is(err, claims.ErrInvalid) {
		return views.BillingEncounter{}, billingNotFound(err, "stay")
	}
	if err != nil {
		return views.BillingEncounter{}, &problem{status: fiber.StatusServiceUnavailable, title: "The stay's records could not be read",
			message: "The system that holds this stay did not answer in time, so its evidence cannot be shown. Try again in a minute; if it keeps failing, tell your administrator (Source systems shows each system's health).",
			err:     err}
	}
	e := ev.Encounter
	v := views.BillingEncounter{
		PatientName: cmp.Or(ev.Patient.Name, "Patient"), PatientURL: billingPatientURL(ev.PatientID), Ref: ref,
		Facility: e.FacilityName, Source: e.SourceName, Kind: encounterKind(e.Inpatient, e.Class),
		Dates: stayDates(e.Start, e.End, e.Inpatient), Display: cmp.Or(e.Display, e.Type.Text),
		Practitioners: strings.Join(e.Practitioners, ", "), Estimate: form.Estimate,
		AddCoverageURL: billingPatientURL(ev.PatientID) + "#coverage-form-heading",
		Action:         billingEncounterURL(ev.PatientID, ref),
		Groups:         evidenceGroups(&ev),
	}
	scope, err := s.billingScope(ctx)
	if err != nil {
		return v, err
	}
	v.NotYours = notClaimableIn(scope, hfr)
	for _, p := range ev.Problems {
		v.Problems = append(v.Problems, p.String())
	}
	// What a pre-authorisation would carry: the bill's lines, or the
	// estimate typed.
	v.Draft = draftModel(s.billing.Draft(&ev, nrces.ClaimUsePreauthorization, form.Estimate))
	payers, err := s.billing.Payers(ctx, st.TenantID)
	if err != nil {
		return v, err
	}
	byCode := map[string]claims.Payer{}
	for _, p := range payers {
		byCode[p.Code] = p
	}
	if form.Coverage == "" && form.Payer != "" {
		for _, cv := range ev.Coverages {
			if cv.PayerCode == form.Payer {
				form.Coverage = cv.ID
			}
		}
	}
	for _, cv := range ev.Coverages {
		ch := coverageChoice(cv)
		ch.Checked = cv.ID == form.Coverage
		v.Coverages = append(v.Coverages, ch)
		for _, m := range s.billing.Readiness(&ev, cv, byCode[cv.PayerCode]) {
			v.CoverageNotes = append(v.CoverageNotes, cv.PayerName+": "+sentence(m))
		}
	}
	cases, err := s.billing.Cases(ctx, st.TenantID, claims.CaseFilter{PatientRef: ev.PatientID, EncounterRef: ref})
	if err != nil {
		return v, err
	}
	fs := make([]facility, 0, len(scope))
	for _, f := range scope {
		fs = append(fs, f)
	}
	var mine []claims.Case
	for _, cs := range cases {
		if _, ok := scope[cs.Facility]; ok {
			mine = append(mine, cs)
		}
	}
	if v.Cases, err = s.caseRows(ctx, st.TenantID, mine, fs, payers); err != nil {
		return v, err
	}
	return v, nil
}
