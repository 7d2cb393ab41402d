package nrces

// Resource-level rules of the NRCeS profiles that go beyond base R4, read
// from ../shared/testdata/fhir-ig/abdm-fhir-ig-fsh-6.5.0/profiles/<Profile>.fsh.
// Paths are dotted FHIR element paths relative to the resource; "x[x]" stands
// for any choice type of x.

// required is an element a profile makes 1..*: when every element on the
// way to it is present, it must be too.
type requiredRule struct {
	path string
	rule string // finding rule; "" = "nrces-required"
}

// coded is a CodeableConcept element whose codings must carry system, code
// and display ("coding.system 1..", "coding.code 1..", "coding.display 1..").
// When systems is set, every coding must use one of them: a fixed system, or
// the closed slicing by system of Condition.code and Observation.code.
type codedRule struct {
	path    string
	systems []string
	// maxCodings is the coding cardinality ("coding ..1"); 0 = unbounded.
	maxCodings int
}

// resourceRule is one resource profile.
type resourceRule struct {
	profile  string // profile id; the URL is profileBase + profile
	required []requiredRule
	coded    []codedRule
	// forbidden choice types ("medication[x] only CodeableConcept" forbids
	// medicationReference).
	forbidden []string
}

var (
	snomedOnly = []string{SystemSNOMED}
	loincOnly  = []string{SystemLOINC}
)

// identifierRules are shared by Patient, Practitioner and Organization.
func identifierRules(system bool) []requiredRule {
	r := []requiredRule{{"identifier", "nrces-identifier"}, {"identifier.type", "nrces-identifier"}, {"identifier.value", "nrces-identifier"}}
	if system {
		r = append(r, requiredRule{"identifier.system", "nrces-identifier-system"})
	}
	return r
}

