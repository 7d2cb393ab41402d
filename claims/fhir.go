package claims

import (
	"bytes"
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
)

// This file reads the few fields of payers' FHIR answers that the case
// status needs (NRCeS ABDM IG 6.5.0, reference §10). It is deliberately
// lenient: a payer whose bundle is not what the profile says still gets
// its answer recorded, only with less detail. Nothing read here is
// logged.

// reading is what one inbound message says about its case. Empty fields
// leave the case as it is.
type reading struct {
	status    CaseStatus
	stage     Stage
	outcome   string // for the ledger row
	currency  string
	requested *big.Rat
	approved  *big.Rat
	paid      *big.Rat
	// preauthRef, utr, paidOn (YYYY-MM-DD) and note are the payer's words.
	preauthRef   string
	utr          string
	paidOn       string
	note         string
	errorCode    string
	errorMessage string
	// unread explains why the payload said nothing usable.
	unread string
}

type fhirResource struct {
	Type string
	Raw  json.RawMessage
}

// resources returns the resources of a payload: a Bundle's entries (the
// Bundle first), or the payload itself when it is one resource.
func resources(payload []byte) []fhirResource {
	var top struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil
	}
	out := []fhirResource{{Type: top.ResourceType, Raw: payload}}
	for _, e := range top.Entry {
		var r struct {
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal(e.Resource, &r) == nil && r.ResourceType != "" {
			out = append(out, fhirResource{Type: r.ResourceType, Raw: e.Resource})
		}
	}
	return out
}

// first decodes the first resource of type typ into v and reports
// whether there was one that decoded.
func first(rs []fhirResource, typ string, v any) bool {
	for _, r := range rs {
		if r.Type == typ && json.Unmarshal(r.Raw, v) == nil {
			return true
		}
	}
	return false
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type codeableConcept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

func (c codeableConcept) code() string {
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.Code
		}
	}
	return ""
}

func (c codeableConcept) text() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	return c.code()
}

// money reads Money.value whether it is a JSON number or a numeric
// string.
type money struct {
	Value    json.RawMessage `json:"value"`
	Currency string          `json:"currency"`
}

func (m money) amount() *big.Rat {
	v := strings.Trim(string(bytes.TrimSpace(m.Value)), `"`)
	if v == "" || v == "null" {
		return nil
	}
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		return nil
	}
	return r
}

type fhirError struct {
	Code codeableConcept `json:"code"`
}

func firstError(errs []fhirError) (code, message string) {
	for _, e := range errs {
		if c := e.Code.code(); c != "" {
			return c, e.Code.text()
		}
	}
	return "", ""
}

// readClaimResponse reads a ClaimResponse (preauth, predetermination or
// claim answer): outcome, totals, pre-authorisation reference.
func readClaimResponse(payload []byte, stage Stage) reading {
	var cr struct {
		Outcome     string `json:"outcome"`
		Disposition string `json:"disposition"`
		PreAuthRef  string `json:"preAuthRef"`
		Total       []struct {
			Category codeableConcept `json:"category"`
			Amount   money           `json:"amount"`
		} `json:"total"`
		Payment *struct {
			Amount money `json:"amount"`
		} `json:"payment"`
		Error       []fhirError `json:"error"`
		ProcessNote []struct {
			Text string `json:"text"`
		} `json:"processNote"`
	}
	if !first(resources(payload), "ClaimResponse", &cr) {
		return reading{stage: stage, outcome: "recorded", unread: "no readable ClaimResponse in the payload"}
	}
	r := reading{stage: stage, preauthRef: cr.PreAuthRef, note: cr.Disposition}
	if r.note == "" && len(cr.ProcessNote) > 0 {
		r.note = cr.ProcessNote[0].Text
	}
	r.errorCode, r.errorMessage = firstError(cr.Error)
	totals := map[string]money{}
	for _, t := range cr.Total {
		if c := t.Category.code(); c != "" {
			if _, seen := totals[c]; !seen {
				totals[c] = t.Amount
			}
		}
	}
	if m, ok := totals["submitted"]; ok {
		r.requested, r.currency = m.amount(), m.Currency
	}
	// FHIR names the payable amount "benefit"; NRCeS examples carry it as
	// "eligpercent" with an amount, so that is read last.
	for _, c := range []string{"benefit", "eligible", "approved", "eligpercent"} {
		if m, ok := totals[c]; ok && m.amount() != nil {
			r.approved = m.amount()
			if r.currency == "" {
				r.currency = m.Currency
			}
			break
		}
	}
	if r.approved == nil && cr.Payment != nil {
		r.approved = cr.Payment.Amount.amount()
	}
	switch strings.ToLower(cr.Outcome) {
	case "queued":
		r.status = StatusPended
	case "error":
		r.status = StatusRejected
	case "partial":
		r.status = StatusPartiallyApproved
	default:
		switch {
		case r.approved != nil && r.approved.Sign() == 0 && (r.requested == nil || r.requested.Sign() > 0):
			r.status = StatusRejected
		case r.approved != nil && r.requested != nil && r.approved.Cmp(r.requested) < 0:
			r.status = StatusPartiallyApproved
		default:
			r.status = StatusApproved
		}
	}
	r.outcome = string(r.status)
	return r
}

