package nrces

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIdentityKinds(t *testing.T) {
	mr := `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]}`
	nrcesType := func(code string) string {
		return `{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code","code":"` + code + `"}]}`
	}
	tests := []struct {
		owner, identifier string
		kind, value       string
	}{
		// The IG examples: v2-0203 MR on the ABHA number.
		{"Patient", `{"type":` + mr + `,"system":"https://healthid.ndhm.gov.in","value":"22-7225-4829-5255"}`, "abha_number", "22-7225-4829-5255"},
		{"Patient", `{"system":"https://healthid.abdm.gov.in/","value":"91123456789012"}`, "abha_number", "91123456789012"},
		{"Patient", `{"system":"https://healthidsbx.abdm.gov.in","value":"asha@sbx"}`, "abha_address", "asha@sbx"},
		{"Patient", `{"type":` + nrcesType("ABHA") + `,"system":"https://ndhm.gov.in/id","value":"Meera.sharma@abha.in"}`, "abha_address", "Meera.sharma@abha.in"},
		{"Patient", `{"system":"https://projecteka.in/PHRID","value":"hinapatel79@ncg"}`, "abha_address", "hinapatel79@ncg"},
		{"Patient", `{"type":` + nrcesType("HIN") + `,"value":"91-1234-5678-9012"}`, "abha_number", "91-1234-5678-9012"},
		{"Patient", `{"type":` + mr + `,"system":"http://sunshine-clinic.in/patient","value":"UHID:123456789012"}`, "mrn", "UHID:123456789012"},
		{"Patient", `{"system":"https://www.max.in/patient","value":"RVH1003"}`, "mrn", "RVH1003"},
		{"Patient", `{"type":` + nrcesType("ADN") + `,"system":"https://ndhm.gov.in/id","value":"1234 5678 9012"}`, "aadhaar", "XXXXXXXX9012"},
		{"Patient", `{"system":"http://uidai.gov.in","value":"123456789012"}`, "aadhaar", "XXXXXXXX9012"},
		{"Patient", `{"system":"urn:hospital:ids","value":"1234 5678 9012"}`, "aadhaar", "XXXXXXXX9012"},
		{"Patient", `{"system":"urn:hospital:ids","value":"X-1"}`, "other", "X-1"},
		{"Organization", `{"system":"https://facilitysbx.ndhm.gov.in","value":"IN0410000183"}`, "hfr", "IN0410000183"},
		{"Organization", `{"system":"https://hfr.abdm.gov.in","value":"IN2710000001"}`, "hfr", "IN2710000001"},
		{"Practitioner", `{"system":"https://doctor.ndhm.gov.in","value":"21-1521-3828-3227"}`, "hpr", "21-1521-3828-3227"},
		{"Practitioner", `{"system":"https://nhpr.abdm.gov.in/practitioner","value":"71-0000"}`, "hpr", "71-0000"},
		{"Practitioner", `{"system":"https://www.mciindia.in/doctor","value":"MAX180414"}`, "registration", "MAX180414"},
		// Numbers where FHIR has strings are read, not rejected.
		{"Patient", `{"system":"https://www.max.in/patient","value":1003}`, "mrn", "1003"},
	}
	for _, tt := range tests {
		var id inIdentifier
		if err := json.Unmarshal([]byte(tt.identifier), &id); err != nil {
			t.Fatalf("%s: %v", tt.identifier, err)
		}
		n := newNormaliser(indiaZone, Provenance{})
		got := n.identity(id, tt.owner, "X.identifier[0]")
		if got.Kind != tt.kind || got.Value != tt.value {
			t.Errorf("%s %s: got %s %q, want %s %q", tt.owner, tt.identifier, got.Kind, got.Value, tt.kind, tt.value)
		}
		if (tt.kind == "aadhaar") != (len(n.probs.list) == 1 && n.probs.list[0].Code == "aadhaar-masked") {
			t.Errorf("%s: problems %+v", tt.identifier, n.probs.list)
		}
	}
}

func TestRecordTypeDetection(t *testing.T) {
	tests := []struct {
		composition string
		want, from  string
	}{
		{`{"meta":{"profile":["https://nrces.in/ndhm/fhir/r4/StructureDefinition/ImmunizationRecord"]},"type":{"text":"whatever"}}`, "ImmunizationRecord", "profile"},
		{`{"meta":{"profile":["http://nrces.in/ndhm/fhir/r4/StructureDefinition/OPConsultRecord"]}}`, "OPConsultation", "profile"},
		{`{"type":{"coding":[{"system":"https://projecteka.in/sct","code":"440545006"}]}}`, "Prescription", "snomed"},
		{`{"type":{"coding":[{"system":"https://ndhm.gov.in/sct","code":"373942005"}]}}`, "DischargeSummary", "snomed"},
		{`{"type":{"coding":[{"system":"http://loinc.org","code":"28655-9"}]}}`, "DischargeSummary", "loinc"},
		{`{"type":{"text":"Wellness Record"}}`, "WellnessRecord", "text"},
		{`{"type":{"text":"Invoice Record"}}`, "Invoice", "text"},
		{`{"type":{"coding":[{"system":"http://loinc.org","code":"60591-5","display":"Patient summary Document"}]},"title":"Complete Diagnostic Report"}`, "DiagnosticReport", "text"},
		{`{"type":{"coding":[{"system":"http://loinc.org","code":"34133-9"}],"text":"Summary of episode note"}}`, "", ""},
	}
	for _, tt := range tests {
		var comp inResource
		if err := json.Unmarshal([]byte(tt.composition), &comp); err != nil {
			t.Fatal(err)
		}
		got, from := recordTypeOf(&comp, newBundleIndex(0))
		if got != tt.want || from != tt.from {
			t.Errorf("%s: got %q from %q, want %q from %q", tt.composition, got, from, tt.want, tt.from)
		}
	}
}

