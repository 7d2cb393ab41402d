package claims

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/nrces"
)

func TestClaimDiagnosesSaysWhatIsMissing(t *testing.T) {
	origin := Origin{FacilityName: "Kaveri Women and Child Hospital", SourceName: "CareWare HIS", FacilityHFRID: "IN2910000587"}
	admission := Encounter{Origin: origin, Inpatient: true}
	coded := Diagnosis{Origin: origin, OfBilledEncounter: true, Principal: true,
		Code: nrces.Concept{Text: "Breech presentation", Codings: []nrces.Coding{{System: nrces.SystemICD10, Code: "O32.1"}}}}
	uncoded := Diagnosis{Origin: origin, OfBilledEncounter: true, Display: "Breech",
		Code: nrces.Concept{Codings: []nrces.Coding{{System: "urn:careware:dx", Code: "BRCH", Display: "Breech"}}}}
	elsewhere := Diagnosis{Origin: Origin{FacilityName: "Kaveri City Hospital"}, Display: "Acute appendicitis",
		Code: nrces.Concept{Codings: []nrces.Coding{{System: nrces.SystemICD10, Code: "K35.8", Display: "Acute appendicitis"}}}}
	for _, tc := range []struct {
		name      string
		diagnoses []Diagnosis
		encounter Encounter
		want      int
		missing   string
	}{
		{"none", nil, admission, 0, "no diagnosis recorded for this admission in CareWare HIS at Kaveri Women and Child Hospital"},
		{"only elsewhere", []Diagnosis{elsewhere}, admission, 1, "no diagnosis recorded for this admission in CareWare HIS"},
		{"not coded", []Diagnosis{uncoded, elsewhere}, admission, 1, "have no ICD-10 or SNOMED CT code"},
		{"visit", nil, Encounter{Origin: origin}, 0, "no diagnosis recorded for this visit"},
		{"coded, twice", []Diagnosis{coded, coded, elsewhere}, admission, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := &Evidence{Encounter: tc.encounter, Diagnoses: tc.diagnoses}
			got, missing := claimDiagnoses(ev, nrces.ClaimUsePreauthorization)
			if len(got) != tc.want || !strings.Contains(missing, tc.missing) || (tc.missing == "") != (missing == "") {
				t.Errorf("got %d diagnoses, missing %q; want %d, %q", len(got), missing, tc.want, tc.missing)
			}
		})
	}
	// The source's text stands in for a missing display, and the
	// principal diagnosis says so.
	got, _ := claimDiagnoses(&Evidence{Encounter: admission, Diagnoses: []Diagnosis{coded}}, nrces.ClaimUseClaim)
	if got[0].Code.Codings[0].Display != "Breech presentation" || got[0].Types[0] != nrces.DiagnosisTypePrincipal ||
		got[0].Types[len(got[0].Types)-1] != nrces.DiagnosisTypeFinal {
		t.Errorf("diagnosis %+v", got[0])
	}
}

