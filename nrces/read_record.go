package nrces

import (
	"encoding/json"
	"time"
)

// Record is one received FHIR document (normally an NRCeS DocumentBundle),
// normalised into plain values. Nothing in the input is dropped: resources
// that could not be read at all appear as KindDocument entries that carry
// the raw JSON as an attachment, and every repair or doubt is a Problem.
type Record struct {
	// RecordType is the ABDM HI type: OPConsultation, Prescription,
	// DischargeSummary, DiagnosticReport, ImmunizationRecord,
	// HealthDocumentRecord, WellnessRecord or Invoice; empty when it could
	// not be told.
	RecordType string `json:"record_type"`
	// RecordTypeFrom says what RecordType was read from: "profile",
	// "snomed", "loinc", "text" (type text, display or title) or "content"
	// (no Composition; guessed from the resources).
	RecordTypeFrom string     `json:"record_type_from,omitempty"`
	Title          string     `json:"title,omitempty"`
	Date           time.Time  `json:"date,omitzero"`
	BundleID       string     `json:"bundle_id,omitempty"`
	BundleType     string     `json:"bundle_type,omitempty"`
	Identifier     string     `json:"identifier,omitempty"` // Bundle.identifier as system|value
	Patient        Subject    `json:"patient"`
	Authors        []Party    `json:"authors,omitempty"`
	Organisation   *Party     `json:"organisation,omitempty"`
	Entries        []Entry    `json:"entries"`
	Problems       []Problem  `json:"problems"`
	Provenance     Provenance `json:"provenance"`
}

// Provenance says where a record came from. The reader does not invent any
// of it: the HIU flow passes in what the consent and data push said.
type Provenance struct {
	HIP         string    `json:"hip_id,omitempty"`
	CareContext string    `json:"care_context,omitempty"`
	Consent     string    `json:"consent_id,omitempty"`
	ReceivedAt  time.Time `json:"received_at,omitzero"`
}

// Subject is the patient the document is about.
type Subject struct {
	Name       string     `json:"name,omitempty"`
	Gender     string     `json:"gender,omitempty"`
	BirthDate  string     `json:"birth_date,omitempty"`
	Identities []Identity `json:"identities,omitempty"`
	// Reference is the Composition's subject reference as sent.
	Reference string `json:"reference,omitempty"`
}

// Party is a practitioner or organisation named in the document.
type Party struct {
	Role       string     `json:"role"`     // author, custodian, attester
	Resource   string     `json:"resource"` // Practitioner, Organization, PractitionerRole, … or "" when only a display name was sent
	Name       string     `json:"name,omitempty"`
	Identities []Identity `json:"identities,omitempty"`
}

// Identity is one identifier of a patient, practitioner or organisation,
// classified so callers need not know every registry's URI spelling.
type Identity struct {
	// Kind is one of abha_number, abha_address, aadhaar, mrn, hpr (health
	// professional registry), hfr (health facility registry), registration
	// (medical council number) or other.
	Kind   string `json:"kind"`
	System string `json:"system,omitempty"`
	// Value is as sent, except that Aadhaar numbers are masked to their last
	// four digits: a record store must not hold them.
	Value string `json:"value"`
}

// EntryKind is what an entry holds.
type EntryKind string

// Entry kinds. Resources without a kind of their own (CarePlan, Appointment,
// ServiceRequest, Specimen, FamilyMemberHistory, …) are KindOther, with
// Resource naming the FHIR type, so nothing goes missing.
const (
	KindEncounter    EntryKind = "encounter"
	KindCondition    EntryKind = "condition"
	KindObservation  EntryKind = "observation"
	KindReport       EntryKind = "diagnostic_report"
	KindMedication   EntryKind = "medication"
	KindImmunization EntryKind = "immunization"
	KindProcedure    EntryKind = "procedure"
	KindAllergy      EntryKind = "allergy"
	KindDocument     EntryKind = "document"
	KindImaging      EntryKind = "imaging"
	KindOther        EntryKind = "other"
)

