package nrces

import "time"

// Document is one clinical document to send as an ABDM health record: who it
// is about, who wrote it, where, and its content. It knows nothing of the
// source system it came from. Fill the content fields the record type
// carries (listed on each field); the builder refuses content a record type
// cannot hold rather than drop it.
//
// Decimal values (quantities, amounts) are strings so the source's precision
// survives: "1.50" stays "1.50".
type Document struct {
	Type RecordType
	// Title is Composition.title; empty means the record type's usual title.
	Title string
	// Date is when the document was made (Composition.date). Required.
	Date time.Time

	Patient      Patient
	Author       Practitioner // Composition.author; also requester and interpreter where profiles need one
	Organization Organization // Composition.custodian: the facility, with its HFR id
	// Encounter is required for OPConsultRecord and DischargeSummaryRecord.
	Encounter *Encounter

	ChiefComplaints      []Condition           // OP, DS
	PhysicalExamination  []Observation         // OP, DS
	Allergies            []Allergy             // OP, DS
	MedicalHistory       []Condition           // OP, DS
	PastProcedures       []Procedure           // OP, DS (medical history section)
	FamilyHistory        []FamilyHistory       // OP, DS
	InvestigationAdvice  []ServiceRequest      // OP
	Medications          []MedicationRequest   // OP, DS, Prescription
	MedicationStatements []MedicationStatement // OP
	FollowUps            []Appointment         // OP
	Procedures           []Procedure           // OP, DS
	Referrals            []ServiceRequest      // OP
	OtherObservations    []Observation         // OP, Wellness
	CarePlans            []CarePlan            // DS
	// DiagnosticReports: DS (investigations), DiagnosticReport (exactly one:
	// the profile allows one report per bundle).
	DiagnosticReports          []DiagnosticReport
	Immunizations              []Immunization              // Immunization
	ImmunizationRecommendation *ImmunizationRecommendation // Immunization
	VitalSigns                 []Observation               // Wellness
	BodyMeasurements           []Observation               // Wellness
	PhysicalActivity           []Observation               // Wellness
	GeneralAssessment          []Observation               // Wellness
	WomenHealth                []Observation               // Wellness
	Lifestyle                  []Observation               // Wellness
	// Attachments become DocumentReferences: OP, DS, Wellness, Immunization
	// (certificates), DiagnosticReport (at most one, the signed report) and
	// HealthDocument (at least one).
	Attachments []AttachedDocument
	// ScannedPrescription is the prescription as signed (Binary):
	// Prescription only.
	ScannedPrescription *File
	Invoice             *Invoice // Invoice, required there
}

// Identifier is an extra identifier (a hospital MRN, a council registration).
type Identifier struct {
	Type   Coding // required by the NRCeS participant profiles
	System string // an absolute URI naming the namespace
	Value  string
}

// Patient is the subject. At least one of ABHANumber, ABHAAddress and
// Identifiers is required.
type Patient struct {
	Name        string
	Gender      string // male | female | other | unknown
	BirthDate   string // YYYY, YYYY-MM or YYYY-MM-DD
	Phone       string
	ABHANumber  string // 14 digits, e.g. 91-1234-5678-9012
	ABHAAddress string // e.g. asha@abdm
	Identifiers []Identifier
}

// Practitioner is a healthcare professional. HPRID or Identifiers is
// required.
type Practitioner struct {
	Name        string
	HPRID       string
	Identifiers []Identifier
}

// Organization is the facility. Name and HFRID are required.
type Organization struct {
	Name  string
	HFRID string
	Phone string
}

// Encounter is the visit or admission.
type Encounter struct {
	// Class is a v3-ActCode: AMB (default), IMP, EMER, HH, VR, SS.
	Class  string
	Status string // default finished
	Start  time.Time
	End    time.Time
	Type   Concept
	// Identifier is the source's visit number, optional.
	Identifier *Identifier
	// DischargeDisposition, for admissions.
	DischargeDisposition Concept
}