func TestCheckUploads(t *testing.T) {
	w := &Workflow{limits: UploadLimits{PerFile: 64, Total: 100, Files: 3}}
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 40)...)
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("j"), 30)...)
	png := []byte("\x89PNG\r\n\x1a\nrest")
	files, err := w.checkUploads([]Upload{{Name: `C:\Users\desk\scan.pdf`, Data: pdf}, {Name: "x-ray.jpg", Data: jpeg}, {Name: "ecg", Data: png}})
	if err != nil || len(files) != 3 || files[0].ContentType != "application/pdf" || files[0].Title != "scan.pdf" ||
		files[1].ContentType != "image/jpeg" || files[2].ContentType != "image/png" {
		t.Fatalf("good uploads: %v %+v", err, files)
	}
	for _, tc := range []struct {
		name string
		in   []Upload
		want string
	}{
		{"renamed word file", []Upload{{Name: "report.pdf", Data: []byte("PK\x03\x04word")}}, "include report.pdf, which is not a PDF, JPEG or PNG file"},
		{"html", []Upload{{Name: "a.png", Data: []byte("<html><script>")}}, "include a.png, which is not a PDF, JPEG or PNG file"},
		{"empty", []Upload{{Name: "blank.pdf"}}, "include blank.pdf, which is empty"},
		{"too big", []Upload{{Name: "big.pdf", Data: append(pdf, bytes.Repeat([]byte("y"), 64)...)}}, "include big.pdf, which is larger than the limit of 64 bytes per file"},
		{"too much together", []Upload{{Name: "a.pdf", Data: pdf}, {Name: "b.pdf", Data: pdf}, {Name: "c.pdf", Data: pdf}}, "add up to 147 bytes; the limit for one answer is 100 bytes"},
		{"too many", []Upload{{Name: "1", Data: png}, {Name: "2", Data: png}, {Name: "3", Data: png}, {Name: "4", Data: png}}, "are too many (4); attach at most 3"},
	} {
		_, err := w.checkUploads(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]string{"85000": "85000", "1,20,000.50": "120000.50", "₹ 450": "450", " 99.9 ": "99.9"} {
		if got, ok := parseAmount(in); !ok || got != want {
			t.Errorf("parseAmount(%q) = %q, %t; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "1e5", "12.345", "12.", "fifty", "NaN"} {
		if got, ok := parseAmount(in); ok {
			t.Errorf("parseAmount(%q) = %q, accepted", in, got)
		}
	}
}

func TestWorkflowCodes(t *testing.T) {
	for _, tc := range []struct {
		kind SchemeKind
		step step
		want string
	}{
		{SchemePMJAY, stepPreauth, "12"}, {SchemePMJAY, stepPreauthResubmit, "121"}, {SchemePMJAY, stepEnhancement, "13"},
		{SchemePMJAY, stepClaim, "15"}, {SchemePMJAY, stepClaimResubmit, "16"}, {SchemePMJAY, stepPaymentAck, "17"},
		{SchemePMJAY, stepPreauthQueryResponse, "19"}, {SchemePMJAY, stepEnhancementQueryResponse, "131"}, {SchemePMJAY, stepClaimQueryResponse, "151"},
		{SchemePrivateInsurer, stepPaymentAck, ""},
		{SchemePrivateInsurer, stepPreauth, ""}, {SchemeTPA, stepClaim, ""}, {SchemeState, stepEligibility, ""},
	} {
		if got := workflowCode(tc.kind, tc.step); got != tc.want {
			t.Errorf("workflowCode(%s, %d) = %q, want %q", tc.kind, tc.step, got, tc.want)
		}
	}
}

func TestQueryStep(t *testing.T) {
	out := func(id int64, path string) Message { return Message{ID: id, Direction: Outbound, Path: path} }
	enhancement := Message{ID: 10, Direction: Outbound, Path: hcx.PathPreauthSubmit, WorkflowID: "13"}
	in := func(id int64, path string) Message { return Message{ID: id, Direction: Inbound, Path: path} }
	query := func(id int64) PayerRequest {
		return PayerRequest{Kind: PayerQuery, Message: in(id, hcx.PathCommunicationRequest)}
	}
	ledger := []Message{
		out(1, hcx.PathCoverageEligibilityCheck), out(2, hcx.PathPreauthSubmit), in(3, hcx.PathPreauthOnSubmit),
		in(4, hcx.PathCommunicationRequest), out(5, hcx.PathCommunicationOnRequest), out(6, hcx.PathClaimSubmit),
		in(7, hcx.PathCommunicationRequest), out(8, hcx.PathPreauthSubmit), in(9, hcx.PathCommunicationRequest),
	}
	for _, tc := range []struct {
		name   string
		stage  Stage
		ledger []Message
		query  PayerRequest
		want   step
	}{
		{"after the pre-authorisation", StageClaim, ledger, query(4), stepPreauthQueryResponse},
		{"after the claim", StagePreauth, ledger, query(7), stepClaimQueryResponse},
		{"after a resubmitted pre-authorisation", StageClaim, ledger, query(9), stepPreauthQueryResponse},
		{"after a PM-JAY enhancement", StagePreauth, append(ledger[:9:9], enhancement), query(11), stepEnhancementQueryResponse},
		{"nothing submitted, at the claim", StageClaim, ledger[:1], query(4), stepClaimQueryResponse},
		{"nothing submitted, paid", StagePayment, nil, query(4), stepClaimQueryResponse},
		{"nothing submitted, at the coverage check", StageCoverageEligibility, ledger[:1], query(4), stepPreauthQueryResponse},
	} {
		d := CaseDetail{Case: Case{Stage: tc.stage}, Ledger: tc.ledger}
		if got := queryStep(d, tc.query); got != tc.want {
			t.Errorf("%s: step %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestStayBillsAreTheStaysOwn(t *testing.T) {
	mysuru := Origin{FacilityID: "f-mys", FacilityName: "Mysuru"}
	day := func(d int) time.Time { return time.Date(2025, 10, d, 9, 0, 0, 0, time.UTC) }
	ev := &Evidence{
		Encounter: Encounter{Origin: mysuru, Inpatient: true, Start: day(6), End: day(10)},
		Bills: []Bill{
			{Origin: mysuru, Number: "antenatal", Date: day(1)},
			{Origin: mysuru, Number: "stay", Date: day(10)},
			{Origin: mysuru, Number: "cancelled", Date: day(8), Status: "cancelled"},
			{Origin: Origin{FacilityID: "f-blr"}, Number: "other hospital", Date: day(7)},
			{Origin: mysuru, Number: "follow-up", Date: day(20)},
			// Bills the billing system ties to a stay go by that.
			{Origin: mysuru, Number: "same days, another stay", Date: day(9), Encounter: &Encounter{}},
			{Origin: mysuru, Number: "final bill, late", Date: day(24), Encounter: &Encounter{}, OfBilledEncounter: true},
		},
	}
	got := stayBills(ev, day(25))
	if len(got) != 2 || got[0].Number != "stay" || got[1].Number != "final bill, late" {
		t.Errorf("stay bills %+v", got)
	}
}
