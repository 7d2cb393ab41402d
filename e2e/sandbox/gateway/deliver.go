package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// Callback is a gateway→bridge call to make.
type Callback struct {
	// ClientID is the bridge to call. Empty: the client that registered
	// HIPID or HIUID.
	ClientID string
	// Path is appended to the bridge URL, e.g. CallbackDiscover.
	Path string
	// HIPID or HIUID (exactly one) is sent as X-HIP-ID or X-HIU-ID.
	HIPID, HIUID string
	// Body is sent as JSON; json.RawMessage is sent as it is.
	Body any
	// RequestID is the REQUEST-ID header. Empty: a fresh UUID.
	RequestID string
}

// Delivery states.
const (
	StatePending   = "pending"   // not attempted yet (waiting out a delay)
	StateDelivered = "delivered" // an attempt with a valid token got 2xx
	StateFailed    = "failed"    // attempted, never acknowledged with 2xx
	StateDropped   = "dropped"   // dropped by a fault, never sent
)

// Delivery is one callback and every attempt to send it.
type Delivery struct {
	Seq       int64           `json:"seq"`
	RequestID string          `json:"request_id"`
	ClientID  string          `json:"client_id"`
	Path      string          `json:"path"`
	HIPID     string          `json:"hip_id,omitempty"`
	HIUID     string          `json:"hiu_id,omitempty"`
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
	State     string          `json:"state"`
	Attempts  []Attempt       `json:"attempts"`
	// AnsweredBy lists the REQUEST-IDs of the on-* calls that answered it.
	AnsweredBy []string `json:"answered_by,omitempty"`

	firstSent time.Time // when the first POST started; zero if never sent
}

