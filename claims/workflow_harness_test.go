package claims_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// billingWorld is the billing workflow as `sangam serve` wires it, over a
// copy of the demo group in a tenant of its own (its patients indexed from
// the demo vendors' databases, its payers, empanelments and coverage
// loaded), with each facility an NHCX participant of the sandbox switch,
// whose rule-driven payer answers both demo payers.
type billingWorld struct {
	t        *testing.T
	db       *databasetest.DB
	svc      *claims.Service
	wf       *claims.Workflow
	sb       *sandbox.Sandbox
	tenant   string
	group    demo.Group
	index    *patients.Index
	codes    map[string]string // participant code by HFR id
	actor    claims.Actor
	kavya    string // the claims case's master patient
	stays    []string
	insurer  claims.Coverage // Kavya's private insurance
	pmjay    claims.Coverage
	facility map[string]string // facility id by HFR id
}

// sourcesLoad serialises loading the demo vendors' databases: LoadSources
// replaces the shared vendor schemas, which must not happen while another
// world of this test binary reads them.
var sourcesLoad sync.Mutex

func newBillingWorld(t *testing.T) *billingWorld {
	t.Helper()
	ctx := context.Background()
	w := &billingWorld{t: t, db: databasetest.New(t), codes: map[string]string{}, facility: map[string]string{},
		actor: claims.Actor{ID: "demo-billing", Name: "Priya Billing"}}
	suffix := strings.ToUpper(randomHex(3))
	w.group = demo.KaveriHealth()
	w.group.Slug, w.group.Name = "kaveri-billing-"+strings.ToLower(suffix), "Kaveri billing "+suffix
	for i := range w.group.Facilities {
		w.group.Facilities[i].HIPID += "-B" + suffix
	}
	res, err := demo.Load(ctx, w.db.Owner, w.group)
	mustNoErr(t, err)
	w.tenant = res.TenantID
	sourcesLoad.Lock()
	_, err = demo.LoadSources(ctx, w.db.Owner, w.group, "DATABASE_URL")
	sourcesLoad.Unlock()
	mustNoErr(t, err)
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		return w.db.URL, k == "DATABASE_URL"
	}})
	t.Cleanup(opener.Close)
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: w.db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}})
	mustNoErr(t, err)
	t.Cleanup(reg.Close)
	w.index = patients.New(w.db.App, patients.Config{})
	_, err = sources.IndexAll(ctx, reg, w.tenant, w.index)
	mustNoErr(t, err)
	_, err = demo.LoadCoverage(ctx, w.db.Owner, w.group)
	mustNoErr(t, err)
	mustNoErr(t, database.InTenant(ctx, w.db.App, w.tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT hfr_id, id::text FROM facilities`)
		if err != nil {
			return err
		}
		var hfr, id string
		_, err = pgx.ForEachRow(rows, []any{&hfr, &id}, func() error { w.facility[hfr] = id; return nil })
		return err
	}))

	// The sandbox: gateway sessions and the NHCX switch with both demo
	// payers.
	var sbHandler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { sbHandler.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	var payers []nhcx.Participant
	payerKeys := map[string]*rsa.PrivateKey{}
	for _, p := range demo.Payers() {
		payers = append(payers, nhcx.Participant{Code: p.Code, Name: p.Name})
		payerKeys[p.Code] = rsaKey(t, "payer "+p.Code)
	}
	w.sb, err = sandbox.New(sandbox.Config{
		PublicURL: srv.URL, Logger: quietLogger(),
		Gateway: gateway.Config{Clients: []gateway.Client{{ID: clientID, Secret: clientSecret}}},
		NHCX: nhcx.Config{Payers: payers, PayerKeys: payerKeys, CallbackRetries: 2,
			RetryDelay: 20 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond, Logger: quietLogger()},
	})
	mustNoErr(t, err)
	t.Cleanup(func() { _ = w.sb.Close() })
	sbHandler = w.sb

	master := make([]byte, keys.MasterKeySize)
	_, _ = rand.Read(master)
	ring, err := keys.NewMasterKeys(master)
	mustNoErr(t, err)
	store := keys.NewPostgresStore(w.db.App, ring)
	queue := "billing_test_" + randomHex(4)
	w.svc, err = claims.New(claims.Config{
		Pool: w.db.App, Keys: store, Tokens: &gatewayTokens{url: srv.URL},
		SwitchURL: srv.URL + sandbox.NHCXPath, RegistryURL: srv.URL + sandbox.NHCXRegistryPath,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: quietLogger(), Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	mustNoErr(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustNoErr(t, err)
	appURL := "http://" + ln.Addr().String()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: claims.DefaultMaxBodyBytes})
	w.svc.RegisterCallbacks(app.Group("/nhcx"))
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	// Each facility is a participant with a key of its own, as `sangam
	// nhcx register` makes them; codes are unique across the test
	// database's tenants.
	for _, f := range w.group.Facilities {
		code := "10" + randomHex(4) + "@sbx"
		w.codes[f.HFRID] = code
		key := rsaKey(t, "provider "+f.HFRID)
		fid := w.facility[f.HFRID]
		mustNoErr(t, claims.SavePrivateKey(ctx, store, claims.PrivateKeyRef(w.tenant, fid, code), privatePEM(t, key)))
		mustNoErr(t, w.svc.SetParticipant(ctx, claims.Participant{Tenant: w.tenant, Facility: fid, Code: code, Name: f.Name}))
		mustNoErr(t, w.sb.NHCX.RegisterParticipant(nhcx.Participant{Code: code, Name: f.Name, EndpointURL: appURL + "/nhcx",
			EncryptionCert: certificatePEM(t, key, code), ClientID: clientID}))
	}

	workers := river.NewWorkers()
	mustNoErr(t, w.svc.RegisterJobs(workers))
	jobs, err := river.NewClient(riverpgxv5.New(w.db.App), &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: 10}},
		Workers: workers, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: quietLogger(),
	})
	mustNoErr(t, err)
	mustNoErr(t, jobs.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx)
	})

	gatherer, err := claims.NewGatherer(claims.GathererConfig{Patients: w.index, Sources: reg, Coverage: w.svc,
		WindowBefore: 180 * 24 * time.Hour, Logger: quietLogger()})
	mustNoErr(t, err)
	builder, err := nrces.NewBuilder(nrces.Config{})
	mustNoErr(t, err)
	w.wf, err = claims.NewWorkflow(claims.WorkflowConfig{Service: w.svc, Evidence: gatherer, Builder: builder, Logger: quietLogger()})
	mustNoErr(t, err)

	w.findKavya()
	return w
}

