package nrces

import (
	"strconv"

	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	immpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/immunization_go_proto"
	irpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/immunization_recommendation_go_proto"
)

// Immunization and ImmunizationRecommendation (profiles/Immunization.fsh,
// ImmunizationRecommendation.fsh, extensions/BrandName.fsh).

// immunizationRecStatus is HL7's immunization-recommendation-status.
var immunizationRecStatus = map[string]string{"due": "Due", "overdue": "Overdue", "immune": "Immune",
	"contraindicated": "Contraindicated", "complete": "Complete"}

func (s *buildState) immunization(im Immunization, where string) string {
	s.requireCode(where+".VaccineCode", im.VaccineCode)
	s.checkCodings(where+".Route", im.Route)
	s.checkCodings(where+".Site", im.Site)
	if im.Occurrence.IsZero() {
		s.fail("%s.Occurrence is required (Immunization.occurrence[x] 1..1)", where)
	}
	st, err := enumCode[*immpb.Immunization_StatusCode](orDefault(im.Status, "completed"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}
	id := s.newID()
	imm := &immpb.Immunization{
		Id:          pID(id),
		Meta:        pMeta("Immunization"),
		Status:      st,
		VaccineCode: pConcept(im.VaccineCode),
		Patient:     pRef(s.patientURL),
		Encounter:   pRef(s.encounterURL),
		Occurrence: &immpb.Immunization_OccurrenceX{
			Choice: &immpb.Immunization_OccurrenceX_DateTime{DateTime: pDateTime(im.Occurrence, s.loc())},
		},
		PrimarySource: &d4.Boolean{Value: true},
		Manufacturer:  pDisplayRef(im.Manufacturer),
		LotNumber:     pStr(im.LotNumber),
		Route:         pConcept(im.Route),
		Site:          pConcept(im.Site),
		Performer:     []*immpb.Immunization_Performer{{Actor: pRef(s.authorURL)}},
	}
	if im.BrandName != "" {
		imm.Extension = []*d4.Extension{{
			Url:   pURI(profileBase + "BrandName"),
			Value: &d4.Extension_ValueX{Choice: &d4.Extension_ValueX_StringValue{StringValue: pStr(im.BrandName)}},
		}}
	}
	if im.DoseNumber > 0 || im.Series != "" || len(im.TargetDiseases) > 0 {
		pa := &immpb.Immunization_ProtocolApplied{Series: pStr(im.Series), TargetDisease: pConcepts(im.TargetDiseases)}
		// doseNumber[x] is 1..1 in a protocolApplied.
		dose := max(im.DoseNumber, 1)
		pa.DoseNumber = &immpb.Immunization_ProtocolApplied_DoseNumberX{
			Choice: &immpb.Immunization_ProtocolApplied_DoseNumberX_PositiveInt{PositiveInt: pPositiveInt(dose)},
		}
		imm.ProtocolApplied = []*immpb.Immunization_ProtocolApplied{pa}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Immunization{Immunization: imm}})
}

func (s *buildState) immunizationRecommendation(r ImmunizationRecommendation) string {
	where := "ImmunizationRecommendation"
	if len(r.Recommendations) == 0 {
		s.fail("%s.Recommendations needs at least one", where)
	}
	id := s.newID()
	ir := &irpb.ImmunizationRecommendation{
		Id:      pID(id),
		Meta:    pMeta("ImmunizationRecommendation"),
		Patient: pRef(s.patientURL),
		Date:    pDateTime(orTime(r.Date, s.doc.Date), s.loc()),
	}
	for i, rec := range r.Recommendations {
		rw := where + ".Recommendations[" + strconv.Itoa(i) + "]"
		if rec.Vaccine.IsZero() && rec.TargetDisease.IsZero() {
			s.fail("%s needs a Vaccine or a TargetDisease (imr-1)", rw)
		}
		s.checkCodings(rw+".Vaccine", rec.Vaccine)
		s.checkCodings(rw+".TargetDisease", rec.TargetDisease)
		status := s.hl7Concept(rw+".ForecastStatus", systemImmRecStatus, orDefault(rec.ForecastStatus, "due"), immunizationRecStatus)
		out := &irpb.ImmunizationRecommendation_Recommendation{
			TargetDisease:  pConcept(rec.TargetDisease),
			ForecastStatus: status,
			Description:    pStr(rec.Description),
			Series:         pStr(rec.Series),
		}
		if v := pConcept(rec.Vaccine); v != nil {
			out.VaccineCode = []*d4.CodeableConcept{v}
		}
		if !rec.DueDate.IsZero() {
			out.DateCriterion = []*irpb.ImmunizationRecommendation_Recommendation_DateCriterion{{
				Code:  &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(LOINC("30980-7", "Date vaccine due"))}},
				Value: pDateTime(rec.DueDate, s.loc()),
			}}
		}
		if rec.DoseNumber > 0 {
			out.DoseNumber = &irpb.ImmunizationRecommendation_Recommendation_DoseNumberX{
				Choice: &irpb.ImmunizationRecommendation_Recommendation_DoseNumberX_PositiveInt{PositiveInt: pPositiveInt(rec.DoseNumber)},
			}
		}
		ir.Recommendation = append(ir.Recommendation, out)
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_ImmunizationRecommendation{ImmunizationRecommendation: ir}})
}
