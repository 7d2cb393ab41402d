package nrces

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// craftedBundle wraps resources (JSON objects) in a document bundle with a
// Composition listing them, each with a urn:uuid fullUrl unless it is
// given as "fullUrl|resource".
func craftedBundle(resources ...string) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","id":"b1","type":"document","timestamp":"2024-01-05T10:00:00+05:30","entry":[`)
	b.WriteString(`{"fullUrl":"urn:uuid:c0","resource":{"resourceType":"Composition","id":"c0","status":"final",` +
		`"type":{"coding":[{"system":"http://snomed.info/sct","code":"371530004","display":"Clinical consultation report"}]},` +
		`"subject":{"reference":"urn:uuid:p1"},"date":"2024-01-05T10:00:00+05:30","author":[{"display":"Dr A"}],"title":"Consultation"}},`)
	b.WriteString(`{"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient","id":"p1","name":[{"text":"Asha"}]}}`)
	for i, r := range resources {
		full := "urn:uuid:r" + string(rune('a'+i))
		if k := strings.Index(r, "|"); k > 0 && !strings.HasPrefix(r, "{") {
			full, r = r[:k], r[k+1:]
		}
		b.WriteString(`,{"fullUrl":"` + full + `","resource":` + r + `}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func readCrafted(t *testing.T, data []byte) *Record {
	t.Helper()
	rec, err := Read(context.Background(), data, Provenance{HIP: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// parseWithGoogle parses data with google/fhir/go's strict R4 parser.
func parseWithGoogle(t *testing.T, data []byte) (*bcrpb.ContainedResource, error) {
	t.Helper()
	u, err := jsonformat.NewUnmarshallerWithoutValidation("UTC", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := u.Unmarshal(data)
	cr, _ := msg.(*bcrpb.ContainedResource)
	return cr, err
}

// cleanAndParse runs CleanR4 and checks that google/fhir/go rejected the
// input before and accepts it after.
func cleanAndParse(t *testing.T, data []byte) (*bcrpb.ContainedResource, []Problem) {
	t.Helper()
	if _, err := parseWithGoogle(t, data); err == nil {
		t.Fatal("google/fhir/go accepts the input already; the rule is not exercised")
	}
	clean, probs, err := CleanR4(data, nil)
	if err != nil {
		t.Fatalf("CleanR4: %v", err)
	}
	cr, err := parseWithGoogle(t, clean)
	if err != nil {
		t.Fatalf("google/fhir/go rejects the cleaned document: %v\n%s", err, clean)
	}
	return cr, probs
}

func problemWith(probs []Problem, code string) *Problem {
	for i := range probs {
		if probs[i].Code == code {
			return &probs[i]
		}
	}
	return nil
}

func TestCleanupUnknownProperty(t *testing.T) {
	data := []byte(`{"resourceType":"Patient","id":"p1","gender":"female","hisInternalKey":"x","name":[{"text":"Asha","nickname":"A"}]}`)
	cr, probs := cleanAndParse(t, data)
	if got := cr.GetPatient().GetName()[0].GetText().GetValue(); got != "Asha" {
		t.Errorf("name %q after clean-up", got)
	}
	p := problemWith(probs, "unknown-property")
	if p == nil || p.Path != "Patient.hisInternalKey" && p.Path != "Patient.name[0].nickname" {
		t.Fatalf("problems %+v", probs)
	}
	var unknown int
	for _, p := range probs {
		if p.Code == "unknown-property" {
			unknown++
		}
	}
	if unknown != 2 {
		t.Errorf("%d unknown-property problems, want 2: %+v", unknown, probs)
	}
	// The lenient reader ignores them and reads the rest.
	rec := readCrafted(t, craftedBundle(`{"resourceType":"Condition","id":"c1","code":{"text":"Fever"},"severityScore":3}`))
	if len(rec.Entries) != 1 || rec.Entries[0].Text != "Fever" {
		t.Errorf("entries %+v", rec.Entries)
	}
}

func TestCleanupInvalidID(t *testing.T) {
	data := craftedBundle(`Condition/MRN_001|{"resourceType":"Condition","id":"MRN_001","code":{"text":"Fever"},"subject":{"reference":"Patient/p1"}}`)
	cr, probs := cleanAndParse(t, data)
	entries := cr.GetBundle().GetEntry()
	cond := entries[len(entries)-1]
	if id := cond.GetResource().GetCondition().GetId().GetValue(); id != "MRN-001" {
		t.Errorf("id %q, want MRN-001", id)
	}
	if full := cond.GetFullUrl().GetValue(); full != "Condition/MRN-001" {
		t.Errorf("fullUrl %q follows the renamed id", full)
	}
	if p := problemWith(probs, "invalid-id"); p == nil || !strings.Contains(p.Message, `"MRN-001"`) {
		t.Errorf("problems %+v", probs)
	}
	// The lenient reader keeps the id as sent, so references still resolve.
	rec := readCrafted(t, data)
	if len(rec.Entries) != 1 || rec.Entries[0].ID != "MRN_001" || hasProblem(rec, "invalid-id") == nil {
		t.Errorf("entries %+v, problems %+v", rec.Entries, rec.Problems)
	}
}

func TestCleanupDateTimeWithoutZone(t *testing.T) {
	data := craftedBundle(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Pulse"},` +
		`"effectiveDateTime":"2024-01-05T10:30:00","valueQuantity":{"value":72,"unit":"/min"}}`)
	rec := readCrafted(t, data)
	e := rec.Entries[0]
	want := time.Date(2024, 1, 5, 10, 30, 0, 0, indiaZone)
	if !e.Time.Equal(want) {
		t.Errorf("time %v, want %v", e.Time, want)
	}
	p := hasProblem(rec, "datetime-without-zone")
	if p == nil || p.Path != "Bundle.entry[2].resource.effectiveDateTime" {
		t.Errorf("problem %+v", p)
	}
	cr, probs := cleanAndParse(t, data)
	dt := cr.GetBundle().GetEntry()[2].GetResource().GetObservation().GetEffective().GetDateTime()
	if got := time.UnixMicro(dt.GetValueUs()); !got.Equal(want) || dt.GetTimezone() != "+05:30" {
		t.Errorf("google/fhir/go read %v in %q", got, dt.GetTimezone())
	}
	if problemWith(probs, "datetime-without-zone") == nil {
		t.Errorf("problems %+v", probs)
	}
	// Another zone can be configured.
	r := Reader{Location: time.UTC}
	rec, err := r.Read(context.Background(), data, Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Entries[0].Time; !got.Equal(time.Date(2024, 1, 5, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("with UTC: %v", got)
	}
}

func TestCleanupDateTimeForms(t *testing.T) {
	tests := []struct {
		in, kind, want string
		changed        bool
	}{
		{"2024-01-05T10:30:00+05:30", "DateTime", "2024-01-05T10:30:00+05:30", false},
		{"2024-01-05T10:30:00.250Z", "DateTime", "2024-01-05T10:30:00.250Z", false},
		{"2024-01", "DateTime", "2024-01", false},
		{"2024-01-05 10:30:00", "DateTime", "2024-01-05T10:30:00+05:30", true},
		{"2024-01-05T10:30", "DateTime", "2024-01-05T10:30:00+05:30", true},
		{"2024-01-05T10:30:00+0530", "Instant", "2024-01-05T10:30:00+05:30", true},
		{"2024-01-05", "Instant", "2024-01-05T00:00:00+05:30", true},
		{"2024-01-05T10:30:00+05:30", "Date", "2024-01-05", true},
	}
	for _, tt := range tests {
		got, changed, ok := cleanDateTimeString(tt.in, tt.kind, indiaZone)
		if !ok || got != tt.want || (changed != "") != tt.changed {
			t.Errorf("cleanDateTimeString(%q, %s) = %q, %q, %v; want %q, changed %v", tt.in, tt.kind, got, changed, ok, tt.want, tt.changed)
		}
	}
	if _, _, ok := cleanDateTimeString("03/12/19", "DateTime", indiaZone); ok {
		t.Error("03/12/19 read as a date; it is ambiguous and must be reported instead")
	}
}

func TestCleanupBase64EscapedSlash(t *testing.T) {
	payload := []byte{0xfb, 0xff, 0xbf, 'P', 'D', 'F', 0xff, 0xfe}
	b64 := base64.StdEncoding.EncodeToString(payload)
	if !strings.Contains(b64, "/") {
		t.Fatalf("%s has no slash to escape", b64)
	}
	escaped := strings.ReplaceAll(b64, "/", `\/`) // PHP's json_encode default
	data := craftedBundle(`{"resourceType":"Binary","id":"bin1","contentType":"application/pdf","data":"` + escaped + `"}`)
	rec := readCrafted(t, data)
	a := rec.Entries[0].Attachments[0]
	if !bytes.Equal(a.Data, payload) {
		t.Errorf("decoded %x, want %x", a.Data, payload)
	}
	if p := hasProblem(rec, "base64-escaped-slash"); p == nil || p.Path != "Bundle.entry[2].resource.data" {
		t.Errorf("problem %+v", p)
	}
	cr, probs := cleanAndParse(t, data)
	if got := cr.GetBundle().GetEntry()[2].GetResource().GetBinary().GetData().GetValue(); !bytes.Equal(got, payload) {
		t.Errorf("google/fhir/go decoded %x after clean-up", got)
	}
	if problemWith(probs, "base64-escaped-slash") == nil {
		t.Errorf("problems %+v", probs)
	}
}

func TestCleanupBase64Whitespace(t *testing.T) {
	payload := bytes.Repeat([]byte("%PDF-1.7 a scanned report "), 60)
	b64 := base64.StdEncoding.EncodeToString(payload)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))])
		wrapped.WriteString(`\r\n`) // MIME line breaks, JSON-escaped
	}
	data := craftedBundle(`{"resourceType":"DocumentReference","id":"d1","status":"current","type":{"text":"Scan"},` +
		`"content":[{"attachment":{"contentType":"application/pdf","title":"scan","data":"` + wrapped.String() + `"}}]}`)
	rec := readCrafted(t, data)
	a := rec.Entries[0].Attachments[0]
	if !bytes.Equal(a.Data, payload) || a.Size != int64(len(payload)) {
		t.Errorf("decoded %d bytes, want %d", len(a.Data), len(payload))
	}
	if p := hasProblem(rec, "base64-whitespace"); p == nil || p.Path != "Bundle.entry[2].resource.content[0].attachment.data" {
		t.Errorf("problem %+v", p)
	}
	_, probs := cleanAndParse(t, data)
	if problemWith(probs, "base64-whitespace") == nil {
		t.Errorf("problems %+v", probs)
	}
	// Short values (not cut out before decoding) take the same path.
	data = craftedBundle(`{"resourceType":"Binary","id":"b2","contentType":"text/plain","data":"SGVs bG8="}`)
	rec = readCrafted(t, data)
	if got := string(rec.Entries[0].Attachments[0].Data); got != "Hello" || hasProblem(rec, "base64-whitespace") == nil {
		t.Errorf("decoded %q, problems %+v", got, rec.Problems)
	}
}

