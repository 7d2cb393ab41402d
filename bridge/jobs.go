package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/sangamhealth/sangam/jobs"
)

// PurgeInterval is how often the retention job drops expired bodies.
const PurgeInterval = time.Hour

// InboundArgs processes one stored callback. One kind serves every route:
// the route is in the args and in the job's tags (e.g. "hip_discover"), and
// the processor is looked up per route, so domain packages register
// processors without registering River workers.
type InboundArgs struct {
	Tenant   string `json:"tenant"`
	Exchange int64  `json:"exchange"`
	Route    string `json:"route"`
}

// Kind implements river.JobArgs.
func (InboundArgs) Kind() string { return "bridge_inbound" }

// OutboundArgs sends one stored gateway call.
type OutboundArgs struct {
	Tenant   string `json:"tenant"`
	Exchange int64  `json:"exchange"`
	Route    string `json:"route"`
}

// Kind implements river.JobArgs.
func (OutboundArgs) Kind() string { return "bridge_outbound" }

// OnboardArgs onboards one tenant: registers its bridge URL when Register
// is set, then checks its facilities' registrations.
type OnboardArgs struct {
	Tenant   string `json:"tenant"`
	Register bool   `json:"register"`
}

// Kind implements river.JobArgs.
func (OnboardArgs) Kind() string { return "bridge_onboard" }

// waitingStates are the states in which a job still has work ahead; unique
// jobs leave out completed ones so a finished run never blocks the next.
var waitingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// InsertOpts makes one tenant's onboarding unique while it is waiting or
// running, so periodic runs never pile up behind a gateway outage.
func (OnboardArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// OnboardAllArgs queues an OnboardArgs job for every tenant with stored
// credentials.
type OnboardAllArgs struct{}

// Kind implements river.JobArgs.
func (OnboardAllArgs) Kind() string { return "bridge_onboard_all" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (OnboardAllArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// PurgeArgs drops exchange bodies past their retention.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "bridge_purge" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates}}
}

// RegisterJobs adds the bridge's workers to workers and returns its periodic
// jobs (onboarding check and retention purge, both also at start). Pass them
// in jobs.Config.PeriodicJobs.
func (b *Bridge) RegisterJobs(workers *river.Workers) ([]*river.PeriodicJob, error) {
	for _, add := range []func() error{
		func() error { return river.AddWorkerSafely(workers, &inboundWorker{b: b}) },
		func() error { return river.AddWorkerSafely(workers, &outboundWorker{b: b}) },
		func() error { return river.AddWorkerSafely(workers, &onboardWorker{b: b}) },
		func() error { return river.AddWorkerSafely(workers, &onboardAllWorker{b: b}) },
		func() error { return river.AddWorkerSafely(workers, &purgeWorker{b: b}) },
	} {
		if err := add(); err != nil {
			return nil, fmt.Errorf("registering bridge workers: %w", err)
		}
	}
	queue := &river.InsertOpts{Queue: b.cfg.Queue}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(b.cfg.CheckInterval),
			func() (river.JobArgs, *river.InsertOpts) { return OnboardAllArgs{}, queue },
			&river.PeriodicJobOpts{ID: "bridge_onboard_all", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(PurgeInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, queue },
			&river.PeriodicJobOpts{ID: "bridge_purge", RunOnStart: true}),
	}, nil
}

// jobTag turns a route name into a River tag ("hip.discover" →
// "hip_discover").
func jobTag(route string) string {
	t := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, strings.Trim(route, "/"))
	if len(t) > 255 {
		t = t[:255]
	}
	if len(t) < 3 {
		t = "route_" + t
	}
	return t
}

type inboundWorker struct {
	river.WorkerDefaults[InboundArgs]
	b *Bridge
}

func (w *inboundWorker) Work(ctx context.Context, job *river.Job[InboundArgs]) error {
	return w.b.process(ctx, job)
}

func (w *inboundWorker) NextRetry(job *river.Job[InboundArgs]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.b.cfg.RetryBaseDelay, w.b.cfg.RetryMaxDelay))
}

type outboundWorker struct {
	river.WorkerDefaults[OutboundArgs]
	b *Bridge
}

func (w *outboundWorker) Work(ctx context.Context, job *river.Job[OutboundArgs]) error {
	return w.b.deliver(ctx, job)
}

func (w *outboundWorker) NextRetry(job *river.Job[OutboundArgs]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, w.b.cfg.RetryBaseDelay, w.b.cfg.RetryMaxDelay))
}

type onboardWorker struct {
	river.WorkerDefaults[OnboardArgs]
	b *Bridge
}

func (w *onboardWorker) Work(ctx context.Context, job *river.Job[OnboardArgs]) error {
	var err error
	if job.Args.Register {
		_, err = w.b.Onboard(ctx, job.Args.Tenant)
	} else {
		_, err = w.b.CheckRegistrations(ctx, job.Args.Tenant)
	}
	if err != nil && isPermanent(err) {
		// Wrong credentials or a refused registration wait for a person;
		// the failure is on the tenant's onboarding record.
		return river.JobCancel(err)
	}
	return err
}

func (w *onboardWorker) NextRetry(job *river.Job[OnboardArgs]) time.Time {
	return time.Now().Add(jobs.Backoff(job.Attempt, min(w.b.cfg.RetryBaseDelay, time.Second), w.b.cfg.OnboardMaxDelay))
}

type onboardAllWorker struct {
	river.WorkerDefaults[OnboardAllArgs]
	b *Bridge
}

func (w *onboardAllWorker) Work(ctx context.Context, job *river.Job[OnboardAllArgs]) error {
	return w.b.queueOnboarding(ctx, w.b.cfg.AutoRegister)
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	b *Bridge
}

func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	_, err := w.b.PurgeExpired(ctx)
	return err
}
