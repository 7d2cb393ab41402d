package identity

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Config configures a Provider.
type Config struct {
	// Issuer is the provider's public URL, e.g. "http://127.0.0.1:8081/oidc".
	// Its path, if any, is where the provider is mounted. http is allowed.
	Issuer string
	// Clients are the relying parties allowed to sign users in. At least one.
	Clients []Client
	// Users can sign in. Usernames are matched case-insensitively.
	Users []User
	// Logger receives sign-in events. Nil discards them.
	Logger *slog.Logger
}

func (c Config) validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return fmt.Errorf("Issuer %q: %w", c.Issuer, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("Issuer %q must be an http(s) URL with a host and no query or fragment", c.Issuer)
	}
	if len(c.Clients) == 0 {
		return errors.New("Clients must not be empty")
	}
	clients := make(map[string]bool, len(c.Clients))
	for i, cl := range c.Clients {
		switch {
		case cl.ID == "":
			return fmt.Errorf("Clients[%d].ID is empty", i)
		case clients[cl.ID]:
			return fmt.Errorf("Clients[%d].ID %q is a duplicate", i, cl.ID)
		case cl.Secret == "":
			return fmt.Errorf("Clients[%d].Secret is empty", i)
		case len(cl.RedirectURIs) == 0:
			return fmt.Errorf("Clients[%d].RedirectURIs is empty", i)
		}
		clients[cl.ID] = true
	}
	subjects := make(map[string]bool, len(c.Users))
	usernames := make(map[string]bool, len(c.Users))
	for i, us := range c.Users {
		name := strings.ToLower(us.Username)
		switch {
		case us.Subject == "":
			return fmt.Errorf("Users[%d].Subject is empty", i)
		case subjects[us.Subject]:
			return fmt.Errorf("Users[%d].Subject %q is a duplicate", i, us.Subject)
		case us.Username == "" || strings.TrimSpace(us.Username) != us.Username:
			return fmt.Errorf("Users[%d].Username %q is empty or has surrounding spaces", i, us.Username)
		case usernames[name]:
			return fmt.Errorf("Users[%d].Username %q is a duplicate", i, us.Username)
		case us.Password == "":
			return fmt.Errorf("Users[%d].Password is empty", i)
		}
		subjects[us.Subject], usernames[name] = true, true
	}
	return nil
}

// Provider is an OpenID Connect provider. It is an http.Handler serving
// every endpoint listed in the package documentation.
type Provider struct {
	issuer string
	prefix string // issuer path without trailing slash; "" at the root
	store  *storage
	op     *op.Provider
	log    *slog.Logger
	mux    *http.ServeMux
}

// New builds a provider with a freshly generated RSA signing key.
func New(cfg Config) (*Provider, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("identity config: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	issuerURL, _ := url.Parse(cfg.Issuer) // validated above
	p := &Provider{
		issuer: cfg.Issuer,
		prefix: strings.TrimSuffix(issuerURL.Path, "/"),
		log:    logger,
	}

	key, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("identity provider: %w", err)
	}
	clients := make([]*opClient, 0, len(cfg.Clients))
	for _, c := range cfg.Clients {
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
		clients = append(clients, &opClient{Client: c, loginURL: p.endpointURL(loginPath)})
	}
	p.store = newStorage(key, clients, cfg.Users)

	// The crypto key encrypts authorization codes and opaque access tokens;
	// a random one per run is all a sandbox needs.
	opConfig := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		DefaultLogoutRedirectURI: p.endpointURL(loggedOutPath),
		SupportedClaims:          append(append([]string{}, op.DefaultSupportedClaims...), ClaimRoles, ClaimFacilities),
	}
	rand.Read(opConfig.CryptoKey[:])
	p.op, err = op.NewProvider(opConfig, p.store, op.StaticIssuer(cfg.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("creating OpenID provider: %w", err)
	}

	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET "+loginPath, p.showLogin)
	p.mux.HandleFunc("POST "+loginPath, p.submitLogin)
	p.mux.HandleFunc("GET "+loggedOutPath, p.showLoggedOut)
	p.mux.Handle("/", p.op)
	return p, nil
}

// Issuer returns the issuer URL, as relying parties must configure it.
func (p *Provider) Issuer() string { return p.issuer }

// ServeHTTP serves the provider's endpoints. Paths may arrive with the
// issuer's path prefix (a plain mux.Handle("/oidc/", p)) or without it (when
// the caller strips it); the library's router wants them without.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.prefix != "" && (r.URL.Path == p.prefix || strings.HasPrefix(r.URL.Path, p.prefix+"/")) {
		http.StripPrefix(p.prefix, p.mux).ServeHTTP(w, r)
		return
	}
	p.mux.ServeHTTP(w, r)
}

// endpointURL is the absolute URL of one of the provider's own paths.
func (p *Provider) endpointURL(path string) string {
	return strings.TrimSuffix(p.issuer, "/") + path
}
