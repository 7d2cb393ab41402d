package abdmtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/sangamhealth/sangam/abdm"
)

// RecordedRequest is one request the Gateway received.
type RecordedRequest struct {
	Method string
	Path   string // including the query string
	Header http.Header
	Body   []byte
}

// Gateway is a loopback HTTP server that behaves like the ABDM gateway for
// the calls a bridge makes: it issues session tokens, checks them on every
// other call (answering the API manager's 401 900901 when they are unknown
// or revoked), serves its JWKS at /gateway/v3/certs, and accepts anything
// else with 202 unless a handler was registered for it. Every request is
// recorded.
type Gateway struct {
	URL    string
	Server *httptest.Server

	mu        sync.Mutex
	clients   map[string]string // client id -> secret
	tokens    map[string]string // live token -> client id
	expiresIn int
	delay     time.Duration
	keys      []jose.JSONWebKey
	handlers  map[string]http.HandlerFunc
	requests  []RecordedRequest
	sessions  int
	certs     int
}

// NewGateway starts a Gateway that is closed when the test ends. Session
// tokens last 1200 s unless SetExpiresIn says otherwise.
func NewGateway(t testing.TB) *Gateway {
	t.Helper()
	g := &Gateway{
		clients:   make(map[string]string),
		tokens:    make(map[string]string),
		handlers:  make(map[string]http.HandlerFunc),
		expiresIn: 1200,
	}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	g.URL = g.Server.URL
	t.Cleanup(g.Server.Close)
	return g
}

// AddClient registers a client id and secret that may create sessions.
func (g *Gateway) AddClient(id, secret string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clients[id] = secret
}

// SetExpiresIn sets the expiresIn (seconds) of sessions issued from now on.
func (g *Gateway) SetExpiresIn(seconds int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expiresIn = seconds
}

// SetSessionDelay makes the sessions call take d, to widen race windows.
func (g *Gateway) SetSessionDelay(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.delay = d
}

// SetKeys replaces the key set served at /gateway/v3/certs.
func (g *Gateway) SetKeys(keys ...jose.JSONWebKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys = keys
}

// RevokeTokens invalidates every session token issued so far, as the API
// manager does when a token is invalidated before its expiry.
func (g *Gateway) RevokeTokens() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens = make(map[string]string)
}

// Handle answers method and path (without query) with h after the session
// check, instead of the default 202.
func (g *Gateway) Handle(method, path string, h http.HandlerFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handlers[method+" "+path] = h
}

// Requests returns a copy of every request received so far.
func (g *Gateway) Requests() []RecordedRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]RecordedRequest(nil), g.requests...)
}

// RequestsTo returns the requests received for path (without query).
func (g *Gateway) RequestsTo(path string) []RecordedRequest {
	var out []RecordedRequest
	for _, r := range g.Requests() {
		p, _, _ := strings.Cut(r.Path, "?")
		if p == path {
			out = append(out, r)
		}
	}
	return out
}

// SessionCount is how many sessions calls were answered with a token.
func (g *Gateway) SessionCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessions
}

// CertsCount is how many times the key set was served.
func (g *Gateway) CertsCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.certs
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.requests = append(g.requests, RecordedRequest{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	g.mu.Unlock()

	if r.URL.Path == abdm.PathSessions && r.Method == http.MethodPost {
		g.createSession(w, r, body)
		return
	}
	if !g.authorised(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"code": "900901", "message": "Invalid Credentials",
			"description": "Access failure for API: invalid or expired token",
		})
		return
	}
	g.mu.Lock()
	h := g.handlers[r.Method+" "+r.URL.Path]
	g.mu.Unlock()
	switch {
	case h != nil:
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h(w, r)
	case r.URL.Path == abdm.PathCerts && r.Method == http.MethodGet:
		g.mu.Lock()
		g.certs++
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), g.keys...)}
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, set)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (g *Gateway) authorised(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, live := g.tokens[token]
	return live
}

func (g *Gateway) createSession(w http.ResponseWriter, r *http.Request, body []byte) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		// What the sandbox answers without Content-Type.
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{
			"code": "ABDM-9999: ", "message": "415 UNSUPPORTED_MEDIA_TYPE \"Content type '' not supported\"",
		}})
		return
	}
	var req abdm.SessionRequest
	if err := json.Unmarshal(body, &req); err != nil || req.GrantType != abdm.GrantClientCredentials {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{
			"code": "ABDM-1006", "message": "Bad Request, invalid request Body",
		}})
		return
	}
	g.mu.Lock()
	secret, known := g.clients[req.ClientID]
	delay, expiresIn := g.delay, g.expiresIn
	g.mu.Unlock()
	if !known || secret != req.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{
			"code": "ABDM-1021", "message": "Invalid client credentials",
		}})
		return
	}
	time.Sleep(delay)

	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := "tok-" + base64.RawURLEncoding.EncodeToString(raw)
	g.mu.Lock()
	g.tokens[token] = req.ClientID
	g.sessions++
	g.mu.Unlock()
	writeJSON(w, http.StatusAccepted, abdm.Session{
		AccessToken:      token,
		ExpiresIn:        expiresIn,
		RefreshExpiresIn: 1800,
		RefreshToken:     "refresh-" + token,
		TokenType:        "bearer",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
