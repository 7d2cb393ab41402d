package sqlmap_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

var loadOnce sync.Once

// setup loads the test vendors' schemas once and returns an opener
// reading the test database.
func setup(t testing.TB) (*sqlmap.Opener, *databasetest.DB) {
	t.Helper()
	db := databasetest.New(t)
	loadOnce.Do(func() {
		for _, f := range []string{"testdata/alpha.sql", "testdata/beta.sql", "testdata/gamma.sql"} {
			sql, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Owner.Exec(context.Background(), string(sql)); err != nil {
				t.Fatalf("loading %s: %v", f, err)
			}
		}
	})
	o := sqlmap.NewOpener(sqlmap.OpenerConfig{
		Mappings: os.DirFS("testdata"),
		LookupEnvFunc: func(k string) (string, bool) {
			if k == "TEST_SOURCE_DSN" {
				return db.URL, true
			}
			return "", false
		},
	})
	t.Cleanup(o.Close)
	return o, db
}

func open(t testing.TB, o *sqlmap.Opener, mapping string) *sqlmap.Connector {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{"connector": "sql", "mapping": mapping, "dsn_env": "TEST_SOURCE_DSN"})
	// Both vendors are opened as the same source system, so that the ids
	// built from (facility, system) agree and the outputs can be compared
	// whole.
	sys := sources.System{ID: "00000000-0000-0000-0000-0000000000aa", FacilityID: "fac-1", FacilityHFRID: "IN0000000001", Code: "his", Config: cfg}
	c, err := o.Open(context.Background(), sys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.(*sqlmap.Connector)
}

func TestTwoSchemasOfTheSameDataNormaliseIdentically(t *testing.T) {
	o, _ := setup(t)
	ctx := context.Background()
	alpha, beta := open(t, o, "alpha.yaml"), open(t, o, "beta.json")
	for _, c := range []*sqlmap.Connector{alpha, beta} {
		if err := c.Check(ctx); err != nil {
			t.Fatalf("%s does not fit its schema: %v", c.Mapping().File, err)
		}
	}
	marshaller, err := jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}

	queries := []sources.PatientQuery{
		{LocalID: "P-001"},
		{Mobile: "+91 98450-12345"},
		{ABHANumber: "91-1234-5678-9012"},
		{Name: "irfan"},
	}
	for _, q := range queries {
		a, errA := alpha.FindPatients(ctx, q)
		b, errB := beta.FindPatients(ctx, q)
		if errA != nil || errB != nil {
			t.Fatalf("FindPatients(%+v): %v / %v", q, errA, errB)
		}
		if len(a) != 1 {
			t.Errorf("FindPatients(%+v) found %d, want 1", q, len(a))
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("FindPatients(%+v): alpha and beta differ (-alpha +beta):\n%s", q, diff)
		}
	}
	la, _ := alpha.ListPatients(ctx, "", 10)
	lb, _ := beta.ListPatients(ctx, "", 10)
	if len(la) != 3 || !cmp.Equal(la, lb) {
		t.Errorf("ListPatients: alpha %d records, beta %d, equal %t", len(la), len(lb), cmp.Equal(la, lb))
	}
	rec := la[0]
	if rec.Name != "Lakshmi Gowda" || rec.Gender != "F" || rec.BirthDate.Format(time.DateOnly) != "1984-07-04" ||
		rec.Mobile != "9845012345" || rec.ABHANumber != "91-1234-5678-9012" || rec.ABHAAddress != "lakshmi.gowda@sbx" ||
		rec.SourceSystemID == "" || rec.FacilityID != "fac-1" {
		t.Errorf("P-001 normalised to %+v", rec)
	}

	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := alpha.CareContexts(ctx, "P-001", from, to)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := beta.CareContexts(ctx, "P-001", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(ca) != 2 || ca[0].Reference != "his:visit:V-11" || ca[0].HIType != sources.OPConsultation {
		t.Errorf("alpha care contexts = %+v", ca)
	}
	if diff := cmp.Diff(ca, cb); diff != "" {
		t.Errorf("care contexts differ (-alpha +beta):\n%s", diff)
	}

	for _, cc := range ca {
		fa, err := alpha.Fetch(ctx, cc.Ref())
		if err != nil {
			t.Fatal(err)
		}
		fb, err := beta.Fetch(ctx, cc.Ref())
		if err != nil {
			t.Fatal(err)
		}
		ja, jb := marshalAll(t, marshaller, fa.Resources), marshalAll(t, marshaller, fb.Resources)
		if diff := cmp.Diff(ja, jb); diff != "" {
			t.Errorf("%s: FHIR output differs (-alpha +beta):\n%s", cc.Reference, diff)
		}
		if fa.PatientID != fb.PatientID || !cmp.Equal(fa.CareContext, fb.CareContext) {
			t.Errorf("%s: content headers differ: %+v vs %+v", cc.Reference, fa.CareContext, fb.CareContext)
		}
		for _, r := range fa.Resources {
			if err := fhirvalidate.Validate(r); err != nil {
				t.Errorf("%s: invalid resource: %v", cc.Reference, err)
			}
		}
	}
}

