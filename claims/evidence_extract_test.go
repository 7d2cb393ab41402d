package claims

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/sources"
)

// parseResources reads FHIR R4 JSON resources the way a FHIR source's
// answers are read.
func parseResources(t *testing.T, docs ...string) []*bcrpb.ContainedResource {
	t.Helper()
	u, err := jsonformat.NewUnmarshaller("Asia/Kolkata", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}
	var out []*bcrpb.ContainedResource
	for _, d := range docs {
		m, err := u.Unmarshal([]byte(d))
		if err != nil {
			t.Fatalf("parsing %.60s…: %v", d, err)
		}
		out = append(out, m.(*bcrpb.ContainedResource))
	}
	return out
}

// TestExtractReadsAStayWithItsBill reads one inpatient care context
// holding every kind of resource the evidence uses, written as a FHIR
// source would send it, and checks what comes out.
func TestExtractReadsAStayWithItsBill(t *testing.T) {
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG fake image bytes"))
	dataURL := base64.StdEncoding.EncodeToString([]byte("data:image/png;base64," + png))
	summary := base64.StdEncoding.EncodeToString([]byte("Admitted with pain in the right iliac fossa."))
	rec := CareRecord{
		Origin: Origin{FacilityHFRID: "IN2910000587", SourceCode: "his", Reference: "his:ipd:77", HIType: sources.DischargeSummary,
			Date: time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)},
		Resources: parseResources(t,
			`{"resourceType":"Encounter","id":"e1","status":"finished",
			  "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
			  "period":{"start":"2025-09-01T10:00:00+05:30","end":"2025-09-04T11:30:00+05:30"},
			  "type":[{"text":"Surgery"}],
			  "participant":[{"individual":{"reference":"urn:uuid:p1","display":"Dr. Rao"}}],
			  "diagnosis":[
			    {"condition":{"reference":"urn:uuid:c2"},"use":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/diagnosis-role","code":"DD"}]},"rank":1},
			    {"condition":{"reference":"urn:uuid:c1"},"use":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/diagnosis-role","code":"AD"}]},"rank":2}],
			  "hospitalization":{"dischargeDisposition":{"text":"Home"}}}`,
			`{"resourceType":"Condition","id":"c1","subject":{"reference":"urn:uuid:pt"},
			  "code":{"coding":[{"system":"http://snomed.info/sct","code":"21522001","display":"Abdominal pain"}],"text":"Pain abdomen"},
			  "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]},
			  "recordedDate":"2025-09-01"}`,
			`{"resourceType":"Condition","id":"c2","subject":{"reference":"urn:uuid:pt"},
			  "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"K35.8","display":"Acute appendicitis"},
			                    {"system":"http://snomed.info/sct","code":"74400008","display":"Appendicitis"}]},
			  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}]}`,
			`{"resourceType":"Procedure","id":"pr1","status":"completed","subject":{"reference":"urn:uuid:pt"},
			  "code":{"coding":[{"system":"http://snomed.info/sct","code":"6025007","display":"Laparoscopic appendectomy"}]},
			  "performedPeriod":{"start":"2025-09-01T14:00:00+05:30","end":"2025-09-01T15:05:00+05:30"},
			  "performer":[{"actor":{"display":"Dr. Rao"}}]}`,
			`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Haemoglobin"},
			  "valueQuantity":{"value":13.1,"unit":"g/dL"}}`,
			`{"resourceType":"DiagnosticReport","id":"r1","status":"final","code":{"text":"CBC"},
			  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB"}]}],
			  "effectiveDateTime":"2025-09-01T11:00:00+05:30","result":[{"reference":"urn:uuid:o1"}],
			  "resultsInterpreter":[{"display":"Dr. Pai"}]}`,
			`{"resourceType":"ImagingStudy","id":"s1","status":"available","subject":{"reference":"urn:uuid:pt"},
			  "started":"2025-09-01T12:00:00+05:30","description":"USG abdomen"}`,
			`{"resourceType":"DiagnosticReport","id":"r2","status":"final",
			  "code":{"coding":[{"system":"http://loinc.org","code":"18748-4","display":"Diagnostic imaging study"}]},
			  "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"RAD"}]}],
			  "issued":"2025-09-01T13:00:00+05:30","conclusion":"Inflamed appendix.","imagingStudy":[{"reference":"urn:uuid:s1"}]}`,
			`{"resourceType":"DocumentReference","id":"d1","status":"current",
			  "type":{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"121180","display":"Key Images"}]},
			  "content":[{"attachment":{"contentType":"text/plain","data":"`+dataURL+`","title":"USG key image"}}]}`,
			`{"resourceType":"DocumentReference","id":"d2","status":"current","date":"2025-09-04T11:00:00+05:30",
			  "type":{"coding":[{"system":"http://loinc.org","code":"18842-5","display":"Discharge summary"}]},
			  "author":[{"display":"Dr. Rao"}],
			  "content":[{"attachment":{"contentType":"text/plain","language":"en-IN","data":"`+summary+`","title":"Discharge summary"}}]}`,
			`{"resourceType":"ChargeItem","id":"ch1","status":"billed","subject":{"reference":"urn:uuid:pt"},
			  "code":{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes","code":"02","display":"IPD"}]},
			  "productCodeableConcept":{"text":"Ward charges"},"quantity":{"value":3,"unit":"day"},
			  "priceOverride":{"value":4500.00,"currency":"INR"}}`,
			`{"resourceType":"ChargeItem","id":"ch2","status":"billed","subject":{"reference":"urn:uuid:pt"},
			  "code":{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes","code":"05","display":"Medicines"}]},
			  "productCodeableConcept":{"text":"Ceftriaxone 1 g"},"quantity":{"value":6}}`,
			`{"resourceType":"ChargeItem","id":"ch3","status":"billable","subject":{"reference":"urn:uuid:pt"},
			  "code":{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes","code":"99","display":"Others"}]},
			  "productCodeableConcept":{"text":"Attendant meals"},"priceOverride":{"value":350.5,"currency":"INR"}}`,
			`{"resourceType":"Invoice","id":"i1","status":"issued","identifier":[{"value":"B-2025-0042"}],
			  "type":{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes","code":"02","display":"IPD"}]},
			  "date":"2025-09-04T12:00:00+05:30",
			  "lineItem":[
			    {"sequence":1,"chargeItemReference":{"reference":"urn:uuid:ch1"},
			     "priceComponent":[{"type":"base","amount":{"value":4500.00,"currency":"INR"}},
			                       {"type":"discount","amount":{"value":450.00,"currency":"INR"}}]},
			    {"sequence":2,"chargeItemReference":{"reference":"urn:uuid:ch2"},
			     "priceComponent":[{"type":"base","amount":{"value":720.5,"currency":"INR"}},
			                       {"type":"tax","code":{"coding":[{"system":"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components","code":"03","display":"CGST"}]},"amount":{"value":18.01,"currency":"INR"}},
			                       {"type":"informational","amount":{"value":9999,"currency":"INR"}}]}]}`,
		),
	}
	x := extract(rec)

	if len(x.encounters) != 1 {
		t.Fatalf("%d encounters", len(x.encounters))
	}
	e := x.encounters[0]
	ist := location("+05:30")
	if e.Class != "IMP" || !e.Inpatient || e.Status != "finished" || !e.Start.Equal(time.Date(2025, 9, 1, 10, 0, 0, 0, ist)) ||
		!e.End.Equal(time.Date(2025, 9, 4, 11, 30, 0, 0, ist)) || e.Type.Text != "Surgery" || e.DischargeDisposition.Text != "Home" ||
		!cmp.Equal(e.Practitioners, []string{"Dr. Rao"}) {
		t.Errorf("encounter: %+v", e)
	}

	if len(x.diagnoses) != 2 {
		t.Fatalf("%d diagnoses", len(x.diagnoses))
	}
	d1, d2 := x.diagnoses[0], x.diagnoses[1]
	if d1.SNOMED != "21522001" || d1.ICD10 != "" || d1.Display != "Pain abdomen" || d1.ClinicalStatus != "resolved" ||
		d1.Role != RoleAdmitting || d1.Rank != 2 || !d1.Ranked {
		t.Errorf("admitting diagnosis: %+v", d1)
	}
	if d2.ICD10 != "K35.8" || d2.SNOMED != "74400008" || d2.Display != "Acute appendicitis" || d2.Category != "encounter-diagnosis" ||
		d2.Role != RoleDischarge || d2.Rank != 1 || len(d2.Code.Codings) != 2 {
		t.Errorf("discharge diagnosis: %+v", d2)
	}

	if len(x.procedures) != 1 {
		t.Fatalf("%d procedures", len(x.procedures))
	}
	p := x.procedures[0]
	if p.Status != "completed" || p.Code.Codings[0].Code != "6025007" || !p.Performed.Equal(time.Date(2025, 9, 1, 14, 0, 0, 0, ist)) ||
		!p.PerformedEnd.Equal(time.Date(2025, 9, 1, 15, 5, 0, 0, ist)) || !cmp.Equal(p.Performers, []string{"Dr. Rao"}) {
		t.Errorf("procedure: %+v", p)
	}

	if len(x.reports) != 2 {
		t.Fatalf("reports: %+v", x.reports)
	}
	lab, img := x.reports[0], x.reports[1]
	if lab.Kind != ReportLab || lab.Title != "CBC" || len(lab.Results) != 1 || lab.Results[0].GetId().GetValue() != "o1" ||
		!cmp.Equal(lab.Interpreters, []string{"Dr. Pai"}) {
		t.Errorf("lab report: %+v", lab)
	}
	if img.Kind != ReportImaging || img.Study.GetId().GetValue() != "s1" || img.Conclusion != "Inflamed appendix." ||
		len(img.Attachments) != 1 || img.Attachments[0].ContentType != "image/png" || !strings.HasPrefix(string(img.Attachments[0].Data), "\x89PNG") {
		t.Errorf("imaging report (the key image decoded onto it): %+v", img)
	}

	if len(x.summaries) != 1 {
		t.Fatalf("%d discharge summaries", len(x.summaries))
	}
	ds := x.summaries[0]
	if ds.Title != "Discharge summary" || string(ds.Attachments[0].Data) != "Admitted with pain in the right iliac fossa." ||
		ds.Attachments[0].File().Language != "en-IN" || !cmp.Equal(ds.Authors, []string{"Dr. Rao"}) {
		t.Errorf("discharge summary: %+v", ds)
	}

	if len(x.bills) != 1 {
		t.Fatalf("%d bills", len(x.bills))
	}
	b := x.bills[0]
	// Totals are computed: 4500 − 450 + 720.5 = 4770.50 net, + 18.01 tax.
	if b.Number != "B-2025-0042" || b.Type.Code != "02" || b.Currency != "INR" || b.Status != "issued" ||
		b.TotalNet != "4770.50" || b.TotalGross != "4788.51" || !b.TotalsComputed {
		t.Errorf("bill: %+v", b)
	}
	if len(b.Lines) != 2 {
		t.Fatalf("bill lines: %+v", b.Lines)
	}
	wantLine := BillLine{
		Origin: rec.Origin, Sequence: 1, ChargeCode: nrces.Coding{System: nrces.SystemBillingCodes, Code: "02", Display: "IPD"},
		Product: nrces.TextConcept("Ward charges"), Quantity: nrces.Quantity{Value: "3", Unit: "day"},
		Prices: []nrces.PriceComponent{{Type: "base", Amount: "4500.00"}, {Type: "discount", Amount: "450.00"}},
	}
	got := b.Lines[0]
	got.Resource = nil
	if diff := cmp.Diff(wantLine, got); diff != "" {
		t.Errorf("first line (-want +got):\n%s", diff)
	}
	if b.Lines[1].Product.Text != "Ceftriaxone 1 g" || len(b.Lines[1].Prices) != 3 || b.Lines[1].Prices[1].Code.Display != "CGST" {
		t.Errorf("second line: %+v", b.Lines[1])
	}
	if len(x.charges) != 1 || x.charges[0].Product.Text != "Attendant meals" || x.charges[0].Prices[0].Amount != "350.5" {
		t.Errorf("charges no invoice lists: %+v", x.charges)
	}
	if got := BillTotals([]Bill{b, b}); !cmp.Equal(got, []BillTotal{{Currency: "INR", Net: "9541.00", Gross: "9577.02"}}) {
		t.Errorf("BillTotals = %+v", got)
	}
}

