package nrces

import (
	"strconv"
	"time"

	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	aipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/allergy_intolerance_go_proto"
	apppb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/appointment_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	cppb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/care_plan_go_proto"
	condpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/condition_go_proto"
	fmhpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/family_member_history_go_proto"
	mrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/medication_request_go_proto"
	mspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/medication_statement_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"
	srpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/service_request_go_proto"
)

// Clinical content resources. Each checks what its NRCeS profile makes
// mandatory (profiles_resources.go) so a bad Document fails here, with the
// Document field named, rather than at the gate.

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// requireCode fails when a code the profile makes 1..1 is empty, and checks
// codings are complete (system, code and display), as every NRCeS profile
// asks of a coding.
func (s *buildState) requireCode(where string, c Concept) {
	if c.IsZero() {
		s.fail("%s is required", where)
	}
	s.checkCodings(where, c)
}

func (s *buildState) checkCodings(where string, c Concept) {
	for i, cd := range c.Codings {
		if cd.System == "" || cd.Code == "" || cd.Display == "" {
			s.fail("%s.Codings[%d] needs system, code and display", where, i)
		}
	}
}

// statusConcept is a CodeableConcept from one of HL7's status code systems.
func statusConcept(system, code string) *d4.CodeableConcept {
	if code == "" {
		return nil
	}
	return &d4.CodeableConcept{Coding: []*d4.Coding{{System: pURI(system), Code: pCode(code)}}}
}

var conditionClinical = map[string]string{"active": "Active", "recurrence": "Recurrence", "relapse": "Relapse",
	"inactive": "Inactive", "remission": "Remission", "resolved": "Resolved"}
var conditionVerification = map[string]string{"unconfirmed": "Unconfirmed", "provisional": "Provisional",
	"differential": "Differential", "confirmed": "Confirmed", "refuted": "Refuted", "entered-in-error": "Entered in Error"}
var conditionCategory = map[string]string{"problem-list-item": "Problem List Item", "encounter-diagnosis": "Encounter Diagnosis"}

// hl7Concept is a coding from an HL7 code system whose displays are known.
func (s *buildState) hl7Concept(where, system, code string, displays map[string]string) *d4.CodeableConcept {
	if code == "" {
		return nil
	}
	d, ok := displays[code]
	if !ok {
		s.fail("%s %q is not a valid code", where, code)
	}
	return &d4.CodeableConcept{Coding: []*d4.Coding{{System: pURI(system), Code: pCode(code), Display: pStr(d)}}}
}

func (s *buildState) condition(c Condition, where string) string {
	s.requireCode(where+".Code", c.Code)
	id := s.newID()
	cond := &condpb.Condition{
		Id:                 pID(id),
		Meta:               pMeta("Condition"),
		ClinicalStatus:     s.hl7Concept(where+".ClinicalStatus", systemConditionClin, orDefault(c.ClinicalStatus, "active"), conditionClinical),
		VerificationStatus: s.hl7Concept(where+".VerificationStatus", systemConditionVer, c.VerificationStatus, conditionVerification),
		Code:               pConcept(c.Code),
		Subject:            pRef(s.patientURL),
		Encounter:          pRef(s.encounterURL),
		RecordedDate:       pDateTime(c.Recorded, s.loc()),
		Note:               pAnnotations(c.Note),
	}
	if cat := s.hl7Concept(where+".Category", systemConditionCat, c.Category, conditionCategory); cat != nil {
		cond.Category = []*d4.CodeableConcept{cat}
	}
	if !c.Onset.IsZero() {
		cond.Onset = &condpb.Condition_OnsetX{Choice: &condpb.Condition_OnsetX_DateTime{DateTime: pDateTime(c.Onset, s.loc())}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Condition{Condition: cond}})
}

var observationCategories = map[string]string{"social-history": "Social History", "vital-signs": "Vital Signs",
	"imaging": "Imaging", "laboratory": "Laboratory", "procedure": "Procedure", "survey": "Survey", "exam": "Exam",
	"therapy": "Therapy", "activity": "Activity"}

