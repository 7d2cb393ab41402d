package sources

import (
	"sync"
	"time"
)

// BreakerState is a circuit breaker's state.
type BreakerState string

// Circuit breaker states. Closed lets calls through; open refuses them
// until the cooldown ends; half-open lets one trial call through, whose
// outcome closes or reopens the circuit.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half-open"
)

// BreakerConfig tunes the circuit breaker of each source.
type BreakerConfig struct {
	// Threshold is how many failures in a row open the circuit; 0 means 5.
	Threshold int
	// Cooldown is how long an open circuit refuses calls before it lets a
	// trial through; 0 means 30 seconds.
	Cooldown time.Duration
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.Threshold <= 0 {
		c.Threshold = 5
	}
	if c.Cooldown <= 0 {
		c.Cooldown = 30 * time.Second
	}
	return c
}

// breaker is a consecutive-failure circuit breaker. It is fed the outcome of
// every call it allowed; time comes from the caller so tests control it.
type breaker struct {
	cfg BreakerConfig

	mu       sync.Mutex
	state    BreakerState
	failures int       // in a row
	openedAt time.Time // when the circuit last opened
	trial    bool      // a half-open trial call is in flight
}

func newBreaker(cfg BreakerConfig) *breaker {
	return &breaker{cfg: cfg.withDefaults(), state: BreakerClosed}
}

// allow reports whether a call may go to the source now. When it returns
// true the caller must report the outcome with record or release.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if now.Sub(b.openedAt) < b.cfg.Cooldown {
			return false
		}
		b.state, b.trial = BreakerHalfOpen, true
		return true
	case BreakerHalfOpen:
		// One trial at a time: the rest keep failing fast until it is
		// back.
		if b.trial {
			return false
		}
		b.trial = true
		return true
	default:
		return true
	}
}

// record feeds the outcome of an allowed call.
func (b *breaker) record(now time.Time, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !failed {
		b.state, b.failures, b.trial = BreakerClosed, 0, false
		return
	}
	b.failures++
	if b.state == BreakerHalfOpen || b.failures >= b.cfg.Threshold {
		b.state, b.openedAt, b.trial = BreakerOpen, now, false
	}
}

// release ends an allowed call whose outcome says nothing about the source
// (the caller gave up, or asked for something invalid).
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
}

func (b *breaker) current() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