func TestCleanupBase64Invalid(t *testing.T) {
	rec := readCrafted(t, craftedBundle(`{"resourceType":"Binary","id":"b","contentType":"application/pdf","data":"not base64!"}`))
	a := rec.Entries[0].Attachments[0]
	if a.Undecoded != "not base64!" || len(a.Data) != 0 || hasProblem(rec, "base64-invalid") == nil {
		t.Errorf("attachment %+v, problems %+v", a, rec.Problems)
	}
	// URL-safe base64 without padding decodes, with a note.
	payload := []byte{0xfb, 0xff}
	rec = readCrafted(t, craftedBundle(`{"resourceType":"Binary","id":"b","contentType":"x/y","data":"`+base64.RawURLEncoding.EncodeToString(payload)+`"}`))
	if got := rec.Entries[0].Attachments[0].Data; !bytes.Equal(got, payload) || hasProblem(rec, "base64-variant") == nil {
		t.Errorf("decoded %x, problems %+v", got, rec.Problems)
	}
}

func TestCleanupRelativeFullURLs(t *testing.T) {
	data := []byte(`{"resourceType":"Bundle","type":"document","entry":[
		{"fullUrl":"Composition/c1","resource":{"resourceType":"Composition","id":"c1","status":"final","title":"Rx",
			"type":{"coding":[{"system":"http://snomed.info/sct","code":"440545006"}]},
			"subject":{"reference":"Patient/p1"},"author":[{"reference":"https://hip.example/fhir/Practitioner/d1"}],
			"section":[{"title":"Prescription","entry":[{"reference":"MedicationRequest/m1"},{"reference":"m2"}]}]}},
		{"fullUrl":"Patient/p1","resource":{"resourceType":"Patient","id":"p1","name":[{"text":"Ravi"}],
			"identifier":[{"system":"https://healthid.abdm.gov.in/","value":"91-1234-5678-9012"}]}},
		{"fullUrl":"Practitioner/d1","resource":{"resourceType":"Practitioner","id":"d1","name":[{"given":["Meena"],"family":"Rao","prefix":["Dr"]}]}},
		{"fullUrl":"MedicationRequest/m1","resource":{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",
			"medicationReference":{"reference":"Medication/x1"},"dosageInstruction":[{"text":"1-0-1"}]}},
		{"resource":{"resourceType":"MedicationRequest","id":"m2","status":"active","intent":"order",
			"medicationCodeableConcept":{"text":"Paracetamol 500 mg"}}},
		{"fullUrl":"Medication/x1","resource":{"resourceType":"Medication","id":"x1","code":{"text":"Amoxicillin 250 mg"}}}
	]}`)
	rec := readCrafted(t, data)
	if rec.Patient.Name != "Ravi" || len(rec.Authors) != 1 || rec.Authors[0].Name != "Dr Meena Rao" {
		t.Errorf("patient %+v, authors %+v", rec.Patient, rec.Authors)
	}
	if got := rec.Patient.Identities; len(got) != 1 || got[0].Kind != "abha_number" {
		t.Errorf("identities %+v", got)
	}
	if len(rec.Entries) != 2 {
		t.Fatalf("entries %+v; the Medication belongs inside its request", rec.Entries)
	}
	for _, e := range rec.Entries {
		if e.Section != "Prescription" {
			t.Errorf("%s: section %q", e.Path, e.Section)
		}
	}
	if rec.Entries[0].Text != "Amoxicillin 250 mg" || rec.Entries[1].Text != "Paracetamol 500 mg" {
		t.Errorf("medications %q, %q", rec.Entries[0].Text, rec.Entries[1].Text)
	}
	if p := hasProblem(rec, "relative-fullurl"); p == nil || p.Count != 5 {
		t.Errorf("relative-fullurl %+v, want 5", p)
	}
	if hasProblem(rec, "missing-fullurl") == nil {
		t.Error("the entry without fullUrl is not reported")
	}
	if hasProblem(rec, "unresolved-reference") != nil {
		t.Errorf("a reference did not resolve: %+v", rec.Problems)
	}
}

