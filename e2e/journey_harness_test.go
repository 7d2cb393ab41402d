package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// journey is the world of `make run` in one test process: the sandbox
// (gateway with its consent manager, PHR app, "another hospital" serving
// the public example bundles, staff identity provider) and Sangam wired as
// `sangam serve` wires its HIU side, over the demo group with its vendor
// databases loaded and its patients indexed as `sangam demo` does.
type journey struct {
	// URL is Sangam's base URL; SandboxURL the sandbox's.
	URL        string
	SandboxURL string
	Sandbox    *sandbox.Sandbox
	DB         *databasetest.DB
	Tenant     string
	Group      demo.Group
	Patients   *patients.Index
}

// journeyOIDCSecret is Sangam's client secret at the sandbox provider.
const journeyOIDCSecret = "sangam-journey-secret"

// journeyGroup is a copy of the demo group in a tenant of its own, so
// that what the journey adds (indexed patients, consents) stays out of the
// demo tenant other tests of this package sign in to. HIP ids are unique
// across tenants, so they get a suffix; HFR ids and people are the demo's.
func journeyGroup() demo.Group {
	g := demo.KaveriHealth()
	g.Slug, g.Name = "kaveri-journey", g.Name+" (journey copy)"
	for i := range g.Facilities {
		g.Facilities[i].HIPID += "-J"
	}
	return g
}

