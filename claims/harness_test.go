package claims_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/claimstest"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
)

// The round-trip tests run Sangam's claims service as production wires it
// (PostgreSQL with row-level security, River, a Fiber app on a loopback
// listener) against the sandbox's NHCX switch and payer, with the NHCX
// token taken from the sandbox gateway's session API.

const (
	clientID     = "SBX_ACME"
	clientSecret = "acme-secret"
)

func quietLogger() *slog.Logger {
	if os.Getenv("CLAIMS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// rsaKey is the test binary's key called name (claimstest.RSAKey).
func rsaKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	return claimstest.RSAKey(t, name)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// gatewayTokens gets the tenant's NHCX token from the sandbox gateway's
// session API, as production gets it from ABDM's, and drops a token the
// switch refused, as production does.
type gatewayTokens struct {
	url string

	once sync.Once
	src  *claimstest.Tokens
}

func (g *gatewayTokens) tokens() *claimstest.Tokens {
	g.once.Do(func() { g.src = &claimstest.Tokens{URL: g.url, ClientID: clientID, Secret: clientSecret} })
	return g.src
}

func (g *gatewayTokens) Token(ctx context.Context, tenant string) (string, error) {
	return g.tokens().Token(ctx, tenant)
}

func (g *gatewayTokens) InvalidateToken(_, token string) { g.tokens().Drop(token) }

// pathCounter counts the sandbox's requests by path.
type pathCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *pathCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[r.URL.Path]++
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (c *pathCounter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

type harness struct {
	t        testing.TB
	db       *databasetest.DB
	svc      *claims.Service
	sb       *sandbox.Sandbox
	sbURL    string
	hits     *pathCounter
	tokens   *gatewayTokens
	appURL   string
	tenant   string
	facility string
	code     string // our participant code
	queue    string
}

type harnessOptions struct {
	config func(*claims.Config)
	nhcx   func(*nhcx.Config)
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, db: databasetest.New(t), hits: &pathCounter{}}
	h.tenant = h.db.Tenant(t, "Claims "+randomHex(3))
	hip := "HIP-" + strings.ToUpper(randomHex(4))
	err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, $2, $2, 'Main')
			RETURNING id::text`, h.tenant, hip).Scan(&h.facility)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.code = "10" + randomHex(4) + "@sbx"

	// The sandbox: gateway (sessions) and NHCX switch.
	var sbHandler http.Handler
	srv := httptest.NewServer(h.hits.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sbHandler.ServeHTTP(w, r) })))
	t.Cleanup(srv.Close)
	h.sbURL = srv.URL
	nc := nhcx.Config{
		CallbackRetries: 2, RetryDelay: 20 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond,
		PayerKeys: map[string]*rsa.PrivateKey{nhcx.DefaultPayerCode: rsaKey(t, "payer")},
		Logger:    quietLogger(),
	}
	if opts.nhcx != nil {
		opts.nhcx(&nc)
	}
	h.sb, err = sandbox.New(sandbox.Config{
		PublicURL: srv.URL, Logger: quietLogger(),
		Gateway: gateway.Config{Clients: []gateway.Client{{ID: clientID, Secret: clientSecret,
			Services: []gateway.Service{{ID: hip, Name: "Main", Types: []string{gateway.TypeHIP}}}}}},
		NHCX: nc,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.sb.Close() })
	sbHandler = h.sb

	// Our private key in the key store, our participant code registered.
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	ring, err := keys.NewMasterKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	store := keys.NewPostgresStore(h.db.App, ring)

	// The Fiber app serving our callbacks under /nhcx.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.appURL = "http://" + ln.Addr().String()
	h.tokens = &gatewayTokens{url: srv.URL}
	h.queue = "claims_test_" + randomHex(4)
	cfg := claims.Config{
		Pool: h.db.App, Keys: store, Tokens: h.tokens,
		SwitchURL: srv.URL + sandbox.NHCXPath, RegistryURL: srv.URL + sandbox.NHCXRegistryPath,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: quietLogger(), Queue: h.queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	h.svc, err = claims.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: claims.DefaultMaxBodyBytes})
	h.svc.RegisterCallbacks(app.Group("/nhcx"))
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	claimstest.Register(t, store, h.svc, h.sb.NHCX, claimstest.Participant{Tenant: h.tenant, Code: h.code, Name: "Acme",
		Key: rsaKey(t, "provider"), EndpointURL: h.appURL + "/nhcx", ClientID: clientID})
	claimstest.StartJobs(t, h.db, h.svc, h.queue, 10, quietLogger())
	return h
}

func (h *harness) startCase(workflow string) claims.Case {
	h.t.Helper()
	c, err := h.svc.StartCase(context.Background(), claims.NewCase{
		Tenant: h.tenant, Facility: h.facility, PayerCode: nhcx.DefaultPayerCode,
		PatientRef: "patient-" + randomHex(3), EncounterRef: "enc-" + randomHex(3), WorkflowID: workflow,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) send(caseID, path string, payload []byte) claims.Message {
	h.t.Helper()
	m, err := h.svc.Send(context.Background(), h.tenant, claims.Request{CaseID: caseID, Path: path, Payload: payload})
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// waitCase waits until the case satisfies ok, failing with its ledger.
func (h *harness) waitCase(id string, ok func(claims.Case) bool) claims.Case {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := h.svc.Case(context.Background(), h.tenant, id)
		if err != nil {
			h.t.Fatal(err)
		}
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("case %s stuck at %s (stage %s, error %s %s); ledger:\n%s", id, c.Status, c.Stage,
				c.ErrorCode, c.ErrorMessage, h.ledgerText(id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusIs(s claims.CaseStatus) func(claims.Case) bool {
	return func(c claims.Case) bool { return c.Status == s }
}

// waitMessage waits for a ledger message matching ok.
func (h *harness) waitMessage(f claims.LedgerFilter, ok func(claims.Message) bool) claims.Message {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms, err := h.svc.Ledger(context.Background(), h.tenant, f)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range ms {
			if ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no such message; ledger:\n%s", h.ledgerText(f.CaseID))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) ledger(caseID string) []claims.Message {
	h.t.Helper()
	ms, err := h.svc.Ledger(context.Background(), h.tenant, claims.LedgerFilter{CaseID: caseID})
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

func (h *harness) ledgerText(caseID string) string {
	ms, _ := h.svc.Ledger(context.Background(), h.tenant, claims.LedgerFilter{CaseID: caseID})
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "  #%d %s %s %s outcome=%q attempts=%d http=%d err=%s %s\n", m.ID, m.Direction, m.Path, m.State,
			m.Outcome, m.Attempts, m.HTTPStatus, m.ErrorCode, m.ErrorMessage)
	}
	return b.String()
}

// count runs a counting query as the owner, for assertions across tables.
func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.Owner.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// Hand-made FHIR payloads: the protocol layer never looks inside what it
// sends, so these only need to be what the sandbox payer reads.

func eligibilityBundle() []byte {
	return []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:e1","resource":
		{"resourceType":"CoverageEligibilityRequest","id":"e1","identifier":[{"value":"ELIG-1"}],"purpose":["validation"],
		 "status":"active"}}]}`)
}

func claimBundle(use string, total string) []byte {
	return []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:c1","resource":
		{"resourceType":"Claim","id":"c1","use":"` + use + `","identifier":[{"value":"CLM-` + randomHex(3) + `"}],
		 "total":{"value":` + total + `,"currency":"INR"}}}]}`)
}

func documentsBundle() []byte {
	return []byte(`{"resourceType":"Bundle","type":"collection","entry":[
		{"fullUrl":"urn:uuid:t1","resource":{"resourceType":"Task","id":"t1","status":"completed","intent":"order",
		  "input":[{"type":{"coding":[{"code":"include"}]},"valueReference":{"reference":"urn:uuid:m1"}}]}},
		{"fullUrl":"urn:uuid:m1","resource":{"resourceType":"Communication","id":"m1","status":"completed",
		  "payload":[{"contentAttachment":{"contentType":"application/pdf","data":"JVBERi0xLjQK","title":"Discharge summary"}}]}}]}`)
}

func paymentAckBundle() []byte {
	return []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:t2","resource":
		{"resourceType":"Task","id":"t2","status":"completed","intent":"order",
		 "output":[{"type":{"coding":[{"code":"paymentack"}]},"valueBoolean":true}]}}]}`)
}

func mustNoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
