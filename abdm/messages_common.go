package abdm

import (
	"encoding/json"
	"fmt"
)

// ResponseRef ties an asynchronous answer to the request it answers:
// RequestID is the REQUEST-ID header of that request.
type ResponseRef struct {
	RequestID string `json:"requestId"`
}

// Ref is the {"id": ...} object used for patients, consents, consent
// requests, artefacts and the consent manager.
type Ref struct {
	ID string `json:"id"`
}

// Party is an HIP or HIU, identified by its service id.
type Party struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Acknowledgement is the {"status": ...} object of simple on-notify results.
type Acknowledgement struct {
	Status string `json:"status"`
}

// Acknowledgement statuses seen on the wire.
const (
	AckSuccess = "SUCCESS"
	AckErrored = "ERRORED"
	AckFailed  = "FAILED"
	AckOK      = "OK"
)

// HIType is a kind of health information record.
type HIType string

// HIType values (spec enum).
const (
	HITypeDiagnosticReport     HIType = "DiagnosticReport"
	HITypeDischargeSummary     HIType = "DischargeSummary"
	HITypeHealthDocumentRecord HIType = "HealthDocumentRecord"
	HITypeImmunizationRecord   HIType = "ImmunizationRecord"
	HITypeOPConsultation       HIType = "OPConsultation"
	HITypePrescription         HIType = "Prescription"
	HITypeWellnessRecord       HIType = "WellnessRecord"
	HITypeInvoice              HIType = "Invoice"
)

// Gender is the one-letter gender code of the spec: M, F, O, D, T or U.
type Gender string

// The common Gender values.
const (
	GenderMale    Gender = "M"
	GenderFemale  Gender = "F"
	GenderOther   Gender = "O"
	GenderUnknown Gender = "U"
)

// IdentifierType names what an Identifier's value is.
type IdentifierType string

// IdentifierType values (spec enum; "abhaAddress" was also seen in the wild).
const (
	IdentifierMR          IdentifierType = "MR"
	IdentifierMobile      IdentifierType = "MOBILE"
	IdentifierABHANumber  IdentifierType = "ABHA_NUMBER"
	IdentifierABHAAddress IdentifierType = "ABHA_ADDRESS"
	IdentifierEmail       IdentifierType = "EMAIL"
)

// Identifier is a typed patient identifier.
type Identifier struct {
	Type  IdentifierType `json:"type"`
	Value string         `json:"value"`
}

// CareContext is one visit, report or document at the HIP.
type CareContext struct {
	ReferenceNumber string `json:"referenceNumber"`
	Display         string `json:"display,omitempty"`
}

// PatientCareContexts is one element of the patient[] arrays of linking and
// discovery: one patient reference with the care contexts of a single HI
// type. Count must equal len(CareContexts) or the gateway answers ABDM-1037.
//
// The spec names the HI type field "hiTypes" while every client and the
// sandbox use "hiType" (a string); decoding accepts either, encoding writes
// "hiType".
type PatientCareContexts struct {
	ReferenceNumber string        `json:"referenceNumber"`
	Display         string        `json:"display,omitempty"`
	CareContexts    []CareContext `json:"careContexts"`
	HIType          HIType        `json:"hiType"`
	Count           int           `json:"count"`
}

// UnmarshalJSON implements json.Unmarshaler, accepting "hiTypes" as a string.
func (p *PatientCareContexts) UnmarshalJSON(b []byte) error {
	type plain PatientCareContexts
	var v struct {
		plain
		HITypes json.RawMessage `json:"hiTypes"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding patient care contexts: %w", err)
	}
	*p = PatientCareContexts(v.plain)
	if p.HIType == "" && len(v.HITypes) > 0 {
		var s string
		if err := json.Unmarshal(v.HITypes, &s); err != nil {
			return fmt.Errorf("decoding hiTypes: want a string: %w", err)
		}
		p.HIType = HIType(s)
	}
	return nil
}

// NewPatientCareContexts groups care contexts of one HI type for a patient
// reference, with Count filled in.
func NewPatientCareContexts(patientRef, display string, hiType HIType, contexts ...CareContext) PatientCareContexts {
	return PatientCareContexts{
		ReferenceNumber: patientRef,
		Display:         display,
		CareContexts:    contexts,
		HIType:          hiType,
		Count:           len(contexts),
	}
}

// CareContextRef names a care context by patient and care-context reference.
type CareContextRef struct {
	PatientReference     string `json:"patientReference"`
	CareContextReference string `json:"careContextReference"`
}

// DateRange is an inclusive period.
type DateRange struct {
	From Time `json:"from"`
	To   Time `json:"to"`
}
