package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// onboardSandbox starts the sandbox gateway with the demo group's client:
// two of its three facilities are registered under the bridge.
func onboardSandbox(t *testing.T) (*gateway.Gateway, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	g, err := gateway.New(gateway.Config{
		PublicURL: url,
		Clients: []gateway.Client{{
			ID: "SBX_KAVERI", Secret: "kaveri-secret",
			Services: []gateway.Service{
				{ID: "KAVERI-BLR-01", Name: "Kaveri City Hospital", Types: []string{gateway.TypeHIP, gateway.TypeHIU}},
				{ID: "KAVERI-MYS-02", Name: "Kaveri Women and Child Hospital", Types: []string{gateway.TypeHIP}},
				{ID: "KAVERI-NEW-09", Name: "Kaveri satellite clinic", Types: []string{gateway.TypeHIP}},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = g.Close(); _ = srv.Close() })
	return g, url
}

func clearOnboardEnv(t *testing.T) {
	clearKeyEnv(t)
	for _, v := range []string{"SANGAM_TENANT", "ABDM_CLIENT_ID", clientSecretEnv, "SANGAM_PUBLIC_URL",
		"ABDM_GATEWAY_URL", "ABDM_CM_ID", "LOG_LEVEL", "LOG_FORMAT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func runOnboardCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runOnboard(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestOnboardCommand(t *testing.T) {
	clearOnboardEnv(t)
	db := databasetest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Owner, demo.KaveriHealth()); err != nil {
		t.Fatal(err)
	}
	g, gatewayURL := onboardSandbox(t)
	common := []string{
		"--database-url", db.URL, "--tenant", "kaveri", "--public-url", "https://sangam.example.org",
		"--gateway-url", gatewayURL, "--master-key-file", filepath.Join(t.TempDir(), "master.key"), "--log-level", "error",
	}

	stdout, _, err := runOnboardCmd(t, "kaveri-secret\n", append(common, "--client-id", "SBX_KAVERI", "--client-secret-stdin")...)
	if err != nil {
		t.Fatalf("onboard: %v\n%s", err, stdout)
	}
	if got, _ := g.BridgeURL("SBX_KAVERI"); got != "https://sangam.example.org/bridge/kaveri" {
		t.Errorf("gateway bridge URL %q", got)
	}
	for _, want := range []string{
		"stored ABDM client id SBX_KAVERI for tenant kaveri",
		"registered bridge URL https://sangam.example.org/bridge/kaveri",
		"gateway reports bridge URL https://sangam.example.org/bridge/kaveri",
		"KAVERI-BLR-01    Kaveri City Hospital                 registered under the bridge (HIP, HIU)",
		"KAVERI-HSN-03    Kaveri Clinic Hassan                 NOT registered under the bridge: cannot serve M2",
		"2 of 3 facilities can serve M2",
		"KAVERI-NEW-09",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "WARNING") {
		t.Errorf("unexpected warning:\n%s", stdout)
	}

	// The secret is sealed in the key store, nowhere in plain text.
	var plain int
	err = db.Owner.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM key_secrets WHERE position('kaveri-secret'::bytea IN sealed) > 0)
		     + (SELECT count(*) FROM bridge_tenants t WHERE t::text LIKE '%kaveri-secret%')`).Scan(&plain)
	if err != nil || plain != 0 {
		t.Errorf("secret found in plain text in %d rows (%v)", plain, err)
	}

	// Another system takes the bridge URL; a check notices, using the stored
	// credentials.
	if err := takeBridgeURL(gatewayURL); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = runOnboardCmd(t, "", append(common, "--check-only")...)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !strings.Contains(stdout, "WARNING: the gateway sends this bridge's callbacks to https://elsewhere.example.org") ||
		strings.Contains(stdout, "registered bridge URL") {
		t.Errorf("check output:\n%s", stdout)
	}
}

// takeBridgeURL registers another URL for SBX_KAVERI, as a second system
// sharing the client id would.
func takeBridgeURL(gatewayURL string) error {
	other, err := abdm.New(abdm.Config{GatewayURL: gatewayURL, CMID: abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: "SBX_KAVERI", ClientSecret: "kaveri-secret"}, nil
		})})
	if err != nil {
		return err
	}
	return other.PatchBridgeURL(context.Background(), "other-system", "https://elsewhere.example.org")
}

func TestOnboardCommandErrors(t *testing.T) {
	clearOnboardEnv(t)
	db := databasetest.New(t)
	ctx := context.Background()
	// A tenant of its own: the demo tenant's secrets are sealed under
	// another test's master key.
	var slug string
	if err := db.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", db.Tenant(t, "Errors")).Scan(&slug); err != nil {
		t.Fatal(err)
	}
	_, gatewayURL := onboardSandbox(t)
	keyFile := filepath.Join(t.TempDir(), "master.key")
	base := []string{"--database-url", db.URL, "--gateway-url", gatewayURL, "--master-key-file", keyFile, "--log-level", "error"}

	for _, tc := range []struct {
		name  string
		stdin string
		env   string
		args  []string
		want  string
	}{
		{"no tenant", "", "", nil, "SANGAM_TENANT (--tenant) is required"},
		{"unknown tenant", "", "", []string{"--tenant", "nobody"}, `no tenant "nobody"`},
		{"client id without secret", "", "", []string{"--tenant", slug, "--client-id", "SBX_KAVERI"}, clientSecretEnv},
		{"stdin without client id", "x\n", "", []string{"--tenant", slug, "--client-secret-stdin"}, "needs --client-id"},
		{"no stored credentials", "", "", []string{"--tenant", slug}, "--client-secret-stdin"},
		{"wrong secret from the environment", "", "wrong", []string{"--tenant", slug, "--client-id", "SBX_KAVERI"}, "nothing was stored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(clientSecretEnv, tc.env)
			}
			stdout, _, err := runOnboardCmd(t, tc.stdin, append(base, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
			if stdout != "" {
				t.Errorf("printed %q before failing", stdout)
			}
		})
	}
	// Credentials the gateway refused were not stored.
	var n int
	if err := db.Owner.QueryRow(ctx, `SELECT count(*) FROM bridge_tenants b JOIN tenants t ON t.id = b.tenant_id
		WHERE t.slug = $1`, slug).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d credentials stored for %s (%v), want none", n, slug, err)
	}
}
