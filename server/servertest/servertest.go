// Package servertest runs Sangam's HTTP server in-process for tests: on a
// loopback listener, against the test database loaded with the demo group,
// with the sandbox identity provider on another loopback listener as the
// staff sign-in provider. Browser and HTTP tests drive both over real HTTP.
package servertest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server"
)

// Sangam's registration at the sandbox provider.
const (
	ClientID     = "sangam"
	ClientSecret = "sangam-test-secret"
)

// Options adjust the environment; the zero value is the demo setup.
type Options struct {
	// Users who can sign in; nil means identity.DemoUsers for the demo
	// group's facilities.
	Users []identity.User
	// SessionIdle and SessionMax default to 30 minutes and 12 hours.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// DefaultTenant defaults to the demo group's slug; "-" means none.
	DefaultTenant string
	// Logger defaults to one that discards.
	Logger *slog.Logger
}

// Env is a running Sangam with its identity provider.
type Env struct {
	// URL is Sangam's base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Issuer is the identity provider's issuer URL.
	Issuer string
	Server *server.Server
	DB     *databasetest.DB
	// TenantID is the demo group's tenant.
	TenantID string
}

// Start brings up the provider and Sangam and stops both when t ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	group := demo.KaveriHealth()
	res, err := demo.Load(ctx, db.Owner, group)
	if err != nil {
		t.Fatalf("loading demo data: %v", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	sangamURL := "http://" + ln.Addr().String()

	users := opts.Users
	if users == nil {
		users = identity.DemoUsers(group.HFRIDs())
	}
	idp := startProvider(t, sangamURL, users)

	defaultTenant := opts.DefaultTenant
	switch defaultTenant {
	case "":
		defaultTenant = group.Slug
	case "-":
		defaultTenant = ""
	}
	srv, err := server.New(ctx, server.Config{
		Pool:          db.App,
		Logger:        logger,
		Metrics:       prometheus.NewRegistry(),
		Version:       "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: idp, ClientID: ClientID, ClientSecret: ClientSecret},
		SessionIdle:   orDefault(opts.SessionIdle, 30*time.Minute),
		SessionMax:    orDefault(opts.SessionMax, 12*time.Hour),
		DefaultTenant: defaultTenant,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutting down Sangam: %v", err)
		}
		<-done
	})
	return &Env{URL: sangamURL, Issuer: idp, Server: srv, DB: db, TenantID: res.TenantID}
}

// startProvider serves the sandbox identity provider on loopback, with
// Sangam registered as a client, and returns its issuer URL.
func startProvider(t testing.TB, sangamURL string, users []identity.User) string {
	t.Helper()
	// The issuer must be known before the provider exists, and the server
	// before the issuer: so the handler is filled in after start.
	var handler http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	issuer := ts.URL + "/oidc"
	p, err := identity.New(identity.Config{
		Issuer: issuer,
		Clients: []identity.Client{{
			ID:                     ClientID,
			Secret:                 ClientSecret,
			RedirectURIs:           []string{sangamURL + "/auth/callback"},
			PostLogoutRedirectURIs: []string{sangamURL + "/signed-out"},
		}},
		Users: users,
	})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	handler = p
	return issuer
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// NewClient returns an HTTP client with its own cookie jar that follows
// redirects, like a browser without JavaScript.
func NewClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// SignInResult is where a sign-in ended.
type SignInResult struct {
	URL    *url.URL
	Status int
	Body   string
}

// SignIn signs client in as username through the provider's login form,
// starting from Sangam's sign-in button, following every redirect. On
// success the result is the user's home page; a refused sign-in ends on
// Sangam's sign-in page with an error status. Only a broken flow (no login
// form, transport errors) fails the test.
func (e *Env) SignIn(t testing.TB, client *http.Client, username, password string) SignInResult {
	t.Helper()
	return e.SignInAt(t, client, e.URL+"/auth/login", username, password)
}

// SignInAt is SignIn starting at start, e.g. Sangam's sign-in URL with a
// next parameter.
func (e *Env) SignInAt(t testing.TB, client *http.Client, start, username, password string) SignInResult {
	t.Helper()
	res, err := signIn(client, start, username, password)
	if err != nil {
		t.Fatalf("signing in as %s: %v", username, err)
	}
	return res
}

var (
	formAction    = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	authRequestID = regexp.MustCompile(`name="auth_request_id" value="([^"]+)"`)
)

func signIn(client *http.Client, start, username, password string) (SignInResult, error) {
	resp, err := client.Get(start)
	if err != nil {
		return SignInResult{}, err
	}
	page, err := readBody(resp)
	if err != nil {
		return SignInResult{}, err
	}
	action, id := formAction.FindStringSubmatch(page), authRequestID.FindStringSubmatch(page)
	if action == nil || id == nil {
		return SignInResult{}, fmt.Errorf("no login form at %s (status %d)", resp.Request.URL, resp.StatusCode)
	}
	target, err := resp.Request.URL.Parse(html.UnescapeString(action[1]))
	if err != nil {
		return SignInResult{}, err
	}
	resp, err = client.PostForm(target.String(), url.Values{
		"auth_request_id": {html.UnescapeString(id[1])}, "username": {username}, "password": {password},
	})
	if err != nil {
		return SignInResult{}, err
	}
	body, err := readBody(resp)
	if err != nil {
		return SignInResult{}, err
	}
	return SignInResult{URL: resp.Request.URL, Status: resp.StatusCode, Body: body}, nil
}

func readBody(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", errors.Join(fmt.Errorf("reading %s", resp.Request.URL), err)
	}
	return string(b), nil
}
