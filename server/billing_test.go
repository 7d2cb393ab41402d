package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/server/servertest"
)

func contains(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

var caseLink = regexp.MustCompile(`/billing/cases/([0-9a-f-]{36})`)

// TestBillingDeskFromSearchToPayment takes the claims case through the
// pages as a Mysuru billing clerk: find her, look at the evidence, check
// coverage, ask for pre-authorisation, answer the payer's query with a
// document from Bengaluru and an upload, submit the claim and acknowledge
// the payment.
func TestBillingDeskFromSearchToPayment(t *testing.T) {
	e := startBillingEnv(t)
	clerk := e.signedIn(t, billingMysuru)
	person := demo.Claims().Person

	status, page, _ := fetchPage(t, clerk, e.URL+"/billing?q="+url.QueryEscape("Kavya Shetty 1996"))
	if status != http.StatusOK {
		t.Fatalf("search: %d", status)
	}
	contains(t, "the search", page, `href="/billing/patients/`+e.Kavya+`"`, "Kavya Shetty", "No open cases at your facilities.")

	status, page, _ = fetchPage(t, clerk, e.URL+"/billing/patients/"+e.Kavya)
	if status != http.StatusOK {
		t.Fatalf("patient page: %d %s", status, page)
	}
	contains(t, "the patient page", page, "Kaveri City Hospital", "Kaveri Women and Child Hospital", "KSG/FH/2024/100217",
		"PKS7Q4M2X", "Kaveri Suraksha General Insurance (demo)", "AB PM-JAY – Arogya Karnataka",
		"Evidence only: claims for it are made by Kaveri City Hospital.", `<label for="cov-policy">`, person.Name)

	encounterURL := "/billing/patients/" + e.Kavya + "/claim?encounter=" + url.QueryEscape(e.Mysuru)
	status, page, _ = fetchPage(t, clerk, e.URL+encounterURL)
	if status != http.StatusOK {
		t.Fatalf("encounter page: %d %s", status, page)
	}
	// Evidence from both facilities, grouped; the bill's lines and total.
	contains(t, "the encounter page", page, "HFR IN2910000231", "HFR IN2910000587", "O32.1", "K35.8", "MO024A",
		`data-testid="draft-total">₹32,603.00`, "CareWare HIS", "LabTrack LIMS", "RadView RIS/PACS")
	if strings.Contains(page, `data-testid="source-problems"`) {
		t.Errorf("the encounter page flags source problems")
	}

	// Check coverage.
	resp, page := e.post(t, clerk, encounterURL, url.Values{"csrf_token": {csrfToken(t, page)}, "action": {"check"}, "coverage": {e.Insurer.ID}})
	m := caseLink.FindStringSubmatch(resp.Request.URL.Path)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("after the check: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	caseID := m[1]
	caseURL := "/billing/cases/" + caseID
	contains(t, "the case page after the check", page, "The coverage check is on its way", `hx-get="`+caseURL+`/status?seen=`,
		`hx-trigger="every 3s"`, "Kaveri Suraksha General Insurance (demo)")
	seen := regexp.MustCompile(`status\?seen=(\d+)`).FindStringSubmatch(page)[1]
	e.waitCase(t, caseID, func(c claims.Case) bool { return c.Status == claims.StatusEligible })
	// The poll sees the change and reloads the page.
	req, _ := http.NewRequest(http.MethodGet, e.URL+caseURL+"/status?seen="+seen, nil)
	req.Header.Set("HX-Request", "true")
	poll, err := clerk.Do(req)
	must(t, err)
	poll.Body.Close()
	if poll.StatusCode != http.StatusOK || poll.Header.Get("HX-Refresh") != "true" {
		t.Errorf("poll after the answer: %d, HX-Refresh %q", poll.StatusCode, poll.Header.Get("HX-Refresh"))
	}
	_, page, _ = fetchPage(t, clerk, e.URL+caseURL)
	contains(t, "the eligible case", page, "Coverage in force", "Policy is in force.", "Prepare the pre-authorisation")

	// Pre-authorisation: the payer asks for the earlier surgery's summary.
	must(t, e.Sandbox.NHCX.SetRules([]nhcx.Rule{
		{Path: hcx.PathPreauthSubmit, Outcome: nhcx.OutcomeQuery, Reason: "Send the discharge summary of the appendicectomy", Then: nhcx.OutcomeApprove},
		{Path: hcx.PathClaimSubmit, Outcome: nhcx.OutcomePartial, Amount: "30000", Reason: "Room rent capped", Pay: &nhcx.Payment{UTR: "UTRKSG20251020", Date: "2025-10-20"}},
	}))
	_, page, _ = fetchPage(t, clerk, e.URL+encounterURL)
	resp, _ = e.post(t, clerk, encounterURL, url.Values{"csrf_token": {csrfToken(t, page)}, "action": {"preauth"}, "coverage": {e.Insurer.ID}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != caseURL {
		t.Fatalf("after the pre-auth: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	e.waitCase(t, caseID, func(c claims.Case) bool { return c.Status == claims.StatusNeedsDocuments })
	_, page, _ = fetchPage(t, clerk, e.URL+caseURL)
	contains(t, "the queried case", page, "The payer asks", "Send the discharge summary of the appendicectomy",
		`enctype="multipart/form-data"`, "Payer asks for documents")
	doc := regexp.MustCompile(`name="document" value="([0-9a-f]+)"[^>]*>\s*<label for="[^"]+">Discharge summary: [^<]*Kaveri City Hospital`).FindStringSubmatch(page)
	if doc == nil {
		t.Fatalf("the answer form offers no Bengaluru discharge summary:\n%s", page)
	}
	mid := regexp.MustCompile(`name="message" value="(\d+)"`).FindStringSubmatch(page)[1]
	token := csrfToken(t, page)

	// A Word file is refused; the note and the choice are kept.
	resp, page = e.postMultipart(t, clerk, caseURL+"/answer", url.Values{"csrf_token": {token}, "message": {mid},
		"document": {doc[1]}, "note": {"Summary attached"}}, map[string][]byte{"notes.docx": []byte("PK\x03\x04word")})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a Word upload: %d", resp.StatusCode)
	}
	contains(t, "the refused answer", page, "The files include notes.docx, which is not a PDF, JPEG or PNG file.", ">Summary attached</textarea>",
		`value="`+doc[1]+`" checked`)
	// So is a file over the limit.
	big := append([]byte("%PDF-1.4\n"), make([]byte, 70<<10)...)
	resp, page = e.postMultipart(t, clerk, caseURL+"/answer", url.Values{"csrf_token": {token}, "message": {mid}},
		map[string][]byte{"scan.pdf": big})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "scan.pdf, which is larger than the limit of 64 KB per file") {
		t.Errorf("a large upload: %d", resp.StatusCode)
	}
	if n := len(e.Sandbox.NHCX.Messages(nhcx.Filter{Path: hcx.PathCommunicationOnRequest})); n != 0 {
		t.Fatalf("refused answers reached the switch %d times", n)
	}
	resp, page = e.postMultipart(t, clerk, caseURL+"/answer", url.Values{"csrf_token": {token}, "message": {mid},
		"document": {doc[1]}, "note": {"Summary attached"}}, map[string][]byte{"consent.pdf": []byte("%PDF-1.4\nconsent\n%%EOF")})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != caseURL {
		t.Fatalf("the answer: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	contains(t, "the case after the answer", page, "Your answer is on its way to the payer.")
	approved := e.waitCase(t, caseID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })
	_, page, _ = fetchPage(t, clerk, e.URL+caseURL)
	contains(t, "the approved case", page, "Approved", approved.PreauthRef, "Pre-authorisation reference", "Answered",
		"Submit the final claim from the bill", "Ask for an enhancement")

	// The final claim, partly approved and paid.
	resp, _ = e.post(t, clerk, caseURL+"/claim", url.Values{"csrf_token": {csrfToken(t, page)}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != caseURL {
		t.Fatalf("the claim: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	e.waitCase(t, caseID, func(c claims.Case) bool { return c.Status == claims.StatusPaid && c.ApprovedAmount != "" })
	_, page, _ = fetchPage(t, clerk, e.URL+caseURL)
	contains(t, "the paid case", page, "Payment notice", `data-testid="payment-utr">UTRKSG20251020`, `data-testid="payment-amount">₹30,000.00`,
		"20 Oct 2025", "Acknowledge the payment", "Bank reference (UTR)")
	mid = regexp.MustCompile(`name="message" value="(\d+)"`).FindStringSubmatch(page)[1]
	resp, page = e.post(t, clerk, caseURL+"/acknowledge", url.Values{"csrf_token": {csrfToken(t, page)}, "message": {mid}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("acknowledging: %d", resp.StatusCode)
	}
	contains(t, "the acknowledged case", page, "The payment acknowledgement is on its way", "Acknowledged")
	waitUntil(t, func() bool {
		ms := e.Sandbox.NHCX.Messages(nhcx.Filter{Path: hcx.PathPaymentNoticeOnRequest})
		return len(ms) == 1 && ms[0].Outcome == "payment acknowledged"
	})
	contains(t, "the ledger", page, "Coverage check", "Pre-authorisation request", "Payer&#39;s query", "Our answer to the query",
		"Final claim", "Payment notice", "Payment acknowledgement")

	// Each step is in the audit log, under the clerk.
	for _, action := range []string{"billing.check", "billing.preauth", "billing.answer", "billing.claim", "billing.ack"} {
		if n := auditCount(t, e.Env, "demo-"+billingMysuru, action); n != 1 {
			t.Errorf("%d %s audit events, want 1", n, action)
		}
	}

	// The home page lists the case among the closed ones.
	_, page, _ = fetchPage(t, clerk, e.URL+"/billing")
	contains(t, "the billing home", page, `data-testid="closed-cases-table"`, "Kavya Shetty", "Paid", "₹30,000.00")
}

// TestBillingPagesRefuseBadInput checks that what cannot be sent is said
// plainly, nothing is sent, and what was typed is kept.
func TestBillingPagesRefuseBadInput(t *testing.T) {
	e := startBillingEnv(t)
	clerk := e.signedIn(t, billingMysuru)
	patientURL := "/billing/patients/" + e.Kavya
	_, page, _ := fetchPage(t, clerk, e.URL+patientURL)
	token := csrfToken(t, page)

	// Coverage without a policy or member id, and a date that is not one.
	resp, page := e.post(t, clerk, patientURL+"/coverage", url.Values{"csrf_token": {token}, "payer": {demo.InsurerPayerCode},
		"plan": {"Family Floater"}, "relationship": {"spouse"}, "from": {"2025-13-40"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad coverage: %d", resp.StatusCode)
	}
	contains(t, "the refused coverage", page, "The coverage was not saved:", "The start date is not a date",
		`value="Family Floater"`, `value="spouse" selected`)
	resp, page = e.post(t, clerk, patientURL+"/coverage", url.Values{"csrf_token": {token}, "payer": {demo.InsurerPayerCode},
		"plan": {"Family Floater"}, "relationship": {"spouse"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("coverage without ids: %d", resp.StatusCode)
	}
	contains(t, "the refused coverage", page, "Give the policy number or the member id", `value="Family Floater"`)
	resp, page = e.post(t, clerk, patientURL+"/coverage", url.Values{"csrf_token": {token}, "payer": {demo.PMJAYPayerCode},
		"policy": {"PMJAY-KA-2026"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("PM-JAY coverage without a member id: %d", resp.StatusCode)
	}
	contains(t, "the refused PM-JAY coverage", page, "The member id is required for PM-JAY coverage", `value="PMJAY-KA-2026"`)
	// A good one is saved and listed.
	resp, page = e.post(t, clerk, patientURL+"/coverage", url.Values{"csrf_token": {token}, "payer": {demo.InsurerPayerCode},
		"policy": {"KSG/TOPUP/77"}, "from": {"2025-01-01"}, "to": {"2025-12-31"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "The coverage was saved.") || !strings.Contains(page, "KSG/TOPUP/77") {
		t.Fatalf("saving coverage: %d", resp.StatusCode)
	}

	// The send form without a coverage, with a bad estimate, with an
	// unknown action.
	encounterURL := patientURL + "/claim?encounter=" + url.QueryEscape(e.Mysuru)
	resp, page = e.post(t, clerk, encounterURL, url.Values{"csrf_token": {token}, "action": {"preauth"}, "estimate": {"45000"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("no coverage chosen: %d", resp.StatusCode)
	}
	contains(t, "the refused request", page, "Nothing was sent:", "The coverage is required: choose the coverage to claim under.", `value="45000"`)
	resp, page = e.post(t, clerk, encounterURL, url.Values{"csrf_token": {token}, "action": {"preauth"}, "coverage": {e.Insurer.ID}, "estimate": {"fifty thousand"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad estimate: %d", resp.StatusCode)
	}
	contains(t, "the refused estimate", page, "The estimated amount &#34;fifty thousand&#34; is not an amount in rupees", `value="fifty thousand"`,
		`value="`+e.Insurer.ID+`" checked`)
	if resp, _ = e.post(t, clerk, encounterURL, url.Values{"csrf_token": {token}, "action": {"pay-me"}, "coverage": {e.Insurer.ID}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown action: %d", resp.StatusCode)
	}
	// Without the CSRF token nothing happens.
	if resp, _ = e.post(t, clerk, encounterURL, url.Values{"action": {"check"}, "coverage": {e.Insurer.ID}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}

	// A case of Mysuru's, for the checks below.
	resp, _ = e.post(t, clerk, encounterURL, url.Values{"csrf_token": {token}, "action": {"check"}, "coverage": {e.Insurer.ID}})
	m := caseLink.FindStringSubmatch(resp.Request.URL.Path)
	if m == nil {
		t.Fatalf("the check went to %s", resp.Request.URL)
	}

	// The City Hospital clerk: Bengaluru bills nothing, Mysuru is not
	// theirs.
	city := e.signedIn(t, billingCity)
	_, page, _ = fetchPage(t, city, e.URL+patientURL)
	cityToken := csrfToken(t, page)
	bengaluruURL := patientURL + "/claim?encounter=" + url.QueryEscape(e.Bengaluru)
	resp, page = e.post(t, city, bengaluruURL, url.Values{"csrf_token": {cityToken}, "action": {"claim"}, "coverage": {e.Insurer.ID}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a claim without a bill: %d", resp.StatusCode)
	}
	contains(t, "the refused claim", page, "No bill recorded for this admission at Kaveri City Hospital")
	resp, page = e.post(t, city, encounterURL, url.Values{"csrf_token": {cityToken}, "action": {"check"}, "coverage": {e.Insurer.ID}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "You bill for Kaveri City Hospital only") {
		t.Errorf("another facility's stay: %d", resp.StatusCode)
	}
	if status, _, _ := fetchPage(t, city, e.URL+"/billing/cases/"+m[1]); status != http.StatusNotFound {
		t.Errorf("another facility's case: %d, want 404", status)
	}
	_, page, _ = fetchPage(t, city, e.URL+encounterURL)
	contains(t, "another facility's stay", page, "You bill for Kaveri City Hospital only")
	if strings.Contains(page, `data-testid="send-form"`) {
		t.Error("another facility's stay offers the send form")
	}
	if n := len(e.Sandbox.NHCX.Messages(nhcx.Filter{Path: hcx.PathClaimSubmit})); n != 0 {
		t.Errorf("%d refused claims reached the switch", n)
	}

	desk := e.signedIn(t, "frontdesk")
	if status, _, _ := fetchPage(t, desk, e.URL+patientURL); status != http.StatusForbidden {
		t.Errorf("front desk on a billing page: %d", status)
	}
	if status, _, _ := fetchPage(t, clerk, e.URL+"/billing/patients/not-an-id"); status != http.StatusBadRequest {
		t.Errorf("a malformed patient id: %d", status)
	}
	if status, page, _ := fetchPage(t, clerk, e.URL+"/billing?q=x"); status != http.StatusBadRequest || !strings.Contains(page, html.EscapeString("Give a name with the year of birth")) {
		t.Errorf("a search the index cannot use: %d", status)
	}
}

// TestBillingWithoutNHCX: a Sangam without NHCX says so.
func TestBillingWithoutNHCX(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	c := servertest.NewClient(t)
	env.SignIn(t, c, "billing", identity.DemoPassword)
	status, page, _ := fetchPage(t, c, env.URL+"/billing")
	if status != http.StatusOK || !strings.Contains(page, "Claims are not set up on this Sangam") {
		t.Errorf("billing home without NHCX: %d", status)
	}
	status, page, _ = fetchPage(t, c, env.URL+"/billing/patients/0b6f7c1e-5d8a-4c1e-9a43-2f0e6d1b7a55")
	if status != http.StatusServiceUnavailable || !strings.Contains(page, "Claims are not set up here") {
		t.Errorf("a billing page without NHCX: %d", status)
	}
}