// Attempt is one POST of a delivery.
type Attempt struct {
	At  time.Time `json:"at"`
	URL string    `json:"url"`
	// Reason: "first", "duplicate", "late" (fault) or "redeliver" (control).
	Reason       string `json:"reason"`
	ExpiredToken bool   `json:"expired_token,omitempty"`
	// Status is the bridge's answer; 0 while in flight or when it failed.
	Status       int    `json:"status,omitempty"`
	Error        string `json:"error,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
}

// Errors from Deliver and Redeliver.
var (
	ErrNoBridgeURL     = errors.New("gateway: client has no bridge URL")
	ErrUnknownDelivery = errors.New("gateway: no such delivery")
)

const maxRecordedResponse = 2 << 10

// Deliver sends a callback to a client's bridge, applying the delivery
// faults set for that client, and returns the delivery after its first
// attempt (and duplicate, when that fault applies). A late redelivery
// follows in the background. A bridge that answers non-2xx is not an
// error: the delivery records it. The error reports a callback that could
// not be attempted at all.
func (g *Gateway) Deliver(ctx context.Context, cb Callback) (Delivery, error) {
	d, err := g.newDelivery(cb)
	if err != nil {
		return Delivery{}, fmt.Errorf("delivering %s: %w", cb.Path, err)
	}
	df := g.takeDeliveryFaults(d.ClientID, d.Path)
	g.mu.Lock()
	if g.deliveryByID[d.RequestID] != nil {
		g.mu.Unlock()
		return Delivery{}, fmt.Errorf("delivering %s: REQUEST-ID %s was already used for a delivery", cb.Path, d.RequestID)
	}
	d.Seq = g.nextSeqLocked()
	g.deliveries = append(g.deliveries, d)
	g.deliveryByID[d.RequestID] = d
	if df.drop {
		d.State = StateDropped
	}
	g.mu.Unlock()

	if df.drop {
		g.log.LogAttrs(ctx, slog.LevelInfo, "gateway callback dropped (fault)",
			slog.String("path", d.Path), slog.String("client", d.ClientID), slog.String("request_id", d.RequestID))
		return g.snapshot(d), nil
	}
	if df.delay > 0 && !sleep(ctx, df.delay) {
		g.addAttempt(d, Attempt{At: g.now(), Reason: "first", Error: "not sent: " + ctx.Err().Error()})
		return g.snapshot(d), fmt.Errorf("delivering %s: %w", cb.Path, ctx.Err())
	}
	if err := g.attempt(ctx, d, "first", false); err != nil {
		return g.snapshot(d), fmt.Errorf("delivering %s: %w", cb.Path, err)
	}
	if df.duplicate {
		_ = g.attempt(ctx, d, "duplicate", false) // recorded; the first attempt decides the error
	}
	if df.late {
		g.goWorker(func(ctx context.Context) {
			if sleep(ctx, g.cfg.LateRedeliveryAfter) {
				_ = g.attempt(ctx, d, "late", true)
			}
		})
	}
	return g.snapshot(d), nil
}

// Redeliver sends a past delivery again, same REQUEST-ID and body,
// optionally with an already-expired JWT. Faults do not apply.
func (g *Gateway) Redeliver(ctx context.Context, requestID string, expiredToken bool) (Delivery, error) {
	g.mu.Lock()
	d := g.deliveryByID[requestID]
	g.mu.Unlock()
	if d == nil {
		return Delivery{}, fmt.Errorf("redelivering %s: %w", requestID, ErrUnknownDelivery)
	}
	if err := g.attempt(ctx, d, "redeliver", expiredToken); err != nil {
		return g.snapshot(d), fmt.Errorf("redelivering %s: %w", requestID, err)
	}
	return g.snapshot(d), nil
}

// Deliveries lists the callbacks made so far, oldest first.
func (g *Gateway) Deliveries(f Filter) []Delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []Delivery{}
	for _, d := range g.deliveries {
		if f.match(d.Path, d.ClientID, d.RequestID) {
			out = append(out, d.cloneLocked())
		}
	}
	return out
}

func (g *Gateway) newDelivery(cb Callback) (*Delivery, error) {
	if !strings.HasPrefix(cb.Path, "/") {
		return nil, fmt.Errorf("path %q must start with /", cb.Path)
	}
	if (cb.HIPID == "") == (cb.HIUID == "") {
		return nil, errors.New("exactly one of HIPID and HIUID must be set")
	}
	clientID := cb.ClientID
	if clientID == "" {
		owner, ok := g.owner[cb.HIPID+cb.HIUID]
		if !ok {
			return nil, fmt.Errorf("no client registered service %q", cb.HIPID+cb.HIUID)
		}
		clientID = owner
	}
	if g.clients[clientID] == nil {
		return nil, fmt.Errorf("unknown client %q", clientID)
	}
	requestID := cb.RequestID
	if requestID == "" {
		requestID = uuid.NewString()
	}
	var body []byte
	switch b := cb.Body.(type) {
	case json.RawMessage:
		body = b
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("encoding body: %w", err)
		}
	}
	if !json.Valid(body) {
		return nil, errors.New("body is not JSON")
	}
	return &Delivery{
		RequestID: requestID,
		ClientID:  clientID,
		Path:      cb.Path,
		HIPID:     cb.HIPID,
		HIUID:     cb.HIUID,
		Body:      json.RawMessage(body),
		CreatedAt: g.now(),
		State:     StatePending,
		Attempts:  []Attempt{},
	}, nil
}

// attempt POSTs d once to the client's current bridge URL and records the
// outcome. The attempt is recorded before the POST, so an on-* the bridge
// sends while handling it already finds the delivery.
func (g *Gateway) attempt(ctx context.Context, d *Delivery, reason string, expired bool) error {
	base, ok := g.BridgeURL(d.ClientID)
	now := g.now()
	a := Attempt{At: now, URL: base + d.Path, Reason: reason, ExpiredToken: expired}
	if !ok {
		a.URL = ""
		a.Error = ErrNoBridgeURL.Error()
		g.addAttempt(d, a)
		return ErrNoBridgeURL
	}
	token, err := g.callbackToken(now, expired)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(d.Body))
	if err != nil {
		a.Error = err.Error()
		g.addAttempt(d, a)
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("REQUEST-ID", d.RequestID)
	req.Header.Set("TIMESTAMP", formatTimestamp(now))
	if d.HIPID != "" {
		req.Header.Set(headerHIPID, d.HIPID)
	} else {
		req.Header.Set(headerHIUID, d.HIUID)
	}
	i := g.addAttempt(d, a)

	resp, err := g.cfg.HTTPClient.Do(req)
	if err == nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxRecordedResponse))
		resp.Body.Close()
		a.Status, a.ResponseBody = resp.StatusCode, string(b)
	} else {
		a.Error = err.Error()
	}
	g.mu.Lock()
	d.Attempts[i] = a
	d.State = deliveryState(d.Attempts)
	g.mu.Unlock()
	g.log.LogAttrs(ctx, levelFor(a.Status), "gateway callback",
		slog.String("path", d.Path), slog.String("client", d.ClientID), slog.String("request_id", d.RequestID),
		slog.String("reason", reason), slog.Bool("expired_token", expired), slog.Int("status", a.Status))
	return nil
}

// addAttempt records a, before it is sent or as a failure to send.
func (g *Gateway) addAttempt(d *Delivery, a Attempt) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	d.Attempts = append(d.Attempts, a)
	if a.Error != "" {
		d.State = deliveryState(d.Attempts)
	} else if d.firstSent.IsZero() {
		d.firstSent = a.At
	}
	return len(d.Attempts) - 1
}

func deliveryState(attempts []Attempt) string {
	if len(attempts) == 0 {
		return StatePending
	}
	for _, a := range attempts {
		if !a.ExpiredToken && a.Status >= 200 && a.Status < 300 {
			return StateDelivered
		}
	}
	if len(attempts) == 1 && attempts[0].Status == 0 && attempts[0].Error == "" {
		return StatePending // first attempt in flight
	}
	return StateFailed
}

// expiredTokenAge is how long ago an expired callback JWT expired: well
// past the clock-skew leeway verifiers allow (a minute is common), so it
// is refused, as a callback redelivered long after it was first sent.
const expiredTokenAge = 10 * time.Minute

// callbackToken signs the JWT a callback carries.
func (g *Gateway) callbackToken(now time.Time, expired bool) (string, error) {
	iat, exp := now, now.Add(g.cfg.CallbackTokenTTL)
	if expired {
		exp = now.Add(-expiredTokenAge)
		iat = exp.Add(-g.cfg.CallbackTokenTTL)
	}
	return g.session.sign(tokenClaims{
		Claims: jwt.Claims{
			ID:       uuid.NewString(),
			Issuer:   g.issuer,
			Audience: jwt.Audience{audience},
			IssuedAt: jwt.NewNumericDate(iat),
			Expiry:   jwt.NewNumericDate(exp),
		},
		Type:     tokenTypeAccess,
		AZP:      CallbackAZP,
		ClientID: CallbackAZP,
	})
}

func (g *Gateway) snapshot(d *Delivery) Delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	return d.cloneLocked()
}

func (d *Delivery) cloneLocked() Delivery {
	c := *d
	c.Attempts = append([]Attempt{}, d.Attempts...)
	c.AnsweredBy = append([]string(nil), d.AnsweredBy...)
	return c
}
