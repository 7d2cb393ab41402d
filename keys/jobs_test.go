package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/keys"
)

// TestPurgeJobWithRiver runs the registered worker and periodic job in a
// real River client on the test database: the periodic job's first run
// (at start) deletes expired secrets and keeps the rest, and an explicitly
// inserted job does the same for secrets that expired later.
func TestPurgeJobWithRiver(t *testing.T) {
	db := databasetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store := keys.NewPostgresStore(db.App, newRing(t, randomKey(t)))
	tenant := db.Tenant(t, "Purge Job")

	expiredRef := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "expired"}
	liveRef := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "live"}
	for _, s := range []keys.Secret{
		{Ref: expiredRef, Value: []byte("old"), ExpiresAt: time.Now().Add(-time.Hour)},
		{Ref: liveRef, Value: []byte("new"), ExpiresAt: time.Now().Add(time.Hour)},
	} {
		if err := store.Put(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rowExists := func(name string) bool {
		t.Helper()
		var n int
		if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM key_secrets WHERE tenant_id = $1 AND name = $2", tenant, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !rowExists("expired") {
		t.Fatal("expired secret was not stored")
	}

	workers := river.NewWorkers()
	periodic, err := keys.RegisterJobs(workers, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(periodic) != 1 {
		t.Fatalf("RegisterJobs returned %d periodic jobs, want 1", len(periodic))
	}
	client, err := jobs.New(db.App, jobs.Config{Workers: workers, PeriodicJobs: periodic})
	if err != nil {
		t.Fatal(err)
	}
	events, unsubscribe := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer unsubscribe()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("stopping River: %v", err)
		}
	}()

	waitForPurge := func(label string) {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Job.Kind != (keys.PurgeExpiredArgs{}).Kind() {
					continue
				}
				if ev.Kind != river.EventKindJobCompleted || ev.Job.State != rivertype.JobStateCompleted {
					t.Fatalf("%s: purge job %s: %v", label, ev.Kind, ev.Job.Errors)
				}
				return
			case <-ctx.Done():
				t.Fatalf("%s: no purge job completed: %v", label, ctx.Err())
			}
		}
	}

	waitForPurge("run on start")
	if rowExists("expired") {
		t.Error("expired secret still stored after the periodic purge")
	}
	if !rowExists("live") {
		t.Error("live secret was purged")
	}

	// Expire the live secret by hand (shortening an expiry is harmless to
	// the ciphertext binding: the row is simply not read any more) and
	// purge on demand.
	if _, err := db.Owner.Exec(ctx, "UPDATE key_secrets SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND name = 'live'", tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, liveRef); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("secret past its expiry: %v, want ErrNotFound", err)
	}
	res, err := client.Insert(ctx, keys.PurgeExpiredArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.UniqueSkippedAsDuplicate {
		t.Fatal("purge job skipped as a duplicate of the completed one; later purges would never run")
	}
	waitForPurge("inserted")
	if rowExists("live") {
		t.Error("secret expired later is still stored after the inserted purge")
	}
}
