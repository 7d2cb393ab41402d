package gateway

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Config configures a Gateway. Zero durations take the defaults named on
// each field.
type Config struct {
	// PublicURL is the gateway's base URL as clients see it, the stand-in
	// for https://dev.abdm.gov.in/api/hiecm. Its path, if any, is where the
	// gateway is mounted; requests arrive with that prefix.
	PublicURL string
	// CMID is the consent-manager id every call must send in X-CM-ID.
	// Default "sbx", as in the real sandbox.
	CMID string
	// Clients are the bridges allowed to open sessions. At least one.
	Clients []Client
	// Logger receives one record per call and delivery. Nil discards them.
	Logger *slog.Logger

	// TokenTTL is the session token lifetime (expiresIn). Default 1200 s.
	TokenTTL time.Duration
	// CallbackTokenTTL is the lifetime of the JWT on callbacks. Default 5 min.
	CallbackTokenTTL time.Duration
	// TimestampPast and TimestampFuture bound how far a TIMESTAMP header may
	// be behind or ahead of the gateway clock. Defaults 1 min and 9 min, the
	// window of the open-source V0.5 gateway.
	TimestampPast, TimestampFuture time.Duration
	// AnswerWindow is how long after a callback an on-* answer to it is
	// accepted. Default 5 min.
	AnswerWindow time.Duration
	// DeliveryTimeout bounds each callback POST. Default 5 s.
	DeliveryTimeout time.Duration
	// LateRedeliveryAfter is how long after the first attempt a late
	// redelivery (fault) is sent. Default 2 s.
	LateRedeliveryAfter time.Duration
	// DropHold is how long a dropped answer keeps the connection open
	// before closing it without a response, unless the client gives up
	// first. Default 30 s.
	DropHold time.Duration

	// HTTPClient sends callbacks. Default: a client with DeliveryTimeout.
	HTTPClient *http.Client
	// SigningKey signs session tokens and callback JWTs (RS256).
	// LinkTokenKey is published beside it as an RS512 key, as on the real
	// gateway, and is reserved for link tokens. Nil generates a fresh
	// RSA-2048 key; pass keys to keep them across restarts or to save
	// start-up time in tests.
	SigningKey, LinkTokenKey *rsa.PrivateKey
	// Now is the gateway clock. Default time.Now.
	Now func() time.Time
}

// Client is one bridge registered with the gateway: an ABDM client id with
// its secret and its HIP/HIU services.
type Client struct {
	ID     string
	Secret string
	// Name is the bridge name shown by bridge-services. Default: ID.
	Name string
	// BridgeURL is the callback base URL before any PATCH /bridge/url.
	BridgeURL string
	// Services are the HIP/HIU service ids registered under this bridge;
	// their ids are unique across all clients.
	Services []Service
}

// Service is a service id registered under a bridge, as bridge-services
// shows it.
type Service struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Types: any of HIP, HIU, PHR, HEALTH_LOCKER.
	Types []string `json:"types"`
	// Inactive services are listed with active:false and refused in
	// X-HIP-ID / X-HIU-ID.
	Inactive bool `json:"inactive,omitempty"`
}

// Service types as the gateway spells them.
const (
	TypeHIP          = "HIP"
	TypeHIU          = "HIU"
	TypePHR          = "PHR"
	TypeHealthLocker = "HEALTH_LOCKER"
)

func (c *Config) withDefaults() {
	if c.CMID == "" {
		c.CMID = "sbx"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&c.TokenTTL, 1200*time.Second)
	setDefault(&c.CallbackTokenTTL, 5*time.Minute)
	setDefault(&c.TimestampPast, time.Minute)
	setDefault(&c.TimestampFuture, 9*time.Minute)
	setDefault(&c.AnswerWindow, 5*time.Minute)
	setDefault(&c.DeliveryTimeout, 5*time.Second)
	setDefault(&c.LateRedeliveryAfter, 2*time.Second)
	setDefault(&c.DropHold, 30*time.Second)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.DeliveryTimeout}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (c Config) validate() error {
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return fmt.Errorf("PublicURL %q: %w", c.PublicURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("PublicURL %q must be an http(s) URL with a host and no query or fragment", c.PublicURL)
	}
	if len(c.Clients) == 0 {
		return errors.New("Clients must not be empty")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"TokenTTL", c.TokenTTL}, {"CallbackTokenTTL", c.CallbackTokenTTL},
		{"TimestampPast", c.TimestampPast}, {"TimestampFuture", c.TimestampFuture},
		{"AnswerWindow", c.AnswerWindow}, {"DeliveryTimeout", c.DeliveryTimeout},
		{"LateRedeliveryAfter", c.LateRedeliveryAfter}, {"DropHold", c.DropHold},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s cannot be negative", d.name)
		}
	}
	clients := make(map[string]bool, len(c.Clients))
	services := make(map[string]string)
	for i, cl := range c.Clients {
		switch {
		case cl.ID == "":
			return fmt.Errorf("Clients[%d].ID is empty", i)
		case clients[cl.ID]:
			return fmt.Errorf("Clients[%d].ID %q is a duplicate", i, cl.ID)
		case cl.Secret == "":
			return fmt.Errorf("Clients[%d].Secret is empty", i)
		}
		clients[cl.ID] = true
		if cl.BridgeURL != "" {
			if err := checkBridgeURL(cl.BridgeURL); err != nil {
				return fmt.Errorf("Clients[%d].BridgeURL: %w", i, err)
			}
		}
		for j, s := range cl.Services {
			if s.ID == "" {
				return fmt.Errorf("Clients[%d].Services[%d].ID is empty", i, j)
			}
			if owner, dup := services[s.ID]; dup {
				return fmt.Errorf("Clients[%d].Services[%d].ID %q is already registered by client %q", i, j, s.ID, owner)
			}
			services[s.ID] = cl.ID
			for _, t := range s.Types {
				if !slices.Contains([]string{TypeHIP, TypeHIU, TypePHR, TypeHealthLocker}, t) {
					return fmt.Errorf("Clients[%d].Services[%d].Types: %q is not one of HIP, HIU, PHR, HEALTH_LOCKER", i, j, t)
				}
			}
		}
	}
	return nil
}

// checkBridgeURL accepts what PATCH /bridge/url accepts: an absolute
// http(s) URL without query or fragment.
func checkBridgeURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http(s) URL without query or fragment", raw)
	}
	return nil
}
