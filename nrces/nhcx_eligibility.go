package nrces

import (
	"context"
	"fmt"
	"strconv"

	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	cerpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/coverage_eligibility_request_go_proto"
)

// CoverageEligibilityRequest builds a CoverageEligibilityRequestBundle
// (profiles/CoverageEligibilityRequestBundle.fsh,
// CoverageEligibilityRequest.fsh): the request first, then the patient,
// enterer, provider, facility, insurer and coverage.
//
// Missing or malformed input gives an error wrapping ErrInvalidDocument
// that names the field; a bundle that fails the gate a *RejectedError.
func (b *Builder) CoverageEligibilityRequest(ctx context.Context, req *EligibilityRequest) (*Built, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: %s: no request", ErrInvalidDocument, kindEligibilityRequest.profile)
	}
	s := b.newNHCXState()
	bundleID, cerID := s.newID(), s.newID()

	s.patientURL = s.patient(req.Patient)
	entererURL := s.practitioner("Enterer", req.Enterer)
	providerURL := s.provider("Provider", req.Provider)
	facility := Location{Name: req.Provider.Name}
	if req.Facility != nil {
		facility = *req.Facility
		if facility.Name == "" {
			s.fail("Facility.Name is required")
		}
	}
	facilityURL := s.location(facility, providerURL)
	insurerURL := s.insurer("Insurer", req.Insurer)
	coverageURL := s.coverage(req.Coverage, s.patientURL, insurerURL)

	if len(req.Purposes) == 0 {
		s.fail("Purposes needs at least one of validation, benefits, auth-requirements, discovery (CoverageEligibilityRequest.purpose 1..*)")
	}
	var purposes []*cerpb.CoverageEligibilityRequest_PurposeCode
	for i, p := range req.Purposes {
		pc, err := enumCode[*cerpb.CoverageEligibilityRequest_PurposeCode](string(p))
		if err != nil {
			s.fail("Purposes[%d]: %w", i, err)
			continue
		}
		purposes = append(purposes, pc)
	}

	cer := &cerpb.CoverageEligibilityRequest{
		Id:         pID(cerID),
		Meta:       pMeta("CoverageEligibilityRequest"),
		Identifier: []*d4.Identifier{s.businessID("Identifier", req.Identifier, cerID)},
		Status:     &cerpb.CoverageEligibilityRequest_StatusCode{Value: c4.FinancialResourceStatusCode_ACTIVE},
		Priority:   s.priority("Priority", req.Priority),
		Purpose:    purposes,
		Patient:    pRef(s.patientURL),
		Created:    pDateTime(orTime(req.Created, s.now), s.loc()),
		Enterer:    pRef(entererURL),
		Provider:   pRef(providerURL),
		Insurer:    pRef(insurerURL),
		Facility:   pRef(facilityURL),
		Insurance: []*cerpb.CoverageEligibilityRequest_Insurance{{
			Focal:    &d4.Boolean{Value: true},
			Coverage: pRef(coverageURL),
		}},
	}
	if p := pPeriod(req.ServicedFrom, req.ServicedTo, s.loc()); p != nil {
		cer.Serviced = &cerpb.CoverageEligibilityRequest_ServicedX{
			Choice: &cerpb.CoverageEligibilityRequest_ServicedX_Period{Period: p},
		}
	}
	for i, it := range req.Items {
		cer.Item = append(cer.Item, s.eligibilityItem("Items["+strconv.Itoa(i)+"]", it, providerURL))
	}

	bundle := s.bundle(bundleID, kindEligibilityRequest.profile, focalEntry(cerID, &bcrpb.ContainedResource{
		OneofResource: &bcrpb.ContainedResource_CoverageEligibilityRequest{CoverageEligibilityRequest: cer},
	}))
	return b.finishNHCX(ctx, kindEligibilityRequest, s, bundle)
}

func (s *nhcxState) eligibilityItem(where string, it EligibilityItem, providerURL string) *cerpb.CoverageEligibilityRequest_Details {
	d := &cerpb.CoverageEligibilityRequest_Details{
		Category:         s.optionalConcept(where+".Category", it.Category),
		ProductOrService: s.codedConcept(where+".ProductOrService", it.ProductOrService),
		Quantity:         pSimpleQuantity(it.Quantity),
		Facility:         pRef(providerURL),
	}
	if it.UnitPrice != "" {
		d.UnitPrice = s.money(where+".UnitPrice", it.UnitPrice, "INR")
	}
	for j, dx := range it.Diagnoses {
		dw := where + ".Diagnoses[" + strconv.Itoa(j) + "]"
		s.requireCode(dw, dx)
		d.Diagnosis = append(d.Diagnosis, &cerpb.CoverageEligibilityRequest_Details_Diagnosis{
			Diagnosis: &cerpb.CoverageEligibilityRequest_Details_Diagnosis_DiagnosisX{
				Choice: &cerpb.CoverageEligibilityRequest_Details_Diagnosis_DiagnosisX_CodeableConcept{CodeableConcept: pConcept(dx)},
			},
		})
	}
	return d
}
