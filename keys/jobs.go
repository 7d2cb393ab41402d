package keys

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// PurgeInterval is how often RegisterJobs schedules the purge of expired
// secrets. Expired secrets are already unreadable; the purge only stops
// them piling up, so a quarter of an hour is plenty.
const PurgeInterval = 15 * time.Minute

// PurgeExpiredArgs asks for every expired secret of every tenant to be
// deleted.
type PurgeExpiredArgs struct{}

// Kind implements river.JobArgs.
func (PurgeExpiredArgs) Kind() string { return "keys_purge_expired" }

// InsertOpts makes the job unique while one is waiting or running, so slow
// purges never queue up behind each other. Completed jobs are left out of
// the unique states (River includes them by default), or the first
// completed purge would block every later one until River's cleaner ran.
func (PurgeExpiredArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// Purger is the part of a Store the purge job needs.
type Purger interface {
	PurgeExpired(ctx context.Context) (int, error)
}

// PurgeExpiredWorker runs PurgeExpiredArgs jobs.
type PurgeExpiredWorker struct {
	river.WorkerDefaults[PurgeExpiredArgs]
	store Purger
	log   *slog.Logger
}

// NewPurgeExpiredWorker returns a worker that purges store.
func NewPurgeExpiredWorker(store Purger, log *slog.Logger) *PurgeExpiredWorker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PurgeExpiredWorker{store: store, log: log}
}

// Work implements river.Worker.
func (w *PurgeExpiredWorker) Work(ctx context.Context, job *river.Job[PurgeExpiredArgs]) error {
	n, err := w.store.PurgeExpired(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.InfoContext(ctx, "purged expired secrets", "count", n)
	}
	return nil
}

// Timeout implements river.Worker: a store with many tenants or a Vault
// with many entries takes longer than River's default minute.
func (w *PurgeExpiredWorker) Timeout(*river.Job[PurgeExpiredArgs]) time.Duration {
	return 10 * time.Minute
}

// RegisterJobs adds the purge worker for store to workers and returns the
// periodic job that schedules it every PurgeInterval (and once at start).
// Pass the result in jobs.Config.PeriodicJobs.
func RegisterJobs(workers *river.Workers, store Purger, log *slog.Logger) ([]*river.PeriodicJob, error) {
	if err := river.AddWorkerSafely(workers, NewPurgeExpiredWorker(store, log)); err != nil {
		return nil, fmt.Errorf("registering key purge worker: %w", err)
	}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(
			river.PeriodicInterval(PurgeInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeExpiredArgs{}, nil },
			&river.PeriodicJobOpts{ID: "keys_purge_expired", RunOnStart: true},
		),
	}, nil
}
