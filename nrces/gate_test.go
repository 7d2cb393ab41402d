package nrces

import (
	"context"
	"encoding/json"
	"github.com/sangamhealth/sangam/sharedtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir returns ../shared/testdata/<sub> relative to the repository
// root (the directory holding go.mod), skipping the test when it is absent.
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	p := sharedtest.Path(t, sub)
	return p
}

// nrcesExamples returns the NRCeS IG 6.5.0 example bundles.
func nrcesExamples(t testing.TB) map[string][]byte {
	t.Helper()
	dir := sharedDir(t, filepath.Join("fhir", "abdm-fhir-ig-fsh"))
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func newTestGate(t testing.TB) *Gate {
	t.Helper()
	g, err := NewGate()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGateAcceptsNRCeSExamples(t *testing.T) {
	g := newTestGate(t)
	examples := nrcesExamples(t)
	if len(examples) != 9 {
		t.Errorf("found %d NRCeS examples, want the 9 of IG 6.5.0", len(examples))
	}
	for name, data := range examples {
		t.Run(name, func(t *testing.T) {
			fs, err := g.Check(context.Background(), data)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.Severity == SeverityError {
					t.Errorf("unexpected error: %s", f)
				} else {
					t.Logf("warning: %s", f)
				}
			}
		})
	}
}

// mutate decodes a bundle, applies change and encodes it again.
func mutate(t *testing.T, data []byte, change func(b jobj)) []byte {
	t.Helper()
	b, err := decodeBundleJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	change(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func entryResource(b jobj, i int) jobj {
	return jobject(jarray(b, "entry")[i].(jobj), "resource")
}

// findEntry returns the index of the first entry whose resource has type typ.
func findEntry(t *testing.T, b jobj, typ string) int {
	t.Helper()
	for i, e := range jarray(b, "entry") {
		if jstr(jobject(e.(jobj), "resource"), "resourceType") == typ {
			return i
		}
	}
	t.Fatalf("no %s entry", typ)
	return -1
}

func TestGateRejectsBrokenCopies(t *testing.T) {
	g := newTestGate(t)
	ex := nrcesExamples(t)
	op := ex["Bundle-OPConsultNote-example-05.json"]
	rx := ex["Bundle-Prescription-example-06.json"]
	dr := ex["Bundle-DiagnosticReport-Lab-example-03.json"]
	wellness := ex["Bundle-WellnessRecord-example-01.json"]
	if op == nil || rx == nil || dr == nil || wellness == nil {
		t.Fatal("expected examples missing")
	}
	tests := []struct {
		name     string
		data     []byte
		change   func(t *testing.T, b jobj)
		rule     string
		location string // a prefix of the expected finding's location
	}{
		{
			name: "composition not first", data: op,
			change: func(t *testing.T, b jobj) {
				e := jarray(b, "entry")
				e[0], e[1] = e[1], e[0]
			},
			rule: "nrces-composition-first", location: "Bundle.entry[0].resource",
		},
		{
			name: "wrong composition type code", data: op,
			change: func(t *testing.T, b jobj) {
				c := jarray(jobject(entryResource(b, 0), "type"), "coding")[0].(jobj)
				c["code"] = "373942005" // the discharge summary code in an OP record
			},
			rule: "nrces-composition-type", location: "Bundle.entry[0].resource.type.coding[0].code",
		},
		{
			name: "wrong composition type display", data: rx,
			change: func(t *testing.T, b jobj) {
				c := jarray(jobject(entryResource(b, 0), "type"), "coding")[0].(jobj)
				c["display"] = "Prescription Record"
			},
			rule: "nrces-composition-type", location: "Bundle.entry[0].resource.type.coding[0].display",
		},
		{
			name: "dangling reference", data: op,
			change: func(t *testing.T, b jobj) {
				s := jarray(entryResource(b, 0), "section")[0].(jobj)
				jarray(s, "entry")[0].(jobj)["reference"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
			},
			rule: "nrces-reference-resolve", location: "Bundle.entry[0].resource.section[0].entry[0].reference",
		},
		{
			name: "missing subject", data: op,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "subject") },
			rule:   "nrces-composition-subject", location: "Bundle.entry[0].resource.subject",
		},
		{
			name: "wrong identifier system", data: op,
			change: func(t *testing.T, b jobj) {
				org := entryResource(b, findEntry(t, b, "Organization"))
				jarray(org, "identifier")[0].(jobj)["system"] = "https://healthid.ndhm.gov.in"
			},
			rule: "nrces-identifier-system", location: "Bundle.entry[2].resource.identifier[0].system",
		},
		{
			name: "identifier system not a URI", data: op,
			change: func(t *testing.T, b jobj) {
				p := entryResource(b, findEntry(t, b, "Patient"))
				jarray(p, "identifier")[0].(jobj)["system"] = "ABHA"
			},
			rule: "nrces-identifier-system", location: "Bundle.entry[3].resource.identifier[0].system",
		},
		{
			name: "wrong section entry type", data: rx,
			change: func(t *testing.T, b jobj) {
				s := jarray(entryResource(b, 0), "section")[0].(jobj)
				jarray(s, "entry")[0].(jobj)["type"] = "Observation"
			},
			rule: "nrces-section-entry-type", location: "Bundle.entry[0].resource.section[0].entry[0].type",
		},
		{
			name: "section entry pointing at the wrong resource", data: rx,
			change: func(t *testing.T, b jobj) {
				s := jarray(entryResource(b, 0), "section")[0].(jobj)
				en := jarray(s, "entry")[0].(jobj)
				en["reference"] = jstr(jarray(b, "entry")[findEntry(t, b, "Condition")].(jobj), "fullUrl")
			},
			rule: "nrces-section-entry-type", location: "Bundle.entry[0].resource.section[0].entry[0]",
		},
		{
			name: "missing section entry type", data: rx,
			change: func(t *testing.T, b jobj) {
				s := jarray(entryResource(b, 0), "section")[0].(jobj)
				delete(jarray(s, "entry")[0].(jobj), "type")
			},
			rule: "nrces-section-entry-type", location: "Bundle.entry[0].resource.section[0].entry[0].type",
		},
		{
			name: "two diagnostic reports in one record", data: dr,
			change: func(t *testing.T, b jobj) {
				s := jarray(entryResource(b, 0), "section")[0].(jobj)
				en := jarray(s, "entry")
				s["entry"] = append(en, en[0])
			},
			rule: "nrces-section-entry-count", location: "Bundle.entry[0].resource.section[0].entry",
		},
		{
			name: "wrong section code", data: op,
			change: func(t *testing.T, b jobj) {
				s := jarray(entryResource(b, 0), "section")[0].(jobj)
				c := jarray(jobject(s, "code"), "coding")[0].(jobj)
				c["system"] = "https://projecteka.in/sct"
			},
			rule: "nrces-section-code", location: "Bundle.entry[0].resource.section[0].code.coding[0].system",
		},
		{
			name: "collection bundle", data: op,
			change: func(t *testing.T, b jobj) { b["type"] = "collection" },
			rule:   "nrces-bundle-type", location: "Bundle.type",
		},
		{
			name: "no bundle identifier", data: op,
			change: func(t *testing.T, b jobj) { delete(b, "identifier") },
			rule:   "nrces-bundle-identifier", location: "Bundle.identifier",
		},
		{
			name: "no meta.versionId", data: op,
			change: func(t *testing.T, b jobj) { delete(jobject(b, "meta"), "versionId") },
			rule:   "nrces-bundle-meta", location: "Bundle.meta.versionId",
		},
		{
			name: "duplicate fullUrl", data: op,
			change: func(t *testing.T, b jobj) {
				e := jarray(b, "entry")
				e[2].(jobj)["fullUrl"] = e[1].(jobj)["fullUrl"]
			},
			rule: "nrces-fullurl", location: "Bundle.entry[2].fullUrl",
		},
		{
			name: "OP without encounter", data: op,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "encounter") },
			rule:   "nrces-composition-encounter", location: "Bundle.entry[0].resource.encounter",
		},
		{
			name: "wellness type text", data: wellness,
			change: func(t *testing.T, b jobj) {
				entryResource(b, 0)["type"] = jobj{"text": "Wellness record"}
			},
			rule: "nrces-composition-type", location: "Bundle.entry[0].resource.type.text",
		},
		{
			name: "condition coded in a disallowed system", data: op,
			change: func(t *testing.T, b jobj) {
				c := entryResource(b, findEntry(t, b, "Condition"))
				jarray(jobject(c, "code"), "coding")[0].(jobj)["system"] = "http://loinc.org"
			},
			rule: "nrces-code-system", location: "Bundle.entry[7].resource.code.coding[0].system",
		},
		{
			name: "medication request without requester", data: rx,
			change: func(t *testing.T, b jobj) {
				delete(entryResource(b, findEntry(t, b, "MedicationRequest")), "requester")
			},
			rule: "nrces-required", location: "Bundle.entry[3].resource.requester",
		},
		{
			name: "composition profile missing", data: rx,
			change: func(t *testing.T, b jobj) { delete(jobject(entryResource(b, 0), "meta"), "profile") },
			rule:   "nrces-composition-profile", location: "Bundle.entry[0].resource.meta.profile",
		},
		{
			name: "base R4: unknown property", data: op,
			change: func(t *testing.T, b jobj) { entryResource(b, 3)["fhir_comments"] = "x" },
			rule:   "fhir-r4", location: "Bundle.entry[3].resource",
		},
		{
			name: "base R4: missing required status", data: op,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "status") },
			rule:   "fhir-r4", location: "Bundle.entry[0].resource.status",
		},
		{
			name: "base R4: bad gender code", data: op,
			change: func(t *testing.T, b jobj) { entryResource(b, findEntry(t, b, "Patient"))["gender"] = "M" },
			rule:   "fhir-r4", location: "Bundle.entry[3].resource.gender",
		},
		{
			name: "empty string", data: op,
			change: func(t *testing.T, b jobj) { entryResource(b, 0)["title"] = "" },
			rule:   "fhir-empty", location: "Bundle.entry[0].resource.title",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mutate(t, tt.data, func(b jobj) { tt.change(t, b) })
			fs, err := g.Check(context.Background(), data)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range fs {
				if f.Rule == tt.rule && f.Severity == SeverityError && strings.HasPrefix(f.Location, tt.location) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s error at %s; findings:", tt.rule, tt.location)
				for _, f := range fs {
					t.Logf("  %s", f)
				}
			}
		})
	}
}

