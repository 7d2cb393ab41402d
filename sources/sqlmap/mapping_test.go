package sqlmap_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

func TestDemoAndTestMappingsParse(t *testing.T) {
	for _, fsys := range []fs.FS{mappings.FS, os.DirFS("testdata")} {
		names, err := fs.Glob(fsys, "*.[yj]*")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".json") {
				continue
			}
			m, err := sqlmap.LoadMapping(fsys, name)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if len(m.Contexts) == 0 || len(m.Patients.Search) == 0 {
				t.Errorf("%s: parsed to %d contexts and %d searches", name, len(m.Contexts), len(m.Patients.Search))
			}
		}
	}
	want := []string{"billdesk.yaml", "careware.yaml", "labtrack.yaml", "medisoft.yaml", "pharmaone.yaml", "radview.yaml"}
	got, _ := fs.Glob(mappings.FS, "*.yaml")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("embedded mappings = %v, want %v", got, want)
	}
}

// good is a minimal valid mapping; each case below breaks one line of it.
const good = `format: 1
vendor: test
connection:
  query_timeout: 2s
patients:
  fields:
    local_id: id
    gender: {column: sex, map: {Male: M}}
  search:
    - name: by_id
      params: [local_id]
      query: SELECT id, sex FROM patients WHERE id = $1
care_contexts:
  - type: visit
    hi_type: OPConsultation
    fields: {local_id: id, patient_id: pid, display: d, date: at}
    list:
      params: [patient_id, from, to]
      query: SELECT id, pid, d, at FROM visits WHERE pid = $1 AND at >= $2 AND at < $3
    get:
      params: [local_id]
      query: SELECT id, pid, d, at FROM visits WHERE id = $1
    content:
      - resource: Observation
        params: [local_id]
        query: SELECT n, code, v FROM obs WHERE visit = $1
        fields:
          key: n
          code: {column: code, map: tests}
          value: v
code_maps:
  tests:
    system: http://loinc.org
    codes: {HB: 718-7}
`

func TestGoodMappingParses(t *testing.T) {
	m, err := sqlmap.Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.Contexts[0].Content[0].Query.Line != 26 {
		t.Errorf("content query line = %d, want 26", m.Contexts[0].Content[0].Query.Line)
	}
}

func TestBrokenMappingRejectedWithLineAndReason(t *testing.T) {
	cases := []struct {
		name      string
		from, to  string // replace from with to in good
		line      int
		reasonHas string
	}{
		{"yaml syntax", "vendor: test\n", "vendor: [test\n", 2, "did not find expected"},
		{"unknown top-level key", "vendor: test\n", "vendor: test\nvendr: typo\n", 3, `unknown key vendr`},
		{"unknown field key", "gender: {column: sex, map: {Male: M}}", "gender: {column: sex, mapp: {Male: M}}", 8, `unknown key "mapp"`},
		{"bad format", "format: 1", "format: 2", 1, "must be 1"},
		{"bad hi type", "hi_type: OPConsultation", "hi_type: OPDConsultation", 15, `"OPDConsultation" is not an ABDM hiType`},
		{"placeholder count", "WHERE id = $1\ncare", "WHERE id = $1 OR id = $2\ncare", 12, "placeholders up to $2 but params lists 1"},
		{"unknown param", "params: [local_id]\n      query: SELECT id, sex", "params: [mrn]\n      query: SELECT id, sex", 11, `"mrn" is not a parameter here`},
		{"not a select", "SELECT n, code, v FROM obs WHERE visit = $1", "DELETE FROM obs WHERE visit = $1", 26, "must be a SELECT"},
		{"two statements", "SELECT n, code, v FROM obs WHERE visit = $1", "SELECT n, code, v FROM obs WHERE visit = $1; DROP TABLE obs", 26, "single statement"},
		{"unknown field", "          value: v\n", "          valu: v\n", 30, "unknown field"},
		{"undefined code map", "{column: code, map: tests}", "{column: code, map: labtests}", 29, `map "labtests" is not defined`},
		{"inline map to bad code", "{Male: M}", "{Male: X}", 8, `maps to "X" is not one of`},
		{"missing required field", "fields: {local_id: id, patient_id: pid, display: d, date: at}", "fields: {local_id: id, patient_id: pid, display: d}", 16, "date is required"},
		{"unknown resource", "resource: Observation", "resource: Observaton", 24, `"Observaton" is not a resource`},
		{"bad timeout", "query_timeout: 2s", "query_timeout: 2 seconds", 4, "not a duration"},
		{"code system not a URI", "system: http://loinc.org", "system: LOINC", 33, "must be the code system's URI"},
		{"list without patient", "params: [patient_id, from, to]\n      query: SELECT id, pid, d, at FROM visits WHERE pid = $1 AND at >= $2 AND at < $3", "params: [from, to]\n      query: SELECT id, pid, d, at FROM visits WHERE at >= $1 AND at < $2", 18, "must use patient_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.from) {
				t.Fatalf("test case does not apply: %q not in the base mapping", tc.from)
			}
			_, err := sqlmap.Parse("broken.yaml", []byte(strings.Replace(good, tc.from, tc.to, 1)))
			var ve *sqlmap.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Line == tc.line && strings.Contains(p.Reason, tc.reasonHas) {
					return
				}
			}
			t.Errorf("no problem at line %d containing %q; got:\n%v", tc.line, tc.reasonHas, err)
		})
	}
}

