package abha

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	p, err := rsa.GenerateKey(rand.Reader, profileKeyBits)
	if err != nil {
		panic(err)
	}
	q, err := rsa.GenerateKey(rand.Reader, phrKeyBits)
	if err != nil {
		panic(err)
	}
	return p, q
})

const goodToken = "session-token-of-SBX_1"

// verifyToken accepts one token, standing in for the gateway's check
// (sandbox.New passes the real one; see sandbox_test.go).
func verifyToken(tok string) (string, error) {
	if tok != goodToken {
		return "", errors.New("unknown token")
	}
	return "SBX_1", nil
}

func start(t *testing.T, cfg Config) (*Service, string) {
	t.Helper()
	if cfg.VerifyToken == nil {
		cfg.VerifyToken = verifyToken
	}
	if cfg.ProfileKey == nil {
		cfg.ProfileKey, cfg.PHRKey = testKeys()
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, srv.URL
}

// send makes an API call with the protocol headers; edit may change them.
func send(t *testing.T, method, url string, body any, edit func(http.Header)) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+goodToken)
	req.Header.Set("REQUEST-ID", uuid.NewString())
	req.Header.Set("TIMESTAMP", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	req.Header.Set("Content-Type", "application/json")
	if edit != nil {
		edit(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func encryptFor(t *testing.T, key *rsa.PrivateKey, v string) string {
	t.Helper()
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &key.PublicKey, []byte(v), nil)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

func TestDemoResidentsAreTestAadhaarNumbers(t *testing.T) {
	for _, r := range demoResidents() {
		if !validAadhaar(r.Aadhaar) || !strings.HasPrefix(r.Aadhaar, "9999") || !validMobile(r.Mobile) {
			t.Errorf("resident %s %s: Aadhaar %s / mobile %s", r.FirstName, r.LastName, r.Aadhaar, r.Mobile)
		}
	}
	for _, bad := range []string{"999900000017", "099900000016", "99990000001", "9999000000a6"} {
		if validAadhaar(bad) {
			t.Errorf("validAadhaar(%q) = true", bad)
		}
	}
}

func TestAddressPolicy(t *testing.T) {
	for name, want := range map[string]bool{
		"ravi.kumar": true, "ravi_kumar85": true, "ravi.k_1985": true, "ravikumar": true,
		"ravi": false, "ravi.kumar.k": false, "ravi__kumar": false, ".ravikumar": false, "ravikumar_": false,
		"ravi-kumar": false, "abcdefghijklmnopqrs": false, "abcdefghijklmnopqr": true,
	} {
		if got := validAddressName(name); got != want {
			t.Errorf("validAddressName(%q) = %v; want %v", name, got, want)
		}
	}
}

// Keys are made on first use, with the sizes the real certificates have.
func TestCertificatesAreGeneratedLazily(t *testing.T) {
	svc, err := New(Config{VerifyToken: verifyToken})
	if err != nil {
		t.Fatal(err)
	}
	if svc.profileKey.key != nil || svc.phrKey.key != nil {
		t.Error("New generated keys before any call needed them")
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	base := srv.URL
	for path, bits := range map[string]int{
		"/v3/profile/public/certificate":       4096,
		"/v3/phr/app/login/public/certificate": 2048,
	} {
		status, body := send(t, http.MethodGet, base+path, nil, nil)
		var got struct{ PublicKey, EncryptionAlgorithm string }
		if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		der, err := base64.StdEncoding.DecodeString(got.PublicKey)
		if err != nil {
			t.Fatalf("%s: publicKey is not base64: %v", path, err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatalf("%s: not SubjectPublicKeyInfo: %v", path, err)
		}
		if k, ok := pub.(*rsa.PublicKey); !ok || k.N.BitLen() != bits {
			t.Errorf("%s: key %T of %d bits; want RSA-%d", path, pub, k.N.BitLen(), bits)
		}
		if got.EncryptionAlgorithm != "RSA/ECB/OAEPWithSHA-1AndMGF1Padding" {
			t.Errorf("%s: algorithm %q", path, got.EncryptionAlgorithm)
		}
	}
}

func TestProtocolChecks(t *testing.T) {
	_, base := start(t, Config{})
	body := map[string]any{"scope": []string{"abha-enrol"}, "loginHint": "aadhaar", "loginId": "x", "otpSystem": "aadhaar"}
	url := base + "/v3/enrollment/request/otp"
	for _, tc := range []struct {
		name   string
		method string
		path   string
		edit   func(http.Header)
		status int
		want   string
	}{
		{"no session token", "POST", url, func(h http.Header) { h.Del("Authorization") }, 401, `"code":"900902"`},
		{"bad session token", "POST", url, func(h http.Header) { h.Set("Authorization", "Bearer nope") }, 401, `"code":"900901"`},
		{"no REQUEST-ID", "POST", url, func(h http.Header) { h.Del("REQUEST-ID") }, 404, `"ABDM-1030"`},
		{"bad TIMESTAMP", "POST", url, func(h http.Header) { h.Set("TIMESTAMP", "yesterday") }, 400, `"ABDM-1016"`},
		{"no Content-Type", "POST", url, func(h http.Header) { h.Del("Content-Type") }, 400, `415 UNSUPPORTED_MEDIA_TYPE`},
		{"plain login id", "POST", url, nil, 400, `"loginId":"Invalid LoginId"`},
		{"unknown path", "POST", base + "/v3/enrollment/nothing", nil, 404, `"Status report"`},
		{"wrong method", "GET", url, nil, 405, `"405"`},
	} {
		status, got := send(t, tc.method, tc.path, body, tc.edit)
		if status != tc.status || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s: %d %s; want %d with %s", tc.name, status, got, tc.status, tc.want)
		}
	}
}

// A bare X-token is refused as the sandbox was seen to refuse it; tokens
// are bound to the client they were issued to.
func TestUserTokenChecks(t *testing.T) {
	svc, base := start(t, Config{VerifyToken: func(tok string) (string, error) {
		switch tok {
		case goodToken:
			return "SBX_1", nil
		case "other":
			return "SBX_2", nil
		}
		return "", errors.New("unknown")
	}})
	svc.mu.Lock()
	x := svc.issuePairLocked(&call{clientID: "SBX_1", now: time.Now()}, tokenProfile, "91000000000037", "").Token
	svc.mu.Unlock()

	for _, tc := range []struct {
		name   string
		edit   func(http.Header)
		status int
		want   string
	}{
		{"bare", func(h http.Header) { h.Set("X-token", x) }, 400, `"message":"Invalid X-token"`},
		{"other client", func(h http.Header) { h.Set("X-token", "Bearer "+x); h.Set("Authorization", "Bearer other") }, 401, `"ABDM-1130"`},
		{"good", func(h http.Header) { h.Set("X-token", "Bearer "+x) }, 200, `"ABHANumber":"91-0000-0000-0037"`},
	} {
		status, got := send(t, http.MethodGet, base+"/v3/profile/account", nil, tc.edit)
		if status != tc.status || !strings.Contains(string(got), tc.want) {
			t.Errorf("%s: %d %s; want %d with %s", tc.name, status, got, tc.status, tc.want)
		}
	}
}

// The OTP appears only in the control API, never in an API answer.
func TestOTPOnlyInControlAPI(t *testing.T) {
	svc, base := start(t, Config{})
	profile, _ := testKeys()
	status, body := send(t, http.MethodPost, base+"/v3/enrollment/request/otp", map[string]any{
		"scope": []string{"abha-enrol"}, "loginHint": "aadhaar", "loginId": encryptFor(t, profile, "999900000016"), "otpSystem": "aadhaar",
	}, nil)
	if status != http.StatusOK {
		t.Fatalf("request otp: %d %s", status, body)
	}
	otps := svc.OTPs(OTPFilter{})
	if len(otps) != 1 || len(otps[0].OTP) != 6 || otps[0].SentTo != "9000000001" || otps[0].Channel != "aadhaar" {
		t.Fatalf("OTPs %+v", otps)
	}
	if bytes.Contains(body, []byte(otps[0].OTP)) {
		t.Errorf("the API answer carries the OTP: %s", body)
	}
	if !strings.Contains(string(body), "******0001") {
		t.Errorf("answer %s does not name the masked mobile", body)
	}

	resp, err := http.Get(base + "/_sandbox/abha/otps?mobile=9000000001")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"otp":"`+otps[0].OTP+`"`) {
		t.Errorf("control API %s", b)
	}
	resp, err = http.Get(base + "/_sandbox/abha/otps?mobile=9000000002")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(b)) != `{"otps":[]}` {
		t.Errorf("filtered control API %s", b)
	}
}

func TestControlPageAndReset(t *testing.T) {
	svc, base := start(t, Config{})
	svc.mu.Lock()
	a := svc.createAccountLocked(&call{now: time.Now()}, svc.residents["999900000016"], "9000000001")
	svc.mu.Unlock()

	resp, err := http.Get(base + "/_sandbox/abha/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Sunita", "999900000063", a.ABHANumber, "meena.iyer@sbx"} {
		if resp.StatusCode != 200 || !strings.Contains(string(page), want) {
			t.Errorf("control page lacks %q (status %d)", want, resp.StatusCode)
		}
	}
	resp, err = http.Post(base+"/_sandbox/abha/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || len(svc.Accounts()) != 3 {
		t.Errorf("reset: %d, %d accounts; want 204 and the 3 seeded", resp.StatusCode, len(svc.Accounts()))
	}
}

func TestPDFEscapesText(t *testing.T) {
	c := card{number: "91-0000-0000-0037", name: `Rao (Sunita) \ test`, address: "sunita.rao@sbx", postal: "Café"}
	pdf := string(c.pdf())
	if !strings.Contains(pdf, `Rao \(Sunita\) \\ test`) || !strings.Contains(pdf, "Caf?") {
		t.Errorf("text not escaped:\n%s", pdf)
	}
}

func TestConfigErrors(t *testing.T) {
	small, _ := testKeys()
	for name, cfg := range map[string]Config{
		"no VerifyToken":  {},
		"bad card format": {VerifyToken: verifyToken, CardFormat: "svg"},
		"PHR key size":    {VerifyToken: verifyToken, PHRKey: small},
		"negative TTL":    {VerifyToken: verifyToken, OTPTTL: -time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
