// Package sandbox puts the simulated ABDM world on one http.Handler: the
// HIE-CM gateway with its consent manager, the PHR app, optionally
// "another hospital", the NHCX switch with its rule-driven payer and, as
// they are written, the identity provider and the ABHA service. `sangam sandbox` serves it; tests start it
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
//	/hcx/v1/...             the NHCX switch, stand-in for https://apisbx.abdm.gov.in/hcx (package nhcx)
//	/pmjay/sbxhcx/participanthcxservice/...  its participant registry (/fetch/certs, /participant/search)
//	/_sandbox/nhcx/...      the NHCX switch's control API (payer rules, messages, faults, participants)
//	/_sandbox/cm/...        the consent manager's control API: links, consents, transfers, blocks (package cm)
//	/_sandbox/phr/...       the PHR app: act as a patient over JSON or an HTML page (package phr)
//	/_sandbox/remote/...    "another hospital", a remote HIP and HIU with its own bridge, when Config.Remote is set (package remote)
//
// The consent manager (package cm) runs inside the gateway: it answers
// linking, discovery, consent and data-flow calls with the callbacks the
// real HIE-CM sends, and it sits in front of the gateway's handler for the
// few refusals the real one answers synchronously.
package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sangamhealth/sangam/e2e/sandbox/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/phr"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
)

// IdentityPath is where Config.Identity is mounted; the provider's issuer
// is PublicURL + IdentityPath.
const IdentityPath = "/oidc"

// ABHAPath is where the ABHA service is mounted: the ABHA base URL clients
// use is PublicURL + ABHAPath.
const ABHAPath = "/abha/api"

// NHCXPath is where the NHCX switch's use-case API is mounted: the switch
// base URL claims clients use is PublicURL + NHCXPath, and they append
// /v1/..., as they append it to https://apisbx.abdm.gov.in/hcx.
const NHCXPath = "/hcx"

// NHCXRegistryPath is where the NHCX participant registry is mounted: the
// registry base URL is PublicURL + NHCXRegistryPath, the path of the real
// sandbox's participant service.
const NHCXRegistryPath = "/pmjay/sbxhcx/participanthcxservice"

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
	// NHCX configures the NHCX switch served under NHCXPath and
	// NHCXRegistryPath. VerifyToken defaults to the gateway's
	// VerifySessionToken (NHCX takes ABDM session tokens), Logger to the
	// sandbox's.
	NHCX nhcx.Config
	// CM configures the consent manager. Gateway, LinkTokenKey (the
	// gateway's), ABHA (the ABHA service), SMS (the PHR app's inbox) and
	// Logger are filled in.
	CM cm.Config
	// PHR configures the PHR app. CM, Inbox and Logger are filled in.
	PHR phr.Config
	// Remote, when set, adds "another hospital": it is registered with
	// the gateway as one more client and served under remote.Prefix.
	// PublicURL, GatewayURL, Patients, SMS and Logger default to the
	// sandbox's.
	Remote *remote.Config
}

