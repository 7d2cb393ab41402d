package nrces_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sangamhealth/sangam/nrces"
)

func ExampleBuilder_Claim() {
	ist := time.FixedZone("IST", 5*3600+1800)
	n := 0
	b, err := nrces.NewBuilder(nrces.Config{
		Now:   func() time.Time { return time.Date(2026, 3, 7, 12, 0, 0, 0, ist) },
		NewID: func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) },
	})
	if err != nil {
		panic(err)
	}
	lab, _ := nrces.SupportingInfoCategory("INV")
	labReport, _ := nrces.SupportingInfoCode("LIR")
	built, err := b.Claim(context.Background(), &nrces.ClaimRequest{
		Use:        nrces.ClaimUsePreauthorization,
		Identifier: nrces.Identifier{System: "https://hospital.example/claims", Value: "CLM-42"},
		Type:       nrces.ClaimTypeInpatient,
		Patient:    nrces.Patient{Name: "Asha Rao", Gender: "female", ABHANumber: "91-1234-5678-9012"},
		Provider:   nrces.Provider{Name: "Sangam City Hospital", HFRID: "IN2710000123"},
		Insurer:    nrces.Insurer{Name: "XYZ Insurance", ParticipantCode: "1000003538@hcx"},
		Coverage:   nrces.Coverage{PolicyNumber: "100217", MemberID: "ABC123456BI007"},
		Diagnoses: []nrces.Diagnosis{{
			Code:  nrces.ConceptOf(nrces.ICD10("K35.8", "Acute appendicitis, other and unspecified")),
			Types: []nrces.Coding{nrces.DiagnosisTypeAdmitting},
		}},
		Items: []nrces.ClaimItem{
			{ProductOrService: nrces.SNOMED("80146002", "Appendectomy"), UnitPrice: "45000"},
			{ProductOrService: nrces.SNOMED("309904001", "Intensive care unit"), UnitPrice: "2500.50",
				Quantity: &nrces.Quantity{Value: "2", Unit: "day"}},
		},
		SupportingInfo: []nrces.SupportingInfo{{
			Category: lab, Code: labReport,
			Document: &nrces.ClaimDocument{
				File: nrces.File{ContentType: "application/pdf", Data: []byte("%PDF-1.4 …"), Title: "CBC"},
				// The report comes from the group's diagnostic centre.
				Origin: &nrces.Provider{Name: "Sangam Diagnostics", HFRID: "IN2710000456"},
			},
		}},
	})
	if err != nil {
		panic(err)
	}

	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			Resource struct {
				ResourceType string          `json:"resourceType"`
				Total        json.RawMessage `json:"total"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(built.JSON, &bundle); err != nil {
		panic(err)
	}
	fmt.Println(bundle.Type, len(built.Warnings), "warnings")
	for _, e := range bundle.Entry {
		if e.Resource.Total != nil {
			fmt.Println(e.Resource.ResourceType, "total", string(e.Resource.Total))
			continue
		}
		fmt.Println(e.Resource.ResourceType)
	}
	// Output:
	// collection 0 warnings
	// Claim total {"currency":"INR","value":50001.00}
	// Patient
	// Organization
	// Organization
	// Coverage
	// Organization
	// DocumentReference
}
