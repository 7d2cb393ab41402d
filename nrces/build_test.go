package nrces

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	patpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/patient_go_proto"
)

var updateBuildGolden = flag.Bool("update-build", false, "rewrite the golden bundles in testdata/")

// testIST is India Standard Time without needing the time zone database.
var testIST = time.FixedZone("IST", 5*3600+1800)

// sequentialIDs returns an id generator counting up from 1, so output is
// reproducible.
func sequentialIDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

func fixedConfig() Config {
	return Config{
		Now:   func() time.Time { return time.Date(2026, 11, 24, 10, 30, 0, 0, testIST) },
		NewID: sequentialIDs(),
	}
}

func newTestBuilder(t testing.TB, cfg Config) *Builder {
	t.Helper()
	b, err := NewBuilder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	visitStart = time.Date(2026, 11, 20, 9, 15, 0, 0, testIST)
	samplePDF  = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	sampleJPEG = []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0xff, 0xd9}
)

// sampleHeader returns a document with the participants every record needs.
func sampleHeader(t RecordType) *Document {
	return &Document{
		Type: t,
		Date: visitStart.Add(45 * time.Minute),
		Patient: Patient{
			Name: "Asha Rao", Gender: "female", BirthDate: "1984-03-12", Phone: "+919800000001",
			ABHANumber: "91-1234-5678-9012", ABHAAddress: "asha.rao@abdm",
			Identifiers: []Identifier{{Type: idTypeMR, System: "https://sangam.example/mrn", Value: "MRN-000123"}},
		},
		Author:       Practitioner{Name: "Dr. Vikram Mehta", HPRID: "71-4460-1234-5678"},
		Organization: Organization{Name: "Sangam City Hospital", HFRID: "IN2710000123", Phone: "+918000000000"},
	}
}

func sampleQty(v, unit, code string) *Quantity { return &Quantity{Value: v, Unit: unit, Code: code} }

func labReport() DiagnosticReport {
	return DiagnosticReport{
		Code:            ConceptOf(LOINC("24331-1", "Lipid 1996 panel - Serum or Plasma")),
		Category:        ConceptOf(SNOMED("708196005", "Hematology service")),
		Effective:       visitStart,
		Issued:          visitStart.Add(6 * time.Hour),
		Conclusion:      "Elevated cholesterol/high density lipoprotein ratio",
		ConclusionCodes: []Concept{ConceptOf(SNOMED("439953004", "Elevated cholesterol/high density lipoprotein ratio"))},
		Results: []Observation{
			{Code: ConceptOf(LOINC("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma")), Effective: visitStart,
				Quantity: sampleQty("156", "mg/dL", "mg/dL"), ReferenceRange: &ReferenceRange{High: sampleQty("200", "mg/dL", "mg/dL")}},
			{Code: ConceptOf(LOINC("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma")), Effective: visitStart,
				Quantity: sampleQty("45.0", "mg/dL", "mg/dL")},
		},
		Specimen:      &Specimen{Type: ConceptOf(SNOMED("119364003", "Serum specimen")), Collected: visitStart, Received: visitStart.Add(time.Hour)},
		PresentedForm: &File{ContentType: "application/pdf", Data: samplePDF, Title: "Lipid panel report"},
		ReportType:    &Coding{SystemSNOMED, "4241000179101", "Laboratory report"},
	}
}

func imagingReport() DiagnosticReport {
	return DiagnosticReport{
		Imaging:    true,
		Code:       ConceptOf(LOINC("82692-5", "CT Head and Neck WO contrast")),
		Category:   ConceptOf(SNOMED("310128004", "Computerized tomography service")),
		Issued:     visitStart.Add(3 * time.Hour),
		Conclusion: "No acute intracranial abnormality.",
		Images:     []File{{ContentType: "image/jpeg", Data: sampleJPEG, Title: "Key image, axial", Created: visitStart}},
		Study: &ImagingStudy{
			UID: "2.16.124.113543.6003.1154777499.30246.19789.3503430045", Started: visitStart,
			Description: "CT head and neck", Endpoint: "https://pacs.sangam.example/dicom-web",
			Series: []StudySeries{{
				UID: "2.16.124.113543.6003.2588828330.45298.17418.2723805630", Number: 1,
				Modality: Coding{SystemDICOM, "CT", "Computed Tomography"}, Description: "Axial 5 mm",
				BodySite: &Coding{SystemSNOMED, "774007", "Structure of head and/or neck"},
				Instances: []StudyInstance{{UID: "2.16.124.113543.6003.189642796.63084.16748.2599092903",
					SOPClass: "1.2.840.10008.5.1.4.1.1.2", Number: 1, Title: "CT image"}},
			}},
		},
		PresentedForm: &File{ContentType: "application/pdf", Data: samplePDF, Title: "CT report"},
		ReportType:    &Coding{SystemSNOMED, "4261000179100", "Computed tomography imaging report"},
	}
}

