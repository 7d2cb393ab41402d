package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

var testFacilities = []string{"IN2710000001", "IN2710000002", "IN2710000003"}

const (
	testClientID     = "sangam"
	testClientSecret = "sangam-sandbox-secret"
)

// testBundle is one provider on a loopback server, a relying-party server
// that the browser is sent back to, and the RP's go-oidc + oauth2 setup.
type testBundle struct {
	ctx      context.Context
	issuer   string
	rp       *oidc.Provider
	oauth    oauth2.Config
	rpURL    string
	rpHits   *atomic.Int32 // requests that reached the RP's callback
	browser  *http.Client
	provider *Provider
}

type setupOpts struct {
	atRoot      bool // serve the provider at the root instead of under /oidc
	stripPrefix bool // mount under /oidc with http.StripPrefix
}

func setup(t *testing.T, opts setupOpts) *testBundle {
	t.Helper()
	ctx := t.Context()

	hits := new(atomic.Int32)
	rpMux := http.NewServeMux()
	rpMux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "relying party callback")
	})
	rpMux.HandleFunc("GET /signed-out", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "relying party signed out")
	})
	rpSrv := httptest.NewServer(rpMux)
	t.Cleanup(rpSrv.Close)

	// The OP shares its mux with other routes, as in the sandbox.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /other", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	issuer := srv.URL + "/oidc"
	if opts.atRoot {
		issuer = srv.URL
	}
	p, err := New(Config{
		Issuer: issuer,
		Clients: []Client{{
			ID:                     testClientID,
			Secret:                 testClientSecret,
			RedirectURIs:           []string{rpSrv.URL + "/auth/callback"},
			PostLogoutRedirectURIs: []string{rpSrv.URL + "/signed-out"},
		}},
		Users:  DemoUsers(testFacilities),
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	switch {
	case opts.atRoot:
		mux.Handle("/", p)
	case opts.stripPrefix:
		mux.Handle("/oidc/", http.StripPrefix("/oidc", p))
	default:
		mux.Handle("/oidc/", p)
	}

	rp, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &testBundle{
		ctx:    ctx,
		issuer: issuer,
		rp:     rp,
		oauth: oauth2.Config{
			ClientID:     testClientID,
			ClientSecret: testClientSecret,
			Endpoint:     rp.Endpoint(),
			RedirectURL:  rpSrv.URL + "/auth/callback",
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		},
		rpURL:    rpSrv.URL,
		rpHits:   hits,
		browser:  &http.Client{Jar: jar},
		provider: p,
	}
}

// attempt is one authorization request as the RP starts it.
type attempt struct {
	state, nonce, verifier string
}

func newAttempt() attempt {
	return attempt{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
}

// openLogin sends the browser to the authorization URL and returns the
// login page it lands on.
func (b *testBundle) openLogin(t *testing.T, a attempt) *loginPageDoc {
	t.Helper()
	authURL := b.oauth.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce))
	resp, err := b.browser.Get(authURL)
	if err != nil {
		t.Fatalf("GET authorization URL: %v", err)
	}
	doc := readLoginPage(t, resp)
	if resp.StatusCode != http.StatusOK || doc.form == nil {
		t.Fatalf("authorization URL led to %s (status %d), want the login form", resp.Request.URL, resp.StatusCode)
	}
	return doc
}

// submit posts the login form as a browser would and follows redirects.
func (b *testBundle) submit(t *testing.T, page *loginPageDoc, username, password string) *http.Response {
	t.Helper()
	vals := url.Values{}
	for name, v := range page.form.hidden {
		vals.Set(name, v)
	}
	vals.Set(page.form.field("Username"), username)
	vals.Set(page.form.field("Password"), password)
	if page.form.method != http.MethodPost {
		t.Fatalf("login form method = %q, want POST", page.form.method)
	}
	resp, err := b.browser.PostForm(page.form.action, vals)
	if err != nil {
		t.Fatalf("POST login form: %v", err)
	}
	return resp
}

// code reads the authorization response at the RP's callback.
func (b *testBundle) code(t *testing.T, resp *http.Response, a attempt) string {
	t.Helper()
	defer resp.Body.Close()
	got := resp.Request.URL
	if !strings.HasPrefix(got.String(), b.oauth.RedirectURL+"?") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("sign-in ended at %s (status %d), want the redirect URI; body: %.300s", got, resp.StatusCode, body)
	}
	q := got.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("authorization error %q: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != a.state {
		t.Fatalf("state = %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("code") == "" {
		t.Fatal("no code in the authorization response")
	}
	return q.Get("code")
}

