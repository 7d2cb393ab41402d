package nrces

import (
	"fmt"
	"slices"
	"strings"

	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	comppb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/composition_go_proto"
)

// contentKey names a content field of Document.
type contentKey string

const (
	cChiefComplaints      contentKey = "ChiefComplaints"
	cPhysicalExamination  contentKey = "PhysicalExamination"
	cAllergies            contentKey = "Allergies"
	cMedicalHistory       contentKey = "MedicalHistory"
	cPastProcedures       contentKey = "PastProcedures"
	cFamilyHistory        contentKey = "FamilyHistory"
	cInvestigationAdvice  contentKey = "InvestigationAdvice"
	cMedications          contentKey = "Medications"
	cMedicationStatements contentKey = "MedicationStatements"
	cFollowUps            contentKey = "FollowUps"
	cProcedures           contentKey = "Procedures"
	cReferrals            contentKey = "Referrals"
	cOtherObservations    contentKey = "OtherObservations"
	cCarePlans            contentKey = "CarePlans"
	cDiagnosticReports    contentKey = "DiagnosticReports"
	cImmunizations        contentKey = "Immunizations"
	cImmRecommendation    contentKey = "ImmunizationRecommendation"
	cVitalSigns           contentKey = "VitalSigns"
	cBodyMeasurements     contentKey = "BodyMeasurements"
	cPhysicalActivity     contentKey = "PhysicalActivity"
	cGeneralAssessment    contentKey = "GeneralAssessment"
	cWomenHealth          contentKey = "WomenHealth"
	cLifestyle            contentKey = "Lifestyle"
	cAttachments          contentKey = "Attachments"
	cScannedPrescription  contentKey = "ScannedPrescription"
	cInvoice              contentKey = "Invoice"
)

// sectionContent says which Document fields fill which section slice of
// each record type (slice names as in profiles.go). Sections come out in the
// profile's order.
var sectionContent = map[RecordType]map[string][]contentKey{
	OPConsultRecord: {
		"ChiefComplaints":     {cChiefComplaints},
		"PhysicalExamination": {cPhysicalExamination},
		"Allergies":           {cAllergies},
		"MedicalHistory":      {cMedicalHistory, cPastProcedures},
		"FamilyHistory":       {cFamilyHistory},
		"InvestigationAdvice": {cInvestigationAdvice},
		"Medications":         {cMedicationStatements, cMedications},
		"FollowUp":            {cFollowUps},
		"Procedure":           {cProcedures},
		"Referral":            {cReferrals},
		"OtherObservations":   {cOtherObservations},
		"DocumentReference":   {cAttachments},
	},
	DischargeSummaryRecord: {
		"ChiefComplaints":     {cChiefComplaints},
		"PhysicalExamination": {cPhysicalExamination},
		"Allergies":           {cAllergies},
		"MedicalHistory":      {cMedicalHistory, cPastProcedures},
		"FamilyHistory":       {cFamilyHistory},
		"Investigations":      {cDiagnosticReports},
		"Medications":         {cMedications},
		"Procedures":          {cProcedures},
		"CarePlan":            {cCarePlans},
		"DocumentReference":   {cAttachments},
	},
	DiagnosticReportRecord: {"section": {cDiagnosticReports, cAttachments}},
	PrescriptionRecord:     {"section": {cMedications, cScannedPrescription}},
	ImmunizationRecord:     {"section": {cImmunizations, cImmRecommendation, cAttachments}},
	WellnessRecord: {
		"VitalSigns":        {cVitalSigns},
		"BodyMeasurement":   {cBodyMeasurements},
		"PhysicalActivity":  {cPhysicalActivity},
		"GeneralAssessment": {cGeneralAssessment},
		"WomenHealth":       {cWomenHealth},
		"Lifestyle":         {cLifestyle},
		"OtherObservations": {cOtherObservations},
		"DocumentReference": {cAttachments},
	},
	HealthDocumentRecord: {"section": {cAttachments}},
	InvoiceRecord:        {"section": {cInvoice}},
}

