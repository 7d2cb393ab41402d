package nrces

import (
	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	encpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/encounter_go_proto"
	orgpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/organization_go_proto"
	patpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/patient_go_proto"
	prpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/practitioner_go_proto"
)

// Participants: Patient, Practitioner, Organization, Encounter
// (profiles/Patient.fsh, Practitioner.fsh, Organization.fsh, Encounter.fsh).
// Identifier types follow the IG examples: v2-0203 MR for the ABHA number,
// MD for the HPR id and PRN for the HFR id.

func phone(number string) []*d4.ContactPoint {
	if number == "" {
		return nil
	}
	return []*d4.ContactPoint{{
		System: &d4.ContactPoint_SystemCode{Value: c4.ContactPointSystemCode_PHONE},
		Value:  pStr(number),
	}}
}

func (s *buildState) extraIdentifiers(who string, ids []Identifier) []*d4.Identifier {
	var out []*d4.Identifier
	for i, id := range ids {
		if id.Value == "" || id.Type.Code == "" || !isAbsURI(id.System) {
			s.fail("%s.Identifiers[%d] needs a type, an absolute-URI system and a value", who, i)
			continue
		}
		out = append(out, pIdentifier(id.Type, id.System, id.Value))
	}
	return out
}

func (s *buildState) patient(p Patient) string {
	if p.Name == "" {
		s.fail("Patient.Name is required")
	}
	var ids []*d4.Identifier
	if p.ABHANumber != "" {
		if !abhaNumberPattern.MatchString(p.ABHANumber) {
			s.fail("Patient.ABHANumber %q is not a 14-digit ABHA number", p.ABHANumber)
		}
		ids = append(ids, pIdentifier(idTypeMR, s.cfg.ABHASystem, p.ABHANumber))
	}
	if p.ABHAAddress != "" {
		if !abhaAddressPattern.MatchString(p.ABHAAddress) {
			s.fail("Patient.ABHAAddress %q is not an ABHA address like name@abdm", p.ABHAAddress)
		}
		ids = append(ids, pIdentifier(idTypeABHA, s.cfg.ABHASystem, p.ABHAAddress))
	}
	ids = append(ids, s.extraIdentifiers("Patient", p.Identifiers)...)
	if len(ids) == 0 {
		s.fail("Patient needs an identifier: ABHANumber, ABHAAddress or Identifiers (the NRCeS Patient profile makes identifier 1..*)")
	}
	id := s.newID()
	pat := &patpb.Patient{
		Id:         pID(id),
		Meta:       pMeta("Patient"),
		Identifier: ids,
		Name:       []*d4.HumanName{{Text: pStr(p.Name)}},
		Telecom:    phone(p.Phone),
	}
	if p.Gender != "" {
		g, err := enumCode[*patpb.Patient_GenderCode](p.Gender)
		if err != nil {
			s.fail("Patient.Gender: %w", err)
		}
		pat.Gender = g
	}
	bd, err := pDate(p.BirthDate, s.loc())
	if err != nil {
		s.fail("Patient.BirthDate: %w", err)
	}
	pat.BirthDate = bd
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Patient{Patient: pat}})
}

func (s *buildState) practitioner(p Practitioner) string {
	if p.Name == "" {
		s.fail("Author.Name is required")
	}
	var ids []*d4.Identifier
	if p.HPRID != "" {
		ids = append(ids, pIdentifier(idTypeMD, s.cfg.HPRSystem, p.HPRID))
	}
	ids = append(ids, s.extraIdentifiers("Author", p.Identifiers)...)
	if len(ids) == 0 {
		s.fail("Author needs an identifier: HPRID or Identifiers (the NRCeS Practitioner profile makes identifier 1..*)")
	}
	id := s.newID()
	pr := &prpb.Practitioner{
		Id:         pID(id),
		Meta:       pMeta("Practitioner"),
		Identifier: ids,
		Name:       []*d4.HumanName{{Text: pStr(p.Name)}},
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Practitioner{Practitioner: pr}})
}

func (s *buildState) organization(o Organization) string {
	if o.Name == "" {
		s.fail("Organization.Name is required")
	}
	if o.HFRID == "" {
		s.fail("Organization.HFRID is required: the facility is identified by its HFR id")
	}
	id := s.newID()
	org := &orgpb.Organization{
		Id:         pID(id),
		Meta:       pMeta("Organization"),
		Identifier: []*d4.Identifier{pIdentifier(idTypePRN, s.cfg.HFRSystem, o.HFRID)},
		Name:       pStr(o.Name),
		Telecom:    phone(o.Phone),
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Organization{Organization: org}})
}

// encounterClasses are the v3-ActCode classes an ABDM encounter uses.
var encounterClasses = map[string]string{
	"AMB": "ambulatory", "IMP": "inpatient encounter", "EMER": "emergency",
	"HH": "home health", "VR": "virtual", "SS": "short stay", "ACUTE": "inpatient acute", "OBSENC": "observation encounter",
}

func (s *buildState) encounter(e Encounter) string {
	class := e.Class
	if class == "" {
		class = "AMB"
	}
	display, ok := encounterClasses[class]
	if !ok {
		s.fail("Encounter.Class %q is not one of AMB, IMP, EMER, HH, VR, SS, ACUTE, OBSENC", class)
	}
	status := e.Status
	if status == "" {
		status = "finished"
	}
	st, err := enumCode[*encpb.Encounter_StatusCode](status)
	if err != nil {
		s.fail("Encounter.Status: %w", err)
	}
	id := s.newID()
	enc := &encpb.Encounter{
		Id:              pID(id),
		Meta:            pMeta("Encounter"),
		Status:          st,
		ClassValue:      pCoding(Coding{systemActCode, class, display}),
		Subject:         pRef(s.patientURL),
		ServiceProvider: pRef(s.orgURL),
	}
	if t := pConcept(e.Type); t != nil {
		enc.Type = []*d4.CodeableConcept{t}
	}
	if e.Identifier != nil {
		if e.Identifier.Value == "" || !isAbsURI(e.Identifier.System) {
			s.fail("Encounter.Identifier needs an absolute-URI system and a value")
		}
		enc.Identifier = []*d4.Identifier{pIdentifier(e.Identifier.Type, e.Identifier.System, e.Identifier.Value)}
	}
	if !e.Start.IsZero() || !e.End.IsZero() {
		enc.Period = &d4.Period{Start: pDateTime(e.Start, s.loc()), End: pDateTime(e.End, s.loc())}
	}
	if dd := pConcept(e.DischargeDisposition); dd != nil {
		enc.Hospitalization = &encpb.Encounter_Hospitalization{DischargeDisposition: dd}
	}
	if s.authorURL != "" {
		enc.Participant = []*encpb.Encounter_Participant{{Individual: pRef(s.authorURL)}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Encounter{Encounter: enc}})
}
