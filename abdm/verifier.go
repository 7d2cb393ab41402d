package abdm

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ErrInvalidCallbackToken is returned (wrapped) for every callback JWT that
// fails verification. Answer such callbacks with 401.
var ErrInvalidCallbackToken = errors.New("abdm: invalid callback token")

// Verifier defaults.
const (
	DefaultAudience        = "account" // Keycloak access tokens, as care_abdm checks
	DefaultLeeway          = 60 * time.Second
	DefaultRefetchInterval = 30 * time.Second
	DefaultKeyCacheTTL     = time.Hour
	minRSABits             = 2048
)

// KeySource fetches the gateway's signing keys. *Client implements it with
// Certs.
type KeySource interface {
	Certs(ctx context.Context, tenant string) (*jose.JSONWebKeySet, error)
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Keys is where the gateway's JWKS comes from.
	Keys KeySource
	// Audience lists accepted "aud" values; nil means DefaultAudience.
	Audience []string
	// Issuer, when set, must equal the "iss" claim. The real gateway's
	// issuer is not recorded in the reference, so it is off by default.
	Issuer string
	// AuthorizedParties, when set, lists accepted "azp" values.
	AuthorizedParties []string
	// Leeway tolerates clock skew on exp/nbf/iat (default 60 s).
	Leeway time.Duration
	// RefetchInterval is the least time between key fetches triggered by an
	// unknown kid or a failed fetch, so forged kids cannot hammer the
	// gateway (default 30 s).
	RefetchInterval time.Duration
	// CacheTTL is how long a fetched key set is used before it is fetched
	// again (default 1 hour). If that fetch fails the old set stays in use.
	CacheTTL time.Duration
	// Logger defaults to discarding.
	Logger *slog.Logger
	// NowFunc defaults to time.Now. For tests.
	NowFunc func() time.Time
}

// CallbackClaims are the verified claims of a gateway callback token.
//
// The reference records the token as a Keycloak access token of the
// gateway (aud "account", azp the gateway's client). Nothing recorded so far
// names the receiving bridge, so tie a callback to a tenant by the bridge
// path it arrived on and by its X-HIP-ID / X-HIU-ID; ClientID and
// AuthorizedParty are exposed so the inbox can add a check once a real token
// shows which claim names the recipient.
type CallbackClaims struct {
	KeyID           string
	Issuer          string
	Subject         string
	Audience        []string
	AuthorizedParty string // "azp"
	ClientID        string // "clientId", present on Keycloak service-account tokens
	ID              string // "jti"
	IssuedAt        time.Time
	ExpiresAt       time.Time
}

// Verifier checks the Authorization header of gateway callbacks. It is safe
// for concurrent use and caches the gateway's keys.
type Verifier struct {
	keys        KeySource
	expected    jwt.Expected
	azp         []string
	leeway      time.Duration
	refetch     time.Duration
	ttl         time.Duration
	log         *slog.Logger
	now         func() time.Time
	fetchFlight flight[map[string]jose.JSONWebKey]

	mu          sync.Mutex
	cached      map[string]jose.JSONWebKey // by kid
	fetchedAt   time.Time
	lastAttempt time.Time
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Keys == nil {
		return nil, errors.New("abdm verifier config: Keys is required")
	}
	v := &Verifier{
		keys:    cfg.Keys,
		azp:     cfg.AuthorizedParties,
		leeway:  cfg.Leeway,
		refetch: cfg.RefetchInterval,
		ttl:     cfg.CacheTTL,
		log:     cfg.Logger,
		now:     cfg.NowFunc,
	}
	aud := cfg.Audience
	if aud == nil {
		aud = []string{DefaultAudience}
	}
	v.expected = jwt.Expected{Issuer: cfg.Issuer, AnyAudience: jwt.Audience(aud)}
	if v.leeway <= 0 {
		v.leeway = DefaultLeeway
	}
	if v.refetch <= 0 {
		v.refetch = DefaultRefetchInterval
	}
	if v.ttl <= 0 {
		v.ttl = DefaultKeyCacheTTL
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// extraClaims are the Keycloak claims beyond RFC 7519's.
type extraClaims struct {
	AuthorizedParty string `json:"azp"`
	ClientID        string `json:"clientId"`
}

// Verify checks authorization, the value of a callback's Authorization
// header ("Bearer <JWT>"). Only RS256 is accepted; the token must name a
// kid of the gateway's key set, carry an expiry, and be within the leeway of
// its exp/nbf/iat. tenant is only used to fetch the key set with that
// tenant's session when the cache needs filling.
//
// A token that fails any check returns an error matching
// ErrInvalidCallbackToken (answer 401). When the key set cannot be fetched
// and the token's kid is not cached, the error matches the fetch failure's
// category, usually ErrGatewayUnavailable (answer 503 so the gateway
// redelivers).
func (v *Verifier) Verify(ctx context.Context, tenant, authorization string) (*CallbackClaims, error) {
	raw, ok := bearerToken(authorization)
	if !ok {
		return nil, fmt.Errorf("%w: no bearer token", ErrInvalidCallbackToken)
	}
	// The allow-list refuses "none", HS256 (key confusion) and RS512 before
	// any key is touched.
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCallbackToken, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: want exactly one signature", ErrInvalidCallbackToken)
	}
	kid := tok.Headers[0].KeyID
	if kid == "" {
		return nil, fmt.Errorf("%w: no kid in header", ErrInvalidCallbackToken)
	}
	key, err := v.key(ctx, tenant, kid)
	if err != nil {
		return nil, err
	}

	var std jwt.Claims
	var extra extraClaims
	if err := tok.Claims(key, &std, &extra); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCallbackToken, err)
	}
	if std.Expiry == nil {
		return nil, fmt.Errorf("%w: no exp claim", ErrInvalidCallbackToken)
	}
	if err := std.ValidateWithLeeway(v.expected.WithTime(v.now()), v.leeway); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCallbackToken, err)
	}
	if len(v.azp) > 0 && !contains(v.azp, extra.AuthorizedParty) {
		return nil, fmt.Errorf("%w: azp %q not accepted", ErrInvalidCallbackToken, extra.AuthorizedParty)
	}

	claims := &CallbackClaims{
		KeyID:           kid,
		Issuer:          std.Issuer,
		Subject:         std.Subject,
		Audience:        []string(std.Audience),
		AuthorizedParty: extra.AuthorizedParty,
		ClientID:        extra.ClientID,
		ID:              std.ID,
		ExpiresAt:       std.Expiry.Time(),
	}
	if std.IssuedAt != nil {
		claims.IssuedAt = std.IssuedAt.Time()
	}
	return claims, nil
}

