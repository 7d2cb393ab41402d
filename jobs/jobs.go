// Package jobs builds the River client that runs all of Sangam's background
// work on the same PostgreSQL database as its data.
//
// Each domain package owns its job args and workers (in its jobs.go) and
// registers them on a *river.Workers; this package only assembles the client,
// so that `serve`, tests and tools configure River the same way.
package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Config describes the workers a process runs. A nil Workers builds an
// insert-only client, for processes that enqueue but never work.
type Config struct {
	Workers      *river.Workers
	PeriodicJobs []*river.PeriodicJob
	Logger       *slog.Logger
	// MaxWorkers bounds concurrent jobs on the default queue; 0 means 10.
	MaxWorkers int
	// Queues adds named queues with their own worker limits, so latency-
	// sensitive work (the ABDM bridge) is not queued behind bulk jobs.
	Queues map[string]int
}

// Client is River's client over pgx transactions.
type Client = river.Client[pgx.Tx]

// New builds a River client on pool. The pool should be the application pool
// so that jobs obey row-level security like request handlers do.
func New(pool *pgxpool.Pool, cfg Config) (*Client, error) {
	rc := &river.Config{Logger: cfg.Logger}
	if cfg.Workers != nil {
		n := cfg.MaxWorkers
		if n <= 0 {
			n = 10
		}
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		for name, max := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: max}
		}
		rc.PeriodicJobs = cfg.PeriodicJobs
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("creating job client: %w", err)
	}
	return client, nil
}

// Ping reports whether the job tables can be read, for /readyz.
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	var n int
	if err := pool.QueryRow(ctx, "SELECT 1 FROM river_job LIMIT 1").Scan(&n); err != nil && err != pgx.ErrNoRows {
		return fmt.Errorf("job queue unreachable: %w", err)
	}
	return nil
}
