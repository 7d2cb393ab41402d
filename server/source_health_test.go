package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server/servertest"
	"github.com/sangamhealth/sangam/sources"
)

var issuedToken = regexp.MustCompile(`data-testid="token">(sgs_[A-Za-z0-9_-]+)<`)

// TestSourceHealth shows the indexed demo group's sources with their
// recorded health, and issues a source's event token from the page.
func TestSourceHealth(t *testing.T) {
	env, tenant := startIndexed(t)
	ctx := context.Background()
	var lims, his string
	err := database.InTenant(ctx, env.DB.App, tenant, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT (SELECT s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id WHERE f.hfr_id = 'IN2910000231' AND s.code = 'lims'),
			       (SELECT s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id WHERE f.hfr_id = 'IN2910000231' AND s.code = 'his')`).Scan(&lims, &his)
		if err != nil {
			return err
		}
		now := time.Now()
		if err := sources.RecordHealth(ctx, tx, sources.Health{SourceSystemID: lims, Code: "lims", Breaker: sources.BreakerOpen,
			Calls: 12, Failures: 7, LastSuccess: now.Add(-time.Hour), LastFailure: now, LastError: "connection refused"}); err != nil {
			return err
		}
		return sources.RecordHealth(ctx, tx, sources.Health{SourceSystemID: his, Code: "his", Breaker: sources.BreakerClosed, Calls: 40, LastSuccess: now})
	})
	if err != nil {
		t.Fatal(err)
	}

	// A system that only pushes events has no connector to show.
	if _, err := env.DB.Owner.Exec(ctx, `UPDATE source_systems SET config = '{}' WHERE tenant_id = $1 AND code = 'billing'`, tenant); err != nil {
		t.Fatal(err)
	}

	admin := servertest.NewClient(t)
	env.SignIn(t, admin, "admin", identity.DemoPassword)
	resp, page := get(t, admin, env.URL+"/admin/sources", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/sources: %d\n%s", resp.StatusCode, page)
	}
	// Nine sources across three facilities, one per row.
	if n := strings.Count(page, `data-testid="source-row"`); n != 9 {
		t.Errorf("%d source rows, want 9", n)
	}
	mustContain(t, "the source health page", page,
		"Kaveri City Hospital", "IN2910000231", "MediSoft HIS", "LabTrack LIMS", "CareWare HIS", "Hospital billing",
		"<td>sql</td>", "<td>none</td>", "Events only", "<strong>Failing: calls paused</strong>", "Open (calls refused)",
		"connection refused", "12 / 7", "40 / 0", "Healthy", `href="/admin/sources" aria-current="page"`)

	// Issue a token: shown once, accepted for that source only.
	resp, page = do(t, noFollow(admin), mustRequest(t, http.MethodPost, env.URL+"/admin/sources/"+lims+"/token",
		url.Values{"csrf_token": {csrfToken(t, page)}}))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("issuing a token: %d\n%s", resp.StatusCode, page)
	}
	m := issuedToken.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token on the page:\n%s", page)
	}
	mustContain(t, "the issued token", page, env.URL+"/api/sources/"+lims+"/events", "LabTrack LIMS at Kaveri City Hospital")
	tokens := sources.NewTokens(env.DB.App, nil)
	if got, err := tokens.Authenticate(ctx, lims, m[1]); err != nil || got != tenant {
		t.Errorf("the issued token: tenant %q, %v", got, err)
	}
	if _, err := tokens.Authenticate(ctx, his, m[1]); err == nil {
		t.Error("the lims token is accepted for the HIS")
	}
	_, page = get(t, admin, env.URL+"/admin/sources", nil)
	mustNotContain(t, "the page reloaded", page, m[1])

	if resp, _ := do(t, noFollow(admin), mustRequest(t, http.MethodPost, env.URL+"/admin/sources/"+lims+"/token", url.Values{})); resp.StatusCode != http.StatusForbidden {
		t.Errorf("issuing without the CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, noFollow(admin), mustRequest(t, http.MethodPost, env.URL+"/admin/sources/"+tenant+"/token",
		url.Values{"csrf_token": {csrfToken(t, page)}})); resp.StatusCode != http.StatusNotFound {
		t.Errorf("issuing for an unknown source: %d, want 404", resp.StatusCode)
	}

	desk := servertest.NewClient(t)
	env.SignIn(t, desk, "frontdesk", identity.DemoPassword)
	if resp, _ := get(t, desk, env.URL+"/admin/sources", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("front desk GET /admin/sources: %d, want 403", resp.StatusCode)
	}
}