func paracetamol() MedicationRequest {
	return MedicationRequest{
		Medication: ConceptOf(SNOMED("322236009", "Paracetamol 500 mg oral tablet")),
		Dosage: []Dosage{{
			Text:                   "One tablet three times a day after food for 5 days",
			Timing:                 &Timing{Frequency: 3, Period: "1", PeriodUnit: "d"},
			Route:                  ConceptOf(SNOMED("26643006", "Oral route")),
			Dose:                   sampleQty("1", "tablet", ""),
			AdditionalInstructions: []Concept{ConceptOf(SNOMED("311504000", "With or after food"))},
		}},
		Reasons: []Concept{ConceptOf(SNOMED("21522001", "Abdominal pain"))},
	}
}

func sampleAttachment(title string, typ Coding) AttachedDocument {
	return AttachedDocument{Type: ConceptOf(typ), Date: visitStart,
		File: File{ContentType: "application/pdf", Data: samplePDF, Title: title, Language: "en-IN"}}
}

// sampleDocuments has one document of each record type (two for
// diagnostic reports: lab and imaging), using most fields of each.
func sampleDocuments() []struct {
	name string
	doc  *Document
} {
	op := sampleHeader(OPConsultRecord)
	op.Encounter = &Encounter{Class: "AMB", Start: visitStart, End: visitStart.Add(30 * time.Minute),
		Identifier: &Identifier{System: "https://sangam.example/visit", Value: "OPD-2026-000045"}}
	op.ChiefComplaints = []Condition{{Code: ConceptOf(SNOMED("21522001", "Abdominal pain"), ICD10("R10.4", "Other and unspecified abdominal pain")),
		Category: "encounter-diagnosis", Onset: visitStart.Add(-72 * time.Hour), Note: "Worse after meals"}}
	op.PhysicalExamination = []Observation{{
		Code: ConceptOf(LOINC("85354-9", "Blood pressure panel with all children optional")), Effective: visitStart,
		Components: []Component{
			{Code: ConceptOf(LOINC("8480-6", "Systolic blood pressure")), Quantity: sampleQty("128", "mmHg", "mm[Hg]")},
			{Code: ConceptOf(LOINC("8462-4", "Diastolic blood pressure")), Quantity: sampleQty("84", "mmHg", "mm[Hg]")},
		},
	}}
	op.Allergies = []Allergy{{Code: ConceptOf(SNOMED("91936005", "Allergy to penicillin")), Category: "medication", Criticality: "high"}}
	op.MedicalHistory = []Condition{{Code: ConceptOf(SNOMED("38341003", "Hypertensive disorder"), ICD10("I10", "Essential (primary) hypertension")),
		ClinicalStatus: "active", VerificationStatus: "confirmed", Category: "problem-list-item"}}
	op.PastProcedures = []Procedure{{Code: ConceptOf(SNOMED("80146002", "Appendectomy")), Performed: time.Date(2012, 5, 4, 0, 0, 0, 0, testIST)}}
	op.FamilyHistory = []FamilyHistory{{
		Relationship: ConceptOf(Coding{"http://terminology.hl7.org/CodeSystem/v3-RoleCode", "FTH", "father"}),
		Conditions:   []Concept{ConceptOf(SNOMED("44054006", "Diabetes mellitus type 2"))},
	}}
	op.InvestigationAdvice = []ServiceRequest{{Code: ConceptOf(SNOMED("26604007", "Complete blood count"))}}
	op.Medications = []MedicationRequest{paracetamol()}
	op.MedicationStatements = []MedicationStatement{{Medication: TextConcept("Metformin 500 mg once daily"), Status: "active"}}
	op.FollowUps = []Appointment{{Start: visitStart.Add(7 * 24 * time.Hour), Description: "Review with CBC report"}}
	op.Procedures = []Procedure{{Code: ConceptOf(SNOMED("225358003", "Wound care"))}}
	op.Referrals = []ServiceRequest{{Code: ConceptOf(SNOMED("183519002", "Referral to cardiology service"))}}
	op.OtherObservations = []Observation{{Code: ConceptOf(LOINC("8310-5", "Body temperature")), Effective: visitStart,
		Quantity: sampleQty("98.6", "degF", "[degF]")}}
	op.Attachments = []AttachedDocument{sampleAttachment("Consultation note", SNOMED("371530004", "Clinical consultation report"))}

	ds := sampleHeader(DischargeSummaryRecord)
	ds.Encounter = &Encounter{Class: "IMP", Start: visitStart.Add(-96 * time.Hour), End: visitStart,
		DischargeDisposition: TextConcept("Discharged home")}
	ds.ChiefComplaints = op.ChiefComplaints
	ds.PhysicalExamination = op.PhysicalExamination
	ds.Allergies = op.Allergies
	ds.MedicalHistory = op.MedicalHistory
	ds.PastProcedures = op.PastProcedures
	ds.FamilyHistory = op.FamilyHistory
	ds.DiagnosticReports = []DiagnosticReport{labReport()}
	ds.Medications = []MedicationRequest{paracetamol()}
	ds.Procedures = []Procedure{{Code: ConceptOf(SNOMED("80146002", "Appendectomy")), Performed: visitStart.Add(-90 * time.Hour),
		Outcome: ConceptOf(SNOMED("385669000", "Successful"))}}
	ds.CarePlans = []CarePlan{{Title: "Post-operative care", Description: "Dressing on alternate days; no lifting for 4 weeks",
		Category: ConceptOf(SNOMED("736372004", "Discharge care plan")), Start: visitStart, End: visitStart.Add(28 * 24 * time.Hour)}}
	ds.Attachments = []AttachedDocument{sampleAttachment("Discharge summary", SNOMED("373942005", "Discharge summary"))}

	lab := sampleHeader(DiagnosticReportRecord)
	lab.DiagnosticReports = []DiagnosticReport{labReport()}
	lab.Attachments = []AttachedDocument{sampleAttachment("Lipid panel", SNOMED("4241000179101", "Laboratory report"))}

	img := sampleHeader(DiagnosticReportRecord)
	img.DiagnosticReports = []DiagnosticReport{imagingReport()}

	rx := sampleHeader(PrescriptionRecord)
	rx.Medications = []MedicationRequest{paracetamol(), {
		Medication: TextConcept("Pantoprazole 40 mg tablet"),
		Dosage:     []Dosage{{Text: "One tablet before breakfast", Timing: &Timing{Frequency: 1, Period: "1", PeriodUnit: "d"}}},
	}}
	rx.ScannedPrescription = &File{ContentType: "application/pdf", Data: samplePDF, Title: "Signed prescription"}

	imm := sampleHeader(ImmunizationRecord)
	imm.Immunizations = []Immunization{{
		VaccineCode: ConceptOf(SNOMED("1119349007", "COVID-19 mRNA vaccine")), Occurrence: visitStart,
		LotNumber: "BN2026-0042", Manufacturer: "Example Biotech", BrandName: "Covax", DoseNumber: 2, Series: "Primary",
		Route: ConceptOf(SNOMED("78421000", "Intramuscular route")),
	}}
	imm.ImmunizationRecommendation = &ImmunizationRecommendation{Recommendations: []VaccineRecommendation{{
		Vaccine: ConceptOf(SNOMED("1119349007", "COVID-19 mRNA vaccine")), DueDate: visitStart.Add(180 * 24 * time.Hour), DoseNumber: 3,
	}}}
	imm.Attachments = []AttachedDocument{sampleAttachment("Vaccination certificate", SNOMED("41000179103", "Immunization record"))}

	well := sampleHeader(WellnessRecord)
	well.VitalSigns = []Observation{{Code: ConceptOf(LOINC("8867-4", "Heart rate")), Effective: visitStart, Quantity: sampleQty("72", "beats/minute", "/min")}}
	well.BodyMeasurements = []Observation{
		{Code: ConceptOf(LOINC("8302-2", "Body height")), Effective: visitStart, Quantity: sampleQty("165", "cm", "cm")},
		{Code: ConceptOf(LOINC("29463-7", "Body weight")), Effective: visitStart, Quantity: sampleQty("60.5", "kg", "kg")},
	}
	well.PhysicalActivity = []Observation{{Code: ConceptOf(LOINC("55423-8", "Number of steps in unspecified time Pedometer")),
		Effective: visitStart, Quantity: sampleQty("6500", "steps", "{steps}")}}
	well.GeneralAssessment = []Observation{{Code: ConceptOf(LOINC("2339-0", "Glucose [Mass/volume] in Blood")),
		Effective: visitStart, Quantity: sampleQty("104", "mg/dL", "mg/dL")}}
	well.WomenHealth = []Observation{{Code: ConceptOf(LOINC("8665-2", "Last menstrual period start date")), Effective: visitStart, ValueText: "2026-11-01"}}
	well.Lifestyle = []Observation{{Code: ConceptOf(LOINC("72166-2", "Tobacco smoking status")), Effective: visitStart,
		ValueConcept: &Concept{Codings: []Coding{SNOMED("266919005", "Never smoked tobacco")}}}}

	hd := sampleHeader(HealthDocumentRecord)
	hd.Attachments = []AttachedDocument{sampleAttachment("Old discharge summary (scanned)", SNOMED("373942005", "Discharge summary"))}

	inv := sampleHeader(InvoiceRecord)
	pharmacy, _ := BillingCode("01")
	medicines, _ := BillingCode("05")
	rate, _ := PriceComponentCode("01")
	mrp, _ := PriceComponentCode("00")
	cgst, _ := PriceComponentCode("03")
	sgst, _ := PriceComponentCode("04")
	inv.Invoice = &Invoice{
		Number: "PH/2026/00077", Type: pharmacy, Date: visitStart,
		Lines: []InvoiceLine{
			{ChargeCode: medicines, Product: ConceptOf(SNOMED("322236009", "Paracetamol 500 mg oral tablet")),
				Quantity: Quantity{Value: "15", Unit: "tablet"},
				Prices:   []PriceComponent{{"base", rate, "30.00"}, {"informational", mrp, "35.00"}, {"tax", cgst, "0.90"}, {"tax", sgst, "0.90"}}},
			{ChargeCode: medicines, Product: TextConcept("Pantoprazole 40 mg tablet"),
				Quantity: Quantity{Value: "10", Unit: "tablet"},
				Prices:   []PriceComponent{{"base", rate, "85.00"}, {"tax", cgst, "2.55"}, {"tax", sgst, "2.55"}}},
		},
		TotalNet: "115.00", TotalGross: "121.90",
	}

	return []struct {
		name string
		doc  *Document
	}{
		{"op-consult", op}, {"discharge-summary", ds}, {"diagnostic-report-lab", lab}, {"diagnostic-report-imaging", img},
		{"prescription", rx}, {"immunization", imm}, {"wellness", well}, {"health-document", hd}, {"invoice", inv},
	}
}