// readEligibility reads a CoverageEligibilityResponse: the coverage is in
// force unless the outcome is an error or an insurance entry says
// inforce false.
func readEligibility(payload []byte) reading {
	var cer struct {
		Outcome     string `json:"outcome"`
		Disposition string `json:"disposition"`
		Insurance   []struct {
			Inforce *bool `json:"inforce"`
		} `json:"insurance"`
		Error []fhirError `json:"error"`
	}
	if !first(resources(payload), "CoverageEligibilityResponse", &cer) {
		return reading{stage: StageCoverageEligibility, outcome: "recorded", unread: "no readable CoverageEligibilityResponse in the payload"}
	}
	r := reading{stage: StageCoverageEligibility, status: StatusEligible, note: cer.Disposition}
	r.errorCode, r.errorMessage = firstError(cer.Error)
	switch strings.ToLower(cer.Outcome) {
	case "queued":
		r.status = StatusPended
	case "error":
		r.status = StatusNotEligible
	}
	for _, in := range cer.Insurance {
		if in.Inforce != nil && !*in.Inforce {
			r.status = StatusNotEligible
		}
	}
	r.outcome = string(r.status)
	return r
}

// readCommunicationRequest reads a payer's request for more information:
// the question is in CommunicationRequest.payload, or in the Task's
// description.
func readCommunicationRequest(payload []byte) reading {
	rs := resources(payload)
	r := reading{status: StatusNeedsDocuments, outcome: string(StatusNeedsDocuments)}
	var cr struct {
		Payload []struct {
			ContentString string `json:"contentString"`
		} `json:"payload"`
		ReasonCode []codeableConcept `json:"reasonCode"`
	}
	if first(rs, "CommunicationRequest", &cr) {
		var parts []string
		for _, p := range cr.Payload {
			if s := strings.TrimSpace(p.ContentString); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			for _, rc := range cr.ReasonCode {
				if t := rc.text(); t != "" {
					parts = append(parts, t)
				}
			}
		}
		r.note = strings.Join(parts, "\n")
	}
	if r.note == "" {
		var task struct {
			Description string `json:"description"`
		}
		if first(rs, "Task", &task) {
			r.note = task.Description
		}
	}
	if r.note == "" {
		r.unread = "the payer asked for more information without saying what"
	}
	return r
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

// readPaymentNotice reads a payment notice: amount and date from the
// PaymentNotice, the bank reference (UTR) from the PaymentReconciliation's
// paymentIdentifier.
func readPaymentNotice(payload []byte) reading {
	rs := resources(payload)
	var pn struct {
		Amount        money           `json:"amount"`
		PaymentDate   string          `json:"paymentDate"`
		PaymentStatus codeableConcept `json:"paymentStatus"`
	}
	var rec struct {
		PaymentIdentifier struct {
			Value string `json:"value"`
		} `json:"paymentIdentifier"`
		PaymentAmount money  `json:"paymentAmount"`
		PaymentDate   string `json:"paymentDate"`
		Disposition   string `json:"disposition"`
	}
	hasNotice := first(rs, "PaymentNotice", &pn)
	hasRec := first(rs, "PaymentReconciliation", &rec)
	if !hasNotice && !hasRec {
		return reading{stage: StagePayment, outcome: "recorded", unread: "no readable PaymentNotice in the payload"}
	}
	r := reading{stage: StagePayment, status: StatusPaid, outcome: string(StatusPaid),
		utr: strings.TrimSpace(rec.PaymentIdentifier.Value), note: rec.Disposition}
	r.paid, r.currency = pn.Amount.amount(), pn.Amount.Currency
	if r.paid == nil {
		r.paid, r.currency = rec.PaymentAmount.amount(), rec.PaymentAmount.Currency
	}
	for _, d := range []string{pn.PaymentDate, rec.PaymentDate} {
		if m := isoDate.FindString(d); m != "" {
			r.paidOn = m
			break
		}
	}
	return r
}

// amountText writes an amount for a numeric(14,2) column.
func amountText(r *big.Rat) *string {
	if r == nil {
		return nil
	}
	s := r.FloatString(2)
	return &s
}
