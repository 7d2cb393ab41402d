package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/patients"
)

const (
	enrolPath = "/frontdesk/abha/create"
	// Sandbox demo identities (package e2e/sandbox/abha).
	aadhaarRavi   = "9999 0000 0028" // no ABHA; Aadhaar mobile 9000000002
	aadhaarFarhan = "999900000063"   // no ABHA; Aadhaar mobile 9000000006
	aadhaarSunita = "999900000037"   // ABHA 91-0000-0000-0037; mobile 9000000003
)

// step posts one step's form and follows the redirect to the page, as a
// browser would; it returns the final status and page.
func (e *abhaEnv) step(t *testing.T, client *http.Client, path string, form url.Values) (int, string) {
	t.Helper()
	resp, body := do(t, noFollow(client), mustRequest(t, http.MethodPost, e.URL+path, form))
	if resp.StatusCode != http.StatusSeeOther {
		return resp.StatusCode, body
	}
	if loc := resp.Header.Get("Location"); loc != enrolPath {
		t.Fatalf("%s redirected to %q, want %q", path, loc, enrolPath)
	}
	resp, body = get(t, client, e.URL+enrolPath, nil)
	return resp.StatusCode, body
}

func form(csrf string, kv ...string) url.Values {
	f := url.Values{"csrf_token": {csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

var suggestion = regexp.MustCompile(`name="address" value="([^"]+)"`)

// TestABHAEnrolmentWithMobileOTP walks a front desk through creating Ravi's
// ABHA: consent, bad and good Aadhaar, a wrong then right Aadhaar OTP, a
// communication mobile that is not the Aadhaar mobile (so a mobile OTP,
// wrong then right), an address suggestion, the card and attaching the
// ABHA to Ravi's record in the master index (CRT_ABHA_101–114).
func TestABHAEnrolmentWithMobileOTP(t *testing.T) {
	e := startABHA(t, "")
	patientID := e.addPatient(t, "Ravi Kumar", "M", 1985, "9000000012")
	client, csrf := e.signInAs(t, "frontdesk")

	resp, page := get(t, client, e.URL+enrolPath, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start page: %d", resp.StatusCode)
	}
	mustContain(t, "start page", page, "Unique Identification Authority of India", `name="consent"`, `name="aadhaar"`, "consent version 1.4")

	// Consent first: without the tick the Aadhaar number is not used.
	status, page := e.step(t, client, enrolPath+"/aadhaar", form(csrf, "aadhaar", aadhaarRavi))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("no consent: status %d, want 422", status)
	}
	mustContain(t, "no-consent page", page, "consent is not recorded", `value="9999 0000 0028"`)
	if e.newestOTPCount(t, "9000000002") != 0 {
		t.Errorf("an OTP was sent without consent")
	}

	// A wrong Aadhaar number comes back on the same step, as typed.
	status, page = e.step(t, client, enrolPath+"/aadhaar", form(csrf, "consent", "agree", "aadhaar", "1234 5678"))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("bad Aadhaar: status %d, want 422", status)
	}
	mustContain(t, "bad-Aadhaar page", page, "Aadhaar Number is not valid.", `value="1234 5678"`, `data-testid="abha-start"`)

	status, page = e.step(t, client, enrolPath+"/aadhaar", form(csrf, "consent", "agree", "aadhaar", aadhaarRavi))
	if status != http.StatusOK {
		t.Fatalf("Aadhaar step: %d\n%s", status, page)
	}
	mustContain(t, "Aadhaar OTP page", page, "Mobile Number ******0002", "60 seconds", `name="otp"`)
	mustNotContain(t, "Aadhaar OTP page", page, "999900000028", "9999 0000 0028")
	var consents int
	var detail string
	if err := e.DB.Owner.QueryRow(context.Background(), `SELECT count(*), coalesce(max(detail::text), '') FROM audit_events
		WHERE tenant_id = $1 AND action = 'abha.enrolment_consent' AND detail->>'username' = 'frontdesk'`, e.TenantID).Scan(&consents, &detail); err != nil {
		t.Fatal(err)
	}
	if consents != 1 || !strings.Contains(detail, `"consent_version": "1.4"`) || strings.Contains(detail, "99990000") {
		t.Errorf("%d consent records (%s); want one, with the version and no Aadhaar number", consents, detail)
	}

	otp := e.newestOTP(t, "9000000002")
	status, page = e.step(t, client, enrolPath+"/otp", form(csrf, "otp", wrongOTP(otp), "mobile", "9000000012"))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("wrong OTP: status %d, want 422", status)
	}
	mustContain(t, "wrong-OTP page", page, `data-testid="abha-problem"`, "Attempts left", `value="9000000012"`, `data-testid="abha-aadhaar-otp"`)
	mustNotContain(t, "wrong-OTP page", page, `value="`+wrongOTP(otp)+`"`)

	status, page = e.step(t, client, enrolPath+"/otp", form(csrf, "otp", otp, "mobile", "9000000012"))
	if status != http.StatusOK {
		t.Fatalf("OTP step: %d\n%s", status, page)
	}
	mustContain(t, "mobile OTP page", page, `data-testid="abha-mobile-otp"`, "Mobile Number ******0012")

	// Resending straight away is refused: 60 s must pass (CRT_ABHA_106).
	status, page = e.step(t, client, enrolPath+"/mobile/resend", form(csrf))
	if status != http.StatusUnprocessableEntity || e.newestOTPCount(t, "9000000012") != 1 {
		t.Errorf("immediate resend: %d with %d OTPs sent, want 422 and 1", status, e.newestOTPCount(t, "9000000012"))
	}
	mustContain(t, "resend page", page, "60 seconds after the last one", `data-testid="abha-mobile-otp"`)

	motp := e.newestOTP(t, "9000000012")
	status, page = e.step(t, client, enrolPath+"/mobile", form(csrf, "otp", wrongOTP(motp)))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("wrong mobile OTP: status %d, want 422", status)
	}
	mustContain(t, "wrong-mobile-OTP page", page, `data-testid="abha-problem"`, `data-testid="abha-mobile-otp"`)

	status, page = e.step(t, client, enrolPath+"/mobile", form(csrf, "otp", motp))
	if status != http.StatusOK {
		t.Fatalf("mobile step: %d\n%s", status, page)
	}
	names := suggestion.FindAllStringSubmatch(page, -1)
	if len(names) < 3 {
		t.Fatalf("address page offers %d suggestions, want at least 3:\n%s", len(names), page)
	}
	mustContain(t, "address page", page, "8 to 18 characters")

	// A name that breaks the policy keeps what was typed.
	status, page = e.step(t, client, enrolPath+"/address", form(csrf, "address", "", "custom", "_x"))
	if status != http.StatusUnprocessableEntity {
		t.Errorf("bad address: status %d, want 422", status)
	}
	mustContain(t, "bad-address page", page, "does not follow the rule", `value="_x"`)

	chosen := html.UnescapeString(names[1][1])
	status, page = e.step(t, client, enrolPath+"/address", form(csrf, "address", chosen))
	if status != http.StatusOK {
		t.Fatalf("address step: %d\n%s", status, page)
	}
	mustContain(t, "result page", page, "ABHA Number", "ABHA created", chosen+"@sbx", "Ravi Kumar", "Male", "3 September 1985", `data-testid="abha-number">91-`)
	mustNotContain(t, "result page", page, "Health ID")
	number := regexp.MustCompile(`data-testid="abha-number">([0-9-]+)<`).FindStringSubmatch(page)[1]

	// The card streams from ABDM through Sangam, never cached.
	resp, card := get(t, client, e.URL+enrolPath+"/card", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(card, "\x89PNG") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("card: %d %q cache %q, starts %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), card[:min(8, len(card))])
	}

	// Ravi is in the index: the page offers him and attaching records
	// the ABHA as verified for him.
	mustContain(t, "result page", page, `name="patient" value="`+patientID+`"`)
	status, page = e.step(t, client, enrolPath+"/attach", form(csrf, "patient", patientID))
	if status != http.StatusOK {
		t.Fatalf("attach: %d\n%s", status, page)
	}
	mustContain(t, "attached page", page, "Attached.", "/patients/"+patientID)
	p, err := patients.New(e.DB.App, patients.Config{}).Patient(context.Background(), e.TenantID, patientID)
	if err != nil {
		t.Fatal(err)
	}
	if !hasIdentifier(p, strings.ReplaceAll(number, "-", "")) || !hasIdentifier(p, chosen+"@sbx") {
		t.Errorf("patient identifiers %+v; want %s and %s@sbx", p.Identifiers, number, chosen)
	}
}

