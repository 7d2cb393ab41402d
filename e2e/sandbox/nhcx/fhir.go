package nhcx

import (
	"encoding/json"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The payer's FHIR: just enough of the NRCeS NHCX profiles (ABDM IG
// 6.5.0, reference §10) for a provider to read an answer the way it would
// read a real payer's. Every value is invented.

const (
	sdBase          = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"
	csAdjudication  = "http://terminology.hl7.org/CodeSystem/adjudication"
	csAdjError      = "http://terminology.hl7.org/CodeSystem/adjudication-error"
	csFinancialTask = "http://hl7.org/fhir/CodeSystem/financialtaskcode"
	csTaskInputType = "http://hl7.org/fhir/financialtaskinputtype"
	csNDHMTaskCodes = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-task-codes"
	csPaymentStatus = "http://terminology.hl7.org/CodeSystem/paymentstatus"
	csPaymentType   = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-payment-type"
)

// claimInfo is what the payer reads from a request.
type claimInfo struct {
	// id is the Claim's (or eligibility request's) first identifier value,
	// else its resource id.
	id       string
	use      string
	purpose  []string
	amount   *big.Rat // total claimed; nil when the claim does not say
	currency string
}

// readRequest reads the Claim or CoverageEligibilityRequest in a bundle.
func readRequest(payload []byte) claimInfo {
	var top struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	info := claimInfo{currency: "INR"}
	if json.Unmarshal(payload, &top) != nil {
		return info
	}
	res := []json.RawMessage{payload}
	for _, e := range top.Entry {
		res = append(res, e.Resource)
	}
	for _, raw := range res {
		var r struct {
			ResourceType string   `json:"resourceType"`
			ID           string   `json:"id"`
			Use          string   `json:"use"`
			Purpose      []string `json:"purpose"`
			Identifier   []struct {
				Value string `json:"value"`
			} `json:"identifier"`
			Total *fhirMoney `json:"total"`
			Item  []struct {
				Net *fhirMoney `json:"net"`
			} `json:"item"`
		}
		if json.Unmarshal(raw, &r) != nil || (r.ResourceType != "Claim" && r.ResourceType != "CoverageEligibilityRequest") {
			continue
		}
		info.id, info.use, info.purpose = r.ID, r.Use, r.Purpose
		for _, id := range r.Identifier {
			if id.Value != "" {
				info.id = id.Value
				break
			}
		}
		if r.Total != nil && r.Total.amount() != nil {
			info.amount, info.currency = r.Total.amount(), or(r.Total.Currency, "INR")
		} else {
			sum := new(big.Rat)
			n := 0
			for _, it := range r.Item {
				if it.Net != nil && it.Net.amount() != nil {
					sum.Add(sum, it.Net.amount())
					info.currency = or(it.Net.Currency, info.currency)
					n++
				}
			}
			if n > 0 {
				info.amount = sum
			}
		}
		return info
	}
	return info
}

type fhirMoney struct {
	Value    json.Number `json:"value"`
	Currency string      `json:"currency"`
}

func (m fhirMoney) amount() *big.Rat {
	r, ok := new(big.Rat).SetString(m.Value.String())
	if !ok {
		return nil
	}
	return r
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func money(r *big.Rat, currency string) map[string]any {
	return map[string]any{"value": json.Number(r.FloatString(2)), "currency": currency}
}

func concept(system, code, display string) map[string]any {
	return map[string]any{"coding": []map[string]string{{"system": system, "code": code, "display": display}}}
}

func withID(typ, profile string, fields map[string]any) map[string]any {
	fields["resourceType"] = typ
	fields["id"] = uuid.NewString()
	fields["meta"] = map[string]any{"profile": []string{sdBase + profile}}
	return fields
}

// bundle wraps resources in a collection bundle, as NRCeS profiles want.
func bundle(profile string, now time.Time, resources ...map[string]any) []byte {
	entries := make([]map[string]any, 0, len(resources))
	for _, r := range resources {
		entries = append(entries, map[string]any{"fullUrl": "urn:uuid:" + r["id"].(string), "resource": r})
	}
	b, _ := json.Marshal(map[string]any{
		"resourceType": "Bundle",
		"id":           uuid.NewString(),
		"meta":         map[string]any{"profile": []string{sdBase + profile}},
		"identifier":   map[string]string{"value": uuid.NewString()},
		"type":         "collection",
		"timestamp":    now.In(ist).Format("2006-01-02T15:04:05.000-07:00"),
		"entry":        entries,
	})
	return b
}

func ref(r map[string]any) map[string]string {
	return map[string]string{"reference": "urn:uuid:" + r["id"].(string)}
}

func fhirTime(t time.Time) string { return t.In(ist).Format("2006-01-02T15:04:05-07:00") }

// eligibilityResponse answers a coverage eligibility check.
func eligibilityResponse(info claimInfo, inforce bool, reason, code string, now time.Time) []byte {
	purpose := info.purpose
	if len(purpose) == 0 {
		purpose = []string{"validation"}
	}
	r := withID("CoverageEligibilityResponse", "CoverageEligibilityResponse", map[string]any{
		"status": "active", "purpose": purpose, "created": fhirTime(now), "outcome": "complete",
		"request":     map[string]any{"identifier": map[string]string{"value": info.id}},
		"insurer":     map[string]string{"display": "Sandbox payer"},
		"patient":     map[string]string{"display": "Patient"},
		"disposition": or(reason, map[bool]string{true: "Policy is in force.", false: "Policy is not in force."}[inforce]),
		"insurance":   []map[string]any{{"coverage": map[string]string{"display": "Coverage"}, "inforce": inforce}},
	})
	if !inforce && code != "" {
		r["error"] = []map[string]any{{"code": concept(csAdjError, code, reason)}}
	}
	return bundle("CoverageEligibilityResponseBundle", now, r)
}

// claimResponse answers a preauth, predetermination or claim. approved nil
// with a known claimed amount means the full amount.
func claimResponse(info claimInfo, outcome string, approved *big.Rat, reason, code string, now time.Time) []byte {
	fields := map[string]any{
		"status": "active", "use": or(info.use, "claim"), "created": fhirTime(now), "outcome": "complete",
		"type":      concept("http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"),
		"request":   map[string]any{"identifier": map[string]string{"value": info.id}},
		"insurer":   map[string]string{"display": "Sandbox payer"},
		"patient":   map[string]string{"display": "Patient"},
		"requestor": map[string]string{"display": "Provider"},
	}
	var totals []map[string]any
	if info.amount != nil {
		totals = append(totals, map[string]any{"category": concept(csAdjudication, "submitted", "Submitted Amount"),
			"amount": money(info.amount, info.currency)})
	}
	switch outcome {
	case OutcomeReject:
		approved = new(big.Rat)
		fields["disposition"] = or(reason, "Claim rejected.")
		fields["error"] = []map[string]any{{"code": concept(csAdjError, or(code, "a001"), or(reason, "Claim rejected."))}}
	case OutcomePartial:
		fields["disposition"] = or(reason, "Partially approved.")
		if info.amount == nil {
			fields["outcome"] = "partial"
		}
	default:
		fields["disposition"] = or(reason, "Approved.")
		if approved == nil {
			approved = info.amount
		}
	}
	if approved != nil {
		totals = append(totals, map[string]any{"category": concept(csAdjudication, "benefit", "Benefit Amount"),
			"amount": money(approved, info.currency)})
	}
	if len(totals) > 0 {
		fields["total"] = totals
	}
	if outcome != OutcomeReject && (info.use == "preauthorization" || info.use == "predetermination") {
		fields["preAuthRef"] = "SBX-PA-" + strings.ToUpper(uuid.NewString()[:8])
	}
	return bundle("ClaimResponseBundle", now, withID("ClaimResponse", "ClaimResponse", fields))
}

// communicationRequest asks the provider for more documents about info's
// claim.
func communicationRequest(info claimInfo, question string, now time.Time) []byte {
	cr := withID("CommunicationRequest", "CommunicationRequest", map[string]any{
		"identifier": []map[string]string{{"value": strings.ToUpper(uuid.NewString()[:12])}},
		"basedOn":    []map[string]any{{"identifier": map[string]string{"value": info.id}}},
		"status":     "active", "priority": "routine", "authoredOn": fhirTime(now),
		"category": []map[string]any{concept("http://terminology.hl7.org/CodeSystem/communication-category", "alert", "Alert")},
		"payload":  []map[string]string{{"contentString": question}},
	})
	task := withID("Task", "Task", map[string]any{
		"status": "requested", "intent": "order", "authoredOn": fhirTime(now), "description": question,
		"code":  concept(csFinancialTask, "poll", "Poll"),
		"input": []map[string]any{{"type": concept(csTaskInputType, "include", "Include"), "valueReference": ref(cr)}},
	})
	return bundle("TaskBundle", now, task, cr)
}

// paymentNotice tells the provider a payment was made for info's claim.
func paymentNotice(info claimInfo, amount *big.Rat, currency, utr, date string, now time.Time) []byte {
	rec := withID("PaymentReconciliation", "PaymentReconciliation", map[string]any{
		"status": "active", "created": fhirTime(now), "outcome": "complete", "disposition": "Claim settlement.",
		"paymentIssuer":     map[string]string{"display": "Sandbox payer"},
		"paymentDate":       date,
		"paymentAmount":     money(amount, currency),
		"paymentIdentifier": map[string]string{"value": utr},
		"detail": []map[string]any{{
			"identifier": map[string]string{"value": info.id},
			"type":       concept(csPaymentType, "approvedAmount", "Approved Amount"),
			"amount":     money(amount, currency),
		}},
	})
	pn := withID("PaymentNotice", "PaymentNotice", map[string]any{
		"identifier": []map[string]string{{"value": strings.ToUpper(uuid.NewString()[:10])}},
		"status":     "active", "created": fhirTime(now),
		"request":       map[string]any{"identifier": map[string]string{"value": info.id}},
		"payment":       ref(rec),
		"paymentDate":   date,
		"recipient":     map[string]string{"display": "Provider"},
		"amount":        money(amount, currency),
		"paymentStatus": concept(csPaymentStatus, "paid", "Paid"),
	})
	task := withID("Task", "Task", map[string]any{
		"status": "requested", "intent": "order", "authoredOn": fhirTime(now), "description": "Payment notice",
		"code":  concept(csNDHMTaskCodes, "deliver", "Deliver"),
		"input": []map[string]any{{"type": concept(csTaskInputType, "status", "Status"), "valueReference": ref(pn)}},
	})
	return bundle("TaskBundle", now, task, pn, rec)
}

// statusResponse answers /v1/status with the protocol status of the
// cycle asked about.
func statusResponse(status string, now time.Time) []byte {
	task := withID("Task", "Task", map[string]any{
		"status": "completed", "intent": "order", "authoredOn": fhirTime(now),
		"code":   concept(csFinancialTask, "status", "Status check"),
		"output": []map[string]any{{"type": map[string]string{"text": "status"}, "valueCode": status}},
	})
	return bundle("TaskBundle", now, task)
}
