package hcx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
)

// tokens is a TokenSource that hands out tok-1, tok-2, ... and moves to
// the next when told the current one was refused.
type tokens struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (s *tokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		s.n = 1
	}
	return fmt.Sprintf("tok-%d", s.n), nil
}

func (s *tokens) InvalidateToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, token)
	if token == fmt.Sprintf("tok-%d", s.n) {
		s.n++
	}
}

// plainTokens cannot invalidate.
type plainTokens struct{ token string }

func (p plainTokens) Token(context.Context) (string, error) { return p.token, nil }

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// registry is an NHCX participant service on loopback: POST /fetch/certs
// and POST /participant/search, answering from what the test set.
type registry struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	certs   map[string]string // participant code -> encryption_cert text
	raw     map[string]string // participant code -> whole body, sent as text/plain
	status  map[string]int    // participant code -> HTTP status for /fetch/certs
	refused map[string]bool   // tokens answered with 401
	hits    map[string]int    // participant code -> /fetch/certs calls
	auth    []string          // bearer_auth values seen
	records []map[string]any  // /participant/search answers
}

func newRegistry(t *testing.T) *registry {
	r := &registry{t: t, certs: map[string]string{}, raw: map[string]string{}, status: map[string]int{},
		refused: map[string]bool{}, hits: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *registry) set(code, cert string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.certs[code] = cert
	delete(r.raw, code)
	delete(r.status, code)
}

func (r *registry) setRaw(code string, status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw[code] = body
	r.status[code] = status
}

func (r *registry) refuse(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused[token] = true
}

func (r *registry) seenTokens() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.auth, ",")
}

func (r *registry) setRecords(records []map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = records
}

func (r *registry) hitsFor(code string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[code]
}

// checkCommonHeaders asserts what every NHCX call must carry and returns
// the token.
func checkCommonHeaders(t *testing.T, req *http.Request) string {
	t.Helper()
	if req.Method != http.MethodPost {
		t.Errorf("%s %s, want POST", req.Method, req.URL.Path)
	}
	if req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Accept") != "application/json" {
		t.Errorf("content-type %q accept %q", req.Header.Get("Content-Type"), req.Header.Get("Accept"))
	}
	// The server canonicalises the name; the exact spelling on the wire is
	// checked in TestClientWireHeaders.
	bearer := req.Header.Get("bearer_auth")
	if !strings.HasPrefix(bearer, "Bearer ") || req.Header.Get("Authorization") != bearer {
		t.Errorf("bearer_auth %q, Authorization %q: want the same Bearer token in both", bearer, req.Header.Get("Authorization"))
	}
	return strings.TrimPrefix(bearer, "Bearer ")
}

func (r *registry) serve(w http.ResponseWriter, req *http.Request) {
	token := checkCommonHeaders(r.t, req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.auth = append(r.auth, token)
	if r.refused[token] {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"NHCX-401","message":"Sender is not authorized to execute the operation"}}`)
		return
	}
	var body map[string]string
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	switch req.URL.Path {
	case "/participanthcxservice" + hcx.PathFetchCerts:
		code := body["participantid"]
		r.hits[code]++
		if raw, ok := r.raw[code]; ok {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(r.status[code])
			_, _ = io.WriteString(w, raw)
			return
		}
		cert, ok := r.certs[code]
		if !ok {
			_, _ = io.WriteString(w, "Invalid Certificate Found")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"encryption_cert": cert})
	case "/participanthcxservice" + hcx.PathParticipantSearch:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"participants": r.records})
	default:
		http.NotFound(w, req)
	}
}

func (r *registry) url() string { return r.srv.URL + "/participanthcxservice" }
