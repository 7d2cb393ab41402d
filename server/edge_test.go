package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
	"github.com/sangamhealth/sangam/static"
)

// TestIssuerUnreachable: a provider that does not answer stops start-up
// with one line that names the setting to fix.
func TestIssuerUnreachable(t *testing.T) {
	db := databasetest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/oidc"
	ln.Close() // nothing listens there now

	_, err = server.New(context.Background(), server.Config{
		Pool: db.App, Logger: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry(),
		PublicURL: "http://127.0.0.1:8080", OIDC: server.OIDCConfig{Issuer: issuer, ClientID: "sangam"},
		SessionIdle: time.Minute, SessionMax: time.Hour,
	})
	if err == nil {
		t.Fatal("server.New succeeded without a provider")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "OIDC_ISSUER "+issuer+": cannot reach the provider: ") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line starting with OIDC_ISSUER %s: cannot reach the provider", msg, issuer)
	}
}

func TestStaticFiles(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)

	resp, body := get(t, client, env.URL+static.URL("htmx.min.js"), nil)
	sum := sha256.Sum256([]byte(body))
	// The vendored htmx 2.0.11, as recorded in static/README.md.
	if got := hex.EncodeToString(sum[:]); got != "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717" {
		t.Errorf("htmx.min.js sha256 %s is not the vendored 2.0.11", got)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("versioned asset Cache-Control %q, want a year, immutable", cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("htmx Content-Type %q", ct)
	}

	resp, body = get(t, client, env.URL+"/static/sangam.css", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ":focus-visible") {
		t.Errorf("unversioned CSS: %d, Cache-Control %q, Content-Type %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	resp, _ = get(t, client, env.URL+"/static/sangam.css", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
	if resp, _ := get(t, client, env.URL+"/static/nothing.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: %d, want 404", resp.StatusCode)
	}
}

func TestPagesAndHeaders(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	client := servertest.NewClient(t)

	resp, body := get(t, client, env.URL+"/login", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "form-action 'self' http://127.0.0.1:") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options")
	}
	for _, want := range []string{`<html lang="en">`, `class="skip-link" href="#main"`, `<header`, `<main id="main"`, `<button type="submit" class="button primary" id="sign-in">Sign in</button>`, `action="/auth/login"`} {
		if !strings.Contains(body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if strings.Contains(body, "<nav") {
		t.Error("the sign-in page shows staff navigation")
	}

	resp, body = get(t, client, env.URL+"/no/such/page", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no page at this address") || !strings.Contains(body, "<main") {
		t.Errorf("unknown page: %d, want a 404 page", resp.StatusCode)
	}
	resp, body = get(t, client, env.URL+"/no/such/page", map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "<html") || !strings.Contains(body, `role="alert"`) {
		t.Errorf("unknown page for htmx: %d, want a fragment; body:\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, client, env.URL+"/no/such/page", map[string]string{"Accept": "application/json"})
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(body, `{"error":`) {
		t.Errorf("unknown page for JSON: %d %s", resp.StatusCode, body)
	}

	res := env.SignIn(t, client, "frontdesk", "sangam-demo")
	for _, want := range []string{`<nav aria-label="Main">`, `aria-current="page">Front desk</a>`, `hx-headers="{&#34;X-CSRF-Token&#34;:&#34;`, `name="csrf_token"`, "Coming in a later release", "Kaveri City Hospital"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("front-desk page lacks %s", want)
		}
	}
	resp, _ = get(t, client, env.URL+"/front-desk", nil)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("signed-in page Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}
}
