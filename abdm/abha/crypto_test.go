package abha_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	sbabha "github.com/sangamhealth/sangam/e2e/sandbox/abha"
)

func jsonValue(t *testing.T, body []byte, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("request body is not JSON: %v", err)
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func jsonHas(t *testing.T, body []byte, key string, want any) bool {
	t.Helper()
	return reflect.DeepEqual(jsonValue(t, body, key), want)
}

func jsonString(t *testing.T, body []byte, path ...string) string {
	t.Helper()
	s, _ := jsonValue(t, body, path...).(string)
	return s
}

// decryptValue opens an encrypted body value with the sandbox's keys,
// choosing the key by ciphertext length as the service does.
func decryptValue(t *testing.T, v string) string {
	t.Helper()
	ct, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatalf("value %q is not base64", v)
	}
	profile, phr := keys()
	k := profile
	if len(ct) == 256 {
		k = phr
	}
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, k, ct, nil)
	if err != nil {
		t.Fatalf("value does not decrypt with RSA-OAEP-SHA1 (%d bytes): %v", len(ct), err)
	}
	return string(pt)
}

func decryptLoginID(t *testing.T, body []byte) string {
	t.Helper()
	return decryptValue(t, jsonString(t, body, "loginId"))
}

// Every sensitive value leaves the client RSA-OAEP-SHA1 encrypted with the
// 4096-bit key; the only clear value is the enrolment mobile, which the
// API takes in clear.
func TestSensitiveValuesAreEncrypted(t *testing.T) {
	h := setup(t)
	enr := h.enrol(t, aadhaarRavi, "9000000012")
	if _, err := h.client.RequestMobileOTP(t.Context(), tenant, enr.TxnID, "9000000012"); err != nil {
		t.Fatal(err)
	}
	motp := h.otp(t, "mobile", "9000000012")
	if _, err := h.client.VerifyMobileOTP(t.Context(), tenant, enr.TxnID, motp.OTP); err != nil {
		t.Fatal(err)
	}
	h.login(t, abha.LoginRequest{Method: abha.LoginMobile, ID: sharedMobile})

	otps := h.sb.ABHA.OTPs(sbabha.OTPFilter{})
	var codes []string
	for _, o := range otps {
		codes = append(codes, o.OTP)
	}
	for _, r := range h.allSent() {
		body := string(r.Body)
		for _, secret := range append([]string{aadhaarRavi, sharedMobile}, codes...) {
			if strings.Contains(body, secret) {
				t.Errorf("%s %s sent %q in clear", r.Method, r.Path, secret)
			}
		}
	}
	checks := []struct {
		path  string
		field []string
		want  string
	}{
		{abha.PathEnrolRequestOTP, []string{"loginId"}, aadhaarRavi},
		{abha.PathEnrolByAadhaar, []string{"authData", "otp", "otpValue"}, ""},
		{abha.PathEnrolAuthByABDM, []string{"authData", "otp", "otpValue"}, motp.OTP},
		{abha.PathLoginRequestOTP, []string{"loginId"}, sharedMobile},
		{abha.PathLoginVerify, []string{"authData", "otp", "otpValue"}, ""},
	}
	for _, c := range checks {
		rs := h.sent(c.path)
		if len(rs) == 0 {
			t.Errorf("no call to %s", c.path)
			continue
		}
		v := jsonString(t, rs[0].Body, c.field...)
		if ct, _ := base64.StdEncoding.DecodeString(v); len(ct) != 512 {
			t.Errorf("%s %v is %d bytes; want a 4096-bit RSA block", c.path, c.field, len(ct))
		}
		got := decryptValue(t, v)
		if c.want != "" && got != c.want {
			t.Errorf("%s %v decrypts to %q; want %q", c.path, c.field, got, c.want)
		}
		if c.want == "" && len(got) != 6 {
			t.Errorf("%s %v decrypts to %d characters; want a 6-digit OTP", c.path, c.field, len(got))
		}
	}
	if m := jsonString(t, h.sent(abha.PathEnrolByAadhaar)[0].Body, "authData", "otp", "mobile"); m != "9000000012" {
		t.Errorf("enrolment mobile %q; want it in clear, as the API takes it", m)
	}
}

