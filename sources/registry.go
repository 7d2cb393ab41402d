package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/patients"
)

// OpenFunc opens a connector for a source system from its config. The
// Registry calls it the first time a source is needed and again when the
// source's row changes.
type OpenFunc func(ctx context.Context, sys System) (Connector, error)

// RegistryConfig configures NewRegistry.
type RegistryConfig struct {
	// Pool is the application pool; source_systems is read under the
	// tenant's row-level security.
	Pool *pgxpool.Pool
	// Openers maps the "connector" member of source_systems.config ("sql",
	// "fhir") to the function that opens it. A source whose config names
	// no connector is not connectable (e.g. a billing system reached only
	// through events).
	Openers map[string]OpenFunc
	Breaker BreakerConfig
	// Metrics may be nil.
	Metrics *Metrics
	Logger  *slog.Logger
	// NowFunc defaults to time.Now.
	NowFunc func() time.Time
	// RetryOpen is how long a source that failed to open waits before the
	// next attempt; 0 means 30 seconds.
	RetryOpen time.Duration
}

// Registry hands out monitored connectors for a tenant's source systems,
// opening each once and reopening it when its row changes.
type Registry struct {
	cfg RegistryConfig

	mu      sync.Mutex
	entries map[string]*entry // by source system id
}

type entry struct {
	sys      System
	mon      *Monitor
	openErr  error
	openedAt time.Time
}

// NewRegistry returns a registry; Close releases its connectors.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	if cfg.Pool == nil {
		return nil, errors.New("sources registry: Pool is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.RetryOpen <= 0 {
		cfg.RetryOpen = 30 * time.Second
	}
	return &Registry{cfg: cfg, entries: map[string]*entry{}}, nil
}

// connectorOf reads the "connector" member of a source's config.
func connectorOf(cfg json.RawMessage) string {
	var c struct {
		Connector string `json:"connector"`
	}
	_ = json.Unmarshal(cfg, &c)
	return c.Connector
}

const systemColumns = `s.id::text, s.tenant_id::text, s.facility_id::text, f.hfr_id, s.code, s.name, s.kind, s.vendor, s.config
	FROM source_systems s JOIN facilities f ON f.id = s.facility_id`

func scanSystems(rows pgx.Rows) ([]System, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (System, error) {
		var s System
		var cfg []byte
		err := r.Scan(&s.ID, &s.TenantID, &s.FacilityID, &s.FacilityHFRID, &s.Code, &s.Name, &s.Kind, &s.Vendor, &cfg)
		s.Config = cfg
		return s, err
	})
}

// Systems lists a tenant's source systems, optionally only one facility's
// (facilityID "" for all), in facility and code order.
func (r *Registry) Systems(ctx context.Context, tenantID, facilityID string) ([]System, error) {
	var out []System
	err := database.InTenant(ctx, r.cfg.Pool, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+systemColumns+`
			WHERE $1 = '' OR s.facility_id::text = $1 ORDER BY f.hfr_id, s.code`, facilityID)
		if err != nil {
			return err
		}
		out, err = scanSystems(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing source systems: %w", err)
	}
	return out, nil
}

// Facility returns monitored connectors for every connectable source of a
// facility. A source that cannot be opened is still returned: its calls
// fail with the reason, so discovery flags it and its health shows it.
func (r *Registry) Facility(ctx context.Context, tenantID, facilityID string) ([]*Monitor, error) {
	if facilityID == "" {
		return nil, fmt.Errorf("%w: empty facility id", ErrInvalidInput)
	}
	systems, err := r.Systems(ctx, tenantID, facilityID)
	if err != nil {
		return nil, err
	}
	return r.monitors(ctx, systems), nil
}

// Tenant returns monitored connectors for every connectable source of a
// tenant.
func (r *Registry) Tenant(ctx context.Context, tenantID string) ([]*Monitor, error) {
	systems, err := r.Systems(ctx, tenantID, "")
	if err != nil {
		return nil, err
	}
	return r.monitors(ctx, systems), nil
}

