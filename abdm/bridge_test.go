package abdm_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
)

func TestBridgeServices(t *testing.T) {
	b := setup(t, nil)
	b.gw.Handle("GET", abdm.PathBridgeServices, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"bridge":{"id":"SBX_000123","name":"Sangam","url":"https://sangam.example/bridge/acme","active":true,"blocklisted":false,"entity":{"kind":"x"}},
			"services":[{"id":"IN2810014366","name":"ABC Hospital","types":["HIP"],"endpoints":{"hipEndpoints":[]},"active":true},
			            {"id":"IN2910000123","name":"XYZ Clinic","types":["HIU","HIP"],"endpoints":{},"active":false}]}`)
	})
	got, err := b.client.BridgeServices(t.Context(), testTenant)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bridge.URL != "https://sangam.example/bridge/acme" || !got.Bridge.Active || len(got.Services) != 2 {
		t.Fatalf("got %+v", got)
	}
	if !got.Services[0].HasType(abdm.ServiceTypeHIP) || got.Services[0].HasType(abdm.ServiceTypeHIU) || !got.Services[1].HasType(abdm.ServiceTypeHIU) {
		t.Errorf("service types %v %v", got.Services[0].Types, got.Services[1].Types)
	}
	if r := b.gw.RequestsTo(abdm.PathBridgeServices)[0]; r.Method != http.MethodGet || len(r.Body) != 0 {
		t.Errorf("request %s with body %q, want a bodiless GET", r.Method, r.Body)
	}
}

func TestBridgeServiceByID(t *testing.T) {
	b := setup(t, nil)
	b.gw.Handle("GET", abdm.PathBridgeServiceByID+"IN2810014366", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id":17,"bridgeId":"SBX_000123","serviceId":"IN2810014366","name":"ABC","isHip":true,"isHiu":false,
			"isHealthLocker":false,"isPhr":false,"active":true,"registerTime":1726480000000,"endpoints":{}}`)
	})
	b.gw.Handle("GET", abdm.PathBridgeServiceByID+"UNKNOWN", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // the sandbox's answer for an unknown id
	})
	got, err := b.client.BridgeService(t.Context(), testTenant, "IN2810014366")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "17" || !got.IsHIP || got.IsHIU || got.RegisterTime != "1726480000000" {
		t.Errorf("got %+v", got)
	}
	if _, err := b.client.BridgeService(t.Context(), testTenant, "UNKNOWN"); !errors.Is(err, abdm.ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
}

func TestPatchBridgeURLValidates(t *testing.T) {
	b := setup(t, nil)
	for _, bad := range []string{"", "sangam.example", "ftp://sangam.example"} {
		if err := b.client.PatchBridgeURL(t.Context(), testTenant, bad); err == nil {
			t.Errorf("PatchBridgeURL(%q): want error", bad)
		}
	}
	b.gw.Handle("PATCH", abdm.PathBridgeURL, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	})
	err := b.client.PatchBridgeURL(t.Context(), testTenant, "https://sangam.example/")
	if !errors.Is(err, abdm.ErrBadRequest) {
		t.Errorf("empty 400: err = %v, want ErrBadRequest", err)
	}
	if got := string(b.gw.RequestsTo(abdm.PathBridgeURL)[0].Body); got != `{"url":"https://sangam.example"}` {
		t.Errorf("body %s: trailing slash should be dropped (the gateway appends /api/v3/...)", got)
	}
}
