package claims_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// The evidence tests read the demo group's own systems: the demo is loaded
// into the package's database once (its vendor schemas are rebuilt by
// every load, so tests must not load it again), its patients indexed as
// `sangam demo` does, and its coverage seeded.
var evidenceDemo struct {
	once     sync.Once
	err      error
	tenant   string
	coverage [2]demo.CoverageResult
}

type evidenceBundle struct {
	db       *databasetest.DB
	tenant   string
	registry *sources.Registry
	index    *patients.Index
	svc      *claims.Service
	systems  map[string]sources.System // by "<HFR id>/<code>"
}

// demoRegistry opens the demo's SQL sources, reading the database at dsn.
func demoRegistry(t testing.TB, db *databasetest.DB, dsn string) *sources.Registry {
	t.Helper()
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return dsn, true
		}
		return "", false
	}})
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); opener.Close() })
	return reg
}

func setupEvidence(t testing.TB) evidenceBundle {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	b := evidenceBundle{db: db, registry: demoRegistry(t, db, db.URL), index: patients.New(db.App, patients.Config{}), svc: newBillingService(t, db)}
	evidenceDemo.once.Do(func() {
		g := demo.KaveriHealth()
		res, err := demo.Load(ctx, db.Owner, g)
		if err != nil {
			evidenceDemo.err = err
			return
		}
		evidenceDemo.tenant = res.TenantID
		if _, err := demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL"); err != nil {
			evidenceDemo.err = err
			return
		}
		counts, err := sources.IndexAll(ctx, b.registry, res.TenantID, b.index)
		if err == nil && len(counts.Failed) > 0 {
			err = fmt.Errorf("indexing failed for %v", counts.Failed)
		}
		if err != nil {
			evidenceDemo.err = err
			return
		}
		for i := range evidenceDemo.coverage {
			if evidenceDemo.coverage[i], err = demo.LoadCoverage(ctx, db.Owner, g); err != nil {
				evidenceDemo.err = err
				return
			}
		}
	})
	if evidenceDemo.err != nil {
		t.Fatalf("loading the demo: %v", evidenceDemo.err)
	}
	b.tenant = evidenceDemo.tenant
	systems, err := b.registry.Systems(ctx, b.tenant, "")
	if err != nil {
		t.Fatal(err)
	}
	b.systems = map[string]sources.System{}
	for _, s := range systems {
		b.systems[s.FacilityHFRID+"/"+s.Code] = s
	}
	return b
}

// master returns the master patient of a demo person's record.
func (b evidenceBundle) master(t testing.TB, r demo.PersonRecord) string {
	t.Helper()
	l, err := b.index.LinkFor(context.Background(), b.tenant, b.systems[r.FacilityHFRID+"/"+r.SourceCode].ID, r.LocalID)
	if err != nil {
		t.Fatalf("%s %s/%s: %v", r.LocalID, r.FacilityHFRID, r.SourceCode, err)
	}
	return l.PatientID
}

func (b evidenceBundle) gatherer(t testing.TB, src claims.GatherSources, change func(*claims.GathererConfig)) *claims.Gatherer {
	t.Helper()
	cfg := claims.GathererConfig{Patients: b.index, Sources: src, Coverage: b.svc, Logger: quietLogger()}
	if change != nil {
		change(&cfg)
	}
	g, err := claims.NewGatherer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// claimsPatient is the demo's claims case: her master patient (which
// every record of hers must have joined) and her two stays.
func (b evidenceBundle) claimsPatient(t testing.TB) (string, demo.ClaimsCase) {
	t.Helper()
	cc := demo.Claims()
	id := ""
	for _, r := range cc.Person.Records {
		m := b.master(t, r)
		if id != "" && m != id {
			t.Fatalf("the claims case's records are in two masters (%s and %s): the index did not join %s %s", id, m, r.FacilityHFRID, r.LocalID)
		}
		id = m
	}
	return id, cc
}

func references(recs []claims.CareRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.EncounterRef())
	}
	return out
}

