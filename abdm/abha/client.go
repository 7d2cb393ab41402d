package abha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

// Certificate names one of the ABHA service's two public keys.
type Certificate int

// Certificates (reference §2.2).
const (
	// ProfileCertificate (RSA-4096) encrypts enrolment and /v3/profile calls.
	ProfileCertificate Certificate = iota
	// PHRCertificate (RSA-2048) is published for the /v3/phr calls.
	PHRCertificate
)

// Paths of the ABHA V3 API, relative to the ABHA base URL.
const (
	PathProfileCertificate = "/v3/profile/public/certificate"
	PathPHRCertificate     = "/v3/phr/app/login/public/certificate"
	PathEnrolRequestOTP    = "/v3/enrollment/request/otp"
	PathEnrolByAadhaar     = "/v3/enrollment/enrol/byAadhaar"
	PathEnrolAuthByABDM    = "/v3/enrollment/auth/byAbdm"
	PathEnrolSuggestion    = "/v3/enrollment/enrol/suggestion"
	PathEnrolABHAAddress   = "/v3/enrollment/enrol/abha-address"
	PathLoginRequestOTP    = "/v3/profile/login/request/otp"
	PathLoginVerify        = "/v3/profile/login/verify"
	PathLoginVerifyUser    = "/v3/profile/login/verify/user"
	PathProfile            = "/v3/profile/account"
	PathCard               = "/v3/profile/account/abha-card"
	PathRefreshToken       = "/v3/profile/account/request/token"
	PathAddressSearch      = "/v3/phr/web/login/abha/search"
	PathAddressRequestOTP  = "/v3/phr/web/login/abha/request/otp"
	PathAddressVerify      = "/v3/phr/web/login/abha/verify"
	PathAddressProfile     = "/v3/phr/web/login/profile/abha-profile"
	PathAddressCard        = "/v3/phr/web/login/profile/abha/phr-card"
)

// DefaultCertificateTTL is how long a fetched public key is used before it
// is fetched again.
const DefaultCertificateTTL = time.Hour

// Config configures a Client.
type Config struct {
	// ABDM reaches the ABHA host; its Config.ABHAURL must be set.
	ABDM *abdm.Client
	// CertificateTTL is how long a public key is cached (default
	// DefaultCertificateTTL). A refusal that suggests a stale key also
	// drops it.
	CertificateTTL time.Duration
	// AddressDomain ("sbx" in the sandbox, "abdm" in production) completes
	// ABHA addresses typed without one. Empty: such addresses are refused.
	AddressDomain string
	// PHRWebKey selects the key for /v3/phr/web/login calls. The sources
	// disagree (reference §2.2): care_abdm's working code uses the profile
	// key there, an integrator's rule says the PHR key. Default
	// ProfileCertificate.
	PHRWebKey Certificate
	// Logger defaults to discarding. Nothing sensitive is ever logged.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// Client runs the ABHA V3 flows for many tenants over an *abdm.Client,
// which supplies the tenant's session token and the protocol headers. It
// keeps no patient state: every result carries what the next step needs
// (transaction ids, tokens) and the caller stores it. Safe for concurrent
// use.
type Client struct {
	abdm      *abdm.Client
	certTTL   time.Duration
	domain    string
	phrWebKey Certificate
	log       *slog.Logger
	now       func() time.Time
	certs     certCache
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.ABDM == nil {
		return nil, errors.New("abha config: ABDM client is required")
	}
	if cfg.CertificateTTL < 0 {
		return nil, errors.New("abha config: CertificateTTL cannot be negative")
	}
	if cfg.PHRWebKey != ProfileCertificate && cfg.PHRWebKey != PHRCertificate {
		return nil, fmt.Errorf("abha config: unknown PHRWebKey %d", cfg.PHRWebKey)
	}
	c := &Client{
		abdm:      cfg.ABDM,
		certTTL:   cfg.CertificateTTL,
		domain:    cfg.AddressDomain,
		phrWebKey: cfg.PHRWebKey,
		log:       cfg.Logger,
		now:       cfg.Now,
	}
	if c.certTTL == 0 {
		c.certTTL = DefaultCertificateTTL
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// call sends one request to the ABHA service and decodes a 2xx JSON answer
// into out (when not nil). Failures come back as *Error.
func (c *Client) call(ctx context.Context, tenant string, st step, req abdm.Request, out any) (*abdm.Response, error) {
	req.Service = abdm.ServiceABHA
	req.Tenant = tenant
	resp, err := c.abdm.Do(ctx, req)
	if err != nil {
		return nil, c.fail(ctx, st, err)
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			e := newError(st, ErrUnexpectedAnswer)
			e.cause = err
			return nil, e
		}
	}
	return resp, nil
}

// fail turns an error of abdm.Client.Do into the error the caller sees.
func (c *Client) fail(ctx context.Context, st step, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("abha %s: %w", st.name, err)
	}
	var api *abdm.Error
	if errors.As(err, &api) {
		e := classify(st, api)
		if staleKeySymptom(e) {
			// The service may have rotated its key; fetch it afresh next
			// time rather than failing until the cache expires.
			c.certs.forget(ProfileCertificate)
			c.certs.forget(PHRCertificate)
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "abha step refused",
			slog.String("step", st.name), slog.Int("status", api.HTTPStatus), slog.String("code", api.Code))
		return e
	}
	if errors.Is(err, abdm.ErrGatewayUnavailable) {
		e := newError(st, ErrUnavailable)
		e.cause = err
		return e
	}
	return fmt.Errorf("abha %s: %w", st.name, err)
}

// staleKeySymptom reports an answer that a value encrypted with an
// outdated key also produces: a field-keyed "Invalid LoginId" or ABDM-1006.
func staleKeySymptom(e *Error) bool {
	if e.API == nil || e.API.HTTPStatus != http.StatusBadRequest {
		return false
	}
	return e.API.Code == "ABDM-1006" || (e.API.Code == "" && (errors.Is(e, ErrInvalidOTP) ||
		errors.Is(e, ErrInvalidAadhaar) || errors.Is(e, ErrInvalidMobile) ||
		errors.Is(e, ErrInvalidABHANumber) || errors.Is(e, ErrInvalidAddress)))
}

// invalid returns the validation error of kind for a step, before any
// call is made.
func invalid(st step, kind error) error {
	return newError(st, kind)
}

func header(kv ...string) http.Header {
	h := make(http.Header, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
