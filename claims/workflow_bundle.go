package claims

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/nrces"
)

// This file turns gathered evidence into the nrces descriptions of NHCX
// messages, and says in plain words what is missing for each.

// Identifier systems Sangam writes for what has no registry of its own.
const (
	// claimNumberSystem names the hospital's claim numbers (Claim.identifier).
	claimNumberSystem = "urn:sangam:claim"
	// mrnSystem names medical record numbers, "<facility HFR id>/<MRN>",
	// as the record pages write them.
	mrnSystem = "urn:sangam:mrn"
	// practitionerSystem names practitioners known to a source only by
	// name, "<facility HFR id>/<name>"; staffSystem the staff who sign in.
	practitionerSystem = "urn:sangam:practitioner"
	staffSystem        = "urn:sangam:staff"
)

var (
	idTypeMR  = nrces.Coding{System: nrces.SystemV20203, Code: "MR", Display: "Medical record number"}
	idTypePRN = nrces.Coding{System: nrces.SystemV20203, Code: "PRN", Display: "Provider number"}
	// Document types of the evidence sent (DocumentReference.type).
	dischargeSummaryType = nrces.SNOMED("373942005", "Discharge summary (record artifact)")
	labReportType        = nrces.SNOMED("4241000179101", "Laboratory report (record artifact)")
	imagingReportType    = nrces.SNOMED("4201000179104", "Imaging report (record artifact)")
)

// claimNumber is the hospital's claim number of an encounter: the same
// for its pre-authorisation, enhancements and final claim, as NHCX asks
// (reference §10; TC-PA-02 resubmits with "the same claim identifier").
// The encounter reference is unique in the tenant and stable.
func claimNumber(ev *Evidence) nrces.Identifier {
	return nrces.Identifier{System: claimNumberSystem, Value: ev.EncounterRef}
}

// where names a source at its facility for messages: "CareWare HIS at
// Kaveri Women and Child Hospital".
func where(o Origin) string {
	s := cmp.Or(o.SourceName, o.SourceCode, "the source system")
	if o.FacilityName != "" {
		s += " at " + o.FacilityName
	}
	return s
}

// stayWord is "admission" or "visit".
func stayWord(e Encounter) string {
	if e.Inpatient {
		return "admission"
	}
	return "visit"
}

func bundlePatient(ev *Evidence) nrces.Patient {
	d := ev.Patient
	p := nrces.Patient{
		Name:        d.Name,
		Gender:      genderCode(d.Gender),
		Phone:       d.Mobile,
		ABHANumber:  d.ABHANumber,
		ABHAAddress: d.ABHAAddress,
	}
	switch {
	case !d.BirthDate.IsZero():
		p.BirthDate = d.BirthDate.Format(time.DateOnly)
	case d.BirthYear != 0:
		p.BirthDate = fmt.Sprint(d.BirthYear)
	}
	if mrn := d.MRN(ev.Encounter.FacilityID); mrn != "" {
		p.Identifiers = append(p.Identifiers, nrces.Identifier{Type: idTypeMR, System: mrnSystem,
			Value: ev.Encounter.FacilityHFRID + "/" + mrn})
	}
	return p
}

// genderCode turns the index's M/F/O (or a spelled-out word) into FHIR's.
func genderCode(g string) string {
	switch strings.ToLower(strings.TrimSpace(g)) {
	case "m", "male":
		return "male"
	case "f", "female":
		return "female"
	case "o", "other", "t":
		return "other"
	}
	return "unknown"
}

func bundleProvider(o Origin) nrces.Provider {
	return nrces.Provider{Name: o.FacilityName, HFRID: o.FacilityHFRID}
}

func bundleInsurer(p Payer) nrces.Insurer {
	return nrces.Insurer{Name: p.Name, ParticipantCode: p.Code}
}

// bundleCoverage describes the coverage on file. A PM-JAY beneficiary has
// a member id and no policy of their own; the member id then stands for
// the policy number the profile requires.
func bundleCoverage(c Coverage) nrces.Coverage {
	out := nrces.Coverage{
		PolicyNumber: cmp.Or(c.PolicyNumber, c.MemberID),
		MemberID:     c.MemberID,
		Relationship: string(c.Relationship),
	}
	if c.PlanName != "" {
		out.PlanID, out.PlanName = c.PlanName, c.PlanName
	}
	if !c.ValidFrom.IsZero() {
		out.Start = c.ValidFrom.Format(time.DateOnly)
	}
	if !c.ValidTo.IsZero() {
		out.End = c.ValidTo.Format(time.DateOnly)
	}
	return out
}

