package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/claimstest"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/server"
)

// TestBillingPreauthInBrowser is the billing desk in a real browser:
// billing signs in, finds the claims case's patient (treated at two of
// the group's hospitals), checks her coverage, sends a pre-authorisation
// for the Mysuru stay with evidence from both hospitals, and sees the
// sandbox payer's partial approval arrive on the case page by itself.
func TestBillingPreauthInBrowser(t *testing.T) {
	browser := newBrowser(t)
	w := startBillingWorld(t)
	shots := t.TempDir()
	if dir := os.Getenv("SANGAM_SCREENSHOT_DIR"); dir != "" {
		shots = dir
	}
	ctx, cancel := context.WithTimeout(browser, 120*time.Second)
	defer cancel()
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			screenshot(t, ctx, filepath.Join(shots, "billing-failed.png"))
			t.Fatalf("%s: %v (screenshot in %s)", what, err, shots)
		}
	}
	person := demo.Claims().Person

	signIn(t, ctx, w.URL, "billing")
	run("searching for the patient",
		chromedp.SendKeys(chromedp.ID("billing-search"), person.Name+" "+person.BirthDate.Format("2006")),
		chromedp.Submit(chromedp.ID("billing-search")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="billing-patients"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="billing-patients"] a[href="/billing/patients/`+w.Kavya+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="encounters"]`)),
	)
	screenshot(t, ctx, filepath.Join(shots, "billing-patient.png"))
	if got := text(t, ctx, `[data-testid="encounters"]`); !strings.Contains(got, "Kaveri City Hospital") || !strings.Contains(got, "Kaveri Women and Child Hospital") {
		t.Errorf("the patient's stays do not show both hospitals: %q", got)
	}

	encounter := `a[href="` + "/billing/patients/" + w.Kavya + "/claim?encounter=" + url.QueryEscape(w.Mysuru) + `"]`
	run("opening the Mysuru stay",
		chromedp.Click(chromedp.CSS(encounter)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-form"]`)),
	)
	evidence := text(t, ctx, `section[aria-labelledby="evidence"]`)
	for _, want := range []string{"HFR IN2910000231", "HFR IN2910000587", "RadView RIS/PACS", "CareWare HIS"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("the evidence does not show %s", want)
		}
	}
	screenshot(t, ctx, filepath.Join(shots, "billing-evidence.png"))
	insurer := `input[name="coverage"][value="` + w.Insurer.ID + `"]`
	run("checking coverage",
		chromedp.Click(chromedp.CSS(insurer)),
		chromedp.Click(chromedp.CSS(`button[value="check"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#case-status`)),
	)
	waitText(t, ctx, `#case-status [data-testid="case-status"]`, "Coverage in force")

	// The payer will approve part of what is asked, with its reason.
	w.setRules(t, `{"rules":[{"path":"/v1/preauth/submit","outcome":"partial","amount":"20000","reason":"Room rent capped at general ward"}]}`)
	run("preparing the pre-authorisation",
		chromedp.Click(chromedp.CSS(`a.button[href*="/claim?encounter="]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-form"]`)),
		chromedp.Click(chromedp.CSS(insurer)),
		chromedp.Click(chromedp.CSS(`button[value="preauth"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="case-notice"]`)),
	)
	if got := text(t, ctx, `[data-testid="case-notice"]`); !strings.Contains(got, "pre-authorisation request is on its way") {
		t.Errorf("notice after sending %q", got)
	}
	if got := text(t, ctx, `#case-status [data-testid="case-status"]`); got != "Sending" && got != "Waiting for the payer" {
		t.Errorf("status before the payer answers %q", got)
	}
	// No reload by hand: the page watches the case and shows the decision.
	waitText(t, ctx, `#case-status [data-testid="case-status"]`, "Partially approved")
	screenshot(t, ctx, filepath.Join(shots, "billing-decision.png"))
	if got := text(t, ctx, `[data-testid="decision-amount-approved"]`); got != "₹20,000.00" {
		t.Errorf("amount approved %q, want ₹20,000.00", got)
	}
	if got := text(t, ctx, `[data-testid="decision-reason"]`); got != "Room rent capped at general ward" {
		t.Errorf("reason %q", got)
	}
	if got := text(t, ctx, `[data-testid="decision-amount-asked"]`); got != "₹32,603.00" {
		t.Errorf("amount asked %q, want the stay's bill ₹32,603.00", got)
	}
	if got := text(t, ctx, `[data-testid="decision-pre-authorisation-reference"]`); !strings.HasPrefix(got, "SBX-PA-") {
		t.Errorf("pre-authorisation reference %q", got)
	}
	// The payer received evidence from both hospitals.
	got := w.Sandbox.NHCX.Messages(nhcx.Filter{Path: "/v1/preauth/submit", Direction: nhcx.DirectionReceived})
	if len(got) != 1 || !bytes.Contains(got[0].Payload, []byte("IN2910000231")) || !bytes.Contains(got[0].Payload, []byte("K35.8")) {
		t.Errorf("the payer did not get the Bengaluru evidence")
	}
	t.Logf("screenshots in %s", shots)
}

// waitText waits until the element's text contains want; the case page
// reloads itself when the case changes.
func waitText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ctx1, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := chromedp.Run(ctx1, chromedp.Text(chromedp.CSS(css)))
		cancel()
		if err == nil {
			last = strings.TrimSpace(s)
			if strings.Contains(last, want) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s still says %q, want %q", css, last, want)
}