// Source returns the monitored connector of one source system. It wraps
// ErrNotFound when the tenant has no such source and ErrUnsupported when it
// has no connector configured.
func (r *Registry) Source(ctx context.Context, tenantID, sourceSystemID string) (*Monitor, error) {
	var systems []System
	err := database.InTenant(ctx, r.cfg.Pool, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+systemColumns+` WHERE s.id::text = $1`, sourceSystemID)
		if err != nil {
			return err
		}
		systems, err = scanSystems(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading source system %s: %w", sourceSystemID, err)
	}
	if len(systems) == 0 {
		return nil, fmt.Errorf("source system %s: %w", sourceSystemID, ErrNotFound)
	}
	mons := r.monitors(ctx, systems)
	if len(mons) == 0 {
		return nil, fmt.Errorf("source system %s (%s) has no connector configured: %w", systems[0].Code, sourceSystemID, ErrUnsupported)
	}
	return mons[0], nil
}

func (r *Registry) monitors(ctx context.Context, systems []System) []*Monitor {
	out := make([]*Monitor, 0, len(systems))
	for _, sys := range systems {
		if connectorOf(sys.Config) == "" {
			continue
		}
		out = append(out, r.monitor(ctx, sys))
	}
	return out
}

// monitor returns the cached monitor of sys, (re)opening its connector when
// the row changed or an earlier open failed long enough ago.
func (r *Registry) monitor(ctx context.Context, sys System) *Monitor {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.NowFunc()
	e, ok := r.entries[sys.ID]
	if ok && sameSystem(e.sys, sys) && (e.openErr == nil || now.Sub(e.openedAt) < r.cfg.RetryOpen) {
		return e.mon
	}
	if ok {
		e.mon.Close()
	}
	// Opening only builds a pool (nothing connects yet), so holding the
	// lock here is brief.
	conn, err := r.open(ctx, sys)
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "source system cannot be opened", "source", sys.Code, "facility", sys.FacilityHFRID, "error", err)
		conn = brokenConnector{err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
	}
	mcfg := MonitorConfig{Breaker: r.cfg.Breaker, Metrics: r.cfg.Metrics, NowFunc: r.cfg.NowFunc}
	mon := NewMonitor(sys, conn, mcfg)
	if ok {
		// Keep the breaker and counts across a reopen: the source is the
		// same one.
		mon.breaker = e.mon.breaker
		mon.health = e.mon.Health()
	}
	r.entries[sys.ID] = &entry{sys: sys, mon: mon, openErr: err, openedAt: now}
	return mon
}

func (r *Registry) open(ctx context.Context, sys System) (Connector, error) {
	name := connectorOf(sys.Config)
	open, ok := r.cfg.Openers[name]
	if !ok {
		return nil, fmt.Errorf("source system %s: unknown connector %q", sys.Code, name)
	}
	return open(ctx, sys)
}

func sameSystem(a, b System) bool {
	return a.Code == b.Code && a.FacilityHFRID == b.FacilityHFRID && bytes.Equal(a.Config, b.Config)
}

// Health returns the in-process health of every source of a tenant the
// registry has opened.
func (r *Registry) Health(tenantID string) []Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Health
	for _, e := range r.entries {
		if e.sys.TenantID == tenantID {
			out = append(out, e.mon.Health())
		}
	}
	return out
}

// Close closes every connector.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.entries {
		e.mon.Close()
		delete(r.entries, id)
	}
}

// brokenConnector stands in for a source that could not be opened; every
// call fails with the reason.
type brokenConnector struct{ err error }

func (b brokenConnector) FindPatients(context.Context, PatientQuery) ([]patients.SourceRecord, error) {
	return nil, b.err
}
func (b brokenConnector) ListPatients(context.Context, string, int) ([]patients.SourceRecord, error) {
	return nil, b.err
}
func (b brokenConnector) CareContexts(context.Context, string, time.Time, time.Time) ([]CareContext, error) {
	return nil, b.err
}
func (b brokenConnector) Fetch(context.Context, ContextRef) (*Content, error) { return nil, b.err }
func (b brokenConnector) Ping(context.Context) error                          { return b.err }
func (b brokenConnector) Close()                                              {}
