// Package server is Sangam's HTTP edge: staff pages, htmx partials, the
// ABDM bridge callbacks per tenant, health and metrics. It wires requests to
// the domain packages and translates their results and errors into HTTP; it
// holds no business logic.
//
// Staff sign in through OpenID Connect (oidc.go, login_*.go) and get a
// server-side session (sessions.go); every staff route declares the roles it
// allows and every state-changing staff request carries a CSRF token
// (access.go).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds what the HTTP edge needs. Every field is required unless it
// says otherwise.
type Config struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Metrics *prometheus.Registry
	// Version is shown on /healthz.
	Version string
	// BodyLimit caps request bodies in bytes; 0 means 4 MiB.
	BodyLimit int

	// PublicURL is where staff browsers reach Sangam, e.g.
	// "https://sangam.example.org" (no path: routes live at the root). The sign-in callback is
	// PublicURL + "/auth/callback", and cookies are Secure when it is https.
	PublicURL string
	// OIDC is the identity provider staff sign in with.
	OIDC OIDCConfig
	// SessionIdle signs staff out after this long without a request.
	SessionIdle time.Duration
	// SessionMax signs staff out this long after sign-in, whatever they do.
	// It must not be shorter than SessionIdle.
	SessionMax time.Duration
	// DefaultTenant is the slug of the tenant that staff belong to when
	// their ID token has no "tenant" claim. Optional: when empty (or not
	// found) and exactly one tenant exists, staff belong to that one.
	DefaultTenant string
	// LoginKey is a 32-byte key that encrypts the short-lived cookie holding
	// a sign-in in progress (state, nonce, PKCE verifier). Optional: nil
	// means a random key per process, which is fine for one replica; give
	// every replica the same key when several share a load balancer.
	LoginKey []byte
	// HTTPClient makes the calls to the identity provider. Optional: nil
	// means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Bridge serves the ABDM gateway's callbacks under /bridge/<tenant>/.
	// Optional: without it the callback routes are not served.
	Bridge RouteRegistrar
	// ABDM serves the ABDM connection page and the operations console
	// (/admin/abdm, /admin/ops); normally the same *bridge.Bridge as
	// Bridge. Optional: without it those pages say ABDM is not set up.
	ABDM ABDMAdmin
	// CheckABDMCredentials tries a client id and secret with the gateway
	// before the ABDM connection page stores them (GatewayCredentialCheck
	// builds one). Optional: without it the page stores none and points to
	// `sangam onboard`.
	CheckABDMCredentials CheckCredentialsFunc
	// SourceEvents takes events pushed by source systems under
	// /api/sources/<system>/events. Optional.
	SourceEvents RouteRegistrar
	// DataPush receives health records other hospitals push to us as an
	// HIU (under /bridge/<tenant>/hiu/data-push/). Optional.
	DataPush RouteRegistrar
	// NHCX takes the NHCX switch's deliveries (insurers' answers and
	// requests) under NHCXPath; they authenticate by decrypting with our
	// participant key, outside staff sessions. Optional.
	NHCX RouteRegistrar
	// ShareProfileURL is the PHR app page a counter's QR code opens (with
	// hip-id and counter-id added). Optional: empty means the ABDM
	// sandbox's, DefaultShareProfileURL.
	ShareProfileURL string
	// ABHA creates and verifies ABHAs at the front desk (an *abha.Client).
	// Optional: without it those pages say ABHA is not set up.
	ABHA ABHAService
	// HIU asks patients for consent and reads what other hospitals sent
	// (*hiu.Service): /doctor/consents and the external half of
	// /patients/:id/record. Optional: without it those pages say so.
	HIU HIU
	// Sources reads the group's own records live for
	// /patients/:id/record (*sources.Registry). Optional.
	Sources SourceReader
	// Billing is the NHCX claims workflow behind /billing
	// (*claims.Workflow). Optional: without it those pages say claims are
	// not set up.
	Billing Billing
}

// RouteRegistrar adds its own routes; the bridge and other machine-facing
// APIs authenticate their callers themselves, outside staff sessions.
type RouteRegistrar interface {
	Register(r fiber.Router)
}

