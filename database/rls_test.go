package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// tenantOwnedTables lists every table that carries tenant_id. The test below
// fails when a new one is added without row-level security, so the list is
// checked against the catalogue rather than trusted.
func tenantOwnedTables(t *testing.T, db *databasetest.DB) []string {
	t.Helper()
	rows, err := db.Owner.Query(context.Background(), `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_name = c.table_name AND tb.table_schema = c.table_schema
		WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no tenant-owned tables found")
	}
	return names
}

func TestEveryTenantTableForcesRowLevelSecurity(t *testing.T) {
	db := databasetest.New(t)
	for _, table := range tenantOwnedTables(t, db) {
		var enabled, forced bool
		err := db.Owner.QueryRow(context.Background(),
			"SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1 AND relnamespace = 'public'::regnamespace",
			table).Scan(&enabled, &forced)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if !enabled || !forced {
			t.Errorf("%s: row level security enabled=%t forced=%t, want both", table, enabled, forced)
		}
	}
}

// TestTenantCannotReadAnotherTenantsRows writes a facility for each of two
// tenants and shows that hand-written SQL on the application pool sees only
// the current tenant's row, sees nothing without a tenant, and cannot write
// a row for another tenant.
func TestTenantCannotReadAnotherTenantsRows(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	a := db.Tenant(t, "Alpha Hospitals")
	b := db.Tenant(t, "Beta Clinics")

	for _, tc := range []struct{ tenant, hip string }{{a, "ALPHA-HIP-1"}, {b, "BETA-HIP-1"}} {
		err := database.InTenant(ctx, db.App, tc.tenant, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, $2, $2, $2)", tc.tenant, tc.hip)
			return err
		})
		if err != nil {
			t.Fatalf("inserting facility for %s: %v", tc.hip, err)
		}
	}

	var seen []string
	err := database.InTenant(ctx, db.App, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT hip_id FROM facilities")
		if err != nil {
			return err
		}
		seen, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "ALPHA-HIP-1" {
		t.Errorf("tenant A sees %v, want only [ALPHA-HIP-1]", seen)
	}

	// Even a query that names the other tenant explicitly finds nothing.
	err = database.InTenant(ctx, db.App, a, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM facilities WHERE tenant_id = $1", b).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("tenant A counted %d of tenant B's facilities, want 0", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Without a tenant context the application role sees nothing at all.
	var n int
	if err := db.App.QueryRow(ctx, "SELECT count(*) FROM facilities").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("no tenant context: counted %d facilities, want 0", n)
	}

	// Writing a row for another tenant is refused by the policy's check.
	err = database.InTenant(ctx, db.App, a, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, 'X', 'SNEAKY', 'x')", b)
		return err
	})
	if err == nil {
		t.Error("tenant A inserted a facility for tenant B; want a row-level security violation")
	}

	// Updating or deleting the other tenant's rows touches nothing.
	err = database.InTenant(ctx, db.App, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE facilities SET name = 'hijacked' WHERE hip_id = 'BETA-HIP-1'")
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 0 {
			return errors.New("update reached tenant B's facility")
		}
		tag, err = tx.Exec(ctx, "DELETE FROM facilities WHERE hip_id = 'BETA-HIP-1'")
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 0 {
			return errors.New("delete reached tenant B's facility")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestCheckSchema(t *testing.T) {
	db := databasetest.New(t)
	if err := database.CheckSchema(context.Background(), db.App); err != nil {
		t.Fatalf("freshly migrated database: %v", err)
	}
}
