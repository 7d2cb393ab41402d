package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/sources"
)

type serveConfig struct {
	addr            string
	databaseURL     string
	publicURL       string
	oidcIssuer      string
	oidcClientID    string
	oidcSecret      string
	sessionIdle     time.Duration
	sessionMax      time.Duration
	defaultTenant   string
	loginKey        string
	shutdownTimeout time.Duration
	gatewayURL      string
	cmID            string
	autoRegister    bool
	smsWebhook      string
	abhaURL         string
	shareProfileURL string
	discoverTimeout time.Duration
	pollInterval    time.Duration
	nhcx            nhcxSettings
	keys            keyStoreOptions
	logging         logOptions
}

func (c *serveConfig) register(o *options) {
	o.String(&c.addr, "addr", "SANGAM_ADDR", "127.0.0.1:8080", "address to listen on")
	o.String(&c.databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL (required)")
	o.String(&c.publicURL, "public-url", "SANGAM_PUBLIC_URL", "http://localhost:8080", "URL at which staff and the ABDM gateway reach Sangam")
	o.String(&c.oidcIssuer, "oidc-issuer", "OIDC_ISSUER", "", "OpenID Connect issuer URL for staff sign-in (required)")
	o.String(&c.oidcClientID, "oidc-client-id", "OIDC_CLIENT_ID", "sangam", "OpenID Connect client id")
	o.String(&c.oidcSecret, "oidc-client-secret", "OIDC_CLIENT_SECRET", "", "OpenID Connect client secret (prefer the environment variable)")
	o.Duration(&c.sessionIdle, "session-idle", "SESSION_IDLE_TIMEOUT", 30*time.Minute, "sign staff out after this long without a request")
	o.Duration(&c.sessionMax, "session-max", "SESSION_MAX_AGE", 12*time.Hour, "sign staff out this long after sign-in, whatever they do")
	o.String(&c.defaultTenant, "default-tenant", "SANGAM_DEFAULT_TENANT", "kaveri", "tenant slug for staff whose ID token has no tenant claim")
	o.String(&c.loginKey, "login-key", "SANGAM_LOGIN_KEY", "", "base64 32-byte key for the sign-in cookie; the same on every replica (default: random per process)")
	o.Duration(&c.shutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 30*time.Second, "how long to let in-flight requests and jobs finish on stop")
	o.String(&c.gatewayURL, "gateway-url", "ABDM_GATEWAY_URL", defaultGatewayURL, "ABDM gateway base URL (the sandbox's URL for local use)")
	o.String(&c.cmID, "cm-id", "ABDM_CM_ID", abdm.CMSandbox, "X-CM-ID: sbx (sandbox) or abdm (production)")
	o.Bool(&c.autoRegister, "abdm-auto-register", "ABDM_AUTO_REGISTER", false, "register each onboarded tenant's bridge URL with the gateway at start and periodically (right for the sandbox; in production prefer 'sangam onboard')")
	o.String(&c.abhaURL, "abha-url", "ABHA_URL", "https://abhasbx.abdm.gov.in/abha/api", "ABHA service base URL (the sandbox's /abha/api for local use)")
	o.String(&c.shareProfileURL, "share-profile-url", "SHARE_PROFILE_URL", server.DefaultShareProfileURL, "PHR share-profile URL that counter QR codes point at (hip-id and counter-id are added)")
	o.String(&c.smsWebhook, "sms-webhook-url", "SMS_WEBHOOK_URL", "", "SMS provider webhook that receives {phone, from, text} JSON for link OTPs; without it user-initiated linking is refused")
	o.Duration(&c.pollInterval, "source-poll-interval", "SOURCE_POLL_INTERVAL", 5*time.Minute, "how often SQL source systems are asked what changed (a fallback for systems that do not push events)")
	o.Duration(&c.discoverTimeout, "discover-timeout", "DISCOVER_TIMEOUT", 3*time.Second, "how long discovery waits for a facility's source systems; slower ones are left out and recorded")
	c.nhcx.register(o)
	c.keys.register(o)
	c.logging.register(o)
}

// validate checks what can be checked without the network; each message
// names the setting to fix.
func (c *serveConfig) validate() error {
	var errs []error
	if c.databaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL (--database-url) is required"))
	}
	if c.oidcIssuer == "" {
		errs = append(errs, errors.New("OIDC_ISSUER (--oidc-issuer) is required: staff sign in through it"))
	}
	if c.oidcClientID == "" {
		errs = append(errs, errors.New("OIDC_CLIENT_ID (--oidc-client-id) is required"))
	}
	if c.sessionIdle <= 0 || c.sessionMax <= 0 || c.sessionIdle > c.sessionMax {
		errs = append(errs, errors.New("SESSION_IDLE_TIMEOUT must be positive and no longer than SESSION_MAX_AGE"))
	}
	if c.loginKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.loginKey); err != nil || len(k) != 32 {
			errs = append(errs, errors.New("SANGAM_LOGIN_KEY (--login-key) must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)"))
		}
	}
	return errors.Join(errs...)
}

func runServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c serveConfig
	o := newOptions("serve", "Run the web app, the ABDM bridge callbacks and the background jobs.", stderr)
	c.register(o)
	if err := o.parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	log, err := c.logging.logger(stderr)
	if err != nil {
		return err
	}

	pool, err := openMigratedPool(ctx, c.databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	keyStore, err := keys.Open(ctx, c.keys.config(log), pool)
	if err != nil {
		return err
	}

	// The ABDM side: the bridge with its gateway client and verifier.
	abdmBridge, gateway, err := openBridge(pool, keyStore, bridgeSettings{gatewayURL: c.gatewayURL, cmID: c.cmID, publicURL: c.publicURL, abhaURL: c.abhaURL}, log, func(cfg *bridge.Config) {
		cfg.Queue = bridgeQueue
		cfg.AutoRegister = c.autoRegister
		cfg.LinkTokens = hip.LinkTokens{Keys: keyStore}
	})
	if err != nil {
		return err
	}

	// Source systems: one connector per configured system, opened lazily,
	// timed and guarded by a circuit breaker each.
	sourceRegistry, closeSources, err := openSources(pool, c.databaseURL, reg, log)
	if err != nil {
		return err
	}
	defer closeSources()
	// The ABHA service, for the front desk's enrolment and verification,
	// over the same gateway client and sessions as the bridge.
	abhaClient, err := abha.New(abha.Config{ABDM: gateway, AddressDomain: abhaAddressDomain(c.cmID), Logger: log})
	if err != nil {
		return fmt.Errorf("ABHA_URL: %w", err)
	}

	// The HIP role (M1): scan and share, link tokens, and linking of every
	// new care context a source system records.
	patientIndex := patients.New(pool, patients.Config{})
	hipService, err := hip.New(hip.Config{Pool: pool, Bridge: abdmBridge, Patients: patientIndex, Keys: keyStore, Logger: log})
	if err != nil {
		return err
	}
	if err := hipService.Register(abdmBridge); err != nil {
		return err
	}

	// The HIP role (M2): discovery, user-initiated linking, consent notify and
	// encrypted health-information transfer.
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		return err
	}
	m2Config := hip.M2Config{
		Pool: pool, Bridge: abdmBridge, Sources: sourceRegistry, Patients: patientIndex, Builder: builder,
		DiscoverTimeout: c.discoverTimeout, Logger: log,
	}
	if c.smsWebhook != "" {
		m2Config.OTPSender = hip.WebhookSMS{URL: c.smsWebhook, From: "Sangam"}
	}
	hipM2, err := hip.NewM2(m2Config)
	if err != nil {
		return err
	}
	if err := hipM2.Register(); err != nil {
		return err
	}

	// The HIU role (M3): consent requests, receipt and decryption of other
	// hospitals' records, the record store, and purge at consent end.
	hiuService, err := hiu.New(hiu.Config{Pool: pool, Bridge: abdmBridge, Keys: keyStore, PublicURL: c.publicURL, Queue: bridgeQueue, Logger: log})
	if err != nil {
		return err
	}
	if err := hiuService.RegisterProcessors(abdmBridge); err != nil {
		return err
	}

	// Billing (M4): NHCX cases, the outbox to the switch and the inbox of
	// insurers' answers. NHCX takes the tenant's ABDM session token.
	claimsService, err := claims.New(claims.Config{
		Pool: pool, Keys: keyStore, Tokens: gateway, SwitchURL: c.nhcx.switchURL, RegistryURL: c.nhcx.registryURL,
		AcceptExpiredCertificates: c.nhcx.acceptExpired, Logger: log, MaxBodyBytes: bodyLimit,
	})
	if err != nil {
		return fmt.Errorf("NHCX: %w", err)
	}
	// The billing desk's workflow: evidence gathered from every facility's
	// sources (six months before admission, to carry the episode's earlier
	// care), bundles through the NRCeS gate, messages through the service.
	gatherer, err := claims.NewGatherer(claims.GathererConfig{
		Patients: patientIndex, Sources: sourceRegistry, Coverage: claimsService, WindowBefore: claimsEvidenceWindow, Logger: log,
	})
	if err != nil {
		return err
	}
	billing, err := claims.NewWorkflow(claims.WorkflowConfig{Service: claimsService, Evidence: gatherer, Builder: builder, Logger: log})
	if err != nil {
		return err
	}

	sourceJobs, err := sources.NewJobs(sources.JobsConfig{
		Pool: pool, Registry: sourceRegistry, Logger: log, PollInterval: c.pollInterval,
		OnNewCareContextFunc: hipService.OnNewCareContext,
	})
	if err != nil {
		return err
	}

	workers := river.NewWorkers()
	periodic, err := keys.RegisterJobs(workers, keyStore, log)
	if err != nil {
		return err
	}
	bridgePeriodic, err := abdmBridge.RegisterJobs(workers)
	if err != nil {
		return err
	}
	if err := hipM2.RegisterJobs(workers); err != nil {
		return err
	}
	hiuPeriodic, err := hiuService.RegisterJobs(workers)
	if err != nil {
		return err
	}
	sourcePeriodic, err := sourceJobs.Register(workers)
	if err != nil {
		return err
	}
	if err := claimsService.RegisterJobs(workers); err != nil {
		return err
	}
	jobClient, err := jobs.New(pool, jobs.Config{
		Workers:      workers,
		PeriodicJobs: slices.Concat(periodic, bridgePeriodic, sourcePeriodic, hiuPeriodic),
		Logger:       log,
		Queues:       map[string]river.QueueConfig{bridgeQueue: jobs.InteractiveQueue(4)},
	})
	if err != nil {
		return err
	}

	var loginKey []byte
	if c.loginKey != "" {
		loginKey, _ = base64.StdEncoding.DecodeString(c.loginKey) // validated
	}
	intake, err := sources.NewIntake(sources.IntakeConfig{Pool: pool, Jobs: jobClient, Tokens: sources.NewTokens(pool, nil), Logger: log})
	if err != nil {
		return err
	}

	srv, err := server.New(ctx, server.Config{
		Pool:      pool,
		Logger:    log,
		Metrics:   reg,
		Version:   currentVersion(),
		PublicURL: c.publicURL,
		OIDC: server.OIDCConfig{
			Issuer:       c.oidcIssuer,
			ClientID:     c.oidcClientID,
			ClientSecret: c.oidcSecret,
		},
		SessionIdle:   c.sessionIdle,
		SessionMax:    c.sessionMax,
		DefaultTenant: c.defaultTenant,
		LoginKey:      loginKey,
		Bridge:        abdmBridge,
		ABDM:          abdmBridge,
		CheckABDMCredentials: server.GatewayCredentialCheck(abdm.Config{
			GatewayURL: c.gatewayURL, CMID: c.cmID, HTTPClient: &http.Client{Timeout: 30 * time.Second}, Logger: log,
		}),
		SourceEvents:    intake,
		DataPush:        hiuDataPush{hiuService},
		NHCX:            nhcxCallbacks{claimsService},
		HIU:             hiuService,
		ABHA:            abhaClient,
		ShareProfileURL: c.shareProfileURL,
		Sources:         sourceRegistry,
		Billing:         billing,
		BodyLimit:       bodyLimit,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("SANGAM_ADDR (--addr) %s: %w", c.addr, err)
	}
	if err := jobClient.Start(ctx); err != nil {
		return fmt.Errorf("starting background jobs: %w", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.InfoContext(ctx, "sangam is serving", "addr", ln.Addr().String(), "public_url", c.publicURL, "version", currentVersion())

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	return shutdown(log, c.shutdownTimeout, srv, jobClient)
}

// shutdown stops in reverse order of start: HTTP first so no new work
// arrives, then the job workers, which finish what they hold.
func shutdown(log *slog.Logger, timeout time.Duration, srv *server.Server, jobClient *jobs.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	log.Info("shutting down: finishing in-flight requests and jobs")
	var errs []error
	if err := srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping HTTP: %w", err))
	}
	if err := jobClient.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping jobs: %w", err))
	}
	log.Info("stopped")
	return errors.Join(errs...)
}

