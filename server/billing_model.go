package server

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/views"
)

// The billing pages' words: what a case's state means for the desk, and
// every NHCX error in plain language with what to do about it.

var stageLabels = map[claims.Stage]string{
	claims.StageCoverageEligibility: "Coverage check",
	claims.StagePreauth:             "Pre-authorisation",
	claims.StagePredetermination:    "Predetermination",
	claims.StageClaim:               "Final claim",
	claims.StagePayment:             "Payment",
}

func stageLabel(s claims.Stage) string {
	if l, ok := stageLabels[s]; ok {
		return l
	}
	return "Not started"
}

// caseClosed reports whether a case needs nothing more: paid, rejected or
// not covered. (A rejected case can still be sent again; it shows among
// the closed ones until it is.)
func caseClosed(c claims.Case) bool {
	switch c.Status {
	case claims.StatusPaid, claims.StatusRejected, claims.StatusNotEligible:
		return true
	}
	return false
}

// caseBadge says where a case is.
func caseBadge(c claims.Case) views.BillingStatus {
	switch c.Status {
	case claims.StatusOpen:
		return views.BillingStatus{Label: "Not sent yet", Class: "wait"}
	case claims.StatusSending:
		return views.BillingStatus{Label: "Sending", Class: "wait", Detail: "Queued for the claims exchange; Sangam retries while it is unreachable."}
	case claims.StatusAwaitingResponse:
		return views.BillingStatus{Label: "Waiting for the payer", Class: "wait",
			Detail: "The claims exchange accepted it " + shortClock(c.UpdatedAt) + "; the payer has not answered yet."}
	case claims.StatusPended:
		return views.BillingStatus{Label: "Under review by the payer", Class: "wait", Detail: "The payer has queued it for a decision."}
	case claims.StatusEligible:
		return views.BillingStatus{Label: "Coverage in force", Class: "ok"}
	case claims.StatusNotEligible:
		return views.BillingStatus{Label: "Not covered", Class: "bad"}
	case claims.StatusApproved:
		if c.Stage == claims.StageClaim {
			return views.BillingStatus{Label: "Claim approved", Class: "ok", Detail: "Waiting for the payment notice."}
		}
		return views.BillingStatus{Label: "Approved", Class: "ok"}
	case claims.StatusPartiallyApproved:
		return views.BillingStatus{Label: "Partially approved", Class: "attention"}
	case claims.StatusRejected:
		return views.BillingStatus{Label: "Rejected", Class: "bad"}
	case claims.StatusNeedsDocuments:
		return views.BillingStatus{Label: "Payer asks for documents", Class: "attention"}
	case claims.StatusPaid:
		return views.BillingStatus{Label: "Paid", Class: "ok"}
	case claims.StatusFailed:
		return views.BillingStatus{Label: "Not delivered", Class: "bad", Detail: "See the error below."}
	}
	return views.BillingStatus{Label: string(c.Status), Class: "wait"}
}

// caseRow describes a case for lists.
func caseRow(c claims.Case, patient, facility, payer string) views.BillingCaseRow {
	r := views.BillingCaseRow{
		URL: billingCaseURL(c.ID), Patient: patient, Facility: facility, Encounter: encounterLabel(c.EncounterRef),
		Payer: payer, Stage: stageLabel(c.Stage), Status: caseBadge(c),
		Requested: money(c.RequestedAmount, c.Currency), Paid: money(c.PaidAmount, c.Currency), Updated: shortClock(c.UpdatedAt),
	}
	r.Status.Detail = ""
	if c.Status != claims.StatusEligible && c.Status != claims.StatusNotEligible {
		r.Approved = money(c.ApprovedAmount, c.Currency)
	}
	return r
}

// encounterLabel shortens an encounter reference for lists:
// "IN2910000587/his:ipd:790002" is "IPD 790002".
func encounterLabel(ref string) string {
	_, reference, err := claims.ParseEncounterRef(ref)
	if err != nil {
		return ref
	}
	parts := strings.Split(reference, ":")
	if len(parts) < 3 {
		return reference
	}
	return strings.ToUpper(parts[1]) + " " + strings.Join(parts[2:], ":")
}

