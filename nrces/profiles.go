package nrces

// The record-type rules of IG ndhm.in 6.5.0 as data. Each table cites the FSH
// profile it was read from, in ../shared/testdata/fhir-ig/abdm-fhir-ig-fsh-6.5.0/profiles/
// (a third-party FSH rendering of the official IG; fhir-ig/README.md). The
// tables are read-only after package initialisation.

// profileBase is the canonical base of every NRCeS profile. It carries no
// version, so 2.x and 6.x bundles claim the same URLs.
const profileBase = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"

// profileDocumentBundle is the Bundle profile (profiles/DocumentBundle.fsh).
const profileDocumentBundle = profileBase + "DocumentBundle"

// sliceKind says how a Composition profile slices its sections.
type sliceKind int

const (
	sliceSingle  sliceKind = iota // exactly one section
	sliceByCode                   // open slicing on section.code.coding.code
	sliceByTitle                  // open slicing on section.title
)

// recordRule holds what one Composition profile fixes.
type recordRule struct {
	typ    RecordType
	name   string // profile id
	hiType string // ABDM HI type name (fhir-profiles.md §1)
	title  string // Composition.title the builder writes

	// typeCoding is the fixed Composition.type coding (system, code and
	// display exactly). Zero when the profile fixes only the system
	// (DiagnosticReportRecord, preferred binding) or only type.text.
	typeCoding Coding
	// typeSystemOnly: type.coding is 1..1 with the system fixed and code and
	// display required, but the code is open (DiagnosticReportRecord).
	typeSystemOnly bool
	// typeText is the fixed Composition.type.text (Wellness, Invoice).
	typeText string

	encounterRequired       bool // encounter 1..1
	authorReferenceRequired bool // author.reference 1..1

	slicing  sliceKind
	sections []sectionRule
}

// sectionRule is one section slice.
type sectionRule struct {
	slice string // FSH slice name, for messages
	title string // human title the builder writes; the fixed title when sliced by title
	// code is the fixed section.code.coding (system, code, display), zero
	// when the section is not coded.
	code Coding
	// codeSystemOnly: any code of code.system, with code and display required.
	codeSystemOnly bool
	// targets are the resource types the entries may reference.
	targets []string
	// entrySlices, when set, is the closed slicing of section.entry on
	// Reference.type: every entry must carry one of these types.
	entrySlices []entrySlice
	minEntries  int
	maxEntries  int // 0 = unbounded
	// valueTypes restricts Observation.value[x] of the entries (Wellness
	// sub-profiles); nil = any.
	valueTypes []string
}

// entrySlice is one slice of a closed section.entry slicing.
type entrySlice struct {
	typ string
	max int // 0 = unbounded
}

// Section codes shared by OP and DS.
var (
	codeChiefComplaint = SNOMED("422843007", "Chief complaint section")
	codePhysicalExam   = SNOMED("425044008", "Physical exam section")
	codeAllergyRecord  = SNOMED("722446000", "Allergy record")
	codeFamilyHistory  = SNOMED("422432008", "Family history section")
	codeDiagnosticStud = SNOMED("721981007", "Diagnostic studies report")
)

