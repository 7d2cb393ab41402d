package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/jobs"
)

// Errors callers can test for with errors.Is.
var (
	// ErrNotFound: no such exchange (or tenant) in the caller's tenant.
	ErrNotFound = errors.New("bridge: not found")
	// ErrNotReplayable: the exchange is not in a state that can be replayed
	// (only dead-lettered calls and failed or unhandled callbacks can).
	ErrNotReplayable = errors.New("bridge: exchange cannot be replayed in its current state")
	// ErrNoCredentials: the tenant has no ABDM client id or secret stored.
	ErrNoCredentials = errors.New("bridge: no ABDM client credentials stored for this tenant")
	// ErrInvalidCall: an OutboundCall that can never be sent as given.
	ErrInvalidCall = errors.New("bridge: invalid gateway call")
)

// Gateway is what the bridge needs from *abdm.Client.
type Gateway interface {
	Do(ctx context.Context, r abdm.Request) (*abdm.Response, error)
	PatchBridgeURL(ctx context.Context, tenant, bridgeURL string) error
	BridgeServices(ctx context.Context, tenant string) (*abdm.BridgeServices, error)
}

// Verifier is what the inbox needs from *abdm.Verifier.
type Verifier interface {
	Verify(ctx context.Context, tenant, authorization string) (*abdm.CallbackClaims, error)
}

// LinkTokens looks up the link token an outbound call names in
// OutboundCall.LinkTokenName, so that tokens stay in the key store and out
// of the outbox table.
type LinkTokens interface {
	LinkToken(ctx context.Context, tenant, name string) (string, error)
}

// Defaults for Config.
const (
	DefaultMaxBodyBytes       = 1 << 20
	DefaultSendMaxAttempts    = 8
	DefaultProcessMaxAttempts = 8
	DefaultRetryBaseDelay     = 5 * time.Second
	DefaultRetryMaxDelay      = 5 * time.Minute
	DefaultRetention          = 30 * 24 * time.Hour
	DefaultCheckInterval      = 6 * time.Hour
	DefaultOnboardMaxAttempts = 50
	DefaultOnboardMaxDelay    = time.Minute
)

// Config configures a Bridge. Zero values take the defaults above.
type Config struct {
	// Pool is the application pool (row-level security applies).
	Pool *pgxpool.Pool
	// Gateway calls the ABDM gateway; normally the *abdm.Client built with
	// Credentials.
	Gateway Gateway
	// Verifier checks callback JWTs; normally abdm.NewVerifier over Gateway.
	Verifier Verifier
	// Credentials keeps tenants' client ids and secrets.
	Credentials *Credentials
	// PublicURL is where the gateway reaches Sangam; tenant bridge URLs are
	// PublicURL + "/bridge/" + slug.
	PublicURL string
	// LinkTokens resolves OutboundCall.LinkTokenName. Optional until a
	// caller sends link/carecontext.
	LinkTokens LinkTokens
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Queue is the River queue of the bridge's jobs (default "default").
	Queue string
	// MaxBodyBytes bounds a callback body (default 1 MiB).
	MaxBodyBytes int
	// SendMaxAttempts bounds attempts of an outbound call (default 8); an
	// OutboundCall may ask for fewer or more.
	SendMaxAttempts int
	// ProcessMaxAttempts bounds attempts to process a callback (default 8).
	ProcessMaxAttempts int
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff: the
	// n-th retry waits about base·2^(n-1), at most max (defaults 5 s, 5 min;
	// 8 attempts then span about 10 minutes).
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// Retention is how long exchange bodies are kept (default 30 days).
	Retention time.Duration
	// AutoRegister makes the periodic onboarding job PATCH each tenant's
	// bridge URL, not only check it. Right for `make run` against the
	// sandbox; in production a wrong PublicURL would steal another system's
	// callbacks (the URL is last-writer-wins per client id), so there it is
	// better left to `sangam onboard`.
	AutoRegister bool
	// CheckInterval is how often the onboarding job runs (default 6 h; it
	// also runs at start).
	CheckInterval time.Duration
	// OnboardMaxAttempts and OnboardMaxDelay bound the retries of one
	// tenant's onboarding, e.g. while the sandbox is still starting
	// (defaults 50 and 1 min).
	OnboardMaxAttempts int
	OnboardMaxDelay    time.Duration
}

func (c *Config) withDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Queue == "" {
		c.Queue = river.QueueDefault
	}
	setDefault(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.SendMaxAttempts, DefaultSendMaxAttempts)
	setDefault(&c.ProcessMaxAttempts, DefaultProcessMaxAttempts)
	setDefault(&c.RetryBaseDelay, DefaultRetryBaseDelay)
	setDefault(&c.RetryMaxDelay, DefaultRetryMaxDelay)
	setDefault(&c.Retention, DefaultRetention)
	setDefault(&c.CheckInterval, DefaultCheckInterval)
	setDefault(&c.OnboardMaxAttempts, DefaultOnboardMaxAttempts)
	setDefault(&c.OnboardMaxDelay, DefaultOnboardMaxDelay)
}