// observationCategory is the default Observation.category of each content
// field (observation-category codes).
var observationCategory = map[contentKey]string{
	cPhysicalExamination: "exam",
	cVitalSigns:          "vital-signs",
	cBodyMeasurements:    "vital-signs",
	cPhysicalActivity:    "activity",
	cLifestyle:           "social-history",
	cGeneralAssessment:   "survey",
}

// accepts reports whether the record type has a section for key.
func (s *buildState) accepts(key contentKey) bool {
	for _, keys := range sectionContent[s.rule.typ] {
		for _, k := range keys {
			if k == key {
				return true
			}
		}
	}
	return false
}

// use checks that the record type carries key when n items of it are given.
func (s *buildState) use(key contentKey, n int) bool {
	if n == 0 {
		return false
	}
	if !s.accepts(key) {
		s.fail("%s cannot carry %s (it has no section for them)", s.rule.name, key)
		return false
	}
	return true
}

func (s *buildState) put(key contentKey, url, typ string) {
	s.content[key] = append(s.content[key], sectionEntry{url, typ})
}

// buildContent makes the resources of every content field.
func (s *buildState) buildContent() {
	d := s.doc
	conditions := func(key contentKey, cs []Condition) {
		if s.use(key, len(cs)) {
			for i, c := range cs {
				s.put(key, s.condition(c, fmt.Sprintf("%s[%d]", key, i)), "Condition")
			}
		}
	}
	observations := func(key contentKey, os []Observation) {
		if s.use(key, len(os)) {
			for i, o := range os {
				if o.Category == "" {
					o.Category = observationCategory[key]
				}
				s.put(key, s.observation(o, fmt.Sprintf("%s[%d]", key, i)), "Observation")
			}
		}
	}
	procedures := func(key contentKey, ps []Procedure) {
		if s.use(key, len(ps)) {
			for i, p := range ps {
				s.put(key, s.procedure(p, fmt.Sprintf("%s[%d]", key, i)), "Procedure")
			}
		}
	}
	serviceRequests := func(key contentKey, rs []ServiceRequest) {
		if s.use(key, len(rs)) {
			for i, r := range rs {
				s.put(key, s.serviceRequest(r, fmt.Sprintf("%s[%d]", key, i)), "ServiceRequest")
			}
		}
	}

	conditions(cChiefComplaints, d.ChiefComplaints)
	observations(cPhysicalExamination, d.PhysicalExamination)
	if s.use(cAllergies, len(d.Allergies)) {
		for i, a := range d.Allergies {
			s.put(cAllergies, s.allergy(a, fmt.Sprintf("Allergies[%d]", i)), "AllergyIntolerance")
		}
	}
	conditions(cMedicalHistory, d.MedicalHistory)
	procedures(cPastProcedures, d.PastProcedures)
	if s.use(cFamilyHistory, len(d.FamilyHistory)) {
		for i, f := range d.FamilyHistory {
			s.put(cFamilyHistory, s.familyHistory(f, fmt.Sprintf("FamilyHistory[%d]", i)), "FamilyMemberHistory")
		}
	}
	serviceRequests(cInvestigationAdvice, d.InvestigationAdvice)
	if s.use(cMedicationStatements, len(d.MedicationStatements)) {
		for i, m := range d.MedicationStatements {
			s.put(cMedicationStatements, s.medicationStatement(m, fmt.Sprintf("MedicationStatements[%d]", i)), "MedicationStatement")
		}
	}
	if s.use(cMedications, len(d.Medications)) {
		for i, m := range d.Medications {
			s.put(cMedications, s.medicationRequest(m, fmt.Sprintf("Medications[%d]", i)), "MedicationRequest")
		}
	}
	if s.use(cFollowUps, len(d.FollowUps)) {
		for i, a := range d.FollowUps {
			s.put(cFollowUps, s.appointment(a, fmt.Sprintf("FollowUps[%d]", i)), "Appointment")
		}
	}
	procedures(cProcedures, d.Procedures)
	serviceRequests(cReferrals, d.Referrals)
	observations(cOtherObservations, d.OtherObservations)
	if s.use(cCarePlans, len(d.CarePlans)) {
		for i, c := range d.CarePlans {
			s.put(cCarePlans, s.carePlan(c, fmt.Sprintf("CarePlans[%d]", i)), "CarePlan")
		}
	}
	if s.use(cDiagnosticReports, len(d.DiagnosticReports)) {
		if s.rule.typ == DiagnosticReportRecord && len(d.DiagnosticReports) > 1 {
			s.fail("DiagnosticReportRecord carries one DiagnosticReport (section.entry slice 0..1), got %d: send one bundle per report",
				len(d.DiagnosticReports))
		}
		for i, r := range d.DiagnosticReports {
			s.put(cDiagnosticReports, s.diagnosticReport(r, fmt.Sprintf("DiagnosticReports[%d]", i)), "DiagnosticReport")
		}
	}
	if s.use(cImmunizations, len(d.Immunizations)) {
		for i, im := range d.Immunizations {
			s.put(cImmunizations, s.immunization(im, fmt.Sprintf("Immunizations[%d]", i)), "Immunization")
		}
	}
	if d.ImmunizationRecommendation != nil && s.use(cImmRecommendation, 1) {
		s.put(cImmRecommendation, s.immunizationRecommendation(*d.ImmunizationRecommendation), "ImmunizationRecommendation")
	}
	observations(cVitalSigns, d.VitalSigns)
	observations(cBodyMeasurements, d.BodyMeasurements)
	observations(cPhysicalActivity, d.PhysicalActivity)
	observations(cGeneralAssessment, d.GeneralAssessment)
	observations(cWomenHealth, d.WomenHealth)
	observations(cLifestyle, d.Lifestyle)
	if s.use(cAttachments, len(d.Attachments)) {
		if s.rule.typ == DiagnosticReportRecord && len(d.Attachments) > 1 {
			s.fail("DiagnosticReportRecord carries at most one DocumentReference, got %d", len(d.Attachments))
		}
		for i, a := range d.Attachments {
			s.put(cAttachments, s.documentReference(a, fmt.Sprintf("Attachments[%d]", i)), "DocumentReference")
		}
	}
	if d.ScannedPrescription != nil && s.use(cScannedPrescription, 1) {
		s.put(cScannedPrescription, s.binary(*d.ScannedPrescription), "Binary")
	}
	if d.Invoice != nil && s.use(cInvoice, 1) {
		s.put(cInvoice, s.invoice(*d.Invoice), "Invoice")
	}
	if s.rule.typ == InvoiceRecord && d.Invoice == nil {
		s.fail("InvoiceRecord needs the Invoice")
	}
}