func TestBuildEveryRecordType(t *testing.T) {
	g := newTestGate(t)
	seen := map[RecordType]bool{}
	for _, tc := range sampleDocuments() {
		t.Run(tc.name, func(t *testing.T) {
			seen[tc.doc.Type] = true
			built, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), tc.doc)
			if err != nil {
				var rej *RejectedError
				if errors.As(err, &rej) {
					for _, f := range rej.Findings {
						t.Logf("  %s", f)
					}
				}
				t.Fatalf("Build: %v", err)
			}
			for _, f := range built.Warnings {
				t.Errorf("our own bundle has a warning: %s", f)
			}
			// The full gate, base R4 through google/fhir's parser included,
			// must agree with the faster path Build takes.
			fs, err := g.Check(context.Background(), built.JSON)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				t.Errorf("gate finding on a built bundle: %s", f)
			}
			checkBuiltShape(t, tc.doc.Type, built.JSON)
			compareGolden(t, tc.name, built.JSON)
		})
	}
	for _, rt := range RecordTypes() {
		if !seen[rt] {
			t.Errorf("no sample document for %s", rt)
		}
	}
}

// checkBuiltShape checks the producer rules that the gate only warns about
// or does not check: urn:uuid fullUrls, meta.profile on every resource,
// typed section entries.
func checkBuiltShape(t *testing.T, rt RecordType, data []byte) {
	t.Helper()
	b, err := decodeBundleJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := jprofiles(b); len(got) != 1 || got[0] != profileDocumentBundle {
		t.Errorf("Bundle.meta.profile = %v", got)
	}
	for i, e := range jarray(b, "entry") {
		eo := e.(jobj)
		if u := jstr(eo, "fullUrl"); !urnUUIDPattern.MatchString(u) {
			t.Errorf("entry[%d].fullUrl %q is not a urn:uuid", i, u)
		}
		res := jobject(eo, "resource")
		if typ := jstr(res, "resourceType"); typ != "Endpoint" && len(jprofiles(res)) == 0 {
			t.Errorf("entry[%d] %s has no meta.profile", i, typ)
		}
	}
	comp := jobject(jarray(b, "entry")[0].(jobj), "resource")
	if got := jprofiles(comp); len(got) != 1 || got[0] != rt.Profile() {
		t.Errorf("Composition.meta.profile = %v, want %s", got, rt.Profile())
	}
	for _, s := range jarray(comp, "section") {
		for _, en := range jarray(s.(jobj), "entry") {
			if jstr(en.(jobj), "type") == "" {
				t.Errorf("section entry %v has no type", en)
			}
		}
	}
}