func setDefault[T int | time.Duration](p *T, def T) {
	if *p == 0 {
		*p = def
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("Pool is required"))
	}
	if c.Gateway == nil {
		errs = append(errs, errors.New("Gateway is required"))
	}
	if c.Verifier == nil {
		errs = append(errs, errors.New("Verifier is required"))
	}
	if c.Credentials == nil {
		errs = append(errs, errors.New("Credentials is required"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("PublicURL must be an absolute http(s) URL without a query, got %q", c.PublicURL))
	}
	for _, n := range []struct {
		name string
		v    int64
	}{
		{"MaxBodyBytes", int64(c.MaxBodyBytes)}, {"SendMaxAttempts", int64(c.SendMaxAttempts)},
		{"ProcessMaxAttempts", int64(c.ProcessMaxAttempts)}, {"OnboardMaxAttempts", int64(c.OnboardMaxAttempts)},
		{"RetryBaseDelay", int64(c.RetryBaseDelay)}, {"RetryMaxDelay", int64(c.RetryMaxDelay)},
		{"Retention", int64(c.Retention)}, {"CheckInterval", int64(c.CheckInterval)},
		{"OnboardMaxDelay", int64(c.OnboardMaxDelay)},
	} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("%s cannot be negative", n.name))
		}
	}
	if c.RetryMaxDelay < c.RetryBaseDelay {
		errs = append(errs, errors.New("RetryMaxDelay cannot be shorter than RetryBaseDelay"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bridge config: %w", err)
	}
	return nil
}

// Bridge is the inbox, outbox, timeline and onboarding of every tenant. It
// is safe for concurrent use.
type Bridge struct {
	cfg      Config
	pool     *pgxpool.Pool
	gw       Gateway
	verifier Verifier
	creds    *Credentials
	log      *slog.Logger
	// inserter is an insert-only River client: it enqueues in callers'
	// transactions without needing the workers, which are registered on
	// the process's working client (see RegisterJobs).
	inserter *river.Client[pgx.Tx]
	routes   map[string]abdm.CallbackRoute // by name
	gwRoutes map[string]abdm.GatewayRoute  // by path

	mu         sync.RWMutex
	processors map[string]ProcessFunc
}

// New returns a Bridge for cfg.
func New(cfg Config) (*Bridge, error) {
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	inserter, err := jobs.NewInserter(cfg.Pool, cfg.Logger)
	if err != nil {
		return nil, err
	}
	b := &Bridge{
		cfg:        cfg,
		pool:       cfg.Pool,
		gw:         cfg.Gateway,
		verifier:   cfg.Verifier,
		creds:      cfg.Credentials,
		log:        cfg.Logger,
		inserter:   inserter,
		routes:     make(map[string]abdm.CallbackRoute),
		gwRoutes:   make(map[string]abdm.GatewayRoute),
		processors: make(map[string]ProcessFunc),
	}
	for _, r := range abdm.CallbackRoutes() {
		b.routes[r.Name] = r
	}
	for _, r := range abdm.GatewayRoutes() {
		b.gwRoutes[r.Path] = r
	}
	return b, nil
}

// BridgeURL is the callback base URL of the tenant with this slug.
func (b *Bridge) BridgeURL(slug string) string {
	return b.cfg.PublicURL + "/bridge/" + slug
}

// Handle registers fn as the processor of the callback route with this
// name (abdm.CallbackRoute.Name, e.g. "hip.discover"), replacing any
// earlier one. Register processors before the job client starts; a
// callback processed while its route has none is marked unhandled.
func (b *Bridge) Handle(route string, fn ProcessFunc) error {
	if _, ok := b.routes[route]; !ok {
		return fmt.Errorf("bridge: no callback route named %q", route)
	}
	if fn == nil {
		return fmt.Errorf("bridge: nil processor for %q", route)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.processors[route] = fn
	return nil
}

func (b *Bridge) processor(route string) ProcessFunc {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.processors[route]
}

// tenantBySlug resolves a bridge path's tenant. The tenants table is not
// row-secured, precisely so that this lookup can happen before a tenant
// context exists.
func (b *Bridge) tenantBySlug(ctx context.Context, slug string) (string, error) {
	var id string
	err := b.pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", slug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("tenant %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("looking up tenant %q: %w", slug, err)
	}
	return id, nil
}

// tenantSlug is the reverse lookup, for building a tenant's bridge URL.
func (b *Bridge) tenantSlug(ctx context.Context, tenant string) (string, error) {
	var slug string
	err := b.pool.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1::uuid", tenant).Scan(&slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("tenant %s: %w", tenant, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("looking up tenant %s: %w", tenant, err)
	}
	return slug, nil
}

// bookkeeping returns a context for recording an outcome after ctx may have
// been cancelled (shutdown, job timeout): the record must still be written.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
