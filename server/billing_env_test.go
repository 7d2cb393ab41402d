package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/claimstest"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
)

// billingEnv is Sangam with its billing workflow wired as `sangam serve`
// wires it, over a copy of the demo group in a tenant of its own (patients
// indexed from the demo vendors' databases, payers, empanelments and
// coverage loaded), each facility an NHCX participant of the sandbox
// switch.
type billingEnv struct {
	*servertest.Env
	Sandbox *sandbox.Sandbox
	Tenant  string
	// Kavya is the claims case's master patient; Bengaluru and Mysuru her
	// stays (only Mysuru bills).
	Kavya              string
	Bengaluru, Mysuru  string
	Insurer, PMJAY     claims.Coverage
	MysuruID, CityID   string
	MysuruHFR, CityHFR string
	Workflow           *claims.Workflow
}

// billingMysuru is a billing clerk of the Mysuru hospital and billingCity
// one of Kaveri City Hospital only (the demo's "billing" user works for
// both).
const (
	billingMysuru = "billing-mysuru"
	billingCity   = "billing-city"
)

func startBillingEnv(t *testing.T) *billingEnv {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	suffix := strings.ToUpper(randomHex(3))
	g := demo.KaveriHealth()
	g.Slug, g.Name = "kaveri-bill-"+strings.ToLower(suffix), "Kaveri billing "+suffix
	for i := range g.Facilities {
		g.Facilities[i].HIPID += "-BL" + suffix
	}
	d := claimstest.LoadDemo(t, db, g)
	env := &billingEnv{Tenant: d.Tenant, CityHFR: "IN2910000231", MysuruHFR: "IN2910000587"}
	env.CityID, env.MysuruID = d.Facilities[env.CityHFR], d.Facilities[env.MysuruHFR]
	if env.CityID == "" || env.MysuruID == "" {
		t.Fatalf("the demo's facilities %v lack %s or %s", d.Facilities, env.CityHFR, env.MysuruHFR)
	}

	// The sandbox: gateway sessions and the NHCX switch answering both
	// demo payers.
	var sbHandler http.Handler
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sbHandler.ServeHTTP(w, r) }))
	t.Cleanup(sbSrv.Close)
	payers, payerKeys := claimstest.DemoPayers(t)
	var err error
	env.Sandbox, err = sandbox.New(sandbox.Config{
		PublicURL: sbSrv.URL, Logger: testLogger(),
		Gateway: gateway.Config{Clients: []gateway.Client{{ID: testClientID, Secret: testSecret}}},
		NHCX: nhcx.Config{Payers: payers, PayerKeys: payerKeys, CallbackRetries: 2,
			RetryDelay: 20 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond, Logger: testLogger()},
	})
	must(t, err)
	t.Cleanup(func() { _ = env.Sandbox.Close() })
	sbHandler = env.Sandbox

	raw := make([]byte, keys.MasterKeySize)
	_, _ = rand.Read(raw)
	ring, err := keys.NewMasterKeys(raw)
	must(t, err)
	store := keys.NewPostgresStore(db.App, ring)
	queue := "billing_" + randomHex(4)
	svc, err := claims.New(claims.Config{
		Pool: db.App, Keys: store, Tokens: &claimstest.Tokens{URL: sbSrv.URL, ClientID: testClientID, Secret: testSecret},
		SwitchURL: sbSrv.URL + sandbox.NHCXPath, RegistryURL: sbSrv.URL + sandbox.NHCXRegistryPath,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: testLogger(), Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	must(t, err)
	// Small upload limits, under the server's body limit, so that the
	// page's refusal of a large file can be seen.
	env.Workflow = claimstest.NewWorkflow(t, d, claims.WorkflowConfig{Service: svc,
		Uploads: claims.UploadLimits{PerFile: 64 << 10, Total: 256 << 10}, Logger: testLogger()})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	sangamURL := "http://" + ln.Addr().String()
	users := identity.DemoUsers(g.HFRIDs())
	users = append(users, identity.User{Subject: "demo-" + billingMysuru, Username: billingMysuru, Password: identity.DemoPassword,
		Name: "Meena Billing", Email: billingMysuru + "@sangam.example", Roles: []string{identity.RoleBilling}, Facilities: []string{env.MysuruHFR}},
		identity.User{Subject: "demo-" + billingCity, Username: billingCity, Password: identity.DemoPassword,
			Name: "Ravi Billing", Email: billingCity + "@sangam.example", Roles: []string{identity.RoleBilling}, Facilities: []string{env.CityHFR}})
	issuer := startIdentity(t, sangamURL, users)
	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: testLogger(), Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: issuer, ClientID: servertest.ClientID, ClientSecret: servertest.ClientSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: g.Slug,
		NHCX:          nhcxRoutes{svc},
		Billing:       env.Workflow,
		BodyLimit:     4 << 20,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	})
	env.Env = &servertest.Env{URL: sangamURL, Issuer: issuer, Server: srv, DB: db, TenantID: env.Tenant}

	// Each facility is an NHCX participant with its own key, registered
	// with the sandbox switch at Sangam's /nhcx, as `sangam nhcx register`
	// does.
	for _, f := range g.Facilities {
		claimstest.Register(t, store, svc, env.Sandbox.NHCX, claimstest.Participant{Tenant: env.Tenant, Facility: d.Facilities[f.HFRID],
			Code: "10" + randomHex(4) + "@sbx", Name: f.Name, Key: claimstest.RSAKey(t, "provider "+f.HFRID),
			EndpointURL: sangamURL + server.NHCXPath, ClientID: testClientID})
	}

	claimstest.StartJobs(t, db, svc, queue, 4, testLogger())

	env.findKavya(t, d.Patients)
	return env
}

