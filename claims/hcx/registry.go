package hcx

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Participant-service paths (reference §7), below the registry base URL.
const (
	PathFetchCerts        = "/fetch/certs"
	PathParticipantSearch = "/participant/search"
)

// DefaultCertificateTTL is how long a fetched certificate is used before
// it is fetched again. NHA's adapter keeps them for some hours; a payer
// that rotates its key sooner makes us refetch through PAYR-1001/1002.
const DefaultCertificateTTL = 6 * time.Hour

// Certificate problems, for errors.Is.
var (
	// ErrNoCertificate: the registry has no usable encryption certificate
	// for the participant ("Invalid Certificate Found", or none at all).
	ErrNoCertificate = errors.New("nhcx: participant has no encryption certificate")
	// ErrOwnCertificate: the registry answered with our own public key for
	// another participant; encrypting with it would send the payer a
	// message only we can read.
	ErrOwnCertificate = errors.New("nhcx: registry gave our own certificate for another participant")
	// ErrCertificateExpired: the participant's certificate is outside its
	// validity period.
	ErrCertificateExpired = errors.New("nhcx: participant certificate expired")
)

// RegistryConfig configures a Registry.
type RegistryConfig struct {
	// BaseURL is the participant service, e.g.
	// https://apisbx.abdm.gov.in/pmjay/sbxhcx/participanthcxservice.
	BaseURL string
	// Tokens gives the access token (the same one as for the switch).
	Tokens TokenSource
	// OwnCode and OwnKey are our participant code and the public half of
	// our NHCX key: a certificate carrying OwnKey is refused for any other
	// participant code.
	OwnCode string
	OwnKey  *rsa.PublicKey
	// TTL is how long a certificate is cached; DefaultCertificateTTL when
	// zero. A certificate is never cached past its NotAfter.
	TTL time.Duration
	// AcceptExpired uses certificates outside their validity period, as
	// sandbox participants often have them. Off in production.
	AcceptExpired bool
	HTTPClient    *http.Client
	Now           func() time.Time
	Logger        *slog.Logger
}

// Registry finds participants' encryption certificates in the NHCX
// participant registry and caches them. It is safe for concurrent use.
type Registry struct {
	base          string
	tokens        TokenSource
	ownCode       string
	ownKey        *rsa.PublicKey
	ttl           time.Duration
	acceptExpired bool
	http          *http.Client
	now           func() time.Time
	log           *slog.Logger

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     EncryptionKey
	expires time.Time
}

