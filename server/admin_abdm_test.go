package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server/servertest"
)

// signInAdmin signs a fresh browser in as the demo administrator and
// returns it with its CSRF token.
func (e *abdmEnv) signInAdmin(t *testing.T) (*http.Client, string) {
	t.Helper()
	client := servertest.NewClient(t)
	res := e.SignIn(t, client, "admin", identity.DemoPassword)
	if res.URL.Path != "/admin" {
		t.Fatalf("admin sign-in ended at %s (status %d)", res.URL, res.Status)
	}
	return client, csrfToken(t, res.Body)
}

// post sends a form without following redirects.
func (e *abdmEnv) post(t *testing.T, client *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return do(t, noFollow(client), mustRequest(t, http.MethodPost, e.URL+path, form))
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s contains %q", what, u)
		}
	}
}

func wantRedirect(t *testing.T, resp *http.Response, body, location string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Fatalf("status %d to %q, want 303 to %q; body:\n%s", resp.StatusCode, resp.Header.Get("Location"), location, body)
	}
}

// TestABDMConnection walks the onboarding an administrator does on the
// page: a refused secret stores nothing, the right one is stored in the
// key store, registering points the gateway at this Sangam, and the
// facility table says which facilities can serve M2.
func TestABDMConnection(t *testing.T) {
	e := startABDM(t, nil)
	admin, token := e.signInAdmin(t)
	bridgeURL := e.URL + "/bridge/" + e.Slug

	resp, page := get(t, admin, e.URL+"/admin/abdm", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/abdm: %d\n%s", resp.StatusCode, page)
	}
	mustContain(t, "the page before onboarding", page, `data-testid="not-connected"`, "0 of 3 facilities can serve M2.",
		e.Names[0], e.HIPs[2], "no ABDM client credentials yet", `type="password"`, `autocomplete="off"`)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}

	// A wrong secret: refused by the gateway, nothing stored, the client id
	// kept in the form, the secret not echoed.
	const wrong = "not-the-secret-4711"
	resp, page = e.post(t, admin, "/admin/abdm/credentials", url.Values{"csrf_token": {token}, "client_id": {testClientID}, "client_secret": {wrong}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong secret: status %d, want 422\n%s", resp.StatusCode, page)
	}
	mustContain(t, "the refusal", page, "did not accept this client id and secret, so nothing was stored", `value="`+testClientID+`"`)
	mustNotContain(t, "the refusal", page, wrong)
	if got := e.storedSecret(t); got != "" {
		t.Errorf("a refused secret was stored: %q", got)
	}
	if n := e.count(t, "SELECT count(*) FROM bridge_tenants"); n != 0 {
		t.Errorf("%d bridge_tenants rows after a refused secret, want 0", n)
	}
	if n := auditCount(t, e.Env, "demo-admin", "abdm.credentials_refused"); n != 1 {
		t.Errorf("%d credentials_refused audit events, want 1", n)
	}

	// Empty fields never reach the gateway.
	resp, page = e.post(t, admin, "/admin/abdm/credentials", url.Values{"csrf_token": {token}, "client_id": {testClientID}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Enter the client secret.") {
		t.Errorf("empty secret: status %d, want 422 asking for it", resp.StatusCode)
	}

	// The right secret: stored in the key store, never in a plain column.
	resp, page = e.post(t, admin, "/admin/abdm/credentials", url.Values{"csrf_token": {token}, "client_id": {" " + testClientID + " "}, "client_secret": {testSecret}})
	wantRedirect(t, resp, page, "/admin/abdm?notice=credentials-saved")
	if got := e.storedSecret(t); got != testSecret {
		t.Errorf("key store holds %q, want the secret", got)
	}
	var clientID string
	e.query(t, "SELECT client_id FROM bridge_tenants", &clientID)
	if clientID != testClientID {
		t.Errorf("stored client id %q, want %q", clientID, testClientID)
	}
	if n := e.count(t, "SELECT count(*) FROM bridge_tenants b WHERE row_to_json(b)::text LIKE '%' || $1 || '%'", testSecret); n != 0 {
		t.Error("the secret is in bridge_tenants in plain text")
	}
	if n := e.count(t, "SELECT count(*) FROM key_secrets k WHERE row_to_json(k)::text LIKE '%' || $1 || '%'", testSecret); n != 0 {
		t.Error("the secret is in key_secrets in plain text")
	}
	_, page = get(t, admin, e.URL+"/admin/abdm?notice=credentials-saved", nil)
	mustContain(t, "the page after saving", page, `data-testid="notice"`, "Stored: yes, in the key store",
		"<code>"+testClientID+"</code>", "Register bridge URL now", "Check registrations now", bridgeURL)
	mustNotContain(t, "the page after saving", page, testSecret, `data-testid="not-connected"`)

	// Checking before registering: the gateway has no bridge URL yet.
	resp, page = e.post(t, admin, "/admin/abdm/check", url.Values{"csrf_token": {token}})
	wantRedirect(t, resp, page, "/admin/abdm?notice=checked")
	_, page = get(t, admin, e.URL+"/admin/abdm", nil)
	mustContain(t, "the page after a check", page, `data-testid="url-warning"`, "has no bridge URL for client id "+testClientID)

	// Registering points the gateway at this Sangam and checks again.
	resp, page = e.post(t, admin, "/admin/abdm/register", url.Values{"csrf_token": {token}})
	wantRedirect(t, resp, page, "/admin/abdm?notice=registered")
	if got, _ := e.Gateway.BridgeURL(testClientID); got != bridgeURL {
		t.Errorf("gateway has bridge URL %q, want %q", got, bridgeURL)
	}
	_, page = get(t, admin, e.URL+"/admin/abdm?notice=registered", nil)
	mustContain(t, "the page after registering", page, "The bridge URL is registered", "1 of 3 facilities can serve M2.")
	mustNotContain(t, "the page after registering", page, `data-testid="url-warning"`, `data-testid="last-error"`)
	rows := registrationRows(t, page)
	for i, want := range []string{"Yes", "<strong>No.</strong> The gateway lists the service as inactive", "<strong>No.</strong> Its HIP id " + e.HIPs[2] + " is not an HIP service of client id " + testClientID} {
		if !strings.Contains(rows[e.HIPs[i]], want) {
			t.Errorf("facility %s row %q lacks %q", e.HIPs[i], rows[e.HIPs[i]], want)
		}
	}
	if !strings.Contains(rows[e.HIPs[0]], "active, HIP, HIU") {
		t.Errorf("registered facility row %q does not show the service types", rows[e.HIPs[0]])
	}
	if n := auditCount(t, e.Env, "demo-admin", "abdm.bridge_register"); n != 1 {
		t.Errorf("%d bridge_register audit events, want 1", n)
	}

	// Another system with the same client id takes the bridge URL: the next
	// check warns, naming both URLs.
	other, err := abdm.New(abdm.Config{GatewayURL: e.Gateway.URL(), CMID: abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: testClientID, ClientSecret: testSecret}, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PatchBridgeURL(context.Background(), "other", "https://other.example/bridge"); err != nil {
		t.Fatal(err)
	}
	resp, page = e.post(t, admin, "/admin/abdm/check", url.Values{"csrf_token": {token}})
	wantRedirect(t, resp, page, "/admin/abdm?notice=checked")
	_, page = get(t, admin, e.URL+"/admin/abdm", nil)
	mustContain(t, "the page after another system registered", page, `data-testid="url-warning"`,
		"callbacks to https://other.example/bridge, not to "+bridgeURL)

	// A wrong secret now leaves the stored credentials alone.
	resp, _ = e.post(t, admin, "/admin/abdm/credentials", url.Values{"csrf_token": {token}, "client_id": {"SBX_OTHER"}, "client_secret": {wrong}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("wrong credentials over stored ones: status %d, want 422", resp.StatusCode)
	}
	e.query(t, "SELECT client_id FROM bridge_tenants", &clientID)
	if got := e.storedSecret(t); got != testSecret || clientID != testClientID {
		t.Errorf("after a refusal the stored credentials are %q / %q, want them unchanged", clientID, got)
	}
}

// registrationRows maps each facility's HIP id to the text of its row.
func registrationRows(t *testing.T, page string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, part := range strings.Split(page, `<tr data-hip-id="`)[1:] {
		hip, rest, _ := strings.Cut(part, `"`)
		row, _, _ := strings.Cut(rest, "</tr>")
		out[hip] = row
	}
	return out
}

// TestABDMGatewayDown: a failed registration says so in plain language,
// with a 502, and the page keeps showing it as the last error.
func TestABDMGatewayDown(t *testing.T) {
	e := startABDM(t, nil)
	admin, token := e.signInAdmin(t)
	resp, page := e.post(t, admin, "/admin/abdm/credentials", url.Values{"csrf_token": {token}, "client_id": {testClientID}, "client_secret": {testSecret}})
	wantRedirect(t, resp, page, "/admin/abdm?notice=credentials-saved")

	if err := e.Gateway.SetFaults(testClientID, gateway.Faults{Paths: []string{abdm.PathBridgeURL}, FailAnswers: -1, FailStatus: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, page = e.post(t, admin, "/admin/abdm/register", url.Values{"csrf_token": {token}})
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("register with the gateway down: status %d, want 502\n%s", resp.StatusCode, page)
	}
	if time.Since(start) > 40*time.Second {
		t.Errorf("the failed registration took %s", time.Since(start))
	}
	mustContain(t, "the failure", page, `data-testid="problem"`, "Try again in a few minutes.", "HTTP 503")
	_, page = get(t, admin, e.URL+"/admin/abdm", nil)
	mustContain(t, "the page after the failure", page, `data-testid="last-error"`, "Try again in a few minutes.", "PATCH /gateway/v3/bridge/url")
	if n := auditCount(t, e.Env, "demo-admin", "abdm.bridge_register"); n != 1 {
		t.Errorf("%d bridge_register audit events for the failure, want 1", n)
	}
}

// TestABDMPagesNeedAdmin: every other role is refused every ABDM page and
// action, and nothing changes.
func TestABDMPagesNeedAdmin(t *testing.T) {
	e := startABDM(t, nil)
	for _, user := range []string{"frontdesk", "doctor", "billing"} {
		t.Run(user, func(t *testing.T) {
			client := servertest.NewClient(t)
			token := csrfToken(t, e.SignIn(t, client, user, identity.DemoPassword).Body)
			for _, path := range []string{"/admin/abdm", "/admin/ops", "/admin/ops/1", "/admin/ops?state=failed"} {
				if resp, body := get(t, client, e.URL+path, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "needs the “admin” role") {
					t.Errorf("GET %s: status %d, want 403 naming the admin role", path, resp.StatusCode)
				}
			}
			form := url.Values{"csrf_token": {token}, "client_id": {testClientID}, "client_secret": {testSecret}}
			for _, path := range []string{"/admin/abdm/credentials", "/admin/abdm/register", "/admin/abdm/check", "/admin/ops/1/replay", "/admin/ops/1/body"} {
				if resp, _ := e.post(t, client, path, form); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: status %d, want 403", path, resp.StatusCode)
				}
			}
		})
	}
	if got := e.storedSecret(t); got != "" {
		t.Error("a non-admin stored credentials")
	}
	// Without a session, pages send the browser to sign in.
	resp, _ := get(t, servertest.NewClient(t), e.URL+"/admin/ops", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=%2Fadmin%2Fops") {
		t.Errorf("anonymous GET /admin/ops: status %d to %q, want 303 to sign in", resp.StatusCode, loc)
	}
}

// TestABDMActionsNeedCSRF: the administrator's own POSTs without the
// session's token are refused and change nothing.
func TestABDMActionsNeedCSRF(t *testing.T) {
	e := startABDM(t, nil)
	admin, token := e.signInAdmin(t)
	for _, bad := range []url.Values{{}, {"csrf_token": {token + "x"}}} {
		for _, path := range []string{"/admin/abdm/credentials", "/admin/abdm/register", "/admin/abdm/check", "/admin/ops/1/replay", "/admin/ops/1/body"} {
			form := url.Values{"client_id": {testClientID}, "client_secret": {testSecret}}
			for k, v := range bad {
				form[k] = v
			}
			resp, body := e.post(t, admin, path, form)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
				t.Errorf("POST %s with token %q: status %d, want 403 about the token", path, bad.Get("csrf_token"), resp.StatusCode)
			}
		}
	}
	if got := e.storedSecret(t); got != "" {
		t.Error("credentials were stored without a CSRF token")
	}
	if got, _ := e.Gateway.BridgeURL(testClientID); got != "" {
		t.Errorf("the bridge URL %q was registered without a CSRF token", got)
	}
	if n := auditCount(t, e.Env, "demo-admin", "bridge.body_viewed"); n != 0 {
		t.Errorf("%d body views recorded without a CSRF token", n)
	}
}

// TestABDMPagesWithoutBridge: a Sangam run without its bridge says so
// instead of failing.
func TestABDMPagesWithoutBridge(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	home := env.SignIn(t, client, "admin", identity.DemoPassword)
	mustContain(t, "the admin home", home.Body, `href="/admin/abdm"`, `href="/admin/ops"`)
	for _, path := range []string{"/admin/abdm", "/admin/ops", "/admin/ops/1"} {
		resp, body := get(t, client, env.URL+path, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "ABDM is not set up here") {
			t.Errorf("GET %s without a bridge: status %d, want 503 saying so", path, resp.StatusCode)
		}
	}
}