func hasIdentifier(p patients.Patient, value string) bool {
	for _, id := range p.Identifiers {
		if strings.ReplaceAll(id.Value, "-", "") == value {
			return true
		}
	}
	return false
}

// When the communication mobile is the Aadhaar mobile there is no second
// OTP (CRT_ABHA_108), and an Aadhaar that already has an ABHA shows that
// ABHA instead of creating another.
func TestABHAEnrolmentShortcuts(t *testing.T) {
	e := startABHA(t, "")
	client, csrf := e.signInAs(t, "frontdesk")

	if status, page := e.step(t, client, enrolPath+"/aadhaar", form(csrf, "consent", "agree", "aadhaar", aadhaarFarhan)); status != http.StatusOK {
		t.Fatalf("Aadhaar step: %d\n%s", status, page)
	}
	status, page := e.step(t, client, enrolPath+"/otp", form(csrf, "otp", e.newestOTP(t, "9000000006"), "mobile", "9000000006"))
	if status != http.StatusOK {
		t.Fatalf("OTP step: %d\n%s", status, page)
	}
	mustContain(t, "same-mobile page", page, `data-testid="abha-address"`)

	if status, page := e.step(t, client, enrolPath+"/restart", form(csrf)); status != http.StatusOK || !strings.Contains(page, `data-testid="abha-start"`) {
		t.Fatalf("restart: %d", status)
	}
	if status, page := e.step(t, client, enrolPath+"/aadhaar", form(csrf, "consent", "agree", "aadhaar", aadhaarSunita)); status != http.StatusOK {
		t.Fatalf("Aadhaar step: %d\n%s", status, page)
	}
	status, page = e.step(t, client, enrolPath+"/otp", form(csrf, "otp", e.newestOTP(t, "9000000003"), "mobile", "9000000003"))
	if status != http.StatusOK {
		t.Fatalf("OTP step: %d\n%s", status, page)
	}
	mustContain(t, "duplicate page", page, "already has an ABHA", "91-0000-0000-0037", "sunita.rao@sbx")
	mustNotContain(t, "duplicate page", page, "ABHA created")
}

