package claims

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/jobs"
)

// Errors callers can test for with errors.Is.
var (
	// ErrNotFound: no such case, message or participant in the tenant.
	ErrNotFound = errors.New("claims: not found")
	// ErrInvalid: a request that can never succeed as given (unknown path,
	// payload that is not JSON, a reply to something that is not a
	// payer's request, ...).
	ErrInvalid = errors.New("claims: invalid request")
	// ErrNotReplayable: the message cannot be sent again (it is inbound, or
	// still queued).
	ErrNotReplayable = errors.New("claims: message cannot be replayed")
	// ErrParticipantTaken: the participant code belongs to another tenant.
	ErrParticipantTaken = errors.New("claims: participant code belongs to another tenant")
)

// TokenSource gives a tenant's NHCX access token: the ABDM gateway session
// token of the tenant's client id (reference §4).
type TokenSource interface {
	Token(ctx context.Context, tenant string) (string, error)
}

// TokenInvalidator is implemented by token sources that can drop a token
// NHCX refused; a 401 is then retried once with a fresh one.
type TokenInvalidator interface {
	InvalidateToken(tenant, token string)
}

// Defaults for Config.
const (
	// DefaultSendMaxAttempts is the first try plus the 5 retries the
	// reference names for NHCX deliveries (§8).
	DefaultSendMaxAttempts    = 6
	DefaultProcessMaxAttempts = 8
	DefaultRetryBaseDelay     = 5 * time.Second
	DefaultRetryMaxDelay      = 5 * time.Minute
	// DefaultMaxBodyBytes admits InsurancePlan answers, which can be
	// 21–100 MB (reference §8). The Fiber app's BodyLimit must be at least
	// as large for the callback routes.
	DefaultMaxBodyBytes = 128 << 20
	// DefaultParticipantTTL is how long a participant's private key and
	// switch client stay cached before the key store is read again.
	DefaultParticipantTTL = 10 * time.Minute
)

// Config configures a Service. Zero values take the defaults above.
type Config struct {
	// Pool is the application pool (row-level security applies).
	Pool *pgxpool.Pool
	// Keys holds participants' private keys (keys.Store).
	Keys SecretGetter
	// Tokens gives each tenant's access token for the switch and the
	// registry.
	Tokens TokenSource
	// SwitchURL is the use-case API base, e.g. https://apisbx.abdm.gov.in/hcx.
	SwitchURL string
	// RegistryURL is the participant service base, e.g.
	// https://apisbx.abdm.gov.in/pmjay/sbxhcx/participanthcxservice.
	RegistryURL string
	// HTTPClient calls the switch and the registry. Default: hcx's.
	HTTPClient *http.Client
	// AcceptExpiredCertificates uses payers' certificates outside their
	// validity, as sandbox participants often have them. Off in production.
	AcceptExpiredCertificates bool
	Logger                    *slog.Logger
	// Queue is the River queue of the jobs (default "default").
	Queue string
	// SendMaxAttempts bounds attempts of an outbound message (default 6).
	SendMaxAttempts int
	// ProcessMaxAttempts bounds attempts to process a received one (default 8).
	ProcessMaxAttempts int
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff
	// between attempts (defaults 5 s and 5 min).
	RetryBaseDelay, RetryMaxDelay time.Duration
	// MaxBodyBytes bounds a delivery's body (default 128 MiB).
	MaxBodyBytes int
	// ParticipantTTL bounds how long keys and clients stay cached.
	ParticipantTTL time.Duration
	Now            func() time.Time
}