var resourceRules = map[string]resourceRule{
	// profiles/Patient.fsh
	"Patient": {
		profile:  "Patient",
		required: append(identifierRules(false), requiredRule{path: "name.text"}, requiredRule{path: "telecom.value"}),
		coded:    []codedRule{{path: "identifier.type"}},
	},
	// profiles/Practitioner.fsh
	"Practitioner": {
		profile: "Practitioner",
		required: append(identifierRules(false), requiredRule{path: "name.text"}, requiredRule{path: "telecom.value"},
			requiredRule{path: "photo.contentType"}, requiredRule{path: "photo.data"}),
		coded: []codedRule{{path: "identifier.type"}, {path: "qualification.code"}},
	},
	// profiles/Organization.fsh: identifier.system is 1..1 here only.
	"Organization": {
		profile:  "Organization",
		required: append(identifierRules(true), requiredRule{path: "name"}, requiredRule{path: "telecom.value"}),
		coded:    []codedRule{{path: "identifier.type"}, {path: "type", systems: []string{"http://terminology.hl7.org/CodeSystem/organization-type"}}},
	},
	// profiles/PractitionerRole.fsh
	"PractitionerRole": {
		profile:  "PractitionerRole",
		required: []requiredRule{{"identifier.type", "nrces-identifier"}, {"identifier.value", "nrces-identifier"}, {path: "telecom.value"}},
	},
	// profiles/Encounter.fsh
	"Encounter": {
		profile: "Encounter",
		coded: []codedRule{{path: "type"}, {path: "serviceType"}, {path: "priority"}, {path: "participant.type"},
			{path: "reasonCode", systems: snomedOnly}, {path: "diagnosis.use", systems: snomedOnly}},
	},
	// profiles/Condition.fsh: code.coding closed-sliced by system.
	"Condition": {
		profile:  "Condition",
		required: []requiredRule{{path: "code"}},
		coded:    []codedRule{{path: "code", systems: []string{SystemICD10, SystemSNOMED}}},
	},
	// profiles/Observation.fsh: code.coding closed-sliced by system.
	"Observation": {
		profile: "Observation",
		coded:   []codedRule{{path: "code", systems: []string{SystemLOINC, SystemSNOMED}}},
	},
	// profiles/AllergyIntolerance.fsh
	"AllergyIntolerance": {
		profile:  "AllergyIntolerance",
		required: []requiredRule{{path: "code"}},
		coded:    []codedRule{{path: "code", systems: snomedOnly}},
	},
	// profiles/Procedure.fsh
	"Procedure": {
		profile:  "Procedure",
		required: []requiredRule{{path: "code"}},
		coded: []codedRule{{path: "statusReason", systems: snomedOnly}, {path: "category", systems: snomedOnly},
			{path: "code", systems: snomedOnly}, {path: "performer.function", systems: snomedOnly},
			{path: "reasonCode", systems: snomedOnly}, {path: "bodySite", systems: snomedOnly},
			{path: "outcome", systems: snomedOnly}, {path: "usedCode", systems: snomedOnly}},
	},
	// profiles/FamilyMemberHistory.fsh
	"FamilyMemberHistory": {
		profile:  "FamilyMemberHistory",
		required: []requiredRule{{path: "condition"}},
		coded: []codedRule{{path: "relationship"}, {path: "reasonCode", systems: snomedOnly},
			{path: "condition.code", systems: snomedOnly}},
	},
	// profiles/ServiceRequest.fsh
	"ServiceRequest": {
		profile:  "ServiceRequest",
		required: []requiredRule{{path: "requester"}},
		coded:    []codedRule{{path: "code", systems: snomedOnly}},
	},
	// profiles/Appointment.fsh
	"Appointment": {
		profile:  "Appointment",
		required: []requiredRule{{path: "start"}},
		coded: []codedRule{{path: "serviceCategory", systems: snomedOnly}, {path: "serviceType", systems: snomedOnly},
			{path: "specialty", systems: snomedOnly}, {path: "appointmentType", systems: snomedOnly},
			{path: "reasonCode", systems: snomedOnly}, {path: "participant.type"}},
	},
	// profiles/Specimen.fsh: collected[x] only dateTime.
	"Specimen": {
		profile:   "Specimen",
		required:  []requiredRule{{path: "receivedTime"}, {path: "collection.collected[x]"}},
		coded:     []codedRule{{path: "type", systems: snomedOnly}},
		forbidden: []string{"collection.collectedPeriod"},
	},
	// profiles/CarePlan.fsh
	"CarePlan": {
		profile: "CarePlan",
		coded:   []codedRule{{path: "category", systems: snomedOnly}},
	},
	// profiles/MedicationStatement.fsh: medication[x] only CodeableConcept.
	"MedicationStatement": {
		profile: "MedicationStatement",
		coded: []codedRule{{path: "medicationCodeableConcept", systems: snomedOnly}, {path: "reasonCode", systems: snomedOnly},
			{path: "dosage.additionalInstruction", systems: snomedOnly}, {path: "dosage.site", systems: snomedOnly},
			{path: "dosage.route", systems: snomedOnly}, {path: "dosage.method", systems: snomedOnly},
			{path: "dosage.doseAndRate.type", systems: snomedOnly}},
		forbidden: []string{"medicationReference"},
	},
	// profiles/MedicationRequest.fsh: medication[x] only CodeableConcept.
	"MedicationRequest": {
		profile:  "MedicationRequest",
		required: []requiredRule{{path: "authoredOn"}, {path: "requester"}, {path: "dosageInstruction"}},
		coded: []codedRule{{path: "medicationCodeableConcept", systems: snomedOnly}, {path: "reasonCode", systems: snomedOnly},
			{path: "dosageInstruction.additionalInstruction", systems: snomedOnly},
			{path: "dosageInstruction.route", systems: snomedOnly}, {path: "dosageInstruction.method", systems: snomedOnly}},
		forbidden: []string{"medicationReference"},
	},
	// profiles/DiagnosticReportLab.fsh
	"DiagnosticReportLab": {
		profile: "DiagnosticReportLab",
		required: []requiredRule{{path: "resultsInterpreter"}, {path: "result"}, {path: "conclusion"},
			{path: "presentedForm.contentType"}, {path: "presentedForm.data"}},
		coded: []codedRule{{path: "category", systems: snomedOnly}, {path: "code", systems: loincOnly},
			{path: "conclusionCode", systems: snomedOnly}},
	},
	// profiles/DiagnosticReportImaging.fsh
	"DiagnosticReportImaging": {
		profile: "DiagnosticReportImaging",
		required: []requiredRule{{path: "resultsInterpreter"}, {path: "media"}, {path: "conclusion"},
			{path: "presentedForm.contentType"}, {path: "presentedForm.data"}},
		coded: []codedRule{{path: "category", systems: snomedOnly}, {path: "code", systems: loincOnly},
			{path: "conclusionCode", systems: snomedOnly}},
	},
	// profiles/DocumentReference.fsh: the document is embedded, not linked.
	"DocumentReference": {
		profile:  "DocumentReference",
		required: []requiredRule{{path: "content.attachment.contentType"}, {path: "content.attachment.data"}},
	},
	// profiles/Binary.fsh
	"Binary": {
		profile:  "Binary",
		required: []requiredRule{{path: "data"}},
	},
	// profiles/Media.fsh
	"Media": {
		profile:  "Media",
		required: []requiredRule{{path: "content.contentType"}, {path: "content.data"}},
		coded:    []codedRule{{path: "modality"}},
	},
	// profiles/ImagingStudy.fsh
	"ImagingStudy": {
		profile: "ImagingStudy",
		coded:   []codedRule{{path: "procedureCode", systems: snomedOnly}, {path: "reasonCode", systems: snomedOnly}},
	},
	// profiles/Immunization.fsh: occurrence[x] only dateTime.
	"Immunization": {
		profile: "Immunization",
		coded: []codedRule{{path: "vaccineCode"}, {path: "site"}, {path: "route", systems: snomedOnly},
			{path: "performer.function"}, {path: "reasonCode", systems: snomedOnly}},
		forbidden: []string{"occurrenceString"},
	},
	// profiles/ImmunizationRecommendation.fsh
	"ImmunizationRecommendation": {
		profile: "ImmunizationRecommendation",
		coded: []codedRule{{path: "recommendation.vaccineCode"}, {path: "recommendation.targetDisease"},
			{path: "recommendation.contraindicatedVaccineCode"}, {path: "recommendation.forecastStatus"},
			{path: "recommendation.forecastReason"}, {path: "recommendation.dateCriterion.code"}},
	},
	// profiles/Invoice.fsh
	"Invoice": {
		profile: "Invoice",
		required: []requiredRule{{path: "identifier"}, {path: "identifier.value"}, {path: "type"}, {path: "type.coding"},
			{path: "subject"}, {path: "date"}, {path: "lineItem"}, {path: "lineItem.priceComponent"},
			{path: "lineItem.priceComponent.code"}, {path: "lineItem.priceComponent.code.coding"},
			{path: "lineItem.priceComponent.amount"}, {path: "totalNet"}, {path: "totalGross"}},
		coded: []codedRule{{path: "type", maxCodings: 1}, {path: "lineItem.priceComponent.code", maxCodings: 1}},
	},
	// profiles/ChargeItem.fsh
	"ChargeItem": {
		profile:  "ChargeItem",
		required: []requiredRule{{path: "code.coding"}, {path: "quantity"}, {path: "product[x]"}},
		coded:    []codedRule{{path: "code", maxCodings: 1}},
	},
	// profiles/Medication.fsh
	"Medication": {
		profile:  "Medication",
		required: []requiredRule{{path: "code"}, {path: "identifier.type"}, {path: "identifier.value"}},
		coded:    []codedRule{{path: "code", maxCodings: 1}, {path: "identifier.type", systems: []string{SystemIdentifierType}, maxCodings: 1}},
	},
}

// resourceRuleKey picks the profile rules for a resource: the NRCeS profile
// it claims, else the default for its type. DiagnosticReport has two
// profiles; without a claim, media or an imaging study mean imaging.
func resourceRuleKey(resourceType string, claimed []string, hasImaging bool) string {
	for _, c := range claimed {
		name, ok := nrcesProfileName(c)
		if !ok {
			continue
		}
		if _, ok := resourceRules[name]; ok {
			return name
		}
	}
	if resourceType == "DiagnosticReport" {
		if hasImaging {
			return "DiagnosticReportImaging"
		}
		return "DiagnosticReportLab"
	}
	return resourceType
}
