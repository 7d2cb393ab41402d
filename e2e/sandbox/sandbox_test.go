package sandbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/phr"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
)

// start serves a sandbox on loopback. gatewayPath, when not empty, mounts
// the gateway there instead of at the root.
func start(t *testing.T, gatewayPath string, identity http.Handler) (*sandbox.Sandbox, string) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	gc := gateway.Config{Clients: []gateway.Client{{ID: "SBX_1", Secret: "s", Services: []gateway.Service{
		{ID: "HIP_1", Name: "HIP one", Types: []string{gateway.TypeHIP}},
	}}}}
	if gatewayPath != "" {
		gc.PublicURL = srv.URL + gatewayPath
	}
	sb, err := sandbox.New(sandbox.Config{PublicURL: srv.URL, Gateway: gc, Identity: identity})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	h = sb
	return sb, srv.URL
}

func post(t *testing.T, url string, body any, hdr map[string]string) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(body)
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func sessionHeaders() map[string]string {
	return map[string]string{
		"Content-Type": "application/json",
		"REQUEST-ID":   uuid.NewString(),
		"TIMESTAMP":    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"X-CM-ID":      "sbx",
	}
}

var sessionBody = map[string]string{"clientId": "SBX_1", "clientSecret": "s", "grantType": "client_credentials"}

