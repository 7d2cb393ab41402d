package main

import (
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

func runMigrate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c struct {
		databaseURL string
		logging     logOptions
	}
	o := newOptions("migrate", "Apply River's and Sangam's database migrations. Safe to run from several\nprocesses at once: the migrations take an advisory lock.", stderr)
	o.String(&c.databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL of a user that may create tables and roles")
	c.logging.register(o)
	if err := o.parse(args); err != nil {
		return err
	}
	log, err := c.logging.logger(stderr)
	if err != nil {
		return err
	}
	if c.databaseURL == "" {
		return errors.New("DATABASE_URL (--database-url) is required")
	}
	pool, err := database.OpenOwner(ctx, c.databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := database.Migrate(ctx, pool, log); err != nil {
		return err
	}
	log.InfoContext(ctx, "database is up to date")
	return nil
}

// openMigratedPool opens the application pool and refuses a schema older
// than this binary, as every command that works on Sangam's data must.
func openMigratedPool(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	pool, err := database.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	if err := database.CheckSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
