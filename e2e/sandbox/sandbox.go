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
//
// Reserved for the parts still to come: /abha/api/... (ABHA service, the
// stand-in for https://abhasbx.abdm.gov.in/abha/api) and /phr/... (PHR app).
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// IdentityPath is where Config.Identity is mounted; the provider's issuer
// is PublicURL + IdentityPath.
const IdentityPath = "/oidc"

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
	// Later parts plug in here the same way: ABHA (served under
	// /abha/api/) and the PHR app (under /phr/).
}

// Sandbox is the simulated ABDM world. It is an http.Handler; its parts
// are exported for tests and flows that drive them in-process.
type Sandbox struct {
	Gateway *gateway.Gateway
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

	s := &Sandbox{Gateway: gw, mux: http.NewServeMux()}
	s.mux.Handle(strings.TrimSuffix(gu.Path, "/")+"/", gw)
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
