package hiu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/keys"
)

// Sender queues gateway calls; *bridge.Bridge implements it.
type Sender interface {
	Send(ctx context.Context, tx pgx.Tx, call bridge.OutboundCall) (bridge.Sent, error)
}

// Handler registers callback processors; *bridge.Bridge implements it.
type Handler interface {
	Handle(route string, fn bridge.ProcessFunc) error
}

// Defaults for Config.
const (
	DefaultMaxPushBytes   = 20 << 20
	DefaultKeyLifetime    = 24 * time.Hour
	DefaultPollBase       = time.Minute
	DefaultPollMax        = time.Hour
	DefaultSweepInterval  = 5 * time.Minute
	DefaultProcessTimeout = 2 * time.Minute
)

// Config configures a Service. Zero durations and sizes take the defaults.
type Config struct {
	// Pool is the application pool (row-level security applies).
	Pool *pgxpool.Pool
	// Bridge sends gateway calls.
	Bridge Sender
	// Keys keeps the private key of each health-information request.
	Keys keys.Store
	// PublicURL is where HIPs reach Sangam; data push URLs are
	// PublicURL + "/bridge/<slug>/hiu/data-push/<id>".
	PublicURL string
	// MaxPushBytes bounds one pushed page (default 20 MiB). The Fiber app's
	// BodyLimit must be at least this.
	MaxPushBytes int
	// KeyLifetime bounds how long a private key waits for its data
	// (default 24 h; never beyond the artefact's dataEraseAt).
	KeyLifetime time.Duration
	// PollBase and PollMax shape the consent status poll's backoff: the
	// n-th poll of a pending request waits base·2^(n-1), at most max.
	PollBase time.Duration
	PollMax  time.Duration
	// SweepInterval is how often the periodic job polls statuses, erases
	// consents whose dataEraseAt passed and expires unanswered requests.
	SweepInterval time.Duration
	// Queue is the River queue of the jobs (default "default").
	Queue  string
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service is the HIU. It is safe for concurrent use.
type Service struct {
	cfg      Config
	pool     *pgxpool.Pool
	bridge   Sender
	keys     keys.Store
	log      *slog.Logger
	inserter *river.Client[pgx.Tx]
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	var errs []error
	if cfg.Pool == nil {
		errs = append(errs, errors.New("Pool is required"))
	}
	if cfg.Bridge == nil {
		errs = append(errs, errors.New("Bridge is required"))
	}
	if cfg.Keys == nil {
		errs = append(errs, errors.New("Keys is required"))
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PublicURL must be an absolute http(s) URL, got %q", cfg.PublicURL))
	}
	if cfg.MaxPushBytes < 0 || cfg.KeyLifetime < 0 || cfg.PollBase < 0 || cfg.PollMax < 0 || cfg.SweepInterval < 0 {
		errs = append(errs, errors.New("sizes and durations cannot be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hiu config: %w", err)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.MaxPushBytes == 0 {
		cfg.MaxPushBytes = DefaultMaxPushBytes
	}
	if cfg.KeyLifetime == 0 {
		cfg.KeyLifetime = DefaultKeyLifetime
	}
	if cfg.PollBase == 0 {
		cfg.PollBase = DefaultPollBase
	}
	if cfg.PollMax == 0 {
		cfg.PollMax = DefaultPollMax
	}
	if cfg.PollMax < cfg.PollBase {
		cfg.PollMax = cfg.PollBase
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Queue == "" {
		cfg.Queue = river.QueueDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Insert-only: jobs are enqueued in callers' transactions; the workers
	// run on the process's client (RegisterJobs).
	inserter, err := jobs.NewInserter(cfg.Pool, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, pool: cfg.Pool, bridge: cfg.Bridge, keys: cfg.Keys, log: cfg.Logger, inserter: inserter}, nil
}

// Callback route names this package processes.
const (
	RouteOnInit    = "hiu.consent_request_on_init"
	RouteOnStatus  = "hiu.consent_request_on_status"
	RouteNotify    = "hiu.consent_notify"
	RouteOnFetch   = "hiu.consent_on_fetch"
	RouteOnRequest = "hiu.health_information_on_request"
)

// RegisterProcessors registers the HIU's callback processors on h.
func (s *Service) RegisterProcessors(h Handler) error {
	for route, fn := range map[string]bridge.ProcessFunc{
		RouteOnInit:    s.onInit,
		RouteOnStatus:  s.onStatus,
		RouteNotify:    s.onNotify,
		RouteOnFetch:   s.onFetch,
		RouteOnRequest: s.onRequest,
	} {
		if err := h.Handle(route, fn); err != nil {
			return fmt.Errorf("registering %s: %w", route, err)
		}
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// tenantSlug returns the slug of a tenant, for its data push URLs.
func tenantSlug(ctx context.Context, tx pgx.Tx, tenant string) (string, error) {
	var slug string
	if err := tx.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", tenant).Scan(&slug); err != nil {
		return "", fmt.Errorf("reading tenant slug: %w", err)
	}
	return slug, nil
}
