package demo_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

func TestLoadIsIdempotentAndComplete(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	g := demo.KaveriHealth()

	first, err := demo.Load(ctx, db.Owner, g)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created {
		t.Error("first load: Created = false, want true")
	}
	second, err := demo.Load(ctx, db.Owner, g)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.TenantID != first.TenantID {
		t.Errorf("second load: created=%t tenant=%s, want existing tenant %s", second.Created, second.TenantID, first.TenantID)
	}

	// Read back through the application role, as the web app will.
	var facilities, counters, sources, kinds int
	err = database.InTenant(ctx, db.App, first.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM facilities), (SELECT count(*) FROM counters),
			(SELECT count(*) FROM source_systems), (SELECT count(DISTINCT kind) FROM source_systems)`).
			Scan(&facilities, &counters, &sources, &kinds)
	})
	if err != nil {
		t.Fatal(err)
	}
	if facilities != 3 || counters != 6 {
		t.Errorf("got %d facilities and %d counters, want 3 and 6", facilities, counters)
	}
	if sources != 9 || kinds != 5 {
		t.Errorf("got %d source systems of %d kinds, want 9 of 5", sources, kinds)
	}
	for _, f := range g.Facilities {
		if n := len(f.Sources); n < 2 || n > 4 {
			t.Errorf("%s has %d source systems, want 2-4", f.HFRID, n)
		}
	}
}
