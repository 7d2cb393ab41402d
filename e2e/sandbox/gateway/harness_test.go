package gateway_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// testKeys are generated once per test binary: RSA key generation is the
// slowest part of New.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return a, b
})

const (
	clientA    = "SBX_000001"
	secretA    = "secret-a"
	clientB    = "SBX_000002"
	secretB    = "secret-b"
	hipA       = "IN2810014366"
	hiuA       = "IN2910000123"
	inactiveA  = "IN2810000000"
	hipB       = "HIP_B"
	jsonType   = "application/json"
	tsLayout   = "2006-01-02T15:04:05.000Z"
	pathGenTok = "/v3/token/generate-token"
)

// clock is a settable gateway clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle is one gateway on a loopback server, with a session for client A.
type bundle struct {
	t     *testing.T
	g     *gateway.Gateway
	url   string
	clock *clock // nil: real time
	token string // client A's session token
}

type option func(*bundle, *gateway.Config)

func withClock(c *clock) option {
	return func(b *bundle, cfg *gateway.Config) { b.clock, cfg.Now = c, c.Now }
}

func withConfig(f func(*gateway.Config)) option {
	return func(_ *bundle, cfg *gateway.Config) { f(cfg) }
}

func setup(t *testing.T, opts ...option) *bundle {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	signing, link := testKeys()
	cfg := gateway.Config{
		PublicURL: srv.URL,
		Clients: []gateway.Client{
			{ID: clientA, Secret: secretA, Name: "Acme Hospitals", Services: []gateway.Service{
				{ID: hipA, Name: "Acme OPD", Types: []string{gateway.TypeHIP}},
				{ID: hiuA, Name: "Acme Records", Types: []string{gateway.TypeHIU}},
				{ID: inactiveA, Name: "Acme Old", Types: []string{gateway.TypeHIP}, Inactive: true},
			}},
			{ID: clientB, Secret: secretB, Services: []gateway.Service{
				{ID: hipB, Name: "B Clinic", Types: []string{gateway.TypeHIP, gateway.TypeHIU}},
			}},
		},
		SigningKey:   signing,
		LinkTokenKey: link,
	}
	b := &bundle{t: t, url: srv.URL}
	for _, o := range opts {
		o(b, &cfg)
	}
	g, err := gateway.New(cfg)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	h = g
	b.g = g
	b.token = b.session(clientA, secretA)
	return b
}

func (b *bundle) now() time.Time {
	if b.clock != nil {
		return b.clock.Now()
	}
	return time.Now()
}

// req builds a gateway request with every header a well-behaved client
// sends; mods then change it.
func (b *bundle) req(method, path string, body any, mods ...func(*http.Request)) *http.Request {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		var raw []byte
		switch v := body.(type) {
		case string:
			raw = []byte(v)
		default:
			var err error
			if raw, err = json.Marshal(v); err != nil {
				b.t.Fatalf("encoding body: %v", err)
			}
		}
		rd = bytes.NewReader(raw)
	}
	r, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		b.t.Fatalf("building request: %v", err)
	}
	r.Header.Set("REQUEST-ID", uuid.NewString())
	r.Header.Set("TIMESTAMP", b.now().UTC().Format(tsLayout))
	r.Header.Set("X-CM-ID", "sbx")
	if body != nil {
		r.Header.Set("Content-Type", jsonType)
	}
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	for _, m := range mods {
		m(r)
	}
	return r
}

// do sends r and returns the status and body.
func (b *bundle) do(r *http.Request) (int, []byte) {
	b.t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		b.t.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("reading response: %v", err)
	}
	return resp.StatusCode, raw
}

func (b *bundle) call(method, path string, body any, mods ...func(*http.Request)) (int, []byte) {
	b.t.Helper()
	return b.do(b.req(method, path, body, mods...))
}

func header(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del(name)
			return
		}
		r.Header.Set(name, value)
	}
}

func bearer(token string) func(*http.Request) { return header("Authorization", "Bearer "+token) }

