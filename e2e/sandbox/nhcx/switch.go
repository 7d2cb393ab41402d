package nhcx

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const controlPrefix = "/_sandbox/nhcx"

// Registry paths, relative to the registry base (reference §7).
const (
	PathFetchCerts        = "/fetch/certs"
	PathParticipantSearch = "/participant/search"
)

// Switch is the simulated NHCX switch with its participant registry and a
// rule-driven payer. It is an http.Handler serving the use-case API
// (/v1/...) and the registry (/fetch/certs, /participant/search) at paths
// relative to their base URLs, and the control API under /_sandbox/nhcx/.
// It is safe for concurrent use.
type Switch struct {
	cfg     Config
	log     *slog.Logger
	control http.Handler
	payers  map[string]*payerKey // by code; fixed after New

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	participants map[string]*Participant
	rules        []*ruleState
	faults       Faults
	messages     []*Message
	seq          int64
	apiCalls     map[string]bool
	retired      map[string]bool
	awaiting     map[string]*awaitingReply // payer-initiated requests by correlation id
}

// awaitingReply is a request the payer sent that the provider has not
// answered yet.
type awaitingReply struct {
	path     string
	payer    string
	provider string
	// query, for a communication request, is the provider's request the
	// payer decides once the documents arrive.
	query *pendingQuery
}

type pendingQuery struct {
	req  request
	rule Rule
	info claimInfo
}

// request is a provider's call the switch accepted.
type request struct {
	path    string
	headers headerMap
	compact string
	msg     *Message
	// answers is the payer's request an on_* call answers.
	answers *awaitingReply
}

// New builds a Switch. Payers' keys and certificates are made on first
// use, so a sandbox that never serves NHCX costs nothing.
func New(cfg Config) (*Switch, error) {
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("nhcx sandbox config: %w", err)
	}
	s := &Switch{cfg: cfg, log: cfg.Logger, payers: make(map[string]*payerKey)}
	for _, p := range cfg.Payers {
		code := normalize(p.Code)
		key := cfg.PayerKeys[p.Code]
		if key == nil {
			key = cfg.PayerKeys[code]
		}
		s.payers[code] = &payerKey{code: code, key: key, now: cfg.Now}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.control = s.controlMux()
	s.Reset()
	return s, nil
}

// Reset returns the switch to its state after New: the configured
// participants only, no rules, faults or messages. Keys are kept.
// Deliveries in flight finish in the background.
func (s *Switch) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.participants = make(map[string]*Participant)
	for _, p := range s.cfg.Payers {
		p.Role = RolePayer
		s.addParticipantLocked(p)
	}
	for _, p := range s.cfg.Providers {
		p.Role = RoleProvider
		s.addParticipantLocked(p)
	}
	s.rules = nil
	s.faults = Faults{}
	s.messages = nil
	s.apiCalls = make(map[string]bool)
	s.retired = make(map[string]bool)
	s.awaiting = make(map[string]*awaitingReply)
}

func (s *Switch) addParticipantLocked(p Participant) {
	p.Code = normalize(p.Code)
	if p.Status == "" {
		p.Status = "Active"
	}
	if p.Name == "" {
		p.Name = p.Code
	}
	p.EndpointURL = strings.TrimRight(p.EndpointURL, "/")
	s.participants[p.Code] = &p
}

// Close stops the payer and pending callback retries and waits for them.
func (s *Switch) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// ServeHTTP serves the use-case API, the registry and the control API.
func (s *Switch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == controlPrefix || strings.HasPrefix(p, controlPrefix+"/"):
		s.control.ServeHTTP(w, r)
	case p == PathFetchCerts || p == PathParticipantSearch:
		s.serveRegistry(w, r)
	default:
		s.serveAPI(w, r)
	}
}

// Message is one call the switch saw: a participant calling it
// (DirectionReceived) or the switch calling a participant
// (DirectionDelivered).
type Message struct {
	Seq           int64     `json:"seq"`
	At            time.Time `json:"at"`
	Direction     string    `json:"direction"`
	Path          string    `json:"path"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	APICallID     string    `json:"api_call_id,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	WorkflowID    string    `json:"workflow_id,omitempty"`
	Status        string    `json:"status,omitempty"`
	// Headers is the protected header (or a plain report's members).
	Headers map[string]any `json:"headers,omitempty"`
	// HTTPStatus is the switch's answer (received) or the last attempt's
	// (delivered).
	HTTPStatus int `json:"http_status"`
	// State: accepted or refused (received); pending, delivered or failed
	// (delivered).
	State    string    `json:"state"`
	Error    *Detail   `json:"error,omitempty"`
	Attempts []Attempt `json:"attempts,omitempty"`
	// Payload is what the sandbox payer decrypted or built. It is
	// fictional test data; the real switch cannot read payloads.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Outcome is what the payer decided or did with it.
	Outcome string `json:"outcome,omitempty"`
}

