package hiu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
)

// PageArgs processes one pushed page.
type PageArgs struct {
	Tenant string `json:"tenant"`
	Page   int64  `json:"page"`
}

// Kind implements river.JobArgs.
func (PageArgs) Kind() string { return "hiu_page" }

// PurgeArgs erases everything received under one consent artefact.
type PurgeArgs struct {
	Tenant  string `json:"tenant"`
	Consent string `json:"consent"` // hiu_consents.id
	Reason  string `json:"reason"`  // revoked, expired, erase_at
}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "hiu_purge" }

// DataRequestArgs makes the key pair of an artefact and asks for its data.
type DataRequestArgs struct {
	Tenant  string `json:"tenant"`
	Consent string `json:"consent"` // hiu_consents.id
	HIUID   string `json:"hiu_id"`
}

// Kind implements river.JobArgs.
func (DataRequestArgs) Kind() string { return "hiu_data_request" }

// DeleteKeyArgs deletes a private key from the key store.
type DeleteKeyArgs struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
}

// Kind implements river.JobArgs.
func (DeleteKeyArgs) Kind() string { return "hiu_delete_key" }

// SweepArgs is the periodic job: status polls, erasure at dataEraseAt and
// expiry of unanswered data requests, for every tenant.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "hiu_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts: one sweep at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// RegisterJobs adds the HIU's workers to workers and returns its periodic
// job (the sweep, also at start). Pass it in jobs.Config.PeriodicJobs.
func (s *Service) RegisterJobs(workers *river.Workers) ([]*river.PeriodicJob, error) {
	for _, add := range []func() error{
		func() error { return river.AddWorkerSafely(workers, &pageWorker{s: s}) },
		func() error { return river.AddWorkerSafely(workers, &purgeWorker{s: s}) },
		func() error { return river.AddWorkerSafely(workers, &sweepWorker{s: s}) },
		func() error { return river.AddWorkerSafely(workers, &dataRequestWorker{s: s}) },
		func() error { return river.AddWorkerSafely(workers, &deleteKeyWorker{s: s}) },
	} {
		if err := add(); err != nil {
			return nil, fmt.Errorf("registering hiu workers: %w", err)
		}
	}
	queue := &river.InsertOpts{Queue: s.cfg.Queue}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(s.cfg.SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, queue },
			&river.PeriodicJobOpts{ID: "hiu_sweep", RunOnStart: true}),
	}, nil
}

type pageWorker struct {
	river.WorkerDefaults[PageArgs]
	s *Service
}

func (w *pageWorker) Work(ctx context.Context, job *river.Job[PageArgs]) error {
	return w.s.processPage(ctx, job.Args.Tenant, job.Args.Page)
}

func (w *pageWorker) Timeout(*river.Job[PageArgs]) time.Duration { return DefaultProcessTimeout }

type dataRequestWorker struct {
	river.WorkerDefaults[DataRequestArgs]
	s *Service
}

func (w *dataRequestWorker) Work(ctx context.Context, job *river.Job[DataRequestArgs]) error {
	return w.s.requestData(ctx, job.Args.Tenant, job.Args.HIUID, job.Args.Consent)
}

type deleteKeyWorker struct {
	river.WorkerDefaults[DeleteKeyArgs]
	s *Service
}

func (w *deleteKeyWorker) Work(ctx context.Context, job *river.Job[DeleteKeyArgs]) error {
	return w.s.deleteKey(ctx, job.Args.Tenant, job.Args.Name)
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	s *Service
}

func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	return w.s.Purge(ctx, job.Args.Tenant, job.Args.Consent)
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.s.Sweep(ctx)
}

