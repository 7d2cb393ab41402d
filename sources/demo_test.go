package sources_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

var (
	demoOnce   sync.Once
	demoTenant string
	demoErr    error
)

// demoBundle is the demo group loaded into the test database, with a
// registry opening its sources through the embedded mapping files.
type demoBundle struct {
	db       *databasetest.DB
	tenant   string
	registry *sources.Registry
	metrics  *prometheus.Registry
}

func setupDemo(t *testing.T) demoBundle {
	t.Helper()
	db := databasetest.New(t)
	ctx := context.Background()
	demoOnce.Do(func() {
		res, err := demo.Load(ctx, db.Owner, demo.KaveriHealth())
		if err != nil {
			demoErr = err
			return
		}
		demoTenant = res.TenantID
		_, demoErr = demo.LoadSources(ctx, db.Owner, demo.KaveriHealth(), "DATABASE_URL")
	})
	if demoErr != nil {
		t.Fatalf("loading the demo: %v", demoErr)
	}
	reg := prometheus.NewRegistry()
	metrics, err := sources.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{
		Mappings:      mappings.FS,
		LookupEnvFunc: envWith(map[string]string{"DATABASE_URL": db.URL}),
	})
	registry, err := sources.NewRegistry(sources.RegistryConfig{
		Pool:    db.App,
		Openers: map[string]sources.OpenFunc{"sql": opener.Open},
		Metrics: metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { registry.Close(); opener.Close() })
	return demoBundle{db: db, tenant: demoTenant, registry: registry, metrics: reg}
}