// OIDCConfig names the identity provider and Sangam's client registration.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; discovery is read from
	// Issuer + "/.well-known/openid-configuration" at start.
	Issuer   string
	ClientID string
	// ClientSecret is optional for a provider that accepts public clients
	// with PKCE.
	ClientSecret string
}

func (c *Config) validate() error {
	var errs []error
	if c.Pool == nil || c.Logger == nil || c.Metrics == nil {
		errs = append(errs, errors.New("Pool, Logger and Metrics are required"))
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		errs = append(errs, fmt.Errorf("PublicURL %q must be an absolute http(s) URL without a path", c.PublicURL))
	}
	if c.OIDC.Issuer == "" {
		errs = append(errs, errors.New("OIDC.Issuer is required"))
	}
	if c.OIDC.ClientID == "" {
		errs = append(errs, errors.New("OIDC.ClientID is required"))
	}
	if c.SessionIdle <= 0 || c.SessionMax < c.SessionIdle {
		errs = append(errs, fmt.Errorf("SessionIdle (%s) must be positive and no longer than SessionMax (%s)", c.SessionIdle, c.SessionMax))
	}
	if c.LoginKey != nil && len(c.LoginKey) != 32 {
		errs = append(errs, fmt.Errorf("LoginKey must be 32 bytes, not %d", len(c.LoginKey)))
	}
	return errors.Join(errs...)
}

// Server is the configured Fiber application.
type Server struct {
	app      *fiber.App
	pool     *pgxpool.Pool
	log      *slog.Logger
	version  string
	metrics  *httpMetrics
	rp       *relyingParty
	sessions sessionPolicy
	cookies  cookiePolicy
	// publicURL has no trailing slash.
	publicURL     string
	defaultTenant string
	loginSealer   *sealer
	bridge        RouteRegistrar
	sourceEvents  RouteRegistrar
	dataPush      RouteRegistrar
	nhcx          RouteRegistrar
	abdm          ABDMAdmin
	checkCreds    CheckCredentialsFunc
	// shareProfileURL has no trailing slash.
	shareProfileURL string
	abha            ABHAService
	abhaFlows       *abhaFlows
	hiu             HIU
	sources         SourceReader
	billing         Billing
}

// New builds the application and installs every route. It discovers the
// identity provider first, so an unreachable or misconfigured provider stops
// the process at start with an error that names OIDC_ISSUER, rather than at
// the first sign-in.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	limit := cfg.BodyLimit
	if limit <= 0 {
		limit = 4 << 20
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	publicURL, _ := url.Parse(cfg.PublicURL) // validated
	s := &Server{
		pool:          cfg.Pool,
		log:           cfg.Logger,
		version:       cfg.Version,
		publicURL:     trimSlash(publicURL.String()),
		defaultTenant: cfg.DefaultTenant,
		sessions:      newSessionPolicy(cfg.SessionIdle, cfg.SessionMax),
		cookies:       cookiePolicy{secure: publicURL.Scheme == "https"},
		bridge:        cfg.Bridge,
		sourceEvents:  cfg.SourceEvents,
		dataPush:      cfg.DataPush,
		nhcx:          cfg.NHCX,
		abdm:          cfg.ABDM,
		checkCreds:    cfg.CheckABDMCredentials,
		abha:          cfg.ABHA,
		hiu:           cfg.HIU,
		sources:       cfg.Sources,
		billing:       cfg.Billing,
	}
	s.shareProfileURL = trimSlash(cfg.ShareProfileURL)
	if s.shareProfileURL == "" {
		s.shareProfileURL = DefaultShareProfileURL
	}
	var err error
	if s.loginSealer, err = newSealer(cfg.LoginKey); err != nil {
		return nil, err
	}
	s.abhaFlows = newABHAFlows()
	if s.rp, err = discover(ctx, cfg.OIDC, s.publicURL+callbackPath, client); err != nil {
		return nil, err
	}
	m, err := newHTTPMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.app = fiber.New(fiber.Config{
		AppName:               "sangam",
		BodyLimit:             limit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
	})
	s.routes(cfg.Metrics)
	return s, nil
}

// App exposes the Fiber application, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil {
		return fmt.Errorf("serving HTTP: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
