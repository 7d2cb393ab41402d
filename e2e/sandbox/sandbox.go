// Package sandbox puts the simulated ABDM world on one http.Handler: the
// HIE-CM gateway and, as they are written, the identity provider, the ABHA
// service and the PHR app. `sangam sandbox` serves it; tests start it
// in-process with httptest.
//
// Layout under the sandbox's public URL:
//
//	/                       the gateway (its paths are /gateway/v3/..., /v3/..., /hip/v3/..., ...)
//	/_sandbox/gateway/...   the gateway's control API (package gateway)
//	/_sandbox/reset         resets every part
//	/oidc/...               the staff OpenID Connect provider, when Config.Identity is set
//	/abha/api/...           the ABHA service, stand-in for https://abhasbx.abdm.gov.in/abha/api (package abha)
//	/_sandbox/abha/...      the ABHA service's control API and page (OTPs, demo identities)
//
// Reserved for the part still to come: /phr/... (PHR app).
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/sangamhealth/sangam/e2e/sandbox/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// IdentityPath is where Config.Identity is mounted; the provider's issuer
// is PublicURL + IdentityPath.
const IdentityPath = "/oidc"

// ABHAPath is where the ABHA service is mounted: the ABHA base URL clients
// use is PublicURL + ABHAPath.
const ABHAPath = "/abha/api"

// Config configures a Sandbox.
type Config struct {
	// PublicURL is the sandbox's base URL as clients see it, e.g.
	// "http://127.0.0.1:8090".
	PublicURL string
	// Logger is given to every part that has none of its own. Nil discards.
	Logger *slog.Logger
	// Gateway configures the gateway. PublicURL defaults to the sandbox's
	// (gateway at the root); a PublicURL with a path such as /api/hiecm
	// mounts it there instead. Logger defaults to the sandbox's.
	Gateway gateway.Config
	// Identity, when set, is served under IdentityPath (build it with
	// identity.New and Issuer PublicURL+IdentityPath).
	Identity http.Handler
	// ABHA configures the ABHA service served under ABHAPath. VerifyToken
	// defaults to the gateway's VerifySessionToken, Logger to the
	// sandbox's.
	ABHA abha.Config
	// Later parts plug in here the same way: the PHR app (under /phr/).
}

// Sandbox is the simulated ABDM world. It is an http.Handler; its parts
// are exported for tests and flows that drive them in-process.
type Sandbox struct {
	Gateway *gateway.Gateway
	ABHA    *abha.Service
	mux     *http.ServeMux
}

// New builds the sandbox.
func New(cfg Config) (*Sandbox, error) {
	if cfg.PublicURL == "" {
		return nil, errors.New("sandbox config: PublicURL is empty")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	gc := cfg.Gateway
	if gc.PublicURL == "" {
		gc.PublicURL = cfg.PublicURL
	}
	if gc.Logger == nil {
		gc.Logger = cfg.Logger.With("part", "gateway")
	}
	gw, err := gateway.New(gc)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	gu, _ := url.Parse(gc.PublicURL) // gateway.New validated it

	ac := cfg.ABHA
	if ac.VerifyToken == nil {
		ac.VerifyToken = gw.VerifySessionToken
	}
	if ac.Logger == nil {
		ac.Logger = cfg.Logger.With("part", "abha")
	}
	svc, err := abha.New(ac)
	if err != nil {
		_ = gw.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}

	s := &Sandbox{Gateway: gw, ABHA: svc, mux: http.NewServeMux()}
	s.mux.Handle(strings.TrimSuffix(gu.Path, "/")+"/", gw)
	s.mux.Handle(ABHAPath+"/", http.StripPrefix(ABHAPath, svc))
	s.mux.Handle("/_sandbox/abha/", svc)
	s.mux.HandleFunc("POST /_sandbox/reset", s.reset)
	if cfg.Identity != nil {
		s.mux.Handle(IdentityPath+"/", cfg.Identity)
	}
	return s, nil
}

// ServeHTTP routes to the part that owns the path.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Reset returns every part to its state after New.
func (s *Sandbox) Reset() {
	s.Gateway.Reset()
	s.ABHA.Reset()
}

// Close stops background work (late redeliveries, flow hooks).
func (s *Sandbox) Close() error {
	if err := s.Gateway.Close(); err != nil {
		return fmt.Errorf("closing gateway: %w", err)
	}
	return nil
}

func (s *Sandbox) reset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}