// session opens a session and returns its access token.
func (b *bundle) session(id, secret string) string {
	b.t.Helper()
	status, raw := b.call(http.MethodPost, "/gateway/v3/sessions",
		map[string]string{"clientId": id, "clientSecret": secret, "grantType": "client_credentials"},
		header("Authorization", ""))
	if status != http.StatusAccepted {
		b.t.Fatalf("sessions: status %d, body %s", status, raw)
	}
	var s struct {
		AccessToken string `json:"accessToken"`
	}
	mustUnmarshal(b.t, raw, &s)
	return s.AccessToken
}

// control calls the control API.
func (b *bundle) control(method, path string, body any) (int, []byte) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.t.Fatalf("encoding body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	r, err := http.NewRequest(method, b.url+"/_sandbox/gateway"+path, rd)
	if err != nil {
		b.t.Fatalf("building request: %v", err)
	}
	return b.do(r)
}

func (b *bundle) setFaults(client string, f gateway.Faults) {
	b.t.Helper()
	path := "/faults"
	if client != "" {
		path += "/" + client
	}
	if status, raw := b.control(http.MethodPut, path, f); status != http.StatusOK {
		b.t.Fatalf("PUT %s: status %d, body %s", path, status, raw)
	}
}

// jwks fetches the published key set with client A's session.
func (b *bundle) jwks() jose.JSONWebKeySet {
	b.t.Helper()
	status, raw := b.call(http.MethodGet, "/gateway/v3/certs", nil)
	if status != http.StatusOK {
		b.t.Fatalf("certs: status %d, body %s", status, raw)
	}
	var set jose.JSONWebKeySet
	mustUnmarshal(b.t, raw, &set)
	return set
}

type gatewayClaims struct {
	jwt.Claims
	Type string `json:"typ"`
	AZP  string `json:"azp"`
}

// verifyJWT checks a token against a JWKS the way a bridge must: pick the
// key by kid, require RS256, check expiry at now.
func verifyJWT(set jose.JSONWebKeySet, raw string, now time.Time) (gatewayClaims, error) {
	var c gatewayClaims
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return c, err
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		return c, errNoKey
	}
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return c, err
	}
	return c, c.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{"account"}, Time: now}, 0)
}

type testError string

func (e testError) Error() string { return string(e) }

const errNoKey = testError("no key with that kid in the JWKS")

func mustUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}

// nestedError decodes {"error":{"code","message"}}; anything else gives
// empty strings, which the caller's comparison then reports with the body.
func nestedError(t *testing.T, raw []byte) (code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return "", ""
	}
	return e.Error.Code, e.Error.Message
}

// bridge is a loopback bridge that records what the gateway sends it.
type bridge struct {
	srv      *httptest.Server
	received chan received
	// handle, when set, answers instead of the default 202.
	handle func(w http.ResponseWriter, r *http.Request, body []byte)
}

type received struct {
	at     time.Time
	path   string
	header http.Header
	body   []byte
}

func newBridge(t *testing.T) *bridge {
	t.Helper()
	br := &bridge{received: make(chan received, 100)}
	br.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		br.received <- received{at: time.Now(), path: r.URL.Path, header: r.Header.Clone(), body: body}
		if br.handle != nil {
			br.handle(w, r, body)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(br.srv.Close)
	return br
}

// next waits for the next callback.
func (br *bridge) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-br.received:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no callback reached the bridge within 10 s")
		return received{}
	}
}

// none asserts nothing more arrived.
func (br *bridge) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-br.received:
		t.Fatalf("unexpected callback %s (REQUEST-ID %s)", r.path, r.header.Get("REQUEST-ID"))
	default:
	}
}

// register points client A's bridge URL at br.
func (b *bundle) register(br *bridge) {
	b.t.Helper()
	if status, raw := b.call(http.MethodPatch, "/gateway/v3/bridge/url", map[string]string{"url": br.srv.URL}); status != http.StatusAccepted {
		b.t.Fatalf("bridge/url: status %d, body %s", status, raw)
	}
}