func TestValidationErrorNamesFileLineAndPath(t *testing.T) {
	_, err := sqlmap.Parse("vendor.yaml", []byte(strings.Replace(good, "hi_type: OPConsultation", "hi_type: Nope", 1)))
	if err == nil {
		t.Fatal("broken mapping accepted")
	}
	if want := "vendor.yaml:15: care_contexts[visit].hi_type:"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

// goodBill is a minimal valid bill mapping; each case below breaks it.
const goodBill = `format: 1
vendor: test
patients:
  fields: {local_id: id}
  search:
    - params: [local_id]
      query: SELECT id FROM patients WHERE id = $1
care_contexts:
  - type: bill
    hi_type: Invoice
    fields: {local_id: no, patient_id: pid, display: d, date: at}
    list:
      params: [patient_id]
      query: SELECT no, pid, d, at FROM bills WHERE pid = $1
    get:
      params: [local_id]
      query: SELECT no, pid, d, at FROM bills WHERE no = $1
    content:
      - resource: Invoice
        params: [local_id]
        query: SELECT no, at FROM bills WHERE no = $1
        fields: {key: no, number: no, date: at, status: {value: issued}}
      - resource: ChargeItem
        params: [local_id]
        query: SELECT n, grp, qty, rate FROM lines WHERE no = $1
        fields:
          key: n
          code: {column: grp, map: groups}
          quantity: qty
          unit_price: rate
      - resource: Procedure
        params: [local_id]
        query: SELECT n, snomed, local_cd FROM procs WHERE no = $1
        fields:
          key: n
          code: [{column: snomed, system: "http://snomed.info/sct"}, {column: local_cd, map: groups}]
code_maps:
  groups:
    system: https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes
    codes: {ROOM: "02"}
`

func TestBrokenBillMappingRejectedWithLineAndReason(t *testing.T) {
	if _, err := sqlmap.Parse("bill.yaml", []byte(goodBill)); err != nil {
		t.Fatalf("the base bill mapping is rejected: %v", err)
	}
	cases := []struct {
		name      string
		from, to  string
		line      int
		reasonHas string
	}{
		{"charge without a price", "          unit_price: rate\n", "", 27, "amount or unit_price is required"},
		{"charge without quantity", "          quantity: qty\n", "", 27, "quantity is required"},
		{"invoice without lines", "      - resource: ChargeItem", "      - resource: Observation", 19, "an Invoice needs a ChargeItem resource"},
		{"invoice care context without invoice", "      - resource: Invoice\n        params: [local_id]\n        query: SELECT no, at FROM bills WHERE no = $1\n        fields: {key: no, number: no, date: at, status: {value: issued}}\n", "", 19, "hi_type Invoice needs an Invoice resource"},
		{"invoice without number", "{key: no, number: no, date: at,", "{key: no, date: at,", 22, "number is required"},
		{"unknown invoice status", "status: {value: issued}", "status: {value: paid}", 22, `value "paid" is not one of issued, draft`},
		{"unknown charge field", "          unit_price: rate\n", "          unit_price: rate\n          price: rate\n", 31, "unknown field (known here: amount, cgst, code"},
		{"coding list on a text field", "{key: no, number: no,", "{key: no, number: [no, other],", 22, "a list of codings applies only to coded fields"},
		{"bad coding in a list", `{column: local_cd, map: groups}`, `{column: local_cd, map: nogroups}`, 36, `map "nogroups" is not defined`},
		{"coding list item without a system", `{column: local_cd, map: groups}`, `{column: local_cd}`, 36, "needs a code map (map: name) or the column's code system"},
		{"unknown procedure status", "          key: n\n          code: [", "          key: n\n          status: {value: done}\n          code: [", 36, `value "done" is not one of completed`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(goodBill, tc.from) {
				t.Fatalf("test case does not apply: %q not in the base mapping", tc.from)
			}
			_, err := sqlmap.Parse("bill.yaml", []byte(strings.Replace(goodBill, tc.from, tc.to, 1)))
			var ve *sqlmap.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Line == tc.line && strings.Contains(p.Reason, tc.reasonHas) {
					return
				}
			}
			t.Errorf("no problem at line %d containing %q; got:\n%v", tc.line, tc.reasonHas, err)
		})
	}
}