// observationValue builds value[x]; at most one of the three may be set.
func (s *buildState) observationValue(where string, q *Quantity, text string, cc *Concept) (qty *d4.Quantity, str *d4.String, concept *d4.CodeableConcept) {
	n := 0
	if q != nil {
		n++
		if q.Value == "" {
			s.fail("%s.Quantity.Value is required", where)
		}
		qty = pQuantity(q)
	}
	if text != "" {
		n++
		str = pStr(text)
	}
	if cc != nil {
		n++
		s.checkCodings(where+".ValueConcept", *cc)
		concept = pConcept(*cc)
	}
	if n > 1 {
		s.fail("%s has %d values; set one of Quantity, ValueText and ValueConcept", where, n)
	}
	return qty, str, concept
}

func (s *buildState) observation(o Observation, where string) string {
	s.requireCode(where+".Code", o.Code)
	st, err := enumCode[*obspb.Observation_StatusCode](orDefault(o.Status, "final"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	id := s.newID()
	obs := &obspb.Observation{
		Id:        pID(id),
		Meta:      pMeta("Observation"),
		Status:    st,
		Code:      pConcept(o.Code),
		Subject:   pRef(s.patientURL),
		Encounter: pRef(s.encounterURL),
		Performer: []*d4.Reference{pRef(s.authorURL)},
		Note:      pAnnotations(o.Note),
	}
	if cat := s.hl7Concept(where+".Category", systemObsCategory, o.Category, observationCategories); cat != nil {
		obs.Category = []*d4.CodeableConcept{cat}
	}
	if !o.Effective.IsZero() {
		obs.Effective = &obspb.Observation_EffectiveX{Choice: &obspb.Observation_EffectiveX_DateTime{DateTime: pDateTime(o.Effective, s.loc())}}
	}
	switch q, str, cc := s.observationValue(where, o.Quantity, o.ValueText, o.ValueConcept); {
	case q != nil:
		obs.Value = &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Quantity{Quantity: q}}
	case str != nil:
		obs.Value = &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_StringValue{StringValue: str}}
	case cc != nil:
		obs.Value = &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_CodeableConcept{CodeableConcept: cc}}
	}
	for i, c := range o.Components {
		cw := where + ".Components[" + strconv.Itoa(i) + "]"
		s.requireCode(cw+".Code", c.Code)
		comp := &obspb.Observation_Component{Code: pConcept(c.Code)}
		switch q, str, cc := s.observationValue(cw, c.Quantity, c.ValueText, c.ValueConcept); {
		case q != nil:
			comp.Value = &obspb.Observation_Component_ValueX{Choice: &obspb.Observation_Component_ValueX_Quantity{Quantity: q}}
		case str != nil:
			comp.Value = &obspb.Observation_Component_ValueX{Choice: &obspb.Observation_Component_ValueX_StringValue{StringValue: str}}
		case cc != nil:
			comp.Value = &obspb.Observation_Component_ValueX{Choice: &obspb.Observation_Component_ValueX_CodeableConcept{CodeableConcept: cc}}
		}
		obs.Component = append(obs.Component, comp)
	}
	if r := o.ReferenceRange; r != nil {
		obs.ReferenceRange = []*obspb.Observation_ReferenceRange{{
			Low: pSimpleQuantity(r.Low), High: pSimpleQuantity(r.High), Text: pStr(r.Text),
		}}
	}
	if o.Interpretation != nil {
		s.checkCodings(where+".Interpretation", *o.Interpretation)
		if cc := pConcept(*o.Interpretation); cc != nil {
			obs.Interpretation = []*d4.CodeableConcept{cc}
		}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Observation{Observation: obs}})
}

var allergyClinical = map[string]string{"active": "Active", "inactive": "Inactive", "resolved": "Resolved"}
var allergyVerification = map[string]string{"unconfirmed": "Unconfirmed", "confirmed": "Confirmed",
	"refuted": "Refuted", "entered-in-error": "Entered in Error"}

