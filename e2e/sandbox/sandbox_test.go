package sandbox_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
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