// findKavya finds the claims case's patient, stays and coverage.
func (e *billingEnv) findKavya(t *testing.T, index *patients.Index) {
	t.Helper()
	k := claimstest.FindKavya(t, e.Workflow, index, e.Tenant)
	e.Kavya = k.ID
	for _, s := range k.Stays {
		if s.HFRID == e.MysuruHFR {
			e.Mysuru = s.Ref
		} else {
			e.Bengaluru = s.Ref
		}
	}
	if e.Mysuru == "" || e.Bengaluru == "" {
		t.Fatalf("Kavya's stays not found among %+v", k.Encounters)
	}
	e.Insurer, e.PMJAY = k.Coverage(demo.InsurerPayerCode), k.Coverage(demo.PMJAYPayerCode)
}

// signedIn is a browser-like client signed in as username.
func (e *billingEnv) signedIn(t *testing.T, username string) *http.Client {
	t.Helper()
	c := servertest.NewClient(t)
	if res := e.SignIn(t, c, username, identity.DemoPassword); res.Status != http.StatusOK {
		t.Fatalf("signing in as %s: %d", username, res.Status)
	}
	return c
}

// post sends a form (with the page's CSRF token) and returns where it
// ended and the page.
func (e *billingEnv) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(e.URL+path, form)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// postMultipart sends a multipart form with files.
func (e *billingEnv) postMultipart(t *testing.T, c *http.Client, path string, fields url.Values, files map[string][]byte) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			must(t, mw.WriteField(k, v))
		}
	}
	for name, data := range files {
		fw, err := mw.CreateFormFile("files", name)
		must(t, err)
		_, _ = fw.Write(data)
	}
	must(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, e.URL+path, &buf)
	must(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// waitCase waits until the case satisfies ok, reading it as the case
// page does.
func (e *billingEnv) waitCase(t *testing.T, id string, ok func(claims.Case) bool) claims.Case {
	t.Helper()
	return claimstest.WaitCase(t, caseDetails{e.Workflow}, e.Tenant, id, ok)
}

// caseDetails reads cases through Workflow.CaseDetail, which builds what
// the case page shows.
type caseDetails struct{ wf *claims.Workflow }

func (c caseDetails) Case(ctx context.Context, tenant, id string) (claims.Case, error) {
	d, err := c.wf.CaseDetail(ctx, tenant, id)
	return d.Case, err
}

// nhcxRoutes mounts the NHCX inbox, as serve does.
type nhcxRoutes struct{ svc *claims.Service }

func (n nhcxRoutes) Register(r fiber.Router) { n.svc.RegisterCallbacks(r) }

// waitUntil waits for cond, failing the test after 20 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
