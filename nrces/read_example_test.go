package nrces_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sangamhealth/sangam/nrces"
)

// An HIU reads a decrypted bundle from a data push. The bundle has the
// habits of many producers: a relative fullUrl, ProjectEKA's SNOMED system
// URI, a dateTime without a time zone. They are repaired and reported;
// nothing stops the read.
func ExampleRead() {
	bundle := []byte(`{
	  "resourceType": "Bundle", "type": "document", "timestamp": "2024-01-05T10:00:00+05:30",
	  "entry": [
	    {"fullUrl": "Composition/c1", "resource": {"resourceType": "Composition", "id": "c1", "status": "final",
	      "type": {"coding": [{"system": "https://projecteka.in/sct", "code": "371530004"}]},
	      "title": "OP consultation", "date": "2024-01-05T10:00:00+05:30",
	      "subject": {"reference": "Patient/p1"}, "author": [{"display": "Dr. Mehta"}],
	      "section": [{"title": "Vitals", "entry": [{"reference": "Observation/o1"}]}]}},
	    {"fullUrl": "Patient/p1", "resource": {"resourceType": "Patient", "id": "p1", "name": [{"text": "Asha Rao"}],
	      "identifier": [{"system": "https://healthid.abdm.gov.in", "value": "91-1234-5678-9012"}]}},
	    {"fullUrl": "Observation/o1", "resource": {"resourceType": "Observation", "id": "o1", "status": "final",
	      "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
	      "effectiveDateTime": "2024-01-05T09:45:00",
	      "valueQuantity": {"value": 72, "unit": "beats/minute"}}}
	  ]}`)
	prov := nrces.Provenance{HIP: "max-saket", CareContext: "visit-17", Consent: "c-42",
		ReceivedAt: time.Date(2024, 1, 6, 8, 0, 0, 0, time.UTC)}

	rec, err := nrces.Read(context.Background(), bundle, prov)
	if err != nil {
		fmt.Println(err) // only a cancelled context
		return
	}
	fmt.Println(rec.RecordType, "for", rec.Patient.Name, rec.Patient.Identities[0].Kind)
	for _, e := range rec.Entries {
		fmt.Printf("%s in %q: %s (from %s)\n", e.Kind, e.Section, e.Summary(), e.Provenance.HIP)
	}
	for _, p := range rec.Problems {
		fmt.Println(p.Severity, p.Code, p.Path)
	}
	// Output:
	// OPConsultation for Asha Rao abha_number
	// observation in "Vitals": Heart rate: 72 beats/minute; 2024-01-05 (from max-saket)
	// info relative-fullurl Bundle.entry[0].fullUrl
	// warning code-system-alias Bundle.entry[0].resource.type
	// info datetime-without-zone Bundle.entry[2].resource.effectiveDateTime
}