func envWith(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func facilityID(t *testing.T, b demoBundle, hfr string) string {
	t.Helper()
	var id string
	err := database.InTenant(context.Background(), b.db.App, b.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT id::text FROM facilities WHERE hfr_id = $1", hfr).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDemoSourcesAnswerThroughTheirMappings reads every record of every demo
// person back through the connectors: the mapping files must fit the
// vendor schemas and give back what the generator wrote.
func TestDemoSourcesAnswerThroughTheirMappings(t *testing.T) {
	b := setupDemo(t)
	ctx := context.Background()
	mons := map[string]*sources.Monitor{} // hfr/code
	for _, f := range demo.KaveriHealth().Facilities {
		ms, err := b.registry.Facility(ctx, b.tenant, facilityID(t, b, f.HFRID))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if err := m.Ping(ctx); err != nil {
				t.Errorf("%s/%s: %v", f.HFRID, m.System().Code, err)
			}
			mons[f.HFRID+"/"+m.System().Code] = m
		}
	}
	// Every source system connects, billing included.
	if len(mons) != 9 {
		t.Fatalf("connectable demo sources = %d, want 9", len(mons))
	}

	people := demo.People()
	records, withABHA, planted := 0, 0, 0
	for _, p := range people {
		for _, r := range p.Records {
			records++
			if len(r.Differences) > 0 {
				planted++
			}
			mon := mons[r.FacilityHFRID+"/"+r.SourceCode]
			got, err := mon.FindPatients(ctx, sources.PatientQuery{LocalID: r.LocalID})
			if err != nil || len(got) != 1 {
				t.Fatalf("%s %s/%s: found %d (%v)", r.LocalID, r.FacilityHFRID, r.SourceCode, len(got), err)
			}
			rec := got[0]
			if !strings.EqualFold(rec.Name, r.Name) || rec.Gender != r.Gender || rec.BirthYear != r.BirthYear ||
				!rec.BirthDate.Equal(r.BirthDate) || digits(rec.Mobile) != r.Mobile && !strings.HasSuffix(digits(rec.Mobile), r.Mobile) {
				t.Errorf("%s (%s): connector gives %+v, generator wrote %+v", r.LocalID, r.Vendor, rec, r)
			}
			for _, q := range []sources.PatientQuery{
				{Mobile: r.Mobile},
				{Name: r.Name, BirthYear: r.BirthYear, Gender: r.Gender},
			} {
				if q.Mobile == "" && q.Name == "" {
					continue
				}
				found, err := mon.FindPatients(ctx, q)
				if err != nil {
					t.Fatalf("%s: FindPatients(%+v): %v", r.LocalID, q, err)
				}
				if !slices.ContainsFunc(found, func(f patients.SourceRecord) bool { return f.LocalID == r.LocalID }) {
					t.Errorf("%s (%s): FindPatients(%+v) found %d others but not it", r.LocalID, r.Vendor, q, len(found))
				}
			}
			if r.ABHANumber != "" {
				withABHA++
				if digits(rec.ABHANumber) != digits(r.ABHANumber) || rec.ABHAAddress != r.ABHAAddress {
					t.Errorf("%s: ABHA %q %q, want %q %q", r.LocalID, rec.ABHANumber, rec.ABHAAddress, r.ABHANumber, r.ABHAAddress)
				}
				byABHA, err := mon.FindPatients(ctx, sources.PatientQuery{ABHANumber: r.ABHANumber})
				if err != nil || len(byABHA) != 1 || byABHA[0].LocalID != r.LocalID {
					t.Errorf("%s: search by ABHA number found %v (%v)", r.LocalID, byABHA, err)
				}
			}
		}
	}
	if records < 300 || withABHA < 40 || planted < 30 {
		t.Errorf("demo has %d records, %d with ABHA, %d with planted differences; want a richer demo", records, withABHA, planted)
	}
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// TestDemoCareContextsFetchAsValidFHIR fetches every care context of a
// sample of patients from every kind of source and validates the result.
func TestDemoCareContextsFetchAsValidFHIR(t *testing.T) {
	b := setupDemo(t)
	ctx := context.Background()
	from, to := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[sources.HIType]int{}
	resources := map[string]int{}
	for i, p := range demo.People() {
		// A third of the people, and the claims case, whose stays have
		// procedures and an itemised bill.
		if i%3 != 0 && p.ID != demo.ClaimsPersonID {
			continue
		}
		for _, r := range p.Records {
			mons, err := b.registry.Facility(ctx, b.tenant, facilityID(t, b, r.FacilityHFRID))
			if err != nil {
				t.Fatal(err)
			}
			var mon *sources.Monitor
			for _, m := range mons {
				if m.System().Code == r.SourceCode {
					mon = m
				}
			}
			ccs, err := mon.CareContexts(ctx, r.LocalID, from, to)
			if err != nil {
				t.Fatalf("%s: %v", r.LocalID, err)
			}
			for _, cc := range ccs {
				seen[cc.HIType]++
				if cc.Display == "" || cc.Date.IsZero() || cc.PatientID != r.LocalID || !strings.HasPrefix(cc.Reference, r.SourceCode+":") {
					t.Errorf("%s: care context %+v", r.LocalID, cc)
				}
				content, err := mon.Fetch(ctx, cc.Ref())
				if err != nil {
					t.Fatalf("%s: %v", cc.Reference, err)
				}
				if len(content.Resources) == 0 {
					t.Errorf("%s: no resources", cc.Reference)
				}
				for _, res := range content.Resources {
					if err := fhirvalidate.Validate(res); err != nil {
						t.Errorf("%s: %v", cc.Reference, err)
					}
					resources[kindOf(res)]++
				}
			}
		}
	}
	for _, h := range []sources.HIType{sources.OPConsultation, sources.DischargeSummary, sources.DiagnosticReport, sources.Prescription, sources.Invoice} {
		if seen[h] == 0 {
			t.Errorf("no %s care context in the sample", h)
		}
	}
	for _, name := range []string{"Encounter", "Condition", "Observation", "DiagnosticReport", "ImagingStudy", "MedicationRequest", "DocumentReference",
		"Procedure", "Invoice", "ChargeItem"} {
		if resources[name] == 0 {
			t.Errorf("no %s in the sample", name)
		}
	}
	t.Logf("sampled care contexts by hiType: %v; resources: %v", seen, resources)
}

// kindOf names the resource a ContainedResource holds.
func kindOf(cr *bcrpb.ContainedResource) string {
	m := cr.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("oneof_resource"))
	if fd == nil {
		return ""
	}
	return string(fd.Message().Name())
}

// TestDeadSourceFailsFast points a source at a closed port: its calls fail,
// its circuit opens, and then it refuses at once instead of waiting.
func TestDeadSourceFailsFast(t *testing.T) {
	b := setupDemo(t)
	ctx := context.Background()
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{
		Mappings:      mappings.FS,
		LookupEnvFunc: envWith(map[string]string{"DEAD_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}),
	})
	defer opener.Close()
	registry, err := sources.NewRegistry(sources.RegistryConfig{
		Pool:    b.db.App,
		Openers: map[string]sources.OpenFunc{"sql": opener.Open},
		Breaker: sources.BreakerConfig{Threshold: 2, Cooldown: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer registry.Close()
	id := addSource(t, b, "IN2910000944", "deadlab", `{"connector": "sql", "mapping": "labtrack.yaml", "dsn_env": "DEAD_URL", "params": {"branch": "X"}}`)
	mon, err := registry.Source(ctx, b.tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := mon.FindPatients(ctx, sources.PatientQuery{Mobile: "9845012345"}); !errors.Is(err, sources.ErrUnavailable) {
			t.Fatalf("dead source: %v, want ErrUnavailable", err)
		}
	}
	if _, err := mon.FindPatients(ctx, sources.PatientQuery{Mobile: "9845012345"}); !errors.Is(err, sources.ErrCircuitOpen) {
		t.Errorf("third call: %v, want ErrCircuitOpen", err)
	}
	// The registry hands out the same monitor, breaker and all.
	again, _ := registry.Source(ctx, b.tenant, id)
	if again.Health().Breaker != sources.BreakerOpen {
		t.Errorf("breaker forgotten between lookups")
	}
}

// addSource adds a source system to a demo facility and returns its id.
func addSource(t *testing.T, b demoBundle, hfr, code, config string) string {
	t.Helper()
	var id string
	err := database.InTenant(context.Background(), b.db.App, b.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `
			INSERT INTO source_systems (tenant_id, facility_id, code, name, kind, vendor, config)
			SELECT tenant_id, id, $2, $2, 'LIMS', 'test', $3 FROM facilities WHERE hfr_id = $1
			ON CONFLICT (facility_id, code) DO UPDATE SET config = EXCLUDED.config
			RETURNING id::text`, hfr, code, config).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
