package hip

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// journeyOTPs is the patient's phone: it keeps the last linking OTP the
// HIP sent, whatever the number.
type journeyOTPs struct {
	mu   sync.Mutex
	last string
}

func (s *journeyOTPs) SendLinkOTP(_ context.Context, _, _, otp string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = otp
	return nil
}

func (s *journeyOTPs) otp() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// journeyFacility is one of the patient's facilities as Sangam holds it.
type journeyFacility struct {
	id, hfr, hipID string
	systems        []sources.System
}

// journeyPerson picks, from the demo's ground truth, a person with an ABHA
// address and a mobile whose records are at two Kaveri facilities, in at
// least three systems, and whose record at each facility carries the
// address; of those, preferably one with imaging studies, the one with
// the fewest planted differences.
func journeyPerson(t *testing.T) demo.Person {
	t.Helper()
	best, bestDiffs, found := demo.Person{}, 0, false
	for _, p := range demo.People() {
		if p.ABHAAddress == "" || p.Mobile == "" || len(p.Records) < 3 {
			continue
		}
		hfrs := map[string]bool{}     // facilities with a record
		withABHA := map[string]bool{} // facilities whose records carry the address
		// Fewest differences, but a person with imaging first: imaging
		// reports are the documents with most to check (key images).
		diffs := 0
		for _, r := range p.Records {
			if r.SourceCode == "ris" {
				diffs -= 100
			}
			hfrs[r.FacilityHFRID] = true
			if r.ABHAAddress == p.ABHAAddress {
				withABHA[r.FacilityHFRID] = true
			}
			diffs += len(r.Differences)
		}
		if len(hfrs) == 2 && len(withABHA) == 2 && (!found || diffs < bestDiffs) {
			best, bestDiffs, found = p, diffs, true
		}
	}
	if !found {
		t.Fatal("no demo person with an ABHA address known at two facilities")
	}
	return best
}