// Sandbox is the simulated ABDM world. It is an http.Handler; its parts
// are exported for tests and flows that drive them in-process.
type Sandbox struct {
	Gateway *gateway.Gateway
	ABHA    *abha.Service
	NHCX    *nhcx.Switch
	CM      *cm.CM
	PHR     *phr.App
	Remote  *remote.Hospital // nil unless Config.Remote is set
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
	// The consent manager signs link tokens with the key the gateway
	// publishes for them, so the key is made here for both.
	if gc.LinkTokenKey == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("sandbox: link token key: %w", err)
		}
		gc.LinkTokenKey = key
	}
	var rc remote.Config
	if cfg.Remote != nil {
		rc = *cfg.Remote
		if rc.PublicURL == "" {
			rc.PublicURL = cfg.PublicURL
		}
		if rc.GatewayURL == "" {
			rc.GatewayURL = gc.PublicURL
		}
		gc.Clients = append(slices.Clone(gc.Clients), rc.GatewayClient())
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

	nc := cfg.NHCX
	if nc.VerifyToken == nil {
		nc.VerifyToken = gw.VerifySessionToken
	}
	if nc.Logger == nil {
		nc.Logger = cfg.Logger.With("part", "nhcx")
	}
	sw, err := nhcx.New(nc)
	if err != nil {
		_ = gw.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}

	s := &Sandbox{Gateway: gw, ABHA: svc, NHCX: sw, mux: http.NewServeMux()}
	if err := s.addPatientSide(cfg, gc, rc); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s.mux.Handle(strings.TrimSuffix(gu.Path, "/")+"/", s.CM.Wrap(gw))
	s.mux.Handle("/_sandbox/cm/", s.CM)
	s.mux.Handle(phr.Prefix+"/", s.PHR)
	if s.Remote != nil {
		s.mux.Handle(remote.Prefix+"/", s.Remote)
	}
	s.mux.Handle(ABHAPath+"/", http.StripPrefix(ABHAPath, svc))
	s.mux.Handle("/_sandbox/abha/", svc)
	s.mux.Handle(NHCXPath+"/", http.StripPrefix(NHCXPath, sw))
	s.mux.Handle(NHCXRegistryPath+"/", http.StripPrefix(NHCXRegistryPath, sw))
	s.mux.Handle("/_sandbox/nhcx/", sw)
	s.mux.HandleFunc("POST /_sandbox/reset", s.reset)
	if cfg.Identity != nil {
		s.mux.Handle(IdentityPath+"/", cfg.Identity)
	}
	return s, nil
}

// addPatientSide builds the consent manager, the PHR app and, when
// configured, the remote hospital.
func (s *Sandbox) addPatientSide(cfg Config, gc gateway.Config, rc remote.Config) error {
	inbox := cfg.PHR.Inbox
	if inbox == nil {
		inbox = phr.NewInbox(nil)
	}
	cc := cfg.CM
	cc.Gateway, cc.LinkTokenKey, cc.ABHA, cc.SMS = s.Gateway, gc.LinkTokenKey, s.ABHA, inbox
	if cc.Logger == nil {
		cc.Logger = cfg.Logger.With("part", "cm")
	}
	c, err := cm.New(cc)
	if err != nil {
		return fmt.Errorf("consent manager: %w", err)
	}
	s.CM = c
	pc := cfg.PHR
	pc.CM, pc.Inbox = c, inbox
	if pc.Logger == nil {
		pc.Logger = cfg.Logger.With("part", "phr")
	}
	if s.PHR, err = phr.New(pc); err != nil {
		return fmt.Errorf("phr app: %w", err)
	}
	if cfg.Remote == nil {
		return nil
	}
	rc.Patients = c
	if rc.SMS == nil {
		rc.SMS = inbox
	}
	if rc.Logger == nil {
		rc.Logger = cfg.Logger.With("part", "remote")
	}
	if s.Remote, err = remote.New(rc); err != nil {
		return fmt.Errorf("remote hospital: %w", err)
	}
	return nil
}

// ServeHTTP routes to the part that owns the path.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Reset returns every part to its state after New.
func (s *Sandbox) Reset() {
	s.Gateway.Reset()
	s.ABHA.Reset()
	s.NHCX.Reset()
	s.CM.Reset()
	s.PHR.Reset()
	if s.Remote != nil {
		s.Remote.Reset()
	}
}

// Close stops background work (late redeliveries, flow hooks, the NHCX
// payer and its callback retries).
func (s *Sandbox) Close() error {
	if s.Remote != nil {
		if err := s.Remote.Close(); err != nil {
			return fmt.Errorf("closing remote hospital: %w", err)
		}
	}
	if s.CM != nil {
		if err := s.CM.Close(); err != nil {
			return fmt.Errorf("closing consent manager: %w", err)
		}
	}
	if err := s.NHCX.Close(); err != nil {
		return fmt.Errorf("closing nhcx switch: %w", err)
	}
	if err := s.Gateway.Close(); err != nil {
		return fmt.Errorf("closing gateway: %w", err)
	}
	return nil
}

func (s *Sandbox) reset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}