// compareGolden compares a bundle with testdata/<name>.json, indented for
// readable diffs; -update-build rewrites it.
func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name+".json")
	if *updateBuildGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update-build to create it): %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		gotLines, wantLines := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(run with -update-build if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	doc := sampleDocuments()[0].doc
	a, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.JSON, b.JSON) {
		t.Error("two builds of the same document with the same clock and ids differ")
	}
	c, err := newTestBuilder(t, Config{}).Build(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == a.ID {
		t.Error("the default id generator produced the test's fixed id")
	}
}

func TestBuildRejectsInvalidDocuments(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Document)
		want   string // in the error message
	}{
		{"patient without identifier", func(d *Document) {
			d.Patient.ABHANumber, d.Patient.ABHAAddress, d.Patient.Identifiers = "", "", nil
		}, "Patient needs an identifier"},
		{"malformed ABHA number", func(d *Document) { d.Patient.ABHANumber = "1234" }, "not a 14-digit ABHA number"},
		{"content the record type cannot carry", func(d *Document) { d.Invoice = &Invoice{Number: "X"} }, "cannot carry Invoice"},
		{"OP without encounter", func(d *Document) { d.Encounter = nil }, "Encounter is required"},
		{"organisation without HFR id", func(d *Document) { d.Organization.HFRID = "" }, "HFRID is required"},
		{"bad gender", func(d *Document) { d.Patient.Gender = "M" }, "Patient.Gender"},
		{"condition without code", func(d *Document) { d.ChiefComplaints[0].Code = Concept{} }, "ChiefComplaints[0].Code is required"},
		{"incomplete coding", func(d *Document) {
			d.MedicalHistory[0].Code = ConceptOf(Coding{System: SystemSNOMED, Code: "38341003"})
		}, "needs system, code and display"},
		{"medication without dosage", func(d *Document) { d.Medications[0].Dosage = nil }, "Dosage is required"},
		{"two observation values", func(d *Document) { d.OtherObservations[0].ValueText = "normal" }, "has 2 values"},
		{"no date", func(d *Document) { d.Date = time.Time{} }, "Date is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := sampleDocuments()[0].doc
			tt.change(doc)
			_, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), doc)
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("got %v, want an ErrInvalidDocument", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}

	t.Run("two reports in a DiagnosticReportRecord", func(t *testing.T) {
		doc := sampleHeader(DiagnosticReportRecord)
		doc.DiagnosticReports = []DiagnosticReport{labReport(), labReport()}
		_, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), doc)
		if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "one bundle per report") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("lab report without results", func(t *testing.T) {
		doc := sampleHeader(DiagnosticReportRecord)
		r := labReport()
		r.Results = nil
		doc.DiagnosticReports = []DiagnosticReport{r}
		_, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), doc)
		if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "at least one result") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("empty record", func(t *testing.T) {
		_, err := newTestBuilder(t, fixedConfig()).Build(context.Background(), sampleHeader(PrescriptionRecord))
		if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "has no content") {
			t.Errorf("got %v", err)
		}
	})
}