func (s *buildState) allergy(a Allergy, where string) string {
	s.requireCode(where+".Code", a.Code)
	id := s.newID()
	ai := &aipb.AllergyIntolerance{
		Id:                 pID(id),
		Meta:               pMeta("AllergyIntolerance"),
		ClinicalStatus:     s.hl7Concept(where+".ClinicalStatus", systemAllergyClin, orDefault(a.ClinicalStatus, "active"), allergyClinical),
		VerificationStatus: s.hl7Concept(where+".VerificationStatus", systemAllergyVer, orDefault(a.VerificationStatus, "confirmed"), allergyVerification),
		Code:               pConcept(a.Code),
		Patient:            pRef(s.patientURL),
		Encounter:          pRef(s.encounterURL),
		RecordedDate:       pDateTime(a.Recorded, s.loc()),
		Recorder:           pRef(s.authorURL),
		Note:               pAnnotations(a.Note),
	}
	if a.Category != "" {
		cat, err := enumCode[*aipb.AllergyIntolerance_CategoryCode](a.Category)
		if err != nil {
			s.fail("%s.Category: %w", where, err)
		}
		ai.Category = []*aipb.AllergyIntolerance_CategoryCode{cat}
	}
	if a.Criticality != "" {
		cr, err := enumCode[*aipb.AllergyIntolerance_CriticalityCode](a.Criticality)
		if err != nil {
			s.fail("%s.Criticality: %w", where, err)
		}
		ai.Criticality = cr
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_AllergyIntolerance{AllergyIntolerance: ai}})
}