// findKavya finds the claims case's master patient, her two stays and
// her coverage.
func (w *billingWorld) findKavya() {
	t := w.t
	ctx := context.Background()
	person := demo.Claims().Person
	results, err := w.index.Search(ctx, w.tenant, patients.ParseSearch(person.ABHANumber), 5)
	mustNoErr(t, err)
	if len(results) != 1 {
		t.Fatalf("searching %s found %d patients", person.ABHANumber, len(results))
	}
	w.kavya = results[0].Patient.ID
	encs, problems, err := w.wf.Encounters(ctx, w.tenant, w.kavya)
	mustNoErr(t, err)
	if len(problems) > 0 {
		t.Fatalf("listing encounters: %v", problems)
	}
	for _, s := range demo.Claims().Stays {
		for _, e := range encs {
			if e.FacilityHFRID == s.HFRID && e.Inpatient && strings.HasSuffix(e.Reference, ":"+s.Admission) {
				w.stays = append(w.stays, e.Ref)
			}
		}
	}
	if len(w.stays) != 2 {
		t.Fatalf("found the stays %v among %+v", w.stays, encs)
	}
	covs, err := w.wf.Coverages(ctx, w.tenant, w.kavya)
	mustNoErr(t, err)
	if len(covs) == 0 {
		// demo.LoadCoverage finds people by ABHA number across every
		// tenant the (superuser) owner sees, so in a database holding
		// several copies of the demo it gives them none; add hers as
		// the demo defines it.
		for _, pc := range demo.Coverage(person) {
			c, err := w.wf.SetCoverage(ctx, w.tenant, claims.Coverage{PatientID: w.kavya, PayerCode: pc.PayerCode,
				PlanName: pc.PlanName, PolicyNumber: pc.PolicyNumber, MemberID: pc.MemberID,
				Relationship: claims.Relationship(pc.Relationship), ValidFrom: pc.ValidFrom, UpdatedBy: "demo"})
			mustNoErr(t, err)
			covs = append(covs, c)
		}
	}
	for _, c := range covs {
		switch c.PayerCode {
		case demo.InsurerPayerCode:
			w.insurer = c
		case demo.PMJAYPayerCode:
			w.pmjay = c
		}
	}
	if w.insurer.ID == "" || w.pmjay.ID == "" {
		t.Fatalf("Kavya's coverage: %+v", covs)
	}
}

