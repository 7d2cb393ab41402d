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
	"math/rand/v2"
	"time"

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
	// Queues adds named queues with their own settings, so latency-
	// sensitive work (the ABDM bridge) is not queued behind bulk jobs; see
	// InteractiveQueue.
	Queues map[string]river.QueueConfig
}

// InteractiveQueue configures a queue whose jobs someone is waiting on: an
// ABDM callback whose answer the gateway (and a patient's app) waits for.
// River fetches a queue's jobs at most once per FetchCooldown (100 ms by
// default), which adds up to that much to every hop of a callback chain
// (inbound job, then outbound call); a short cooldown costs a few more
// cheap fetch queries under load and cuts that wait.
func InteractiveQueue(maxWorkers int) river.QueueConfig {
	return river.QueueConfig{MaxWorkers: maxWorkers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 250 * time.Millisecond}
}

// Client is River's client over pgx transactions.
type Client = river.Client[pgx.Tx]

// New builds a River client on pool. The pool should be the application pool
// so that jobs obey row-level security like request handlers do.
func New(pool *pgxpool.Pool, cfg Config) (*Client, error) {
	rc := &river.Config{Logger: cfg.Logger, FetchCooldown: notifyCooldown}
	if cfg.Workers != nil {
		n := cfg.MaxWorkers
		if n <= 0 {
			n = 10
		}
		rc.Workers = cfg.Workers
		// Bulk work keeps River's default pace; see notifyCooldown.
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n, FetchCooldown: river.FetchCooldownDefault}}
		for name, qc := range cfg.Queues {
			rc.Queues[name] = qc
		}
		rc.PeriodicJobs = cfg.PeriodicJobs
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("creating job client: %w", err)
	}
	return client, nil
}

// notifyCooldown is the client-wide FetchCooldown. River also uses it to
// limit how often an inserting client wakes a queue's workers (one
// notification per queue per cooldown): at River's 100 ms default, a
// callback arriving soon after another waits for the next poll instead of
// being picked up at once. Queues that need their own pace set it in their
// QueueConfig.
const notifyCooldown = 5 * time.Millisecond

// NewInserter returns an insert-only River client for a package that
// enqueues jobs in its callers' transactions while the process's working
// client (New) runs them.
func NewInserter(pool *pgxpool.Pool, log *slog.Logger) (*Client, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log, FetchCooldown: notifyCooldown})
	if err != nil {
		return nil, fmt.Errorf("creating job inserter: %w", err)
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

// Backoff is the wait before retry n (n ≥ 1): base·2^(n-1), at most
// maxDelay, with ±10% jitter so that work failed together does not retry
// together. Workers return it from NextRetry.
func Backoff(n int, base, maxDelay time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return max(d+jitter, time.Millisecond)
}

// CompleteTx marks the running job completed inside tx, so that the work
// done in tx and the job's completion commit together.
func CompleteTx[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T]) error {
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("completing job %d: %w", job.ID, err)
	}
	return nil
}
