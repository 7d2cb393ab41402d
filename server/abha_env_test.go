package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
)

// abhaEnv is Sangam with its ABHA client pointed at the sandbox ABHA
// service, as `sangam serve` wires it, with a tenant of its own.
type abhaEnv struct {
	*servertest.Env
	// Sandbox is the sandbox's base URL (gateway, ABHA service, control API).
	Sandbox string
}

func startABHA(t *testing.T, shareURL string) *abhaEnv {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	slug := "abha" + randomHex(4)
	group := demo.KaveriHealth()
	group.Slug, group.Name = slug, "ABHA test group "+slug
	for i := range group.Facilities {
		group.Facilities[i].HIPID = "ABHA" + randomHex(3) + "-" + group.Facilities[i].HIPID
	}
	res, err := demo.Load(ctx, db.Owner, group)
	if err != nil {
		t.Fatalf("loading the test group: %v", err)
	}

	var handler http.Handler
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(sbSrv.Close)
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: sbSrv.URL,
		Gateway: gateway.Config{Clients: []gateway.Client{{ID: "SBX_ABHA", Secret: "s", Services: []gateway.Service{
			{ID: "HIP_ABHA", Name: "HIP", Types: []string{gateway.TypeHIP}},
		}}}},
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	handler = sb

	client, err := abdm.New(abdm.Config{
		GatewayURL: sbSrv.URL, ABHAURL: sbSrv.URL + sandbox.ABHAPath, CMID: abdm.CMSandbox,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: testLogger(),
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: "SBX_ABHA", ClientSecret: "s"}, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	abhaClient, err := abha.New(abha.Config{ABDM: client, AddressDomain: "sbx", Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sangamURL := "http://" + ln.Addr().String()
	issuer := startIdentity(t, sangamURL, identity.DemoUsers(group.HFRIDs()))
	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: testLogger(), Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:       sangamURL,
		OIDC:            server.OIDCConfig{Issuer: issuer, ClientID: servertest.ClientID, ClientSecret: servertest.ClientSecret},
		SessionIdle:     30 * time.Minute,
		SessionMax:      12 * time.Hour,
		DefaultTenant:   slug,
		ABHA:            abhaClient,
		ShareProfileURL: shareURL,
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
	return &abhaEnv{
		Env:     &servertest.Env{URL: sangamURL, Issuer: issuer, Server: srv, DB: db, TenantID: res.TenantID},
		Sandbox: sbSrv.URL,
	}
}

// signInAs signs a fresh browser-like client in and returns it with its
// session's CSRF token.
func (e *abhaEnv) signInAs(t *testing.T, username string) (*http.Client, string) {
	t.Helper()
	client := servertest.NewClient(t)
	res := e.SignIn(t, client, username, identity.DemoPassword)
	if res.Status != http.StatusOK {
		t.Fatalf("signing in as %s ended with %d at %s", username, res.Status, res.URL)
	}
	return client, csrfToken(t, res.Body)
}

// newestOTP reads the newest OTP sent to a mobile from the sandbox's
// control API, the only place OTPs are visible.
func (e *abhaEnv) newestOTP(t *testing.T, mobile string) string {
	t.Helper()
	resp, err := http.Get(e.Sandbox + "/_sandbox/abha/otps?" + url.Values{"mobile": {mobile}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OTPs []struct {
			OTP string `json:"otp"`
		} `json:"otps"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding the sandbox's OTPs: %v", err)
	}
	if len(out.OTPs) == 0 {
		t.Fatalf("no OTP was sent to %s", mobile)
	}
	return out.OTPs[0].OTP
}

// newestOTPCount is how many OTPs the sandbox sent to a mobile.
func (e *abhaEnv) newestOTPCount(t *testing.T, mobile string) int {
	t.Helper()
	resp, err := http.Get(e.Sandbox + "/_sandbox/abha/otps?" + url.Values{"mobile": {mobile}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OTPs []json.RawMessage `json:"otps"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding the sandbox's OTPs: %v", err)
	}
	return len(out.OTPs)
}

func wrongOTP(otp string) string {
	if otp == "000000" {
		return "111111"
	}
	return "000000"
}