var recordRules = []recordRule{
	// profiles/OPConsultRecord.fsh
	{
		typ: OPConsultRecord, name: "OPConsultRecord", hiType: "OPConsultation", title: "Consultation Report",
		typeCoding:        SNOMED("371530004", "Clinical consultation report"),
		encounterRequired: true, authorReferenceRequired: true,
		slicing: sliceByCode,
		sections: []sectionRule{
			{slice: "ChiefComplaints", title: "Chief complaints", code: codeChiefComplaint, targets: []string{"Condition"}},
			{slice: "PhysicalExamination", title: "Physical examination", code: codePhysicalExam, targets: []string{"Observation"}},
			{slice: "Allergies", title: "Allergies", code: codeAllergyRecord, targets: []string{"AllergyIntolerance"}},
			{slice: "MedicalHistory", title: "Medical History", code: SNOMED("371529009", "History and physical report"), targets: []string{"Condition", "Procedure"}},
			{slice: "FamilyHistory", title: "Family history", code: codeFamilyHistory, targets: []string{"FamilyMemberHistory"}},
			{slice: "InvestigationAdvice", title: "Investigation Advice", code: SNOMED("721963009", "Order document"), targets: []string{"ServiceRequest"}},
			{slice: "Medications", title: "Medications", code: SNOMED("721912009", "Medication summary document"), targets: []string{"MedicationStatement", "MedicationRequest"}},
			{slice: "FollowUp", title: "Follow Up", code: SNOMED("390906007", "Follow-up encounter"), targets: []string{"Appointment"}},
			{slice: "Procedure", title: "Procedure", code: SNOMED("371525003", "Clinical procedure report"), targets: []string{"Procedure"}},
			{slice: "Referral", title: "Referral", code: SNOMED("306206005", "Referral to service"), targets: []string{"ServiceRequest"}},
			{slice: "OtherObservations", title: "Other Observations", code: SNOMED("404684003", "Clinical finding"), targets: []string{"Observation"}},
			{slice: "DocumentReference", title: "Document Reference", code: SNOMED("371530004", "Clinical consultation report"), targets: []string{"DocumentReference"}},
		},
	},
	// profiles/DischargeSummaryRecord.fsh (no author.reference 1..1 here)
	{
		typ: DischargeSummaryRecord, name: "DischargeSummaryRecord", hiType: "DischargeSummary", title: "Discharge Summary",
		typeCoding:        SNOMED("373942005", "Discharge summary"),
		encounterRequired: true,
		slicing:           sliceByCode,
		sections: []sectionRule{
			{slice: "ChiefComplaints", title: "Chief complaints", code: codeChiefComplaint, targets: []string{"Condition"}},
			{slice: "PhysicalExamination", title: "Physical examination", code: codePhysicalExam, targets: []string{"Observation"}},
			{slice: "Allergies", title: "Allergies", code: codeAllergyRecord, targets: []string{"AllergyIntolerance"}},
			{slice: "MedicalHistory", title: "Medical History", code: SNOMED("1003642006", "Past medical history section"), targets: []string{"Condition", "Procedure"}},
			{slice: "FamilyHistory", title: "Family history", code: codeFamilyHistory, targets: []string{"FamilyMemberHistory"}},
			{slice: "Investigations", title: "Investigations", code: codeDiagnosticStud, targets: []string{"DiagnosticReport"}},
			{slice: "Medications", title: "Medications", code: SNOMED("1003606003", "Medication history section"), targets: []string{"MedicationRequest"}},
			{slice: "Procedures", title: "Procedures", code: SNOMED("1003640003", "History of past procedure section"), targets: []string{"Procedure"}},
			{slice: "CarePlan", title: "Care Plan", code: SNOMED("734163000", "Care plan"), targets: []string{"CarePlan"}},
			{slice: "DocumentReference", title: "Document Reference", code: SNOMED("373942005", "Discharge summary"), targets: []string{"DocumentReference"}},
		},
	},
	// profiles/DiagnosticReportRecord.fsh: type from ndhm-diagnostic-report-type
	// (preferred), so only the system is fixed; one section of 1..2 entries,
	// closed on entry.type.
	{
		typ: DiagnosticReportRecord, name: "DiagnosticReportRecord", hiType: "DiagnosticReport", title: "Diagnostic Report",
		typeCoding: codeDiagnosticStud, typeSystemOnly: true, authorReferenceRequired: true,
		slicing: sliceSingle,
		sections: []sectionRule{{
			slice: "section", title: "Diagnostic Report", code: codeDiagnosticStud, codeSystemOnly: true,
			targets:     []string{"DiagnosticReport", "DocumentReference"},
			entrySlices: []entrySlice{{"DiagnosticReport", 1}, {"DocumentReference", 1}},
			minEntries:  1, maxEntries: 2,
		}},
	},
	// profiles/PrescriptionRecord.fsh
	{
		typ: PrescriptionRecord, name: "PrescriptionRecord", hiType: "Prescription", title: "Prescription record",
		typeCoding: SNOMED("440545006", "Prescription record"), authorReferenceRequired: true,
		slicing: sliceSingle,
		sections: []sectionRule{{
			slice: "section", title: "Prescription record", code: SNOMED("440545006", "Prescription record"),
			targets:     []string{"MedicationRequest", "Binary"},
			entrySlices: []entrySlice{{"MedicationRequest", 0}, {"Binary", 1}},
			minEntries:  1,
		}},
	},
	// profiles/ImmunizationRecord.fsh
	{
		typ: ImmunizationRecord, name: "ImmunizationRecord", hiType: "ImmunizationRecord", title: "Immunization record",
		typeCoding: SNOMED("41000179103", "Immunization record"),
		slicing:    sliceSingle,
		sections: []sectionRule{{
			slice: "section", title: "Immunization record", code: SNOMED("41000179103", "Immunization record"),
			targets:     []string{"Immunization", "ImmunizationRecommendation", "DocumentReference"},
			entrySlices: []entrySlice{{"Immunization", 0}, {"ImmunizationRecommendation", 1}, {"DocumentReference", 0}},
			minEntries:  1,
		}},
	},
	// profiles/WellnessRecord.fsh: type.text fixed, sections sliced by title.
	{
		typ: WellnessRecord, name: "WellnessRecord", hiType: "WellnessRecord", title: "Wellness Record",
		typeText: "Wellness Record",
		slicing:  sliceByTitle,
		sections: []sectionRule{
			{slice: "VitalSigns", title: "Vital Signs", targets: []string{"Observation"}, valueTypes: []string{"Quantity", "String"}},
			{slice: "BodyMeasurement", title: "Body Measurement", targets: []string{"Observation"}, valueTypes: []string{"Quantity", "String"}},
			{slice: "PhysicalActivity", title: "Physical Activity", targets: []string{"Observation"}, valueTypes: []string{"Quantity", "String"}},
			{slice: "GeneralAssessment", title: "General Assessment", targets: []string{"Observation"}, valueTypes: []string{"Quantity", "CodeableConcept"}},
			{slice: "WomenHealth", title: "Women Health", targets: []string{"Observation"}, valueTypes: []string{"Quantity", "String"}},
			{slice: "Lifestyle", title: "Lifestyle", targets: []string{"Observation"}, valueTypes: []string{"CodeableConcept"}},
			{slice: "OtherObservations", title: "Other Observations", targets: []string{"Observation", "Condition"}},
			{slice: "DocumentReference", title: "Document Reference", targets: []string{"DocumentReference"}},
		},
	},
	// profiles/HealthDocumentRecord.fsh (its comment says "MedicationRequest
	// and Binary", a copy-paste slip; the constraint is DocumentReference).
	{
		typ: HealthDocumentRecord, name: "HealthDocumentRecord", hiType: "HealthDocumentRecord", title: "Health Document",
		typeCoding: SNOMED("419891008", "Record artifact"), authorReferenceRequired: true,
		slicing: sliceSingle,
		sections: []sectionRule{{
			slice: "section", title: "Health Document", code: SNOMED("419891008", "Record artifact"),
			targets: []string{"DocumentReference"}, minEntries: 1,
		}},
	},
	// profiles/InvoiceRecord.fsh: type.text fixed; one section, closed on
	// entry.type with at most one Invoice.
	{
		typ: InvoiceRecord, name: "InvoiceRecord", hiType: "Invoice", title: "Invoice Record",
		typeText: "Invoice Record", authorReferenceRequired: true,
		slicing: sliceSingle,
		sections: []sectionRule{{
			slice: "section", title: "Invoice", targets: []string{"Invoice"},
			entrySlices: []entrySlice{{"Invoice", 1}}, minEntries: 1,
		}},
	},
}

func recordRuleFor(t RecordType) *recordRule {
	for i := range recordRules {
		if recordRules[i].typ == t {
			return &recordRules[i]
		}
	}
	return nil
}

// sectionBySlice returns the section rule named slice.
func (r *recordRule) sectionBySlice(slice string) *sectionRule {
	for i := range r.sections {
		if r.sections[i].slice == slice {
			return &r.sections[i]
		}
	}
	return nil
}

// compositionTargets are the reference targets the record profiles allow
// for Composition.author and attester.party (the same list in all eight).
var compositionAuthorTargets = []string{"Practitioner", "PractitionerRole", "Organization", "Patient", "Device", "RelatedPerson"}