func (s *buildState) procedure(p Procedure, where string) string {
	s.requireCode(where+".Code", p.Code)
	s.checkCodings(where+".Outcome", p.Outcome)
	st, err := enumCode[*procpb.Procedure_StatusCode](orDefault(p.Status, "completed"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	id := s.newID()
	pr := &procpb.Procedure{
		Id:        pID(id),
		Meta:      pMeta("Procedure"),
		Status:    st,
		Code:      pConcept(p.Code),
		Subject:   pRef(s.patientURL),
		Encounter: pRef(s.encounterURL),
		Outcome:   pConcept(p.Outcome),
		Note:      pAnnotations(p.Note),
	}
	if !p.Performed.IsZero() {
		pr.Performed = &procpb.Procedure_PerformedX{Choice: &procpb.Procedure_PerformedX_DateTime{DateTime: pDateTime(p.Performed, s.loc())}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Procedure{Procedure: pr}})
}

func (s *buildState) familyHistory(f FamilyHistory, where string) string {
	s.requireCode(where+".Relationship", f.Relationship)
	if len(f.Conditions) == 0 {
		s.fail("%s.Conditions needs at least one condition (FamilyMemberHistory.condition 1..*)", where)
	}
	id := s.newID()
	fh := &fmhpb.FamilyMemberHistory{
		Id:           pID(id),
		Meta:         pMeta("FamilyMemberHistory"),
		Status:       &fmhpb.FamilyMemberHistory_StatusCode{Value: c4.FamilyHistoryStatusCode_COMPLETED},
		Patient:      pRef(s.patientURL),
		Relationship: pConcept(f.Relationship),
		Note:         pAnnotations(f.Note),
	}
	for i, c := range f.Conditions {
		s.requireCode(where+".Conditions["+strconv.Itoa(i)+"]", c)
		fh.Condition = append(fh.Condition, &fmhpb.FamilyMemberHistory_Condition{Code: pConcept(c)})
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_FamilyMemberHistory{FamilyMemberHistory: fh}})
}

func (s *buildState) serviceRequest(r ServiceRequest, where string) string {
	s.requireCode(where+".Code", r.Code)
	st, err := enumCode[*srpb.ServiceRequest_StatusCode](orDefault(r.Status, "active"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	in, err := enumCode[*srpb.ServiceRequest_IntentCode](orDefault(r.Intent, "order"))
	if err != nil {
		s.fail("%s.Intent: %w", where, err)
	}
	id := s.newID()
	sr := &srpb.ServiceRequest{
		Id:         pID(id),
		Meta:       pMeta("ServiceRequest"),
		Status:     st,
		Intent:     in,
		Code:       pConcept(r.Code),
		Subject:    pRef(s.patientURL),
		Encounter:  pRef(s.encounterURL),
		AuthoredOn: pDateTime(orTime(r.AuthoredOn, s.doc.Date), s.loc()),
		Requester:  pRef(s.authorURL),
		Note:       pAnnotations(r.Note),
	}
	if !r.Occurrence.IsZero() {
		sr.Occurrence = &srpb.ServiceRequest_OccurrenceX{Choice: &srpb.ServiceRequest_OccurrenceX_DateTime{DateTime: pDateTime(r.Occurrence, s.loc())}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_ServiceRequest{ServiceRequest: sr}})
}

func (s *buildState) dosages(where string, ds []Dosage) []*d4.Dosage {
	var out []*d4.Dosage
	for i, d := range ds {
		dw := where + ".Dosage[" + strconv.Itoa(i) + "]"
		for _, c := range []struct {
			name string
			c    Concept
		}{{"Route", d.Route}, {"Method", d.Method}, {"Site", d.Site}} {
			s.checkCodings(dw+"."+c.name, c.c)
		}
		dos := &d4.Dosage{
			Text:   pStr(d.Text),
			Route:  pConcept(d.Route),
			Method: pConcept(d.Method),
			Site:   pConcept(d.Site),
		}
		for j, ai := range d.AdditionalInstructions {
			s.checkCodings(dw+".AdditionalInstructions["+strconv.Itoa(j)+"]", ai)
		}
		dos.AdditionalInstruction = pConcepts(d.AdditionalInstructions)
		if d.AsNeeded {
			dos.AsNeeded = &d4.Dosage_AsNeededX{Choice: &d4.Dosage_AsNeededX_Boolean{Boolean: &d4.Boolean{Value: true}}}
		}
		if d.Dose != nil {
			dos.DoseAndRate = []*d4.Dosage_DoseAndRate{{
				Dose: &d4.Dosage_DoseAndRate_DoseX{Choice: &d4.Dosage_DoseAndRate_DoseX_Quantity{Quantity: pSimpleQuantity(d.Dose)}},
			}}
		}
		if t := d.Timing; t != nil {
			rep := &d4.Timing_Repeat{Frequency: pPositiveInt(t.Frequency), Period: pDecimal(t.Period)}
			if t.PeriodUnit != "" {
				u, err := enumCode[*d4.Timing_Repeat_PeriodUnitCode](t.PeriodUnit)
				if err != nil {
					s.fail("%s.Timing.PeriodUnit: %w", dw, err)
				}
				rep.PeriodUnit = u
			}
			dos.Timing = &d4.Timing{Repeat: rep}
		}
		if d.Text == "" && d.Timing == nil && d.Dose == nil {
			s.fail("%s says nothing: give Text, Timing or Dose", dw)
		}
		out = append(out, dos)
	}
	return out
}

func (s *buildState) medicationRequest(m MedicationRequest, where string) string {
	s.requireCode(where+".Medication", m.Medication)
	if len(m.Dosage) == 0 {
		s.fail("%s.Dosage is required (the NRCeS MedicationRequest profile makes dosageInstruction 1..*)", where)
	}
	st, err := enumCode[*mrpb.MedicationRequest_StatusCode](orDefault(m.Status, "active"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	in, err := enumCode[*mrpb.MedicationRequest_IntentCode](orDefault(m.Intent, "order"))
	if err != nil {
		s.fail("%s.Intent: %w", where, err)
	}
	for i, r := range m.Reasons {
		s.checkCodings(where+".Reasons["+strconv.Itoa(i)+"]", r)
	}
	id := s.newID()
	mr := &mrpb.MedicationRequest{
		Id:     pID(id),
		Meta:   pMeta("MedicationRequest"),
		Status: st,
		Intent: in,
		Medication: &mrpb.MedicationRequest_MedicationX{
			Choice: &mrpb.MedicationRequest_MedicationX_CodeableConcept{CodeableConcept: pConcept(m.Medication)},
		},
		Subject:           pRef(s.patientURL),
		Encounter:         pRef(s.encounterURL),
		AuthoredOn:        pDateTime(orTime(m.AuthoredOn, s.doc.Date), s.loc()),
		Requester:         pRef(s.authorURL),
		ReasonCode:        pConcepts(m.Reasons),
		Note:              pAnnotations(m.Note),
		DosageInstruction: s.dosages(where, m.Dosage),
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_MedicationRequest{MedicationRequest: mr}})
}

func (s *buildState) medicationStatement(m MedicationStatement, where string) string {
	s.requireCode(where+".Medication", m.Medication)
	st, err := enumCode[*mspb.MedicationStatement_StatusCode](orDefault(m.Status, "completed"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	id := s.newID()
	ms := &mspb.MedicationStatement{
		Id:     pID(id),
		Meta:   pMeta("MedicationStatement"),
		Status: st,
		Medication: &mspb.MedicationStatement_MedicationX{
			Choice: &mspb.MedicationStatement_MedicationX_CodeableConcept{CodeableConcept: pConcept(m.Medication)},
		},
		Subject:      pRef(s.patientURL),
		Context:      pRef(s.encounterURL),
		DateAsserted: pDateTime(s.doc.Date, s.loc()),
		Note:         pAnnotations(m.Note),
		Dosage:       s.dosages(where, m.Dosage),
	}
	if !m.Effective.IsZero() {
		ms.Effective = &mspb.MedicationStatement_EffectiveX{Choice: &mspb.MedicationStatement_EffectiveX_DateTime{DateTime: pDateTime(m.Effective, s.loc())}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_MedicationStatement{MedicationStatement: ms}})
}

func (s *buildState) appointment(a Appointment, where string) string {
	if a.Start.IsZero() {
		s.fail("%s.Start is required (the NRCeS Appointment profile makes start 1..1)", where)
	}
	s.checkCodings(where+".ServiceType", a.ServiceType)
	st, err := enumCode[*apppb.Appointment_StatusCode](orDefault(a.Status, "booked"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	accepted := func(ref string) *apppb.Appointment_Participant {
		return &apppb.Appointment_Participant{
			Actor:  pRef(ref),
			Status: &apppb.Appointment_Participant_StatusCode{Value: c4.ParticipationStatusCode_ACCEPTED},
		}
	}
	id := s.newID()
	ap := &apppb.Appointment{
		Id:          pID(id),
		Meta:        pMeta("Appointment"),
		Status:      st,
		Description: pStr(a.Description),
		Start:       pInstant(a.Start, s.loc()),
		End:         pInstant(a.End, s.loc()),
		Participant: []*apppb.Appointment_Participant{accepted(s.patientURL), accepted(s.authorURL)},
	}
	if t := pConcept(a.ServiceType); t != nil {
		ap.ServiceType = []*d4.CodeableConcept{t}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Appointment{Appointment: ap}})
}

func (s *buildState) carePlan(c CarePlan, where string) string {
	if c.Title == "" && c.Description == "" {
		s.fail("%s needs a Title or Description", where)
	}
	s.checkCodings(where+".Category", c.Category)
	st, err := enumCode[*cppb.CarePlan_StatusCode](orDefault(c.Status, "active"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	in, err := enumCode[*cppb.CarePlan_IntentCode](orDefault(c.Intent, "plan"))
	if err != nil {
		s.fail("%s.Intent: %w", where, err)
	}
	id := s.newID()
	cp := &cppb.CarePlan{
		Id:          pID(id),
		Meta:        pMeta("CarePlan"),
		Status:      st,
		Intent:      in,
		Title:       pStr(c.Title),
		Description: pStr(c.Description),
		Subject:     pRef(s.patientURL),
		Encounter:   pRef(s.encounterURL),
		Author:      pRef(s.authorURL),
		Note:        pAnnotations(c.Note),
	}
	if cat := pConcept(c.Category); cat != nil {
		cp.Category = []*d4.CodeableConcept{cat}
	}
	if !c.Start.IsZero() || !c.End.IsZero() {
		cp.Period = &d4.Period{Start: pDateTime(c.Start, s.loc()), End: pDateTime(c.End, s.loc())}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_CarePlan{CarePlan: cp}})
}
