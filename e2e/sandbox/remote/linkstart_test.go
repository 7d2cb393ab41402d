package remote_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
)

// gate stands between the hospital and the gateway: until opened it drops
// every connection, as a gateway whose server is not listening yet would.
type gate struct {
	URL     string
	opened  atomic.Bool
	refused chan struct{}
}

func newGate(t *testing.T, gatewayURL string) *gate {
	t.Helper()
	target, err := url.Parse(gatewayURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{refused: make(chan struct{}, 100)}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.opened.Load() {
			select {
			case g.refused <- struct{}{}:
			default:
			}
			panic(http.ErrAbortHandler) // the connection drops, unanswered
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// waitRefused waits until the gate has dropped n connections.
func (g *gate) waitRefused(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for range n {
		select {
		case <-g.refused:
		case <-deadline:
			t.Fatalf("the hospital did not try the gateway %d times", n)
		}
	}
}

// allLinked reports whether the hospital holds records for addr and has
// linked every one.
func allLinked(h *remote.Hospital, addr string) bool {
	recs := h.Records(addr)
	return len(recs) > 0 && !slices.ContainsFunc(recs, func(r remote.Record) bool { return !r.Linked })
}

func TestLinkAtStartLinksEveryPatientOnceTheGatewayAnswers(t *testing.T) {
	records := fhirDir(t)
	var rc remote.Config
	var hospital atomic.Pointer[remote.Hospital]
	w := cmtest.NewWorld(t, cmtest.WorldConfig{
		Clients: func(url string) []gateway.Client {
			rc = remote.Config{PublicURL: url, RecordsDir: records, OnlyPatients: []string{sunita, meena}, LinkAtStart: true}
			return []gateway.Client{rc.GatewayClient()}
		},
		// The hospital is made once the world serves, so that its first
		// calls find the mux in place; until then its bridge is absent.
		Mount: func(_ *cmtest.World, mux *http.ServeMux) {
			mux.Handle(remote.Prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if h := hospital.Load(); h != nil {
					h.ServeHTTP(w, r)
					return
				}
				http.NotFound(w, r)
			}))
		},
	})
	g := newGate(t, w.URL)
	rc.Patients, rc.GatewayURL = w.CM, g.URL
	h, err := remote.New(rc)
	if err != nil {
		t.Fatalf("remote.New: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	hospital.Store(h)
	e := &env{t: t, w: w, hospital: h}

	// While the gateway does not answer, the hospital keeps trying.
	g.waitRefused(t, 3)
	if links := h.HIPLinks(); len(links) != 0 {
		t.Fatalf("%d links started before the gateway answered", len(links))
	}
	g.opened.Store(true)

	linkedAtCM := func(addr string) {
		t.Helper()
		e.waitRemote(addr+"'s records linked", func() bool { return allLinked(h, addr) })
		links := w.CM.Links(addr, h.HIPID())
		if len(links) != len(h.Records(addr)) {
			t.Fatalf("the consent manager holds %d links of %s at %s, want %d", len(links), addr, h.HIPID(), len(h.Records(addr)))
		}
		for _, l := range links {
			if l.Via != cm.ViaHIP {
				t.Errorf("%s: link %+v not made by the HIP", addr, l)
			}
		}
	}
	for _, addr := range []string{sunita, meena} {
		linkedAtCM(addr)
	}

	// After a reset of the whole world, the records are linked anew.
	w.CM.Reset()
	h.Reset()
	for _, addr := range []string{sunita, meena} {
		linkedAtCM(addr)
	}

	// After a reset of the hospital alone, the consent manager still has
	// the links and refuses them again (ABDM-1056): the hospital takes
	// them as linked.
	h.Reset()
	for _, addr := range []string{sunita, meena} {
		linkedAtCM(addr)
	}
	var outcomes []string
	for _, l := range h.HIPLinks() {
		outcome := l.Status
		if l.Error != nil {
			outcome += " " + l.Error.Code
		}
		outcomes = append(outcomes, outcome)
	}
	if want := []string{"failed ABDM-1056", "failed ABDM-1056"}; !slices.Equal(outcomes, want) {
		t.Errorf("links after the hospital's reset: %q, want %q", outcomes, want)
	}
}