// bridgeQueue is the River queue of the ABDM bridge's jobs. Its own small
// worker pool keeps callback processing from competing with bulk work and
// keeps acknowledgement latency low on small machines (see `make bench`).
const bridgeQueue = "bridge"

// bodyLimit bounds every request body. Pushed health-record pages may be
// 20 MiB; each machine-facing route checks its own, smaller limit. NHCX
// deliveries share it: the answers Sangam asks for (eligibility, claim
// responses, communication requests, payment notices) are far smaller; only
// InsurancePlan bundles, which Sangam does not request, reach 100 MB.
const bodyLimit = 24 << 20

// claimsEvidenceWindow is how far before an admission a claim's evidence
// reaches: care earlier in the episode at any facility (a surgery months
// before a delivery) is what payers ask for.
const claimsEvidenceWindow = 180 * 24 * time.Hour

// nhcxCallbacks mounts the NHCX inbox on the server.
type nhcxCallbacks struct{ svc *claims.Service }

func (n nhcxCallbacks) Register(r fiber.Router) { n.svc.RegisterCallbacks(r) }

// hiuDataPush mounts the HIU's data push route on the server.
type hiuDataPush struct{ svc *hiu.Service }

func (d hiuDataPush) Register(r fiber.Router) { d.svc.RegisterDataPush(r) }

// abhaAddressDomain is the suffix of ABHA addresses: "sbx" in the sandbox,
// "abdm" in production, following X-CM-ID.
func abhaAddressDomain(cmID string) string {
	if cmID == abdm.CMProduction {
		return "abdm"
	}
	return "sbx"
}