func marshalAll(t *testing.T, m *jsonformat.Marshaller, rs []*bcrpb.ContainedResource) []string {
	t.Helper()
	var out []string
	for _, r := range rs {
		b, err := m.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestContentIsStandardFHIR checks what the builders make of a lab visit:
// LOINC and UCUM codes, reference ranges, interpretation, the report
// listing its results, everything pointing at the encounter and patient.
func TestContentIsStandardFHIR(t *testing.T) {
	o, _ := setup(t)
	c := open(t, o, "beta.json")
	content, err := c.Fetch(context.Background(), sources.ContextRef{Type: "visit", LocalID: "V-10"})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var report *bcrpb.ContainedResource
	var hb string
	for _, r := range content.Resources {
		switch {
		case r.GetEncounter() != nil:
			counts["Encounter"]++
		case r.GetCondition() != nil:
			counts["Condition"]++
			if got := r.GetCondition().GetEncounter().GetUri().GetValue(); got == "" {
				t.Error("Condition does not point at the encounter")
			}
		case r.GetObservation() != nil:
			counts["Observation"]++
			o := r.GetObservation()
			if o.GetCode().GetCoding()[0].GetCode().GetValue() == "718-7" {
				hb = o.GetId().GetValue()
				q := o.GetValue().GetQuantity()
				if q.GetValue().GetValue() != "11.2" || q.GetCode().GetValue() != "g/dL" || q.GetSystem().GetValue() != "http://unitsofmeasure.org" {
					t.Errorf("haemoglobin value = %v", q)
				}
				rr := o.GetReferenceRange()[0]
				if rr.GetLow().GetValue().GetValue() != "12.0" || rr.GetHigh().GetValue().GetValue() != "16.0" {
					t.Errorf("haemoglobin range = %v", rr)
				}
				if o.GetInterpretation()[0].GetCoding()[0].GetCode().GetValue() != "L" {
					t.Errorf("haemoglobin interpretation = %v", o.GetInterpretation())
				}
			}
			if o.GetSubject().GetUri().GetValue() != "urn:uuid:"+content.PatientID {
				t.Errorf("observation subject = %v, want urn:uuid:%s", o.GetSubject(), content.PatientID)
			}
		case r.GetDiagnosticReport() != nil:
			counts["DiagnosticReport"]++
			report = r
		case r.GetPractitioner() != nil:
			counts["Practitioner"]++
		}
	}
	want := map[string]int{"Encounter": 1, "Condition": 2, "Observation": 3, "DiagnosticReport": 1, "Practitioner": 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	if report == nil || len(report.GetDiagnosticReport().GetResult()) != 3 ||
		report.GetDiagnosticReport().GetResult()[0].GetUri().GetValue() != "urn:uuid:"+hb {
		t.Errorf("report results = %v, want the 3 observations, haemoglobin first", report.GetDiagnosticReport().GetResult())
	}
}

func TestSearchValuesCannotInjectSQL(t *testing.T) {
	o, db := setup(t)
	ctx := context.Background()
	c := open(t, o, "alpha.yaml")
	attacks := []sources.PatientQuery{
		{LocalID: "P-001' OR '1'='1"},
		{LocalID: "x'; DROP TABLE t_alpha.patients; --"},
		{Name: "%"}, // LIKE wildcard: must match a literal percent sign only
		{Name: "_"}, // likewise
		{Name: `\`}, // the escape character itself
		{Name: "' OR 1=1 --"},
	}
	for _, q := range attacks {
		got, err := c.FindPatients(ctx, q)
		if err != nil {
			t.Errorf("FindPatients(%+v): %v", q, err)
		}
		for _, r := range got {
			if r.LocalID != "P-003" {
				t.Errorf("FindPatients(%+v) matched %s", q, r.LocalID)
			}
		}
	}
	// "%" is in P-003's name ("O'Brien 100%"): the literal match still works.
	got, _ := c.FindPatients(ctx, sources.PatientQuery{Name: "100%"})
	if len(got) != 1 || got[0].LocalID != "P-003" {
		t.Errorf("search for a literal %% found %v, want P-003", got)
	}
	got, _ = c.FindPatients(ctx, sources.PatientQuery{Name: "o'brien"})
	if len(got) != 1 {
		t.Errorf("search for a name with a quote found %d, want 1", len(got))
	}
	var n int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM t_alpha.patients").Scan(&n); err != nil || n != 3 {
		t.Errorf("t_alpha.patients has %d rows (%v) after the attacks, want 3", n, err)
	}
}

func TestConnectionIsReadOnly(t *testing.T) {
	o, db := setup(t)
	ctx := context.Background()
	// A data-modifying WITH passes the SELECT-only check of the file; the
	// read-only session still refuses it.
	m, err := sqlmap.Parse("sneaky.yaml", []byte(strings.Replace(good,
		"query: SELECT id, sex FROM patients WHERE id = $1",
		"query: WITH gone AS (DELETE FROM t_alpha.diagnoses RETURNING visit_id) SELECT visit_id AS id, 'M' AS sex FROM gone WHERE visit_id <> $1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := sqlmap.OpenPool(ctx, db.URL, m.Connection)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c, err := sqlmap.New(m, pool, sources.System{Code: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FindPatients(ctx, sources.PatientQuery{LocalID: "x"})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("data-modifying query: got %v, want a read-only refusal", err)
	}
	var n int
	_ = db.Owner.QueryRow(ctx, "SELECT count(*) FROM t_alpha.diagnoses").Scan(&n)
	if n != 4 {
		t.Errorf("t_alpha.diagnoses has %d rows, want 4", n)
	}
	_ = o
}

func TestQueryTimeoutIsHonoured(t *testing.T) {
	_, db := setup(t)
	ctx := context.Background()
	slow := strings.Replace(strings.Replace(good, "query_timeout: 2s", "query_timeout: 300ms", 1),
		"query: SELECT id, sex FROM patients WHERE id = $1",
		"query: SELECT $1::text AS id, 'Male' AS sex FROM pg_sleep(5)", 1)
	m, err := sqlmap.Parse("slow.yaml", []byte(slow))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := sqlmap.OpenPool(ctx, db.URL, m.Connection)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c, err := sqlmap.New(m, pool, sources.System{Code: "slow"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.FindPatients(ctx, sources.PatientQuery{LocalID: "x"})
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, sources.ErrUnavailable) {
		t.Errorf("got %v, want a deadline-exceeded source failure", err)
	}
	// The query sleeps 5 s; returning at all before that shows the timeout
	// cut it short (the bound is loose on purpose: this is not a speed test).
	if elapsed > 4*time.Second {
		t.Errorf("FindPatients returned after %s, the 300ms timeout was not honoured", elapsed)
	}
	// The connection was cancelled, not left running the sleep.
	if err := pool.Ping(ctx); err != nil {
		t.Errorf("pool unusable after the timeout: %v", err)
	}
}

func TestCheckFindsColumnsTheSchemaLacks(t *testing.T) {
	o, _ := setup(t)
	c := open(t, o, "alpha.yaml")
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("alpha mapping: %v", err)
	}
	_, db := setup(t)
	broken := strings.NewReplacer("abha_addr FROM patients WHERE id = $1", "abha_addr AS abha_adr FROM patients WHERE id = $1").
		Replace(mustRead(t, "testdata/alpha.yaml"))
	m, err := sqlmap.Parse("alpha-broken.yaml", []byte(broken))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := sqlmap.OpenPool(context.Background(), db.URL, m.Connection)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bc, _ := sqlmap.New(m, pool, sources.System{Code: "his"}, nil)
	err = bc.Check(context.Background())
	var ve *sqlmap.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	found := false
	for _, p := range ve.Problems {
		if p.Line == 15 && strings.Contains(p.Reason, `column "abha_addr" is not in the query's result`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem at line 15 naming abha_addr; got %v", err)
	}
	// Ping runs the same check, so the source shows up unhealthy.
	if err := bc.Ping(context.Background()); !errors.Is(err, sources.ErrUnavailable) {
		t.Errorf("Ping with a mapping that does not fit: %v, want ErrUnavailable", err)
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPollingAndErrors(t *testing.T) {
	o, _ := setup(t)
	ctx := context.Background()
	c := open(t, o, "beta.json")
	changed, err := c.ChangedSince(ctx, time.Date(2025, 3, 1, 5, 30, 0, 0, time.UTC), 2)
	if err != nil {
		t.Fatal(err)
	}
	// V-10 changed at 05:30 UTC exactly (not after); V-20 and V-11 follow.
	if len(changed) != 2 || changed[0].LocalID != "V-20" || changed[1].LocalID != "V-11" {
		t.Errorf("ChangedSince = %+v, want V-20 then V-11", changed)
	}
	if _, err := c.Fetch(ctx, sources.ContextRef{Type: "visit", LocalID: "V-99"}); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("Fetch of a missing visit: %v, want ErrNotFound", err)
	}
	if _, err := c.Fetch(ctx, sources.ContextRef{Type: "admission", LocalID: "V-10"}); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("Fetch of an unknown type: %v, want ErrNotFound", err)
	}
	if _, err := c.FindPatients(ctx, sources.PatientQuery{BirthYear: 1984}); !errors.Is(err, sources.ErrInvalidInput) {
		t.Errorf("FindPatients with nothing searchable: %v, want ErrInvalidInput", err)
	}
}
