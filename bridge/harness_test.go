package bridge_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// memSecrets is an in-memory ClientSecrets for tests.
type memSecrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSecrets) PutClientSecret(_ context.Context, tenant string, secret []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	s.m[tenant] = bytes.Clone(secret)
	return nil
}

func (s *memSecrets) ClientSecret(_ context.Context, tenant string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[tenant]
	if !ok {
		return nil, bridge.ErrNoCredentials
	}
	return bytes.Clone(v), nil
}

// tenantFixture is a tenant with facilities, created through the
// application pool like the app would.
type tenantFixture struct {
	ID    string
	Slug  string
	HIPs  []string // hip_id of each facility
	FacID []string
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func newTenant(t testing.TB, db *databasetest.DB, name string, facilities int) tenantFixture {
	t.Helper()
	ctx := context.Background()
	f := tenantFixture{ID: db.Tenant(t, name)}
	if err := db.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", f.ID).Scan(&f.Slug); err != nil {
		t.Fatal(err)
	}
	err := database.InTenant(ctx, db.App, f.ID, func(tx pgx.Tx) error {
		for i := range facilities {
			hip := fmt.Sprintf("HIP-%s-%d", randomSuffix(), i+1)
			var id string
			err := tx.QueryRow(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name)
				VALUES ($1, $2, $2, $3) RETURNING id::text`, f.ID, hip, fmt.Sprintf("%s facility %d", name, i+1)).Scan(&id)
			if err != nil {
				return err
			}
			f.HIPs, f.FacID = append(f.HIPs, hip), append(f.FacID, id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("creating facilities: %v", err)
	}
	return f
}

// harness is one bridge wired like production: a real abdm.Client and
// Verifier against a fake gateway on loopback, a Fiber app on a real
// listener, and a River client on its own queue so tests do not work each
// other's jobs.
type harness struct {
	t       testing.TB
	db      *databasetest.DB
	gw      *abdmtest.Gateway // nil with harnessOptions.sandbox
	sandbox *gateway.Gateway  // nil without it
	signer  *abdmtest.Signer
	client  *abdm.Client
	secrets *memSecrets
	bridge  *bridge.Bridge
	url     string // the Sangam public URL
	tenant  tenantFixture
	queue   string
	workers *river.Workers
	jobs    *river.Client[pgx.Tx]
	// productionJobs, when positive, starts River with River's default
	// fetch timing (as jobs.New does) and this many workers, instead of the
	// tests' fast polling.
	productionJobs int
}

type harnessOptions struct {
	config      func(*bridge.Config)
	httpTimeout time.Duration
	noWorkers   bool // do not start a River client
	// productionJobs: see harness.productionJobs.
	productionJobs int
	facilities     int
	// sandbox uses the sandbox gateway (e2e/sandbox/gateway) instead of
	// abdmtest's, with the first facility registered under the bridge.
	sandbox bool
	// front, when set, wraps the gateway, e.g. to make it unreachable for
	// a while.
	front func(http.Handler) http.Handler
}

func quietLogger() *slog.Logger {
	if os.Getenv("BRIDGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, db: databasetest.New(t), secrets: &memSecrets{}}

	if opts.facilities == 0 {
		opts.facilities = 2
	}
	h.tenant = newTenant(t, h.db, "Acme "+randomSuffix(), opts.facilities)

	var (
		gatewayURL     string
		gatewayHandler http.Handler
		err            error
	)
	if opts.sandbox {
		h.sandbox, gatewayURL, gatewayHandler = newSandboxGateway(t, h.tenant)
	} else {
		h.gw = abdmtest.NewGateway(t)
		h.gw.AddClient("SBX_ACME", "acme-secret")
		if h.signer, err = abdmtest.NewSigner(); err != nil {
			t.Fatal(err)
		}
		h.gw.SetKeys(h.signer.PublicJWK())
		gatewayURL, gatewayHandler = h.gw.URL, h.gw.Server.Config.Handler
	}
	if opts.front != nil {
		front := httptest.NewServer(opts.front(gatewayHandler))
		t.Cleanup(front.Close)
		gatewayURL = front.URL
	}

	creds := bridge.NewCredentials(h.db.App, h.secrets)
	timeout := opts.httpTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	h.client, err = abdm.New(abdm.Config{
		GatewayURL: gatewayURL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: timeout}, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: h.client, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	h.queue = "bridge_test_" + strings.ToLower(randomSuffix())
	cfg := bridge.Config{
		Pool: h.db.App, Gateway: h.client, Verifier: verifier, Credentials: creds,
		PublicURL: h.url, Logger: quietLogger(), Queue: h.queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	if h.bridge, err = bridge.New(cfg); err != nil {
		t.Fatal(err)
	}
	if err := h.bridge.SetCredentials(ctx, h.tenant.ID, "SBX_ACME", []byte("acme-secret")); err != nil {
		t.Fatal(err)
	}

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	h.bridge.Register(app)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	h.workers = river.NewWorkers()
	if _, err := h.bridge.RegisterJobs(h.workers); err != nil {
		t.Fatal(err)
	}
	h.productionJobs = opts.productionJobs
	if !opts.noWorkers {
		h.startJobs()
	}
	return h
}

// startJobs starts a River client working the harness's queue, as a
// (re)started process would.
func (h *harness) startJobs() *river.Client[pgx.Tx] {
	h.t.Helper()
	cfg := &river.Config{
		Queues:            map[string]river.QueueConfig{h.queue: {MaxWorkers: 10}},
		Workers:           h.workers,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            quietLogger(),
	}
	if h.productionJobs > 0 {
		// What jobs.New configures: River's default fetch timing, 20
		// workers.
		cfg.Queues[h.queue] = river.QueueConfig{MaxWorkers: h.productionJobs}
		cfg.FetchCooldown, cfg.FetchPollInterval = 0, 0
	}
	c, err := river.NewClient(riverpgxv5.New(h.db.App), cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	h.jobs = c
	return c
}

// otherService is registered under the sandbox bridge but is no facility
// of the tenant.
const otherService = "ELSEWHERE-HIP-1"

// newSandboxGateway starts the sandbox gateway on loopback with the
// tenant's client; only the first facility is registered under its bridge.
func newSandboxGateway(t testing.TB, tenant tenantFixture) (*gateway.Gateway, string, http.Handler) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	g, err := gateway.New(gateway.Config{
		PublicURL: url,
		Logger:    quietLogger(),
		Clients: []gateway.Client{{
			ID: "SBX_ACME", Secret: "acme-secret", Name: "Acme bridge",
			Services: []gateway.Service{
				{ID: tenant.HIPs[0], Name: "Acme main", Types: []string{gateway.TypeHIP, gateway.TypeHIU}},
				{ID: otherService + "-" + tenant.Slug, Name: "Not in Sangam yet", Types: []string{gateway.TypeHIP}},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = g.Close()
		_ = srv.Close()
	})
	return g, url, g
}

func (h *harness) bridgeURL() string { return h.bridge.BridgeURL(h.tenant.Slug) }

func route(t testing.TB, name string) abdm.CallbackRoute {
	t.Helper()
	for _, r := range abdm.CallbackRoutes() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no callback route %q", name)
	return abdm.CallbackRoute{}
}

// callback builds a signed callback to the harness tenant's bridge.
func (h *harness) callback(routeName, serviceID string, body any) (*http.Request, string) {
	h.t.Helper()
	req, id, err := abdmtest.NewCallbackRequest(context.Background(), h.signer, h.bridgeURL(), route(h.t, routeName), serviceID, body)
	if err != nil {
		h.t.Fatal(err)
	}
	return req, id
}

type reply struct {
	status int
	code   string
	body   string
}

func send(t testing.TB, req *http.Request) reply {
	t.Helper()
	// Requests may be sent twice (redelivery); keep the body replayable.
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		req.Body = b
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, body: string(data)}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		r.code = e.Error.Code
	}
	return r
}

// exchangeID finds an exchange of the harness tenant by REQUEST-ID.
func (h *harness) exchangeID(direction bridge.Direction, requestID string) int64 {
	h.t.Helper()
	xs, err := h.bridge.Timeline(context.Background(), h.tenant.ID, bridge.Filter{Direction: direction, RequestID: requestID})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, x := range xs {
		if x.RequestID == requestID {
			return x.ID
		}
	}
	h.t.Fatalf("no %s exchange with REQUEST-ID %s", direction, requestID)
	return 0
}

// waitState waits for an exchange to reach state, failing with its
// timeline if it does not within a generous bound.
func (h *harness) waitState(id int64, want bridge.State) *bridge.ExchangeDetail {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := h.bridge.Exchange(context.Background(), h.tenant.ID, id)
		if err != nil {
			h.t.Fatal(err)
		}
		if d.State == want {
			return d
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("exchange %d is %s, want %s; timeline:\n%s", id, d.State, want, timeline(d))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func timeline(d *bridge.ExchangeDetail) string {
	var b strings.Builder
	for _, e := range d.Events {
		fmt.Fprintf(&b, "  %s attempt=%d status=%d %s\n", e.Kind, e.Attempt, e.HTTPStatus, e.Detail)
	}
	return b.String()
}

func eventKinds(d *bridge.ExchangeDetail) []string {
	var out []string
	for _, e := range d.Events {
		out = append(out, e.Kind)
	}
	return out
}

// count runs a counting query as the owner (bypassing nothing it should
// not: the test user is a superuser) for assertions across tables.
func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.Owner.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) tenantExchanges() int {
	return h.count("SELECT count(*) FROM bridge_exchanges WHERE tenant_id = $1", h.tenant.ID)
}

func (h *harness) queueJobs() int {
	return h.count("SELECT count(*) FROM river_job WHERE queue = $1", h.queue)
}

// counter counts processor runs per route.
type counter struct {
	mu   sync.Mutex
	runs map[string]int
	seen []*bridge.Callback
}

func (c *counter) fn(route string) bridge.ProcessFunc {
	return func(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.runs == nil {
			c.runs = make(map[string]int)
		}
		c.runs[route]++
		c.seen = append(c.seen, cb)
		return nil
	}
}

func (c *counter) first() *bridge.Callback {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) == 0 {
		return &bridge.Callback{}
	}
	return c.seen[0]
}

func (c *counter) n(route string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[route]
}

func discoverBody() abdm.DiscoverRequest {
	return abdm.DiscoverRequest{TransactionID: "txn-" + randomSuffix(),
		Patient: abdm.DiscoverPatient{ID: "someone@sbx", Name: "Asha Rao", Gender: "F", YearOfBirth: 1990}}
}

func mustNoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var errBoom = errors.New("boom")
