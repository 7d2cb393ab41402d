// Package database opens Sangam's PostgreSQL pools, applies the embedded
// migrations (River's and ours) and runs work inside a tenant's row-level
// security context.
//
// Two kinds of pool exist. The application pool switches every connection to
// the role sangam_app, which row-level security policies apply to; request
// handlers and jobs use only that pool. The owner pool keeps the connecting
// user's own role and is used by `sangam migrate` and the demo loader, which
// must create objects or write across tenants.
package database

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppRole is the role the application pool runs as. Migration 0001 creates
// it and grants it to the migrating user.
const AppRole = "sangam_app"

// defaultMaxConns sizes a pool whose DATABASE_URL does not say
// (pool_max_conns): enough for the HTTP edge plus every River worker.
const defaultMaxConns = 40

// ErrNotMigrated reports a database whose schema is older than this binary.
var ErrNotMigrated = errors.New("database schema is not up to date: run `sangam migrate`")

// Open connects to url as the application role and checks that the server
// answers. Errors name the DATABASE_URL setting so that a misconfigured
// deployment says what to fix in one line.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	return open(ctx, url, true)
}

// OpenOwner connects to url as the configured user itself, for migrations
// and loading data across tenants.
func OpenOwner(ctx context.Context, url string) (*pgxpool.Pool, error) {
	return open(ctx, url, false)
}

func open(ctx context.Context, dsn string, asApp bool) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", redact(err))
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default (4 on a 2-core machine) starves River: each
		// working job and its processor's transaction hold a connection.
		cfg.MaxConns = defaultMaxConns
	}
	if asApp {
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "SET ROLE "+AppRole)
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", redact(err))
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "22023" || errors.As(err, &pgErr) && pgErr.Code == "42704" {
			// SET ROLE failed: the role does not exist yet.
			return nil, ErrNotMigrated
		}
		return nil, fmt.Errorf("DATABASE_URL: cannot reach PostgreSQL at %s: %w", hostOf(dsn), oneLine{redact(err)})
	}
	return pool, nil
}

// hostOf names the server of a DSN without its credentials.
func hostOf(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// redact strips anything that looks like a URL with a password from err's
// text; pgx sometimes echoes the connection string.
func redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return errors.New("malformed URL")
	}
	return err
}

// oneLine keeps an error's chain but prints it on one line: pgx lists each
// address it tried on its own line, and a start-up error should be one line
// that names the setting.
type oneLine struct{ err error }

func (e oneLine) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e oneLine) Unwrap() error { return e.err }

// InTenant runs fn in a transaction whose row-level security context is
// tenantID. The setting is transaction-local, so a pooled connection never
// carries one tenant's context into another's work.
func InTenant(ctx context.Context, pool *pgxpool.Pool, tenantID string, fn func(pgx.Tx) error) error {
	if tenantID == "" {
		return errors.New("InTenant: empty tenant id")
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := SetTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// SetTenant sets the row-level security context of an open transaction.
func SetTenant(ctx context.Context, tx pgx.Tx, tenantID string) error {
	if _, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", tenantID); err != nil {
		return fmt.Errorf("setting tenant context: %w", err)
	}
	return nil
}
