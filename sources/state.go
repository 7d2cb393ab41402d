package sources

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// State is a source system's recorded health and polling progress, for the
// ops console.
type State struct {
	SourceSystemID string
	FacilityHFRID  string
	Code           string
	Name           string
	Kind           string
	Vendor         string
	Breaker        BreakerState
	Calls          int64
	Failures       int64
	LastSuccess    time.Time
	LastFailure    time.Time
	LastError      string
	CheckedAt      time.Time
	PollWatermark  time.Time
	PolledAt       time.Time
}

// RecordHealth stores a monitor's health snapshot in source_state. tx must
// be in the source's tenant.
func RecordHealth(ctx context.Context, tx pgx.Tx, h Health) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO source_state (source_system_id, tenant_id, breaker, calls, failures, last_success_at, last_failure_at, last_error, checked_at)
		SELECT id, tenant_id, $2, $3, $4, $5, $6, $7, now() FROM source_systems WHERE id::text = $1
		ON CONFLICT (source_system_id) DO UPDATE SET
			breaker = EXCLUDED.breaker, calls = EXCLUDED.calls, failures = EXCLUDED.failures,
			last_success_at = coalesce(EXCLUDED.last_success_at, source_state.last_success_at),
			last_failure_at = coalesce(EXCLUDED.last_failure_at, source_state.last_failure_at),
			last_error = CASE WHEN EXCLUDED.last_failure_at IS NULL THEN source_state.last_error ELSE EXCLUDED.last_error END,
			checked_at = now(), updated_at = now()`,
		h.SourceSystemID, string(h.Breaker), h.Calls, h.Failures, nullTime(h.LastSuccess), nullTime(h.LastFailure), h.LastError)
	if err != nil {
		return fmt.Errorf("recording health of source %s: %w", h.Code, err)
	}
	return nil
}

// ListStates returns the recorded state of every source system of the
// tenant tx is in, including those never checked (zero times, breaker
// closed).
func ListStates(ctx context.Context, tx pgx.Tx) ([]State, error) {
	rows, err := tx.Query(ctx, `
		SELECT s.id::text, f.hfr_id, s.code, s.name, s.kind, s.vendor, coalesce(st.breaker, 'closed'),
			coalesce(st.calls, 0), coalesce(st.failures, 0), st.last_success_at, st.last_failure_at,
			coalesce(st.last_error, ''), st.checked_at, st.poll_watermark, st.polled_at
		FROM source_systems s JOIN facilities f ON f.id = s.facility_id
		LEFT JOIN source_state st ON st.source_system_id = s.id
		ORDER BY f.hfr_id, s.code`)
	if err != nil {
		return nil, fmt.Errorf("listing source states: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (State, error) {
		var s State
		var breaker string
		var ok, fail, checked, wm, polled *time.Time
		err := r.Scan(&s.SourceSystemID, &s.FacilityHFRID, &s.Code, &s.Name, &s.Kind, &s.Vendor, &breaker,
			&s.Calls, &s.Failures, &ok, &fail, &s.LastError, &checked, &wm, &polled)
		s.Breaker = BreakerState(breaker)
		for _, p := range []struct {
			dst *time.Time
			src *time.Time
		}{{&s.LastSuccess, ok}, {&s.LastFailure, fail}, {&s.CheckedAt, checked}, {&s.PollWatermark, wm}, {&s.PolledAt, polled}} {
			if p.src != nil {
				*p.dst = *p.src
			}
		}
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing source states: %w", err)
	}
	return out, nil
}
