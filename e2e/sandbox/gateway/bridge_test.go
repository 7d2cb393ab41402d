package gateway_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type bridgeServices struct {
	Bridge struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		URL         string `json:"url"`
		Active      bool   `json:"active"`
		Blocklisted bool   `json:"blocklisted"`
	} `json:"bridge"`
	Services []struct {
		ID        string         `json:"id"`
		Name      string         `json:"name"`
		Types     []string       `json:"types"`
		Endpoints map[string]any `json:"endpoints"`
		Active    bool           `json:"active"`
	} `json:"services"`
}

func (b *bundle) bridgeServices(token string) bridgeServices {
	b.t.Helper()
	status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, bearer(token))
	if status != http.StatusOK {
		b.t.Fatalf("bridge-services: %d %s", status, raw)
	}
	var bs bridgeServices
	mustUnmarshal(b.t, raw, &bs)
	return bs
}

func TestBridgeURLAndServices(t *testing.T) {
	b := setup(t)
	bs := b.bridgeServices(b.token)
	if bs.Bridge.ID != clientA || bs.Bridge.Name != "Acme Hospitals" || bs.Bridge.URL != "" || !bs.Bridge.Active || bs.Bridge.Blocklisted {
		t.Errorf("bridge before PATCH = %+v", bs.Bridge)
	}
	type svc struct {
		ID, Name string
		Types    []string
		Active   bool
	}
	var got []svc
	for _, s := range bs.Services {
		if s.Endpoints == nil {
			t.Errorf("service %s has no endpoints object", s.ID)
		}
		got = append(got, svc{s.ID, s.Name, s.Types, s.Active})
	}
	want := []svc{
		{hipA, "Acme OPD", []string{"HIP"}, true},
		{hiuA, "Acme Records", []string{"HIU"}, true},
		{inactiveA, "Acme Old", []string{"HIP"}, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}

	for _, u := range []string{"https://first.example/bridge/acme", "https://second.example/bridge/acme/"} {
		status, raw := b.call(http.MethodPatch, "/gateway/v3/bridge/url", map[string]string{"url": u})
		if status != http.StatusAccepted || len(raw) != 0 {
			t.Fatalf("PATCH %s: %d %s; want 202 with no body", u, status, raw)
		}
	}
	// Last writer wins; the trailing slash is not kept.
	if got := b.bridgeServices(b.token).Bridge.URL; got != "https://second.example/bridge/acme" {
		t.Errorf("bridge url %q; want the second PATCH", got)
	}
	// Client B's bridge is its own.
	tokenB := b.session(clientB, secretB)
	bsB := b.bridgeServices(tokenB)
	if bsB.Bridge.URL != "" || len(bsB.Services) != 1 || bsB.Services[0].ID != hipB {
		t.Errorf("client B sees %+v", bsB)
	}

	for _, bad := range []any{map[string]string{"url": "not a url"}, map[string]string{"url": "ftp://x.example"}, map[string]int{"url": 1}} {
		status, raw := b.call(http.MethodPatch, "/gateway/v3/bridge/url", bad)
		if code, _ := nestedError(t, raw); status != 400 || code != "ABDM-1006: " {
			t.Errorf("PATCH %v: %d %s; want 400 ABDM-1006", bad, status, raw)
		}
	}

	// Reset restores the configured URL (none).
	b.control(http.MethodPost, "/reset", nil)
	if got := b.bridgeServices(b.token).Bridge.URL; got != "" {
		t.Errorf("bridge url after reset %q; want empty", got)
	}
}

func TestServiceByID(t *testing.T) {
	b := setup(t)
	status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-service/serviceId/"+hipB, nil)
	if status != 200 {
		t.Fatalf("status %d, body %s", status, raw)
	}
	var s struct {
		ID        int            `json:"id"`
		BridgeID  string         `json:"bridgeId"`
		ServiceID string         `json:"serviceId"`
		IsHip     bool           `json:"isHip"`
		IsHiu     bool           `json:"isHiu"`
		IsPhr     bool           `json:"isPhr"`
		Active    bool           `json:"active"`
		Endpoints map[string]any `json:"endpoints"`
	}
	mustUnmarshal(t, raw, &s)
	if s.ID == 0 || s.BridgeID != clientB || s.ServiceID != hipB || !s.IsHip || !s.IsHiu || s.IsPhr || !s.Active || s.Endpoints == nil {
		t.Errorf("service = %+v", s)
	}
	status, raw = b.call(http.MethodGet, "/gateway/v3/bridge-service/serviceId/UNKNOWN", nil)
	if status != 200 || len(raw) != 0 {
		t.Errorf("unknown service: %d %q; want 200 with an empty body, as observed", status, raw)
	}
}
