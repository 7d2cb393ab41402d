package sources_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/sources"
)

func TestPollingRegistersWhatChangedOnce(t *testing.T) {
	b := setupIntake(t)
	ctx := context.Background()
	his := b.sourceID(t, "IN2910000231", "his")
	want := b.count(t, `SELECT (SELECT count(*) FROM demo_medisoft.opd_visit WHERE site_code = 'KCH')
		+ (SELECT count(*) FROM demo_medisoft.ipd_admission WHERE site_code = 'KCH')`)
	if want < 50 {
		t.Fatalf("demo HIS holds only %d care contexts at Bengaluru", want)
	}
	// PollBatch is 25: the poll pages through the changes.
	n, err := b.jobs.Poll(ctx, b.tenant, his)
	if err != nil {
		t.Fatal(err)
	}
	if n < want {
		t.Errorf("first poll read %d changes, want at least the %d care contexts", n, want)
	}
	registered := b.count(t, "SELECT count(*) FROM care_contexts WHERE source_system_id::text = $1 AND found_via = 'poll'", his)
	if registered != want {
		t.Errorf("registered %d care contexts by polling, want %d", registered, want)
	}
	if n, err := b.jobs.Poll(ctx, b.tenant, his); err != nil || n != 0 {
		t.Errorf("second poll read %d changes (%v), want 0", n, err)
	}
	var watermark time.Time
	err = database.InTenant(ctx, b.db.App, b.tenant, func(tx pgx.Tx) error {
		states, err := sources.ListStates(ctx, tx)
		for _, s := range states {
			if s.SourceSystemID == his {
				watermark = s.PollWatermark
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var newest time.Time
	if err := b.db.Owner.QueryRow(ctx, `SELECT greatest(
		(SELECT max(modified_on) FROM demo_medisoft.opd_visit WHERE site_code = 'KCH'),
		(SELECT max(modified_on) FROM demo_medisoft.ipd_admission WHERE site_code = 'KCH')) AT TIME ZONE 'Asia/Kolkata'`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if !watermark.Equal(newest) {
		t.Errorf("watermark %s, want the newest change %s", watermark, newest)
	}

	// A new visit appears in the vendor's database: the next poll finds
	// exactly it.
	_, err = b.db.Owner.Exec(ctx, `INSERT INTO demo_medisoft.opd_visit
		SELECT 'VK999999', 'KCH', mrn, now()::timestamp, 'General Medicine', 'Dr. Anand Rao', 'Cough', (now() + interval '1 day')::timestamp
		FROM demo_medisoft.patient_master WHERE site_code = 'KCH' ORDER BY mrn LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := b.jobs.Poll(ctx, b.tenant, his); err != nil || n != 1 {
		t.Errorf("poll after a new visit read %d (%v), want 1", n, err)
	}
	if b.created.Load() != int64(want)+1 {
		t.Errorf("new-care-context hook ran %d times, want %d", b.created.Load(), want+1)
	}
}

func TestPollAllQueuesEveryPollableSource(t *testing.T) {
	b := setupIntake(t)
	ctx := context.Background()
	mons, err := b.registry.Tenant(ctx, b.tenant)
	if err != nil {
		t.Fatal(err)
	}
	pollable := 0
	for _, m := range mons {
		if m.CanPoll() {
			pollable++
		}
	}
	events := b.start(t)
	if _, err := b.client.Insert(ctx, sources.PollAllArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	if ev := waitJob(t, events, "source_poll_all"); ev.Kind != river.EventKindJobCompleted {
		t.Fatalf("poll-all ended %s: %v", ev.Kind, ev.Job.Errors)
	}
	for range pollable {
		if ev := waitJob(t, events, "source_poll"); ev.Kind != river.EventKindJobCompleted {
			t.Errorf("poll ended %s: %v", ev.Kind, ev.Job.Errors)
		}
	}
	if pollable != 9 {
		t.Errorf("pollable demo sources = %d, want 9", pollable)
	}
	// Every care context of every demo source is now registered.
	want := b.count(t, `SELECT
		(SELECT count(*) FROM demo_medisoft.opd_visit) + (SELECT count(*) FROM demo_medisoft.ipd_admission)
		+ (SELECT count(*) FROM demo_careware.encounters) + (SELECT count(*) FROM demo_labtrack.lab_order)
		+ (SELECT count(*) FROM demo_radview.study) + (SELECT count(*) FROM demo_pharmaone.rx_order)
		+ (SELECT count(*) FROM demo_billdesk.bill_hdr)`)
	if got := b.count(t, "SELECT count(*) FROM care_contexts WHERE found_via = 'poll'"); got != want {
		t.Errorf("registered by polling: %d, want %d", got, want)
	}
}

func TestHealthCheckRecordsEverySource(t *testing.T) {
	b := setupIntake(t)
	ctx := context.Background()
	broken := addSource(t, b.demoBundle, "IN2910000587", "brokenlis", `{"connector": "sql", "mapping": "labtrack.yaml", "dsn_env": "NOT_SET_ANYWHERE"}`)
	if err := b.jobs.CheckHealth(ctx, b.tenant); err != nil {
		t.Fatal(err)
	}
	var states []sources.State
	err := database.InTenant(ctx, b.db.App, b.tenant, func(tx pgx.Tx) error {
		var err error
		states, err = sources.ListStates(ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	healthy := 0
	for _, s := range states {
		switch {
		case s.SourceSystemID == broken:
			if s.LastFailure.IsZero() || !strings.Contains(s.LastError, "NOT_SET_ANYWHERE") || s.CheckedAt.IsZero() {
				t.Errorf("broken source state = %+v", s)
			}
		case s.Vendor != "test":
			if s.LastSuccess.IsZero() || s.Breaker != sources.BreakerClosed || s.CheckedAt.IsZero() {
				t.Errorf("%s/%s state = %+v", s.FacilityHFRID, s.Code, s)
			} else {
				healthy++
			}
		}
	}
	if healthy != 9 {
		t.Errorf("healthy demo sources = %d, want all 9", healthy)
	}
}