// Condition is a complaint, diagnosis or history item. Code is required:
// ICD-10 and/or SNOMED CT codings, or text only.
type Condition struct {
	Code               Concept
	ClinicalStatus     string // active (default), recurrence, relapse, inactive, remission, resolved
	VerificationStatus string // e.g. confirmed, provisional; optional
	Category           string // problem-list-item or encounter-diagnosis; optional
	Onset              time.Time
	Recorded           time.Time
	Note               string
}

// Quantity is a measured amount; Code is the UCUM code of Unit.
type Quantity struct {
	Value string // a decimal, e.g. "98.6"
	Unit  string
	Code  string
}

// ReferenceRange is the normal range of a result.
type ReferenceRange struct {
	Low, High *Quantity
	Text      string
}

// Observation is a finding, vital sign or lab result. Code is required
// (LOINC and/or SNOMED CT codings, or text). Set at most one value.
type Observation struct {
	Code           Concept
	Status         string // final (default)
	Category       string // observation-category code; defaults by section
	Effective      time.Time
	Quantity       *Quantity
	ValueText      string
	ValueConcept   *Concept
	Components     []Component // e.g. systolic and diastolic
	ReferenceRange *ReferenceRange
	Interpretation *Concept
	Note           string
}

// Component is one part of a multi-part observation.
type Component struct {
	Code         Concept
	Quantity     *Quantity
	ValueText    string
	ValueConcept *Concept
}

// Allergy is an AllergyIntolerance. Code is required (SNOMED CT or text).
type Allergy struct {
	Code               Concept
	ClinicalStatus     string // active (default), inactive, resolved
	VerificationStatus string // confirmed (default), unconfirmed, refuted
	Category           string // food, medication, environment, biologic; optional
	Criticality        string // low, high, unable-to-assess; optional
	Recorded           time.Time
	Note               string
}

// Procedure is a procedure done or in history. Code is required.
type Procedure struct {
	Code      Concept
	Status    string // completed (default)
	Performed time.Time
	Outcome   Concept
	Note      string
}

// FamilyHistory is a relative's health history.
type FamilyHistory struct {
	// Relationship is required, e.g. a v3-RoleCode coding FTH "father".
	Relationship Concept
	Conditions   []Concept // at least one
	Note         string
}

// ServiceRequest is an investigation advised or a referral. The author is
// the requester.
type ServiceRequest struct {
	Code       Concept
	Status     string // active (default)
	Intent     string // order (default)
	AuthoredOn time.Time
	Occurrence time.Time
	Note       string
}

// Timing is how often a dose is taken: Frequency times per Period
// PeriodUnit (s, min, h, d, wk, mo, a).
type Timing struct {
	Frequency  int
	Period     string // decimal
	PeriodUnit string
}

// Dosage is one dosage instruction.
type Dosage struct {
	Text                   string
	Timing                 *Timing
	Route, Method, Site    Concept
	Dose                   *Quantity
	AdditionalInstructions []Concept
	AsNeeded               bool
}

// MedicationRequest is a prescribed medicine. Medication and at least one
// Dosage are required.
type MedicationRequest struct {
	Medication Concept // SNOMED CT (ndhm-medicine-codes) or text
	Status     string  // active (default)
	Intent     string  // order (default)
	AuthoredOn time.Time
	Dosage     []Dosage
	Reasons    []Concept
	Note       string
}

// MedicationStatement is a medicine the patient takes or took.
type MedicationStatement struct {
	Medication Concept
	Status     string // completed (default), active, stopped, …
	Effective  time.Time
	Dosage     []Dosage
	Note       string
}

// Appointment is a follow-up. Start is required.
type Appointment struct {
	Start       time.Time
	End         time.Time
	Status      string // booked (default)
	Description string
	ServiceType Concept
}

// CarePlan is a plan of care on discharge.
type CarePlan struct {
	Title       string
	Description string
	Status      string // active (default)
	Intent      string // plan (default)
	Category    Concept
	Start, End  time.Time
	Note        string
}

// File is a document embedded in the bundle; the profiles require the data
// itself, not a link.
type File struct {
	ContentType string // e.g. application/pdf
	Data        []byte
	Title       string
	Language    string // e.g. en-IN
	Created     time.Time
}

// AttachedDocument is a document shared as a DocumentReference.
type AttachedDocument struct {
	Type        Concept // e.g. SNOMED 4241000179101 "Laboratory report"
	Description string
	Date        time.Time
	File        File
}

