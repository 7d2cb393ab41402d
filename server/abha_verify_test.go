package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server/servertest"
)

const verifyPath = "/frontdesk/abha/verify"

// verifyStep posts one verification step and follows the redirect.
func (e *abhaEnv) verifyStep(t *testing.T, client *http.Client, path string, f url.Values) (int, string) {
	t.Helper()
	resp, body := do(t, noFollow(client), mustRequest(t, http.MethodPost, e.URL+path, f))
	if resp.StatusCode != http.StatusSeeOther {
		return resp.StatusCode, body
	}
	if loc := resp.Header.Get("Location"); loc != verifyPath {
		t.Fatalf("%s redirected to %q, want %q", path, loc, verifyPath)
	}
	resp, body = get(t, client, e.URL+verifyPath, nil)
	return resp.StatusCode, body
}

// TestABHAVerifyByNumber verifies Sunita's ABHA number with an OTP on her
// ABHA mobile (a wrong one first), shows her profile and card, and
// attaches the ABHA to her record (VRFY_ABHA_201).
func TestABHAVerifyByNumber(t *testing.T) {
	e := startABHA(t, "")
	patientID := e.addPatient(t, "Sunita Rao", "F", 1990, "9000000003")
	client, csrf := e.signInAs(t, "frontdesk")

	if resp, page := get(t, client, e.URL+verifyPath, nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-testid="abha-verify-start"`) {
		t.Fatalf("verify page: %d", resp.StatusCode)
	}
	status, page := e.verifyStep(t, client, verifyPath+"/start", form(csrf, "kind", "abha-number", "id", "91-0000-0000-0037", "via", "mobile"))
	if status != http.StatusOK {
		t.Fatalf("start: %d\n%s", status, page)
	}
	mustContain(t, "OTP page", page, "Mobile Number ******0003", `data-testid="abha-verify-otp"`)

	otp := e.newestOTP(t, "9000000003")
	status, page = e.verifyStep(t, client, verifyPath+"/otp", form(csrf, "otp", wrongOTP(otp)))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("wrong OTP: %d, want 422", status)
	}
	mustContain(t, "wrong-OTP page", page, `data-testid="abha-problem"`, `data-testid="abha-verify-otp"`)

	status, page = e.verifyStep(t, client, verifyPath+"/otp", form(csrf, "otp", otp))
	if status != http.StatusOK {
		t.Fatalf("OTP: %d\n%s", status, page)
	}
	mustContain(t, "profile page", page, "91-0000-0000-0037", "sunita.rao@sbx", "ABHA Number", `name="patient" value="`+patientID+`"`)

	resp, card := get(t, client, e.URL+verifyPath+"/card", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") && resp.Header.Get("Content-Type") != "application/pdf" || len(card) == 0 {
		t.Errorf("card: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}

	status, page = e.verifyStep(t, client, verifyPath+"/attach", form(csrf, "patient", patientID))
	if status != http.StatusOK {
		t.Fatalf("attach: %d\n%s", status, page)
	}
	mustContain(t, "attached page", page, "Attached.")
	p, err := patients.New(e.DB.App, patients.Config{}).Patient(context.Background(), e.TenantID, patientID)
	if err != nil {
		t.Fatal(err)
	}
	if !hasIdentifier(p, "91000000000037") || !hasIdentifier(p, "sunita.rao@sbx") {
		t.Errorf("patient identifiers %+v; want Sunita's ABHA number and address", p.Identifiers)
	}

	// Verified again, the ABHA shows as already linked with her record.
	if status, page := e.verifyStep(t, client, verifyPath+"/restart", form(csrf)); status != http.StatusOK || !strings.Contains(page, `data-testid="abha-verify-start"`) {
		t.Fatalf("restart: %d", status)
	}
	if status, page := e.verifyStep(t, client, verifyPath+"/start", form(csrf, "kind", "abha-number", "id", "91000000000037", "via", "aadhaar")); status != http.StatusOK {
		t.Fatalf("second start: %d\n%s", status, page)
	}
	status, page = e.verifyStep(t, client, verifyPath+"/otp", form(csrf, "otp", e.newestOTP(t, "9000000003")))
	if status != http.StatusOK {
		t.Fatalf("second OTP: %d\n%s", status, page)
	}
	mustContain(t, "second profile page", page, `data-testid="already-linked"`)
	mustNotContain(t, "second profile page", page, `name="patient" value="`+patientID+`"`)
}

// Without an ABHA client the pages say ABHA is not set up.
func TestABHANotSetUp(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	if res := env.SignIn(t, client, "frontdesk", identity.DemoPassword); res.Status != http.StatusOK {
		t.Fatalf("sign-in: %d", res.Status)
	}
	for _, path := range []string{enrolPath, verifyPath} {
		resp, page := get(t, client, env.URL+path, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "ABHA is not set up") {
			t.Errorf("%s without ABHA: %d", path, resp.StatusCode)
		}
	}
}

// A mobile that holds two ABHAs shows the chooser; the chosen account's
// profile follows (VRFY_ABHA_303). An unknown ABHA number says so and
// offers creation.
func TestABHAVerifyByMobileChoosesAccount(t *testing.T) {
	e := startABHA(t, "")
	client, csrf := e.signInAs(t, "frontdesk")

	status, page := e.verifyStep(t, client, verifyPath+"/start", form(csrf, "kind", "abha-number", "id", "91-1111-1111-1111", "via", "mobile"))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("unknown ABHA: %d, want 422", status)
	}
	mustContain(t, "unknown-ABHA page", page, `data-testid="abha-problem"`, `value="91-1111-1111-1111"`, "/frontdesk/abha/create")

	if status, page := e.verifyStep(t, client, verifyPath+"/start", form(csrf, "kind", "mobile", "id", "9000000099")); status != http.StatusOK {
		t.Fatalf("start: %d\n%s", status, page)
	}
	status, page = e.verifyStep(t, client, verifyPath+"/otp", form(csrf, "otp", e.newestOTP(t, "9000000099")))
	if status != http.StatusOK {
		t.Fatalf("OTP: %d\n%s", status, page)
	}
	mustContain(t, "chooser", page, `data-testid="abha-accounts"`, "91-0000-0000-0044", "91-0000-0000-0059")
	status, page = e.verifyStep(t, client, verifyPath+"/account", form(csrf, "account", "91-0000-0000-0059"))
	if status != http.StatusOK {
		t.Fatalf("account: %d\n%s", status, page)
	}
	mustContain(t, "profile page", page, `data-testid="abha-number">91-0000-0000-0059<`)
}
