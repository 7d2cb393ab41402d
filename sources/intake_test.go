package sources_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/sources"
)

// intakeBundle wires the intake as serve does: tokens, a River client with
// the package's workers, and a Fiber app with the route.
type intakeBundle struct {
	demoBundle
	clock   *clock
	tokens  *sources.Tokens
	jobs    *sources.Jobs
	client  *jobs.Client
	app     *fiber.App
	created atomic.Int64
}

func setupIntake(t *testing.T) *intakeBundle {
	t.Helper()
	b := &intakeBundle{demoBundle: setupDemo(t), clock: &clock{now: time.Now()}}
	b.tokens = sources.NewTokens(b.db.App, b.clock.Now)
	var err error
	b.jobs, err = sources.NewJobs(sources.JobsConfig{
		Pool: b.db.App, Registry: b.registry, PollBatch: 25,
		OnNewCareContextFunc: func(ctx context.Context, tx pgx.Tx, tenantID string, reg sources.Registered) error {
			b.created.Add(1)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if _, err := b.jobs.Register(workers); err != nil {
		t.Fatal(err)
	}
	b.client, err = jobs.New(b.db.App, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	intake, err := sources.NewIntake(sources.IntakeConfig{Pool: b.db.App, Jobs: b.client, Tokens: b.tokens})
	if err != nil {
		t.Fatal(err)
	}
	b.app = fiber.New()
	intake.Register(b.app)
	return b
}

// start runs the River client until the test ends and returns a channel of
// finished jobs.
func (b *intakeBundle) start(t *testing.T) <-chan *river.Event {
	t.Helper()
	events, cancel := b.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	ctx, stop := context.WithCancel(context.Background())
	if err := b.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sctx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = b.client.Stop(sctx)
		stop()
	})
	return events
}

// waitJob waits for the next finished job of kind.
func waitJob(t *testing.T, events <-chan *river.Event, kind string) *river.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s job finished", kind)
		}
	}
}