// NewRegistry checks cfg and returns a Registry.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	base, err := checkBaseURL("RegistryConfig.BaseURL", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Tokens == nil:
		return nil, errors.New("RegistryConfig.Tokens is required")
	case strings.TrimSpace(cfg.OwnCode) == "":
		return nil, errors.New("RegistryConfig.OwnCode (our participant code) is required")
	case cfg.OwnKey == nil:
		return nil, errors.New("RegistryConfig.OwnKey (our public key) is required, so the registry can never hand us our own key for someone else")
	case cfg.TTL < 0:
		return nil, errors.New("RegistryConfig.TTL cannot be negative")
	}
	r := &Registry{
		base: base, tokens: cfg.Tokens, ownCode: strings.TrimSpace(cfg.OwnCode), ownKey: cfg.OwnKey,
		ttl: cfg.TTL, acceptExpired: cfg.AcceptExpired, http: defaultHTTPClient(cfg.HTTPClient),
		now: cfg.Now, log: cfg.Logger, cache: make(map[string]cachedKey),
	}
	if r.ttl == 0 {
		r.ttl = DefaultCertificateTTL
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// cacheKey makes participant codes case-insensitive, as the registry
// treats them.
func cacheKey(code string) string { return strings.ToLower(strings.TrimSpace(code)) }

// EncryptionKey returns the participant's encryption key, from the cache
// while it is fresh, otherwise from POST /fetch/certs. Answers that are
// refused (no certificate, expired, our own key for someone else) are not
// cached, so a fix in the registry is seen on the next call.
func (r *Registry) EncryptionKey(ctx context.Context, participantCode string) (EncryptionKey, error) {
	key := cacheKey(participantCode)
	if key == "" {
		return EncryptionKey{}, errors.New("looking up NHCX certificate: no participant code")
	}
	now := r.now()
	r.mu.Lock()
	c, ok := r.cache[key]
	r.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}

	k, err := r.fetchCertificate(ctx, strings.TrimSpace(participantCode))
	if err != nil {
		return EncryptionKey{}, fmt.Errorf("looking up NHCX certificate of %s: %w", participantCode, err)
	}
	if key != cacheKey(r.ownCode) && k.Public.Equal(r.ownKey) {
		r.log.WarnContext(ctx, "nhcx registry returned our own certificate for another participant; refusing it",
			"participant", participantCode)
		return EncryptionKey{}, fmt.Errorf("looking up NHCX certificate of %s: %w", participantCode, ErrOwnCertificate)
	}
	if k.Expired(now) && !r.acceptExpired {
		return EncryptionKey{}, fmt.Errorf("looking up NHCX certificate of %s: %w (valid %s to %s)", participantCode,
			ErrCertificateExpired, k.Certificate.NotBefore.Format(time.DateOnly), k.Certificate.NotAfter.Format(time.DateOnly))
	}
	expires := now.Add(r.ttl)
	if cert := k.Certificate; cert != nil && !k.Expired(now) && cert.NotAfter.Before(expires) {
		expires = cert.NotAfter
	}
	r.mu.Lock()
	r.cache[key] = cachedKey{key: k, expires: expires}
	r.mu.Unlock()
	attrs := []any{"participant", participantCode, "cached_until", expires}
	if k.Certificate != nil {
		attrs = append(attrs, "not_after", k.Certificate.NotAfter)
	}
	r.log.InfoContext(ctx, "nhcx certificate fetched", attrs...)
	return k, nil
}

// Forget drops the participant's cached certificate.
func (r *Registry) Forget(participantCode string) {
	r.mu.Lock()
	delete(r.cache, cacheKey(participantCode))
	r.mu.Unlock()
}

// ForgetOnError drops the participant's cached certificate when err says
// the participant could not decrypt our message (PAYR-1001, PAYR-1002,
// ERR_INVALID_ENCRYPTION), and reports whether it did. The next
// EncryptionKey call fetches the certificate again.
func (r *Registry) ForgetOnError(participantCode string, err error) bool {
	if !errors.Is(err, ErrStaleCertificate) {
		return false
	}
	r.Forget(participantCode)
	return true
}

// fetchCertificate calls POST /fetch/certs {"participantid": code}.
func (r *Registry) fetchCertificate(ctx context.Context, code string) (EncryptionKey, error) {
	body, err := json.Marshal(map[string]string{"participantid": code})
	if err != nil {
		return EncryptionKey{}, fmt.Errorf("encoding request: %w", err)
	}
	a, err := withToken(ctx, r.tokens, func(token string) (*answer, error) {
		return postJSON(ctx, r.http, r.base+PathFetchCerts, token, body)
	})
	if err != nil {
		return EncryptionKey{}, err
	}
	if a.status < 200 || a.status > 299 {
		e := ParseError(a.status, a.body)
		if strings.Contains(strings.ToLower(e.Message), "invalid certificate") {
			return EncryptionKey{}, fmt.Errorf("%w: %w", ErrNoCertificate, e)
		}
		return EncryptionKey{}, e
	}
	cert, err := certificateText(a.body)
	if err != nil {
		return EncryptionKey{}, err
	}
	if lower := strings.ToLower(cert); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		// Fetching an address the registry names would let the registry
		// point us anywhere; NHCX sends the certificate itself.
		return EncryptionKey{}, fmt.Errorf("%w: the registry gave a certificate address (%s), not a certificate", ErrNoCertificate, clip(cert))
	}
	k, err := ParsePublicKey([]byte(cert))
	if err != nil {
		return EncryptionKey{}, fmt.Errorf("%w: registry certificate unreadable: %w", ErrNoCertificate, err)
	}
	return k, nil
}