// TestExtractVisitWithoutEncounterResource: a visit whose source sends
// only diagnoses is still an encounter, dated by its care context, and its
// diagnoses are ranked in the order the source listed them.
func TestExtractVisitWithoutEncounterResource(t *testing.T) {
	rec := CareRecord{
		Origin: Origin{Reference: "his:visit:V1", HIType: sources.OPConsultation, Date: time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC)},
		Resources: parseResources(t,
			`{"resourceType":"Condition","id":"a","subject":{"reference":"urn:uuid:pt"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I10","display":"Essential hypertension"}]}}`,
			`{"resourceType":"Condition","id":"b","subject":{"reference":"urn:uuid:pt"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]}}`,
		),
	}
	x := extract(rec)
	if len(x.encounters) != 1 || x.encounters[0].Class != "AMB" || x.encounters[0].Inpatient || !x.encounters[0].Start.Equal(rec.Date) {
		t.Errorf("encounters: %+v", x.encounters)
	}
	if len(x.diagnoses) != 2 || x.diagnoses[0].Rank != 1 || x.diagnoses[1].Rank != 2 || x.diagnoses[0].Ranked ||
		x.diagnoses[1].Display != "E11.9" {
		t.Errorf("diagnoses: %+v", x.diagnoses)
	}
	// A lab order is not an encounter.
	rec.HIType = sources.DiagnosticReport
	if x := extract(rec); len(x.encounters) != 0 {
		t.Errorf("a lab care context gave encounters %+v", x.encounters)
	}
}

func TestEncounterRefRoundTrip(t *testing.T) {
	ref := EncounterRef("IN2910000587", "his:ipd:CW/2024/1")
	hfr, reference, err := ParseEncounterRef(ref)
	if err != nil || hfr != "IN2910000587" || reference != "his:ipd:CW/2024/1" {
		t.Errorf("ParseEncounterRef(%q) = %q, %q, %v", ref, hfr, reference, err)
	}
	for _, bad := range []string{"", "his:ipd:1", "/his:ipd:1", "IN2910000587/his", "IN2910000587/"} {
		if _, _, err := ParseEncounterRef(bad); fieldOf(err) != "encounterRef" {
			t.Errorf("ParseEncounterRef(%q): %v, want an encounterRef field error", bad, err)
		}
	}
}

func fieldOf(err error) string {
	if fe, ok := err.(*FieldError); ok {
		return fe.Field
	}
	return ""
}
