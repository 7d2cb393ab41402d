package server

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/views"
)

// showBillingPatient is one patient's billing page; ?coverage=<id> puts
// that coverage in the form to change it.
func (s *Server) showBillingPatient(c *fiber.Ctx) error {
	id, err := billingPatientID(c)
	if err != nil {
		return err
	}
	form := views.CoverageForm{}
	notice := ""
	switch c.Query("saved") {
	case "1":
		notice = "The coverage was saved."
	}
	v, err := s.billingPatientModel(c.UserContext(), id, strings.Clone(c.Query("coverage")), form)
	if err != nil {
		return err
	}
	v.Notice = notice
	return render(c, fiber.StatusOK, views.BillingPatientPage(s.pageFor(c, v.Name+" · Billing", roleBilling.home()), v))
}

// saveBillingCoverage adds or changes a coverage; a refused form comes back
// with what is wrong and the values typed.
func (s *Server) saveBillingCoverage(c *fiber.Ctx) error {
	id, err := billingPatientID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	form := views.CoverageForm{
		ID:           strings.Clone(strings.TrimSpace(c.FormValue("id"))),
		Payer:        strings.Clone(strings.TrimSpace(c.FormValue("payer"))),
		Plan:         strings.Clone(c.FormValue("plan")),
		Policy:       strings.Clone(c.FormValue("policy")),
		Member:       strings.Clone(c.FormValue("member")),
		Relationship: strings.Clone(c.FormValue("relationship")),
		From:         strings.Clone(strings.TrimSpace(c.FormValue("from"))),
		To:           strings.Clone(strings.TrimSpace(c.FormValue("to"))),
	}
	cov := claims.Coverage{ID: form.ID, PatientID: id, PayerCode: form.Payer, PlanName: form.Plan, PolicyNumber: form.Policy,
		MemberID: form.Member, Relationship: claims.Relationship(form.Relationship), UpdatedBy: st.displayName()}
	var problems []string
	for _, d := range []struct {
		value string
		into  *time.Time
		label string
	}{{form.From, &cov.ValidFrom, "The start date"}, {form.To, &cov.ValidTo, "The end date"}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.value)
		if err != nil {
			problems = append(problems, d.label+" is not a date; use the date picker or write it as 2025-04-01.")
			continue
		}
		*d.into = t
	}
	if strings.TrimSpace(form.Policy) == "" && strings.TrimSpace(form.Member) == "" {
		problems = append(problems, "Give the policy number or the member id (PM-JAY needs the beneficiary's PM-JAY id as the member id).")
	}
	if !cov.ValidFrom.IsZero() && !cov.ValidTo.IsZero() && cov.ValidTo.Before(cov.ValidFrom) {
		problems = append(problems, "The end date is before the start date.")
	}
	if len(problems) == 0 {
		var saved claims.Coverage
		saved, err = s.billing.SetCoverage(ctx, st.TenantID, cov)
		if err == nil {
			s.auditBilling(ctx, "billing.coverage_saved", map[string]any{"patient": id, "coverage": saved.ID, "payer": saved.PayerCode})
			return c.Redirect(billingPatientURL(id)+"?saved=1#coverage", fiber.StatusSeeOther)
		}
		texts, ok := refusalText(err)
		if !ok {
			return billingNotFound(err, "coverage")
		}
		problems = texts
	}
	v, err := s.billingPatientModel(ctx, id, "", form)
	if err != nil {
		return err
	}
	v.CoverageErrors = problems
	return render(c, fiber.StatusBadRequest, views.BillingPatientPage(s.pageFor(c, v.Name+" · Billing", roleBilling.home()), v))
}