func (b *intakeBundle) sourceID(t *testing.T, hfr, code string) string {
	t.Helper()
	var id string
	err := database.InTenant(context.Background(), b.db.App, b.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `
			SELECT s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id
			WHERE f.hfr_id = $1 AND s.code = $2`, hfr, code).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (b *intakeBundle) post(t *testing.T, sourceID, token, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/sources/"+sourceID+"/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := b.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func event(id, orderID string) string {
	return fmt.Sprintf(`{"event_id": %q, "type": "report.finalised", "occurred_at": "2025-10-01T10:00:00+05:30",
		"patient_id": "LAB-607890", "care_context": {"type": "order", "id": %q, "date": "2025-10-01", "display": "Lipid profile (%s)"}}`,
		id, orderID, orderID)
}

func (b *intakeBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.Owner.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEventIntakeAuthenticatesPerSourceAndRotates(t *testing.T) {
	b := setupIntake(t)
	ctx := context.Background()
	lims := b.sourceID(t, "IN2910000231", "lims")
	ris := b.sourceID(t, "IN2910000231", "ris")
	old, err := b.tokens.Rotate(ctx, b.tenant, lims, 0)
	if err != nil {
		t.Fatal(err)
	}
	risToken, err := b.tokens.Rotate(ctx, b.tenant, ris, 0)
	if err != nil {
		t.Fatal(err)
	}

	refused := []struct{ name, source, token string }{
		{"no token", lims, ""},
		{"garbage", lims, "not-a-token"},
		{"forged tenant", lims, "sgs_" + strings.Repeat("A", 64)},
		{"another source's token", lims, risToken},
		{"token on the wrong source", ris, old},
	}
	for _, r := range refused {
		if status, body := b.post(t, r.source, r.token, event("e-auth", "ORD-1")); status != http.StatusUnauthorized {
			t.Errorf("%s: status %d %v, want 401", r.name, status, body)
		}
	}
	if b.count(t, "SELECT count(*) FROM source_events WHERE event_id = 'e-auth'") != 0 {
		t.Error("a refused event was stored")
	}

	if status, body := b.post(t, lims, old, event("e-1", "ORD-A1")); status != http.StatusAccepted {
		t.Fatalf("valid token: %d %v", status, body)
	}

	// Rotation: both tokens work during the grace period, then only the
	// new one.
	fresh, err := b.tokens.Rotate(ctx, b.tenant, lims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := b.post(t, lims, old, event("e-2", "ORD-A2")); status != http.StatusAccepted {
		t.Errorf("old token within the grace period: %d, want 202", status)
	}
	if status, _ := b.post(t, lims, fresh, event("e-3", "ORD-A3")); status != http.StatusAccepted {
		t.Errorf("new token: %d, want 202", status)
	}
	b.clock.Advance(time.Hour + time.Second)
	if status, _ := b.post(t, lims, old, event("e-4", "ORD-A4")); status != http.StatusUnauthorized {
		t.Errorf("old token after the grace period: %d, want 401", status)
	}
	if status, _ := b.post(t, lims, fresh, event("e-5", "ORD-A5")); status != http.StatusAccepted {
		t.Errorf("new token after the grace period: %d, want 202", status)
	}
	// Only hashes are stored.
	if n := b.count(t, "SELECT count(*) FROM source_tokens WHERE position($1::bytea IN token_sha256) > 0", []byte(fresh)); n != 0 {
		t.Error("a token is stored in plaintext")
	}
	// Process what was accepted, so no job is left for the next test.
	events := b.start(t)
	for range 4 {
		if ev := waitJob(t, events, "source_event"); ev.Kind != river.EventKindJobCompleted {
			t.Errorf("event job ended %s: %v", ev.Kind, ev.Job.Errors)
		}
	}
}

func TestEventIsStoredBeforeAckAndProcessedOnce(t *testing.T) {
	b := setupIntake(t)
	ctx := context.Background()
	lims := b.sourceID(t, "IN2910000231", "lims")
	token, err := b.tokens.Rotate(ctx, b.tenant, lims, 0)
	if err != nil {
		t.Fatal(err)
	}
	body := event("evt-100", "ORD-900100")

	// The job client is not running yet: a 202 must mean the event and its
	// job are already in the database.
	status, resp := b.post(t, lims, token, body)
	if status != http.StatusAccepted || resp["status"] != "accepted" {
		t.Fatalf("first delivery: %d %v", status, resp)
	}
	id := int64(resp["id"].(float64))
	if n := b.count(t, "SELECT count(*) FROM source_events WHERE id = $1 AND event_id = 'evt-100' AND state = 'received'", id); n != 1 {
		t.Fatalf("stored events = %d, want 1 in state received", n)
	}
	const queued = "SELECT count(*) FROM river_job WHERE kind = 'source_event' AND (args->>'event')::bigint = $1"
	if n := b.count(t, queued, id); n != 1 {
		t.Fatalf("queued jobs = %d, want 1", n)
	}

	// A resent event is acknowledged and neither stored nor queued again.
	status, resp = b.post(t, lims, token, body)
	if status != http.StatusAccepted || resp["status"] != "duplicate" || int64(resp["id"].(float64)) != id {
		t.Errorf("resent event: %d %v, want 202 duplicate of %d", status, resp, id)
	}
	if n := b.count(t, queued, id); n != 1 {
		t.Errorf("queued jobs after the resend = %d, want 1", n)
	}

	events := b.start(t)
	if ev := waitJob(t, events, "source_event"); ev.Kind != river.EventKindJobCompleted {
		t.Fatalf("event job ended %s: %v", ev.Kind, ev.Job.Errors)
	}
	var reg sources.Registered
	err = database.InTenant(ctx, b.db.App, b.tenant, func(tx pgx.Tx) error {
		reg, err = sources.LookupCareContext(ctx, tx, facilityID(t, b.demoBundle, "IN2910000231"), "lims:order:ORD-900100")
		return err
	})
	if err != nil {
		t.Fatalf("registered care context: %v", err)
	}
	if reg.FoundVia != sources.FoundViaEvent || reg.HIType != sources.DiagnosticReport || reg.PatientID != "LAB-607890" ||
		reg.Display != "Lipid profile (ORD-900100)" || reg.SourceSystemID != lims {
		t.Errorf("registered %+v", reg)
	}
	if b.created.Load() != 1 {
		t.Errorf("new-care-context hook ran %d times, want 1", b.created.Load())
	}

	// Running the job again (a crash between commit and completion) changes
	// nothing.
	if err := b.jobs.ProcessEvent(ctx, b.tenant, id); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, "SELECT attempts FROM source_events WHERE id = $1 AND state = 'processed'", id); n != 1 {
		t.Errorf("event processed %d times, want once", n)
	}
	if b.created.Load() != 1 {
		t.Errorf("hook ran again on reprocessing")
	}
}

func TestEventBodyIsValidated(t *testing.T) {
	b := setupIntake(t)
	lims := b.sourceID(t, "IN2910000231", "lims")
	token, err := b.tokens.Rotate(context.Background(), b.tenant, lims, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ body, mention string }{
		{`not json`, "not an event"},
		{`{"event_id": "e", "type": "report.finalised", "patient_id": "P", "care_context": {"type": "order", "id": "1", "date": "2025-01-01"}, "extra": 1}`, "unknown field"},
		{`{"event_id": "e", "type": "report.final", "patient_id": "P", "care_context": {"type": "order", "id": "1", "date": "2025-01-01"}}`, "type \"report.final\""},
		{`{"event_id": "e", "type": "care_context.updated", "patient_id": "P", "care_context": {"type": "order", "id": "1", "date": "2025-01-01"}}`, "hi_type"},
		{`{"event_id": "e", "type": "visit.created", "patient_id": "", "care_context": {"type": "Visit", "id": "1", "date": "01/02/2025"}}`, "patient_id"},
	}
	for _, c := range cases {
		status, resp := b.post(t, lims, token, c.body)
		msg, _ := resp["error"].(map[string]any)["message"].(string)
		if status != http.StatusBadRequest || !strings.Contains(msg, c.mention) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", c.body, status, msg, c.mention)
		}
	}
	status, _ := b.post(t, lims, token, `{"event_id": "big", "pad": "`+strings.Repeat("x", 20<<10)+`"}`)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized event: %d, want 413", status)
	}
}
