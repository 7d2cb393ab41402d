package hcx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// KeySource finds the encryption key of a participant. *Registry is one.
type KeySource interface {
	EncryptionKey(ctx context.Context, participantCode string) (EncryptionKey, error)
	// ForgetOnError drops the cached key when err says the participant
	// could not decrypt, and reports whether it did.
	ForgetOnError(participantCode string, err error) bool
}

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the use-case API base, e.g. https://apisbx.abdm.gov.in/hcx;
	// the /v1/... paths are appended.
	BaseURL string
	// ParticipantCode is ours: every message is sent with it as sender.
	ParticipantCode string
	Tokens          TokenSource
	Keys            KeySource
	HTTPClient      *http.Client
	Now             func() time.Time
	Logger          *slog.Logger
}

// Client posts messages to the NHCX switch for one participant. It is safe
// for concurrent use.
type Client struct {
	base   string
	code   string
	tokens TokenSource
	keys   KeySource
	http   *http.Client
	now    func() time.Time
	log    *slog.Logger
}

// NewClient checks cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := checkBaseURL("ClientConfig.BaseURL", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(cfg.ParticipantCode) == "":
		return nil, errors.New("ClientConfig.ParticipantCode (our participant code) is required")
	case cfg.Tokens == nil:
		return nil, errors.New("ClientConfig.Tokens is required")
	case cfg.Keys == nil:
		return nil, errors.New("ClientConfig.Keys is required")
	}
	c := &Client{
		base: base, code: strings.TrimSpace(cfg.ParticipantCode), tokens: cfg.Tokens, keys: cfg.Keys,
		http: defaultHTTPClient(cfg.HTTPClient), now: cfg.Now, log: cfg.Logger,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Sent is the outcome of a message the switch accepted.
type Sent struct {
	// Headers are the headers of the attempt that was accepted: store its
	// api_call_id and correlation_id with the case.
	Headers    Headers
	HTTPStatus int
	Ack        Ack
}

// Send encrypts payload (a FHIR Bundle in JSON) to the recipient named in
// h and posts it to the switch at path, one of the Path constants.
//
// Send fills in what belongs to the call rather than the case: sender
// (ours; another value is refused), a fresh api_call_id and timestamp on
// every attempt, a request_id and, for requests, a correlation_id when
// missing, and the status (request.initiated or response.complete) when
// missing. Callbacks must carry the correlation_id of the request they
// answer. The headers are then validated; nothing is sent if they would be
// refused.
//
// A 401 is retried once with a fresh token when Tokens can invalidate; a
// PAYR-1001/1002 answer drops the recipient's cached certificate and is
// retried once with a freshly fetched one. Anything else that is not the
// switch's 202 comes back as an *Error, or wraps ErrSwitchUnavailable for
// transport failures.
func (c *Client) Send(ctx context.Context, path string, h Headers, payload []byte) (*Sent, error) {
	route, err := RouteOf(path)
	if err != nil {
		return nil, fmt.Errorf("sending nhcx message: %w", err)
	}
	h = h.Clone()
	switch {
	case h.SenderCode == "":
		h.SenderCode = c.code
	case !strings.EqualFold(strings.TrimSpace(h.SenderCode), c.code):
		return nil, fmt.Errorf("sending %s: sender %q is not our participant code %q", path, h.SenderCode, c.code)
	}
	if h.RequestID == "" {
		h.RequestID = uuid.NewString()
	}
	if h.CorrelationID == "" && route.Kind == KindRequest {
		h.CorrelationID = uuid.NewString()
	}
	if h.Status == "" {
		h.Status = StatusRequestInitiated
		if route.Kind == KindCallback {
			h.Status = StatusResponseComplete
		}
	}

	// Refuse bad headers before asking the registry for anything; the
	// call-specific ones are set again on every attempt.
	probe := h.Clone()
	probe.APICallID, probe.Timestamp = uuid.NewString(), FormatTimestamp(c.now())
	if err := probe.Validate(route.Kind); err != nil {
		return nil, fmt.Errorf("sending %s: %w", path, err)
	}

	for certRetried := false; ; certRetried = true {
		sent, err := c.sendOnce(ctx, route, h, payload)
		if err == nil {
			return sent, nil
		}
		if certRetried || !c.keys.ForgetOnError(h.RecipientCode, err) {
			return nil, fmt.Errorf("sending %s to %s: %w", path, h.RecipientCode, err)
		}
		c.log.WarnContext(ctx, "nhcx recipient could not decrypt; fetching its certificate again",
			"path", path, "recipient", h.RecipientCode, "correlation_id", h.CorrelationID)
	}
}

// sendOnce seals and posts one message; the closure runs again, with a
// new api_call_id, when a refused token is retried.
func (c *Client) sendOnce(ctx context.Context, route Route, h Headers, payload []byte) (*Sent, error) {
	key, err := c.keys.EncryptionKey(ctx, h.RecipientCode)
	if err != nil {
		return nil, err
	}
	var attempt Headers
	a, err := withToken(ctx, c.tokens, func(token string) (*answer, error) {
		attempt = h.Clone()
		attempt.APICallID = uuid.NewString()
		attempt.Timestamp = FormatTimestamp(c.now())
		if err := attempt.Validate(route.Kind); err != nil {
			return nil, err
		}
		compact, err := Seal(payload, attempt, key.Public)
		if err != nil {
			return nil, err
		}
		body, err := json.Marshal(NewBody(route.Kind, compact))
		if err != nil {
			return nil, fmt.Errorf("encoding body: %w", err)
		}
		return postJSON(ctx, c.http, c.base+route.Path, token, body)
	})
	if err != nil {
		return nil, err
	}
	logAttrs := []any{"path", route.Path, "recipient", attempt.RecipientCode, "api_call_id", attempt.APICallID,
		"correlation_id", attempt.CorrelationID, "http_status", a.status}

	if a.status < 200 || a.status > 299 {
		e := ParseError(a.status, a.body)
		c.log.WarnContext(ctx, "nhcx message refused", append(logAttrs, "code", e.Code)...)
		return nil, e
	}
	var ack Ack
	ackErr := json.Unmarshal(a.body, &ack)
	switch {
	case ackErr == nil && !ack.Error.IsZero():
		// An error inside a 2xx acknowledgement is still an error.
		e := ack.Error.Err()
		e.HTTPStatus, e.Raw = a.status, a.body
		c.log.WarnContext(ctx, "nhcx message refused", append(logAttrs, "code", e.Code)...)
		return nil, e
	case a.status != http.StatusAccepted && (ackErr != nil || ack.APICallID == ""):
		// NHCX acknowledges with 202 and an ack body; any other 2xx
		// without one is something else answering (a proxy's page).
		e := ParseError(a.status, a.body)
		e.Message = "unexpected answer instead of the switch's acknowledgement: " + e.Message
		return nil, e
	case ackErr != nil:
		c.log.WarnContext(ctx, "nhcx acknowledgement unreadable; message was accepted (202)", append(logAttrs, "error", ackErr)...)
	case ack.APICallID != "" && ack.APICallID != attempt.APICallID:
		c.log.WarnContext(ctx, "nhcx acknowledgement names another api_call_id", append(logAttrs, "ack_api_call_id", ack.APICallID)...)
	}
	c.log.InfoContext(ctx, "nhcx message sent", logAttrs...)
	return &Sent{Headers: attempt, HTTPStatus: a.status, Ack: ack}, nil
}