// Entry is one clinical item of a record. Common fields are filled for
// every kind; the kind's own detail is in the matching pointer field.
type Entry struct {
	Kind     EntryKind `json:"kind"`
	Resource string    `json:"resource"` // FHIR resource type as sent
	ID       string    `json:"id,omitempty"`
	FullURL  string    `json:"full_url,omitempty"`
	Path     string    `json:"path"`              // where in the bundle: Bundle.entry[3].resource
	Section  string    `json:"section,omitempty"` // title of the Composition section that lists it
	Text     string    `json:"text"`              // display name: code text, title or description
	Codes    []Coded   `json:"codes,omitempty"`
	Status   string    `json:"status,omitempty"`
	// Time is when it happened or was recorded (effective, onset,
	// occurrence, period start, …); EndTime closes a period. TimeText is
	// the value as sent, which keeps partial dates ("2019-12") and
	// free-text times ("last week") readable.
	Time     time.Time `json:"time,omitzero"`
	EndTime  time.Time `json:"end_time,omitzero"`
	TimeText string    `json:"time_text,omitempty"`
	Notes    []string  `json:"notes,omitempty"`

	Attachments []Attachment `json:"attachments,omitempty"`

	Encounter    *EncounterDetail    `json:"encounter,omitempty"`
	Condition    *ConditionDetail    `json:"condition,omitempty"`
	Observation  *ObservationDetail  `json:"observation,omitempty"`
	Report       *ReportDetail       `json:"report,omitempty"`
	Medication   *MedicationDetail   `json:"medication,omitempty"`
	Immunization *ImmunizationDetail `json:"immunization,omitempty"`
	Allergy      *AllergyDetail      `json:"allergy,omitempty"`
	Imaging      *ImagingDetail      `json:"imaging,omitempty"`
	// Unreadable is set on the KindDocument entry that stands in for a
	// resource (or a whole bundle) that could not be read; the raw JSON is
	// its attachment.
	Unreadable bool `json:"unreadable,omitempty"`

	Provenance Provenance `json:"provenance"`
}

// Coded is one coding. System is normalised (https://projecteka.in/sct →
// http://snomed.info/sct and the like); Problems say when it was changed.
type Coded struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Measure is a FHIR Quantity. Value keeps the decimal exactly as sent.
type Measure struct {
	Value      json.Number `json:"value,omitempty"`
	Comparator string      `json:"comparator,omitempty"`
	Unit       string      `json:"unit,omitempty"`
	System     string      `json:"system,omitempty"`
	Code       string      `json:"code,omitempty"`
}

// RefRange is an observation's reference range.
type RefRange struct {
	Low  *Measure `json:"low,omitempty"`
	High *Measure `json:"high,omitempty"`
	Text string   `json:"text,omitempty"`
	Type string   `json:"type,omitempty"`
}

// ObservationValue is an observation's (or component's) value. At most one
// of Quantity, Text, Codes, Boolean, Range is set, as sent.
type ObservationValue struct {
	Quantity *Measure  `json:"quantity,omitempty"`
	Text     string    `json:"value_text,omitempty"`
	Codes    []Coded   `json:"value_codes,omitempty"`
	Boolean  *bool     `json:"boolean,omitempty"`
	Range    *RefRange `json:"range,omitempty"`
	// Ratio values are written "n/d unit" into Text; times and periods too.
	Interpretation []string   `json:"interpretation,omitempty"`
	ReferenceRange []RefRange `json:"reference_range,omitempty"`
	Absent         string     `json:"absent_reason,omitempty"`
}

// ObservationDetail is KindObservation's detail.
type ObservationDetail struct {
	ObservationValue
	// LOINC reports whether the observation's code has a LOINC coding.
	LOINC      bool                   `json:"loinc"`
	Category   []string               `json:"category,omitempty"`
	Components []ObservationComponent `json:"components,omitempty"`
	Members    []string               `json:"members,omitempty"` // hasMember references, as sent
}

// ObservationComponent is one component of a panel (e.g. systolic and
// diastolic pressure).
type ObservationComponent struct {
	Text  string  `json:"text"`
	Codes []Coded `json:"codes,omitempty"`
	LOINC bool    `json:"loinc"`
	ObservationValue
}

// EncounterDetail is KindEncounter's detail.
type EncounterDetail struct {
	Class           string   `json:"class,omitempty"`
	Types           []string `json:"types,omitempty"`
	Reasons         []string `json:"reasons,omitempty"`
	ServiceProvider string   `json:"service_provider,omitempty"`
}

