package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/phr"
	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
)

// journeyEnv is one sandbox (gateway, ABHA service, consent manager, PHR
// app) and Sangam wired as `sangam serve` wires it: the ABHA client and the
// bridge with the HIP service, over a real key store and River workers.
type journeyEnv struct {
	*abhaEnv
	// HIPID is the first facility's HIP id, the one registered with the
	// sandbox gateway.
	HIPID string
	// CounterID is counter OPD1 of the first facility.
	CounterID string
}

func startJourney(t *testing.T) *journeyEnv {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	slug := "desk" + randomHex(4)
	group := demo.KaveriHealth()
	group.Slug, group.Name = slug, "Front desk test group "+slug
	for i := range group.Facilities {
		// hip_id is unique across tenants.
		group.Facilities[i].HIPID = strings.ToUpper(slug) + "-" + group.Facilities[i].HIPID
	}
	res, err := demo.Load(ctx, db.Owner, group)
	if err != nil {
		t.Fatalf("loading the test group: %v", err)
	}
	hipID := group.Facilities[0].HIPID

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sangamURL := "http://" + ln.Addr().String()
	issuer := startIdentity(t, sangamURL, identity.DemoUsers(group.HFRIDs()))

	// The sandbox calls Sangam's bridge at the URL the gateway holds for
	// the tenant's client.
	clientID, secret := "SBX_DESK_"+strings.ToUpper(randomHex(3)), "desk-gateway-secret"
	var handler http.Handler
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(sbSrv.Close)
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: sbSrv.URL,
		Logger:    testLogger(),
		Gateway: gateway.Config{Clients: []gateway.Client{{
			ID: clientID, Secret: secret, Name: "Sangam under test", BridgeURL: sangamURL + "/bridge/" + slug,
			Services: []gateway.Service{{ID: hipID, Name: group.Facilities[0].Name, Types: []string{gateway.TypeHIP}}},
		}}},
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	handler = sb

	// Key store, credentials, gateway client, verifier and bridge.
	master := make([]byte, keys.MasterKeySize)
	_, _ = rand.Read(master)
	mk, err := keys.NewMasterKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	keyStore := keys.NewPostgresStore(db.App, mk)
	creds := bridge.NewCredentials(db.App, keyStoreSecrets{keyStore})
	gw, err := abdm.New(abdm.Config{
		GatewayURL: sbSrv.URL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: gw, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	queue := "server_desk_" + randomHex(4)
	br, err := bridge.New(bridge.Config{
		Pool: db.App, Gateway: gw, Verifier: verifier, Credentials: creds, PublicURL: sangamURL,
		LinkTokens: hip.LinkTokens{Keys: keyStore}, Logger: testLogger(), Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := br.SetCredentials(ctx, res.TenantID, clientID, []byte(secret)); err != nil {
		t.Fatalf("storing the tenant's gateway credentials: %v", err)
	}
	hipService, err := hip.New(hip.Config{
		Pool: db.App, Bridge: br, Patients: patients.New(db.App, patients.Config{}), Keys: keyStore, Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := hipService.Register(br); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if _, err := br.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(db.App), &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: 4}},
		Workers: workers, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(sctx)
	})

	// The ABHA client signs in with the tenant's stored credentials, as
	// in `sangam serve`.
	abhaGateway, err := abdm.New(abdm.Config{
		GatewayURL: sbSrv.URL, ABHAURL: sbSrv.URL + sandbox.ABHAPath, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	abhaClient, err := abha.New(abha.Config{ABDM: abhaGateway, AddressDomain: "sbx", Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}

	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: testLogger(), Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: issuer, ClientID: servertest.ClientID, ClientSecret: servertest.ClientSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: slug,
		Bridge:        br,
		ABDM:          br,
		ABHA:          abhaClient,
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

	// The front desk watches counter OPD1's queue before anyone scans it
	// (the demo group sets the counter up).
	var counterID string
	err = database.InTenant(ctx, db.App, res.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT c.id::text FROM counters c JOIN facilities f ON f.id = c.facility_id
			WHERE f.hip_id = $1 AND c.code = 'OPD1'`, hipID).Scan(&counterID)
	})
	if err != nil {
		t.Fatalf("finding counter OPD1 of %s in the demo group: %v", hipID, err)
	}
	return &journeyEnv{
		abhaEnv: &abhaEnv{
			Env:     &servertest.Env{URL: sangamURL, Issuer: issuer, Server: srv, DB: db, TenantID: res.TenantID},
			Sandbox: sbSrv.URL,
		},
		HIPID:     hipID,
		CounterID: counterID,
	}
}

// scan has a sandbox PHR patient scan a counter's QR code and waits (up to
// 5 s, in the sandbox) for Sangam's answer, returning the token number.
func (e *journeyEnv) scan(t *testing.T, address, counterCode string) (token string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"hip_id": e.HIPID, "counter_id": counterCode})
	u := e.Sandbox + phr.Prefix + "/patients/" + url.PathEscape(address) + "/share?wait=5s"
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scanning as %s: %v", address, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("scanning as %s: sandbox answered %d: %s", address, resp.StatusCode, out)
	}
	var share cm.Share
	if err := json.Unmarshal(out, &share); err != nil {
		t.Fatalf("decoding the sandbox's share: %v", err)
	}
	if share.Status != cm.ShareToken {
		t.Fatalf("Sangam did not issue a queue token for %s's scan: status %q, delivery %q, error %+v",
			address, share.Status, share.Delivery, share.Error)
	}
	return share.TokenNumber
}

// TestFrontDeskJourney is a front-desk user, in a real browser, creating
// an ABHA with Aadhaar OTP and then watching a counter's queue until a
// patient who scanned its QR code with the PHR app appears in it.
func TestFrontDeskJourney(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must install chromium", chromium)
		}
		t.Skipf("%s not found: install chromium (make test does)", chromium)
	}
	e := startJourney(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(css string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatalf("reading %s: %v", css, err)
		}
		return strings.TrimSpace(s)
	}

	run("signing in as frontdesk",
		chromedp.Navigate(e.URL+"/"),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "frontdesk"),
		chromedp.SendKeys(chromedp.ID("password"), identity.DemoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-create-link"]`)),
	)

	// Creating an ABHA with Aadhaar OTP.
	run("giving consent and the Aadhaar number",
		chromedp.Click(chromedp.CSS(`[data-testid="abha-create-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="consent-text"]`)),
		chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
		chromedp.SendKeys(chromedp.ID("aadhaar"), aadhaarFarhan),
		chromedp.Click(chromedp.CSS(`[data-testid="abha-start"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-aadhaar-otp"]`)),
	)
	run("entering the Aadhaar OTP",
		chromedp.SendKeys(chromedp.ID("otp"), e.newestOTP(t, "9000000006")),
		chromedp.SendKeys(chromedp.ID("mobile"), "9000000006"),
		chromedp.Click(chromedp.CSS(`[data-testid="abha-aadhaar-otp"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-address"]`)),
	)
	run("taking the suggested ABHA address",
		chromedp.Click(chromedp.CSS(`[data-testid="abha-address"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-result"]`)),
	)
	if number := text(`[data-testid="abha-number"]`); !strings.HasPrefix(number, "91-") || len(number) != 17 {
		t.Fatalf("the enrolment result shows ABHA Number %q", number)
	}

	// Watching counter OPD1's queue, empty before the scan.
	run("opening the queue of counter OPD1",
		chromedp.Navigate(e.URL+"/frontdesk/queue?counter="+url.QueryEscape(e.CounterID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="refresh"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty"]`)),
	)

	if token := e.scan(t, "sunita.rao@sbx", "OPD1"); token != "1" {
		t.Fatalf("Sunita Rao's scan got token %q, want 1 (the first of the day)", token)
	}

	// The page is not reloaded: htmx's poll every 3 s must bring the row.
	waitCtx, cancelWait := context.WithTimeout(ctx, 15*time.Second)
	defer cancelWait()
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(chromedp.CSS(`tr[data-testid="queue-row"]`))); err != nil {
		t.Fatalf("no queue row appeared within 15 s of Sunita Rao's scan (the table polls every 3 s): %v", err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('tr[data-testid="queue-row"]')).map(r => r.innerText)`))
	if err != nil {
		t.Fatalf("reading the queue rows: %v", err)
	}
	if len(cells) != 1 {
		t.Fatalf("the queue has %d rows, want Sunita Rao's alone: %q", len(cells), cells)
	}
	row := strings.Fields(cells[0])
	if len(row) < 3 || row[0] != "1" || row[1] != "Sunita" || row[2] != "Rao" || !strings.Contains(cells[0], "sunita.rao@sbx") {
		t.Errorf("queue row is %q, want token 1 for Sunita Rao (sunita.rao@sbx)", cells[0])
	}
}