// TestGateNormalisesBase64 checks that JSON-escaped slashes and whitespace
// in base64, both conformant, do not become errors through google/fhir.
func TestGateNormalisesBase64(t *testing.T) {
	g := newTestGate(t)
	rx := nrcesExamples(t)["Bundle-Prescription-example-06.json"]
	b, err := decodeBundleJSON(rx)
	if err != nil {
		t.Fatal(err)
	}
	bin := entryResource(b, findEntry(t, b, "Binary"))
	data := jstr(bin, "data")
	var wrapped strings.Builder
	for i := 0; i < len(data); i += 76 {
		wrapped.WriteString(data[i:min(i+76, len(data))])
		wrapped.WriteString("\n")
	}
	bin["data"] = wrapped.String()
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(data, "/") {
		t.Fatal("test needs base64 with a slash")
	}
	// encoding/json does not escape '/', so do it as PHP would.
	escaped := []byte(strings.ReplaceAll(string(out), "/", `\/`))

	for name, in := range map[string][]byte{"wrapped": out, "escaped": escaped} {
		fs, err := g.Check(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if HasErrors(fs) {
			t.Errorf("%s: conformant base64 was rejected:", name)
			for _, f := range fs {
				t.Logf("  %s", f)
			}
		}
		warned := false
		for _, f := range fs {
			warned = warned || f.Rule == "fhir-base64-whitespace"
		}
		if !warned {
			t.Errorf("%s: no fhir-base64-whitespace warning", name)
		}
	}
}

func TestGateNotJSON(t *testing.T) {
	fs, err := newTestGate(t).Check(context.Background(), []byte("not json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Rule != "fhir-json" || fs[0].Severity != SeverityError {
		t.Errorf("got %v, want one fhir-json error", fs)
	}
}