func bundleEncounter(e Encounter) *nrces.Encounter {
	return &nrces.Encounter{
		Class: cmp.Or(e.Class, map[bool]string{true: "IMP", false: "AMB"}[e.Inpatient]),
		// The builder knows FHIR's statuses; an admission not yet
		// discharged is in progress.
		Status:               cmp.Or(e.Status, map[bool]string{true: "finished", false: "in-progress"}[!e.End.IsZero()]),
		Start:                e.Start,
		End:                  e.End,
		Type:                 completeConcept(e.Type),
		DischargeDisposition: completeConcept(e.DischargeDisposition),
	}
}

// completeConcept keeps the codings the NHCX profiles accept (system,
// code and display), and the text.
func completeConcept(c nrces.Concept) nrces.Concept {
	out := nrces.Concept{Text: c.Text}
	for _, cd := range c.Codings {
		if cd.System != "" && cd.Code != "" && cd.Display != "" {
			out.Codings = append(out.Codings, cd)
		}
	}
	if out.Text == "" && len(out.Codings) == 0 && len(c.Codings) > 0 {
		out.Text = c.Codings[0].Display
	}
	return out
}

// diagnosisConcept is a diagnosis with a display on every ICD-10 and
// SNOMED CT coding (the source's text stands in for a missing one); ok is
// false when it has neither system.
func diagnosisConcept(d Diagnosis) (nrces.Concept, bool) {
	text := cmp.Or(d.Display, d.Code.Text)
	out := nrces.Concept{Text: text}
	coded := false
	for _, cd := range d.Code.Codings {
		if cd.Code == "" || cd.System == "" {
			continue
		}
		if cd.Display == "" {
			cd.Display = text
		}
		if cd.Display == "" {
			continue
		}
		if cd.System == nrces.SystemICD10 || cd.System == nrces.SystemSNOMED {
			coded = true
		}
		out.Codings = append(out.Codings, cd)
	}
	return out, coded
}

func diagnosisKey(c nrces.Concept) string {
	for _, cd := range c.Codings {
		if cd.System == nrces.SystemICD10 || cd.System == nrces.SystemSNOMED {
			return cd.System + "|" + cd.Code
		}
	}
	return ""
}

// claimDiagnoses lists the diagnoses a claim carries, the billed
// encounter's first (principal first), then those made at other
// encounters and facilities, once each. missing says why the billed
// encounter has none that can be sent.
func claimDiagnoses(ev *Evidence, use nrces.ClaimUse) (out []nrces.Diagnosis, missing string) {
	seen := map[string]bool{}
	billed, billedCoded := 0, 0
	for _, d := range ev.Diagnoses {
		if d.VerificationStatus == "entered-in-error" || d.VerificationStatus == "refuted" {
			continue
		}
		if d.OfBilledEncounter {
			billed++
		}
		code, ok := diagnosisConcept(d)
		if !ok {
			continue
		}
		if d.OfBilledEncounter {
			billedCoded++
		}
		key := diagnosisKey(code)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, nrces.Diagnosis{Code: code, Types: diagnosisTypes(d, use)})
	}
	switch {
	case billed == 0:
		missing = fmt.Sprintf("no diagnosis recorded for this %s in %s", stayWord(ev.Encounter), where(ev.Encounter.Origin))
	case billedCoded == 0:
		missing = fmt.Sprintf("the diagnoses recorded for this %s in %s have no ICD-10 or SNOMED CT code",
			stayWord(ev.Encounter), where(ev.Encounter.Origin))
	}
	return out, missing
}