// The sandbox refuses what the real service refuses: plain values and
// values encrypted with the other certificate's key.
func TestServiceRefusesUnencryptedValues(t *testing.T) {
	h := setup(t)
	ctx := t.Context()
	do := func(path string, body any) *abdm.Error {
		t.Helper()
		_, err := h.abdm.Do(ctx, abdm.Request{Service: abdm.ServiceABHA, Tenant: tenant, Path: path, Body: body})
		var e *abdm.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v; want an ABDM refusal", path, err)
		}
		return e
	}
	e := do(abha.PathEnrolRequestOTP, map[string]any{"scope": []string{"abha-enrol"}, "loginHint": "aadhaar",
		"loginId": "999900000016", "otpSystem": "aadhaar"})
	if e.HTTPStatus != http.StatusBadRequest || e.Message != "loginId: Invalid LoginId" {
		t.Errorf("plain Aadhaar: %d %q", e.HTTPStatus, e.Message)
	}

	_, phr := keys()
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &phr.PublicKey, []byte("999900000016"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e = do(abha.PathEnrolRequestOTP, map[string]any{"scope": []string{"abha-enrol"}, "loginHint": "aadhaar",
		"loginId": base64.StdEncoding.EncodeToString(ct), "otpSystem": "aadhaar"})
	if e.HTTPStatus != http.StatusBadRequest || e.Code != "ABDM-1006" {
		t.Errorf("Aadhaar under the PHR key: %d %s %q", e.HTTPStatus, e.Code, e.Message)
	}

	sent, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent())
	if err != nil {
		t.Fatal(err)
	}
	otp := h.otp(t, "txn_id", sent.TxnID)
	e = do(abha.PathEnrolByAadhaar, map[string]any{
		"authData": map[string]any{"authMethods": []string{"otp"}, "otp": map[string]any{
			"txnId": sent.TxnID, "otpValue": otp.OTP, "mobile": "9000000001"}},
		"consent": map[string]string{"code": "abha-enrollment", "version": "1.4"},
	})
	if e.HTTPStatus != http.StatusBadRequest || e.Message != "otpValue: Invalid OTP value" {
		t.Errorf("plain OTP: %d %q", e.HTTPStatus, e.Message)
	}
	// The refusal did not use up an attempt or the OTP.
	if o := h.otp(t, "txn_id", sent.TxnID); o.Status != "pending" || o.AttemptsLeft != 3 {
		t.Errorf("OTP after a plain-text refusal: %+v", o)
	}
}

func TestCertificateIsCached(t *testing.T) {
	h := setup(t, func(o *options) { o.client.CertificateTTL = 10 * time.Minute })
	ctx := t.Context()
	fetches := func() int { return len(h.sent(abha.PathProfileCertificate)) }

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := h.client.PublicKey(ctx, tenant, abha.ProfileCertificate); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.login(t, abha.LoginRequest{Method: abha.LoginABHANumber, ID: numberSunita, Via: abha.ViaAadhaar})
	h.enrol(t, aadhaarAsha, "9000000001")
	if n := fetches(); n != 1 {
		t.Errorf("certificate fetched %d times within its TTL; want 1", n)
	}
	h.clock.Advance(11 * time.Minute)
	h.login(t, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarSunita})
	if n := fetches(); n != 2 {
		t.Errorf("certificate fetched %d times after the TTL; want 2", n)
	}
	if n := len(h.sent(abha.PathPHRCertificate)); n != 0 {
		t.Errorf("PHR certificate fetched %d times; no call needed it", n)
	}
	// The certificate endpoint is behind the session token too.
	if r := h.sent(abha.PathProfileCertificate); !strings.HasPrefix(r[0].Header.Get("Authorization"), "Bearer ") ||
		r[0].Header.Get("REQUEST-ID") == "" || r[0].Header.Get("TIMESTAMP") == "" {
		t.Errorf("certificate call headers %v", r[0].Header)
	}
}

// Calls without a session token, or with a bad one, are refused by the
// API manager in front of the service.
func TestServiceNeedsSessionToken(t *testing.T) {
	h := setup(t)
	for _, auth := range []string{"", "Bearer not-a-token"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.base+"/abha/api"+abha.PathProfileCertificate, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		want := map[string]string{"": "900902", "Bearer not-a-token": "900901"}[auth]
		if resp.StatusCode != http.StatusUnauthorized || body["code"] != want {
			t.Errorf("Authorization %q: %d %v; want 401 %s", auth, resp.StatusCode, body, want)
		}
	}
}

func TestUserTokenNeverPrints(t *testing.T) {
	tok := abha.UserToken{Kind: abha.TokenProfile, Value: "secret-x-token", RefreshValue: "secret-refresh",
		ExpiresAt: time.Now().Add(time.Minute), ABHANumber: numberSunita}
	out := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("token", "token", tok)
	for _, s := range []string{out, logged.String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("token value printed: %s", s)
		}
	}
	if !strings.Contains(out, "REDACTED") {
		t.Errorf("printed token %q", out)
	}
}

// Errors never carry what the patient typed.
func TestErrorsCarryNoInput(t *testing.T) {
	h := setup(t)
	ctx := context.Background()
	_, err := h.client.RequestAadhaarOTP(ctx, tenant, "999941057058", consent())
	_, err2 := h.client.RequestLoginOTP(ctx, tenant, abha.LoginRequest{Method: abha.LoginMobile, ID: "9000000006"})
	for _, e := range []error{err, err2} {
		if e == nil || strings.Contains(e.Error(), "999941057058") || strings.Contains(e.Error(), "9000000006") {
			t.Errorf("error %v", e)
		}
	}
}