func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// key returns the RSA public key for kid, fetching the key set when the
// cache is empty or stale, or when kid is unknown and the last fetch is
// older than the refetch interval.
func (v *Verifier) key(ctx context.Context, tenant, kid string) (*rsa.PublicKey, error) {
	now := v.now()
	v.mu.Lock()
	jwk, known := v.cached[kid]
	stale := v.cached == nil || now.Sub(v.fetchedAt) >= v.ttl
	// The rate limit guards against floods of forged key ids; until keys
	// have been loaded at all, every caller joins the (single) fetch
	// instead, or callbacks arriving together at a fresh start are refused.
	mayFetch := v.cached == nil || now.Sub(v.lastAttempt) >= v.refetch
	v.mu.Unlock()

	var fetchErr error
	if (stale || !known) && mayFetch {
		keys, err := v.fetchFlight.do(ctx, func() (map[string]jose.JSONWebKey, error) {
			return v.fetch(ctx, tenant)
		})
		switch {
		case err == nil:
			jwk, known = keys[kid]
		case ctx.Err() != nil:
			return nil, fmt.Errorf("fetching gateway keys: %w", ctx.Err())
		default:
			// Keep verifying with the keys we have; rotation is rare and a
			// certs outage should not refuse every callback.
			v.log.WarnContext(ctx, "abdm gateway key fetch failed", "error", err)
			fetchErr = err
		}
	}
	if !known {
		v.mu.Lock()
		loaded := v.cached != nil
		v.mu.Unlock()
		switch {
		case fetchErr != nil:
			// We cannot tell a forged kid from a rotated key: answer as
			// unavailable so the gateway redelivers later.
			return nil, fmt.Errorf("verifying callback token: gateway keys unavailable: %w", fetchErr)
		case !loaded:
			return nil, fmt.Errorf("verifying callback token: gateway keys not loaded yet: %w", ErrGatewayUnavailable)
		}
		return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidCallbackToken, kid)
	}
	return usableKey(jwk)
}

func (v *Verifier) fetch(ctx context.Context, tenant string) (map[string]jose.JSONWebKey, error) {
	v.mu.Lock()
	v.lastAttempt = v.now()
	v.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultSessionTimeout)
	defer cancel()
	set, err := v.keys.Certs(ctx, tenant)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID != "" {
			keys[k.KeyID] = k
		}
	}
	v.mu.Lock()
	v.cached = keys
	v.fetchedAt = v.now()
	v.mu.Unlock()
	v.log.InfoContext(ctx, "abdm gateway keys fetched", "keys", len(keys))
	return keys, nil
}

// usableKey accepts only RSA signing keys of adequate size whose declared
// algorithm, if any, is RS256.
func usableKey(k jose.JSONWebKey) (*rsa.PublicKey, error) {
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not an RSA public key", ErrInvalidCallbackToken, k.KeyID)
	}
	if k.Algorithm != "" && k.Algorithm != string(jose.RS256) {
		return nil, fmt.Errorf("%w: key %q is for %s, token says RS256", ErrInvalidCallbackToken, k.KeyID, k.Algorithm)
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("%w: key %q is not a signing key", ErrInvalidCallbackToken, k.KeyID)
	}
	if pub.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("%w: key %q is shorter than %d bits", ErrInvalidCallbackToken, k.KeyID, minRSABits)
	}
	return pub, nil
}

func contains(list []string, s string) bool {
	for _, have := range list {
		if have == s {
			return true
		}
	}
	return false
}