// diagnosisTypes says what a diagnosis is to the claim: principal,
// admitting or discharge when the source said so; otherwise final for a
// claim's stay and the diagnoses made at earlier encounters, preliminary
// for the stay a pre-authorisation asks about.
func diagnosisTypes(d Diagnosis, use nrces.ClaimUse) []nrces.Coding {
	var ts []nrces.Coding
	if d.Principal {
		ts = append(ts, nrces.DiagnosisTypePrincipal)
	}
	switch d.Role {
	case RoleAdmitting:
		ts = append(ts, nrces.DiagnosisTypeAdmitting)
	case RoleDischarge:
		ts = append(ts, nrces.DiagnosisTypeDischarge)
	}
	if d.OfBilledEncounter && use != nrces.ClaimUseClaim {
		return append(ts, nrces.DiagnosisTypePreliminary)
	}
	return append(ts, nrces.DiagnosisTypeFinal)
}

// claimProcedures lists the procedures done that carry a complete code.
func claimProcedures(ev *Evidence) []nrces.ClaimProcedure {
	var out []nrces.ClaimProcedure
	for _, p := range ev.Procedures {
		if p.Status == "not-done" || p.Status == "entered-in-error" {
			continue
		}
		code := completeConcept(p.Code)
		if len(code.Codings) == 0 {
			continue
		}
		out = append(out, nrces.ClaimProcedure{Code: code, Date: p.Performed})
	}
	return out
}

// careTeam is the billed encounter's practitioners. Sources know them by
// name only, so they are identified by name within their facility.
func careTeam(ev *Evidence) []nrces.CareTeamMember {
	var out []nrces.CareTeamMember
	for i, name := range ev.Encounter.Practitioners {
		if strings.TrimSpace(name) == "" {
			continue
		}
		out = append(out, nrces.CareTeamMember{
			Practitioner: nrces.Practitioner{Name: name, Identifiers: []nrces.Identifier{{
				Type: idTypePRN, System: practitionerSystem, Value: ev.Encounter.FacilityHFRID + "/" + name,
			}}},
			Responsible: i == 0,
		})
	}
	return out
}

// stayBills are the bills of the billed stay, not cancelled: those the
// billing system ties to it (Bill.OfBilledEncounter), and of the bills it
// ties to nothing, those of the stay's facility dated from its start to a
// day after its end (bills are drawn up around discharge). Bills for
// earlier visits in the gathering window are that visit's, and other
// facilities bill their own care.
func stayBills(ev *Evidence, now time.Time) []Bill {
	e := ev.Encounter
	from := dateOnly(e.Start)
	end := e.End
	if end.IsZero() {
		end = now
		if !e.Inpatient {
			end = e.Start
		}
	}
	to := dateOnly(end).Add(48 * time.Hour)
	var out []Bill
	for _, b := range ev.Bills {
		if b.FacilityID != e.FacilityID || b.Status == "cancelled" || b.Status == "entered-in-error" {
			continue
		}
		if b.Encounter != nil {
			if b.OfBilledEncounter {
				out = append(out, b)
			}
			continue
		}
		if b.Date.IsZero() || b.Date.Before(from) || !b.Date.Before(to) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// lineProduct is what a bill line charged for, as a complete coding: the
// product's first complete coding, else the charge code.
func lineProduct(l BillLine) (nrces.Coding, bool) {
	for _, cd := range l.Product.Codings {
		if cd.System != "" && cd.Code != "" {
			cd.Display = cmp.Or(cd.Display, l.Product.Text)
			if cd.Display != "" {
				return cd, true
			}
		}
	}
	if cd := l.ChargeCode; cd.System != "" && cd.Code != "" && cd.Display != "" {
		return cd, true
	}
	return nrces.Coding{}, false
}

// lineAmount is what a line charges, tax included.
func lineAmount(l BillLine) string {
	_, gross := lineTotals([]BillLine{l})
	return gross
}

// claimItems are the stay's bill lines as claim items; problems name
// lines that cannot be sent.
func claimItems(bills []Bill) (items []nrces.ClaimItem, currency string, problems []string) {
	for _, b := range bills {
		currency = cmp.Or(currency, b.Currency)
		for _, l := range b.Lines {
			product, ok := lineProduct(l)
			if !ok {
				problems = append(problems, fmt.Sprintf("line %d of bill %s in %s has no code for what was charged",
					l.Sequence, cmp.Or(b.Number, "(no number)"), where(b.Origin)))
				continue
			}
			it := nrces.ClaimItem{ProductOrService: product, Net: lineAmount(l), Serviced: l.Occurred}
			if l.Quantity.Value != "" {
				q := l.Quantity
				it.Quantity = &q
			}
			if cd := l.ChargeCode; cd.System != "" && cd.Code != "" && cd.Display != "" && cd != product {
				it.Category = &cd
			}
			items = append(items, it)
		}
	}
	return items, cmp.Or(currency, "INR"), problems
}

// estimateItem is one estimated line for the care the claim type names.
func estimateItem(ev *Evidence, amount string) nrces.ClaimItem {
	return nrces.ClaimItem{ProductOrService: claimType(ev.Encounter), Net: amount, Serviced: ev.Encounter.Start}
}

func claimType(e Encounter) nrces.Coding {
	switch {
	case e.Class == "SS":
		return nrces.ClaimTypeDayCare
	case e.Inpatient:
		return nrces.ClaimTypeInpatient
	}
	return nrces.ClaimTypeOutpatient
}

// parseAmount reads a positive amount in rupees: digits with at most two
// decimals, commas allowed ("1,20,000.50").
func parseAmount(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "₹"), "Rs.")
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "eE+-") {
		return "", false
	}
	if _, frac, ok := strings.Cut(s, "."); ok && (len(frac) == 0 || len(frac) > 2) {
		return "", false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return "", false
	}
	return s, true
}