// TestM2JourneyThroughSandbox is the whole M2 journey against the sandbox
// world: the patient discovers and links records at both facilities from
// the PHR side of the consent manager, another hospital asks for consent,
// the patient approves, and the other hospital receives, decrypts and
// gates one bundle per care context from every source system.
func TestM2JourneyThroughSandbox(t *testing.T) {
	ctx := context.Background()
	person := journeyPerson(t)
	db := databasetest.New(t)
	res, err := demo.Load(ctx, db.Owner, demo.KaveriHealth())
	if err != nil {
		t.Fatal(err)
	}
	tenant := res.TenantID
	if _, err := demo.LoadSources(ctx, db.Owner, demo.KaveriHealth(), "DATABASE_URL"); err != nil {
		t.Fatal(err)
	}
	var slug string
	if err := db.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", tenant).Scan(&slug); err != nil {
		t.Fatal(err)
	}

	quiet := slog.New(slog.DiscardHandler)
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return db.URL, true
		}
		return "", false
	}})
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); opener.Close() })
	index := patients.New(db.App, patients.Config{})

	// The person's facilities, and every patient of their systems in the
	// index, as polling would have put them there.
	var facilities []journeyFacility
	for _, r := range person.Records {
		if slices.ContainsFunc(facilities, func(f journeyFacility) bool { return f.hfr == r.FacilityHFRID }) {
			continue
		}
		f := journeyFacility{hfr: r.FacilityHFRID}
		if err := db.Owner.QueryRow(ctx, "SELECT id::text, hip_id FROM facilities WHERE tenant_id = $1 AND hfr_id = $2",
			tenant, f.hfr).Scan(&f.id, &f.hipID); err != nil {
			t.Fatalf("facility %s: %v", f.hfr, err)
		}
		if f.systems, err = reg.Systems(ctx, tenant, f.id); err != nil {
			t.Fatal(err)
		}
		facilities = append(facilities, f)
	}
	// The package's tests share one database: links other tests made at
	// these facilities would hide care contexts from discovery.
	for _, f := range facilities {
		for _, q := range []string{`DELETE FROM hip_user_linked WHERE facility_id = $1`, `DELETE FROM hip_care_context_links WHERE facility_id = $1`} {
			if _, err := db.Owner.Exec(ctx, q, f.id); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range facilities {
		for _, sys := range f.systems {
			mon, err := reg.Source(ctx, tenant, sys.ID)
			if err != nil {
				t.Fatal(err)
			}
			for after := ""; ; {
				recs, err := mon.ListPatients(ctx, after, 200)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) == 0 {
					break
				}
				for _, r := range recs {
					r.FacilityID, r.SourceSystemID = f.id, sys.ID
					if _, err := index.Ingest(ctx, tenant, r); err != nil {
						t.Fatal(err)
					}
				}
				after = recs[len(recs)-1].LocalID
			}
		}
	}

	// Ground truth: every care context the person's source systems hold,
	// by reference, and the systems that hold any.
	want := map[string]string{} // HIP id|reference -> facility HFR id
	holders := map[string]bool{}
	for _, r := range person.Records {
		i := slices.IndexFunc(facilities, func(f journeyFacility) bool { return f.hfr == r.FacilityHFRID })
		j := slices.IndexFunc(facilities[i].systems, func(s sources.System) bool { return s.Code == r.SourceCode })
		if j < 0 {
			t.Fatalf("%s has no %s system", r.FacilityHFRID, r.SourceCode)
		}
		mon, err := reg.Source(ctx, tenant, facilities[i].systems[j].ID)
		if err != nil {
			t.Fatal(err)
		}
		ccs, err := mon.CareContexts(ctx, r.LocalID, time.Unix(0, 0), time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ccs {
			want[facilities[i].hipID+"|"+c.Reference] = r.FacilityHFRID
			holders[r.FacilityHFRID+"/"+r.SourceCode] = true
		}
	}
	if len(holders) < 3 {
		t.Fatalf("the chosen person's records are in %d systems; the journey needs more", len(holders))
	}

	// The sandbox world, with Sangam's tenant as one gateway client whose
	// services are the facilities' HIPs, and the person as a patient the
	// consent manager knows.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + ln.Addr().String()
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sandboxURL := "http://" + sln.Addr().String()
	var services []gateway.Service
	for _, f := range facilities {
		services = append(services, gateway.Service{ID: f.hipID, Name: f.hfr, Types: []string{gateway.TypeHIP}})
	}
	patient := cm.Patient{
		ABHAAddress: person.ABHAAddress, ABHANumber: person.ABHANumber, Name: person.Name, Gender: person.Gender,
		YearOfBirth: person.BirthDate.Year(), MonthOfBirth: int(person.BirthDate.Month()), DayOfBirth: person.BirthDate.Day(),
		Mobile: person.Mobile,
	}
	world, err := sandbox.New(sandbox.Config{
		PublicURL: sandboxURL, Logger: quiet,
		Gateway: gateway.Config{Clients: []gateway.Client{{ID: "SBX_KAVERI", Secret: "kaveri-secret",
			BridgeURL: publicURL + "/bridge/" + slug, Services: services}}},
		CM: cm.Config{Patients: []cm.Patient{patient}},
		// The other hospital asks for data once Sangam has the consent:
		// a request racing ahead of the HIP's consent notify is refused
		// (ABDM-1112, unknown consent), which is not this test's subject.
		Remote: &remote.Config{ManualDataRequests: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: world}
	go func() { _ = srv.Serve(sln) }()
	t.Cleanup(func() { _ = world.Close(); _ = srv.Close() })

	// Sangam: bridge, M2 and its jobs, against the sandbox.
	creds := bridge.NewCredentials(db.App, &m2Secrets{})
	client, err := abdm.New(abdm.Config{GatewayURL: sandboxURL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	queue := "hip_journey_test"
	br, err := bridge.New(bridge.Config{Pool: db.App, Gateway: client, Verifier: verifier, Credentials: creds,
		PublicURL: publicURL, Logger: quiet, Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := br.SetCredentials(ctx, tenant, "SBX_KAVERI", []byte("kaveri-secret")); err != nil {
		t.Fatal(err)
	}
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		t.Fatal(err)
	}
	phone := &journeyOTPs{}
	m2, err := NewM2(M2Config{Pool: db.App, Bridge: br, Sources: reg, Builder: builder, Patients: index,
		OTPSender: phone, Queue: queue, Logger: quiet, PushPageBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Register(); err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	br.Register(app)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	workers := river.NewWorkers()
	if _, err := br.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	if err := m2.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(db.App), &river.Config{
		Queues: map[string]river.QueueConfig{queue: {MaxWorkers: 10}}, Workers: workers,
		FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.Stop(ctx)
	})

	wait := func(what string, cond func() bool) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := world.CM.Wait(wctx, cond); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}

	// The patient discovers and links everything at both facilities.
	linked := map[string]bool{}
	for _, f := range facilities {
		d, err := world.CM.Discover(ctx, person.ABHAAddress, f.hipID, nil)
		if err != nil {
			t.Fatal(err)
		}
		txn := d.TransactionID
		wait("on-discover", func() bool { d, _ := world.CM.Discovery(txn); return d.Status != cm.DiscoveryPending })
		if d, _ = world.CM.Discovery(txn); d.Status != cm.DiscoveryDone || len(d.CareContexts) == 0 {
			t.Fatalf("discovery at %s: %s %+v", f.hfr, d.Status, d.Error)
		}
		if _, err := world.CM.LinkInit(ctx, person.ABHAAddress, txn, nil); err != nil {
			t.Fatal(err)
		}
		wait("link on-init", func() bool {
			d, _ := world.CM.Discovery(txn)
			return d.Link != nil && d.Link.Status != cm.LinkInitiating
		})
		if _, err := world.CM.LinkConfirm(ctx, person.ABHAAddress, txn, phone.otp()); err != nil {
			t.Fatal(err)
		}
		wait("link on-confirm", func() bool {
			d, _ := world.CM.Discovery(txn)
			return d.Link != nil && d.Link.Status != cm.LinkConfirming
		})
		if d, _ = world.CM.Discovery(txn); d.Link.Status != cm.LinkLinked {
			t.Fatalf("link at %s: %+v", f.hfr, d.Link)
		}
		for _, l := range world.CM.Links(person.ABHAAddress, f.hipID) {
			linked[f.hipID+"|"+l.CareContextReference] = true
		}
	}
	for ref := range want {
		if !linked[ref] {
			t.Errorf("care context %s of the sources was not linked", ref)
		}
	}

	// Another hospital asks; the patient approves everything linked.
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	req, err := world.Remote.RequestConsent(ctx, remote.ConsentInput{ABHAAddress: person.ABHAAddress, From: from, To: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := world.Remote.Wait(wctx, func() bool {
		r, ok := world.Remote.ConsentRequestByCall(req.InitRequestID)
		return ok && (r.ID != "" || r.Status == "failed")
	}); err != nil {
		t.Fatalf("waiting for consent on-init: %v", err)
	}
	r, _ := world.Remote.ConsentRequestByCall(req.InitRequestID)
	if r.ID == "" {
		t.Fatalf("consent request: %s %+v", r.Status, r.Error)
	}
	if _, err := world.CM.Approve(ctx, person.ABHAAddress, r.ID, cm.Grant{}); err != nil {
		t.Fatal(err)
	}
	var artefacts []string
	if err := world.Remote.Wait(wctx, func() bool {
		r, _ := world.Remote.ConsentRequestByCall(req.InitRequestID)
		artefacts = r.ArtefactIDs
		return len(artefacts) == len(facilities)
	}); err != nil {
		t.Fatalf("waiting for the artefacts: %v", err)
	}
	wait("Sangam to store the consents", func() bool {
		var k int
		_ = db.Owner.QueryRow(ctx, `SELECT count(*) FROM hip_consents WHERE consent_id = ANY($1) AND status = 'GRANTED'`, artefacts).Scan(&k)
		return k == len(facilities)
	})
	for _, id := range artefacts {
		if err := world.Remote.Fetch(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := world.Remote.Wait(wctx, func() bool {
		n := 0
		for _, a := range world.Remote.Artefacts() {
			if a.Detail != nil {
				n++
			}
		}
		return n == len(facilities)
	}); err != nil {
		t.Fatalf("waiting for the fetched artefacts: %v", err)
	}
	for _, id := range artefacts {
		if _, err := world.Remote.RequestData(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = world.Remote.Wait(hctx, func() bool {
		drs := world.Remote.DataRequests()
		if len(drs) < len(facilities) {
			return false
		}
		for _, dr := range drs {
			if dr.Status != "received" && dr.Status != "failed" {
				return false
			}
		}
		return true
	})
	if err != nil {
		for _, dr := range world.Remote.DataRequests() {
			t.Logf("data request to %s: %s pages %v", dr.HIPID, dr.Status, dr.Pages)
		}
		rows, _ := db.Owner.Query(ctx, `SELECT hip_id || ' ' || state || ' ' || coalesce(reason, '') FROM hip_transfers ORDER BY id DESC LIMIT 4`)
		if lines, err := pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			t.Logf("transfers: %q", lines)
		}
		rows, _ = db.Owner.Query(ctx, `SELECT kind || ' ' || state::text || ' ' || attempt::text || ' ' || coalesce(errors::text, '')
			FROM river_job WHERE queue = $1 AND state <> 'completed'`, queue)
		if lines, err := pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			t.Logf("jobs not completed: %q", lines)
		}
		t.Fatalf("waiting for the data: %v", err)
	}
	for _, dr := range world.Remote.DataRequests() {
		if dr.Status != "received" {
			t.Errorf("data request to %s: %s %+v", dr.HIPID, dr.Status, dr.Error)
		}
	}

	// One bundle per care context, decrypted and clean by the gate.
	gate, err := nrces.NewGate()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, rec := range world.Remote.Received(remote.ReceivedFilter{}) {
		got[rec.HIPID+"|"+rec.CareContextReference]++
		if rec.Error != "" {
			t.Errorf("%s: %s", rec.CareContextReference, rec.Error)
			continue
		}
		fs, err := gate.Check(ctx, rec.Data)
		if err != nil || nrces.HasErrors(fs) {
			t.Errorf("%s fails the gate: %v %v", rec.CareContextReference, err, fs)
		}
	}
	if len(got) != len(want) {
		// Say why: the transfer's per-context outcome and the review list.
		rows, _ := db.Owner.Query(ctx, `SELECT reference || ' ' || status || ' ' || description FROM hip_transfer_items WHERE status <> 'DELIVERED'
			UNION ALL SELECT 'review ' || reference || ' ' || findings::text FROM hip_review`)
		if lines, err := pgx.CollectRows(rows, pgx.RowTo[string]); err == nil {
			t.Logf("not delivered: %q", lines)
		}
	}
	seen := map[string]bool{}
	for ref, hfr := range want {
		if got[ref] != 1 {
			t.Errorf("care context %s: %d bundles received, want 1", ref, got[ref])
			continue
		}
		_, cref, _ := strings.Cut(ref, "|")
		code, _, _ := strings.Cut(cref, ":")
		seen[hfr+"/"+code] = true
	}
	for ref := range got {
		if _, ok := want[ref]; !ok {
			t.Errorf("received %s, which is not the patient's", ref)
		}
	}
	hfrs := map[string]bool{}
	for h := range seen {
		hfr, _, _ := strings.Cut(h, "/")
		hfrs[hfr] = true
	}
	if len(seen) != len(holders) || len(hfrs) != 2 {
		t.Fatalf("records came back from %v; the patient has records in %v", seen, holders)
	}
	t.Logf("%s: %d care contexts from %d source systems (%v) at %d facilities, all gate-clean", person.ID, len(got), len(seen), slices.Sorted(maps.Keys(seen)), len(hfrs))
}
