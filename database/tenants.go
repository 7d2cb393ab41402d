package database

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TenantIDs lists every tenant, in slug order, for the background jobs that
// visit each tenant in turn under its own row-level security context. The
// tenants table is not row-secured (it routes requests before a tenant is
// known), so the application pool reads it directly.
func TenantIDs(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, "SELECT id::text FROM tenants ORDER BY slug")
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	return ids, nil
}
