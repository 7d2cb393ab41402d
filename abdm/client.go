package abdm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// X-CM-ID values.
const (
	CMSandbox    = "sbx"
	CMProduction = "abdm"
)

// Header names of the V3 protocol.
const (
	HeaderRequestID = "REQUEST-ID"
	HeaderTimestamp = "TIMESTAMP"
	HeaderCMID      = "X-CM-ID"
	HeaderHIPID     = "X-HIP-ID"
	HeaderHIUID     = "X-HIU-ID"
	HeaderLinkToken = "X-LINK-TOKEN"
)

// Defaults for Config.
const (
	DefaultRefreshMargin  = time.Minute
	DefaultSessionTimeout = 30 * time.Second
	defaultHTTPTimeout    = 30 * time.Second
	// fallbackSessionLifetime is used when a session answer has no usable
	// expiresIn; short enough to be safe, long enough not to hammer.
	fallbackSessionLifetime = 5 * time.Minute
	maxResponseBytes        = 8 << 20
)

// Service selects which ABDM host a Request goes to.
type Service int

// Services. The ABHA host uses the same gateway session token.
const (
	ServiceGateway Service = iota
	ServiceABHA
)

// Config configures a Client.
type Config struct {
	// GatewayURL is the HIE-CM base, e.g. https://dev.abdm.gov.in/api/hiecm.
	GatewayURL string
	// ABHAURL is the ABHA service base, e.g. https://abhasbx.abdm.gov.in/abha/api.
	// Optional; requests for ServiceABHA fail without it.
	ABHAURL string
	// CMID is the X-CM-ID value: CMSandbox or CMProduction.
	CMID string
	// Credentials supplies each tenant's client id and secret.
	Credentials Credentials
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// Logger defaults to discarding.
	Logger *slog.Logger
	// RefreshMargin is how long before expiry a session token is renewed
	// (default 1 minute, capped at half the token's lifetime).
	RefreshMargin time.Duration
	// SessionTimeout bounds one session fetch, which runs detached from the
	// caller that started it because other callers may be waiting on it
	// (default 30 s).
	SessionTimeout time.Duration
	// NowFunc returns the current time; defaults to time.Now. For tests.
	NowFunc func() time.Time
}

// Client calls the ABDM gateway (and ABHA service) for many tenants. It is
// safe for concurrent use.
type Client struct {
	gatewayURL     string
	abhaURL        string
	cmID           string
	creds          Credentials
	http           *http.Client
	log            *slog.Logger
	refreshMargin  time.Duration
	sessionTimeout time.Duration
	now            func() time.Time
	sessions       sessionCache
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	gw, err := baseURL("GatewayURL", cfg.GatewayURL)
	if err != nil {
		return nil, err
	}
	var abha string
	if cfg.ABHAURL != "" {
		if abha, err = baseURL("ABHAURL", cfg.ABHAURL); err != nil {
			return nil, err
		}
	}
	if cfg.CMID != CMSandbox && cfg.CMID != CMProduction {
		return nil, fmt.Errorf("abdm config: CMID must be %q or %q, got %q", CMSandbox, CMProduction, cfg.CMID)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("abdm config: Credentials is required")
	}
	c := &Client{
		gatewayURL:     gw,
		abhaURL:        abha,
		cmID:           cfg.CMID,
		creds:          cfg.Credentials,
		http:           cfg.HTTPClient,
		log:            cfg.Logger,
		refreshMargin:  cfg.RefreshMargin,
		sessionTimeout: cfg.SessionTimeout,
		now:            cfg.NowFunc,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.refreshMargin <= 0 {
		c.refreshMargin = DefaultRefreshMargin
	}
	if c.sessionTimeout <= 0 {
		c.sessionTimeout = DefaultSessionTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func baseURL(field, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("abdm config: %s must be an absolute http(s) URL, got %q", field, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// Request is one call to the gateway or ABHA service.
type Request struct {
	// Method defaults to POST.
	Method string
	// Path is relative to the service base, e.g. PathGenerateToken; it may
	// carry a query string.
	Path    string
	Service Service
	// Tenant selects whose credentials and session token are used.
	Tenant string
	// HIPID and HIUID become X-HIP-ID and X-HIU-ID when set. Do refuses to
	// send a call that the spec says needs one (see GatewayRoutes) without it.
	HIPID string
	HIUID string
	// RequestID is the REQUEST-ID header. Leave empty for a fresh UUID v4;
	// an outbox retry must pass the id of the first attempt so the gateway
	// can recognise the repeat.
	RequestID string
	// LinkToken becomes X-LINK-TOKEN (link/carecontext only).
	LinkToken string
	// Header adds further headers (e.g. ABHA's X-token). It cannot replace
	// the protocol headers Do sets.
	Header http.Header
	// Body is encoded as JSON; json.RawMessage and []byte are sent as is.
	// Nil sends no body.
	Body any
}

// Response is a gateway answer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// RequestID is the REQUEST-ID the call was sent with; the asynchronous
	// result will quote it as response.requestId.
	RequestID string
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decoding gateway response: %w", err)
	}
	return nil
}

// Do sends r with the protocol headers and the tenant's session token.
//
// A non-2xx answer returns the Response together with an *Error from
// ParseError. A 401 with code 900901 (token invalidated) is retried once
// with a fresh token, same REQUEST-ID: the API manager refused it before the
// gateway saw it. Transport failures and timeouts match
// ErrGatewayUnavailable; if ctx itself is cancelled, the context error is
// returned instead.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	if err := c.check(&r); err != nil {
		return nil, err
	}
	if r.RequestID == "" {
		id, err := uuid.NewRandom()
		if err != nil {
			return nil, fmt.Errorf("generating REQUEST-ID: %w", err)
		}
		r.RequestID = id.String()
	}
	body, err := encodeBody(r.Body)
	if err != nil {
		return nil, fmt.Errorf("encoding body for %s: %w", r.Path, err)
	}

	for attempt := 1; ; attempt++ {
		token, err := c.sessionToken(ctx, r.Tenant)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.Method, logPath(r.Path), err)
		}
		resp, err := c.send(ctx, r, body, token)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := ParseError(resp.StatusCode, resp.Body)
		if attempt == 1 && resp.StatusCode == http.StatusUnauthorized && apiErr.Code == "900901" {
			c.log.WarnContext(ctx, "abdm session token refused, retrying with a new one",
				"tenant", r.Tenant, "path", logPath(r.Path), "request_id", r.RequestID)
			c.sessions.invalidate(r.Tenant, token)
			continue
		}
		return resp, fmt.Errorf("%s %s: %w", r.Method, logPath(r.Path), apiErr)
	}
}

