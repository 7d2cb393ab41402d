package nhcx

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Participant roles.
const (
	RolePayer    = "payer"
	RoleProvider = "provider"
)

// DefaultPayerCode is the payer New registers when Config.Payers is empty.
// It is the NHCX sandbox dummy payer's code (reference §2), so
// configurations written for the real sandbox work here unchanged.
const DefaultPayerCode = "1000003538@hcx"

// Participant is one registry entry.
type Participant struct {
	Code string `json:"participant_code"`
	Name string `json:"participant_name"`
	// Role is RolePayer or RoleProvider. Payers are answered by the
	// sandbox's rule-driven payer; providers are called back at
	// EndpointURL.
	Role string `json:"role"`
	// EndpointURL is where deliveries go: EndpointURL + "/v1/...". Unlike
	// the real registry, the sandbox accepts IP addresses, ports and http.
	EndpointURL string `json:"endpoint_url,omitempty"`
	// EncryptionCert is what /fetch/certs returns: a PEM certificate or
	// public key, base64 of one, or bare base64 DER. Payers' are generated
	// by New.
	EncryptionCert string `json:"encryption_cert,omitempty"`
	// ClientID is the ABDM client whose session tokens may send as this
	// participant; empty allows any valid token.
	ClientID string `json:"client_id,omitempty"`
	// Status is "Active" (default), "Inactive" or "Blocked"; only active
	// participants may send or receive.
	Status string `json:"status"`
}

// Config configures a Switch. Zero values take the defaults named on each
// field.
type Config struct {
	// VerifyToken checks the bearer_auth token of every call and returns
	// the ABDM client it was issued to. Required; the sandbox passes the
	// gateway's VerifySessionToken (NHCX takes ABDM session tokens,
	// reference §4).
	VerifyToken func(token string) (clientID string, err error)
	// Payers are answered by the rule-driven payer. Default: one,
	// DefaultPayerCode.
	Payers []Participant
	// Providers are registered at start; more can be added through the
	// control API or RegisterParticipant.
	Providers []Participant
	// PayerKeys are the payers' RSA keys by participant code; missing ones
	// are generated (2048 bits).
	PayerKeys map[string]*rsa.PrivateKey
	// Logger receives one record per call and delivery, never a payload.
	// Nil discards.
	Logger *slog.Logger
	// Now is the switch clock. Default time.Now.
	Now func() time.Time
	// HTTPClient delivers callbacks. Default: a client with
	// DeliveryTimeout.
	HTTPClient *http.Client
	// DeliveryTimeout bounds each callback POST. Default 10 s.
	DeliveryTimeout time.Duration
	// CallbackRetries is how many times a callback that did not get a
	// valid 202 receipt is sent again (NHCX: 5, reference §8). Default 5;
	// negative means none.
	CallbackRetries int
	// RetryDelay is the wait before the first retry; it doubles up to
	// RetryMaxDelay. Defaults 1 s and 30 s.
	RetryDelay, RetryMaxDelay time.Duration
	// PayerDelay is how long the payer takes before answering. Default 0.
	PayerDelay time.Duration
	// TimestampFuture is how far ahead of the switch clock an
	// x-hcx-timestamp may be. Default 5 min.
	TimestampFuture time.Duration
}

func (c *Config) withDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.DeliveryTimeout, 10*time.Second)
	setDefault(&c.RetryDelay, time.Second)
	setDefault(&c.RetryMaxDelay, 30*time.Second)
	setDefault(&c.TimestampFuture, 5*time.Minute)
	switch {
	case c.CallbackRetries == 0:
		c.CallbackRetries = 5
	case c.CallbackRetries < 0:
		c.CallbackRetries = 0
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.DeliveryTimeout}
	}
	if len(c.Payers) == 0 {
		c.Payers = []Participant{{Code: DefaultPayerCode, Name: "Sandbox Dummy Payer"}}
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (c Config) validate() error {
	if c.VerifyToken == nil {
		return errors.New("VerifyToken is required")
	}
	for name, d := range map[string]time.Duration{
		"DeliveryTimeout": c.DeliveryTimeout, "RetryDelay": c.RetryDelay, "RetryMaxDelay": c.RetryMaxDelay,
		"PayerDelay": c.PayerDelay, "TimestampFuture": c.TimestampFuture,
	} {
		if d < 0 {
			return fmt.Errorf("%s cannot be negative", name)
		}
	}
	seen := map[string]bool{}
	for i, p := range append(append([]Participant{}, c.Payers...), c.Providers...) {
		code := normalize(p.Code)
		if code == "" {
			return fmt.Errorf("participant %d has no code", i)
		}
		if seen[code] {
			return fmt.Errorf("participant code %q is listed twice", p.Code)
		}
		seen[code] = true
	}
	for _, p := range c.Providers {
		if err := checkEndpoint(p.EndpointURL); p.EndpointURL != "" && err != nil {
			return fmt.Errorf("provider %s: %w", p.Code, err)
		}
		if p.EncryptionCert != "" {
			if _, err := parsePublicKey(p.EncryptionCert); err != nil {
				return fmt.Errorf("provider %s: encryption_cert: %w", p.Code, err)
			}
		}
	}
	return nil
}

func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint_url %q must be an http(s) URL with a host and no query", s)
	}
	return nil
}

func normalize(code string) string { return strings.ToLower(strings.TrimSpace(code)) }