// startJourney brings the world up and takes it down when t ends.
// recordsDir is the folder of FHIR bundles the remote hospital serves.
func startJourney(t *testing.T, recordsDir string) *journey {
	t.Helper()
	ctx := context.Background()
	logger := journeyLogger()
	db := databasetest.New(t)
	group := journeyGroup()
	res, err := demo.Load(ctx, db.Owner, group)
	if err != nil {
		t.Fatalf("loading the demo group: %v", err)
	}
	if _, err := demo.LoadSources(ctx, db.Owner, group, "DATABASE_URL"); err != nil {
		t.Fatalf("loading the demo source systems: %v", err)
	}
	reg := openDemoSources(t, db)
	index := patients.New(db.App, patients.Config{})
	if _, err := sources.IndexAll(ctx, reg, res.TenantID, index); err != nil {
		t.Fatalf("indexing the demo patients: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sangamURL := "http://" + ln.Addr().String()

	// The sandbox, as `sangam sandbox` builds it: the tenant's gateway
	// client owns an HIP and HIU service per facility, the demo's ABHA
	// holders are the consent manager's patients, and City Hospital
	// serves records for them, linked by itself once the gateway answers.
	// Here the bridge URL is set from the start instead of registered by
	// serve. Until the sandbox is built its server answers 503, as a
	// gateway that is starting; City Hospital tries again.
	var handler atomic.Pointer[sandbox.Sandbox]
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sb := handler.Load()
		if sb == nil {
			http.Error(w, "the sandbox is starting", http.StatusServiceUnavailable)
			return
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(sbSrv.Close)
	idp, err := identity.New(identity.Config{
		Issuer: sbSrv.URL + sandbox.IdentityPath,
		Clients: []identity.Client{{
			ID: "sangam", Secret: journeyOIDCSecret,
			RedirectURIs:           []string{sangamURL + "/auth/callback"},
			PostLogoutRedirectURIs: []string{sangamURL + "/signed-out"},
		}},
		Users: identity.DemoUsers(group.HFRIDs()),
	})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	clientID, secret := "kaveri-journey", "kaveri-journey-secret"
	services := make([]gateway.Service, 0, len(group.Facilities))
	for _, f := range group.Facilities {
		services = append(services, gateway.Service{ID: f.HIPID, Name: f.Name, Types: []string{gateway.TypeHIP, gateway.TypeHIU}})
	}
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: sbSrv.URL,
		Logger:    logger.With("side", "sandbox"),
		Gateway: gateway.Config{Clients: []gateway.Client{{
			ID: clientID, Secret: secret, Name: group.Name, BridgeURL: sangamURL + "/bridge/" + group.Slug, Services: services,
		}}},
		Identity: idp,
		CM:       cm.Config{Patients: demoABHAPatients()},
		Remote:   &remote.Config{RecordsDir: recordsDir, LinkAtStart: true},
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	handler.Store(sb)

	// Sangam's ABDM side: key store, the tenant's stored credentials, the
	// gateway client, the callback verifier, the bridge and the HIU.
	// One master key for every run: a rerun (-count) reuses the tenant,
	// whose data key is sealed under it.
	mk, err := keys.NewMasterKeys(bytes.Repeat([]byte{0x4a}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	keyStore := keys.NewPostgresStore(db.App, mk)
	creds := bridge.NewCredentials(db.App, journeySecrets{keyStore})
	gw, err := abdm.New(abdm.Config{
		GatewayURL: sbSrv.URL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: gw, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	const queue = "journey_bridge"
	br, err := bridge.New(bridge.Config{
		Pool: db.App, Gateway: gw, Verifier: verifier, Credentials: creds, PublicURL: sangamURL,
		Logger: logger, Queue: queue, RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := br.SetCredentials(ctx, res.TenantID, clientID, []byte(secret)); err != nil {
		t.Fatalf("storing the tenant's gateway credentials: %v", err)
	}
	hiuService, err := hiu.New(hiu.Config{
		Pool: db.App, Bridge: br, Keys: keyStore, PublicURL: sangamURL, Queue: queue, Logger: logger,
		PollBase: 200 * time.Millisecond, PollMax: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := hiuService.RegisterProcessors(br); err != nil {
		t.Fatal(err)
	}
	startJobs(t, db, queue, br, hiuService, logger)

	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: logger, Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: sbSrv.URL + sandbox.IdentityPath, ClientID: "sangam", ClientSecret: journeyOIDCSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: group.Slug,
		Bridge:        br,
		ABDM:          br,
		DataPush:      dataPush{hiuService},
		HIU:           hiuService,
		Sources:       reg,
		BodyLimit:     24 << 20,
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
	return &journey{
		URL: sangamURL, SandboxURL: sbSrv.URL, Sandbox: sb, DB: db, Tenant: res.TenantID, Group: group, Patients: index,
	}
}

// openDemoSources is the registry of the demo vendors' systems, read
// through their mapping files as `sangam serve` reads them.
func openDemoSources(t *testing.T, db *databasetest.DB) *sources.Registry {
	t.Helper()
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{
		Mappings: mappings.FS,
		LookupEnvFunc: func(k string) (string, bool) {
			if k == "DATABASE_URL" {
				return db.URL, true
			}
			return "", false
		},
	})
	t.Cleanup(opener.Close)
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	return reg
}

// startJobs runs the bridge's and the HIU's workers on one queue that is
// polled often, so that each hop of a callback chain is quick.
func startJobs(t *testing.T, db *databasetest.DB, queue string, br *bridge.Bridge, svc *hiu.Service, logger *slog.Logger) {
	t.Helper()
	workers := river.NewWorkers()
	bridgePeriodic, err := br.RegisterJobs(workers)
	if err != nil {
		t.Fatal(err)
	}
	hiuPeriodic, err := svc.RegisterJobs(workers)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(db.App), &river.Config{
		Queues:       map[string]river.QueueConfig{queue: {MaxWorkers: 4}},
		Workers:      workers,
		PeriodicJobs: append(bridgePeriodic, hiuPeriodic...),
		// River's defaults add up to a second to every hop.
		FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: logger,
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
}

// demoABHAPatients lists the demo people who have an ABHA as the consent
// manager's patients, as `sangam sandbox` does (cmd/sangam/sandbox.go).
func demoABHAPatients() []cm.Patient {
	var out []cm.Patient
	for _, p := range demo.People() {
		if p.ABHAAddress == "" {
			continue
		}
		out = append(out, cm.Patient{
			ABHAAddress: p.ABHAAddress, ABHANumber: p.ABHANumber, Name: p.Name, Gender: p.Gender,
			DayOfBirth: p.BirthDate.Day(), MonthOfBirth: int(p.BirthDate.Month()), YearOfBirth: p.BirthDate.Year(),
			Mobile: p.Mobile, Address: p.Address, Pincode: p.PinCode,
		})
	}
	return out
}

// dataPush mounts the HIU's data push route, as serve does.
type dataPush struct{ svc *hiu.Service }

func (d dataPush) Register(r fiber.Router) { d.svc.RegisterDataPush(r) }

// journeySecrets keeps the tenant's gateway client secret in the key
// store, as serve and onboard do.
type journeySecrets struct{ store keys.Store }

func journeySecretRef(tenant string) keys.Ref {
	return keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: "gateway"}
}

func (s journeySecrets) PutClientSecret(ctx context.Context, tenant string, secret []byte) error {
	return s.store.Put(ctx, keys.Secret{Ref: journeySecretRef(tenant), Value: secret})
}

func (s journeySecrets) ClientSecret(ctx context.Context, tenant string) ([]byte, error) {
	sec, err := s.store.Get(ctx, journeySecretRef(tenant))
	if errors.Is(err, keys.ErrNotFound) {
		return nil, bridge.ErrNoCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("reading the gateway secret: %w", err)
	}
	return sec.Value, nil
}

// journeyLogger discards, unless E2E_TEST_LOG is set: then it shows what the
// sandbox and Sangam did.
func journeyLogger() *slog.Logger {
	if os.Getenv("E2E_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