// Only the front desk creates ABHAs; every step needs the CSRF token; a
// step with no journey behind it says so.
func TestABHAEnrolmentAccess(t *testing.T) {
	e := startABHA(t, "")
	doctor, _ := e.signInAs(t, "doctor")
	if resp, _ := get(t, doctor, e.URL+enrolPath, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("doctor sees the ABHA page: %d", resp.StatusCode)
	}
	client, csrf := e.signInAs(t, "frontdesk")
	resp, _ := do(t, noFollow(client), mustRequest(t, http.MethodPost, e.URL+enrolPath+"/aadhaar",
		url.Values{"consent": {"agree"}, "aadhaar": {aadhaarRavi}}))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("step without CSRF token: %d, want 403", resp.StatusCode)
	}
	if e.newestOTPCount(t, "9000000002") != 0 {
		t.Errorf("an OTP was sent for a request without CSRF token")
	}
	if status, _ := e.step(t, client, enrolPath+"/otp", form(csrf, "otp", "123456", "mobile", "9000000002")); status != http.StatusConflict {
		t.Errorf("OTP step without a journey: %d, want 409", status)
	}
	if resp, _ := get(t, client, e.URL+enrolPath+"/card", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("card without a journey: %d, want 409", resp.StatusCode)
	}
}

// addPatient files one source record for a person, so that the master
// index has a patient to attach an ABHA to.
func (e *abhaEnv) addPatient(t *testing.T, name, gender string, year int, mobile string) string {
	t.Helper()
	ctx := context.Background()
	var facility, source string
	if err := e.DB.Owner.QueryRow(ctx, "SELECT facility_id, id FROM source_systems WHERE tenant_id = $1 ORDER BY code LIMIT 1", e.TenantID).Scan(&facility, &source); err != nil {
		t.Fatalf("finding a source system: %v", err)
	}
	d, err := patients.New(e.DB.App, patients.Config{}).Ingest(ctx, e.TenantID, patients.SourceRecord{
		FacilityID: facility, SourceSystemID: source, LocalID: "MRN-" + randomHex(3),
		Name: name, Gender: gender, BirthYear: year, Mobile: mobile,
	})
	if err != nil {
		t.Fatalf("filing %s: %v", name, err)
	}
	return d.PatientID
}
