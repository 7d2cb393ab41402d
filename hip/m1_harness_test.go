package hip_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// TestMain (databasetest.Main) is in m2_main_test.go: a test binary has
// one, and the M2 tests of this package define it.

func m1Logger() *slog.Logger {
	if os.Getenv("HIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func m1Suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// m1Secrets is an in-memory bridge.ClientSecrets (client secrets are not
// what these tests are about).
type m1Secrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *m1Secrets) PutClientSecret(_ context.Context, tenant string, secret []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[tenant] = bytes.Clone(secret)
	return nil
}

func (s *m1Secrets) ClientSecret(_ context.Context, tenant string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[tenant]
	if !ok {
		return nil, bridge.ErrNoCredentials
	}
	return bytes.Clone(v), nil
}

// m1Clock is the Service's settable clock.
type m1Clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *m1Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *m1Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d += d
}

// m1World is Sangam's real bridge, River, the master index, the key store
// and the hip Service, against the sandbox gateway and consent manager on
// loopback. The sandbox knows the facility as an HIP under Sangam's client
// and calls Sangam's bridge URL.
type m1World struct {
	t        *testing.T
	db       *databasetest.DB
	tenant   string
	facility string
	hipID    string
	sandbox  *cmtest.World
	bridge   *bridge.Bridge
	keys     keys.Store
	patients *patients.Index
	svc      *hip.Service
	clock    *m1Clock
}

// m1Patients are the people the sandbox consent manager knows.
var m1Patients = []cm.Patient{
	{ABHAAddress: "asha.rao@sbx", ABHANumber: "91-1111-2222-3333", Name: "Asha Rao", Gender: "F",
		DayOfBirth: 14, MonthOfBirth: 3, YearOfBirth: 1988, Mobile: "9876500001", Pincode: "560001", State: "Karnataka"},
	{ABHAAddress: "vikram.s@sbx", ABHANumber: "91-4444-5555-6666", Name: "Vikram Singh", Gender: "M",
		YearOfBirth: 1975, Mobile: "9876500002"},
	{ABHAAddress: "meera.k@sbx", Name: "Meera Krishnan", Gender: "F", DayOfBirth: 2, MonthOfBirth: 11,
		YearOfBirth: 1999, Mobile: "9876500003"},
}

