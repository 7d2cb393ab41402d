package claims

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
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
	return time.Now().Add(backoff(job.Attempt, w.s.cfg.RetryBaseDelay, w.s.cfg.RetryMaxDelay))
}

type processWorker struct {
	river.WorkerDefaults[ProcessArgs]
	s *Service
}

func (w *processWorker) Work(ctx context.Context, job *river.Job[ProcessArgs]) error {
	return w.s.process(ctx, job)
}

func (w *processWorker) NextRetry(job *river.Job[ProcessArgs]) time.Time {
	return time.Now().Add(backoff(job.Attempt, w.s.cfg.RetryBaseDelay, w.s.cfg.RetryMaxDelay))
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

// backoff is the wait before retry n (n ≥ 1): base·2^(n-1), at most max,
// with ±10% jitter so that messages failed together do not retry
// together.
func backoff(n int, base, maxDelay time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return max(d+jitter, time.Millisecond)
}

// completeJob marks the running job completed inside tx, so the work done
// in tx and the job's completion commit together.
func completeJob[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T]) error {
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("completing job %d: %w", job.ID, err)
	}
	return nil
}
