package nrces

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sangamhealth/sangam/sharedtest"
)

// sharedFHIRDir returns ../shared/testdata/fhir relative to the repository
// root (the directory holding go.mod), skipping the test when the shared
// directory is not there.
func sharedFHIRDir(tb testing.TB) string {
	tb.Helper()
	fhirDir := sharedtest.Path(tb, "fhir")
	return fhirDir
}

// sharedBundles reads every example bundle, keyed by path relative to the
// fhir directory ("hip-service/…json").
func sharedBundles(tb testing.TB) (names []string, data map[string][]byte) {
	tb.Helper()
	dir := sharedFHIRDir(tb)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no bundles under %s", dir)
	}
	data = make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		rel = filepath.ToSlash(rel)
		names = append(names, rel)
		data[rel] = b
	}
	sort.Strings(names)
	return names, data
}

// recordTypes are the shared examples' record types: SOURCES.md's column,
// with its inferred (*) types confirmed by reading the Compositions.
// sample_bundle.json is a LOINC 34133-9 "Summary of episode note", none of
// the eight.
var sharedRecordTypes = map[string]string{
	"ABDM-wrapper/OP_Consultation_fhir_bundle.json":                                           "OPConsultation",
	"ABDM-wrapper/TestBundle.json":                                                            "DischargeSummary",
	"abdm-fhir-ig-fsh/Bundle-DiagnosticReport-Imaging-DCM-example-01.json":                    "DiagnosticReport",
	"abdm-fhir-ig-fsh/Bundle-DiagnosticReport-Lab-example-03.json":                            "DiagnosticReport",
	"abdm-fhir-ig-fsh/Bundle-DischargeSummary-example-04.json":                                "DischargeSummary",
	"abdm-fhir-ig-fsh/Bundle-HealthDocumentRecord-example-01.json":                            "HealthDocumentRecord",
	"abdm-fhir-ig-fsh/Bundle-ImmunizationRecord-example-07.json":                              "ImmunizationRecord",
	"abdm-fhir-ig-fsh/Bundle-InvoiceRecord-example-01.json":                                   "Invoice",
	"abdm-fhir-ig-fsh/Bundle-OPConsultNote-example-05.json":                                   "OPConsultation",
	"abdm-fhir-ig-fsh/Bundle-Prescription-example-06.json":                                    "Prescription",
	"abdm-fhir-ig-fsh/Bundle-WellnessRecord-example-01.json":                                  "WellnessRecord",
	"gcp-nrces-fhir/Bundle-DiagnosticReport-Imaging-DCM-example-01.json":                      "DiagnosticReport",
	"gcp-nrces-fhir/Bundle-DiagnosticReport-Imaging-Media-example-02.json":                    "DiagnosticReport",
	"gcp-nrces-fhir/Bundle-DiagnosticReport-Lab-example-03.json":                              "DiagnosticReport",
	"gcp-nrces-fhir/Bundle-DischargeSummary-example-04.json":                                  "DischargeSummary",
	"gcp-nrces-fhir/Bundle-HealthDocumentRecord-example-01.json":                              "HealthDocumentRecord",
	"gcp-nrces-fhir/Bundle-ImmunizationRecord-example-07.json":                                "ImmunizationRecord",
	"gcp-nrces-fhir/Bundle-OPConsultNote-example-05.json":                                     "OPConsultation",
	"gcp-nrces-fhir/Bundle-Prescription-example-06.json":                                      "Prescription",
	"gcp-nrces-fhir/Bundle-WellnessRecord-example-01.json":                                    "WellnessRecord",
	"health-information-user/MAXNCC1543DischargeSummaryDoc20190419.json":                      "DischargeSummary",
	"health-information-user/sample_bundle.json":                                              "",
	"health-information-user/sample_diagnostic_report_1.json":                                 "DiagnosticReport",
	"hip-service/MAXLIVNO10DiagnosticReportDoc20190801.json":                                  "DiagnosticReport",
	"hip-service/MAXLIVNO15DischargeSummaryDoc20140122.json":                                  "DischargeSummary",
	"hip-service/MAXLIVNO99HealthDocumentRecordDoc20190801.json":                              "HealthDocumentRecord",
	"hip-service/MAXLIVNO99WellnessRecordDoc20190801.json":                                    "WellnessRecord",
	"hip-service/MAXRVH1012ImmunizationDoc20190807.json":                                      "ImmunizationRecord",
	"hip-service/MAXRVH1012OPConsultationDoc20190807.json":                                    "OPConsultation",
	"hip-service/MAXRVH9999PrescriptionDoc20160805.json":                                      "Prescription",
	"hip-service/NCP1008ThirdVisitDischargeSummary.json":                                      "DischargeSummary",
	"hip-service/NCP1702OPConsultationNote20200709.json":                                      "OPConsultation",
	"hip-service/RVMHD01PrescriptionDocument1.json":                                           "Prescription",
	"hip-service/diagnosticJSON.json":                                                         "OPConsultation",
	"ncg-cancer-modules-abdm/DiagnosticReport-output.json":                                    "DiagnosticReport",
	"ncg-cancer-modules-abdm/DiagnosticReportBreastCancer-2nd-Encounter-MammogramReport.json": "DiagnosticReport",
	"ncg-cancer-modules-abdm/DischargeSummary-output.json":                                    "DischargeSummary",
	"ncg-cancer-modules-abdm/DischargeSummaryBreastCancer-Surgery-Encounter8.json":            "DischargeSummary",
	"ncg-cancer-modules-abdm/OPConsultation-output.json":                                      "OPConsultation",
	"ncg-cancer-modules-abdm/WellnessRecord-output.json":                                      "WellnessRecord",
}