// Purge deletes everything received under a consent (by hiu_consents.id):
// records, entries, attachments, pushed pages and the private keys of its
// data requests, and marks it purged. Open data requests are closed, so a
// later push is refused. Purging twice is harmless.
func (s *Service) Purge(ctx context.Context, tenant, consent string) error {
	var keyNames []string
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM hiu_consents WHERE id = $1 FOR UPDATE", consent); err != nil {
			return fmt.Errorf("locking consent: %w", err)
		}
		rows, err := tx.Query(ctx, "SELECT key_name FROM hiu_data_requests WHERE consent_id = $1", consent)
		if err != nil {
			return fmt.Errorf("listing data requests: %w", err)
		}
		if keyNames, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("listing data requests: %w", err)
		}
		for _, q := range []string{
			// Entries and attachments go with their records (ON DELETE CASCADE).
			"DELETE FROM hiu_records WHERE consent_id = $1",
			"DELETE FROM hiu_pages WHERE data_request_id IN (SELECT id FROM hiu_data_requests WHERE consent_id = $1)",
			"DELETE FROM hiu_context_results WHERE data_request_id IN (SELECT id FROM hiu_data_requests WHERE consent_id = $1)",
			`UPDATE hiu_data_requests SET status = 'expired', updated_at = now()
				WHERE consent_id = $1 AND status IN ('requested', 'acknowledged')`,
			"UPDATE hiu_consents SET purged_at = now(), updated_at = now() WHERE id = $1",
		} {
			if _, err := tx.Exec(ctx, q, consent); err != nil {
				return fmt.Errorf("purging consent data: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range keyNames {
		errs = append(errs, s.deleteKey(ctx, tenant, name))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "purged consent data", "tenant", tenant, "consent", consent)
	return nil
}

// Sweep runs the periodic work for every tenant: it polls the status of
// consent requests still pending (with backoff), purges consents whose
// dataEraseAt has passed, and closes data requests that expired unanswered.
func (s *Service) Sweep(ctx context.Context) error {
	tenants, err := database.TenantIDs(ctx, s.pool)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range tenants {
		errs = append(errs, s.sweepTenant(ctx, t))
	}
	return errors.Join(errs...)
}

func (s *Service) sweepTenant(ctx context.Context, tenant string) error {
	now := s.now()
	var erase []string
	var expiredKeys []string
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id::text, hiu_id, gateway_id, poll_attempts FROM hiu_consent_requests
			WHERE status = 'requested' AND gateway_id <> '' AND next_poll_at <= $1
			ORDER BY next_poll_at LIMIT 500 FOR UPDATE SKIP LOCKED`, now)
		if err != nil {
			return fmt.Errorf("listing pending consent requests: %w", err)
		}
		type pending struct {
			id, hiu, gateway string
			attempts         int
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending, error) {
			var p pending
			return p, r.Scan(&p.id, &p.hiu, &p.gateway, &p.attempts)
		})
		if err != nil {
			return fmt.Errorf("listing pending consent requests: %w", err)
		}
		for _, p := range due {
			if _, err := s.bridge.Send(ctx, tx, bridge.OutboundCall{
				Tenant: tenant, Path: abdm.PathConsentRequestStatus, HIUID: p.hiu,
				Body: abdm.ConsentRequestStatusRequest{ConsentRequestID: p.gateway},
			}); err != nil {
				return fmt.Errorf("queueing consent status: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE hiu_consent_requests SET poll_attempts = poll_attempts + 1,
				next_poll_at = $2, updated_at = now() WHERE id = $1`, p.id, now.Add(s.pollDelay(p.attempts+1))); err != nil {
				return fmt.Errorf("scheduling next poll: %w", err)
			}
		}
		rows, err = tx.Query(ctx, `SELECT id::text FROM hiu_consents
			WHERE purged_at IS NULL AND data_erase_at <= $1`, now)
		if err != nil {
			return fmt.Errorf("listing consents to erase: %w", err)
		}
		if erase, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("listing consents to erase: %w", err)
		}
		rows, err = tx.Query(ctx, `UPDATE hiu_data_requests SET status = 'expired', updated_at = now()
			WHERE status IN ('requested', 'acknowledged') AND expires_at <= $1 RETURNING key_name`, now)
		if err != nil {
			return fmt.Errorf("expiring data requests: %w", err)
		}
		if expiredKeys, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("expiring data requests: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range expiredKeys {
		errs = append(errs, s.deleteKey(ctx, tenant, name))
	}
	for _, c := range erase {
		errs = append(errs, s.Purge(ctx, tenant, c))
	}
	return errors.Join(errs...)
}

// pollDelay is the wait after the n-th status poll: base·2^(n-1), at most
// max.
func (s *Service) pollDelay(n int) time.Duration {
	d := s.cfg.PollBase
	for i := 1; i < n && d < s.cfg.PollMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.PollMax)
}
