package claims

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	cipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	condpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/condition_go_proto"
	drpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/diagnostic_report_go_proto"
	docpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/document_reference_go_proto"
	encpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/encounter_go_proto"
	ispb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/imaging_study_go_proto"
	invpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/invoice_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"

	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// Evidence is what a claim for one encounter can draw on, gathered from
// every facility and source system that treated the patient: who the
// patient is, the encounter billed and the stays and visits around it,
// diagnoses, procedures, reports, discharge summaries, bills and the
// coverage on file. Every item says where it came from (Origin).
//
// It holds clinical and financial data: show it to billing staff and put
// it in claims, never in logs.
type Evidence struct {
	Tenant string
	// PatientID is the master patient's id (the survivor, when the id
	// asked for was merged into another).
	PatientID string
	// EncounterRef is the billed encounter, as given to Gather.
	EncounterRef string
	GatheredAt   time.Time
	// From and To bound the dates of the care contexts gathered: the
	// billed encounter's period widened by the gatherer's window.
	From, To time.Time

	Patient PatientDetails
	// Encounter is the billed encounter.
	Encounter Encounter
	// Related are the other admissions and visits in the window, at any
	// facility (a stay elsewhere before a transfer, a follow-up visit),
	// oldest first.
	Related []Encounter
	// Diagnoses are the billed encounter's first, in rank order (the
	// principal one first), then the others' by date.
	Diagnoses  []Diagnosis
	Procedures []Procedure
	// Reports are lab and imaging reports, imaging studies and other
	// documents, by date.
	Reports            []Report
	DischargeSummaries []Document
	// Bills are the invoices in the window, at any facility, by date.
	Bills []Bill
	// Charges are charge items no invoice lists.
	Charges []BillLine
	// Coverages is the coverage on file for the patient, newest first.
	Coverages []Coverage
	// Empanelments are those of the billed encounter's facility.
	Empanelments []Empanelment
	// Records are the care contexts read, whole: every FHIR resource the
	// sources gave, for what the fields above do not carry.
	Records []CareRecord
	// Problems lists the sources, and single care contexts, that could
	// not be read. Evidence with problems is incomplete.
	Problems []Problem
}

// Origin says where a piece of evidence came from.
type Origin struct {
	FacilityID     string
	FacilityHFRID  string
	FacilityName   string
	SourceSystemID string
	SourceCode     string
	SourceName     string
	SourceKind     string // HIS, LIMS, RIS, pharmacy, billing
	// Reference is the care context's reference at its facility
	// (sources.Reference: system code, type, local id).
	Reference string
	HIType    sources.HIType
	// Date is the care context's date in its source.
	Date time.Time
}

// EncounterRef is the care context's reference across the tenant, the
// form Gather takes.
func (o Origin) EncounterRef() string { return EncounterRef(o.FacilityHFRID, o.Reference) }

// EncounterRef joins a facility's HFR id and a care-context reference at
// that facility into a reference unique across the tenant, e.g.
// "IN2910000231/his:admission:IP000123". Care-context references are
// unique only per facility; HFR ids are unique per tenant and hold no "/".
func EncounterRef(facilityHFRID, reference string) string { return facilityHFRID + "/" + reference }

// ParseEncounterRef splits a reference made by EncounterRef.
func ParseEncounterRef(ref string) (facilityHFRID, reference string, err error) {
	hfr, reference, ok := strings.Cut(strings.TrimSpace(ref), "/")
	if !ok || hfr == "" {
		return "", "", &FieldError{Field: "encounterRef", Problem: fmt.Sprintf("%q is not <facility HFR id>/<care context reference>", ref)}
	}
	if _, _, err := sources.ParseReference(reference); err != nil {
		return "", "", &FieldError{Field: "encounterRef", Problem: fmt.Sprintf("%q does not name a care context (<system>:<type>:<id>)", ref)}
	}
	return hfr, reference, nil
}

// BillableEncounter is an admission or visit a claim can be made for.
type BillableEncounter struct {
	Origin
	// Ref is what Gather takes: Origin.EncounterRef().
	Ref string
	// Inpatient is set for admissions (and day-care stays).
	Inpatient bool
	// Class is the encounter's v3 ActCode class (IMP, AMB, EMER, SS, ...)
	// as the source gave it, else IMP or AMB by the care context's type.
	Class string
	Start time.Time
	// End is the discharge; zero while admitted, for visits, and when
	// the admission could not be read (see the Problems returned with it).
	End     time.Time
	Display string
}

// PatientDetails are the patient's demographics and identifiers, from the
// master index.
type PatientDetails struct {
	// Demographics are the most complete of the linked records'.
	patients.Demographics
	// ABHANumber is formatted 91-1234-5678-9012; ABHAAddress is e.g.
	// name@sbx. Verified identifiers are preferred; ABHAVerified says
	// whether the number is one ABDM confirmed.
	ABHANumber   string
	ABHAAddress  string
	ABHAVerified bool
	Identifiers  []patients.Identifier
	// LocalIDs are the patient's ids in every system (MRNs, lab ids),
	// by facility.
	LocalIDs []LocalID
}