// ConditionDetail is KindCondition's detail.
type ConditionDetail struct {
	Clinical     string   `json:"clinical_status,omitempty"`
	Verification string   `json:"verification_status,omitempty"`
	Severity     string   `json:"severity,omitempty"`
	Category     []string `json:"category,omitempty"`
	BodySite     []string `json:"body_site,omitempty"`
}

// ReportDetail is KindReport's (DiagnosticReport's) detail.
type ReportDetail struct {
	Category   []string `json:"category,omitempty"`
	Conclusion string   `json:"conclusion,omitempty"`
	// Results, Media and ImagingStudies are the references as sent; the
	// referenced resources are entries of their own.
	Results        []string `json:"results,omitempty"`
	Media          []string `json:"media,omitempty"`
	ImagingStudies []string `json:"imaging_studies,omitempty"`
	Performers     []string `json:"performers,omitempty"`
}

// MedicationDetail is KindMedication's detail, for MedicationRequest,
// MedicationStatement and MedicationAdministration (Entry.Resource says
// which).
type MedicationDetail struct {
	Intent  string   `json:"intent,omitempty"`
	Dosage  []string `json:"dosage,omitempty"` // dosage text, or assembled from route, timing and dose
	Reasons []string `json:"reasons,omitempty"`
}

// ImmunizationDetail is KindImmunization's detail.
type ImmunizationDetail struct {
	Brand        string `json:"brand,omitempty"`
	LotNumber    string `json:"lot_number,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Dose         string `json:"dose,omitempty"`
	Route        string `json:"route,omitempty"`
}

// AllergyDetail is KindAllergy's detail.
type AllergyDetail struct {
	Clinical     string   `json:"clinical_status,omitempty"`
	Verification string   `json:"verification_status,omitempty"`
	Criticality  string   `json:"criticality,omitempty"`
	Category     []string `json:"category,omitempty"`
	Reactions    []string `json:"reactions,omitempty"`
}

// ImagingDetail is KindImaging's detail: an ImagingStudy (DICOM study and
// where to fetch it) or an embedded DICOM Media.
type ImagingDetail struct {
	StudyUID   string          `json:"study_uid,omitempty"`
	Modalities []string        `json:"modalities,omitempty"`
	Series     []ImagingSeries `json:"series,omitempty"`
	// Endpoints are the study's endpoint references, with the resolved
	// address (a DICOMweb or WADO URL) when the Endpoint is in the bundle.
	Endpoints []string `json:"endpoints,omitempty"`
}

// ImagingSeries is one series of an imaging study.
type ImagingSeries struct {
	UID          string   `json:"uid,omitempty"`
	Modality     string   `json:"modality,omitempty"`
	BodySite     string   `json:"body_site,omitempty"`
	Description  string   `json:"description,omitempty"`
	InstanceUIDs []string `json:"instance_uids,omitempty"`
}

// Attachment is an embedded or linked file: a PDF report, a scan, a DICOM
// object, or the raw JSON of an unreadable resource.
type Attachment struct {
	ContentType string    `json:"content_type,omitempty"`
	Title       string    `json:"title,omitempty"`
	Language    string    `json:"language,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	// Size is the decoded size in bytes (or the declared size of a linked
	// file).
	Size int64 `json:"size"`
	// Data is the decoded content (base64 in JSON); URL is set instead for
	// linked files.
	Data []byte `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
	// Undecoded holds base64 text that could not be decoded, as sent.
	Undecoded string `json:"undecoded,omitempty"`
}

// Problem is something the reader repaired, doubted or could not read.
// Problems never stop a read.
type Problem struct {
	// Severity is "info" (repaired, nothing lost), "warning" (read, but
	// something is missing or was guessed) or "error" (a part could not be
	// read and was kept raw).
	Severity string `json:"severity"`
	// Code is a stable identifier, e.g. "datetime-without-zone",
	// "code-system-alias", "unreadable-resource".
	Code    string `json:"code"`
	Path    string `json:"path,omitempty"` // first place it was seen, FHIRPath-like
	Message string `json:"message"`
	// Count is how many times it was seen when more than once.
	Count int `json:"count,omitempty"`
}
