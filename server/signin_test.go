package server_test

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server/servertest"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// get fetches url with client without following redirects.
func get(t *testing.T, client *http.Client, rawURL string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, noFollow(client), req)
}

func do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// noFollow is client (same jar) without redirect following.
func noFollow(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfToken(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("page has no csrf_token field")
	}
	return m[1]
}

func sessionCount(t *testing.T, env *servertest.Env, subject string) int {
	t.Helper()
	var n int
	err := database.InTenant(context.Background(), env.DB.App, env.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM staff_sessions WHERE subject = $1", subject).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func auditCount(t *testing.T, env *servertest.Env, actor, action string) int {
	t.Helper()
	var n int
	err := database.InTenant(context.Background(), env.DB.App, env.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE actor = $1 AND action = $2", actor, action).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSignInAndOut walks the whole journey without a browser: sign-in
// page, provider login form, callback, home page, sign-out through the
// provider's end_session endpoint.
func TestSignInAndOut(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	signedInBefore := auditCount(t, env, "demo-doctor", "staff.signed_in")
	signedOutBefore := auditCount(t, env, "demo-doctor", "staff.signed_out")

	resp, body := do(t, client, mustRequest(t, http.MethodGet, env.URL+"/", nil))
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `id="sign-in"`) {
		t.Fatalf("/ without a session ended at %s, want the sign-in page", resp.Request.URL)
	}

	// Capture the callback's Set-Cookie on the way through.
	var sessionSetCookie string
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Response != nil && req.Response.Request.URL.Path == "/auth/callback" {
			for _, c := range req.Response.Header.Values("Set-Cookie") {
				if strings.HasPrefix(c, "sangam_session=") {
					sessionSetCookie = c
				}
			}
		}
		return nil
	}
	res := env.SignIn(t, client, "doctor", identity.DemoPassword)
	client.CheckRedirect = nil
	if res.Status != http.StatusOK || res.URL.Path != "/doctor" || !strings.Contains(res.Body, "<h1>Doctor</h1>") {
		t.Fatalf("sign-in ended at %s (status %d), want the doctor's home; body:\n%s", res.URL, res.Status, res.Body)
	}
	for _, attr := range []string{"httponly", "samesite=lax", "path=/"} {
		if !strings.Contains(strings.ToLower(sessionSetCookie), attr) {
			t.Errorf("session cookie %q lacks %s", sessionSetCookie, attr)
		}
	}
	if strings.Contains(sessionSetCookie, "Secure") {
		t.Errorf("session cookie %q is Secure on an http public URL", sessionSetCookie)
	}

	// Only the hash of the cookie is stored.
	u, _ := url.Parse(env.URL)
	var value string
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == "sangam_session" {
			value = c.Value
		}
	}
	if !strings.HasPrefix(value, env.TenantID+".") {
		t.Fatalf("session cookie %q does not start with the tenant id %s", value, env.TenantID)
	}
	sum := sha256.Sum256([]byte(value))
	var stored int
	err := database.InTenant(context.Background(), env.DB.App, env.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM staff_sessions WHERE id_hash = $1 AND subject = 'demo-doctor'", sum[:]).Scan(&stored)
	})
	if err != nil || stored != 1 {
		t.Fatalf("sessions stored under the cookie's SHA-256: %d, %v; want 1", stored, err)
	}
	if got := auditCount(t, env, "demo-doctor", "staff.signed_in"); got != signedInBefore+1 {
		t.Errorf("staff.signed_in audit events: got %d, want %d", got, signedInBefore+1)
	}

	// Signed in, "/" goes home.
	resp, _ = get(t, client, env.URL+"/", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/doctor" {
		t.Errorf("/ when signed in: got %d to %q, want 303 to /doctor", resp.StatusCode, loc)
	}

	// Sign out: through the provider's end_session, back to /signed-out.
	form := url.Values{"csrf_token": {csrfToken(t, res.Body)}}
	resp, body = do(t, client, mustRequest(t, http.MethodPost, env.URL+"/logout", form))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != env.URL+"/signed-out" || !strings.Contains(body, "You have signed out.") {
		t.Fatalf("sign-out ended at %s (status %d), want %s/signed-out", resp.Request.URL, resp.StatusCode, env.URL)
	}
	if n := sessionCount(t, env, "demo-doctor"); n != 0 {
		t.Errorf("doctor sessions after sign-out: %d, want 0", n)
	}
	if got := auditCount(t, env, "demo-doctor", "staff.signed_out"); got != signedOutBefore+1 {
		t.Errorf("staff.signed_out audit events: got %d, want %d", got, signedOutBefore+1)
	}
	resp, _ = get(t, client, env.URL+"/doctor", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fdoctor" {
		t.Errorf("/doctor after sign-out: got %d to %q, want 303 to the sign-in page", resp.StatusCode, loc)
	}
}

