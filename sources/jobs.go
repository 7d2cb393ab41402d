package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sangamhealth/sangam/database"
)

// EventArgs processes one stored source event.
type EventArgs struct {
	Tenant string `json:"tenant"`
	Event  int64  `json:"event"`
}

// Kind implements river.JobArgs.
func (EventArgs) Kind() string { return "source_event" }

// PollArgs asks one SQL source for the care contexts changed since its
// watermark.
type PollArgs struct {
	Tenant string `json:"tenant"`
	Source string `json:"source"`
}

// Kind implements river.JobArgs.
func (PollArgs) Kind() string { return "source_poll" }

// waitingStates are the states in which a job still has work ahead; unique
// jobs leave out completed ones so a finished run never blocks the next.
var waitingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// InsertOpts keeps one poll per source waiting at a time, so a slow source
// never collects a queue of polls.
func (PollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// PollAllArgs queues a PollArgs job for every pollable source of every
// tenant.
type PollAllArgs struct{}

// Kind implements river.JobArgs.
func (PollAllArgs) Kind() string { return "source_poll_all" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (PollAllArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// HealthCheckArgs pings every source of every tenant and records their
// health for the ops console.
type HealthCheckArgs struct{}

// Kind implements river.JobArgs.
func (HealthCheckArgs) Kind() string { return "source_health_check" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (HealthCheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// CareContextFunc runs in the transaction that registers a new care
// context, so follow-up work (HIP linking) is queued atomically with it.
type CareContextFunc func(ctx context.Context, tx pgx.Tx, tenantID string, reg Registered) error

// JobsConfig configures NewJobs.
type JobsConfig struct {
	Pool     *pgxpool.Pool // application pool
	Registry *Registry
	// OnNewCareContextFunc may be nil.
	OnNewCareContextFunc CareContextFunc
	// PollInterval is how often SQL sources are polled; 0 means 5 minutes.
	PollInterval time.Duration
	// HealthInterval is how often every source is pinged; 0 means 1 minute.
	HealthInterval time.Duration
	// PollBatch is how many changes one query reads; 0 means 500.
	PollBatch int
	// PingTimeout bounds each health ping; 0 means 10 seconds.
	PingTimeout time.Duration
	Logger      *slog.Logger
}

// Jobs holds the package's River workers.
type Jobs struct {
	cfg JobsConfig
}

// NewJobs checks cfg and fills its defaults.
func NewJobs(cfg JobsConfig) (*Jobs, error) {
	if cfg.Pool == nil || cfg.Registry == nil {
		return nil, errors.New("sources jobs: Pool and Registry are required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Minute
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = time.Minute
	}
	if cfg.PollBatch <= 0 {
		cfg.PollBatch = 500
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Jobs{cfg: cfg}, nil
}

// Register adds the workers to workers and returns the periodic jobs (poll
// all, health check) to pass in jobs.Config.PeriodicJobs.
func (j *Jobs) Register(workers *river.Workers) ([]*river.PeriodicJob, error) {
	for _, add := range []func() error{
		func() error { return river.AddWorkerSafely(workers, &eventWorker{j: j}) },
		func() error { return river.AddWorkerSafely(workers, &pollWorker{j: j}) },
		func() error { return river.AddWorkerSafely(workers, &pollAllWorker{j: j}) },
		func() error { return river.AddWorkerSafely(workers, &healthWorker{j: j}) },
	} {
		if err := add(); err != nil {
			return nil, fmt.Errorf("registering source workers: %w", err)
		}
	}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(j.cfg.PollInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PollAllArgs{}, nil },
			// Run at start too: a source connected while Sangam was down
			// should not wait a whole interval to be read.
			&river.PeriodicJobOpts{ID: "source_poll_all", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(j.cfg.HealthInterval),
			func() (river.JobArgs, *river.InsertOpts) { return HealthCheckArgs{}, nil },
			&river.PeriodicJobOpts{ID: "source_health_check", RunOnStart: true}),
	}, nil
}

type eventWorker struct {
	river.WorkerDefaults[EventArgs]
	j *Jobs
}

func (w *eventWorker) Work(ctx context.Context, job *river.Job[EventArgs]) error {
	return w.j.ProcessEvent(ctx, job.Args.Tenant, job.Args.Event)
}

// ProcessEvent registers the care context a stored event announces. It is
// idempotent: an event already processed is left alone, so a job that runs
// twice (a crash between commit and completion) changes nothing.
func (j *Jobs) ProcessEvent(ctx context.Context, tenantID string, eventID int64) error {
	var permanent error
	err := database.InTenant(ctx, j.cfg.Pool, tenantID, func(tx pgx.Tx) error {
		var state, sourceID, code string
		var payload []byte
		err := tx.QueryRow(ctx, `
			SELECT e.state, e.source_system_id::text, s.code, e.payload
			FROM source_events e JOIN source_systems s ON s.id = e.source_system_id
			WHERE e.id = $1 FOR UPDATE OF e`, eventID).Scan(&state, &sourceID, &code, &payload)
		if errors.Is(err, pgx.ErrNoRows) {
			permanent = fmt.Errorf("source event %d: %w", eventID, ErrNotFound)
			return nil
		}
		if err != nil {
			return err
		}
		if state == "processed" {
			return nil
		}
		var ev Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			permanent = fmt.Errorf("source event %d: stored payload: %w", eventID, err)
			return markEvent(ctx, tx, eventID, "failed", permanent)
		}
		reg, created, err := UpsertCareContext(ctx, tx, sourceID, ev.CareContext(code), FoundViaEvent)
		if errors.Is(err, ErrInvalidInput) || errors.Is(err, ErrNotFound) {
			permanent = err
			return markEvent(ctx, tx, eventID, "failed", err)
		}
		if err != nil {
			return err
		}
		if created && j.cfg.OnNewCareContextFunc != nil {
			if err := j.cfg.OnNewCareContextFunc(ctx, tx, tenantID, reg); err != nil {
				return fmt.Errorf("after registering %s: %w", reg.Reference, err)
			}
		}
		return markEvent(ctx, tx, eventID, "processed", nil)
	})
	if err != nil {
		return fmt.Errorf("processing source event %d: %w", eventID, err)
	}
	if permanent != nil {
		return river.JobCancel(permanent)
	}
	return nil
}

func markEvent(ctx context.Context, tx pgx.Tx, id int64, state string, cause error) error {
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	_, err := tx.Exec(ctx, `
		UPDATE source_events SET state = $2, attempts = attempts + 1, last_error = $3,
			processed_at = CASE WHEN $2 = 'processed' THEN now() END
		WHERE id = $1`, id, state, msg)
	if err != nil {
		return fmt.Errorf("marking source event %d %s: %w", id, state, err)
	}
	return nil
}

type pollAllWorker struct {
	river.WorkerDefaults[PollAllArgs]
	j *Jobs
}

func (w *pollAllWorker) Work(ctx context.Context, job *river.Job[PollAllArgs]) error {
	tenants, err := database.TenantIDs(ctx, w.j.cfg.Pool)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for _, t := range tenants {
		mons, err := w.j.cfg.Registry.Tenant(ctx, t)
		if err != nil {
			return err
		}
		for _, m := range mons {
			if m.CanPoll() {
				params = append(params, river.InsertManyParams{Args: PollArgs{Tenant: t, Source: m.System().ID}})
			}
		}
	}
	if len(params) == 0 {
		return nil
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return fmt.Errorf("queueing source polls: %w", err)
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("queueing source polls: %w", err)
	}
	return nil
}

type pollWorker struct {
	river.WorkerDefaults[PollArgs]
	j *Jobs
}

func (w *pollWorker) Work(ctx context.Context, job *river.Job[PollArgs]) error {
	_, err := w.j.Poll(ctx, job.Args.Tenant, job.Args.Source)
	if errors.Is(err, ErrCircuitOpen) || errors.Is(err, ErrUnsupported) {
		// The next periodic run tries again; retrying now would only meet
		// the same open circuit.
		return river.JobCancel(err)
	}
	return err
}

// maxPollPages bounds one poll run; a source with more changes continues on
// the next run from the watermark.
const maxPollPages = 20

// Poll reads what changed in one source since its watermark, registers it
// and advances the watermark. It returns how many care contexts it read.
func (j *Jobs) Poll(ctx context.Context, tenantID, sourceSystemID string) (int, error) {
	mon, err := j.cfg.Registry.Source(ctx, tenantID, sourceSystemID)
	if err != nil {
		return 0, err
	}
	var watermark time.Time
	err = database.InTenant(ctx, j.cfg.Pool, tenantID, func(tx pgx.Tx) error {
		var wm *time.Time
		err := tx.QueryRow(ctx, `SELECT poll_watermark FROM source_state WHERE source_system_id::text = $1`, sourceSystemID).Scan(&wm)
		if wm != nil {
			watermark = *wm
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reading poll watermark: %w", err)
	}
	total := 0
	for page := 0; page < maxPollPages; page++ {
		ccs, err := mon.ChangedSince(ctx, watermark, j.cfg.PollBatch)
		if err != nil {
			return total, err
		}
		next := nextWatermark(watermark, ccs, j.cfg.PollBatch)
		// One transaction per care context: what runs after registering one
		// (linking) locks per patient, and a page-wide transaction would hold
		// many such locks in this source's order while another source's poll
		// takes them in its own: a deadlock. Registering is idempotent, so a
		// page cut short is simply read again from the old watermark.
		for _, cc := range ccs {
			err := database.InTenant(ctx, j.cfg.Pool, tenantID, func(tx pgx.Tx) error {
				reg, created, err := UpsertCareContext(ctx, tx, sourceSystemID, cc, FoundViaPoll)
				if err != nil {
					return err
				}
				if created && j.cfg.OnNewCareContextFunc != nil {
					if err := j.cfg.OnNewCareContextFunc(ctx, tx, tenantID, reg); err != nil {
						return fmt.Errorf("after registering %s: %w", reg.Reference, err)
					}
				}
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("registering polled care contexts: %w", err)
			}
		}
		err = database.InTenant(ctx, j.cfg.Pool, tenantID, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `
				INSERT INTO source_state (source_system_id, tenant_id, poll_watermark, polled_at)
				SELECT id, tenant_id, $2, now() FROM source_systems WHERE id::text = $1
				ON CONFLICT (source_system_id) DO UPDATE SET poll_watermark = $2, polled_at = now(), updated_at = now()`,
				sourceSystemID, nullTime(next))
			return err
		})
		if err != nil {
			return total, fmt.Errorf("moving the poll watermark: %w", err)
		}
		total += len(ccs)
		if len(ccs) < j.cfg.PollBatch || next.Equal(watermark) {
			break
		}
		watermark = next
	}
	return total, nil
}

// nextWatermark is the newest change time read, except that after a full
// page the last time is left out: more rows may share it beyond the page,
// and re-reading a few is harmless while skipping one is not.
func nextWatermark(prev time.Time, ccs []CareContext, batch int) time.Time {
	if len(ccs) == 0 {
		return prev
	}
	last := ccs[len(ccs)-1].Updated
	if len(ccs) < batch {
		return maxTime(prev, last)
	}
	next := prev
	for _, cc := range ccs {
		if cc.Updated.Before(last) {
			next = maxTime(next, cc.Updated)
		}
	}
	if next.Equal(prev) {
		// A whole page changed at one instant: move past it rather than
		// read the same page forever.
		return maxTime(prev, last)
	}
	return next
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

type healthWorker struct {
	river.WorkerDefaults[HealthCheckArgs]
	j *Jobs
}

func (w *healthWorker) Work(ctx context.Context, job *river.Job[HealthCheckArgs]) error {
	tenants, err := database.TenantIDs(ctx, w.j.cfg.Pool)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if err := w.j.CheckHealth(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// CheckHealth pings every source of a tenant in parallel and records each
// one's health in source_state.
func (j *Jobs) CheckHealth(ctx context.Context, tenantID string) error {
	mons, err := j.cfg.Registry.Tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, m := range mons {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, j.cfg.PingTimeout)
			defer cancel()
			if err := m.Ping(pctx); err != nil {
				j.cfg.Logger.InfoContext(ctx, "source system unhealthy", "source", m.System().Code,
					"facility", m.System().FacilityHFRID, "error", err)
			}
		})
	}
	wg.Wait()
	return database.InTenant(ctx, j.cfg.Pool, tenantID, func(tx pgx.Tx) error {
		for _, m := range mons {
			if err := RecordHealth(ctx, tx, m.Health()); err != nil {
				return err
			}
		}
		return nil
	})
}