// money writes an amount the Indian way: "₹1,20,000.50".
func money(amount, currency string) string {
	if amount == "" {
		return ""
	}
	r, ok := new(big.Rat).SetString(amount)
	if !ok {
		return amount
	}
	s := r.FloatString(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(whole) > 3 {
		head, tail := whole[:len(whole)-3], whole[len(whole)-3:]
		var groups []string
		for len(head) > 2 {
			groups = append([]string{head[len(head)-2:]}, groups...)
			head = head[:len(head)-2]
		}
		if head != "" {
			groups = append([]string{head}, groups...)
		}
		whole = strings.Join(append(groups, tail), ",")
	}
	out := whole + "." + frac
	if neg {
		out = "-" + out
	}
	if currency == "" || currency == "INR" {
		return "₹" + out
	}
	return currency + " " + out
}

// nhcxError explains an error code in plain language (reference §9).
func nhcxError(code, message string) views.BillingError {
	e := (&hcx.Details{Code: code, Message: message}).Err()
	out := views.BillingError{Code: code, Explanation: e.Explanation, Advice: e.Advice, Detail: message}
	if code == "" && message != "" {
		out.Explanation = "The message could not be delivered: Sangam stopped trying."
		out.Advice = "Check the reason below. If it names a setup problem (a key, a participant code, a certificate), tell your administrator; then send it again."
	}
	return out
}

// caseDecision lists what the payer said about a case.
func caseDecision(d claims.CaseDetail) []views.BillingFact {
	c := d.Case
	var out []views.BillingFact
	add := func(label, value string) {
		if value != "" {
			out = append(out, views.BillingFact{Label: label, Value: value})
		}
	}
	add("Amount asked", money(cmp.Or(c.RequestedAmount, d.Claimed), c.Currency))
	switch c.Status {
	case claims.StatusApproved, claims.StatusPartiallyApproved, claims.StatusPaid, claims.StatusRejected:
		add("Amount approved", money(c.ApprovedAmount, c.Currency))
	}
	add("Pre-authorisation reference", c.PreauthRef)
	note := "Payer's note"
	switch c.Status {
	case claims.StatusRejected, claims.StatusNotEligible:
		note = "Reason"
		add(note, c.PayerNote)
		add("Payer's code", c.ErrorCode)
	case claims.StatusPartiallyApproved:
		add("Reason", c.PayerNote)
	case claims.StatusNeedsDocuments:
		add("Question", c.PayerNote)
	default:
		add(note, c.PayerNote)
	}
	add("Amount paid", money(c.PaidAmount, c.Currency))
	if c.PaidOn != "" {
		add("Paid on", dayText(c.PaidOn))
	}
	add("Bank reference (UTR)", c.UTR)
	return out
}

func dayText(ymd string) string {
	t, err := time.Parse(time.DateOnly, ymd)
	if err != nil {
		return ymd
	}
	return t.Format("2 Jan 2006")
}

// caseErrors explains a case's error: a message that could not be
// delivered, or an NHCX report. A payer's rejection code is its reason,
// not an error.
func caseErrors(d claims.CaseDetail) []views.BillingError {
	c := d.Case
	if c.Status == claims.StatusRejected || c.Status == claims.StatusNotEligible {
		return nil
	}
	if c.ErrorCode == "" && (c.Status != claims.StatusFailed || c.ErrorMessage == "") {
		return nil
	}
	e := nhcxError(c.ErrorCode, c.ErrorMessage)
	// The last request that was not delivered can be sent again.
	for _, m := range slices.Backward(d.Ledger) {
		if m.Direction == claims.Outbound && !strings.Contains(m.Action, "on_") {
			if m.State == claims.StateDeadLettered || c.Status == claims.StatusFailed {
				e.ReplayAction = billingCaseURL(c.ID) + "/messages/" + strconv.FormatInt(m.ID, 10) + "/replay"
			}
			break
		}
	}
	return []views.BillingError{e}
}

var messageLabels = map[string]string{
	hcx.PathCoverageEligibilityCheck:   "Coverage check",
	hcx.PathCoverageEligibilityOnCheck: "Coverage answer",
	hcx.PathPreauthSubmit:              "Pre-authorisation request",
	hcx.PathPreauthOnSubmit:            "Pre-authorisation answer",
	hcx.PathClaimSubmit:                "Final claim",
	hcx.PathClaimOnSubmit:              "Claim answer",
	hcx.PathCommunicationRequest:       "Payer's query",
	hcx.PathCommunicationOnRequest:     "Our answer to the query",
	hcx.PathPaymentNoticeRequest:       "Payment notice",
	hcx.PathPaymentNoticeOnRequest:     "Payment acknowledgement",
	hcx.PathStatus:                     "Status enquiry",
	hcx.PathOnStatus:                   "Status answer",
	hcx.PathError:                      "Delivery failure report from NHCX",
}

var messageStates = map[claims.MessageState]views.BillingStatus{
	claims.StateQueued:       {Label: "Queued", Class: "wait"},
	claims.StateSent:         {Label: "Accepted by NHCX", Class: "ok"},
	claims.StateDeadLettered: {Label: "Not delivered", Class: "bad"},
	claims.StateReceived:     {Label: "Received", Class: "wait"},
	claims.StateProcessed:    {Label: "Read", Class: "ok"},
	claims.StateUnmatched:    {Label: "Not matched", Class: "attention"},
	claims.StateFailed:       {Label: "Could not be read", Class: "bad"},
	claims.StateReplied:      {Label: "Answered", Class: "ok"},
	claims.StateRefused:      {Label: "Refused", Class: "bad"},
}

// ledgerRows lists a case's messages, each error explained.
func ledgerRows(caseID string, ms []claims.Message) []views.BillingLedgerRow {
	out := make([]views.BillingLedgerRow, 0, len(ms))
	for _, m := range ms {
		r := views.BillingLedgerRow{
			When: shortClock(m.CreatedAt), What: labelOr(messageLabels, m.Path), Correlation: m.CorrelationID, Workflow: m.WorkflowID,
			Direction: map[claims.Direction]string{claims.Outbound: "Sent", claims.Inbound: "Received"}[m.Direction],
		}
		if st, ok := messageStates[m.State]; ok {
			r.State = st
		} else {
			r.State = views.BillingStatus{Label: string(m.State), Class: "wait"}
		}
		if m.Outcome != "" && m.Outcome != "recorded" {
			r.What += " — " + strings.ReplaceAll(m.Outcome, "_", " ")
		}
		if m.Attempts > 1 && m.Direction == claims.Outbound {
			r.State.Detail = fmt.Sprintf("after %d attempts", m.Attempts)
		}
		switch {
		case m.ErrorCode != "" || m.State == claims.StateDeadLettered || m.State == claims.StateFailed || m.State == claims.StateRefused:
			e := nhcxError(m.ErrorCode, m.ErrorMessage)
			if m.State == claims.StateDeadLettered && m.Direction == claims.Outbound {
				e.ReplayAction = billingCaseURL(caseID) + "/messages/" + strconv.FormatInt(m.ID, 10) + "/replay"
			}
			r.Error = &e
		case m.State == claims.StateUnmatched:
			r.Error = &views.BillingError{
				Explanation: "Sangam could not tie this message to a request of the case: " + m.ErrorMessage + ".",
				Advice:      "Nothing changed on the case. If the payer expects an answer, tell your administrator and quote the correlation id.",
			}
		}
		out = append(out, r)
	}
	return out
}

// casePolls reports whether the case page should watch for changes: the
// case waits for the payer, or for a payment after an approved claim.
func casePolls(d claims.CaseDetail) bool {
	c := d.Case
	switch c.Status {
	case claims.StatusOpen, claims.StatusSending, claims.StatusAwaitingResponse, claims.StatusPended:
		return true
	case claims.StatusApproved, claims.StatusPartiallyApproved:
		return c.Stage == claims.StageClaim
	case claims.StatusNeedsDocuments:
		for _, r := range d.Requests {
			if r.Kind == claims.PayerQuery && r.Answered() {
				return true
			}
		}
	}
	return false
}

// caseStatusModel is the polled part of the case page.
func caseStatusModel(d claims.CaseDetail, csrf string) views.BillingCaseStatus {
	s := views.BillingCaseStatus{Badge: caseBadge(d.Case), Stage: stageLabel(d.Stage), Decision: caseDecision(d),
		Errors: caseErrors(d), CSRF: csrf}
	if d.Stage == claims.StageNone {
		s.Stage = ""
	}
	if casePolls(d) {
		s.PollURL = billingCaseURL(d.ID) + "/status?seen=" + strconv.FormatInt(d.UpdatedAt.UnixNano(), 10)
	}
	return s
}

// encounterKind is "Admission", "Day care" or "Visit".
func encounterKind(inpatient bool, class string) string {
	switch {
	case class == "SS":
		return "Day care"
	case inpatient:
		return "Admission"
	case class == "EMER":
		return "Emergency visit"
	}
	return "Visit"
}

// stayDates is "6 Oct 2025 – 10 Oct 2025", "6 Oct 2025 (still admitted)"
// or a visit's day.
func stayDates(start, end time.Time, inpatient bool) string {
	if start.IsZero() {
		return ""
	}
	s := start.In(indiaTime).Format("2 Jan 2006")
	switch {
	case !end.IsZero() && !sameDay(start, end):
		return s + " – " + end.In(indiaTime).Format("2 Jan 2006")
	case end.IsZero() && inpatient:
		return s + " (still admitted)"
	}
	return s
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(indiaTime).Format("2 Jan 2006")
}

func validityText(from, to time.Time) string {
	switch {
	case !from.IsZero() && !to.IsZero():
		return dateText(from) + " – " + dateText(to)
	case !from.IsZero():
		return "from " + dateText(from)
	case !to.IsZero():
		return "until " + dateText(to)
	}
	return "no dates recorded"
}

var schemeLabels = map[claims.SchemeKind]string{
	claims.SchemePMJAY: "PM-JAY", claims.SchemeState: "State scheme",
	claims.SchemePrivateInsurer: "Private insurer", claims.SchemeTPA: "TPA",
}

var relationshipLabels = map[claims.Relationship]string{
	claims.RelationshipSelf: "Self (the policy holder)", claims.RelationshipSpouse: "Spouse",
	claims.RelationshipChild: "Child", claims.RelationshipParent: "Parent", claims.RelationshipOther: "Other",
}

var relationshipOrder = []claims.Relationship{claims.RelationshipSelf, claims.RelationshipSpouse,
	claims.RelationshipChild, claims.RelationshipParent, claims.RelationshipOther}

func relationshipChoices(selected string) []views.Choice {
	out := make([]views.Choice, 0, len(relationshipOrder))
	for _, r := range relationshipOrder {
		out = append(out, views.Choice{Value: string(r), Label: relationshipLabels[r], Checked: string(r) == cmp.Or(selected, "self")})
	}
	return out
}

func payerChoices(ps []claims.Payer, selected string) []views.Choice {
	var out []views.Choice
	for _, p := range ps {
		if !p.Active && p.Code != selected {
			continue
		}
		out = append(out, views.Choice{Value: p.Code, Label: p.Name + " (" + labelOr(schemeLabelsText, string(p.SchemeKind)) + ")", Checked: p.Code == selected})
	}
	return out
}

var schemeLabelsText = func() map[string]string {
	m := map[string]string{}
	for k, v := range schemeLabels {
		m[string(k)] = v
	}
	return m
}()

func coverageRow(patientID string, c claims.Coverage, now time.Time) views.BillingCoverageRow {
	return views.BillingCoverageRow{
		Payer: c.PayerName, Scheme: labelOr(schemeLabelsText, string(c.SchemeKind)), Plan: c.PlanName, Policy: c.PolicyNumber,
		Member: c.MemberID, Relationship: relationshipLabels[c.Relationship], Validity: validityText(c.ValidFrom, c.ValidTo),
		InForce: c.InForce(now), UpdatedBy: c.UpdatedBy,
		EditURL: billingPatientURL(patientID) + "?coverage=" + c.ID + "#coverage-form-heading",
	}
}

func coverageFormOf(c claims.Coverage) views.CoverageForm {
	f := views.CoverageForm{ID: c.ID, Payer: c.PayerCode, Plan: c.PlanName, Policy: c.PolicyNumber, Member: c.MemberID,
		Relationship: string(c.Relationship)}
	if !c.ValidFrom.IsZero() {
		f.From = c.ValidFrom.Format(time.DateOnly)
	}
	if !c.ValidTo.IsZero() {
		f.To = c.ValidTo.Format(time.DateOnly)
	}
	return f
}

// coverageChoice labels a coverage for the send form.
func coverageChoice(c claims.Coverage) views.Choice {
	var ids []string
	if c.PolicyNumber != "" {
		ids = append(ids, "policy "+c.PolicyNumber)
	}
	if c.MemberID != "" {
		ids = append(ids, "member "+c.MemberID)
	}
	label := c.PayerName
	if c.PlanName != "" {
		label += " — " + c.PlanName
	}
	return views.Choice{Value: c.ID, Label: label + " (" + strings.Join(ids, ", ") + ")"}
}

// evidenceGroups sorts the evidence by facility and source system, the
// billed stay's facility first.
func evidenceGroups(ev *claims.Evidence) []views.BillingEvidenceGroup {
	type key struct{ facility, source string }
	rows := map[key][]views.BillingEvidenceRow{}
	kinds := map[key]string{}
	names := map[string]string{}
	add := func(o claims.Origin, r views.BillingEvidenceRow) {
		k := key{o.FacilityHFRID, cmp.Or(o.SourceName, o.SourceCode)}
		rows[k] = append(rows[k], r)
		kinds[k] = o.SourceKind
		names[o.FacilityHFRID] = o.FacilityName
	}
	for _, e := range append([]claims.Encounter{ev.Encounter}, ev.Related...) {
		text := cmp.Or(e.Display, e.Type.Text)
		if e.Reason.Text != "" {
			text += " — " + e.Reason.Text
		}
		if e.Origin.Reference == ev.Encounter.Origin.Reference && e.FacilityHFRID == ev.Encounter.FacilityHFRID {
			text += " (the stay claimed for)"
		}
		add(e.Origin, views.BillingEvidenceRow{Kind: encounterKind(e.Inpatient, e.Class), Text: text, Date: stayDates(e.Start, e.End, e.Inpatient)})
	}
	for _, d := range ev.Diagnoses {
		add(d.Origin, views.BillingEvidenceRow{Kind: "Diagnosis", Text: diagnosisText(d), Date: dateText(cmp.Or(d.Recorded, d.Onset))})
	}
	for _, p := range ev.Procedures {
		add(p.Origin, views.BillingEvidenceRow{Kind: "Procedure", Text: conceptLine(p.Code.Text, p.Code.Codings), Date: dateText(p.Performed)})
	}
	for _, r := range ev.Reports {
		kind := map[claims.ReportKind]string{claims.ReportLab: "Lab report", claims.ReportImaging: "Imaging"}[r.Kind]
		text := cmp.Or(r.Title, r.Code.Text)
		if r.Conclusion != "" {
			text += ": " + r.Conclusion
		}
		add(r.Origin, views.BillingEvidenceRow{Kind: cmp.Or(kind, "Document"), Text: text, Date: dateText(cmp.Or(r.Issued, r.Effective)),
			Document: attachmentText(r.Attachments)})
	}
	for _, d := range ev.DischargeSummaries {
		add(d.Origin, views.BillingEvidenceRow{Kind: "Discharge summary", Text: cmp.Or(d.Title, "Discharge summary"), Date: dateText(d.Date),
			Document: attachmentText(d.Attachments)})
	}
	for _, b := range ev.Bills {
		add(b.Origin, views.BillingEvidenceRow{Kind: "Bill", Text: fmt.Sprintf("%s, %d lines, %s", cmp.Or(b.Number, "Bill"), len(b.Lines), money(b.TotalGross, b.Currency)),
			Date: dateText(b.Date)})
	}
	var facilities []string
	for f := range names {
		facilities = append(facilities, f)
	}
	slices.SortFunc(facilities, func(a, b string) int {
		return cmp.Or(-boolCmp(a == ev.Encounter.FacilityHFRID, b == ev.Encounter.FacilityHFRID), cmp.Compare(names[a], names[b]))
	})
	var out []views.BillingEvidenceGroup
	for _, f := range facilities {
		g := views.BillingEvidenceGroup{Facility: names[f], HFRID: f}
		var sources []string
		for k := range rows {
			if k.facility == f {
				sources = append(sources, k.source)
			}
		}
		slices.Sort(sources)
		for _, s := range sources {
			k := key{f, s}
			g.Sources = append(g.Sources, views.BillingEvidenceSource{Name: s, Kind: kinds[k], Rows: rows[k]})
		}
		out = append(out, g)
	}
	return out
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func diagnosisText(d claims.Diagnosis) string {
	s := conceptLine(cmp.Or(d.Display, d.Code.Text), d.Code.Codings)
	if d.Principal {
		s += " (principal)"
	}
	return s
}

// conceptLine is "O32.1 Maternal care for breech presentation": the
// ICD-10 or SNOMED CT code with the text.
func conceptLine(text string, codings []nrces.Coding) string {
	code := ""
	for _, c := range codings {
		if c.System == nrces.SystemICD10 {
			code = c.Code
			break
		}
		if code == "" && c.System == nrces.SystemSNOMED {
			code = "SNOMED " + c.Code
		}
	}
	if text == "" && len(codings) > 0 {
		text = codings[0].Display
	}
	return strings.TrimSpace(code + " " + text)
}

func attachmentText(as []claims.Attachment) string {
	for _, a := range as {
		if len(a.Data) > 0 {
			kind := map[string]string{"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[a.ContentType]
			return cmp.Or(kind, a.ContentType, "File") + ", " + sizeText(len(a.Data))
		}
		if a.URL != "" {
			return "Link only (cannot be attached)"
		}
	}
	return ""
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// draftModel describes what a claim would carry.
func draftModel(d claims.ClaimDraft) views.BillingDraft {
	v := views.BillingDraft{Total: money(d.Total, d.Currency), Documents: d.Documents, Notes: d.Notes}
	for _, m := range d.Missing {
		v.Missing = append(v.Missing, sentence(m))
	}
	for _, dx := range d.Diagnoses {
		v.Diagnoses = append(v.Diagnoses, conceptLine(dx.Code.Text, dx.Code.Codings))
	}
	for _, p := range d.Procedures {
		v.Procedures = append(v.Procedures, conceptLine(p.Code.Text, p.Code.Codings))
	}
	for _, it := range d.Items {
		row := views.BillItemRow{Text: it.ProductOrService.Display, Code: it.ProductOrService.Code, Amount: money(it.Net, d.Currency),
			Date: dateText(it.Serviced)}
		if it.Quantity != nil {
			row.Quantity = strings.TrimSpace(it.Quantity.Value + " " + it.Quantity.Unit)
		}
		v.Items = append(v.Items, row)
	}
	return v
}