func (c *Client) check(r *Request) error {
	if r.Method == "" {
		r.Method = http.MethodPost
	}
	if r.Tenant == "" {
		return errors.New("abdm request: Tenant is required")
	}
	if !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("abdm request: Path must start with /, got %q", r.Path)
	}
	if r.Service == ServiceABHA && c.abhaURL == "" {
		return errors.New("abdm request: ABHA service requested but Config.ABHAURL is not set")
	}
	if r.RequestID != "" {
		if _, err := uuid.Parse(r.RequestID); err != nil {
			return fmt.Errorf("abdm request: RequestID %q is not a UUID: %w", r.RequestID, err)
		}
	}
	if r.Service == ServiceGateway {
		switch requiredAddressHeader(r.Path) {
		case HeaderHIPID:
			if r.HIPID == "" {
				return fmt.Errorf("abdm request: %s needs HIPID (%s)", r.Path, HeaderHIPID)
			}
		case HeaderHIUID:
			if r.HIUID == "" {
				return fmt.Errorf("abdm request: %s needs HIUID (%s)", r.Path, HeaderHIUID)
			}
		}
	}
	return nil
}

func encodeBody(v any) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return b, nil
	case []byte:
		return b, nil
	}
	return json.Marshal(v)
}

// send makes one HTTP exchange with fresh TIMESTAMP and the given token.
func (c *Client) send(ctx context.Context, r Request, body []byte, token string) (*Response, error) {
	base := c.gatewayURL
	if r.Service == ServiceABHA {
		base = c.abhaURL
	}
	h := make(http.Header)
	for k, vs := range r.Header {
		h[k] = append([]string(nil), vs...)
	}
	if r.HIPID != "" {
		h.Set(HeaderHIPID, r.HIPID)
	}
	if r.HIUID != "" {
		h.Set(HeaderHIUID, r.HIUID)
	}
	if r.LinkToken != "" {
		h.Set(HeaderLinkToken, r.LinkToken)
	}
	h.Set("Authorization", "Bearer "+token)
	return c.exchange(ctx, r.Tenant, r.Method, base, r.Path, r.RequestID, h, body)
}

// exchange sets the headers every call carries, sends and reads the answer.
func (c *Client) exchange(ctx context.Context, tenant, method, base, path, requestID string, h http.Header, body []byte) (*Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, logPath(path), err)
	}
	req.Header = h
	// Content-Type is sent on every call: the sandbox answers 415 without
	// it, and GETs are harmless with it.
	h.Set("Content-Type", "application/json")
	// Calls answer JSON, except downloads such as the ABHA card, whose
	// callers ask for what they accept through Request.Header.
	if h.Get("Accept") == "" {
		h.Set("Accept", "application/json")
	}
	h.Set(HeaderRequestID, requestID)
	h.Set(HeaderTimestamp, FormatTimestamp(c.now()))
	h.Set(HeaderCMID, c.cmID)

	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, transportError(ctx, method, path, err)
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("%s %s: response larger than %d bytes", method, logPath(path), maxResponseBytes)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "abdm call",
		slog.String("tenant", tenant),
		slog.String("method", method),
		slog.String("path", logPath(path)),
		slog.String("request_id", requestID),
		slog.Int("status", res.StatusCode),
		slog.Duration("duration", time.Since(start)))
	return &Response{StatusCode: res.StatusCode, Header: res.Header, Body: data, RequestID: requestID}, nil
}

func transportError(ctx context.Context, method, path string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s %s: %w", method, logPath(path), ctx.Err())
	}
	return fmt.Errorf("%s %s: %w: %w", method, logPath(path), ErrGatewayUnavailable, err)
}

// logPath drops the query string, which may carry names or ids.
func logPath(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}
