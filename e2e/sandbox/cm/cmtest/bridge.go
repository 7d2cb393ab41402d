// Package cmtest is a test double for the sandbox's consent-manager
// flows: Bridge, a fake Sangam bridge on loopback that the simulated
// gateway calls back like a real HIP/HIU, and that answers through the
// gateway with Sangam's own ABDM client and message types.
package cmtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

// Callback is one gateway→bridge call the Bridge received.
type Callback struct {
	Path      string
	RequestID string
	HIPID     string
	HIUID     string
	Body      json.RawMessage
	// VerifyErr is the outcome of checking the callback's JWT against the
	// gateway's JWKS; the Bridge answers 401 when it is not nil.
	VerifyErr error
	At        time.Time
}

// Decode unmarshals the body, failing the test on error.
func (c Callback) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatalf("decoding %s body: %v\n%s", c.Path, err, c.Body)
	}
}

// Handler reacts to a verified callback after the Bridge acknowledged
// it, in its own goroutine, as a real bridge answers from a job.
type Handler func(ctx context.Context, cb Callback)

// Bridge is a fake bridge: an httptest server whose URL is registered
// with the gateway as a client's bridge URL.
type Bridge struct {
	URL      string
	ClientID string
	Secret   string
	// Client calls the gateway as this bridge (tenant = ClientID); set by
	// Connect.
	Client *abdm.Client

	t        testing.TB
	srv      *httptest.Server
	verifier *abdm.Verifier
	ctx      context.Context
	cancel   context.CancelFunc
	work     sync.WaitGroup

	mu       sync.Mutex
	received []Callback
	handlers map[string]Handler
	ack      map[string]int
	changed  chan struct{}
}

// NewBridge starts a bridge server for client clientID. Call Connect once
// the gateway exists.
func NewBridge(t testing.TB, clientID, secret string) *Bridge {
	t.Helper()
	b := &Bridge{
		ClientID: clientID, Secret: secret, t: t,
		handlers: make(map[string]Handler), ack: make(map[string]int), changed: make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	b.URL = b.srv.URL
	t.Cleanup(func() {
		b.cancel()
		b.work.Wait()
		b.srv.Close()
	})
	return b
}

// Connect builds the ABDM client that talks to the gateway at gatewayURL
// and the verifier of callback JWTs (keys from the gateway's certs).
func (b *Bridge) Connect(gatewayURL string) {
	b.t.Helper()
	c, err := abdm.New(abdm.Config{
		GatewayURL: gatewayURL, CMID: abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: b.ClientID, ClientSecret: b.Secret}, nil
		}),
	})
	if err != nil {
		b.t.Fatalf("cmtest: abdm client: %v", err)
	}
	v, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: c})
	if err != nil {
		b.t.Fatalf("cmtest: verifier: %v", err)
	}
	b.Client, b.verifier = c, v
}

// On sets the handler of a callback path (replacing any earlier one).
func (b *Bridge) On(path string, h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[path] = h
}

// AckWith makes the bridge acknowledge a callback path with status
// instead of 202 (e.g. 500 to simulate a failing bridge). Handlers do not
// run for non-2xx acknowledgements.
func (b *Bridge) AckWith(path string, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ack[path] = status
}

func (b *Bridge) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cb := Callback{
		Path: r.URL.Path, RequestID: r.Header.Get(abdm.HeaderRequestID), HIPID: r.Header.Get(abdm.HeaderHIPID),
		HIUID: r.Header.Get(abdm.HeaderHIUID), Body: body, At: time.Now(),
	}
	if b.verifier == nil {
		cb.VerifyErr = errors.New("cmtest: bridge not connected")
	} else if _, err := b.verifier.Verify(r.Context(), b.ClientID, r.Header.Get("Authorization")); err != nil {
		cb.VerifyErr = err
	}
	b.mu.Lock()
	b.received = append(b.received, cb)
	close(b.changed)
	b.changed = make(chan struct{})
	h := b.handlers[cb.Path]
	status, ok := b.ack[cb.Path]
	b.mu.Unlock()
	if cb.VerifyErr != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !ok {
		status = http.StatusAccepted
	}
	w.WriteHeader(status)
	if h == nil || status < 200 || status > 299 {
		return
	}
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		h(b.ctx, cb)
	}()
}

// Received lists the callbacks received at path ("" for all), oldest
// first.
func (b *Bridge) Received(path string) []Callback {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Callback
	for _, cb := range b.received {
		if path == "" || cb.Path == path {
			out = append(out, cb)
		}
	}
	return out
}

// WaitFor waits up to 10 s for a callback at path that match accepts (nil
// accepts any) and returns the first one; it fails the test otherwise.
func (b *Bridge) WaitFor(path string, match func(Callback) bool) Callback {
	b.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		ch := b.changed
		for _, cb := range b.received {
			if cb.Path == path && (match == nil || match(cb)) {
				b.mu.Unlock()
				return cb
			}
		}
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			b.t.Fatalf("cmtest: no matching callback at %s within 10 s; received %d callbacks", path, len(b.Received("")))
			return Callback{}
		}
	}
}

// Call sends a gateway request as this bridge.
func (b *Bridge) Call(ctx context.Context, r abdm.Request) (*abdm.Response, error) {
	r.Tenant = b.ClientID
	return b.Client.Do(ctx, r)
}

// MustCall sends a gateway request and fails the test unless it is
// accepted; it returns the REQUEST-ID the result callback will echo.
func (b *Bridge) MustCall(r abdm.Request) string {
	b.t.Helper()
	resp, err := b.Call(context.Background(), r)
	if err != nil {
		b.t.Fatalf("cmtest: %s: %v", r.Path, err)
	}
	return resp.RequestID
}

// answer sends an on-* from a handler; a failure is reported on the test.
func (b *Bridge) answer(ctx context.Context, r abdm.Request) {
	if _, err := b.Call(ctx, r); err != nil && ctx.Err() == nil {
		b.t.Errorf("cmtest: answering %s: %v", r.Path, err)
	}
}