// supportingInfo is the evidence as supporting information: discharge
// summaries, lab and imaging reports and other documents from every
// facility, each document embedded with its facility as custodian. A
// report without a document goes as text, so the payer still learns of it.
func supportingInfo(ev *Evidence) []nrces.SupportingInfo {
	var out []nrces.SupportingInfo
	hds, _ := nrces.SupportingInfoCategory("HDS")
	dcr, _ := nrces.SupportingInfoCode("DCR")
	inv, _ := nrces.SupportingInfoCategory("INV")
	lir, _ := nrces.SupportingInfoCode("LIR")
	rdr, _ := nrces.SupportingInfoCode("RDR")
	cd, _ := nrces.SupportingInfoCategory("CD")
	at, _ := nrces.SupportingInfoCode("AT")
	ipd, _ := nrces.SupportingInfoCode("IPD")
	for _, d := range ev.DischargeSummaries {
		title := cmp.Or(d.Title, "Discharge summary")
		out = append(out, documentInfo(hds, dcr, d.Origin, title, d.Date, nrces.Concept{Codings: []nrces.Coding{dischargeSummaryType}}, d.Attachments)...)
	}
	for _, r := range ev.Reports {
		cat, code, typ := cd, at, nrces.Concept{}
		switch r.Kind {
		case ReportLab:
			cat, code, typ = inv, lir, nrces.Concept{Codings: []nrces.Coding{labReportType}}
		case ReportImaging:
			cat, code, typ = inv, rdr, nrces.Concept{Codings: []nrces.Coding{imagingReportType}}
		}
		title := cmp.Or(r.Title, r.Code.Text, "Report")
		date := cmp.Or(r.Issued, r.Effective)
		infos := documentInfo(cat, code, r.Origin, title, date, typ, r.Attachments)
		if len(infos) == 0 {
			// Nothing to attach: the report's words, with where it is.
			text := title
			if !date.IsZero() {
				text += ", " + date.Format(time.DateOnly)
			}
			if res := resultsText(r); res != "" {
				text += ": " + res
			}
			if r.Conclusion != "" {
				text += ". " + r.Conclusion
			}
			text += " (" + where(r.Origin) + ")"
			infoCode := code
			if r.Kind == ReportLab {
				infoCode = ipd
			}
			infos = []nrces.SupportingInfo{{Category: cat, Code: infoCode, Text: text, Start: date}}
		}
		out = append(out, infos...)
	}
	return out
}

// documentInfo makes one supporting-information entry per attachment
// that carries its data (a link alone cannot be embedded).
func documentInfo(cat, code nrces.Coding, o Origin, title string, date time.Time, typ nrces.Concept, as []Attachment) []nrces.SupportingInfo {
	var out []nrces.SupportingInfo
	for _, a := range as {
		if len(a.Data) == 0 {
			continue
		}
		f := a.File()
		f.Title = cmp.Or(f.Title, title)
		origin := bundleProvider(o)
		out = append(out, nrces.SupportingInfo{Category: cat, Code: code, Start: date, Document: &nrces.ClaimDocument{
			File: f, Type: typ, Description: title + " (" + where(o) + ")", Date: date, Origin: &origin,
		}})
	}
	return out
}