// Message directions and states.
const (
	DirectionReceived  = "received"
	DirectionDelivered = "delivered"

	StateAccepted  = "accepted"
	StateRefused   = "refused"
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// Attempt is one POST of a delivery.
type Attempt struct {
	At         time.Time `json:"at"`
	URL        string    `json:"url"`
	HTTPStatus int       `json:"http_status,omitempty"`
	Error      string    `json:"error,omitempty"`
	// Response is the start of the participant's answer.
	Response string `json:"response,omitempty"`
	// Duplicate marks the extra copy a fault sent.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Detail is an error's code and message.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Trace   string `json:"trace,omitempty"`
}

// Filter narrows Messages; zero fields match everything. Participant
// matches From or To.
type Filter struct {
	Path          string
	CorrelationID string
	Participant   string
	Direction     string
}

// Messages lists what the switch saw, oldest first.
func (s *Switch) Messages(f Filter) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	p := normalize(f.Participant)
	for _, m := range s.messages {
		if (f.Path != "" && m.Path != f.Path) || (f.CorrelationID != "" && m.CorrelationID != f.CorrelationID) ||
			(p != "" && m.From != p && m.To != p) || (f.Direction != "" && m.Direction != f.Direction) {
			continue
		}
		c := *m
		c.Attempts = slices.Clone(m.Attempts)
		out = append(out, c)
	}
	return out
}

// record adds a message to the log and returns it for later updates
// (under s.mu).
func (s *Switch) record(m *Message) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.Seq = s.seq
	if m.At.IsZero() {
		m.At = s.cfg.Now()
	}
	s.messages = append(s.messages, m)
	return m
}

// update changes a recorded message under the lock.
func (s *Switch) update(m *Message, fn func(*Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(m)
}

// participant returns a copy of a registry entry.
func (s *Switch) participant(code string) (Participant, bool) {
	s.mu.Lock()
	p, ok := s.participants[normalize(code)]
	var c Participant
	if ok {
		c = *p
	}
	s.mu.Unlock()
	if ok {
		s.fillPayerCert(&c) // outside the lock: it may generate a key
	}
	return c, ok
}

// fillPayerCert gives a payer's entry its (lazily made) certificate.
func (s *Switch) fillPayerCert(p *Participant) {
	if pk := s.payers[p.Code]; p.Role == RolePayer && pk != nil {
		if _, cert, err := pk.get(); err == nil {
			p.EncryptionCert = cert
		} else {
			s.log.Error("nhcx sandbox: payer key", "payer", p.Code, "error", err)
		}
	}
}

// payerKey is a payer's RSA key and self-signed certificate, made on
// first use.
type payerKey struct {
	code string
	now  func() time.Time
	once sync.Once
	key  *rsa.PrivateKey
	cert string
	err  error
}

func (p *payerKey) get() (*rsa.PrivateKey, string, error) {
	p.once.Do(func() {
		if p.key == nil {
			if p.key, p.err = rsa.GenerateKey(rand.Reader, 2048); p.err != nil {
				return
			}
		}
		p.cert, p.err = selfSignedPEM(p.key, p.code, p.now())
	})
	return p.key, p.cert, p.err
}

// Participants lists the registry, payers first.
func (s *Switch) Participants() []Participant {
	s.mu.Lock()
	out := make([]Participant, 0, len(s.participants))
	for _, p := range s.participants {
		out = append(out, *p)
	}
	s.mu.Unlock()
	for i := range out {
		s.fillPayerCert(&out[i])
	}
	slices.SortFunc(out, func(a, b Participant) int {
		if a.Role != b.Role {
			return strings.Compare(a.Role, b.Role) // payer < provider
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}

// RegisterParticipant adds or replaces a provider (or updates a payer's
// name, endpoint and client, keeping its key): what NHA's
// /participant/create and /participant/update do.
func (s *Switch) RegisterParticipant(p Participant) error {
	p.Code = normalize(p.Code)
	if p.Code == "" {
		return fmt.Errorf("participant code is empty")
	}
	if p.EndpointURL != "" {
		if err := checkEndpoint(p.EndpointURL); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.participants[p.Code]; ok && old.Role == RolePayer {
		p.Role, p.EncryptionCert = RolePayer, "" // the payer's own, filled on read
	} else {
		if p.Role == RolePayer {
			return fmt.Errorf("payers are configured at start; %s is not one", p.Code)
		}
		p.Role = RoleProvider
		if p.EncryptionCert != "" {
			if _, err := parsePublicKey(p.EncryptionCert); err != nil {
				return fmt.Errorf("encryption_cert: %w", err)
			}
		}
	}
	s.addParticipantLocked(p)
	return nil
}

// PayerKey returns a payer's private key, for tests that play the payer's
// part by hand.
func (s *Switch) PayerKey(code string) *rsa.PrivateKey {
	pk := s.payers[normalize(code)]
	if pk == nil {
		return nil
	}
	key, _, _ := pk.get()
	return key
}

// goBackground runs fn as tracked background work of the switch.
func (s *Switch) goBackground(fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ist is India Standard Time, the zone of NHCX timestamps.
var ist = time.FixedZone("IST", 5*60*60+30*60)

// hcxTimestamp writes t as an x-hcx-timestamp, 2023-11-06T13:22:06+0530.
func hcxTimestamp(t time.Time) string { return t.In(ist).Format("2006-01-02T15:04:05-0700") }

// ackTimestamp writes t as acknowledgements carry it, DD/MM/YYYY hh:mm:ss:sss.
func ackTimestamp(t time.Time) string {
	t = t.In(ist)
	return fmt.Sprintf("%s:%03d", t.Format("02/01/2006 15:04:05"), t.Nanosecond()/int(time.Millisecond))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
