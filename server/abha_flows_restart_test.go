package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
)

// restart stops e's Sangam and starts a new one over the same database,
// identity provider and sandbox, as a deploy or a crash would: the new
// process shares nothing with the old but PostgreSQL. It returns the
// environment pointing at the new Sangam.
func (e *abhaEnv) restart(t *testing.T) *abhaEnv {
	t.Helper()
	ctx := context.Background()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.Server.Shutdown(sctx); err != nil {
		t.Fatalf("stopping the first Sangam: %v", err)
	}

	var slug string
	if err := e.DB.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", e.TenantID).Scan(&slug); err != nil {
		t.Fatal(err)
	}
	client, err := abdm.New(abdm.Config{
		GatewayURL: e.Sandbox, ABHAURL: e.Sandbox + sandbox.ABHAPath, CMID: abdm.CMSandbox,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: testLogger(),
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: "SBX_ABHA", ClientSecret: "s"}, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	abhaClient, err := abha.New(abha.Config{ABDM: client, AddressDomain: "sbx", Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sangamURL := "http://" + ln.Addr().String()
	srv, err := server.New(ctx, server.Config{
		Pool: e.DB.App, Logger: testLogger(), Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: e.Issuer, ClientID: servertest.ClientID, ClientSecret: servertest.ClientSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: slug,
		ABHA:          abhaClient,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("server.New after the restart: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutting down the second Sangam: %v", err)
		}
		<-done
	})
	env := *e.Env
	env.URL, env.Server = sangamURL, srv
	return &abhaEnv{Env: &env, Sandbox: e.Sandbox}
}

// sessionHash is what staff_sessions.id_hash holds for a browser's session.
func sessionHash(t *testing.T, e *abhaEnv, client *http.Client) []byte {
	t.Helper()
	u, _ := url.Parse(e.URL)
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == "sangam_session" {
			sum := sha256.Sum256([]byte(c.Value))
			return sum[:]
		}
	}
	t.Fatal("the browser holds no session cookie")
	return nil
}

// journeyRows returns the sealed ABHA journeys stored for a session, as the
// database's owner sees them (past row-level security).
func journeyRows(t *testing.T, e *abhaEnv, session []byte) [][]byte {
	t.Helper()
	rows, err := e.DB.Owner.Query(context.Background(), "SELECT sealed FROM abha_flows WHERE session_id_hash = $1", session)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// TestABHAJourneySurvivesRestart starts an enrolment on one Sangam, stops
// it after the Aadhaar OTP was sent, and finishes the journey on a new one
// over the same database with the same browser, as after a deploy or on
// another replica without sticky sessions. Signing out then deletes the
// journey.
func TestABHAJourneySurvivesRestart(t *testing.T) {
	e := startABHA(t, "")
	client, csrf := e.signInAs(t, "frontdesk")

	status, page := e.step(t, client, enrolPath+"/aadhaar", form(csrf, "consent", "agree", "aadhaar", aadhaarFarhan))
	if status != http.StatusOK {
		t.Fatalf("Aadhaar step: %d\n%s", status, page)
	}
	mustContain(t, "Aadhaar OTP page", page, `data-testid="abha-aadhaar-otp"`, "Mobile Number ******0006")
	session := sessionHash(t, e, client)
	stored := journeyRows(t, e, session)
	if len(stored) != 1 {
		t.Fatalf("%d journeys stored for the session, want 1", len(stored))
	}
	for _, plain := range [][]byte{[]byte("999900000063"), []byte("TxnID"), []byte("aadhaar-otp")} {
		if bytes.Contains(stored[0], plain) {
			t.Errorf("the stored journey contains %q", plain)
		}
	}

	e2 := e.restart(t)

	// The session and its journey live on: the new process takes the OTP
	// step the old one began.
	otp := e.newestOTP(t, "9000000006")
	status, page = e2.step(t, client, enrolPath+"/otp", form(csrf, "otp", otp, "mobile", "9000000006"))
	if status != http.StatusOK {
		t.Fatalf("OTP step after the restart: %d\n%s", status, page)
	}
	mustContain(t, "address page after the restart", page, `data-testid="abha-address"`)
	mustNotContain(t, "address page after the restart", page, "This ABHA journey has ended")
	names := suggestion.FindAllStringSubmatch(page, -1)
	if len(names) == 0 {
		t.Fatalf("address page offers no suggestions:\n%s", page)
	}
	status, page = e2.step(t, client, enrolPath+"/address", form(csrf, "address", names[0][1]))
	if status != http.StatusOK {
		t.Fatalf("address step after the restart: %d\n%s", status, page)
	}
	mustContain(t, "result page after the restart", page, "ABHA created", `data-testid="abha-number">91-`)

	// Signing out removes the journey with the session. (The provider's
	// logout is not followed: it knows only the first Sangam's URL.)
	resp, _ := do(t, noFollow(client), mustRequest(t, http.MethodPost, e2.URL+"/logout", form(csrf)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d, want 303", resp.StatusCode)
	}
	if n := len(journeyRows(t, e2, session)); n != 0 {
		t.Errorf("%d journeys left after signing out, want 0", n)
	}
}
