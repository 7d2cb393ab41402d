package hip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
)

// Errors callers tell apart with errors.Is.
var (
	// ErrNotFound: no such token, care context or facility in the tenant.
	ErrNotFound = errors.New("hip: not found")
	// ErrInvalid: the request cannot be used as given.
	ErrInvalid = errors.New("hip: invalid")
	// ErrConflict: the change does not apply to the current state (a
	// completed token cannot be accepted).
	ErrConflict = errors.New("hip: conflict")
)

// Defaults for Config.
const (
	// DefaultShareTokenTTL is how long a queue token is valid; the
	// certification case asks for 30 minutes.
	DefaultShareTokenTTL = 30 * time.Minute
	// DefaultLinkTokenWindow is how long after a generate-token call no
	// other is made for the same address at the same facility. The gateway
	// answers ABDM-1092 to a repeat within at least 69 s.
	DefaultLinkTokenWindow = 2 * time.Minute
	// DefaultBlockFor is how long ABDM-1027 holds requests back.
	DefaultBlockFor = 24 * time.Hour
)

// Sender queues gateway calls in a transaction; *bridge.Bridge.
type Sender interface {
	Send(ctx context.Context, tx pgx.Tx, call bridge.OutboundCall) (bridge.Sent, error)
}

// Handler registers callback processors; *bridge.Bridge.
type Handler interface {
	Handle(route string, fn bridge.ProcessFunc) error
}

// Config configures a Service (the M1 side: scan and share, queue, link
// tokens, HIP-initiated linking).
type Config struct {
	// Pool is the application pool (row-level security applies).
	Pool *pgxpool.Pool
	// Bridge queues gateway calls.
	Bridge Sender
	// Patients is the master index shares are filed in.
	Patients *patients.Index
	// Keys keeps link tokens.
	Keys keys.Store
	// Location is the facilities' time zone: queue days start at its
	// midnight. Default IST (UTC+05:30).
	Location *time.Location
	// ShareTokenTTL, LinkTokenWindow and BlockFor: see the defaults.
	ShareTokenTTL   time.Duration
	LinkTokenWindow time.Duration
	BlockFor        time.Duration
	// Now defaults to time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the HIP's M1 side. It holds no state besides its
// configuration and is safe for concurrent use.
type Service struct {
	cfg Config
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	var errs []error
	if cfg.Pool == nil {
		errs = append(errs, errors.New("Pool is required"))
	}
	if cfg.Bridge == nil {
		errs = append(errs, errors.New("Bridge is required"))
	}
	if cfg.Patients == nil {
		errs = append(errs, errors.New("Patients is required"))
	}
	if cfg.Keys == nil {
		errs = append(errs, errors.New("Keys is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hip config: %w", err)
	}
	if cfg.Location == nil {
		cfg.Location = istLocation()
	}
	if cfg.ShareTokenTTL <= 0 {
		cfg.ShareTokenTTL = DefaultShareTokenTTL
	}
	if cfg.LinkTokenWindow <= 0 {
		cfg.LinkTokenWindow = DefaultLinkTokenWindow
	}
	if cfg.BlockFor <= 0 {
		cfg.BlockFor = DefaultBlockFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}, nil
}

// Register makes s the processor of the M1 callbacks: hip.share,
// hip.on_generate_token, hip.on_carecontext and hip.context_on_notify.
func (s *Service) Register(h Handler) error {
	for route, fn := range map[string]bridge.ProcessFunc{
		"hip.share":             s.processShare,
		"hip.on_generate_token": s.processOnGenerateToken,
		"hip.on_carecontext":    s.processOnCareContext,
		"hip.context_on_notify": s.processContextOnNotify,
	} {
		if err := h.Handle(route, fn); err != nil {
			return fmt.Errorf("registering hip processors: %w", err)
		}
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// istLocation is India Standard Time, without needing the tz database.
func istLocation() *time.Location { return time.FixedZone("IST", 5*3600+1800) }