// LocalID is the patient's id in one source system of one facility.
type LocalID struct {
	FacilityID     string
	FacilityHFRID  string
	FacilityName   string
	SourceSystemID string
	SourceCode     string
	SourceKind     string
	LocalID        string
}

// MRN returns the patient's medical record number at a facility: the
// id in its HIS, else in any of its systems; "" when it has none.
func (p PatientDetails) MRN(facilityID string) string {
	other := ""
	for _, l := range p.LocalIDs {
		if l.FacilityID != facilityID {
			continue
		}
		if l.SourceKind == "HIS" {
			return l.LocalID
		}
		if other == "" {
			other = l.LocalID
		}
	}
	return other
}

// Encounter is an admission or visit as its source recorded it.
type Encounter struct {
	Origin
	// Identifier is the encounter's id in its source when the source
	// states one (a billing system names the HIS admission it bills).
	Identifier string
	Class      string // v3 ActCode: IMP, AMB, EMER, SS, ...
	Inpatient  bool
	Status     string // FHIR Encounter.status, e.g. finished
	Start      time.Time
	End        time.Time
	// Type is the department or kind of stay; Reason the complaint.
	Type   nrces.Concept
	Reason nrces.Concept
	// Practitioners are the names of those who took part.
	Practitioners        []string
	DischargeDisposition nrces.Concept
	Display              string
	// Resource is nil when the source gave no Encounter resource (the
	// fields then come from the care context alone).
	Resource *encpb.Encounter
}

// DiagnosisRole is what a diagnosis was to its encounter.
type DiagnosisRole string

// Diagnosis roles, from FHIR's diagnosis-role codes when the source gave
// them.
const (
	RoleUnstated       DiagnosisRole = ""
	RoleAdmitting      DiagnosisRole = "admitting"       // AD
	RoleDischarge      DiagnosisRole = "discharge"       // DD
	RoleChiefComplaint DiagnosisRole = "chief-complaint" // CC
	RoleComorbidity    DiagnosisRole = "comorbidity"     // CM
	RolePreOp          DiagnosisRole = "pre-op"
	RolePostOp         DiagnosisRole = "post-op"
	RoleBilling        DiagnosisRole = "billing"
)

// Diagnosis is a Condition a source recorded.
type Diagnosis struct {
	Origin
	// Code holds every coding the source gave (ICD-10, SNOMED CT, local)
	// and its text; ICD10 and SNOMED pick those systems' codes out.
	Code    nrces.Concept
	ICD10   string
	SNOMED  string
	Display string
	// ClinicalStatus is e.g. active or resolved; Category
	// encounter-diagnosis or problem-list-item.
	ClinicalStatus     string
	VerificationStatus string
	Category           string
	Recorded           time.Time
	Onset              time.Time
	// Role and Rank come from the encounter's diagnosis list when the
	// source ranks diagnoses (Ranked); otherwise Rank is the order the
	// source listed them in, which HIS diagnosis tables keep principal
	// first.
	Role   DiagnosisRole
	Rank   int
	Ranked bool
	// Principal marks the billed encounter's first-ranked diagnosis.
	Principal bool
	// OfBilledEncounter is set for the billed encounter's diagnoses.
	OfBilledEncounter bool
	Resource          *condpb.Condition
}

// Procedure is a procedure a source recorded.
type Procedure struct {
	Origin
	Code      nrces.Concept
	Status    string // FHIR Procedure.status, e.g. completed
	Performed time.Time
	// PerformedEnd is set when the source gave a period.
	PerformedEnd time.Time
	Outcome      nrces.Concept
	BodySites    []nrces.Concept
	Performers   []string
	Note         string
	Resource     *procpb.Procedure
}

// ReportKind sorts reports.
type ReportKind string

// Report kinds.
const (
	// ReportLab is a laboratory DiagnosticReport (category LAB or a lab
	// section) with its results.
	ReportLab ReportKind = "lab"
	// ReportImaging is a radiology report or an imaging study.
	ReportImaging ReportKind = "imaging"
	// ReportDocument is any other document (DocumentReference) or report.
	ReportDocument ReportKind = "document"
)

// Report is investigation evidence: a DiagnosticReport (with its results
// and study), an ImagingStudy no report reads, or a DocumentReference
// that is not a discharge summary.
type Report struct {
	Origin
	Kind       ReportKind
	Code       nrces.Concept
	Title      string
	Status     string
	Effective  time.Time
	Issued     time.Time
	Conclusion string
	// Interpreters are the names of those who signed it.
	Interpreters []string
	// Attachments are the report as issued (presentedForm, or a
	// DocumentReference's content), ready to attach.
	Attachments []Attachment
	// Exactly one of Report, Study and Document is set: the resource the
	// evidence is. Results and Study (for a report) are what it refers to.
	Report   *drpb.DiagnosticReport
	Results  []*obspb.Observation
	Study    *ispb.ImagingStudy
	Document *docpb.DocumentReference
}

