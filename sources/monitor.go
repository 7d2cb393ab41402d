package sources

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sangamhealth/sangam/patients"
)

// Health is one source's state as its Monitor sees it.
type Health struct {
	SourceSystemID string
	FacilityHFRID  string
	Code           string
	Breaker        BreakerState
	// Calls and Failures count since the process started.
	Calls       int64
	Failures    int64
	LastSuccess time.Time
	LastFailure time.Time
	// LastError is the last failure's message, cut to 500 bytes.
	LastError string
}

// Monitor wraps a Connector: it times and counts every call, remembers the
// last success and failure, and refuses calls while the source's circuit is
// open. It implements Connector and Poller.
type Monitor struct {
	sys     System
	conn    Connector
	breaker *breaker
	metrics *Metrics
	nowFunc func() time.Time

	mu     sync.Mutex
	health Health
}

// MonitorConfig configures NewMonitor. Metrics may be nil (no series);
// NowFunc defaults to time.Now.
type MonitorConfig struct {
	Breaker BreakerConfig
	Metrics *Metrics
	NowFunc func() time.Time
}

// NewMonitor wraps conn, which speaks for sys.
func NewMonitor(sys System, conn Connector, cfg MonitorConfig) *Monitor {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	m := &Monitor{
		sys: sys, conn: conn, breaker: newBreaker(cfg.Breaker), metrics: cfg.Metrics, nowFunc: cfg.NowFunc,
		health: Health{SourceSystemID: sys.ID, FacilityHFRID: sys.FacilityHFRID, Code: sys.Code, Breaker: BreakerClosed},
	}
	if m.metrics != nil {
		m.metrics.breaker.WithLabelValues(sys.FacilityHFRID, sys.Code).Set(0)
	}
	return m
}

// System returns the source system m speaks for.
func (m *Monitor) System() System { return m.sys }

// Health returns a snapshot of m's state.
func (m *Monitor) Health() Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.health
	h.Breaker = m.breaker.current()
	return h
}

// call runs fn through the breaker, the clock and the counters.
func (m *Monitor) call(ctx context.Context, op string, fn func(context.Context) error) error {
	start := m.nowFunc()
	var err error
	if !m.breaker.allow(start) {
		err = fmt.Errorf("%s %s: %w", m.sys.Code, op, ErrCircuitOpen)
	} else {
		err = fn(ctx)
		switch {
		case isSourceFault(err):
			m.breaker.record(m.nowFunc(), true)
		case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnsupported):
			// The source answered.
			m.breaker.record(m.nowFunc(), false)
		default:
			m.breaker.release()
		}
	}
	end := m.nowFunc()
	m.observe(op, start, end, err)
	return err
}

func (m *Monitor) observe(op string, start, end time.Time, err error) {
	state := m.breaker.current()
	if m.metrics != nil {
		labels := []string{m.sys.FacilityHFRID, m.sys.Code}
		m.metrics.calls.WithLabelValues(append(labels, op, outcome(err))...).Inc()
		if !errors.Is(err, ErrCircuitOpen) {
			m.metrics.duration.WithLabelValues(append(labels, op)...).Observe(end.Sub(start).Seconds())
		}
		m.metrics.breaker.WithLabelValues(labels...).Set(breakerValue(state))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.health.Calls++
	switch {
	case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnsupported):
		m.health.LastSuccess = end
	case errors.Is(err, ErrCircuitOpen):
		// Counted, but the last error stays the source's own.
		m.health.Failures++
	case isSourceFault(err):
		m.health.Failures++
		m.health.LastFailure = end
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		m.health.LastError = msg
	}
}

// isSourceFault reports whether err says the source is unwell, as opposed
// to the caller asking for something wrong or giving up.
func isSourceFault(err error) bool {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidInput),
		errors.Is(err, ErrUnsupported), errors.Is(err, ErrCircuitOpen):
		return false
	case isCanceled(err) && !isTimeout(err):
		return false
	}
	return true
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &t) && t.Timeout()
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

// FindPatients implements Connector.
func (m *Monitor) FindPatients(ctx context.Context, q PatientQuery) (out []patients.SourceRecord, err error) {
	err = m.call(ctx, "find_patients", func(ctx context.Context) error {
		out, err = m.conn.FindPatients(ctx, q)
		return err
	})
	return out, err
}

// ListPatients implements Connector.
func (m *Monitor) ListPatients(ctx context.Context, after string, limit int) (out []patients.SourceRecord, err error) {
	err = m.call(ctx, "list_patients", func(ctx context.Context) error {
		out, err = m.conn.ListPatients(ctx, after, limit)
		return err
	})
	return out, err
}

// CareContexts implements Connector.
func (m *Monitor) CareContexts(ctx context.Context, patientID string, from, to time.Time) (out []CareContext, err error) {
	err = m.call(ctx, "care_contexts", func(ctx context.Context) error {
		out, err = m.conn.CareContexts(ctx, patientID, from, to)
		return err
	})
	return out, err
}

// Fetch implements Connector.
func (m *Monitor) Fetch(ctx context.Context, ref ContextRef) (out *Content, err error) {
	err = m.call(ctx, "fetch", func(ctx context.Context) error {
		out, err = m.conn.Fetch(ctx, ref)
		return err
	})
	return out, err
}

// ChangedSince implements Poller; it wraps ErrUnsupported when the
// connector cannot poll.
func (m *Monitor) ChangedSince(ctx context.Context, since time.Time, limit int) (out []CareContext, err error) {
	p, ok := m.conn.(Poller)
	if !ok {
		return nil, fmt.Errorf("%s polling: %w", m.sys.Code, ErrUnsupported)
	}
	err = m.call(ctx, "changed_since", func(ctx context.Context) error {
		out, err = p.ChangedSince(ctx, since, limit)
		return err
	})
	return out, err
}

// CanPoll reports whether the wrapped connector implements Poller.
func (m *Monitor) CanPoll() bool {
	_, ok := m.conn.(Poller)
	return ok
}

// Ping implements Connector.
func (m *Monitor) Ping(ctx context.Context) error {
	return m.call(ctx, "ping", m.conn.Ping)
}

// Close implements Connector.
func (m *Monitor) Close() { m.conn.Close() }
