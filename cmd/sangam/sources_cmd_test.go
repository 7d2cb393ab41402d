package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/sources"
)

func runSourcesCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runSources(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestSourcesToken issues a source's event token, checks that the intake's
// verifier accepts it for that source only, then rotates it: the old token
// works through the grace period and not after.
func TestSourcesToken(t *testing.T) {
	for _, v := range []string{"DATABASE_URL", "SANGAM_PUBLIC_URL", "SANGAM_TENANT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	db := databasetest.New(t)
	ctx := context.Background()
	res, err := demo.Load(ctx, db.Owner, demo.KaveriHealth())
	if err != nil {
		t.Fatal(err)
	}
	var lims, his string
	err = database.InTenant(ctx, db.App, res.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT (SELECT s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id WHERE f.hfr_id = 'IN2910000231' AND s.code = 'lims'),
			       (SELECT s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id WHERE f.hfr_id = 'IN2910000231' AND s.code = 'his')`).Scan(&lims, &his)
	})
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"token", "--database-url", db.URL, "--public-url", "https://sangam.example.org/",
		"--tenant", "kaveri", "--facility", "IN2910000231", "--system", "lims"}

	issue := func(extra ...string) string {
		t.Helper()
		stdout, stderr, err := runSourcesCmd(t, append(common, extra...)...)
		if err != nil {
			t.Fatalf("sources token: %v\n%s", err, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "sgs_") {
			t.Fatalf("stdout is not a token and a URL:\n%s", stdout)
		}
		if want := "https://sangam.example.org/api/sources/" + lims + "/events"; lines[1] != want {
			t.Errorf("intake URL %q, want %q", lines[1], want)
		}
		if strings.Contains(stderr, lines[0]) {
			t.Error("the token was also written to stderr")
		}
		return lines[0]
	}
	now := time.Now()
	clock := func() time.Time { return now }
	tokens := sources.NewTokens(db.App, func() time.Time { return clock() })
	accepts := func(system, token string) bool {
		t.Helper()
		tenant, err := tokens.Authenticate(ctx, system, token)
		if err != nil && !errors.Is(err, sources.ErrUnauthorized) {
			t.Fatalf("authenticate: %v", err)
		}
		if err == nil && tenant != res.TenantID {
			t.Errorf("token authenticated for tenant %s, want %s", tenant, res.TenantID)
		}
		return err == nil
	}

	first := issue()
	if !accepts(lims, first) {
		t.Error("the issued token is refused")
	}
	if accepts(his, first) {
		t.Error("the lims token is accepted for the HIS")
	}

	second := issue("--grace", "1h")
	if first == second {
		t.Fatal("rotation returned the same token")
	}
	if !accepts(lims, first) || !accepts(lims, second) {
		t.Error("during the grace period both tokens must work")
	}
	clock = func() time.Time { return now.Add(2 * time.Hour) }
	if accepts(lims, first) {
		t.Error("the old token still works after the grace period")
	}
	if !accepts(lims, second) {
		t.Error("the new token stopped working")
	}

	third := issue("--grace", "0")
	clock = func() time.Time { return now.Add(time.Minute) }
	if accepts(lims, second) || !accepts(lims, third) {
		t.Error("--grace 0 must revoke the earlier token at once")
	}
}

func TestSourcesTokenErrors(t *testing.T) {
	for _, v := range []string{"DATABASE_URL", "SANGAM_PUBLIC_URL", "SANGAM_TENANT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	db := databasetest.New(t)
	if _, err := demo.Load(context.Background(), db.Owner, demo.KaveriHealth()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "--database-url", db.URL, "--facility", "IN2910000231", "--system", "lims"}, "SANGAM_TENANT (--tenant) is required"},
		{[]string{"token", "--database-url", db.URL, "--tenant", "kaveri"}, "--facility and --system are required"},
		{[]string{"token", "--database-url", db.URL, "--tenant", "nowhere", "--facility", "IN2910000231", "--system", "lims"}, `no tenant "nowhere"`},
		{[]string{"token", "--database-url", db.URL, "--tenant", "kaveri", "--facility", "IN2910000231", "--system", "nope"}, `no source system "nope" at facility IN2910000231`},
		{[]string{"token", "--database-url", db.URL, "--tenant", "kaveri", "--facility", "IN2910000231", "--system", "lims", "--public-url", "sangam.example.org"}, "must be an absolute http(s) URL"},
	} {
		stdout, _, err := runSourcesCmd(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, stdout)
		}
	}
	if _, _, err := runSourcesCmd(t, "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown subcommand: %v, want errUsage", err)
	}
}