func TestEncountersListsStaysAtEveryFacility(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	pid, cc := b.claimsPatient(t)
	encs, problems, err := b.gatherer(t, b.registry, nil).Encounters(ctx, b.tenant, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
	blr, mys := cc.Stays[0], cc.Stays[1]
	var refs []string
	byRef := map[string]claims.BillableEncounter{}
	for i, e := range encs {
		refs = append(refs, e.Ref)
		byRef[e.Ref] = e
		if i > 0 && e.Start.After(encs[i-1].Start) {
			t.Errorf("not newest first: %s (%s) after %s (%s)", e.Ref, e.Start, encs[i-1].Ref, encs[i-1].Start)
		}
	}
	stay := func(hfr, typ, id string) string { return claims.EncounterRef(hfr, "his:"+typ+":"+id) }
	want := []string{stay(mys.HFRID, "ipd", mys.Admission)}
	for _, v := range slices.Backward(mys.Visits) {
		want = append(want, stay(mys.HFRID, "opd", v))
	}
	want = append(want, stay(blr.HFRID, "visit", blr.Visits[1]), stay(blr.HFRID, "admission", blr.Admission), stay(blr.HFRID, "visit", blr.Visits[0]))
	if !slices.Equal(refs, want) {
		t.Errorf("encounters\n got %v\nwant %v", refs, want)
	}
	for _, s := range cc.Stays {
		ref := want[0]
		if s.HFRID == blr.HFRID {
			ref = want[3]
		}
		e := byRef[ref]
		if !e.Inpatient || e.Class != "IMP" || !e.Start.Equal(s.Admitted) || !e.End.Equal(s.Discharged) || e.FacilityHFRID != s.HFRID ||
			e.SourceKind != "HIS" || e.Display == "" {
			t.Errorf("stay %s: %+v, want %s to %s", ref, e, s.Admitted, s.Discharged)
		}
	}
	if v := byRef[want[1]]; v.Inpatient || v.Class != "AMB" {
		t.Errorf("visit: %+v", v)
	}
}

// TestGatherAssemblesTheClaimsCase gathers the Mysuru stay: with the
// default window its own facility's records come (the antenatal visit,
// labs, bills, discharge summary); with a window reaching back to June
// the Bengaluru stay's records come too, from all three of its systems.
func TestGatherAssemblesTheClaimsCase(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	pid, cc := b.claimsPatient(t)
	blr, mys := cc.Stays[0], cc.Stays[1]
	ref := claims.EncounterRef(mys.HFRID, "his:ipd:"+mys.Admission)

	ev, err := b.gatherer(t, b.registry, nil).Gather(ctx, b.tenant, pid, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Problems) > 0 {
		t.Errorf("problems: %v", ev.Problems)
	}
	if ev.PatientID != pid || ev.EncounterRef != ref {
		t.Errorf("patient %s, encounter %s", ev.PatientID, ev.EncounterRef)
	}
	if ev.Patient.ABHANumber != cc.Person.ABHANumber || ev.Patient.ABHAAddress != cc.Person.ABHAAddress || ev.Patient.Name != cc.Person.Name {
		t.Errorf("patient details: %+v", ev.Patient)
	}
	if got := ev.Patient.MRN(ev.Encounter.FacilityID); got != mys.PatientID {
		t.Errorf("MRN at Mysuru = %q, want %q", got, mys.PatientID)
	}
	e := ev.Encounter
	if e.FacilityHFRID != mys.HFRID || !e.Inpatient || !e.Start.Equal(mys.Admitted) || !e.End.Equal(mys.Discharged) {
		t.Errorf("billed encounter: %+v", e)
	}
	if want := mys.Admitted.Add(-claims.DefaultGatherWindow); !ev.From.Equal(want) {
		t.Errorf("From = %s, want %s", ev.From, want)
	}
	wantRecords := []string{ref, claims.EncounterRef(mys.HFRID, "his:opd:"+mys.Visits[0])}
	for _, o := range mys.LabOrders {
		wantRecords = append(wantRecords, claims.EncounterRef(mys.HFRID, "lims:order:"+o))
	}
	for _, n := range mys.Bills {
		wantRecords = append(wantRecords, claims.EncounterRef(mys.HFRID, "billing:bill:"+n))
	}
	got := references(ev.Records)
	if got[0] != ref {
		t.Errorf("first record %s, want the billed encounter", got[0])
	}
	slices.Sort(got)
	slices.Sort(wantRecords)
	if !slices.Equal(got, wantRecords) {
		t.Errorf("records\n got %v\nwant %v", got, wantRecords)
	}

	// Diagnoses: the stay's, principal first, in the order the HIS lists
	// them; then the antenatal visit's.
	var billedDx []string
	for i, d := range ev.Diagnoses {
		if d.OfBilledEncounter {
			billedDx = append(billedDx, d.ICD10)
			if d.Principal != (i == 0) {
				t.Errorf("diagnosis %d (%s) principal=%t", i, d.Display, d.Principal)
			}
		}
	}
	if !slices.Equal(billedDx, mys.Diagnoses) {
		t.Errorf("the stay's diagnoses (ICD-10) %v, want %v", billedDx, mys.Diagnoses)
	}
	if len(ev.Diagnoses) <= len(billedDx) {
		t.Errorf("no diagnoses from the antenatal visit: %d in all", len(ev.Diagnoses))
	}
	if len(ev.Procedures) != len(mys.Procedures) {
		t.Errorf("procedures %+v, want %v", ev.Procedures, mys.Procedures)
	}
	for i, p := range ev.Procedures {
		if i < len(mys.Procedures) && !slices.ContainsFunc(p.Code.Codings, func(c nrces.Coding) bool {
			return c.System == nrces.SystemSNOMED && c.Code == mys.Procedures[i]
		}) || p.FacilityHFRID != mys.HFRID || p.Performed.Before(mys.Admitted) || p.Performed.After(mys.Discharged) {
			t.Errorf("procedure %d: %+v, want SNOMED %s during the stay", i, p, mys.Procedures[i])
		}
	}
	if len(ev.Related) != 1 || ev.Related[0].Inpatient || ev.Related[0].FacilityHFRID != mys.HFRID {
		t.Errorf("related encounters: %+v", ev.Related)
	}
	labs := 0
	for _, r := range ev.Reports {
		if r.Kind == claims.ReportLab && r.FacilityHFRID == mys.HFRID && len(r.Results) > 0 {
			labs++
		}
	}
	if labs != len(mys.LabOrders) {
		t.Errorf("%d lab reports with results, want %d: %+v", labs, len(mys.LabOrders), ev.Reports)
	}
	if len(ev.DischargeSummaries) != 1 || len(ev.DischargeSummaries[0].Attachments) != 1 ||
		!strings.Contains(string(ev.DischargeSummaries[0].Attachments[0].Data), "caesarean section") {
		t.Errorf("discharge summaries: %+v", ev.DischargeSummaries)
	}
	if len(ev.Bills) != len(mys.Bills) {
		t.Fatalf("%d bills, want %d", len(ev.Bills), len(mys.Bills))
	}
	for _, bill := range ev.Bills {
		ipBill := strings.Contains(bill.Number, "-IP-")
		if bill.OfBilledEncounter != ipBill || len(bill.Lines) == 0 || bill.Currency != "INR" || bill.TotalGross == "" || bill.TotalNet == "" {
			t.Errorf("bill %s: of the stay %t, %d lines, %s %s/%s", bill.Number, bill.OfBilledEncounter, len(bill.Lines), bill.Currency, bill.TotalNet, bill.TotalGross)
		}
		for _, l := range bill.Lines {
			if l.ChargeCode.Code == "" || l.Product.IsZero() || l.Quantity.Value == "" || len(l.Prices) == 0 {
				t.Errorf("bill %s line %d: %+v", bill.Number, l.Sequence, l)
			}
		}
	}
	if len(ev.Coverages) != 2 || ev.Coverages[0].MemberID != "PKS7Q4M2X" || ev.Coverages[1].PayerCode != demo.InsurerPayerCode {
		t.Errorf("coverage on file: %+v", ev.Coverages)
	}
	if len(ev.Empanelments) != 2 {
		t.Errorf("empanelments of the Mysuru hospital: %+v", ev.Empanelments)
	}
	for _, emp := range ev.Empanelments {
		if emp.FacilityID != e.FacilityID || !emp.InForce(e.Start) {
			t.Errorf("empanelment %+v", emp)
		}
	}

	// A window reaching back to June takes in the Bengaluru stay.
	wide, err := b.gatherer(t, b.registry, func(c *claims.GathererConfig) { c.WindowBefore = 120 * 24 * time.Hour }).Gather(ctx, b.tenant, pid, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(wide.Problems) > 0 {
		t.Errorf("problems: %v", wide.Problems)
	}
	kinds := map[string]bool{}
	for _, r := range wide.Records {
		if r.FacilityHFRID == blr.HFRID {
			kinds[r.SourceKind] = true
		}
	}
	if !kinds["HIS"] || !kinds["LIMS"] || !kinds["RIS"] {
		t.Errorf("records from Bengaluru's systems: %v", kinds)
	}
	var blrDx, blrStay, imaging bool
	for _, d := range wide.Diagnoses {
		blrDx = blrDx || d.FacilityHFRID == blr.HFRID && d.ICD10 == blr.Diagnoses[0] && !d.OfBilledEncounter && !d.Principal
	}
	for _, r := range wide.Related {
		blrStay = blrStay || r.FacilityHFRID == blr.HFRID && r.Inpatient && r.End.Equal(blr.Discharged)
	}
	for _, r := range wide.Reports {
		imaging = imaging || r.Kind == claims.ReportImaging && r.FacilityHFRID == blr.HFRID && r.Study != nil && r.Conclusion != ""
	}
	if !blrDx || !blrStay || !imaging {
		t.Errorf("from Bengaluru: diagnosis %t, stay %t, imaging report %t", blrDx, blrStay, imaging)
	}
	if len(wide.Procedures) != len(mys.Procedures)+len(blr.Procedures) {
		t.Errorf("%d procedures from both stays, want %d", len(wide.Procedures), len(mys.Procedures)+len(blr.Procedures))
	}
}

// splitSources hands out the demo's sources, except some that are read
// through another registry (pointed at a database that is not there).
type splitSources struct {
	ok, other claims.GatherSources
	redirect  map[string]bool // source system ids
}

func (s splitSources) Source(ctx context.Context, tenant, id string) (*sources.Monitor, error) {
	if s.redirect[id] {
		return s.other.Source(ctx, tenant, id)
	}
	return s.ok.Source(ctx, tenant, id)
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// silentServer accepts connections and never answers, like a database
// server that hangs.
func silentServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestGatherFlagsSourcesThatFail takes two of Bengaluru's systems away:
// its LIMS refuses connections and its RIS never answers. Each is listed
// as a problem in plain words (the RIS as past the deadline) and
// everything else is still gathered.
func TestGatherFlagsSourcesThatFail(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	pid, cc := b.claimsPatient(t)
	blr, mys := cc.Stays[0], cc.Stays[1]
	lims, ris := b.systems[blr.HFRID+"/lims"], b.systems[blr.HFRID+"/ris"]
	src := splitSources{
		ok: b.registry,
		// Two registries, as each opener reads one database URL.
		other:    demoRegistry(t, b.db, "postgres://sangam@"+closedPort(t)+"/demo?sslmode=disable"),
		redirect: map[string]bool{lims.ID: true},
	}
	hung := splitSources{ok: src, other: demoRegistry(t, b.db, "postgres://sangam@"+silentServer(t)+"/demo?sslmode=disable&connect_timeout=60"),
		redirect: map[string]bool{ris.ID: true}}
	g := b.gatherer(t, hung, func(c *claims.GathererConfig) {
		c.WindowBefore = 120 * 24 * time.Hour
		c.Timeout = 2 * time.Second
	})
	ev, err := g.Gather(ctx, b.tenant, pid, claims.EncounterRef(mys.HFRID, "his:ipd:"+mys.Admission))
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string]claims.Problem{}
	for _, p := range ev.Problems {
		bySource[p.SourceSystemID] = p
		if p.FacilityHFRID != blr.HFRID || p.FacilityName == "" || p.SourceName == "" || p.Message == "" || p.Err == nil {
			t.Errorf("problem without its source, facility or words: %+v", p)
		}
	}
	if len(ev.Problems) != 2 {
		t.Fatalf("problems %v, want the LIMS and the RIS", ev.Problems)
	}
	if p := bySource[lims.ID]; p.TimedOut || p.Reference != "" || !strings.Contains(p.Message, "could not be reached") {
		t.Errorf("LIMS problem: %+v", p)
	}
	if p := bySource[ris.ID]; !p.TimedOut || !strings.Contains(p.String(), "did not answer within 2s") || !strings.Contains(p.String(), ris.Name) {
		t.Errorf("RIS problem: %+v (%s)", p, p)
	}
	kinds := map[string]bool{}
	for _, r := range ev.Records {
		kinds[r.FacilityHFRID+"/"+r.SourceKind] = true
	}
	for _, want := range []string{blr.HFRID + "/HIS", mys.HFRID + "/HIS", mys.HFRID + "/LIMS", mys.HFRID + "/billing"} {
		if !kinds[want] {
			t.Errorf("nothing from %s, which answered: %v", want, kinds)
		}
	}
	for _, gone := range []string{blr.HFRID + "/LIMS", blr.HFRID + "/RIS"} {
		if kinds[gone] {
			t.Errorf("records from %s, which failed", gone)
		}
	}
	if len(ev.Bills) == 0 || len(ev.Coverages) == 0 {
		t.Errorf("bills %d, coverages %d", len(ev.Bills), len(ev.Coverages))
	}

	// Listing encounters flags them the same way.
	_, problems, err := g.Encounters(ctx, b.tenant, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 {
		t.Errorf("Encounters problems: %v", problems)
	}
}

func TestGatherRefusesWhatIsNotThePatients(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	pid, cc := b.claimsPatient(t)
	mys := cc.Stays[1]
	g := b.gatherer(t, b.registry, nil)

	// Someone else's stay in the same HIS.
	var otherRef string
	for _, p := range demo.People() {
		if p.ID == demo.ClaimsPersonID || otherRef != "" {
			continue
		}
		for _, r := range p.Records {
			if r.FacilityHFRID != mys.HFRID || r.SourceCode != "his" {
				continue
			}
			encs, _, err := g.Encounters(ctx, b.tenant, b.master(t, r))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range encs {
				if e.FacilityHFRID == mys.HFRID && e.SourceCode == "his" {
					otherRef = e.Ref
					break
				}
			}
		}
	}
	if otherRef == "" {
		t.Fatal("no other patient with an encounter in the Mysuru HIS")
	}
	for _, tc := range []struct {
		name, ref string
		want      error
	}{
		{"another patient's stay", otherRef, claims.ErrNotFound},
		{"a source she has no record in", "IN2910000944/his:visit:V1", claims.ErrNotFound},
		{"a stay that does not exist", claims.EncounterRef(mys.HFRID, "his:ipd:999999999"), sources.ErrNotFound},
		{"a lab order", claims.EncounterRef(mys.HFRID, "lims:order:"+mys.LabOrders[0]), claims.ErrInvalid},
		{"a bill", claims.EncounterRef(mys.HFRID, "billing:bill:"+mys.Bills[len(mys.Bills)-1]), claims.ErrInvalid},
		{"not a reference", "his:ipd:" + mys.Admission, claims.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := g.Gather(ctx, b.tenant, pid, tc.ref); !errors.Is(err, tc.want) {
				t.Errorf("Gather(%s): %v, want %v", tc.ref, err, tc.want)
			}
		})
	}
}

// TestGatherIsTenantScoped: another tenant cannot reach the demo
// tenant's patient, whatever it knows of her.
func TestGatherIsTenantScoped(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	pid, cc := b.claimsPatient(t)
	other := b.db.Tenant(t, "Evidence outsider")
	g := b.gatherer(t, b.registry, nil)
	if _, _, err := g.Encounters(ctx, other, pid); !errors.Is(err, claims.ErrNotFound) {
		t.Errorf("Encounters from another tenant: %v", err)
	}
	ref := claims.EncounterRef(cc.Stays[1].HFRID, "his:ipd:"+cc.Stays[1].Admission)
	if _, err := g.Gather(ctx, other, pid, ref); !errors.Is(err, claims.ErrNotFound) {
		t.Errorf("Gather from another tenant: %v", err)
	}
	if cs, err := b.svc.Coverages(ctx, other, pid); !errors.Is(err, claims.ErrNotFound) || len(cs) != 0 {
		t.Errorf("coverage from another tenant: %v %v", cs, err)
	}
}

// TestDemoCoverageLoadsOnce checks what the demo seeded: both payers,
// their five empanelments and coverage for people with ABHA; the second
// load added nothing.
func TestDemoCoverageLoadsOnce(t *testing.T) {
	b := setupEvidence(t)
	ctx := context.Background()
	first, second := evidenceDemo.coverage[0], evidenceDemo.coverage[1]
	want := 0
	for _, p := range demo.People() {
		want += len(demo.Coverage(p))
	}
	if first.Payers != 2 || first.Empanelments != 5 || first.Coverages != want || first.NotIndexed != 0 {
		t.Errorf("first load: %+v, want 2 payers, 5 empanelments, %d coverages", first, want)
	}
	if second != (demo.CoverageResult{}) {
		t.Errorf("second load added %+v", second)
	}
	payers, err := b.svc.Payers(ctx, b.tenant)
	if err != nil || len(payers) != 2 {
		t.Fatalf("payers %v (%v)", payers, err)
	}
	pid, _ := b.claimsPatient(t)
	cs, err := b.svc.Coverages(ctx, b.tenant, pid)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.PayerCode+" "+c.MemberID+" "+string(c.SchemeKind))
	}
	// Entered together, they come by payer name.
	if !slices.Equal(got, []string{demo.PMJAYPayerCode + " PKS7Q4M2X pmjay", demo.InsurerPayerCode + " KSG00482611 private_insurer"}) {
		t.Fatalf("the claims patient's coverage: %v", got)
	}

	// Billing renews her policy; loading the demo again keeps the change
	// and adds nothing beside it.
	renewed := cs[1]
	renewed.PolicyNumber, renewed.UpdatedBy = "KSG/FH/2025/100217", "billing"
	if _, err := b.svc.SetCoverage(ctx, b.tenant, renewed); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := b.svc.SetCoverage(ctx, b.tenant, cs[1]); err != nil {
			t.Errorf("restoring the demo coverage: %v", err)
		}
	})
	again, err := demo.LoadCoverage(ctx, b.db.Owner, demo.KaveriHealth())
	if err != nil || again != (demo.CoverageResult{}) {
		t.Errorf("loading after an edit: %+v, %v", again, err)
	}
	after, err := b.svc.Coverages(ctx, b.tenant, pid)
	if err != nil || len(after) != 2 || after[1].PolicyNumber != renewed.PolicyNumber {
		t.Errorf("coverage after loading again: %+v (%v)", after, err)
	}
}

func TestNewGathererRefusesIncompleteConfig(t *testing.T) {
	_, err := claims.NewGatherer(claims.GathererConfig{Timeout: -time.Second, Parallelism: -1})
	if err == nil {
		t.Fatal("NewGatherer accepted an empty config")
	}
	for _, want := range []string{"Patients", "Sources", "Coverage", "Timeout", "Parallelism"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}
