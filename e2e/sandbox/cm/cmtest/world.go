package cmtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/e2e/sandbox/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Clients and services of a World.
const (
	SangamClient = "SBX_SANGAM"
	SangamHIP    = "IN_SANGAM_HIP"
	SangamHIU    = "IN_SANGAM_HIU"
	OtherClient  = "SBX_OTHER"
	OtherHIP     = "IN_OTHER_HIP"
	OtherHIU     = "IN_OTHER_HIU"
)

// keys are generated once per test binary: RSA key generation is the
// slow part of starting a gateway.
var keys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return a, b
})

// Keys returns the gateway signing key and the link-token key every World
// of this test binary uses.
func Keys() (signing, link *rsa.PrivateKey) { return keys() }

// Clock is a settable clock: real time plus an offset.
type Clock struct {
	mu sync.Mutex
	d  time.Duration
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d += d
}

// WorldConfig adds to a World.
type WorldConfig struct {
	// Clients returns further gateway clients (e.g. a remote hospital),
	// given the World's URL.
	Clients func(url string) []gateway.Client
	// CM adjusts the consent manager's configuration.
	CM func(*cm.Config)
	// Mount adds handlers once the consent manager exists.
	Mount func(w *World, mux *http.ServeMux)
}

// World is a loopback server with the simulated gateway behind the
// consent manager's Wrap, its control API at /_sandbox/cm/, the ABHA
// sandbox as patient register, and two fake bridges: "Sangam" (HIP and
// HIU) and another hospital.
type World struct {
	URL     string
	Gateway *gateway.Gateway
	CM      *cm.CM
	ABHA    *abha.Service
	Sangam  *Bridge
	Other   *Bridge
	// Clock is the consent manager's clock (the gateway keeps real time,
	// so TIMESTAMP checks still pass when it is advanced).
	Clock *Clock

	t testing.TB
}

// NewWorld starts a World; everything stops at the end of the test.
func NewWorld(t testing.TB, cfg WorldConfig) *World {
	t.Helper()
	w := &World{t: t, Clock: &Clock{}}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	w.Sangam = NewBridge(t, SangamClient, "sangam-secret")
	w.Other = NewBridge(t, OtherClient, "other-secret")
	signing, link := keys()
	clients := []gateway.Client{
		{ID: SangamClient, Secret: "sangam-secret", Name: "Sangam", BridgeURL: w.Sangam.URL, Services: []gateway.Service{
			{ID: SangamHIP, Name: "Sangam OPD", Types: []string{gateway.TypeHIP}},
			{ID: SangamHIU, Name: "Sangam Records", Types: []string{gateway.TypeHIU}},
		}},
		{ID: OtherClient, Secret: "other-secret", Name: "Other", BridgeURL: w.Other.URL, Services: []gateway.Service{
			{ID: OtherHIP, Name: "Other Clinic", Types: []string{gateway.TypeHIP}},
			{ID: OtherHIU, Name: "Other Records", Types: []string{gateway.TypeHIU}},
		}},
	}
	if cfg.Clients != nil {
		clients = append(clients, cfg.Clients(srv.URL)...)
	}
	gw, err := gateway.New(gateway.Config{PublicURL: srv.URL, Clients: clients, SigningKey: signing, LinkTokenKey: link})
	if err != nil {
		t.Fatalf("cmtest: gateway.New: %v", err)
	}
	t.Cleanup(func() { gw.Close() })
	svc, err := abha.New(abha.Config{VerifyToken: gw.VerifySessionToken})
	if err != nil {
		t.Fatalf("cmtest: abha.New: %v", err)
	}
	cc := cm.Config{Gateway: gw, LinkTokenKey: link, ABHA: svc, Now: w.Clock.Now, SweepInterval: -1}
	if cfg.CM != nil {
		cfg.CM(&cc)
	}
	c, err := cm.New(cc)
	if err != nil {
		t.Fatalf("cmtest: cm.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	w.Gateway, w.CM, w.ABHA = gw, c, svc
	mux := http.NewServeMux()
	mux.Handle("/", c.Wrap(gw))
	mux.Handle("/_sandbox/cm/", c)
	if cfg.Mount != nil {
		cfg.Mount(w, mux)
	}
	h = mux
	w.Sangam.Connect(srv.URL)
	w.Other.Connect(srv.URL)
	return w
}

// WaitFor waits until cond holds, re-checking on every consent-manager
// change, and fails the test after 10 s.
func (w *World) WaitFor(what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.CM.Wait(ctx, cond); err != nil {
		w.t.Fatalf("cmtest: waiting for %s: %v", what, err)
	}
}