func newM1World(t *testing.T, cmConfig func(*cm.Config)) *m1World {
	t.Helper()
	ctx := context.Background()
	w := &m1World{t: t, db: databasetest.New(t), clock: &m1Clock{}}
	w.tenant = w.db.Tenant(t, "Hip "+m1Suffix())
	var slug string
	if err := w.db.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", w.tenant).Scan(&slug); err != nil {
		t.Fatal(err)
	}
	w.hipID = "IN-HIP-" + m1Suffix()
	err := database.InTenant(ctx, w.db.App, w.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, $2, $2, 'City Clinic')
			RETURNING id::text`, w.tenant, w.hipID).Scan(&w.facility)
	})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + ln.Addr().String()
	clientID, secret := "SBX_HIP_"+m1Suffix(), "hip-secret"
	w.sandbox = cmtest.NewWorld(t, cmtest.WorldConfig{
		Clients: func(string) []gateway.Client {
			return []gateway.Client{{
				ID: clientID, Secret: secret, Name: "Sangam under test", BridgeURL: publicURL + "/bridge/" + slug,
				Services: []gateway.Service{{ID: w.hipID, Name: "City Clinic", Types: []string{gateway.TypeHIP}}},
			}}
		},
		CM: func(c *cm.Config) {
			c.Patients = m1Patients
			if cmConfig != nil {
				cmConfig(c)
			}
		},
	})

	secrets := &m1Secrets{}
	creds := bridge.NewCredentials(w.db.App, secrets)
	client, err := abdm.New(abdm.Config{
		GatewayURL: w.sandbox.URL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: m1Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, Logger: m1Logger()})
	if err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	ring, err := keys.NewMasterKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	w.keys = keys.NewPostgresStore(w.db.App, ring)
	queue := "hip_test_" + strings.ToLower(m1Suffix())
	w.bridge, err = bridge.New(bridge.Config{
		Pool: w.db.App, Gateway: client, Verifier: verifier, Credentials: creds, PublicURL: publicURL,
		LinkTokens: hip.LinkTokens{Keys: w.keys}, Logger: m1Logger(), Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.bridge.SetCredentials(ctx, w.tenant, clientID, []byte(secret)); err != nil {
		t.Fatal(err)
	}
	w.patients = patients.New(w.db.App, patients.Config{})
	w.svc, err = hip.New(hip.Config{
		Pool: w.db.App, Bridge: w.bridge, Patients: w.patients, Keys: w.keys, Now: w.clock.Now, Logger: m1Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Register(w.bridge); err != nil {
		t.Fatal(err)
	}

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	w.bridge.Register(app)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	workers := river.NewWorkers()
	if _, err := w.bridge.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(w.db.App), &river.Config{
		Queues:        map[string]river.QueueConfig{queue: {MaxWorkers: 10}},
		Workers:       workers,
		FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: m1Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx)
	})
	return w
}

// share scans the counter's QR as the patient and waits for the token.
func (w *m1World) share(address, counter string) cm.Share {
	w.t.Helper()
	s, err := w.sandbox.CM.Share(context.Background(), address, w.hipID, counter)
	if err != nil {
		w.t.Fatalf("sharing %s: %v", address, err)
	}
	var got cm.Share
	w.sandbox.WaitFor("on-share of "+address, func() bool {
		got, _ = w.sandbox.CM.ShareByRequestID(s.RequestID)
		return got.Status != cm.ShareSent
	})
	return got
}

// eventually polls cond until it holds, failing after 15 s.
func (w *m1World) eventually(what string, cond func() (bool, error)) {
	w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			w.t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// gatewayCalls counts the calls Sangam made to a gateway path.
func (w *m1World) gatewayCalls(path string) int {
	n := 0
	for _, m := range w.sandbox.Gateway.Messages(gateway.Filter{Path: path}) {
		if m.HIPID == w.hipID {
			n++
		}
	}
	return n
}

// settle waits until the bridge has no queued or in-flight exchange of the
// tenant, so that "nothing more was sent" can be asserted.
func (w *m1World) settle() {
	w.t.Helper()
	w.eventually("the bridge to settle", func() (bool, error) {
		var n int
		err := w.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM bridge_exchanges
			WHERE tenant_id = $1 AND state IN ('acknowledged', 'queued')`,
			w.tenant).Scan(&n)
		return n == 0, err
	})
}

// linkToken reads the stored link token of an address.
func (w *m1World) linkToken(address string) (keys.Secret, error) {
	return w.keys.Get(context.Background(), keys.Ref{Tenant: w.tenant, Facility: w.facility, Purpose: keys.PurposeLinkToken, Name: address})
}

// source adds a source system of the facility.
func (w *m1World) source(code, kind string) string {
	w.t.Helper()
	var id string
	err := database.InTenant(context.Background(), w.db.App, w.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO source_systems (tenant_id, facility_id, code, name, kind, vendor)
			VALUES ($1, $2, $3, $3, $4, 'test') RETURNING id::text`, w.tenant, w.facility, code, kind).Scan(&id)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// careContext registers a care context as a source event would, running
// the hook in the registering transaction.
func (w *m1World) careContext(sourceID, code, patientLocalID, localID string, hi sources.HIType) sources.Registered {
	w.t.Helper()
	var reg sources.Registered
	ctx := context.Background()
	err := database.InTenant(ctx, w.db.App, w.tenant, func(tx pgx.Tx) error {
		c := sources.CareContext{
			Reference: fmt.Sprintf("%s:visit:%s", code, localID), Type: "visit", LocalID: localID, PatientID: patientLocalID,
			Display: "Visit " + localID, HIType: hi, Date: time.Now(),
		}
		var created bool
		var err error
		reg, created, err = sources.UpsertCareContext(ctx, tx, sourceID, c, sources.FoundViaEvent)
		if err != nil || !created {
			return fmt.Errorf("registering %s (created %v): %w", c.Reference, created, err)
		}
		return w.svc.OnNewCareContext(ctx, tx, w.tenant, reg)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return reg
}

func (w *m1World) linkState(reference string) hip.LinkState {
	w.t.Helper()
	ls, err := w.svc.LinkStates(context.Background(), w.tenant, w.facility, reference)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(ls) != 1 {
		w.t.Fatalf("link states of %s: %+v", reference, ls)
	}
	return ls[0]
}
