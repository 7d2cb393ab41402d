package claims_test

import (
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/claimstest"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
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

func newBillingWorld(t *testing.T) *billingWorld {
	t.Helper()
	w := &billingWorld{t: t, db: databasetest.New(t), codes: map[string]string{},
		actor: claims.Actor{ID: "demo-billing", Name: "Priya Billing"}}
	suffix := strings.ToUpper(randomHex(3))
	w.group = demo.KaveriHealth()
	w.group.Slug, w.group.Name = "kaveri-billing-"+strings.ToLower(suffix), "Kaveri billing "+suffix
	for i := range w.group.Facilities {
		w.group.Facilities[i].HIPID += "-B" + suffix
	}
	d := claimstest.LoadDemo(t, w.db, w.group)
	w.tenant, w.index, w.facility = d.Tenant, d.Patients, d.Facilities

	// The sandbox: gateway sessions and the NHCX switch with both demo
	// payers.
	var sbHandler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { sbHandler.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	payers, payerKeys := claimstest.DemoPayers(t)
	var err error
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
		claimstest.Register(t, store, w.svc, w.sb.NHCX, claimstest.Participant{Tenant: w.tenant, Facility: w.facility[f.HFRID],
			Code: code, Name: f.Name, Key: rsaKey(t, "provider "+f.HFRID), EndpointURL: appURL + "/nhcx", ClientID: clientID})
	}

	claimstest.StartJobs(t, w.db, w.svc, queue, 10, quietLogger())
	w.wf = claimstest.NewWorkflow(t, d, claims.WorkflowConfig{Service: w.svc, Logger: quietLogger()})
	w.findKavya()
	return w
}

// findKavya finds the claims case's master patient, her two stays and
// her coverage.
func (w *billingWorld) findKavya() {
	t := w.t
	k := claimstest.FindKavya(t, w.wf, w.index, w.tenant)
	w.kavya = k.ID
	if len(k.Problems) > 0 {
		t.Fatalf("listing encounters: %v", k.Problems)
	}
	for _, s := range k.Stays {
		w.stays = append(w.stays, s.Ref)
	}
	if len(w.stays) != 2 {
		t.Fatalf("found the stays %v among %+v", w.stays, k.Encounters)
	}
	w.insurer, w.pmjay = k.Coverage(demo.InsurerPayerCode), k.Coverage(demo.PMJAYPayerCode)
	if w.insurer.ID == "" || w.pmjay.ID == "" {
		t.Fatalf("Kavya's coverage: %+v", k.Coverages)
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
	return claimstest.WaitCase(w.t, w.svc, w.tenant, id, ok)
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