// billingPatientModel fills the patient page. editID, when set, is the
// coverage to put in the form; otherwise form is what was typed.
func (s *Server) billingPatientModel(ctx context.Context, id, editID string, form views.CoverageForm) (views.BillingPatient, error) {
	st := staffFrom(ctx)
	now := time.Now()
	p, err := s.patientsReader().Patient(ctx, st.TenantID, id)
	if err != nil {
		return views.BillingPatient{}, patientNotFound(err)
	}
	v := views.BillingPatient{Name: cmp.Or(p.Summary.Name, "Patient "+p.ID), CoverageAction: billingPatientURL(p.ID) + "/coverage"}
	details := []string{genderLabel(p.Summary.Gender), birthWithAge(p.Summary, now)}
	for _, i := range p.Identifiers {
		details = append(details, labelOr(identifierKinds, i.Kind)+" "+abhaText(i))
	}
	v.Details = strings.Join(slices.DeleteFunc(details, func(s string) bool { return s == "" }), " · ")

	scope, err := s.billingScope(ctx)
	if err != nil {
		return v, err
	}
	encs, problems, err := s.billing.Encounters(ctx, st.TenantID, p.ID)
	if err != nil {
		return v, billingNotFound(err, "patient")
	}
	for _, pr := range problems {
		v.EncounterProblems = append(v.EncounterProblems, "Some stays may be missing: "+pr.String())
	}
	inScope := map[string]bool{}
	for _, f := range scope {
		inScope[f.HFRID] = true
	}
	for _, e := range encs {
		row := views.BillingEncounterRow{
			URL: billingEncounterURL(p.ID, e.Ref), Facility: e.FacilityName, Source: e.SourceName,
			Kind: encounterKind(e.Inpatient, e.Class), Dates: stayDates(e.Start, e.End, e.Inpatient), Display: e.Display,
		}
		if !inScope[e.FacilityHFRID] {
			row.NotYours = "Evidence only: claims for it are made by " + e.FacilityName + "."
		}
		v.Encounters = append(v.Encounters, row)
	}

	covs, err := s.billing.Coverages(ctx, st.TenantID, p.ID)
	if err != nil {
		return v, err
	}
	for _, cv := range covs {
		v.Coverages = append(v.Coverages, coverageRow(p.ID, cv, now))
		if cv.ID == editID {
			form = coverageFormOf(cv)
		}
	}
	v.CoverageForm = form
	payers, err := s.billing.Payers(ctx, st.TenantID)
	if err != nil {
		return v, err
	}
	v.Payers = payerChoices(payers, form.Payer)
	v.Relationships = relationshipChoices(form.Relationship)

	emps, err := s.billing.Empanelments(ctx, st.TenantID, "")
	if err != nil {
		return v, err
	}
	// Every facility the patient was treated at, and the user's own.
	shown := map[string]*views.BillingFacilityEmpanelment{}
	var order []string
	ensure := func(hfr, name string) *views.BillingFacilityEmpanelment {
		if g, ok := shown[hfr]; ok {
			return g
		}
		shown[hfr] = &views.BillingFacilityEmpanelment{Facility: name, HFRID: hfr}
		order = append(order, hfr)
		return shown[hfr]
	}
	for _, f := range scope {
		ensure(f.HFRID, f.Name)
	}
	for _, e := range encs {
		ensure(e.FacilityHFRID, e.FacilityName)
	}
	for _, e := range emps {
		g, ok := shown[e.FacilityHFRID]
		if !ok {
			continue
		}
		g.Rows = append(g.Rows, views.BillingEmpanelmentRow{Payer: e.PayerName, Scheme: strings.TrimSpace(e.SchemeName + " " + e.SchemeCode),
			Validity: validityText(e.ValidFrom, e.ValidTo), InForce: e.InForce(now)})
	}
	slices.SortFunc(order, func(a, b string) int { return cmp.Compare(shown[a].Facility, shown[b].Facility) })
	for _, hfr := range order {
		v.Empanelments = append(v.Empanelments, *shown[hfr])
	}

	cases, err := s.billing.Cases(ctx, st.TenantID, claims.CaseFilter{PatientRef: p.ID})
	if err != nil {
		return v, err
	}
	cases = slices.DeleteFunc(cases, func(cs claims.Case) bool { _, ok := scope[cs.Facility]; return !ok })
	fs := make([]facility, 0, len(scope))
	for _, f := range scope {
		fs = append(fs, f)
	}
	if v.Cases, err = s.caseRows(ctx, st.TenantID, cases, fs, payers); err != nil {
		return v, err
	}
	return v, nil
}
