package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/keys"
)

// nhcxSandbox serves the sandbox NHCX switch; its control API is what
// --sandbox-url registers with.
func nhcxSandbox(t *testing.T) string {
	t.Helper()
	sw, err := nhcx.New(nhcx.Config{VerifyToken: func(string) (string, error) { return "kaveri-demo", nil }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sw}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); _ = sw.Close() })
	return "http://" + ln.Addr().String()
}

func sandboxParticipants(t *testing.T, base string) map[string]sandboxParticipant {
	t.Helper()
	resp, err := http.Get(base + "/_sandbox/nhcx/participants")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Participants []sandboxParticipant `json:"participants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]sandboxParticipant{}
	for _, p := range body.Participants {
		out[p.Code] = p
	}
	return out
}

func certificateKey(t *testing.T, pemText string) any {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %.60q", pemText)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.PublicKey
}

func TestNHCXRegister(t *testing.T) {
	clearOnboardEnv(t)
	for _, v := range []string{"NHCX_FACILITY", "NHCX_PARTICIPANT_CODE", "NHCX_PARTICIPANT_NAME", "NHCX_PRIVATE_KEY", "NHCX_URL", "NHCX_REGISTRY_URL"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	db := databasetest.New(t)
	ctx := context.Background()
	// A tenant of its own: the demo tenant's secrets are sealed under
	// another test's master key.
	tenant := db.Tenant(t, "NHCX")
	var slug string
	if err := db.Owner.QueryRow(ctx, `SELECT slug FROM tenants WHERE id = $1`, tenant).Scan(&slug); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Owner.Exec(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name)
		VALUES ($1, 'IN2910000587', 'NHCX-TEST-02', 'Kaveri Women and Child Hospital')`, tenant); err != nil {
		t.Fatal(err)
	}
	sandboxURL := nhcxSandbox(t)
	masterKey := filepath.Join(t.TempDir(), "master.key")
	common := []string{"--database-url", db.URL, "--tenant", slug, "--public-url", "https://sangam.example.org",
		"--master-key-file", masterKey, "--log-level", "error"}
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := runNHCX(ctx, append([]string{"register"}, append(common, args...)...), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), err
	}

	// Registering prints the certificate and puts the participant in the
	// sandbox registry with our endpoint.
	cert, msg, err := run("--facility", "IN2910000587", "--participant-code", "1000012587@HCX",
		"--sandbox-url", sandboxURL, "--sandbox-client-id", "kaveri-demo")
	if err != nil {
		t.Fatalf("register: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "made a new RSA-2048 private key") || !strings.Contains(msg, "https://sangam.example.org/nhcx") {
		t.Errorf("register said:\n%s", msg)
	}
	reg := sandboxParticipants(t, sandboxURL)["1000012587@hcx"]
	if reg.EndpointURL != "https://sangam.example.org/nhcx" || reg.Role != "provider" || reg.ClientID != "kaveri-demo" {
		t.Errorf("sandbox registry entry: %+v", reg)
	}

	// The certificate holds the public half of the key now in the key
	// store.
	store, err := keys.Open(ctx, keys.Config{MasterKey: keys.MasterKeyConfig{File: masterKey}, Logger: slog.New(slog.DiscardHandler)}, db.App)
	if err != nil {
		t.Fatal(err)
	}
	var facility string
	if err := database.InTenant(ctx, db.App, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id::text FROM facilities WHERE hfr_id = 'IN2910000587'`).Scan(&facility)
	}); err != nil {
		t.Fatal(err)
	}
	key, err := claims.LoadPrivateKey(ctx, store, claims.PrivateKeyRef(tenant, facility, "1000012587@hcx"))
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(certificateKey(t, cert)) || !key.PublicKey.Equal(certificateKey(t, reg.EncryptionCert)) {
		t.Error("the printed or registered certificate does not carry the stored key")
	}

	// Running again keeps the key (so messages already encrypted to it can
	// still be read).
	cert2, msg, err := run("--facility", "IN2910000587", "--participant-code", "1000012587@hcx", "--sandbox-url", sandboxURL)
	if err != nil {
		t.Fatalf("second register: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "kept the stored private key") || !key.PublicKey.Equal(certificateKey(t, cert2)) {
		t.Errorf("second run changed the key:\n%s", msg)
	}

	// The participant belongs to the tenant and facility.
	svc, err := claims.New(claims.Config{Pool: db.App, Keys: store, Tokens: tokenFunc(nil),
		SwitchURL: sandboxURL + "/hcx", RegistryURL: sandboxURL + "/registry"})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := svc.Participants(ctx, tenant)
	if err != nil || len(parts) != 1 || parts[0].Code != "1000012587@hcx" || parts[0].Facility != facility {
		t.Errorf("participants = %+v, %v", parts, err)
	}

	// Mistakes are refused with the setting to fix, and nothing printed.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--participant-code", "1000012587@hcx"}, "NHCX_FACILITY (--facility) is required"},
		{[]string{"--facility", "IN2910000587"}, "NHCX_PARTICIPANT_CODE (--participant-code) is required"},
		{[]string{"--facility", "IN0000000000", "--participant-code", "x@hcx"}, `no facility with HFR id "IN0000000000"`},
		{[]string{"--facility", "IN2910000587", "--participant-code", "x@hcx", "--private-key", filepath.Join(t.TempDir(), "none.pem")}, "--private-key"},
	} {
		out, _, err := run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
			t.Errorf("%v: err %v, stdout %q; want an error containing %q", tc.args, err, out, tc.want)
		}
	}
}

// tokenFunc is a claims.TokenSource for calls the test never makes.
type tokenFunc func(context.Context, string) (string, error)

func (f tokenFunc) Token(ctx context.Context, tenant string) (string, error) { return f(ctx, tenant) }