// notEntries are resource types that go into the record header or into
// another entry instead of becoming entries of their own.
var notEntries = map[string]bool{
	"Composition": true, "Patient": true, "Practitioner": true, "PractitionerRole": true,
	"Organization": true, "Medication": true, "Endpoint": true,
}

// TestReadSharedBundles reads every collected bundle and checks that each
// clinical resource became an entry, that the record type is right and
// that nothing had to be kept raw.
func TestReadSharedBundles(t *testing.T) {
	names, data := sharedBundles(t)
	if len(names) != len(sharedRecordTypes) {
		t.Errorf("%d shared bundles, %d expected record types: update sharedRecordTypes", len(names), len(sharedRecordTypes))
	}
	prov := Provenance{HIP: "hip-1", CareContext: "cc-1", Consent: "consent-1", ReceivedAt: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			rec, err := Read(context.Background(), data[name], prov)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			want, known := sharedRecordTypes[name]
			if !known {
				t.Errorf("no expected record type for %s", name)
			}
			if rec.RecordType != want {
				t.Errorf("record type %q (from %s), want %q", rec.RecordType, rec.RecordTypeFrom, want)
			}
			for _, p := range rec.Problems {
				if p.Severity == severityError {
					t.Errorf("problem %+v: nothing in the shared examples should be unreadable", p)
				}
			}
			if rec.Patient.Name == "" && len(rec.Patient.Identities) == 0 && rec.Patient.Reference == "" {
				t.Error("no patient name, identifier or reference")
			}
			byPath := map[string]Entry{}
			for _, e := range rec.Entries {
				if e.Text == "" || e.Kind == "" || e.Resource == "" {
					t.Errorf("entry %s has kind %q, resource %q, text %q", e.Path, e.Kind, e.Resource, e.Text)
				}
				if e.Provenance != prov {
					t.Errorf("entry %s provenance %+v, want %+v", e.Path, e.Provenance, prov)
				}
				byPath[e.Path] = e
			}
			// Every clinical resource of the bundle, found independently
			// with a generic decode, is an entry at its path.
			var bundle struct {
				Entry []struct {
					Resource struct {
						ResourceType string `json:"resourceType"`
					} `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(data[name], &bundle); err != nil {
				t.Fatal(err)
			}
			clinical := 0
			for i, e := range bundle.Entry {
				rt := e.Resource.ResourceType
				if notEntries[rt] {
					continue
				}
				clinical++
				path := fmt.Sprintf("Bundle.entry[%d].resource", i)
				got, ok := byPath[path]
				if !ok {
					t.Errorf("%s (%s) is not an entry", path, rt)
				} else if got.Resource != rt {
					t.Errorf("%s is a %s, entry says %s", path, rt, got.Resource)
				}
			}
			if clinical == 0 || len(rec.Entries) < clinical {
				t.Errorf("%d entries for %d clinical resources", len(rec.Entries), clinical)
			}
			// The record is what the HIU stores: it must survive JSON.
			out, err := json.Marshal(rec)
			if err != nil {
				t.Fatalf("marshalling the record: %v", err)
			}
			var back Record
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("unmarshalling the record: %v", err)
			}
			again, err := json.Marshal(&back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, again) {
				t.Error("the record changed through a JSON round trip")
			}
		})
	}
}

// TestReadSharedBundlesCheckR4 runs the R4 clean-up pass and
// google/fhir/go over every example: all parse, and only the one known
// base-spec violation is reported.
func TestReadSharedBundlesCheckR4(t *testing.T) {
	names, data := sharedBundles(t)
	r := Reader{CheckR4: true}
	for _, name := range names {
		rec, err := r.Read(context.Background(), data[name], Provenance{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var r4 []Problem
		for _, p := range rec.Problems {
			if strings.HasPrefix(p.Code, "r4-") {
				r4 = append(r4, p)
			}
		}
		if name == "hip-service/MAXRVH1012OPConsultationDoc20190807.json" {
			// SOURCES.md: ImmunizationRecommendation without forecastStatus.
			if len(r4) != 1 || r4[0].Code != "r4-invalid" || !strings.Contains(r4[0].Message, "forecastStatus") {
				t.Errorf("%s: R4 problems %+v, want the missing forecastStatus", name, r4)
			}
			continue
		}
		if len(r4) > 0 {
			t.Errorf("%s: R4 problems %+v", name, r4)
		}
	}
}

func readShared(t *testing.T, name string) *Record {
	t.Helper()
	_, data := sharedBundles(t)
	d, ok := data[name]
	if !ok {
		t.Fatalf("%s is missing from the shared examples", name)
	}
	rec, err := Read(context.Background(), d, Provenance{HIP: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func entriesOf(rec *Record, kind EntryKind) []Entry {
	var out []Entry
	for _, e := range rec.Entries {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func hasProblem(rec *Record, code string) *Problem {
	for i := range rec.Problems {
		if rec.Problems[i].Code == code {
			return &rec.Problems[i]
		}
	}
	return nil
}

// The NRCeS lab example: a lipid panel of three LOINC observations with
// values, units and reference ranges, and the PDF report.
func TestReadLabReport(t *testing.T) {
	rec := readShared(t, "abdm-fhir-ig-fsh/Bundle-DiagnosticReport-Lab-example-03.json")
	if got := rec.Patient.Identities; len(got) != 1 || got[0] != (Identity{Kind: "abha_number", System: "https://healthid.ndhm.gov.in", Value: "22-7225-4829-5255"}) {
		t.Errorf("patient identities %+v", got)
	}
	type obs struct {
		loinc, value, unit, low, high string
	}
	want := []obs{
		{"2093-3", "156", "mg/dL", "", "200"},
		{"2571-8", "146", "mg/dL", "", "150"},
		{"2085-9", "45", "mg/dL", "40", ""},
	}
	var got []obs
	for _, e := range entriesOf(rec, KindObservation) {
		o := e.Observation
		if !o.LOINC || o.Quantity == nil || len(o.ReferenceRange) != 1 {
			t.Fatalf("observation %q: LOINC %v, quantity %+v, ranges %+v", e.Text, o.LOINC, o.Quantity, o.ReferenceRange)
		}
		r := o.ReferenceRange[0]
		var low, high string
		if r.Low != nil {
			low = string(r.Low.Value)
		}
		if r.High != nil {
			high = string(r.High.Value)
		}
		got = append(got, obs{e.Codes[0].Code, string(o.Quantity.Value), o.Quantity.Unit, low, high})
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(obs{})); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
	reports := entriesOf(rec, KindReport)
	if len(reports) != 1 {
		t.Fatalf("%d reports", len(reports))
	}
	r := reports[0]
	if len(r.Report.Results) != 3 || r.Report.Conclusion == "" {
		t.Errorf("report %+v", r.Report)
	}
	if len(r.Attachments) != 1 || r.Attachments[0].ContentType != "application/pdf" || !bytes.HasPrefix(r.Attachments[0].Data, []byte("%PDF-")) {
		t.Errorf("report attachments: %d, want one PDF", len(r.Attachments))
	}
	if r.Section != "Hematology report" {
		t.Errorf("report section %q", r.Section)
	}
}

// The 1.7 MB ProjectEKA discharge summary: no Patient resource, a LOINC
// document type, and three CT studies embedded as DICOM in Media, their
// base64 broken by a space every 64 characters.
func TestReadDischargeSummaryWithDICOM(t *testing.T) {
	rec := readShared(t, dischargeSummaryFile)
	if rec.RecordType != "DischargeSummary" || rec.RecordTypeFrom != "loinc" {
		t.Errorf("record type %q from %q", rec.RecordType, rec.RecordTypeFrom)
	}
	if rec.Patient.Name != "Riyaz" {
		t.Errorf("patient %+v, want the subject display Riyaz", rec.Patient)
	}
	imaging := entriesOf(rec, KindImaging)
	if len(imaging) != 3 {
		t.Fatalf("%d imaging entries, want 3", len(imaging))
	}
	for _, e := range imaging {
		if len(e.Attachments) != 1 {
			t.Fatalf("%s: %d attachments", e.Path, len(e.Attachments))
		}
		a := e.Attachments[0]
		// A DICOM file is a 128-byte preamble and "DICM".
		if a.ContentType != "application/dicom" || len(a.Data) < 132 || string(a.Data[128:132]) != "DICM" || a.Size != int64(len(a.Data)) {
			t.Errorf("%s: %s of %d bytes, DICM marker %q", e.Path, a.ContentType, a.Size, a.Data[128:132])
		}
	}
	p := hasProblem(rec, "base64-whitespace")
	if p == nil || p.Count != 3 || p.Severity != severityInfo {
		t.Errorf("base64-whitespace problem %+v, want 3 repairs", p)
	}
	if n := len(entriesOf(rec, KindObservation)); n != 19 {
		t.Errorf("%d observations, want 19", n)
	}
	meds := entriesOf(rec, KindMedication)
	if len(meds) != 4 || meds[0].Text != "Daunomycin" || meds[0].Medication.Dosage[0] != "60mg/m2" {
		t.Errorf("medications %+v", meds)
	}
}

// ProjectEKA's https://projecteka.in/sct is read as SNOMED CT and reported.
func TestReadProjectEKASystems(t *testing.T) {
	rec := readShared(t, "hip-service/MAXLIVNO15DischargeSummaryDoc20140122.json")
	p := hasProblem(rec, "code-system-alias")
	if p == nil || !strings.Contains(p.Message, "https://projecteka.in/sct") {
		t.Fatalf("code-system-alias problem %+v", p)
	}
	for _, e := range rec.Entries {
		for _, c := range e.Codes {
			if strings.Contains(c.System, "projecteka") {
				t.Errorf("%s kept system %s", e.Path, c.System)
			}
		}
	}
	if len(hasProblemAll(rec, "unresolved-reference")) == 0 {
		t.Error("the section entries missing from this bundle are not reported")
	}
}

func hasProblemAll(rec *Record, code string) []Problem {
	var out []Problem
	for _, p := range rec.Problems {
		if p.Code == code {
			out = append(out, p)
		}
	}
	return out
}

// The NHA wrapper sample lists MedicationRequests under
// "MedicationRequestFamilyHistory/<id>": found by id and reported.
func TestReadWrongReferenceTypes(t *testing.T) {
	rec := readShared(t, "ABDM-wrapper/TestBundle.json")
	p := hasProblem(rec, "reference-type-mismatch")
	if p == nil || p.Count != 2 {
		t.Errorf("reference-type-mismatch %+v, want 2", p)
	}
	meds := entriesOf(rec, KindMedication)
	if len(meds) != 2 {
		t.Fatalf("%d medications", len(meds))
	}
	for _, m := range meds {
		if m.Section == "" {
			t.Errorf("%s: the section listing it was not found", m.Path)
		}
	}
}

// The imaging example's ImagingStudy: series and instance UIDs.
func TestReadImagingStudy(t *testing.T) {
	rec := readShared(t, "abdm-fhir-ig-fsh/Bundle-DiagnosticReport-Imaging-DCM-example-01.json")
	img := entriesOf(rec, KindImaging)
	if len(img) != 1 || img[0].Resource != "ImagingStudy" {
		t.Fatalf("imaging entries %+v", img)
	}
	want := &ImagingDetail{
		Modalities: []string{"CT of head and neck"},
		Series: []ImagingSeries{{
			UID:          "2.16.124.113543.6003.2588828330.45298.17418.2723805630",
			Modality:     "CT of head and neck",
			BodySite:     "Structure of head and/or neck",
			Description:  "CT Surview 180",
			InstanceUIDs: []string{"2.16.124.113543.6003.189642796.63084.16748.2599092903"},
		}},
	}
	if diff := cmp.Diff(want, img[0].Imaging); diff != "" {
		t.Errorf("imaging (-want +got):\n%s", diff)
	}
}

// Aadhaar numbers never reach the record.
func TestReadMasksAadhaar(t *testing.T) {
	name := "ncg-cancer-modules-abdm/DischargeSummaryBreastCancer-Surgery-Encounter8.json"
	_, data := sharedBundles(t)
	if !bytes.Contains(data[name], []byte("1234 1234 1234")) {
		t.Fatal("the example no longer carries its Aadhaar number")
	}
	rec := readShared(t, name)
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("1234 1234 1234")) || bytes.Contains(out, []byte("123412341234")) {
		t.Error("the Aadhaar number is in the record")
	}
	var found bool
	for _, id := range rec.Patient.Identities {
		if id.Kind == "aadhaar" {
			found = id.Value == "XXXXXXXX1234"
		}
	}
	if !found {
		t.Errorf("identities %+v, want a masked aadhaar", rec.Patient.Identities)
	}
}

// Immunization details and the invoice total.
func TestReadImmunizationAndInvoice(t *testing.T) {
	rec := readShared(t, "gcp-nrces-fhir/Bundle-ImmunizationRecord-example-07.json")
	imm := entriesOf(rec, KindImmunization)
	if len(imm) != 1 || imm[0].Immunization.Brand == "" || imm[0].Immunization.LotNumber == "" || imm[0].Time.IsZero() {
		t.Errorf("immunizations %+v", imm)
	}
	rec = readShared(t, "abdm-fhir-ig-fsh/Bundle-InvoiceRecord-example-01.json")
	var invoice *Entry
	for i, e := range rec.Entries {
		if e.Resource == "Invoice" {
			invoice = &rec.Entries[i]
		}
	}
	if invoice == nil || !strings.Contains(invoice.Text, "2575 INR") {
		t.Errorf("invoice entry %+v", invoice)
	}
}