// Readiness says what stops a pre-authorisation or claim for ev's
// encounter under cov with payer, whatever the claim carries (see Draft).
func (w *Workflow) Readiness(ev *Evidence, cov Coverage, payer Payer) []string {
	return readiness(ev, cov, payer, w.now())
}

// readiness says what stops a request for the encounter under cov: the
// coverage not in force on the day of care, the facility not empanelled
// with the payer, a patient the payer cannot identify.
func readiness(ev *Evidence, cov Coverage, payer Payer, now time.Time) []string {
	var out []string
	day := ev.Encounter.Start
	if day.IsZero() {
		day = now
	}
	if !cov.InForce(day) {
		out = append(out, fmt.Sprintf("the %s coverage (%s) is not valid on %s, the day of the %s%s",
			payer.Name, coverageLabel(cov), day.Format("2 Jan 2006"), stayWord(ev.Encounter), validityText(cov.ValidFrom, cov.ValidTo)))
	}
	empanelled := false
	for _, e := range ev.Empanelments {
		if e.PayerCode == payer.Code && e.InForce(day) {
			empanelled = true
		}
	}
	if !empanelled {
		out = append(out, fmt.Sprintf("%s is not empanelled with %s on %s; record the empanelment before claiming",
			ev.Encounter.FacilityName, payer.Name, day.Format("2 Jan 2006")))
	}
	if ev.Patient.Name == "" {
		out = append(out, "the patient has no name in the master index")
	}
	if ev.Patient.ABHANumber == "" && ev.Patient.ABHAAddress == "" && ev.Patient.MRN(ev.Encounter.FacilityID) == "" {
		out = append(out, "the patient has neither an ABHA nor a record number at "+ev.Encounter.FacilityName)
	}
	return out
}

func coverageLabel(c Coverage) string {
	var parts []string
	if c.PolicyNumber != "" {
		parts = append(parts, "policy "+c.PolicyNumber)
	}
	if c.MemberID != "" {
		parts = append(parts, "member "+c.MemberID)
	}
	return strings.Join(parts, ", ")
}

func validityText(from, to time.Time) string {
	switch {
	case !from.IsZero() && !to.IsZero():
		return fmt.Sprintf("; it runs from %s to %s", from.Format("2 Jan 2006"), to.Format("2 Jan 2006"))
	case !from.IsZero():
		return fmt.Sprintf("; it starts on %s", from.Format("2 Jan 2006"))
	case !to.IsZero():
		return fmt.Sprintf("; it ended on %s", to.Format("2 Jan 2006"))
	}
	return ""
}

// ClaimDraft is what a pre-authorisation or claim for an encounter would
// carry, and what stops it, for the page that shows it before sending.
type ClaimDraft struct {
	Diagnoses  []nrces.Diagnosis
	Procedures []nrces.ClaimProcedure
	Items      []nrces.ClaimItem
	// Bills are the stay's bills the items come from.
	Bills    []Bill
	Currency string
	// Total is the items' sum, decimal text.
	Total string
	// Documents counts the documents attached; Notes the reports sent as
	// text.
	Documents, Notes int
	// Missing are reasons it cannot be sent as it is.
	Missing []string
}

// Draft previews the claim of use for ev, without sending. An estimate
// (decimal text) stands in for the bill's lines.
func (w *Workflow) Draft(ev *Evidence, use nrces.ClaimUse, estimate string) ClaimDraft {
	d, _ := w.draft(ev, use, estimate)
	return d
}