// certificateText finds the encryption_cert in a /fetch/certs answer:
// {"encryption_cert": "..."}, the same inside a participants list, or the
// certificate as the whole body. The registry answers "Invalid Certificate
// Found" in plain text, even with 200, when there is none.
func certificateText(body []byte) (string, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		var p searchAnswer
		if err := json.Unmarshal(body, &p); err != nil {
			return "", fmt.Errorf("%w: registry answer is not readable JSON", ErrNoCertificate)
		}
		for _, rec := range p.records() {
			if strings.TrimSpace(rec.EncryptionCert) != "" {
				return strings.TrimSpace(rec.EncryptionCert), nil
			}
		}
		return "", fmt.Errorf("%w: registry answer has no encryption_cert", ErrNoCertificate)
	}
	text := string(body)
	if text == "" || strings.Contains(strings.ToLower(text), "invalid certificate") {
		return "", fmt.Errorf("%w: registry says %q", ErrNoCertificate, clip(text))
	}
	return text, nil
}

// Participant is a participant's registry record, as far as Sangam needs
// it.
type Participant struct {
	Code           string   `json:"participant_code"`
	Name           string   `json:"participant_name"`
	Status         string   `json:"status"`
	EndpointURL    string   `json:"endpoint_url"`
	Roles          []string `json:"-"`
	EncryptionCert string   `json:"encryption_cert"`
}

// UnmarshalJSON reads roles as text whether the registry sends names
// ("payer") or numeric codes (10002).
func (p *Participant) UnmarshalJSON(data []byte) error {
	type plain Participant
	var raw struct {
		plain
		Roles []json.RawMessage `json:"roles"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*p = Participant(raw.plain)
	for _, r := range raw.Roles {
		s, err := scalarText(r)
		if err != nil {
			return fmt.Errorf("roles: %w", err)
		}
		p.Roles = append(p.Roles, s)
	}
	return nil
}

// searchAnswer reads a registry answer that is one record, a list, or
// {"participants":[...]}.
type searchAnswer struct {
	list   []Participant
	single Participant
}

func (s *searchAnswer) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		return json.Unmarshal(data, &s.list)
	}
	var wrapped struct {
		Participants []Participant `json:"participants"`
	}
	if err := json.Unmarshal(data, &wrapped); err == nil && len(wrapped.Participants) > 0 {
		s.list = wrapped.Participants
		return nil
	}
	return json.Unmarshal(data, &s.single)
}

func (s searchAnswer) records() []Participant {
	if len(s.list) > 0 {
		return s.list
	}
	return []Participant{s.single}
}

// Lookup returns the participant's record from POST /participant/search.
// It is not cached: it is for onboarding checks and choosing payers, not
// for every message.
func (r *Registry) Lookup(ctx context.Context, participantCode string) (Participant, error) {
	body, err := json.Marshal(map[string]string{"participant_code": participantCode})
	if err != nil {
		return Participant{}, fmt.Errorf("encoding participant search: %w", err)
	}
	a, err := withToken(ctx, r.tokens, func(token string) (*answer, error) {
		return postJSON(ctx, r.http, r.base+PathParticipantSearch, token, body)
	})
	if err != nil {
		return Participant{}, fmt.Errorf("searching NHCX participant %s: %w", participantCode, err)
	}
	if a.status < 200 || a.status > 299 {
		return Participant{}, fmt.Errorf("searching NHCX participant %s: %w", participantCode, ParseError(a.status, a.body))
	}
	var s searchAnswer
	if err := json.Unmarshal(a.body, &s); err != nil {
		return Participant{}, fmt.Errorf("searching NHCX participant %s: reading answer: %w", participantCode, err)
	}
	for _, p := range s.records() {
		if strings.EqualFold(strings.TrimSpace(p.Code), strings.TrimSpace(participantCode)) {
			return p, nil
		}
	}
	return Participant{}, fmt.Errorf("searching NHCX participant %s: %w", participantCode, ErrNotFound)
}