// mysuru is Kavya's billed stay (Kaveri Women and Child Hospital);
// bengaluru her earlier one (Kaveri City Hospital, which bills nothing).
func (w *billingWorld) mysuru() string    { return w.stays[1] }
func (w *billingWorld) bengaluru() string { return w.stays[0] }

func (w *billingWorld) submission(stay string, cov claims.Coverage) claims.Submission {
	return claims.Submission{PatientID: w.kavya, EncounterRef: stay, CoverageID: cov.ID, Actor: w.actor}
}

func (w *billingWorld) rules(rs ...nhcx.Rule) {
	w.t.Helper()
	mustNoErr(w.t, w.sb.NHCX.SetRules(rs))
}

// waitCase waits until the case satisfies ok.
func (w *billingWorld) waitCase(id string, ok func(claims.Case) bool) claims.Case {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := w.wf.Case(context.Background(), w.tenant, id)
		mustNoErr(w.t, err)
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			ms, _ := w.svc.Ledger(context.Background(), w.tenant, claims.LedgerFilter{CaseID: id})
			var b strings.Builder
			for _, m := range ms {
				b.WriteString("  " + string(m.Direction) + " " + m.Path + " " + string(m.State) + " " + m.ErrorCode + " " + m.ErrorMessage + "\n")
			}
			w.t.Fatalf("case %s stuck at %s/%s (%s %s); ledger:\n%s", id, c.Stage, c.Status, c.ErrorCode, c.ErrorMessage, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is what the sandbox payer decrypted from the requests sent to
// path, oldest first.
func (w *billingWorld) received(path string) []nhcx.Message {
	var out []nhcx.Message
	for _, m := range w.sb.NHCX.Messages(nhcx.Filter{Path: path, Direction: nhcx.DirectionReceived}) {
		if m.State == "accepted" {
			out = append(out, m)
		}
	}
	return out
}

// waitReceived waits until the payer has read n requests on path.
func (w *billingWorld) waitReceived(path string, n int) []nhcx.Message {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms := w.received(path)
		if len(ms) >= n && len(ms[n-1].Payload) > 0 {
			return ms
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the payer read %d requests on %s, want %d", len(ms), path, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bundle is a decoded FHIR bundle the payer received, with helpers to
// find resources.
type bundle struct {
	Entry []struct {
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

func decodeBundle(t *testing.T, payload []byte) bundle {
	t.Helper()
	var b bundle
	mustNoErr(t, json.Unmarshal(payload, &b))
	return b
}

func (b bundle) all(typ string) []map[string]any {
	var out []map[string]any
	for _, e := range b.Entry {
		if e.Resource["resourceType"] == typ {
			out = append(out, e.Resource)
		}
	}
	return out
}