func TestSandboxMountsTheGatewayAtTheRoot(t *testing.T) {
	var identityPaths []string
	identity := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		identityPaths = append(identityPaths, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	sb, base := start(t, "", identity)

	if status, raw := post(t, base+"/gateway/v3/sessions", sessionBody, sessionHeaders()); status != http.StatusAccepted {
		t.Fatalf("sessions through the sandbox: %d %s", status, raw)
	}
	if got := sb.Gateway.URL(); got != base {
		t.Errorf("gateway URL %q; want the sandbox URL %q", got, base)
	}

	resp, err := http.Get(base + "/oidc/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || len(identityPaths) != 1 || identityPaths[0] != "/oidc/.well-known/openid-configuration" {
		t.Errorf("/oidc: status %d, identity saw %v; want the full path handed to the identity provider", resp.StatusCode, identityPaths)
	}

	// /_sandbox/reset resets the gateway.
	if n := len(sb.Gateway.Messages(gateway.Filter{})); n != 1 {
		t.Fatalf("gateway recorded %d messages; want 1", n)
	}
	if status, raw := post(t, base+"/_sandbox/reset", nil, nil); status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", status, raw)
	}
	if n := len(sb.Gateway.Messages(gateway.Filter{})); n != 0 {
		t.Errorf("gateway kept %d messages after reset", n)
	}
	// The gateway's control API is reachable through the sandbox.
	resp, err = http.Get(base + "/_sandbox/gateway/clients")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"SBX_1"`) || strings.Contains(string(b), `"s"`) {
		t.Errorf("control clients: %d %s", resp.StatusCode, b)
	}
}

func TestSandboxCanMountTheGatewayLikeTheRealHost(t *testing.T) {
	sb, base := start(t, "/api/hiecm", nil)
	if status, raw := post(t, base+"/api/hiecm/gateway/v3/sessions", sessionBody, sessionHeaders()); status != http.StatusAccepted {
		t.Fatalf("sessions under /api/hiecm: %d %s", status, raw)
	}
	if status, _ := post(t, base+"/gateway/v3/sessions", sessionBody, sessionHeaders()); status != http.StatusNotFound {
		t.Errorf("sessions at the root with the gateway under /api/hiecm: status %d; want 404", status)
	}
	resp, err := http.Get(base + "/api/hiecm/_sandbox/gateway/faults")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("control API under the mount: status %d", resp.StatusCode)
	}
	if got := sb.Gateway.URL(); got != base+"/api/hiecm" {
		t.Errorf("gateway URL %q", got)
	}
	// No identity configured: /oidc is not served.
	resp, err = http.Get(base + "/oidc/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/oidc without an identity provider: status %d; want 404", resp.StatusCode)
	}
}

func TestSandboxConfigErrors(t *testing.T) {
	if _, err := sandbox.New(sandbox.Config{}); err == nil {
		t.Error("New without PublicURL succeeded")
	}
	if _, err := sandbox.New(sandbox.Config{PublicURL: "http://127.0.0.1:1"}); err == nil {
		t.Error("New without gateway clients succeeded")
	}
}

// The ABHA service sits under /abha/api, takes the gateway's session
// tokens, and is reset with the rest.
func TestSandboxMountsTheABHAService(t *testing.T) {
	for _, gatewayPath := range []string{"", "/api/hiecm"} {
		sb, base := start(t, gatewayPath, nil)
		status, raw := post(t, base+gatewayPath+"/gateway/v3/sessions", sessionBody, sessionHeaders())
		if status != http.StatusAccepted {
			t.Fatalf("sessions: %d %s", status, raw)
		}
		var session struct {
			AccessToken string `json:"accessToken"`
		}
		if err := json.Unmarshal(raw, &session); err != nil {
			t.Fatal(err)
		}

		get := func(token string) int {
			t.Helper()
			r, _ := http.NewRequest(http.MethodGet, base+sandbox.ABHAPath+"/v3/profile/public/certificate", nil)
			for k, v := range sessionHeaders() {
				r.Header.Set(k, v)
			}
			r.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := get(session.AccessToken); s != http.StatusOK {
			t.Errorf("gateway %q: certificate with a gateway session token: %d", gatewayPath, s)
		}
		// An OTP sent through the mounted service is gone after the
		// sandbox-wide reset.
		hdr := sessionHeaders()
		hdr["Authorization"] = "Bearer " + session.AccessToken
		if status, raw := post(t, base+sandbox.ABHAPath+"/v3/profile/login/request/otp", map[string]any{
			"scope": []string{"abha-login", "aadhaar-verify"}, "loginHint": "aadhaar", "otpSystem": "aadhaar",
			"loginId": encryptWithCertificate(t, base, session.AccessToken, "999900000037"),
		}, hdr); status != http.StatusOK {
			t.Fatalf("gateway %q: login OTP: %d %s", gatewayPath, status, raw)
		}
		if n := len(sb.ABHA.OTPs(abha.OTPFilter{})); n != 1 {
			t.Errorf("gateway %q: %d OTPs sent; want 1", gatewayPath, n)
		}
		if status, raw := post(t, base+"/_sandbox/reset", nil, nil); status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", status, raw)
		}
		if n := len(sb.ABHA.OTPs(abha.OTPFilter{})); n != 0 {
			t.Errorf("gateway %q: %d OTPs after reset; want 0", gatewayPath, n)
		}
		if s := get("forged"); s != http.StatusUnauthorized {
			t.Errorf("gateway %q: certificate with a forged token: %d", gatewayPath, s)
		}
		if err := sb.Gateway.RevokeTokens("SBX_1"); err != nil {
			t.Fatal(err)
		}
		if s := get(session.AccessToken); s != http.StatusUnauthorized {
			t.Errorf("gateway %q: certificate with a revoked token: %d", gatewayPath, s)
		}

		resp, err := http.Get(base + "/_sandbox/abha/accounts")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"abha_number":"91-0000-0000-0037"`) {
			t.Errorf("gateway %q: ABHA control API: %d %s", gatewayPath, resp.StatusCode, b)
		}
		resp, err = http.Get(base + "/_sandbox/abha/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("gateway %q: ABHA control page: %d %s", gatewayPath, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// encryptWithCertificate encrypts v the way ABHA clients must:
// RSA-OAEP-SHA1 under the key the service publishes.
func encryptWithCertificate(t *testing.T, base, token, v string) string {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, base+sandbox.ABHAPath+"/v3/profile/public/certificate", nil)
	for k, v := range sessionHeaders() {
		r.Header.Set(k, v)
	}
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cert struct {
		PublicKey string `json:"publicKey"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cert); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub.(*rsa.PublicKey), []byte(v), nil)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

type tokenString string

func (s tokenString) Token(context.Context) (string, error) { return string(s), nil }

// The NHCX switch sits under /hcx and its registry under the real
// sandbox's participant-service path; both take the gateway's session
// tokens, and /_sandbox/reset clears the switch too.
func TestSandboxMountsTheNHCXSwitch(t *testing.T) {
	sb, base := start(t, "", nil)
	status, raw := post(t, base+"/gateway/v3/sessions", sessionBody, sessionHeaders())
	if status != http.StatusAccepted {
		t.Fatalf("sessions: %d %s", status, raw)
	}
	var session struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(raw, &session); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A provider registered through the control API, with an endpoint
	// that acknowledges what it gets.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "p"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rcv, _ := hcx.ParseBody(body)
		h, _, _ := hcx.ReadHeaders(rcv.Payload)
		got <- r.URL.Path
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(hcx.NewReceipt(h, "coverageeligibility", time.Now()))
	}))
	t.Cleanup(endpoint.Close)
	reg, _ := json.Marshal(map[string]string{"participant_name": "Provider", "endpoint_url": endpoint.URL,
		"encryption_cert": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))})
	req, _ := http.NewRequest(http.MethodPut, base+"/_sandbox/nhcx/participants/1000009999@sbx", bytes.NewReader(reg))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registering the provider: %d", resp.StatusCode)
	}

	registry, err := hcx.NewRegistry(hcx.RegistryConfig{BaseURL: base + sandbox.NHCXRegistryPath,
		Tokens: tokenString(session.AccessToken), OwnCode: "1000009999@sbx", OwnKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.EncryptionKey(ctx, nhcx.DefaultPayerCode); err != nil {
		t.Fatalf("payer certificate through the mounted registry: %v", err)
	}
	client, err := hcx.NewClient(hcx.ClientConfig{BaseURL: base + sandbox.NHCXPath, ParticipantCode: "1000009999@sbx",
		Tokens: tokenString(session.AccessToken), Keys: registry})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Send(ctx, hcx.PathCoverageEligibilityCheck, hcx.Headers{RecipientCode: nhcx.DefaultPayerCode},
		[]byte(`{"resourceType":"Bundle","type":"collection","entry":[]}`)); err != nil {
		t.Fatalf("coverage check through the mounted switch: %v", err)
	}
	select {
	case p := <-got:
		if p != hcx.PathCoverageEligibilityOnCheck {
			t.Errorf("the payer answered on %s", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from the payer")
	}

	forged, _ := hcx.NewClient(hcx.ClientConfig{BaseURL: base + sandbox.NHCXPath, ParticipantCode: "1000009999@sbx",
		Tokens: tokenString("forged"), Keys: registry})
	if _, err := forged.Send(ctx, hcx.PathCoverageEligibilityCheck, hcx.Headers{RecipientCode: nhcx.DefaultPayerCode},
		[]byte(`{}`)); !errors.Is(err, hcx.ErrUnauthorized) {
		t.Errorf("forged token: %v", err)
	}

	if n := len(sb.NHCX.Messages(nhcx.Filter{})); n < 2 {
		t.Fatalf("switch recorded %d messages", n)
	}
	if status, raw := post(t, base+"/_sandbox/reset", nil, nil); status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", status, raw)
	}
	if n := len(sb.NHCX.Messages(nhcx.Filter{})); n != 0 {
		t.Errorf("switch kept %d messages after reset", n)
	}
}

// sharedFHIR is ../shared/testdata/fhir next to the repository, or "" when
// it is absent (the remote hospital then holds no records).
func sharedFHIR(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "testdata", "fhir"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "go.mod")); err != nil {
		t.Fatalf("test not run from e2e/sandbox: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// The consent manager, PHR app and remote hospital are wired in: the PHR
// app's discovery at the remote hospital goes through the gateway (mounted
// like the real host) to the remote bridge over HTTP and back, the
// consent manager's synchronous refusals work under the mount, and the
// sandbox-wide reset clears them.
func TestSandboxWiresTheConsentManagerPHRAndRemoteHospital(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	bridge := cmtest.NewBridge(t, cmtest.SangamClient, "s")
	signing, link := cmtest.Keys()
	records := sharedFHIR(t)
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: srv.URL,
		Gateway: gateway.Config{PublicURL: srv.URL + "/api/hiecm", SigningKey: signing, LinkTokenKey: link,
			Clients: []gateway.Client{{ID: cmtest.SangamClient, Secret: "s", BridgeURL: bridge.URL, Services: []gateway.Service{
				{ID: cmtest.SangamHIP, Name: "Sangam OPD", Types: []string{gateway.TypeHIP}}}}}},
		Remote: &remote.Config{RecordsDir: records},
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	h = sb
	bridge.Connect(srv.URL + "/api/hiecm")

	get := func(path string, out any) int {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var clients struct {
		Clients []gateway.ClientState `json:"clients"`
	}
	get("/api/hiecm/_sandbox/gateway/clients", &clients)
	if len(clients.Clients) != 2 || clients.Clients[1].ID != "SBX_CITY_HOSPITAL" || clients.Clients[1].BridgeURL != srv.URL+"/_sandbox/remote/bridge" {
		t.Fatalf("gateway clients: %+v", clients.Clients)
	}
	var st remote.Status
	if get("/_sandbox/remote/", &st) != 200 || st.HIPID != "IN_CITY_HIP" || (records == "") != (st.Bundles == 0) {
		t.Errorf("remote status: %+v (records dir %q)", st, records)
	}
	if s := get("/_sandbox/phr/", nil); s != 200 {
		t.Errorf("PHR page: %d", s)
	}

	// Discovery at the remote hospital, driven from the PHR app.
	status, raw := post(t, srv.URL+"/_sandbox/phr/patients/sunita.rao@sbx/discover?wait=10s", map[string]string{"hip_id": "IN_CITY_HIP"},
		map[string]string{"Content-Type": "application/json"})
	var d cm.Discovery
	_ = json.Unmarshal(raw, &d)
	switch {
	case status != 200:
		t.Fatalf("discover: %d %s", status, raw)
	case records != "" && (d.Status != cm.DiscoveryDone || len(d.CareContexts) == 0):
		t.Errorf("discovery at the remote hospital with records: %s", raw)
	case records == "" && (d.Status != cm.DiscoveryFailed || d.Error == nil || d.Error.Code != "ABDM-1010"):
		t.Errorf("discovery at the remote hospital without records: %s", raw)
	}

	// A refused generate-token repeated at once gets ABDM-1092 under the
	// /api/hiecm mount.
	req := abdm.Request{Path: abdm.PathGenerateToken, HIPID: cmtest.SangamHIP,
		Body: abdm.GenerateTokenRequest{ABHAAddress: "nobody@sbx", Name: "No Body", Gender: "M", YearOfBirth: 1990}}
	id := bridge.MustCall(req)
	bridge.ResultOf(abdm.CallbackOnGenerateToken, id)
	_, err = bridge.Call(context.Background(), req)
	var apiErr *abdm.Error
	if !errors.As(err, &apiErr) || apiErr.Code != "ABDM-1092" {
		t.Errorf("repeated refused generate-token: %v", err)
	}

	sb.PHR.Inbox().SendSMS("9000000003", "TEST", "hello")
	if status, _ := post(t, srv.URL+"/_sandbox/reset", nil, nil); status != http.StatusNoContent {
		t.Fatalf("reset: %d", status)
	}
	if n := len(sb.CM.Discoveries("")); n != 0 {
		t.Errorf("%d discoveries after reset", n)
	}
	if n := len(sb.PHR.Inbox().Messages("")); n != 0 {
		t.Errorf("%d SMS after reset", n)
	}
	if n := len(sb.CM.Refusals()); n != 0 {
		t.Errorf("%d refusals after reset", n)
	}
	var overview phr.Overview
	if get("/_sandbox/phr/patients/sunita.rao@sbx", &overview) != 200 || overview.Patient.ABHANumber != "91-0000-0000-0037" {
		t.Errorf("PHR overview: %+v", overview.Patient)
	}
}
