package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server/servertest"
)

// claimsAudit counts the tenant's audit events of an action.
func (e *billingEnv) claimsAudit(t *testing.T, action string) int {
	t.Helper()
	var n int
	must(t, database.InTenant(context.Background(), e.DB.App, e.Tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1`, action).Scan(&n)
	}))
	return n
}

// TestAdminPayersAddPayerAndEmpanelment: the administrator adds an
// insurer and empanels a facility with its scheme; both are listed, the
// change is audited, and the billing desk sees the new empanelment.
func TestAdminPayersAddPayerAndEmpanelment(t *testing.T) {
	e := startBillingEnv(t)
	admin := e.signedIn(t, "admin")

	status, page, _ := fetchPage(t, admin, e.URL+"/admin")
	if status != http.StatusOK || !strings.Contains(page, `href="/admin/payers"`) {
		t.Errorf("the admin home does not link the payers page: %d", status)
	}
	status, page, _ = fetchPage(t, admin, e.URL+"/admin/payers")
	if status != http.StatusOK {
		t.Fatalf("payers page: %d %s", status, page)
	}
	contains(t, "the payers page", page, demo.InsurerPayerCode, "Kaveri Suraksha General Insurance (demo)",
		"Kaveri City Hospital", "Kaveri Women and Child Hospital", `data-testid="payer-form"`, `data-testid="empanelment-form"`,
		`<option value="`+e.MysuruID+`">`)
	token := csrfToken(t, page)

	const code = "1000007777@hcx"
	resp, page := e.post(t, admin, "/admin/payers", url.Values{"csrf_token": {token}, "code": {" 1000007777@HCX "},
		"name": {"Star Test Health"}, "scheme_kind": {"private_insurer"}, "active": {"1"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/payers" {
		t.Fatalf("saving a payer: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	contains(t, "the page after saving a payer", page, "The payer was saved.", "<code>"+code+"</code>", "Star Test Health",
		`<option value="`+code+`">Star Test Health (`+code+`)</option>`)

	// Changing it: the form comes filled in, and saving again changes it.
	_, page, _ = fetchPage(t, admin, e.URL+"/admin/payers?payer="+url.QueryEscape(code))
	contains(t, "the payer's change form", page, `value="`+code+`"`, `value="Star Test Health"`, `value="private_insurer" selected`)
	resp, page = e.post(t, admin, "/admin/payers", url.Values{"csrf_token": {token}, "code": {code},
		"name": {"Star Health and Allied (test)"}, "scheme_kind": {"private_insurer"}, "active": {"1"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Star Health and Allied (test)") {
		t.Fatalf("changing a payer: %d", resp.StatusCode)
	}
	ps, err := e.Workflow.Payers(context.Background(), e.Tenant)
	must(t, err)
	found := 0
	for _, p := range ps {
		if p.Code == code {
			found++
			if p.Name != "Star Health and Allied (test)" || p.SchemeKind != claims.SchemePrivateInsurer || !p.Active {
				t.Errorf("saved payer: %+v", p)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d payers with code %s, want 1", found, code)
	}

	// Empanel Mysuru with its comprehensive scheme, open-ended, and City
	// with a scheme that ended.
	resp, page = e.post(t, admin, "/admin/payers/empanelments", url.Values{"csrf_token": {token}, "facility": {e.MysuruID},
		"payer": {code}, "scheme_name": {"Star Comprehensive"}, "scheme_code": {"STAR-COMP-01"}, "valid_from": {"2025-04-01"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/payers" {
		t.Fatalf("saving an empanelment: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	contains(t, "the page after saving an empanelment", page, "The empanelment was saved.", "Star Comprehensive",
		"<code>STAR-COMP-01</code>", "1 Apr 2025", "No end date")
	resp, page = e.post(t, admin, "/admin/payers/empanelments", url.Values{"csrf_token": {token}, "facility": {e.CityID},
		"payer": {code}, "scheme_name": {"Star Old Plan"}, "scheme_code": {"STAR-OLD"}, "valid_from": {"2020-01-01"}, "valid_to": {"2020-12-31"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("saving an ended empanelment: %d\n%s", resp.StatusCode, page)
	}
	comp := rowWith(t, page, "STAR-COMP-01")
	old := rowWith(t, page, "STAR-OLD")
	if !strings.Contains(comp, ">In force<") || !strings.Contains(old, ">Not in force<") || !strings.Contains(old, "31 Dec 2020") {
		t.Errorf("in force today: open-ended row %q, ended row %q", comp, old)
	}
	es, err := e.Workflow.Empanelments(context.Background(), e.Tenant, e.MysuruID)
	must(t, err)
	var saved *claims.Empanelment
	for i := range es {
		if es[i].PayerCode == code {
			saved = &es[i]
		}
	}
	if saved == nil || saved.SchemeCode != "STAR-COMP-01" || saved.ValidFrom.Format("2006-01-02") != "2025-04-01" || !saved.ValidTo.IsZero() {
		t.Errorf("saved empanelment: %+v", saved)
	}
	if n := e.claimsAudit(t, "claims.payer_saved"); n != 2 {
		t.Errorf("%d payer changes audited, want 2", n)
	}
	if n := e.claimsAudit(t, "claims.empanelment_saved"); n != 2 {
		t.Errorf("%d empanelments audited, want 2", n)
	}

	// The billing desk sees it on the patient's page.
	clerk := e.signedIn(t, billingMysuru)
	status, page, _ = fetchPage(t, clerk, e.URL+"/billing/patients/"+e.Kavya)
	if status != http.StatusOK {
		t.Fatalf("billing patient page: %d", status)
	}
	contains(t, "the billing patient page", page, "Star Health and Allied (test)", "Star Comprehensive STAR-COMP-01")
}

// rowWith is the table row of page that contains s.
func rowWith(t *testing.T, page, s string) string {
	t.Helper()
	i := strings.Index(page, s)
	if i < 0 {
		t.Fatalf("no row with %q", s)
	}
	start := strings.LastIndex(page[:i], "<tr")
	end := strings.Index(page[i:], "</tr>")
	if start < 0 || end < 0 {
		t.Fatalf("%q is not in a table row", s)
	}
	return page[start : i+end]
}

// TestAdminPayersRefuseBadInput: bad input is refused beside its field,
// with the form as typed, and nothing is saved or audited; billing staff
// cannot use the page.
func TestAdminPayersRefuseBadInput(t *testing.T) {
	e := startBillingEnv(t)
	admin := e.signedIn(t, "admin")
	ctx := context.Background()
	payersBefore, err := e.Workflow.Payers(ctx, e.Tenant)
	must(t, err)
	empsBefore, err := e.Workflow.Empanelments(ctx, e.Tenant, "")
	must(t, err)
	_, page, _ := fetchPage(t, admin, e.URL+"/admin/payers")
	token := csrfToken(t, page)

	cases := []struct {
		name   string
		path   string
		form   url.Values
		wants  []string
		absent []string
	}{
		{
			name: "empty code", path: "/admin/payers",
			form: url.Values{"name": {"Nameless Insurer"}, "scheme_kind": {"tpa"}},
			wants: []string{`data-testid="payer-code-error"`, "The participant code is required", `value="Nameless Insurer"`,
				`value="tpa" selected`, `aria-invalid="true"`},
			absent: []string{`data-testid="payer-name-error"`, `name="active" value="1" checked`},
		},
		{
			name: "unknown scheme kind", path: "/admin/payers",
			form: url.Values{"code": {"1000008888@hcx"}, "name": {"Charity Fund"}, "scheme_kind": {"charity"}, "active": {"1"}},
			wants: []string{`data-testid="payer-kind-error"`, html.EscapeString(`The kind "charity" is not one of pmjay, state_scheme, private_insurer, tpa.`),
				`value="1000008888@hcx"`, `value="Charity Fund"`, `name="active" value="1" checked`},
			absent: []string{`data-testid="payer-code-error"`},
		},
		{
			name: "no scheme kind and a malformed code", path: "/admin/payers",
			form:  url.Values{"code": {"star health"}, "name": {"Star"}},
			wants: []string{"Choose the kind of payer.", html.EscapeString(`The participant code "star health" is not an NHCX participant code`), `value="star health"`},
		},
		{
			name: "valid to before valid from", path: "/admin/payers/empanelments",
			form: url.Values{"facility": {e.MysuruID}, "payer": {demo.InsurerPayerCode}, "scheme_name": {"Bad dates"},
				"scheme_code": {"BAD-1"}, "valid_from": {"2025-06-01"}, "valid_to": {"2025-05-01"}},
			wants: []string{`data-testid="emp-to-error"`, "The end date is before the start date.", `value="Bad dates"`, `value="BAD-1"`,
				`value="2025-06-01"`, `value="2025-05-01"`, `value="` + e.MysuruID + `" selected`, `value="` + demo.InsurerPayerCode + `" selected`},
			absent: []string{`data-testid="emp-from-error"`, `data-testid="emp-facility-error"`},
		},
		{
			name: "unknown facility", path: "/admin/payers/empanelments",
			form: url.Values{"facility": {uuid.NewString()}, "payer": {demo.InsurerPayerCode}, "scheme_name": {"Ghost scheme"},
				"valid_from": {"2025-04-01"}},
			wants: []string{`data-testid="emp-facility-error"`, "This is not one of your facilities", `value="Ghost scheme"`,
				`value="2025-04-01"`},
		},
		{
			name: "no start date, and not a date", path: "/admin/payers/empanelments",
			form:  url.Values{"facility": {e.CityID}, "payer": {demo.InsurerPayerCode}, "valid_to": {"31/03/2026"}},
			wants: []string{"Give the date the empanelment starts.", "The end date is not a date", `value="31/03/2026"`},
		},
		{
			name: "a payer the tenant does not have", path: "/admin/payers/empanelments",
			form: url.Values{"facility": {e.CityID}, "payer": {"1000009999@hcx"}, "scheme_name": {"Elsewhere"}, "valid_from": {"2025-04-01"}},
			wants: []string{`data-testid="emp-payer-error"`, html.EscapeString("The payer 1000009999@hcx is not one of the tenant's payers"),
				`value="Elsewhere"`},
		},
	}
	for _, tc := range cases {
		tc.form.Set("csrf_token", token)
		resp, page := e.post(t, admin, tc.path, tc.form)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", tc.name, resp.StatusCode)
			continue
		}
		contains(t, tc.name, page, tc.wants...)
		for _, a := range tc.absent {
			if strings.Contains(page, a) {
				t.Errorf("%s: the page has %q", tc.name, a)
			}
		}
	}

	// Without the CSRF token nothing happens.
	if resp, _ := e.post(t, admin, "/admin/payers", url.Values{"code": {"1000008889@hcx"}, "name": {"No token"}, "scheme_kind": {"tpa"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", resp.StatusCode)
	}
	// Billing staff use payers but do not set them up.
	clerk := e.signedIn(t, billingMysuru)
	if status, _, _ := fetchPage(t, clerk, e.URL+"/admin/payers"); status != http.StatusForbidden {
		t.Errorf("a billing user on the payers page: %d, want 403", status)
	}
	_, page, _ = fetchPage(t, clerk, e.URL+"/billing")
	if resp, _ := e.post(t, clerk, "/admin/payers", url.Values{"csrf_token": {csrfToken(t, page)}, "code": {"1000008890@hcx"},
		"name": {"By billing"}, "scheme_kind": {"tpa"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a billing user saving a payer: %d, want 403", resp.StatusCode)
	}

	payersAfter, err := e.Workflow.Payers(ctx, e.Tenant)
	must(t, err)
	empsAfter, err := e.Workflow.Empanelments(ctx, e.Tenant, "")
	must(t, err)
	if len(payersAfter) != len(payersBefore) || len(empsAfter) != len(empsBefore) {
		t.Errorf("refused input saved something: payers %d → %d, empanelments %d → %d",
			len(payersBefore), len(payersAfter), len(empsBefore), len(empsAfter))
	}
	for _, a := range []string{"claims.payer_saved", "claims.empanelment_saved"} {
		if n := e.claimsAudit(t, a); n != 0 {
			t.Errorf("%d %s events after refusals", n, a)
		}
	}
}

// TestAdminPayersWithoutNHCX: a Sangam without NHCX says so on the page.
func TestAdminPayersWithoutNHCX(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	c := servertest.NewClient(t)
	env.SignIn(t, c, "admin", identity.DemoPassword)
	status, page, _ := fetchPage(t, c, env.URL+"/admin/payers")
	if status != http.StatusServiceUnavailable || !strings.Contains(page, "Claims are not set up here") {
		t.Errorf("the payers page without NHCX: %d", status)
	}
}