func TestCanonicalSystem(t *testing.T) {
	tests := []struct {
		in, want string
		changed  bool
	}{
		{"http://snomed.info/sct", "http://snomed.info/sct", false},
		{"https://projecteka.in/sct", "http://snomed.info/sct", true},
		{"https://ndhm.gov.in/sct", "http://snomed.info/sct", true},
		{"https://affinitydomain.in/sct", "http://snomed.info/sct", true},
		{"http://snomed.info/sct/", "http://snomed.info/sct", true},
		{"https://snomed.info/sct", "http://snomed.info/sct", true},
		{"SNOMED CT", "http://snomed.info/sct", true},
		{"urn:oid:2.16.840.1.113883.6.96", "http://snomed.info/sct", true},
		{"https://projecteka.in/loinc", "http://loinc.org", true},
		{"http://loinc.org/", "http://loinc.org", true},
		{"ICD-10", "http://hl7.org/fhir/sid/icd-10", true},
		{"https://unitsofmeasure.org", "http://unitsofmeasure.org", true},
		{"https://projecteka.in/act", "https://projecteka.in/act", false},
		{"http://terminology.hl7.org/CodeSystem/v2-0203", "http://terminology.hl7.org/CodeSystem/v2-0203", false},
	}
	for _, tt := range tests {
		got, changed := canonicalSystem(tt.in)
		if got != tt.want || changed != tt.changed {
			t.Errorf("canonicalSystem(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
	}
	// In a bundle: the coding is normalised and the alias reported once.
	rec := readCrafted(t, craftedBundle(
		`{"resourceType":"Condition","id":"a","code":{"coding":[{"system":"https://projecteka.in/sct","code":"386661006","display":"Fever"}]}}`,
		`{"resourceType":"Condition","id":"b","code":{"coding":[{"system":"https://projecteka.in/sct","code":"25064002","display":"Headache"}]}}`))
	for _, e := range rec.Entries {
		if e.Codes[0].System != systemSNOMED {
			t.Errorf("%s: system %q", e.Path, e.Codes[0].System)
		}
	}
	if p := hasProblem(rec, "code-system-alias"); p == nil || p.Count != 2 || p.Severity != severityWarning {
		t.Errorf("problem %+v", p)
	}
}

// A resource that cannot be read is kept raw, as a document, and the rest
// of the bundle is still read.
func TestReadKeepsGarbageRaw(t *testing.T) {
	unknown := `{"resourceType":"MedicationRequestFamilyHistory","id":"x","whatever":[1,2,3]}`
	notObject := `"just a string"`
	wrongType := `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"Pulse"},"subject":[1],"valueQuantity":{"value":72,"unit":"/min"}}`
	data := craftedBundle(unknown, notObject, wrongType, `{"resourceType":"Condition","id":"c","code":{"text":"Fever"}}`)
	rec := readCrafted(t, data)

	var raw []Entry
	var texts []string
	for _, e := range rec.Entries {
		if e.Unreadable {
			raw = append(raw, e)
		} else {
			texts = append(texts, e.Text)
		}
	}
	if len(raw) != 2 {
		t.Fatalf("%d unreadable entries, want 2: %+v", len(raw), rec.Entries)
	}
	for i, want := range []string{unknown, notObject} {
		e := raw[i]
		if e.Kind != KindDocument || e.Text != "unreadable entry kept as-is" || len(e.Attachments) != 1 || e.Provenance.HIP != "t" {
			t.Errorf("unreadable entry %+v", e)
			continue
		}
		var entry struct {
			Resource json.RawMessage `json:"resource"`
		}
		if err := json.Unmarshal(e.Attachments[0].Data, &entry); err != nil || string(entry.Resource) != want {
			t.Errorf("kept %s, want the entry holding %s", e.Attachments[0].Data, want)
		}
	}
	// The Observation with one malformed element is read, the element
	// reported; the Condition after the garbage is read too.
	if strings.Join(texts, "|") != "Pulse|Fever" {
		t.Errorf("readable entries %q", texts)
	}
	if p := hasProblem(rec, "wrong-json-type"); p == nil || p.Path != "Bundle.entry[4].subject" && !strings.HasPrefix(p.Path, "Bundle.entry[4]") {
		t.Errorf("wrong-json-type %+v", p)
	}
	var errs int
	for _, p := range rec.Problems {
		if p.Code == "unreadable-resource" && p.Severity == severityError {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("%d unreadable-resource errors, want 2: %+v", errs, rec.Problems)
	}
}

func TestReadNotJSON(t *testing.T) {
	data := []byte("%PDF-1.4 this is not a FHIR bundle")
	rec := readCrafted(t, data)
	if len(rec.Entries) != 1 || !rec.Entries[0].Unreadable || !bytes.Equal(rec.Entries[0].Attachments[0].Data, data) {
		t.Fatalf("entries %+v", rec.Entries)
	}
	if p := hasProblem(rec, "unreadable-json"); p == nil || p.Severity != severityError {
		t.Errorf("problems %+v", rec.Problems)
	}
	// Valid JSON that is no FHIR resource is kept the same way.
	rec = readCrafted(t, []byte(`{"transactionId":"t1","entries":[]}`))
	if len(rec.Entries) != 1 || !rec.Entries[0].Unreadable || hasProblem(rec, "unreadable-resource") == nil {
		t.Errorf("entries %+v, problems %+v", rec.Entries, rec.Problems)
	}
	// A cancelled context is the only error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, data, Provenance{}); err == nil {
		t.Error("Read with a cancelled context succeeded")
	}
}

func TestCleanupCodesAndTypes(t *testing.T) {
	data := []byte(`{"resourceType":"Patient","id":"p","gender":"M","active":"true","birthDate":"1980-02-03T00:00:00",` +
		`"multipleBirthInteger":"2","name":{"text":"Ravi"},"managingOrganization":"Organization/o1"}`)
	cr, probs := cleanAndParse(t, data)
	p := cr.GetPatient()
	if p.GetGender().GetValue().String() != "MALE" || !p.GetActive().GetValue() || p.GetMultipleBirth().GetInteger().GetValue() != 2 ||
		len(p.GetName()) != 1 || p.GetManagingOrganization().GetOrganizationId().GetValue() != "o1" {
		t.Errorf("patient after clean-up: %v", p)
	}
	for _, code := range []string{"code-synonym", "string-for-primitive", "expected-array", "string-for-object", "datetime-nonstandard"} {
		if problemWith(probs, code) == nil {
			t.Errorf("no %s problem in %+v", code, probs)
		}
	}
}

func TestCleanR4NotJSON(t *testing.T) {
	if _, _, err := CleanR4([]byte("not json"), nil); err == nil {
		t.Error("CleanR4 accepted text that is not JSON")
	}
	if _, _, err := CleanR4([]byte(`{"resourceType":"Nonsense"}`), nil); err == nil {
		t.Error("CleanR4 accepted an unknown resource type")
	}
}

// ParseR4 leaves out only the resource google/fhir/go cannot take even
// after clean-up, and parses the rest.
func TestParseR4Salvage(t *testing.T) {
	// The clean-up has no rule for FHIR time values; google/fhir/go's
	// parser rejects this one.
	data := craftedBundle(
		`{"resourceType":"Observation","id":"bad","status":"final","code":{"text":"Dose time"},"valueTime":"half past ten"}`,
		`{"resourceType":"Condition","id":"good","code":{"text":"Cough"},"subject":{"reference":"urn:uuid:p1"}}`)
	cr, probs, err := ParseR4(context.Background(), data, nil)
	if err != nil || cr.GetBundle() == nil {
		t.Fatalf("ParseR4: %v, %v", cr, err)
	}
	var ids []string
	for _, e := range cr.GetBundle().GetEntry() {
		if c := e.GetResource().GetCondition(); c != nil {
			ids = append(ids, c.GetId().GetValue())
		}
		if o := e.GetResource().GetObservation(); o != nil {
			ids = append(ids, o.GetId().GetValue())
		}
	}
	if strings.Join(ids, ",") != "good" {
		t.Errorf("resources parsed: %v, want only the good one", ids)
	}
	if p := problemWith(probs, "r4-rejected-resource"); p == nil || p.Path != "Bundle.entry[2].resource" || p.Severity != severityError {
		t.Errorf("problems %+v", probs)
	}
	// The lenient read keeps both.
	rec := readCrafted(t, data)
	if len(rec.Entries) != 2 {
		t.Errorf("lenient read: %d entries", len(rec.Entries))
	}
}

func TestCleanupURI(t *testing.T) {
	// A space in the host cannot be encoded away: the system goes, the
	// code stays.
	data := []byte(`{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"http://codes example.in/codes","code":"a"}]}}`)
	cr, probs := cleanAndParse(t, data)
	cd := cr.GetCondition().GetCode().GetCoding()[0]
	if cd.GetSystem() != nil || cd.GetCode().GetValue() != "a" {
		t.Errorf("coding %v", cd)
	}
	if p := problemWith(probs, "invalid-uri"); p == nil || p.Path != "Condition.code.coding[0].system" {
		t.Errorf("problems %+v", probs)
	}
}

// A long "data" that is not base64 (SampledData.data is a string) comes
// through the R4 pass unchanged.
func TestCleanR4SampledData(t *testing.T) {
	samples := strings.TrimSpace(strings.Repeat("1.5 2.25 E ", blobMinLen/8))
	data := []byte(`{"resourceType":"Observation","id":"ecg","status":"final","code":{"text":"ECG"},` +
		`"valueSampledData":{"origin":{"value":0},"dimensions":1,"data":"` + samples + `"}}`)
	clean, _, err := CleanR4(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := parseWithGoogle(t, clean)
	if err != nil {
		t.Fatalf("google/fhir/go: %v", err)
	}
	if got := cr.GetObservation().GetValue().GetSampledData().GetData().GetValue(); got != samples {
		t.Errorf("data %.40q…, want the samples unchanged", got)
	}
}