func TestResolveReferences(t *testing.T) {
	ix := newBundleIndex(4)
	ix.addNode(bundleNode{res: &inResource{ResourceType: "Patient", ID: "p1"}, fullURL: "urn:uuid:4e752cd4-dc21-46ea-a16f-35e8429ff7ef"})
	ix.addNode(bundleNode{res: &inResource{ResourceType: "Practitioner", ID: "d1"}, fullURL: "https://hip.example/fhir/Practitioner/d1"})
	ix.addNode(bundleNode{res: &inResource{ResourceType: "Organization", ID: "o1"}, fullURL: "Organization/o1"})
	ix.addNode(bundleNode{res: &inResource{ResourceType: "Condition", ID: "4e752cd4"}})
	tests := []struct{ ref, want string }{
		{"urn:uuid:4e752cd4-dc21-46ea-a16f-35e8429ff7ef", "Patient"},
		{"Patient/p1", "Patient"},
		{"Practitioner/d1", "Practitioner"},
		{"https://hip.example/fhir/Practitioner/d1", "Practitioner"},
		{"https://other.example/fhir/Practitioner/d1/_history/2", "Practitioner"},
		{"Organization/o1", "Organization"},
		{"o1", "Organization"},
		{"urn:uuid:4e752cd4", "Condition"},
		{"Observation/missing", ""},
		{"#contained", ""},
	}
	for _, tt := range tests {
		node, ok := ix.resolve(tt.ref)
		got := ""
		if ok {
			got = node.res.ResourceType
		}
		if got != tt.want {
			t.Errorf("resolve(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestEntrySummary(t *testing.T) {
	rec := readCrafted(t, craftedBundle(
		`{"resourceType":"Observation","id":"o","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7","display":"Hemoglobin"}]},`+
			`"effectiveDateTime":"2024-01-05","valueQuantity":{"value":10.5,"unit":"g/dL"},"interpretation":[{"text":"Low"}],`+
			`"referenceRange":[{"low":{"value":12,"unit":"g/dL"},"high":{"value":16,"unit":"g/dL"}}]}`,
		`{"resourceType":"MedicationStatement","id":"m","status":"active","medicationCodeableConcept":{"text":"Metformin 500 mg"},`+
			`"dosage":[{"doseAndRate":[{"doseQuantity":{"value":1,"unit":"tablet"}}],"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},"route":{"text":"oral"}}]}`))
	want := []string{
		"Hemoglobin: 10.5 g/dL [Low] (ref 12 g/dL – 16 g/dL); 2024-01-05",
		"Metformin 500 mg; 1 tablet, 2 per 1 d, oral",
	}
	for i, e := range rec.Entries {
		if got := e.Summary(); got != want[i] {
			t.Errorf("summary %q, want %q", got, want[i])
		}
	}
	if o := rec.Entries[0].Observation; !o.LOINC || o.Quantity.Value != "10.5" {
		t.Errorf("observation %+v", o)
	}
	if !strings.Contains(rec.Entries[1].Resource, "MedicationStatement") {
		t.Errorf("resource %q", rec.Entries[1].Resource)
	}
}

// Contained resources and narrative-only sections become entries: they may
// be the only copy of what they say.
func TestReadContainedAndNarrative(t *testing.T) {
	data := []byte(`{"resourceType":"Bundle","type":"document","entry":[
		{"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","id":"c","status":"final","title":"Lab",
			"type":{"coding":[{"system":"http://snomed.info/sct","code":"721981007"}]},
			"section":[{"title":"Results","entry":[{"reference":"urn:uuid:r"}]},
				{"title":"Advice","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Repeat   test</p><p>in 3 months &amp; review</p></div>"}}]}},
		{"fullUrl":"urn:uuid:r","resource":{"resourceType":"DiagnosticReport","id":"r","status":"final","code":{"text":"Thyroid panel"},
			"result":[{"reference":"#tsh"}],
			"contained":[{"resourceType":"Observation","id":"tsh","status":"final","code":{"text":"TSH"},"valueQuantity":{"value":2.1,"unit":"mIU/L"}}]}}
	]}`)
	rec := readCrafted(t, data)
	var got []string
	for _, e := range rec.Entries {
		got = append(got, string(e.Kind)+"|"+e.Section+"|"+e.Summary()+"|"+e.Path+"|"+strings.Join(e.Notes, ","))
	}
	want := []string{
		"diagnostic_report|Results|Thyroid panel; 1 results|Bundle.entry[1].resource|",
		"observation|Results|TSH: 2.1 mIU/L|Bundle.entry[1].resource.contained[0]|",
		"other|Advice|Advice|Bundle.entry[0].resource.section[1]|Repeat test in 3 months & review",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
