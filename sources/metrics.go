package sources

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the source-call series, registered on the registry the server
// exposes at /metrics. Labels: facility (HFR id), system (source code), op
// (find_patients, list_patients, care_contexts, fetch, changed_since, ping)
// and outcome (ok, not_found, invalid, unsupported, unavailable, timeout,
// circuit_open, canceled, error).
type Metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	breaker  *prometheus.GaugeVec
}

// NewMetrics creates the series and registers them on reg.
func NewMetrics(reg *prometheus.Registry) (*Metrics, error) {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangam_source_calls_total",
			Help: "Calls to source systems, by outcome.",
		}, []string{"facility", "system", "op", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sangam_source_call_duration_seconds",
			Help: "Time source systems took to answer, including failures.",
			// Sources answer in milliseconds when well and in seconds when
			// not; discovery's deadline sits in between.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"facility", "system", "op"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sangam_source_breaker_state",
			Help: "Circuit breaker of each source: 0 closed, 1 half-open, 2 open.",
		}, []string{"facility", "system"}),
	}
	for _, c := range []prometheus.Collector{m.calls, m.duration, m.breaker} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering source metrics: %w", err)
		}
	}
	return m, nil
}

func breakerValue(s BreakerState) float64 {
	switch s {
	case BreakerOpen:
		return 2
	case BreakerHalfOpen:
		return 1
	}
	return 0
}

// outcome names err for the calls counter.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrCircuitOpen):
		return "circuit_open"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalidInput):
		return "invalid"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case isCanceled(err):
		return "canceled"
	}
	return "error"
}
