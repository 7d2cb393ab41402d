package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
)

// The sandbox gateway's client for the test tenant. Of the tenant's three
// facilities the first is an active HIP service under the bridge, the
// second an inactive one, the third is not registered at all.
const (
	testClientID = "SBX_KAVERI"
	testSecret   = "kaveri-gateway-secret"
)

// abdmEnv is Sangam with its ABDM bridge wired as `sangam serve` wires it
// (key store, gateway client, verifier, bridge, River workers), against
// the sandbox gateway, with a tenant of its own so tests cannot see each
// other's exchanges.
type abdmEnv struct {
	*servertest.Env
	Gateway *gateway.Gateway
	Bridge  *bridge.Bridge
	Secrets keyStoreSecrets
	Slug    string
	// HIPs and Names are the facilities' HIP ids and names, in order.
	HIPs  []string
	Names []string
}

func testLogger() *slog.Logger {
	if os.Getenv("SERVER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startABDM brings up the identity provider, the sandbox gateway and
// Sangam with its bridge, and stops them when t ends. configure may adjust
// the bridge's config.
func startABDM(t *testing.T, configure func(*bridge.Config)) *abdmEnv {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	e := &abdmEnv{Slug: "abdm" + randomHex(4)}
	group := demo.KaveriHealth()
	group.Slug, group.Name = e.Slug, "ABDM test group "+e.Slug
	for i := range group.Facilities {
		f := &group.Facilities[i]
		f.HIPID = strings.ToUpper(e.Slug) + "-" + f.HIPID // hip_id is unique across tenants
		e.HIPs, e.Names = append(e.HIPs, f.HIPID), append(e.Names, f.Name)
	}
	res, err := demo.Load(ctx, db.Owner, group)
	if err != nil {
		t.Fatalf("loading the test group: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sangamURL := "http://" + ln.Addr().String()
	issuer := startIdentity(t, sangamURL, identity.DemoUsers(group.HFRIDs()))
	var gatewayURL string
	e.Gateway, gatewayURL = startGateway(t, e.HIPs)

	e.Bridge = newTestBridge(t, db, gatewayURL, sangamURL, configure, &e.Secrets)
	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: testLogger(), Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: issuer, ClientID: servertest.ClientID, ClientSecret: servertest.ClientSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: e.Slug,
		Bridge:        e.Bridge,
		ABDM:          e.Bridge,
		CheckABDMCredentials: server.GatewayCredentialCheck(abdm.Config{
			GatewayURL: gatewayURL, CMID: abdm.CMSandbox, HTTPClient: &http.Client{Timeout: 5 * time.Second},
		}),
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
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutting down Sangam: %v", err)
		}
		<-done
	})
	e.Env = &servertest.Env{URL: sangamURL, Issuer: issuer, Server: srv, DB: db, TenantID: res.TenantID}
	return e
}

// newTestBridge builds the bridge over a real key store and starts River
// workers on a queue of its own.
func newTestBridge(t *testing.T, db *databasetest.DB, gatewayURL, sangamURL string, configure func(*bridge.Config), secrets *keyStoreSecrets) *bridge.Bridge {
	t.Helper()
	raw := make([]byte, keys.MasterKeySize)
	_, _ = rand.Read(raw)
	mk, err := keys.NewMasterKeys(raw)
	if err != nil {
		t.Fatal(err)
	}
	secrets.store = keys.NewPostgresStore(db.App, mk)
	creds := bridge.NewCredentials(db.App, *secrets)
	client, err := abdm.New(abdm.Config{
		GatewayURL: gatewayURL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	queue := "server_test_" + randomHex(4)
	cfg := bridge.Config{
		Pool: db.App, Gateway: client, Verifier: verifier, Credentials: creds, PublicURL: sangamURL,
		Logger: testLogger(), Queue: queue, RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	}
	if configure != nil {
		configure(&cfg)
	}
	b, err := bridge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if _, err := b.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(db.App), &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: 4}},
		Workers: workers, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx)
	})
	return b
}

// startGateway serves the sandbox gateway on loopback with the test client.
func startGateway(t *testing.T, hips []string) (*gateway.Gateway, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gatewayURL := "http://" + ln.Addr().String()
	g, err := gateway.New(gateway.Config{
		PublicURL: gatewayURL,
		Logger:    testLogger(),
		Clients: []gateway.Client{{
			ID: testClientID, Secret: testSecret, Name: "Kaveri bridge",
			Services: []gateway.Service{
				{ID: hips[0], Name: "City OPD", Types: []string{gateway.TypeHIP, gateway.TypeHIU}},
				{ID: hips[1], Name: "Mysuru", Types: []string{gateway.TypeHIP}, Inactive: true},
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
	return g, gatewayURL
}

// startIdentity serves the sandbox identity provider with Sangam as a
// client, as servertest does.
func startIdentity(t *testing.T, sangamURL string, users []identity.User) string {
	t.Helper()
	var handler http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	issuer := ts.URL + "/oidc"
	p, err := identity.New(identity.Config{
		Issuer: issuer,
		Clients: []identity.Client{{
			ID: servertest.ClientID, Secret: servertest.ClientSecret,
			RedirectURIs:           []string{sangamURL + "/auth/callback"},
			PostLogoutRedirectURIs: []string{sangamURL + "/signed-out"},
		}},
		Users: users,
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = p
	return issuer
}

// keyStoreSecrets keeps client secrets in the key store, as `sangam serve`
// does.
type keyStoreSecrets struct{ store keys.Store }

func secretRef(tenant string) keys.Ref {
	return keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: "gateway"}
}

func (s keyStoreSecrets) PutClientSecret(ctx context.Context, tenant string, secret []byte) error {
	return s.store.Put(ctx, keys.Secret{Ref: secretRef(tenant), Value: secret})
}

func (s keyStoreSecrets) ClientSecret(ctx context.Context, tenant string) ([]byte, error) {
	sec, err := s.store.Get(ctx, secretRef(tenant))
	if errors.Is(err, keys.ErrNotFound) {
		return nil, bridge.ErrNoCredentials
	}
	if err != nil {
		return nil, err
	}
	return sec.Value, nil
}

// storedSecret is the tenant's secret in the key store, "" when none.
func (e *abdmEnv) storedSecret(t *testing.T) string {
	t.Helper()
	s, err := e.Secrets.ClientSecret(context.Background(), e.TenantID)
	if errors.Is(err, bridge.ErrNoCredentials) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// query runs one scalar query in the tenant.
func (e *abdmEnv) query(t *testing.T, q string, dst any, args ...any) {
	t.Helper()
	err := database.InTenant(context.Background(), e.DB.App, e.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), q, args...).Scan(dst)
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *abdmEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	e.query(t, q, &n, args...)
	return n
}

// waitState waits for an exchange to reach want.
func (e *abdmEnv) waitState(t *testing.T, id int64, want bridge.State) *bridge.ExchangeDetail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := e.Bridge.Exchange(context.Background(), e.TenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.State == want {
			return d
		}
		if time.Now().After(deadline) {
			var kinds []string
			for _, ev := range d.Events {
				kinds = append(kinds, fmt.Sprintf("%s(%d %s)", ev.Kind, ev.HTTPStatus, ev.Detail))
			}
			t.Fatalf("exchange %d is %s, want %s; events %v", id, d.State, want, kinds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
