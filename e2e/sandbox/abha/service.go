package abha

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

const (
	maxBody       = 1 << 20
	controlPrefix = "/_sandbox/abha"
)

// Service is the simulated ABHA service. It is an http.Handler serving the
// API at paths relative to the ABHA base (/v3/...) and the control API
// under /_sandbox/abha/. It is safe for concurrent use.
type Service struct {
	cfg        Config
	log        *slog.Logger
	profileKey *lazyKey
	phrKey     *lazyKey
	routes     map[string]handler // "METHOD /path"
	control    http.Handler

	mu        sync.Mutex
	residents map[string]Resident // by Aadhaar number
	accounts  map[string]*Account // by ABHA number digits
	addresses map[string]*Account // by full lower-case ABHA address
	txns      map[string]*txn
	tokens    map[string]*userToken
	otps      []*otpRecord
	sends     map[string][]time.Time // OTPs sent per identity
	blocked   map[string]time.Time   // identity -> blocked until
}

// call is one API request on its way through the service.
type call struct {
	r        *http.Request
	clientID string
	body     []byte
	now      time.Time
}

type handler func(*call) reply

// New builds a Service with the demo residents and seeded ABHAs.
func New(cfg Config) (*Service, error) {
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("abha sandbox config: %w", err)
	}
	s := &Service{
		cfg:        cfg,
		log:        cfg.Logger,
		profileKey: newLazyKey(profileKeyBits, cfg.ProfileKey),
		phrKey:     newLazyKey(phrKeyBits, cfg.PHRKey),
		residents:  make(map[string]Resident),
	}
	for _, r := range demoResidents() {
		s.residents[r.Aadhaar] = r
	}
	s.routes = map[string]handler{
		"GET /v3/profile/public/certificate":          s.showCertificate(keyProfile),
		"GET /v3/phr/app/login/public/certificate":    s.showCertificate(keyPHR),
		"POST /v3/enrollment/request/otp":             s.enrolRequestOTP,
		"POST /v3/enrollment/enrol/byAadhaar":         s.enrolByAadhaar,
		"POST /v3/enrollment/auth/byAbdm":             s.enrolAuthByABDM,
		"GET /v3/enrollment/enrol/suggestion":         s.addressSuggestions,
		"POST /v3/enrollment/enrol/abha-address":      s.createAddress,
		"POST /v3/profile/login/request/otp":          s.loginRequestOTP,
		"POST /v3/profile/login/verify":               s.loginVerify,
		"POST /v3/profile/login/verify/user":          s.loginVerifyUser,
		"GET /v3/profile/account":                     s.showProfile,
		"GET /v3/profile/account/abha-card":           s.showCard,
		"GET /v3/profile/account/request/token":       s.refreshToken,
		"POST /v3/phr/web/login/abha/search":          s.addressSearch,
		"POST /v3/phr/web/login/abha/request/otp":     s.addressRequestOTP,
		"POST /v3/phr/web/login/abha/verify":          s.addressVerify,
		"GET /v3/phr/web/login/profile/abha-profile":  s.showAddressProfile,
		"GET /v3/phr/web/login/profile/abha/phr-card": s.showAddressCard,
	}
	s.control = s.controlMux()
	s.Reset()
	return s, nil
}

// Reset returns the service to its state after New: only the seeded ABHAs,
// no transactions, tokens, OTPs or blocks. Keys are kept.
func (s *Service) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts = make(map[string]*Account)
	s.addresses = make(map[string]*Account)
	s.txns = make(map[string]*txn)
	s.tokens = make(map[string]*userToken)
	s.otps = nil
	s.sends = make(map[string][]time.Time)
	s.blocked = make(map[string]time.Time)
	for _, sd := range seeds {
		r := s.residents[sd.aadhaar]
		a := &Account{
			ABHANumber: sd.number, Aadhaar: sd.aadhaar, Name: r.Name(), Mobile: sd.mobile,
			Status: "ACTIVE", CreatedAt: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC), resident: r,
		}
		s.accounts[digits(sd.number)] = a
		s.addAddressLocked(a, sd.address, true)
	}
}

// ServeHTTP serves the API and the control API.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == controlPrefix || strings.HasPrefix(r.URL.Path, controlPrefix+"/") {
		s.control.ServeHTTP(w, r)
		return
	}
	c := &call{r: r, now: s.cfg.Now()}
	rep := s.serveAPI(c)
	writeReply(w, rep)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "abha sandbox call",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rep.status), slog.String("client", c.clientID), slog.String("code", rep.code))
}

func (s *Service) serveAPI(c *call) reply {
	r := c.r
	h := s.routes[r.Method+" "+r.URL.Path]
	if h == nil {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if s.routes[m+" "+r.URL.Path] != nil {
				return reply{status: http.StatusMethodNotAllowed, code: "405", body: map[string]string{
					"code": "405", "type": "Status report", "message": "Runtime Error",
					"description": "Method not allowed for given API resource",
				}}
			}
		}
		return noRoute
	}
	// The API manager checks the session token before the service sees
	// anything.
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return missingCredentials
	}
	token, found := strings.CutPrefix(auth, "Bearer ")
	if !found {
		return invalidCredentials
	}
	clientID, err := s.cfg.VerifyToken(strings.TrimSpace(token))
	if err != nil {
		return invalidCredentials
	}
	c.clientID = clientID

	if _, err := uuid.Parse(r.Header.Get("REQUEST-ID")); err != nil || len(r.Header.Get("REQUEST-ID")) != 36 {
		return errRequestID
	}
	if _, err := time.Parse(time.RFC3339Nano, r.Header.Get("TIMESTAMP")); err != nil {
		return errTimestamp
	}
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return errMediaType
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			return errInvalidBody
		}
		c.body = body
	}
	return h(c)
}

// newID returns a random URL-safe identifier for tokens.
func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