func mustRequest(t *testing.T, method, rawURL string, form url.Values) *http.Request {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// TestRoleHomes signs in every demo user and checks that each reaches only
// the home pages of their own role.
func TestRoleHomes(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	homes := map[string]string{"front-desk": "/front-desk", "doctor": "/doctor", "billing": "/billing", "admin": "/admin"}
	headings := map[string]string{"front-desk": "<h1>Front desk</h1>", "doctor": "<h1>Doctor</h1>", "billing": "<h1>Billing</h1>", "admin": "<h1>Administration</h1>"}
	for _, user := range identity.DemoUsers(nil) {
		role := user.Roles[0]
		t.Run(role, func(t *testing.T) {
			client := servertest.NewClient(t)
			res := env.SignIn(t, client, user.Username, identity.DemoPassword)
			if res.Status != http.StatusOK || res.URL.Path != homes[role] || !strings.Contains(res.Body, headings[role]) {
				t.Fatalf("sign-in ended at %s (%d), want %s with %s", res.URL, res.Status, homes[role], headings[role])
			}
			for other, path := range homes {
				resp, body := get(t, client, env.URL+path, nil)
				if other == role {
					if resp.StatusCode != http.StatusOK {
						t.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
					}
					continue
				}
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "needs the “"+other+"” role") {
					t.Errorf("GET %s as %s: status %d, want 403 naming the %q role; body:\n%s", path, role, resp.StatusCode, other, body)
				}
			}
		})
	}
}

// TestHomePagesShowTheDatabase checks that the admin and front-desk pages
// list what the demo group holds, not fixed text.
func TestHomePagesShowTheDatabase(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	admin := servertest.NewClient(t)
	res := env.SignIn(t, admin, "admin", identity.DemoPassword)
	for _, want := range []string{"IN2910000231", "KAVERI-MYS-02", "22 BM Road, Hassan 573201", "LabTrack LIMS", "radview", "Maternity desk"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("admin page lacks %q", want)
		}
	}
	// A counter added now shows up: the page reads the database.
	_, err := env.DB.Owner.Exec(context.Background(), `
		INSERT INTO counters (tenant_id, facility_id, code, name)
		SELECT tenant_id, id, 'TEST9', 'Counter added by the test' FROM facilities WHERE hfr_id = 'IN2910000231'`)
	if err != nil {
		t.Fatal(err)
	}
	front := servertest.NewClient(t)
	res = env.SignIn(t, front, "frontdesk", identity.DemoPassword)
	if !strings.Contains(res.Body, "Counter added by the test") || !strings.Contains(res.Body, "Emergency desk") {
		t.Errorf("front-desk page lacks the facility's counters:\n%s", res.Body)
	}
	// The front desk acts for the first facility only.
	if strings.Contains(res.Body, "Maternity desk") {
		t.Errorf("front-desk page shows another facility's counter")
	}
}

