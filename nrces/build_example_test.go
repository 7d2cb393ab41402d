package nrces_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sangamhealth/sangam/nrces"
)

func ExampleBuilder_Build() {
	ist := time.FixedZone("IST", 5*3600+1800)
	n := 0
	b, err := nrces.NewBuilder(nrces.Config{
		Now:   func() time.Time { return time.Date(2026, 11, 24, 10, 30, 0, 0, ist) },
		NewID: func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) },
	})
	if err != nil {
		panic(err)
	}
	built, err := b.Build(context.Background(), &nrces.Document{
		Type:         nrces.PrescriptionRecord,
		Date:         time.Date(2026, 11, 24, 10, 0, 0, 0, ist),
		Patient:      nrces.Patient{Name: "Asha Rao", Gender: "female", ABHANumber: "91-1234-5678-9012"},
		Author:       nrces.Practitioner{Name: "Dr. Vikram Mehta", HPRID: "71-4460-1234-5678"},
		Organization: nrces.Organization{Name: "Sangam City Hospital", HFRID: "IN2710000123"},
		Medications: []nrces.MedicationRequest{{
			Medication: nrces.ConceptOf(nrces.SNOMED("322236009", "Paracetamol 500 mg oral tablet")),
			Dosage:     []nrces.Dosage{{Text: "One tablet three times a day for 5 days"}},
		}},
	})
	if err != nil {
		panic(err)
	}

	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			FullURL  string `json:"fullUrl"`
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(built.JSON, &bundle); err != nil {
		panic(err)
	}
	fmt.Println(bundle.Type, len(built.Warnings), "warnings")
	for _, e := range bundle.Entry {
		fmt.Println(e.FullURL, e.Resource.ResourceType)
	}

	g, err := nrces.NewGate()
	if err != nil {
		panic(err)
	}
	findings, err := g.Check(context.Background(), built.JSON)
	if err != nil {
		panic(err)
	}
	fmt.Println("gate findings:", len(findings))
	// Output:
	// document 0 warnings
	// urn:uuid:00000000-0000-4000-8000-000000000002 Composition
	// urn:uuid:00000000-0000-4000-8000-000000000003 Patient
	// urn:uuid:00000000-0000-4000-8000-000000000004 Practitioner
	// urn:uuid:00000000-0000-4000-8000-000000000005 Organization
	// urn:uuid:00000000-0000-4000-8000-000000000006 MedicationRequest
	// gate findings: 0
}
