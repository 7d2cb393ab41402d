package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openTenantPool is how the commands that act for one tenant (onboard, nhcx
// register, sources token) start: open the database, refusing an old
// schema, and find the tenant by its slug. The caller closes the pool.
func openTenantPool(ctx context.Context, databaseURL, slug string) (pool *pgxpool.Pool, tenant string, err error) {
	pool, err = openMigratedPool(ctx, databaseURL)
	if err != nil {
		return nil, "", err
	}
	tenant, err = tenantID(ctx, pool, slug)
	if err != nil {
		pool.Close()
		return nil, "", err
	}
	return pool, tenant, nil
}

func tenantID(ctx context.Context, pool *pgxpool.Pool, slug string) (string, error) {
	var id string
	err := pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", slug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("no tenant %q (load the demo with `sangam demo`, or check the slug)", slug)
	}
	if err != nil {
		return "", fmt.Errorf("looking up tenant %q: %w", slug, err)
	}
	return id, nil
}
