package claims

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/jobs"
)

// SendArgs sends one outbound ledger message to the switch.
type SendArgs struct {
	Tenant  string `json:"tenant"`
	Message int64  `json:"message"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "claims_send" }

// ProcessArgs reads one received ledger message and updates its case.
type ProcessArgs struct {
	Tenant  string `json:"tenant"`
	Message int64  `json:"message"`
}

// Kind implements river.JobArgs.
func (ProcessArgs) Kind() string { return "claims_process" }

// RegisterJobs adds the claims workers to workers.
func (s *Service) RegisterJobs(workers *river.Workers) error {
	if err := river.AddWorkerSafely(workers, &sendWorker{s: s}); err != nil {
		return fmt.Errorf("registering claims workers: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &processWorker{s: s}); err != nil {
		return fmt.Errorf("registering claims workers: %w", err)
	}
	return nil
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	s *Service
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.s.deliver(ctx, job)
}

func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.s.cfg.RetryBaseDelay, w.s.cfg.RetryMaxDelay))
}

type processWorker struct {
	river.WorkerDefaults[ProcessArgs]
	s *Service
}

func (w *processWorker) Work(ctx context.Context, job *river.Job[ProcessArgs]) error {
	return w.s.process(ctx, job)
}

func (w *processWorker) NextRetry(job *river.Job[ProcessArgs]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.s.cfg.RetryBaseDelay, w.s.cfg.RetryMaxDelay))
}

// enqueueSend queues the job that sends message id, in tx.
func (s *Service) enqueueSend(ctx context.Context, tx pgx.Tx, tenant string, id int64, maxAttempts int, tag string) error {
	_, err := s.inserter.InsertTx(ctx, tx, SendArgs{Tenant: tenant, Message: id},
		&river.InsertOpts{Queue: s.cfg.Queue, MaxAttempts: maxAttempts, Tags: []string{tag}})
	if err != nil {
		return fmt.Errorf("queueing message %d: %w", id, err)
	}
	return nil
}

// enqueueProcess queues the job that processes message id, in tx.
func (s *Service) enqueueProcess(ctx context.Context, tx pgx.Tx, tenant string, id int64, tag string) error {
	_, err := s.inserter.InsertTx(ctx, tx, ProcessArgs{Tenant: tenant, Message: id},
		&river.InsertOpts{Queue: s.cfg.Queue, MaxAttempts: s.cfg.ProcessMaxAttempts, Tags: []string{tag}})
	if err != nil {
		return fmt.Errorf("queueing processing of message %d: %w", id, err)
	}
	return nil
}

// jobTag names a path in River's tags: "preauth_submit", "error_error".
func jobTag(path string) string {
	entity, action := splitPath(path)
	return "nhcx_" + entity + "_" + action
}