func TestUnauthenticated(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	tests := []struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantLocation       string
		wantHXRedirect     string
	}{
		{"page", "GET", "/admin?tab=x", nil, http.StatusSeeOther, "/login?next=%2Fadmin%3Ftab%3Dx", ""},
		{"htmx", "GET", "/admin", map[string]string{"HX-Request": "true"}, http.StatusUnauthorized, "", "/login"},
		{"post", "POST", "/logout", nil, http.StatusSeeOther, "/login", ""},
		{"forged cookie", "GET", "/doctor", map[string]string{"Cookie": "sangam_session=" + env.TenantID + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, http.StatusSeeOther, "/login?next=%2Fdoctor", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := mustRequest(t, tc.method, env.URL+tc.path, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, _ := do(t, noFollow(client), req)
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("Location") != tc.wantLocation || resp.Header.Get("HX-Redirect") != tc.wantHXRedirect {
				t.Errorf("got %d, Location %q, HX-Redirect %q; want %d, %q, %q", resp.StatusCode,
					resp.Header.Get("Location"), resp.Header.Get("HX-Redirect"), tc.wantStatus, tc.wantLocation, tc.wantHXRedirect)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	res := env.SignIn(t, client, "billing", identity.DemoPassword)
	token := csrfToken(t, res.Body)
	sessions := sessionCount(t, env, "demo-billing")

	refused := []struct {
		name   string
		form   url.Values
		header string
	}{
		{"no token", url.Values{}, ""},
		{"wrong form token", url.Values{"csrf_token": {token + "x"}}, ""},
		{"wrong header", url.Values{}, "not-the-token"},
		{"empty form token", url.Values{"csrf_token": {""}}, ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			req := mustRequest(t, http.MethodPost, env.URL+"/logout", tc.form)
			if tc.header != "" {
				req.Header.Set("X-CSRF-Token", tc.header)
			}
			resp, body := do(t, noFollow(client), req)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
				t.Errorf("status %d, want 403 explaining the token; body:\n%s", resp.StatusCode, body)
			}
			if n := sessionCount(t, env, "demo-billing"); n != sessions {
				t.Errorf("billing sessions after a refused sign-out: %d, want %d", n, sessions)
			}
		})
	}

	// A token from another session is refused too.
	other := servertest.NewClient(t)
	otherPage := env.SignIn(t, other, "billing", identity.DemoPassword)
	req := mustRequest(t, http.MethodPost, env.URL+"/logout", url.Values{"csrf_token": {csrfToken(t, otherPage.Body)}})
	if resp, _ := do(t, noFollow(client), req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: status %d, want 403", resp.StatusCode)
	}

	// htmx sends the token in a header and follows HX-Redirect.
	req = mustRequest(t, http.MethodPost, env.URL+"/logout", nil)
	req.Header.Set("X-CSRF-Token", token)
	req.Header.Set("HX-Request", "true")
	resp, _ := do(t, noFollow(client), req)
	if hx := resp.Header.Get("HX-Redirect"); resp.StatusCode != http.StatusNoContent || !strings.HasPrefix(hx, env.Issuer+"/end_session?") {
		t.Errorf("htmx sign-out: status %d, HX-Redirect %q; want 204 to the provider's end_session", resp.StatusCode, hx)
	}
	if n := sessionCount(t, env, "demo-billing"); n != sessions {
		t.Errorf("billing sessions after one of two signed out: %d, want %d (the other session's)", n, sessions)
	}
}

// TestCallbackRefusesBadState: a callback whose state is not the one this
// browser started with never creates a session, even with a valid code.
func TestCallbackRefusesBadState(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	sessions := sessionCount(t, env, "demo-frontdesk")

	// Sign in at the provider but stop before Sangam's callback.
	var callback *url.URL
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			callback = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	env.SignIn(t, client, "frontdesk", identity.DemoPassword)
	client.CheckRedirect = nil
	if callback == nil || callback.Query().Get("code") == "" {
		t.Fatalf("the provider did not redirect to the callback with a code")
	}

	tampered := *callback
	q := tampered.Query()
	q.Set("state", "forged-"+q.Get("state"))
	tampered.RawQuery = q.Encode()
	resp, body := get(t, client, tampered.String(), nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "could not be matched") {
		t.Errorf("forged state: status %d, want 400 with an explanation; body:\n%s", resp.StatusCode, body)
	}
	// The sign-in cookie was single use: the genuine callback now fails too.
	resp, _ = get(t, client, callback.String(), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback after a refused one: status %d, want 400", resp.StatusCode)
	}
	// And a browser that never started a sign-in is refused.
	resp, _ = get(t, servertest.NewClient(t), callback.String(), nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback in another browser: status %d, want 400", resp.StatusCode)
	}
	if n := sessionCount(t, env, "demo-frontdesk"); n != sessions {
		t.Errorf("front-desk sessions: %d, want %d (no new one)", n, sessions)
	}

	resp, body = get(t, client, env.URL+"/auth/callback?error=access_denied&state=x", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "did not let you sign in") {
		t.Errorf("provider error: status %d, want 401 with an explanation", resp.StatusCode)
	}
}

func TestSignInRefusedWithoutRole(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Users: []identity.User{{
		Subject: "nurse-1", Username: "nurse", Password: "pw", Name: "A Nurse", Roles: []string{"nurse"},
	}}})
	res := env.SignIn(t, servertest.NewClient(t), "nurse", "pw")
	if res.Status != http.StatusForbidden || res.URL.Path != "/auth/callback" || !strings.Contains(res.Body, "none of Sangam") {
		t.Errorf("sign-in without a role ended at %s with %d, want 403 on the sign-in page; body:\n%s", res.URL, res.Status, res.Body)
	}
	if n := sessionCount(t, env, "nurse-1"); n != 0 {
		t.Errorf("sessions for a user without a role: %d", n)
	}
}

// TestNextIsKept: a bookmarked page sends the user to sign in and back to
// it; a return address off the site is ignored.
func TestNextIsKept(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)
	resp, body := do(t, client, mustRequest(t, http.MethodGet, env.URL+"/admin?tab=1", nil))
	if resp.Request.URL.Path != "/login" || !strings.Contains(body, `name="next" value="/admin?tab=1"`) {
		t.Fatalf("GET /admin signed out ended at %s without next:\n%s", resp.Request.URL, body)
	}
	res := env.SignInAt(t, client, env.URL+"/auth/login?next=%2Fadmin%3Ftab%3D1", "admin", identity.DemoPassword)
	if res.Status != http.StatusOK || res.URL.String() != env.URL+"/admin?tab=1" {
		t.Errorf("sign-in with next ended at %s (%d), want /admin?tab=1", res.URL, res.Status)
	}
	res = env.SignInAt(t, servertest.NewClient(t), env.URL+"/auth/login?next=%2F%2Fevil.example%2F", "admin", identity.DemoPassword)
	if res.Status != http.StatusOK || res.URL.String() != env.URL+"/admin" {
		t.Errorf("sign-in with an off-site next ended at %s (%d), want %s/admin", res.URL, res.Status, env.URL)
	}
}