// draft is Draft, with the supporting information it counted, so a claim
// request built from it does not assemble that again.
func (w *Workflow) draft(ev *Evidence, use nrces.ClaimUse, estimate string) (ClaimDraft, []nrces.SupportingInfo) {
	var d ClaimDraft
	var missing string
	d.Diagnoses, missing = claimDiagnoses(ev, use)
	if missing != "" {
		d.Missing = append(d.Missing, missing)
	}
	d.Procedures = claimProcedures(ev)
	d.Bills = stayBills(ev, w.now())
	var problems []string
	d.Items, d.Currency, problems = claimItems(d.Bills)
	switch {
	case estimate != "" && use != nrces.ClaimUseClaim:
		amount, ok := parseAmount(estimate)
		if !ok {
			d.Missing = append(d.Missing, fmt.Sprintf("the estimated amount %q is not an amount in rupees such as 85000 or 85000.50", estimate))
			break
		}
		d.Items, problems = []nrces.ClaimItem{estimateItem(ev, amount)}, nil
	case len(d.Bills) == 0 && use == nrces.ClaimUseClaim:
		d.Missing = append(d.Missing, fmt.Sprintf("no bill recorded for this %s at %s; the final claim is made from the hospital's bill",
			stayWord(ev.Encounter), ev.Encounter.FacilityName))
	case len(d.Bills) == 0:
		d.Missing = append(d.Missing, fmt.Sprintf("no bill recorded yet for this %s at %s; give an estimated amount",
			stayWord(ev.Encounter), ev.Encounter.FacilityName))
	case len(d.Items) == 0:
		d.Missing = append(d.Missing, fmt.Sprintf("the bill for this %s at %s has no lines that can be claimed",
			stayWord(ev.Encounter), ev.Encounter.FacilityName))
	}
	d.Missing = append(d.Missing, problems...)
	sum := new(big.Rat)
	for _, it := range d.Items {
		if r, ok := new(big.Rat).SetString(it.Net); ok {
			sum.Add(sum, r)
		}
	}
	d.Total = sum.FloatString(2)
	infos := supportingInfo(ev)
	for _, si := range infos {
		if si.Document != nil {
			d.Documents++
		} else {
			d.Notes++
		}
	}
	return d, infos
}

// claimRequest assembles the claim of use, or says what is missing.
func (w *Workflow) claimRequest(ev *Evidence, cov Coverage, payer Payer, use nrces.ClaimUse, sub Submission) (*nrces.ClaimRequest, []string) {
	d, infos := w.draft(ev, use, sub.Estimate)
	missing := append(readiness(ev, cov, payer, w.now()), d.Missing...)
	req := &nrces.ClaimRequest{
		Use:            use,
		Identifier:     claimNumber(ev),
		Type:           claimType(ev.Encounter),
		Created:        w.now(),
		Patient:        bundlePatient(ev),
		Provider:       bundleProvider(ev.Encounter.Origin),
		Insurer:        bundleInsurer(payer),
		Coverage:       bundleCoverage(cov),
		Encounter:      bundleEncounter(ev.Encounter),
		CareTeam:       careTeam(ev),
		Diagnoses:      d.Diagnoses,
		Procedures:     d.Procedures,
		Items:          d.Items,
		Currency:       d.Currency,
		SupportingInfo: slices.Concat(infos, reasonInfo(sub.Reason)),
	}
	return req, missing
}

// reasonInfo carries an enhancement's reason as additional information:
// what a doctor's treatment-extension letter says, in the desk's words.
func reasonInfo(reason string) []nrces.SupportingInfo {
	if reason == "" {
		return nil
	}
	inf, _ := nrces.SupportingInfoCategory("INF")
	extension, _ := nrces.SupportingInfoCode("DSTEL")
	return []nrces.SupportingInfo{{Category: inf, Code: extension, Text: reason}}
}

// resultsText is a report's results in a line: "Haemoglobin 10.8 g/dL;
// Platelet count 232 10*3/uL".
func resultsText(r Report) string {
	var parts []string
	for _, o := range r.Results {
		name := o.GetCode().GetText().GetValue()
		if name == "" && len(o.GetCode().GetCoding()) > 0 {
			name = o.GetCode().GetCoding()[0].GetDisplay().GetValue()
		}
		v := o.GetValue()
		val := ""
		switch {
		case v.GetQuantity() != nil:
			q := v.GetQuantity()
			val = strings.TrimSpace(q.GetValue().GetValue() + " " + cmp.Or(q.GetUnit().GetValue(), q.GetCode().GetValue()))
		case v.GetStringValue() != nil:
			val = v.GetStringValue().GetValue()
		case v.GetCodeableConcept() != nil:
			val = conceptText(conceptOf(v.GetCodeableConcept()))
		}
		if name != "" && val != "" {
			parts = append(parts, name+" "+val)
		}
	}
	return strings.Join(parts, "; ")
}