// sections lays the content out in the record's sections.
func (s *buildState) sections() []*comppb.Composition_Section {
	var out []*comppb.Composition_Section
	plan := sectionContent[s.rule.typ]
	for i := range s.rule.sections {
		sr := &s.rule.sections[i]
		var entries []*d4.Reference
		for _, key := range plan[sr.slice] {
			for _, e := range s.content[key] {
				entries = append(entries, pTypedRef(e.url, e.typ))
			}
		}
		if len(entries) == 0 {
			continue
		}
		sec := &comppb.Composition_Section{Title: pStr(sr.title), Entry: entries}
		if sr.code.Code != "" {
			code := sr.code
			if sr.codeSystemOnly {
				code = s.reportType()
			}
			sec.Code = &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(code)}, Text: pStr(code.Display)}
			if sr.codeSystemOnly {
				sec.Title = pStr(code.Display)
			}
		}
		out = append(out, sec)
	}
	if len(out) == 0 {
		var want []string
		for _, keys := range plan {
			for _, k := range keys {
				want = append(want, string(k))
			}
		}
		slices.Sort(want)
		s.fail("%s has no content: fill at least one of %s", s.rule.name, strings.Join(want, ", "))
	}
	return out
}

// reportType is the section code of a DiagnosticReportRecord.
func (s *buildState) reportType() Coding {
	for _, r := range s.doc.DiagnosticReports {
		if r.ReportType != nil {
			return *r.ReportType
		}
	}
	return codeDiagnosticStud
}
