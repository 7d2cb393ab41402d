package database

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sangamhealth/sangam/migrations"
)

// Migrate applies River's migrations, then Sangam's, to the database behind
// an owner pool. River goes first so that migration 0001's grants cover its
// tables. Both steps hold advisory locks, so replicas starting together do
// not race.
func Migrate(ctx context.Context, owner *pgxpool.Pool, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(owner), nil)
	if err != nil {
		return fmt.Errorf("preparing River migrations: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("applying River migrations: %w", err)
	}
	for _, v := range res.Versions {
		log.InfoContext(ctx, "applied River migration", "version", v.Version)
	}

	provider, db, err := gooseProvider(owner)
	if err != nil {
		return err
	}
	defer db.Close()
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("applying Sangam migrations: %w", err)
	}
	for _, r := range results {
		log.InfoContext(ctx, "applied migration", "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// CheckSchema reports ErrNotMigrated when either River's or Sangam's
// migrations have not all been applied. `serve` calls it at start so that an
// old schema fails loudly instead of at the first query.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("preparing River migration check: %w", err)
	}
	existing, err := migrator.ExistingVersions(ctx)
	if err != nil {
		return fmt.Errorf("%w (reading River versions: %v)", ErrNotMigrated, err)
	}
	if len(existing) < len(migrator.AllVersions()) {
		return fmt.Errorf("%w (River has %d of %d migrations)", ErrNotMigrated, len(existing), len(migrator.AllVersions()))
	}

	var applied int64
	if err := pool.QueryRow(ctx, "SELECT sangam_schema_version()").Scan(&applied); err != nil {
		return fmt.Errorf("%w (reading schema version: %v)", ErrNotMigrated, err)
	}
	want, err := LatestVersion()
	if err != nil {
		return err
	}
	if applied < want {
		return fmt.Errorf("%w (schema version %d, this binary needs %d)", ErrNotMigrated, applied, want)
	}
	return nil
}

// LatestVersion is the highest migration number embedded in this binary.
func LatestVersion() (int64, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("listing embedded migrations: %w", err)
	}
	var latest int64
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return 0, fmt.Errorf("migration %s: name must start with a number and an underscore", name)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

func gooseProvider(owner *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(owner)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("preparing migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	return p, db, nil
}
