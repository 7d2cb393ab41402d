package hip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/sources"
)

// Defaults of M2Config.
const (
	DefaultPushPageBytes     = 1 << 20
	DefaultFetchParallelism  = 4
	DefaultTransferTimeout   = 15 * time.Minute
	DefaultTransferQueue     = river.QueueDefault
	defaultPushClientTimeout = time.Minute
)

// M2Bridge is what M2 needs of the bridge: replying to the gateway.
type M2Bridge interface {
	Send(ctx context.Context, tx pgx.Tx, call bridge.OutboundCall) (bridge.Sent, error)
	Handle(route string, fn bridge.ProcessFunc) error
}

// M2Sources opens the tenant's source systems.
type M2Sources interface {
	Source(ctx context.Context, tenantID, sourceSystemID string) (*sources.Monitor, error)
}

// M2Config configures M2.
type M2Config struct {
	// Pool is the application pool (row-secured).
	Pool    *pgxpool.Pool
	Bridge  M2Bridge
	Sources M2Sources
	// Patients matches discovery requests to master patients.
	Patients M2Patients
	// Builder turns care contexts into NRCeS bundles and gates them.
	Builder *nrces.Builder
	// HTTPClient pushes data to HIUs' dataPushUrl; default a client with a
	// one-minute timeout.
	HTTPClient *http.Client
	// PushPageBytes bounds the encrypted entries of one push page
	// (default 1 MiB); a single larger entry gets a page of its own.
	PushPageBytes int
	// FetchParallelism bounds concurrent fetches from source systems per
	// transfer (default 4).
	FetchParallelism int
	// TransferTimeout bounds one transfer job (default 15 minutes, inside
	// ABDM's 20-minute window).
	TransferTimeout time.Duration
	// OTPSender delivers user-initiated linking OTPs; without one, link
	// init/confirm are not registered (the bridge keeps them unhandled).
	OTPSender OTPSender
	// LinkOTPExpiry (default 10 minutes) and LinkMaxAttempts (default 3)
	// bound a linking OTP.
	LinkOTPExpiry   time.Duration
	LinkMaxAttempts int
	// DiscoverTimeout bounds the wait for the facility's sources in
	// discovery (default DefaultDiscoverTimeout).
	DiscoverTimeout time.Duration
	// Queue is the River queue of transfer jobs.
	Queue  string
	Logger *slog.Logger
	Now    func() time.Time
}

// M2 serves the HIP side of ABDM's M2: care-context discovery, consent
// notifications and health-information requests.
type M2 struct {
	cfg      M2Config
	inserter *river.Client[pgx.Tx]
}

// NewM2 returns an M2. Call Register to add its processors to the bridge and
// RegisterJobs to add its River worker.
func NewM2(cfg M2Config) (*M2, error) {
	if cfg.Pool == nil || cfg.Bridge == nil || cfg.Sources == nil || cfg.Builder == nil || cfg.Patients == nil {
		return nil, errors.New("hip: M2Config needs Pool, Bridge, Sources, Patients and Builder")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultPushClientTimeout}
	}
	if cfg.PushPageBytes <= 0 {
		cfg.PushPageBytes = DefaultPushPageBytes
	}
	if cfg.FetchParallelism <= 0 {
		cfg.FetchParallelism = DefaultFetchParallelism
	}
	if cfg.TransferTimeout <= 0 {
		cfg.TransferTimeout = DefaultTransferTimeout
	}
	if cfg.LinkOTPExpiry <= 0 {
		cfg.LinkOTPExpiry = DefaultLinkOTPExpiry
	}
	if cfg.LinkMaxAttempts <= 0 {
		cfg.LinkMaxAttempts = DefaultLinkMaxAttempts
	}
	if cfg.DiscoverTimeout <= 0 {
		cfg.DiscoverTimeout = DefaultDiscoverTimeout
	}
	if cfg.Queue == "" {
		cfg.Queue = DefaultTransferQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ins, err := jobs.NewInserter(cfg.Pool, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &M2{cfg: cfg, inserter: ins}, nil
}

// Register adds the discovery, user-initiated linking (when an OTPSender is
// configured), consent-notify and health-information-request
// processors to the bridge.
func (m *M2) Register() error {
	if err := m.cfg.Bridge.Handle(routeDiscover, m.discover); err != nil {
		return fmt.Errorf("registering %s: %w", routeDiscover, err)
	}
	if m.cfg.OTPSender != nil {
		if err := m.cfg.Bridge.Handle(routeLinkInit, m.linkInit); err != nil {
			return fmt.Errorf("registering %s: %w", routeLinkInit, err)
		}
		if err := m.cfg.Bridge.Handle(routeLinkConfirm, m.linkConfirm); err != nil {
			return fmt.Errorf("registering %s: %w", routeLinkConfirm, err)
		}
	}
	if err := m.cfg.Bridge.Handle(routeConsentNotify, m.consentNotify); err != nil {
		return fmt.Errorf("registering %s: %w", routeConsentNotify, err)
	}
	if err := m.cfg.Bridge.Handle(routeHIRequest, m.transferRequest); err != nil {
		return fmt.Errorf("registering %s: %w", routeHIRequest, err)
	}
	return nil
}

// RegisterJobs adds the transfer worker.
func (m *M2) RegisterJobs(workers *river.Workers) error {
	if err := river.AddWorkerSafely(workers, &transferWorker{m: m}); err != nil {
		return fmt.Errorf("registering the transfer worker: %w", err)
	}
	return nil
}
