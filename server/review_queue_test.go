package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server/servertest"
)

// TestPatientReview plants two near-duplicates in the demo group's index
// and works them through the review page as the front desk would: one
// pair kept apart, one merged, the merge undone.
func TestPatientReview(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := context.Background()
	ix := patients.New(env.DB.App, patients.Config{})
	sources := map[string]string{}
	err := database.InTenant(ctx, env.DB.App, env.TenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT f.hip_id || '/' || s.code, s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id`)
		if err != nil {
			return err
		}
		var k, v string
		_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error { sources[k] = v; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(source, local, name, gender, birth, mobile string) patients.Decision {
		t.Helper()
		r := patients.SourceRecord{SourceSystemID: sources[source], LocalID: local, Name: name, Gender: gender, Mobile: mobile}
		if d, err := time.Parse("2006-01-02", birth); err == nil {
			r.BirthDate, r.BirthYear = d, d.Year()
		}
		d, err := ix.Ingest(ctx, env.TenantID, r)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ingest("KAVERI-BLR-01/his", "MRN-1", "Ravi Sharma", "M", "1968-03-12", "9900000001")
	son := ingest("KAVERI-BLR-01/lims", "LAB-2", "Ravi Sharma", "M", "1996-09-01", "9900000001")
	ingest("KAVERI-BLR-01/his", "MRN-3", "Anita Desai", "F", "1990-01-02", "9800000001")
	anita := ingest("KAVERI-MYS-02/his", "CW-4", "Anita Desai", "M", "1990-01-02", "9800000001")
	if len(son.Reviews) != 1 || len(anita.Reviews) != 1 {
		t.Fatalf("planted pairs not in review: %+v %+v", son, anita)
	}
	sonItem := "/patients/review/" + strconv.FormatInt(son.Reviews[0], 10)
	anitaItem := "/patients/review/" + strconv.FormatInt(anita.Reviews[0], 10)

	billing := servertest.NewClient(t)
	env.SignIn(t, billing, "billing", identity.DemoPassword)
	if resp, _ := get(t, billing, env.URL+"/patients/review", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("billing: %d, want 403", resp.StatusCode)
	}

	desk := servertest.NewClient(t)
	res := env.SignIn(t, desk, "frontdesk", identity.DemoPassword)
	token := csrfToken(t, res.Body)
	resp, page := get(t, desk, env.URL+"/patients/review", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /patients/review: %d\n%s", resp.StatusCode, page)
	}
	if n := strings.Count(page, `data-testid="review-case"`); n != 2 {
		t.Errorf("%d review cases on the page, want 2", n)
	}
	mustContain(t, "the review page", page, "Ravi Sharma", "1968-03-12", "1996-09-01", "Anita Desai", "Kaveri City Hospital",
		"MRN-1", "LAB-2", "CW-4", "How the two records compare", `action="`+sonItem+`"`, "Waiting for review (2 pairs)", "No merges to undo.")

	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		form.Set("csrf_token", token)
		return do(t, noFollow(desk), mustRequest(t, http.MethodPost, env.URL+path, form))
	}
	resp, page = post(sonItem, url.Values{"decision": {"different"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `data-testid="form-error"`) {
		t.Errorf("decision without a reason: %d", resp.StatusCode)
	}
	resp, page = do(t, noFollow(desk), mustRequest(t, http.MethodPost, env.URL+sonItem, url.Values{"decision": {"different"}, "reason": {"x"}}))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("decision without the CSRF token: %d, want 403", resp.StatusCode)
	}

	resp, page = post(sonItem, url.Values{"decision": {"different"}, "reason": {"father and son, ages differ"}})
	wantRedirect(t, resp, page, "/patients/review?notice=distinct")
	resp, page = post(anitaItem, url.Values{"decision": {"same"}, "reason": {"checked her Aadhaar card"}})
	wantRedirect(t, resp, page, "/patients/review?notice=merged")
	resp, page = post(anitaItem, url.Values{"decision": {"different"}, "reason": {"again"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("deciding twice: %d, want 409", resp.StatusCode)
	}

	_, page = get(t, desk, env.URL+"/patients/review?notice=merged", nil)
	mustContain(t, "the page after the merge", page, `data-testid="notice"`, "Merged.", "Waiting for review (0 pairs)",
		`data-testid="merges"`, "checked her Aadhaar card", "frontdesk", `action="/patients/`+anita.PatientID+`/unmerge"`)

	resp, page = post("/patients/"+anita.PatientID+"/unmerge", url.Values{"reason": {"wrong card"}})
	wantRedirect(t, resp, page, "/patients/review?notice=unmerged")
	hist, err := ix.History(ctx, env.TenantID, anita.PatientID)
	if err != nil || len(hist) != 2 || hist[0].Kind != "unmerge" || hist[0].Actor != "frontdesk" || hist[1].Reason != "checked her Aadhaar card" {
		t.Errorf("merge history %+v, %v", hist, err)
	}
	resp, _ = post("/patients/"+anita.PatientID+"/unmerge", url.Values{"reason": {"again"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second unmerge: %d, want 409", resp.StatusCode)
	}

	var audited int
	err = database.InTenant(ctx, env.DB.App, env.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action IN ('patients.review_decided', 'patients.unmerged') AND actor = 'demo-frontdesk'`).Scan(&audited)
	})
	if err != nil || audited != 3 {
		t.Errorf("%d audit events, want 3 (%v)", audited, err)
	}
}