// TestBuildGateRejection shows a bundle that the builder can make but the
// gate refuses: an HFR id written in the ABHA namespace by a misconfigured
// deployment. It must come back as a RejectedError, not as a bundle.
func TestBuildGateRejection(t *testing.T) {
	cfg := fixedConfig()
	cfg.HFRSystem = DefaultABHASystem
	built, err := newTestBuilder(t, cfg).Build(context.Background(), sampleDocuments()[0].doc)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, %v; want a RejectedError", built, err)
	}
	if built != nil {
		t.Error("a rejected bundle was returned as built")
	}
	found := false
	for _, f := range rej.Findings {
		found = found || (f.Rule == "nrces-identifier-system" && f.Severity == SeverityError)
	}
	if !found || len(rej.Bundle) == 0 {
		t.Errorf("rejection lacks the identifier finding or the bundle: %v", rej.Findings)
	}
}

func TestNewBuilderRejectsBadSystems(t *testing.T) {
	if _, err := NewBuilder(Config{HFRSystem: "HFR"}); err == nil {
		t.Error("NewBuilder accepted a non-URI identifier system")
	}
}

func TestRecordTypeNames(t *testing.T) {
	for _, rt := range RecordTypes() {
		got, ok := RecordTypeOfProfile(rt.Profile())
		if !ok || got != rt {
			t.Errorf("RecordTypeOfProfile(%s) = %v, %v", rt.Profile(), got, ok)
		}
		got, ok = RecordTypeOfHIType(rt.HIType())
		if !ok || got != rt {
			t.Errorf("RecordTypeOfHIType(%s) = %v, %v", rt.HIType(), got, ok)
		}
	}
	if rt, ok := RecordTypeOfProfile("http://nrces.in/ndhm/fhir/r4/StructureDefinition/OPConsultRecord"); !ok || rt != OPConsultRecord {
		t.Error("the http:// spelling of a profile was not recognised")
	}
	if _, ok := RecordTypeOfProfile("https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient"); ok {
		t.Error("Patient was taken for a record profile")
	}
}