// signIn runs the browser part of the flow for a user and returns the code.
func (b *testBundle) signIn(t *testing.T, a attempt, username, password string) string {
	t.Helper()
	return b.code(t, b.submit(t, b.openLogin(t, a), username, password), a)
}

// verify checks the token response's ID token as Sangam will.
func (b *testBundle) verify(t *testing.T, tok *oauth2.Token, a attempt) *oidc.IDToken {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatal("token response has no id_token")
	}
	idt, err := b.rp.Verifier(&oidc.Config{ClientID: testClientID}).Verify(b.ctx, raw)
	if err != nil {
		t.Fatalf("verifying ID token: %v", err)
	}
	if idt.Nonce != a.nonce {
		t.Fatalf("ID token nonce = %q, want %q", idt.Nonce, a.nonce)
	}
	return idt
}

// staffClaims are the claims Sangam reads.
type staffClaims struct {
	Subject           string   `json:"sub"`
	Name              string   `json:"name"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	PreferredUsername string   `json:"preferred_username"`
	Roles             []string `json:"roles"`
	Facilities        []string `json:"facilities"`
}

func wantClaims(u User) staffClaims {
	return staffClaims{
		Subject:           u.Subject,
		Name:              u.Name,
		Email:             u.Email,
		EmailVerified:     true,
		PreferredUsername: u.Username,
		Roles:             u.Roles,
		Facilities:        u.Facilities,
	}
}

func oauthErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestSignInEachDemoUser(t *testing.T) {
	t.Parallel()
	for _, mount := range []struct {
		name string
		opts setupOpts
	}{
		{"under /oidc", setupOpts{}},
		{"at root", setupOpts{atRoot: true}},
		{"under /oidc, prefix stripped by the caller", setupOpts{stripPrefix: true}},
	} {
		t.Run(mount.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mount.opts)
			for _, u := range DemoUsers(testFacilities) {
				t.Run(u.Username, func(t *testing.T) {
					a := newAttempt()
					code := b.signIn(t, a, u.Username, DemoPassword)
					tok, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier))
					if err != nil {
						t.Fatalf("exchanging code: %v", err)
					}
					idt := b.verify(t, tok, a)
					if idt.Issuer != b.issuer {
						t.Errorf("iss = %q, want %q", idt.Issuer, b.issuer)
					}
					var got staffClaims
					if err := idt.Claims(&got); err != nil {
						t.Fatalf("decoding ID token claims: %v", err)
					}
					if diff := cmp.Diff(wantClaims(u), got); diff != "" {
						t.Errorf("ID token claims (-want +got):\n%s", diff)
					}

					info, err := b.rp.UserInfo(b.ctx, oauth2.StaticTokenSource(tok))
					if err != nil {
						t.Fatalf("userinfo: %v", err)
					}
					var gotInfo staffClaims
					if err := info.Claims(&gotInfo); err != nil {
						t.Fatalf("decoding userinfo: %v", err)
					}
					if diff := cmp.Diff(wantClaims(u), gotInfo); diff != "" {
						t.Errorf("userinfo claims (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

func TestDiscoveryAdvertisesClaimsAndPKCE(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	var disco struct {
		Claims     []string `json:"claims_supported"`
		PKCE       []string `json:"code_challenge_methods_supported"`
		EndSession string   `json:"end_session_endpoint"`
	}
	if err := b.rp.Claims(&disco); err != nil {
		t.Fatalf("decoding discovery: %v", err)
	}
	for _, c := range []string{ClaimRoles, ClaimFacilities, "name", "email", "preferred_username"} {
		if !slices.Contains(disco.Claims, c) {
			t.Errorf("claims_supported %v lacks %q", disco.Claims, c)
		}
	}
	if !slices.Contains(disco.PKCE, "S256") {
		t.Errorf("code_challenge_methods_supported = %v, want S256", disco.PKCE)
	}
	if want := b.issuer + "/end_session"; disco.EndSession != want {
		t.Errorf("end_session_endpoint = %q, want %q", disco.EndSession, want)
	}
	// The mux's other routes still work beside the provider.
	resp, err := http.Get(strings.TrimSuffix(b.issuer, "/oidc") + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /other: status %d", resp.StatusCode)
	}
}

func TestLoginPageIsAccessible(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	page := b.openLogin(t, newAttempt())
	if page.lang == "" {
		t.Error("<html> has no lang attribute")
	}
	if page.title == "" {
		t.Error("page has no <title>")
	}
	for label, wantType := range map[string]string{"Username": "text", "Password": "password"} {
		name := page.form.field(label)
		if name == "" {
			t.Errorf("no input labelled %q", label)
			continue
		}
		if got := page.form.inputType[name]; got != wantType {
			t.Errorf("input labelled %q has type %q, want %q", label, got, wantType)
		}
	}
	if page.scripts != 0 {
		t.Errorf("login page has %d <script> elements, want none", page.scripts)
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	a := newAttempt()
	page := b.openLogin(t, a)

	for _, tc := range []struct{ username, password string }{
		{"doctor", "not-the-password"},
		{"doctor", ""},
		{"nobody", DemoPassword},
	} {
		resp := b.submit(t, page, tc.username, tc.password)
		again := readLoginPage(t, resp)
		if resp.Request.URL.Host == strings.TrimPrefix(b.rpURL, "http://") {
			t.Fatalf("%s/%q: browser reached the relying party", tc.username, tc.password)
		}
		if again.form == nil {
			t.Fatalf("%s/%q: no login form after refusal (status %d)", tc.username, tc.password, resp.StatusCode)
		}
		if !strings.Contains(again.alert, "incorrect") {
			t.Errorf("%s/%q: alert = %q, want a clear error", tc.username, tc.password, again.alert)
		}
		if got := again.form.value(again.form.field("Username")); got != tc.username {
			t.Errorf("username field kept %q, want %q", got, tc.username)
		}
		page = again
	}
	if n := b.rpHits.Load(); n != 0 {
		t.Fatalf("relying party callback hit %d times after wrong passwords, want 0", n)
	}

	// The same request still succeeds once the right password is typed.
	code := b.code(t, b.submit(t, page, "doctor", DemoPassword), a)
	if _, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier)); err != nil {
		t.Fatalf("exchange after a corrected password: %v", err)
	}
}

func TestUnknownClientIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})

	t.Run("authorize", func(t *testing.T) {
		conf := b.oauth
		conf.ClientID = "intruder"
		a := newAttempt()
		resp, err := b.browser.Get(conf.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", resp.StatusCode)
		}
		if strings.HasSuffix(resp.Request.URL.Path, loginPath) {
			t.Error("unknown client was shown the login form")
		}
		if n := b.rpHits.Load(); n != 0 {
			t.Errorf("redirected to the redirect URI %d times; an unknown client must not be redirected to", n)
		}
	})

	t.Run("token endpoint", func(t *testing.T) {
		for _, conf := range []oauth2.Config{
			func() oauth2.Config { c := b.oauth; c.ClientID = "intruder"; return c }(),
			func() oauth2.Config { c := b.oauth; c.ClientSecret = "wrong"; return c }(),
		} {
			a := newAttempt()
			code := b.signIn(t, a, "billing", DemoPassword)
			_, err := conf.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier))
			if got := oauthErrorCode(err); got != "invalid_client" {
				t.Errorf("client %q secret %q: error %v, want invalid_client", conf.ClientID, conf.ClientSecret, err)
			}
			// The refusal did not spend the code of the real client.
			if _, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier)); err != nil {
				t.Errorf("real client's exchange after the refusal: %v", err)
			}
		}
	})
}

func TestCodeIsSingleUse(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	a := newAttempt()
	code := b.signIn(t, a, "frontdesk", DemoPassword)
	tok, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	if _, err := b.rp.UserInfo(b.ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("userinfo with the first token: %v", err)
	}

	_, err = b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier))
	if got := oauthErrorCode(err); got != "invalid_grant" {
		t.Fatalf("second exchange: error %v, want invalid_grant", err)
	}
	// RFC 6749 §4.1.2: tokens issued for a replayed code are revoked.
	if _, err := b.rp.UserInfo(b.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still accepted after its code was replayed")
	}
}

func TestPKCEIsEnforced(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})

	t.Run("wrong verifier", func(t *testing.T) {
		a := newAttempt()
		code := b.signIn(t, a, "doctor", DemoPassword)
		_, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if got := oauthErrorCode(err); got != "invalid_grant" {
			t.Fatalf("exchange with another verifier: error %v, want invalid_grant", err)
		}
		// A refused exchange does not spend the code; the right verifier still works, once.
		if _, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier)); err != nil {
			t.Fatalf("exchange with the right verifier after a refused one: %v", err)
		}
		_, err = b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier))
		if got := oauthErrorCode(err); got != "invalid_grant" {
			t.Fatalf("exchange after success: error %v, want invalid_grant", err)
		}
	})

	t.Run("missing verifier", func(t *testing.T) {
		a := newAttempt()
		code := b.signIn(t, a, "doctor", DemoPassword)
		if _, err := b.oauth.Exchange(b.ctx, code); err == nil {
			t.Fatal("exchange without code_verifier succeeded")
		}
	})

	for _, tc := range []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"no challenge", nil},
		{"plain challenge", []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAttempt()
			resp, err := b.browser.Get(b.oauth.AuthCodeURL(a.state, tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			q := resp.Request.URL.Query()
			if q.Get("error") != "invalid_request" || q.Get("code") != "" {
				t.Fatalf("ended at %s, want the redirect URI with error=invalid_request and no code", resp.Request.URL)
			}
		})
	}
}

func TestCallbackCannotMintSecondCode(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	a := newAttempt()
	page := b.openLogin(t, a)
	b.code(t, b.submit(t, page, "admin", DemoPassword), a)

	callback := b.issuer + "/authorize/callback?id=" + url.QueryEscape(page.form.hidden[loginFieldAuthRequest])
	resp, err := b.browser.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := resp.Request.URL.Query().Get("code"); code != "" {
		t.Fatalf("replayed callback issued another code (ended at %s)", resp.Request.URL)
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	a := newAttempt()
	code := b.signIn(t, a, "doctor", DemoPassword)
	tok, err := b.oauth.Exchange(b.ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	b.verify(t, tok, a)

	var disco struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := b.rp.Claims(&disco); err != nil {
		t.Fatal(err)
	}
	logout := disco.EndSession + "?" + url.Values{
		"id_token_hint":            {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {b.rpURL + "/signed-out"},
		"state":                    {"bye"},
	}.Encode()
	resp, err := b.browser.Get(logout)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Request.URL.String(), b.rpURL+"/signed-out?state=bye"; got != want {
		t.Errorf("logout ended at %s, want %s", got, want)
	}
	if _, err := b.rp.UserInfo(b.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still accepted after logout")
	}

	// Without a post-logout URI the provider's own page is shown.
	resp, err = b.browser.Get(disco.EndSession)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "signed out") {
		t.Errorf("plain logout: status %d, body %.200s", resp.StatusCode, body)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	good := func() Config {
		return Config{
			Issuer:  "http://127.0.0.1:8081/oidc",
			Clients: []Client{{ID: "a", Secret: "s", RedirectURIs: []string{"http://127.0.0.1/cb"}}},
			Users:   DemoUsers(nil),
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer"},
		{"issuer with query", func(c *Config) { c.Issuer += "?x=1" }, "Issuer"},
		{"no clients", func(c *Config) { c.Clients = nil }, "Clients"},
		{"client without secret", func(c *Config) { c.Clients[0].Secret = "" }, "Clients[0].Secret"},
		{"client without redirect", func(c *Config) { c.Clients[0].RedirectURIs = nil }, "Clients[0].RedirectURIs"},
		{"duplicate client", func(c *Config) { c.Clients = append(c.Clients, c.Clients[0]) }, "Clients[1].ID"},
		{"duplicate username", func(c *Config) {
			u := c.Users[0]
			u.Subject, u.Username = "other", strings.ToUpper(u.Username)
			c.Users = append(c.Users, u)
		}, "Username"},
		{"user without password", func(c *Config) { c.Users[1].Password = "" }, "Users[1].Password"},
	} {
		cfg := good()
		tc.change(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
	}
}

func TestDemoUsers(t *testing.T) {
	t.Parallel()
	users := DemoUsers(testFacilities)
	got := map[string][2][]string{}
	for _, u := range users {
		if u.Password != DemoPassword || u.Subject == "" || u.Name == "" || u.Email == "" {
			t.Errorf("user %q is incomplete: %+v", u.Username, u)
		}
		got[u.Username] = [2][]string{u.Roles, u.Facilities}
	}
	want := map[string][2][]string{
		"frontdesk": {{RoleFrontDesk}, testFacilities[:1]},
		"doctor":    {{RoleDoctor}, testFacilities[:2]},
		"billing":   {{RoleBilling}, testFacilities[:2]},
		"admin":     {{RoleAdmin}, testFacilities},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo users (-want +got):\n%s", diff)
	}
	// The caller's slice is not shared.
	users[3].Facilities[0] = "changed"
	if testFacilities[0] == "changed" {
		t.Error("DemoUsers aliases its argument")
	}
}