func (c *Config) withDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Queue == "" {
		c.Queue = river.QueueDefault
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.SendMaxAttempts, DefaultSendMaxAttempts)
	setDefault(&c.ProcessMaxAttempts, DefaultProcessMaxAttempts)
	setDefault(&c.RetryBaseDelay, DefaultRetryBaseDelay)
	setDefault(&c.RetryMaxDelay, DefaultRetryMaxDelay)
	setDefault(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.ParticipantTTL, DefaultParticipantTTL)
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
	if c.Keys == nil {
		errs = append(errs, errors.New("Keys (the key store) is required"))
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("Tokens is required"))
	}
	for _, u := range []struct{ name, v string }{{"SwitchURL", c.SwitchURL}, {"RegistryURL", c.RegistryURL}} {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL, got %q", u.name, u.v))
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{
		{"SendMaxAttempts", int64(c.SendMaxAttempts)}, {"ProcessMaxAttempts", int64(c.ProcessMaxAttempts)},
		{"RetryBaseDelay", int64(c.RetryBaseDelay)}, {"RetryMaxDelay", int64(c.RetryMaxDelay)},
		{"MaxBodyBytes", int64(c.MaxBodyBytes)}, {"ParticipantTTL", int64(c.ParticipantTTL)},
	} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("%s cannot be negative", n.name))
		}
	}
	if c.RetryMaxDelay < c.RetryBaseDelay {
		errs = append(errs, errors.New("RetryMaxDelay cannot be shorter than RetryBaseDelay"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("claims config: %w", err)
	}
	return nil
}

// Service is the NHCX side of billing: cases, the ledger, the outbox that
// sends messages to the switch and the inbox that receives its deliveries.
// It is safe for concurrent use.
type Service struct {
	cfg  Config
	pool *pgxpool.Pool
	log  *slog.Logger
	// inserter is an insert-only River client: it enqueues in callers'
	// transactions; the workers run on the process's working client (see
	// RegisterJobs).
	inserter *river.Client[pgx.Tx]

	mu    sync.Mutex
	parts map[string]*participant // by tenant + "/" + code
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	inserter, err := jobs.NewInserter(cfg.Pool, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, pool: cfg.Pool, log: cfg.Logger, inserter: inserter, parts: make(map[string]*participant)}, nil
}

// participant is one of our participant codes, ready to send and receive:
// its private key, its registry view (certificate cache) and its switch
// client.
type participant struct {
	Participant
	key      *rsa.PrivateKey
	registry *hcx.Registry
	client   *hcx.Client
	loaded   time.Time
}

// participant returns the ready participant p, loading its key from the
// key store when it is not cached or its cache entry is older than
// ParticipantTTL.
func (s *Service) participant(ctx context.Context, p Participant) (*participant, error) {
	id := p.Tenant + "/" + p.Code
	s.mu.Lock()
	cached := s.parts[id]
	s.mu.Unlock()
	if cached != nil && s.cfg.Now().Sub(cached.loaded) < s.cfg.ParticipantTTL {
		return cached, nil
	}
	key, err := LoadPrivateKey(ctx, s.cfg.Keys, PrivateKeyRef(p.Tenant, p.Facility, p.Code))
	if err != nil {
		return nil, err
	}
	tokens := tenantTokens(s.cfg.Tokens, p.Tenant)
	reg, err := hcx.NewRegistry(hcx.RegistryConfig{
		BaseURL: s.cfg.RegistryURL, Tokens: tokens, OwnCode: p.Code, OwnKey: &key.PublicKey,
		AcceptExpired: s.cfg.AcceptExpiredCertificates, HTTPClient: s.cfg.HTTPClient, Now: s.cfg.Now, Logger: s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("participant %s: %w", p.Code, err)
	}
	client, err := hcx.NewClient(hcx.ClientConfig{
		BaseURL: s.cfg.SwitchURL, ParticipantCode: p.Code, Tokens: tokens, Keys: reg,
		HTTPClient: s.cfg.HTTPClient, Now: s.cfg.Now, Logger: s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("participant %s: %w", p.Code, err)
	}
	fresh := &participant{Participant: p, key: key, registry: reg, client: client, loaded: s.cfg.Now()}
	if cached != nil && cached.key.Equal(key) {
		// Same key: keep the certificates already fetched.
		fresh.registry, fresh.client = cached.registry, cached.client
	}
	s.mu.Lock()
	s.parts[id] = fresh
	s.mu.Unlock()
	return fresh, nil
}

// forgetParticipant drops a cached participant, e.g. after its key
// failed to open a message that may have been sealed to a newer key.
func (s *Service) forgetParticipant(tenant, code string) {
	s.mu.Lock()
	delete(s.parts, tenant+"/"+code)
	s.mu.Unlock()
}

// tenantTokens adapts the tenant-aware TokenSource to hcx's, keeping the
// invalidation ability only when the source has it (hcx checks for the
// method).
func tenantTokens(src TokenSource, tenant string) hcx.TokenSource {
	if inv, ok := src.(TokenInvalidator); ok {
		return invalidatingTokens{tokens{src, tenant}, inv}
	}
	return tokens{src, tenant}
}

type tokens struct {
	src    TokenSource
	tenant string
}

func (t tokens) Token(ctx context.Context) (string, error) { return t.src.Token(ctx, t.tenant) }

type invalidatingTokens struct {
	tokens
	inv TokenInvalidator
}

func (t invalidatingTokens) InvalidateToken(token string) { t.inv.InvalidateToken(t.tenant, token) }

// inTenant runs fn in a transaction under tenant's row-level security.
func (s *Service) inTenant(ctx context.Context, tenant string, fn func(pgx.Tx) error) error {
	if strings.TrimSpace(tenant) == "" {
		return fmt.Errorf("%w: empty tenant id", ErrInvalid)
	}
	return database.InTenant(ctx, s.pool, tenant, fn)
}

// bookkeeping returns a context for recording an outcome after ctx may
// have been cancelled (shutdown, job timeout): the record must still be
// written.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