// TestBuildConcurrent uses one Builder from many goroutines, as a data
// transfer does; run with -race to check the claim that Builder and Gate
// are safe for concurrent use.
func TestBuildConcurrent(t *testing.T) {
	bld := newTestBuilder(t, Config{})
	docs := sampleDocuments()
	errs := make(chan error, 4*len(docs))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tc := range docs {
				built, err := bld.Build(context.Background(), tc.doc)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", tc.name, err)
					continue
				}
				fs, err := bld.gate.Check(context.Background(), built.JSON)
				if err != nil || len(fs) > 0 {
					errs <- fmt.Errorf("%s: gate: %v %v", tc.name, err, fs)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDateTimesKeepTheirOffset checks the builder writes every date-time in
// the configured zone's offset at that instant, and every date as given,
// with the writer Build uses and with jsonformat alike.
func TestDateTimesKeepTheirOffset(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	locs := []*time.Location{testIST, time.UTC, newYork, time.FixedZone("NPT", 5*3600+2700), time.FixedZone("W", -3*3600)}
	instants := []time.Time{
		time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1943, 6, 1, 20, 0, 0, 0, time.UTC),
		time.Date(1900, 1, 1, 18, 40, 0, 0, time.UTC),
	}
	for _, loc := range locs {
		for _, at := range instants {
			want := at.In(loc).Format("2006-01-02T15:04:05-07:00")
			obs := &obspb.Observation{Effective: &obspb.Observation_EffectiveX{Choice: &obspb.Observation_EffectiveX_DateTime{DateTime: pDateTime(at, loc)}},
				Issued: pInstant(at, loc)}
			fast, data, ok := jsonBoth(t, obs)
			if !ok || !bytes.Equal(fast, data) {
				t.Errorf("%s at %s: the writers differ (%v): %s and %s", loc, at, ok, fast, data)
			}
			var got struct{ EffectiveDateTime, Issued string }
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if got.EffectiveDateTime != want || got.Issued != want {
				t.Errorf("%s at %s: wrote %s and %s, want %s", loc, at, got.EffectiveDateTime, got.Issued, want)
			}
			day := at.In(loc).Format("2006-01-02")
			bd, err := pDate(day, loc)
			if err != nil {
				t.Fatal(err)
			}
			fast, data, ok = jsonBoth(t, &patpb.Patient{BirthDate: bd})
			if !ok || !bytes.Equal(fast, data) {
				t.Errorf("%s: date %s: the writers differ (%v): %s and %s", loc, day, ok, fast, data)
			}
			var p struct{ BirthDate string }
			if err := json.Unmarshal(data, &p); err != nil {
				t.Fatal(err)
			}
			if p.BirthDate != day {
				t.Errorf("%s: date %s written as %s", loc, day, p.BirthDate)
			}
		}
	}
}