// DiagnosticReport is a lab or imaging report. Code (LOINC) and Conclusion
// are required; a lab report needs Results, an imaging report Images (the
// NRCeS profiles make result and media 1..*).
type DiagnosticReport struct {
	Imaging    bool
	Code       Concept // LOINC
	Category   Concept // SNOMED CT, e.g. 708196005 "Hematology service"
	Status     string  // final (default)
	Effective  time.Time
	Issued     time.Time
	Conclusion string
	// ConclusionCodes are SNOMED CT codings of the conclusion.
	ConclusionCodes []Concept
	Results         []Observation
	Specimen        *Specimen
	// Images become Media resources (the key images of an imaging report).
	Images []File
	// Study is the DICOM study the report reads, with its series and
	// instances and where to fetch them.
	Study *ImagingStudy
	// PresentedForm is the report as issued, usually a PDF.
	PresentedForm *File
	// ReportType is the section code of a DiagnosticReportRecord (from
	// ndhm-diagnostic-report-type, e.g. 4241000179101 "Laboratory report");
	// default 721981007 "Diagnostic studies report".
	ReportType *Coding
}

// Specimen is what a lab result was measured on.
type Specimen struct {
	Type      Concept // SNOMED CT, e.g. 119364003 "Serum specimen"
	Collected time.Time
	Received  time.Time
}

// ImagingStudy is a DICOM study.
type ImagingStudy struct {
	// UID is the Study Instance UID (a dotted OID).
	UID         string
	Started     time.Time
	Description string
	// Endpoint is the DICOMweb WADO-RS base URL the study can be fetched
	// from; optional.
	Endpoint string
	Series   []StudySeries
}

// StudySeries is one DICOM series.
type StudySeries struct {
	UID         string
	Number      int
	Modality    Coding // DICOM DCM, e.g. CT "Computed Tomography"
	Description string
	BodySite    *Coding
	Instances   []StudyInstance
}

// StudyInstance is one DICOM instance.
type StudyInstance struct {
	UID      string
	SOPClass string // the SOP Class UID, a dotted OID
	Number   int
	Title    string
}

// Immunization is a vaccine given. VaccineCode and Occurrence are required.
type Immunization struct {
	VaccineCode    Concept // SNOMED CT (ndhm-vaccine-codes) or text
	Status         string  // completed (default)
	Occurrence     time.Time
	LotNumber      string
	Manufacturer   string
	BrandName      string // the NRCeS BrandName extension
	DoseNumber     int
	Series         string
	TargetDiseases []Concept
	Route, Site    Concept
}

// ImmunizationRecommendation is the schedule of doses to come.
type ImmunizationRecommendation struct {
	Date            time.Time
	Recommendations []VaccineRecommendation
}

// VaccineRecommendation is one recommended dose. Vaccine or TargetDisease
// is required, and ForecastStatus (default "due").
type VaccineRecommendation struct {
	Vaccine        Concept
	TargetDisease  Concept
	ForecastStatus string // due, overdue, immune, contraindicated, complete
	DueDate        time.Time
	DoseNumber     int
	Series         string
	Description    string
}

// Invoice is a bill. Number, Type, Date, at least one line and the totals
// are required.
type Invoice struct {
	Number     string
	Type       Coding // ndhm-billing-codes, see BillingCode
	Status     string // issued (default)
	Date       time.Time
	Currency   string // INR (default)
	Lines      []InvoiceLine
	TotalNet   string // decimal
	TotalGross string // decimal
	Note       string
}

// InvoiceLine is one charged item; it becomes a ChargeItem and a line item.
type InvoiceLine struct {
	ChargeCode Coding  // ndhm-billing-codes, e.g. 05 Medicines
	Product    Concept // what was sold or done
	Quantity   Quantity
	Prices     []PriceComponent // at least one
}

// PriceComponent is one part of a line's price.
type PriceComponent struct {
	// Type is base, surcharge, deduction, discount, tax or informational.
	Type   string
	Code   Coding // ndhm-price-components, see PriceComponentCode
	Amount string // decimal
}