// billingWorld is `make run` for billing in one process: the sandbox (its
// identity provider, gateway sessions, NHCX switch answering both demo
// payers) and Sangam with its billing workflow, over a copy of the demo
// group with its vendor databases loaded, patients indexed and coverage
// on file.
type billingWorld struct {
	URL     string
	Sandbox *sandbox.Sandbox
	sbURL   string
	Kavya   string
	Mysuru  string
	Insurer claims.Coverage
}

func (w *billingWorld) setRules(t *testing.T, rules string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, w.sbURL+"/_sandbox/nhcx/rules", strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setting payer rules: %d", resp.StatusCode)
	}
}

func startBillingWorld(t *testing.T) *billingWorld {
	t.Helper()
	ctx := context.Background()
	logger := billingLogger()
	db := databasetest.New(t)
	g := demo.KaveriHealth()
	g.Slug, g.Name = "kaveri-billing-browser", g.Name+" (billing copy)"
	for i := range g.Facilities {
		g.Facilities[i].HIPID += "-BB"
	}
	d := claimstest.LoadDemo(t, db, g)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	sangamURL := "http://" + ln.Addr().String()

	// The sandbox with its staff identity provider. The billing user acts
	// for the first two hospitals: the claims case's stay is at the
	// second.
	var handler http.Handler
	sbSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { handler.ServeHTTP(rw, r) }))
	t.Cleanup(sbSrv.Close)
	users := identity.DemoUsers(g.HFRIDs())
	for i := range users {
		if users[i].Username == "billing" {
			users[i].Facilities = g.HFRIDs()[:2]
		}
	}
	const oidcSecret = "sangam-billing-secret"
	idp, err := identity.New(identity.Config{
		Issuer: sbSrv.URL + sandbox.IdentityPath,
		Clients: []identity.Client{{ID: "sangam", Secret: oidcSecret,
			RedirectURIs: []string{sangamURL + "/auth/callback"}, PostLogoutRedirectURIs: []string{sangamURL + "/signed-out"}}},
		Users: users,
	})
	check(t, err)
	const clientID, clientSecret = "kaveri-billing", "kaveri-billing-secret"
	payers, payerKeys := claimstest.DemoPayers(t)
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: sbSrv.URL, Logger: logger.With("side", "sandbox"),
		Gateway:  gateway.Config{Clients: []gateway.Client{{ID: clientID, Secret: clientSecret}}},
		Identity: idp,
		// The payer takes a moment, so that the case page is seen waiting
		// and then changing by itself.
		NHCX: nhcx.Config{Payers: payers, PayerKeys: payerKeys, PayerDelay: 2 * time.Second, CallbackRetries: 2,
			RetryDelay: 20 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond},
	})
	check(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	handler = sb

	// Sangam's claims side, as serve wires it.
	master := make([]byte, keys.MasterKeySize)
	_, _ = rand.Read(master)
	ring, err := keys.NewMasterKeys(master)
	check(t, err)
	store := keys.NewPostgresStore(db.App, ring)
	const queue = "billing_browser"
	svc, err := claims.New(claims.Config{
		Pool: db.App, Keys: store, Tokens: &claimstest.Tokens{URL: sbSrv.URL, ClientID: clientID, Secret: clientSecret},
		SwitchURL: sbSrv.URL + sandbox.NHCXPath, RegistryURL: sbSrv.URL + sandbox.NHCXRegistryPath,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: logger, Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 200 * time.Millisecond,
	})
	check(t, err)
	wf := claimstest.NewWorkflow(t, d, claims.WorkflowConfig{Service: svc, Logger: logger})
	for _, f := range g.Facilities {
		claimstest.Register(t, store, svc, sb.NHCX, claimstest.Participant{Tenant: d.Tenant, Facility: d.Facilities[f.HFRID],
			Code: "10" + strings.ToLower(f.HFRID[len(f.HFRID)-6:]) + "@sbx", Name: f.Name, Key: claimstest.RSAKey(t, "provider "+f.HFRID),
			EndpointURL: sangamURL + server.NHCXPath, ClientID: clientID})
	}
	claimstest.StartJobs(t, db, svc, queue, 4, logger)

	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: logger, Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: sbSrv.URL + sandbox.IdentityPath, ClientID: "sangam", ClientSecret: oidcSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: g.Slug,
		NHCX:          billingInbox{svc},
		Billing:       wf,
		Sources:       d.Sources,
		BodyLimit:     24 << 20,
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
		_ = srv.Shutdown(sctx)
		<-done
	})

	w := &billingWorld{URL: sangamURL, Sandbox: sb, sbURL: sbSrv.URL}
	k := claimstest.FindKavya(t, wf, d.Patients, d.Tenant)
	w.Kavya = k.ID
	for _, s := range k.Stays {
		if s.HFRID == demo.Claims().Stays[1].HFRID {
			w.Mysuru = s.Ref
		}
	}
	w.Insurer = k.Coverage(demo.InsurerPayerCode)
	if w.Mysuru == "" || w.Insurer.ID == "" {
		t.Fatalf("the claims case: stay %q, insurer coverage %+v among %+v", w.Mysuru, w.Insurer, k.Coverages)
	}
	return w
}

// billingInbox mounts the NHCX inbox, as serve does.
type billingInbox struct{ svc *claims.Service }

func (b billingInbox) Register(r fiber.Router) { b.svc.RegisterCallbacks(r) }

// billingLogger discards, unless E2E_TEST_LOG is set.
func billingLogger() *slog.Logger {
	if os.Getenv("E2E_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
