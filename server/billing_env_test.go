package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
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

var billingRSA struct {
	sync.Mutex
	keys map[string]*rsa.PrivateKey
}

func billingKey(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	billingRSA.Lock()
	defer billingRSA.Unlock()
	if k := billingRSA.keys[name]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if billingRSA.keys == nil {
		billingRSA.keys = map[string]*rsa.PrivateKey{}
	}
	billingRSA.keys[name] = k
	return k
}

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
	res, err := demo.Load(ctx, db.Owner, g)
	must(t, err)
	_, err = demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL")
	must(t, err)
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		return db.URL, k == "DATABASE_URL"
	}})
	t.Cleanup(opener.Close)
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}})
	must(t, err)
	t.Cleanup(reg.Close)
	index := patients.New(db.App, patients.Config{})
	_, err = sources.IndexAll(ctx, reg, res.TenantID, index)
	must(t, err)
	_, err = demo.LoadCoverage(ctx, db.Owner, g)
	must(t, err)
	env := &billingEnv{Tenant: res.TenantID, CityHFR: "IN2910000231", MysuruHFR: "IN2910000587"}
	must(t, database.InTenant(ctx, db.App, env.Tenant, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id::text FROM facilities WHERE hfr_id = $1`, env.CityHFR).Scan(&env.CityID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id::text FROM facilities WHERE hfr_id = $1`, env.MysuruHFR).Scan(&env.MysuruID)
	}))

	// The sandbox: gateway sessions and the NHCX switch answering both
	// demo payers.
	var sbHandler http.Handler
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sbHandler.ServeHTTP(w, r) }))
	t.Cleanup(sbSrv.Close)
	var payers []nhcx.Participant
	payerKeys := map[string]*rsa.PrivateKey{}
	for _, p := range demo.Payers() {
		payers = append(payers, nhcx.Participant{Code: p.Code, Name: p.Name})
		payerKeys[p.Code] = billingKey(t, "payer "+p.Code)
	}
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
		Pool: db.App, Keys: store, Tokens: &sandboxTokens{url: sbSrv.URL},
		SwitchURL: sbSrv.URL + sandbox.NHCXPath, RegistryURL: sbSrv.URL + sandbox.NHCXRegistryPath,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: testLogger(), Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	must(t, err)
	gatherer, err := claims.NewGatherer(claims.GathererConfig{Patients: index, Sources: reg, Coverage: svc,
		WindowBefore: 180 * 24 * time.Hour, Logger: testLogger()})
	must(t, err)
	builder, err := nrces.NewBuilder(nrces.Config{})
	must(t, err)
	// Small upload limits, under the server's body limit, so that the
	// page's refusal of a large file can be seen.
	env.Workflow, err = claims.NewWorkflow(claims.WorkflowConfig{Service: svc, Evidence: gatherer, Builder: builder,
		Uploads: claims.UploadLimits{PerFile: 64 << 10, Total: 256 << 10}, Logger: testLogger()})
	must(t, err)

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
		code := "10" + randomHex(4) + "@sbx"
		key := billingKey(t, "provider "+f.HFRID)
		var fid string
		must(t, database.InTenant(ctx, db.App, env.Tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT id::text FROM facilities WHERE hfr_id = $1`, f.HFRID).Scan(&fid)
		}))
		der, err := x509.MarshalPKCS8PrivateKey(key)
		must(t, err)
		must(t, claims.SavePrivateKey(ctx, store, claims.PrivateKeyRef(env.Tenant, fid, code), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
		must(t, svc.SetParticipant(ctx, claims.Participant{Tenant: env.Tenant, Facility: fid, Code: code, Name: f.Name}))
		must(t, env.Sandbox.NHCX.RegisterParticipant(nhcx.Participant{Code: code, Name: f.Name, EndpointURL: sangamURL + server.NHCXPath,
			EncryptionCert: selfSigned(t, key, code), ClientID: testClientID}))
	}

	workers := river.NewWorkers()
	must(t, svc.RegisterJobs(workers))
	jobs, err := river.NewClient(riverpgxv5.New(db.App), &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: 4}},
		Workers: workers, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: testLogger(),
	})
	must(t, err)
	must(t, jobs.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx)
	})

	env.findKavya(t, index)
	return env
}

// findKavya finds the claims case's patient, stays and coverage.
func (e *billingEnv) findKavya(t *testing.T, index *patients.Index) {
	t.Helper()
	ctx := context.Background()
	person := demo.Claims().Person
	rs, err := index.Search(ctx, e.Tenant, patients.ParseSearch(person.ABHANumber), 5)
	must(t, err)
	if len(rs) != 1 {
		t.Fatalf("%d patients with Kavya's ABHA number", len(rs))
	}
	e.Kavya = rs[0].Patient.ID
	encs, _, err := e.Workflow.Encounters(ctx, e.Tenant, e.Kavya)
	must(t, err)
	for _, s := range demo.Claims().Stays {
		for _, enc := range encs {
			if enc.FacilityHFRID == s.HFRID && enc.Inpatient && strings.HasSuffix(enc.Reference, ":"+s.Admission) {
				if s.HFRID == e.MysuruHFR {
					e.Mysuru = enc.Ref
				} else {
					e.Bengaluru = enc.Ref
				}
			}
		}
	}
	if e.Mysuru == "" || e.Bengaluru == "" {
		t.Fatalf("Kavya's stays not found among %+v", encs)
	}
	covs, err := e.Workflow.Coverages(ctx, e.Tenant, e.Kavya)
	must(t, err)
	if len(covs) == 0 {
		// demo.LoadCoverage looks people up across every tenant the
		// owner sees; with several demo copies in the test database it
		// gives them none, so hers is added as the demo defines it.
		for _, pc := range demo.Coverage(person) {
			c, err := e.Workflow.SetCoverage(ctx, e.Tenant, claims.Coverage{PatientID: e.Kavya, PayerCode: pc.PayerCode,
				PlanName: pc.PlanName, PolicyNumber: pc.PolicyNumber, MemberID: pc.MemberID,
				Relationship: claims.Relationship(pc.Relationship), ValidFrom: pc.ValidFrom, UpdatedBy: "demo"})
			must(t, err)
			covs = append(covs, c)
		}
	}
	for _, c := range covs {
		switch c.PayerCode {
		case demo.InsurerPayerCode:
			e.Insurer = c
		case demo.PMJAYPayerCode:
			e.PMJAY = c
		}
	}
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

// waitCase waits until the case satisfies ok.
func (e *billingEnv) waitCase(t *testing.T, id string, ok func(claims.Case) bool) claims.Case {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := e.Workflow.CaseDetail(context.Background(), e.Tenant, id)
		must(t, err)
		if ok(d.Case) {
			return d.Case
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s stuck at %s/%s (%s %s)", id, d.Stage, d.Status, d.ErrorCode, d.ErrorMessage)
		}
		time.Sleep(25 * time.Millisecond)
	}
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

// sandboxTokens takes NHCX tokens from the sandbox gateway's session API.
type sandboxTokens struct {
	url   string
	mu    sync.Mutex
	token string
}

func (s *sandboxTokens) Token(ctx context.Context, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		return s.token, nil
	}
	body, _ := json.Marshal(map[string]string{"clientId": testClientID, "clientSecret": testSecret, "grantType": "client_credentials"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/gateway/v3/sessions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("REQUEST-ID", uuid.NewString())
	req.Header.Set("TIMESTAMP", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	req.Header.Set("X-CM-ID", "sbx")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", errSession
	}
	s.token = out.AccessToken
	return s.token, nil
}

var errSession = errorString("the sandbox gave no session token")

type errorString string

func (e errorString) Error() string { return string(e) }

func selfSigned(t *testing.T, key *rsa.PrivateKey, cn string) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