// Document is a discharge summary (a DocumentReference with LOINC
// 18842-5, or a document of a discharge-summary care context).
type Document struct {
	Origin
	Type        nrces.Concept
	Title       string
	Date        time.Time
	Authors     []string
	Attachments []Attachment
	Resource    *docpb.DocumentReference
}

// Attachment is a document's content as the source gave it: inline data,
// or a URL to fetch it from.
type Attachment struct {
	ContentType string
	Language    string
	Title       string
	Data        []byte
	URL         string
	Created     time.Time
}

// File returns the attachment as nrces embeds documents (inline data
// only; an attachment with just a URL gives a File without data).
func (a Attachment) File() nrces.File {
	return nrces.File{ContentType: a.ContentType, Data: a.Data, Title: a.Title, Language: a.Language, Created: a.Created}
}

// Bill is an Invoice with its lines.
type Bill struct {
	Origin
	Number   string
	Status   string // FHIR Invoice.status, e.g. issued
	Type     nrces.Coding
	Date     time.Time
	Currency string // INR when the source gave none
	// TotalNet (before tax) and TotalGross (with tax) are decimal text as
	// the source gave them, or computed from the lines' price components
	// when it gave none (TotalsComputed).
	TotalNet       string
	TotalGross     string
	TotalsComputed bool
	Lines          []BillLine
	Note           string
	// Encounter is the visit or stay the bill is for, as the billing
	// system describes it; nil when its care context names none.
	Encounter *Encounter
	// OfBilledEncounter is set for bills of the billed encounter: at its
	// facility, naming its id (or, failing an id, its start).
	OfBilledEncounter bool
	Resource          *invpb.Invoice
}

// BillLine is one charged item: an Invoice line and its ChargeItem.
type BillLine struct {
	Origin
	Sequence int
	// ChargeCode is the ChargeItem's code (ndhm-billing-codes, e.g. 05
	// Medicines); Product what was sold or done.
	ChargeCode nrces.Coding
	Product    nrces.Concept
	Quantity   nrces.Quantity
	// Prices are the line's price components (base, tax, discount, ...).
	Prices   []nrces.PriceComponent
	Occurred time.Time
	// Resource is nil when the Invoice line carried only a code.
	Resource *cipb.ChargeItem
}

// CareRecord is one care context as read from its source.
type CareRecord struct {
	Origin
	Display   string
	Resources []*bcrpb.ContainedResource
}

// Problem is a source, or one of its care contexts, that could not be
// read: its records are missing from the evidence.
type Problem struct {
	FacilityID     string
	FacilityHFRID  string
	FacilityName   string
	SourceSystemID string
	SourceCode     string
	SourceName     string
	// Reference is the care context that could not be read; empty when
	// the whole source failed.
	Reference string
	// Message says what went wrong in plain words, fit for billing staff.
	Message string
	// TimedOut is set when the source missed the deadline.
	TimedOut bool
	// Err is the underlying error, for the logs.
	Err error
}

// String describes the problem with the source and facility named.
func (p Problem) String() string {
	what := p.SourceName
	if what == "" {
		what = p.SourceCode
	}
	if p.FacilityName != "" {
		what += " at " + p.FacilityName
	}
	if p.Reference != "" {
		what += " (" + p.Reference + ")"
	}
	return what + ": " + p.Message
}

// BillTotal is the sum of bills in one currency.
type BillTotal struct {
	Currency   string
	Net, Gross string
}

// BillTotals sums the bills' totals per currency. It adds every bill
// gathered, at every facility in the window; filter Bills first to total
// one stay.
func BillTotals(bills []Bill) []BillTotal {
	var out []BillTotal
	for _, b := range bills {
		i := 0
		for i < len(out) && out[i].Currency != b.Currency {
			i++
		}
		if i == len(out) {
			out = append(out, BillTotal{Currency: b.Currency, Net: "0", Gross: "0"})
		}
		out[i].Net = addDecimals(out[i].Net, b.TotalNet)
		out[i].Gross = addDecimals(out[i].Gross, b.TotalGross)
	}
	return out
}

// addDecimals adds decimal texts exactly, keeping the larger number of
// decimal places ("10.5" + "2.25" = "12.75"). Text that is not a decimal
// counts as zero.
func addDecimals(xs ...string) string {
	sum, places := new(big.Rat), 0
	for _, x := range xs {
		r, ok := new(big.Rat).SetString(x)
		if !ok {
			continue
		}
		sum.Add(sum, r)
		if _, frac, found := strings.Cut(x, "."); found {
			places = max(places, len(frac))
		}
	}
	return sum.FloatString(places)
}
