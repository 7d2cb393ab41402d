package sources_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// flakySource is a connector whose health the test sets: it answers Ping
// with whatever err holds and counts the calls that reached it.
type flakySource struct {
	mu    sync.Mutex
	err   error
	calls atomic.Int64
	// hold, when set, blocks Ping until closed (to keep a trial in flight).
	hold chan struct{}
}

func (f *flakySource) set(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }

func (f *flakySource) Ping(ctx context.Context) error {
	f.calls.Add(1)
	if f.hold != nil {
		<-f.hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *flakySource) FindPatients(context.Context, sources.PatientQuery) ([]patients.SourceRecord, error) {
	return nil, f.Ping(context.Background())
}
func (f *flakySource) ListPatients(context.Context, string, int) ([]patients.SourceRecord, error) {
	return nil, f.Ping(context.Background())
}
func (f *flakySource) CareContexts(context.Context, string, time.Time, time.Time) ([]sources.CareContext, error) {
	return nil, f.Ping(context.Background())
}
func (f *flakySource) Fetch(context.Context, sources.ContextRef) (*sources.Content, error) {
	return nil, f.Ping(context.Background())
}
func (f *flakySource) Close() {}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestCircuitBreakerOpensFailsFastAndHalfOpens(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics, err := sources.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	src := &flakySource{}
	sys := sources.System{ID: "s1", FacilityHFRID: "IN1", Code: "lims"}
	mon := sources.NewMonitor(sys, src, sources.MonitorConfig{
		Breaker: sources.BreakerConfig{Threshold: 3, Cooldown: time.Minute}, Metrics: metrics, NowFunc: clk.Now,
	})
	ctx := context.Background()
	down := fmt.Errorf("dial tcp: connection refused: %w", sources.ErrUnavailable)

	src.set(down)
	for i := range 3 {
		if err := mon.Ping(ctx); !errors.Is(err, sources.ErrUnavailable) {
			t.Fatalf("call %d: %v, want the source's failure", i+1, err)
		}
	}
	if got := mon.Health().Breaker; got != sources.BreakerOpen {
		t.Fatalf("after 3 failures the breaker is %s, want open", got)
	}
	// Open: calls fail fast without reaching the source.
	for range 5 {
		if err := mon.Ping(ctx); !errors.Is(err, sources.ErrCircuitOpen) {
			t.Fatalf("open circuit: %v, want ErrCircuitOpen", err)
		}
	}
	if n := src.calls.Load(); n != 3 {
		t.Errorf("source was called %d times, want 3 (the open circuit must not call it)", n)
	}

	// After the cooldown one trial goes through; it fails, so the circuit
	// opens again for another cooldown.
	clk.Advance(time.Minute)
	if err := mon.Ping(ctx); !errors.Is(err, sources.ErrUnavailable) {
		t.Fatalf("half-open trial: %v, want it to reach the source", err)
	}
	if err := mon.Ping(ctx); !errors.Is(err, sources.ErrCircuitOpen) {
		t.Fatalf("after a failed trial: %v, want the circuit open again", err)
	}

	// While a trial is in flight every other call still fails fast.
	clk.Advance(time.Minute)
	src.set(nil)
	src.hold = make(chan struct{})
	trial := make(chan error)
	go func() { trial <- mon.Ping(ctx) }()
	for src.calls.Load() != 5 {
		time.Sleep(time.Millisecond)
	}
	if err := mon.Ping(ctx); !errors.Is(err, sources.ErrCircuitOpen) {
		t.Errorf("during the trial: %v, want ErrCircuitOpen", err)
	}
	close(src.hold)
	if err := <-trial; err != nil {
		t.Fatalf("successful trial: %v", err)
	}
	src.hold = nil
	if got := mon.Health().Breaker; got != sources.BreakerClosed {
		t.Errorf("after a successful trial the breaker is %s, want closed", got)
	}
	if err := mon.Ping(ctx); err != nil {
		t.Errorf("closed circuit: %v", err)
	}

	h := mon.Health()
	if h.Calls != 13 || h.Failures != 11 || h.LastSuccess != clk.Now() || !strings.Contains(h.LastError, "connection refused") {
		t.Errorf("health = %+v", h)
	}
	for outcome, want := range map[string]float64{"ok": 2, "unavailable": 4, "circuit_open": 7} {
		got := counter(t, reg, "sangam_source_calls_total", map[string]string{"facility": "IN1", "system": "lims", "op": "ping", "outcome": outcome})
		if got != want {
			t.Errorf("sangam_source_calls_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "sangam_source_call_duration_seconds" {
			if n := f.GetMetric()[0].GetHistogram().GetSampleCount(); n != 6 {
				t.Errorf("duration samples = %d, want 6 (calls that reached the source)", n)
			}
		}
	}
}

func TestCallerMistakesDoNotTripTheBreaker(t *testing.T) {
	clk := &clock{now: time.Now()}
	src := &flakySource{}
	mon := sources.NewMonitor(sources.System{Code: "his"}, src, sources.MonitorConfig{
		Breaker: sources.BreakerConfig{Threshold: 2}, NowFunc: clk.Now,
	})
	ctx := context.Background()
	for _, err := range []error{sources.ErrNotFound, sources.ErrInvalidInput, context.Canceled, sources.ErrNotFound} {
		src.set(fmt.Errorf("wrapped: %w", err))
		_ = mon.Ping(ctx)
	}
	if got := mon.Health().Breaker; got != sources.BreakerClosed {
		t.Errorf("breaker %s after not-found, invalid and cancelled calls, want closed", got)
	}
	// A timeout is the source's fault.
	src.set(fmt.Errorf("query: %w", context.DeadlineExceeded))
	_ = mon.Ping(ctx)
	_ = mon.Ping(ctx)
	if got := mon.Health().Breaker; got != sources.BreakerOpen {
		t.Errorf("breaker %s after two timeouts, want open", got)
	}
}

// counter reads one series of a counter from reg.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
