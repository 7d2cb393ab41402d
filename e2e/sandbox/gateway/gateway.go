package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Gateway is the stand-in HIE-CM gateway. It is an http.Handler serving the
// gateway API and its control API, and it sends callbacks to bridges.
// Its state lives in memory; it is safe for concurrent use.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	base    string // PublicURL without a trailing slash
	prefix  string // PublicURL path without a trailing slash; "" at the root
	issuer  string // iss of every JWT it signs
	session *signingKey
	link    *signingKey
	clients map[string]*Client
	owner   map[string]string // service id → client id
	routes  map[string]*flowRoute
	control http.Handler
	started time.Time

	// ctx outlives requests: hooks and late redeliveries run under it.
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu           sync.Mutex
	seq          int64
	usedIDs      map[string]bool
	messages     []*Message
	deliveries   []*Delivery
	deliveryByID map[string]*Delivery
	bridgeURL    map[string]string
	issued       map[string][]string // client id → session token jtis
	revoked      map[string]bool     // revoked session token jtis
	globalFaults Faults
	clientFaults map[string]*Faults
	hooks        map[string][]MessageFunc
}

// MessageFunc reacts to a bridge→gateway call the gateway accepted, for
// example by delivering the callback it triggers. It runs in its own
// goroutine after the call was processed, under a context cancelled by
// Close.
type MessageFunc func(ctx context.Context, m Message)

// New builds a gateway from cfg.
func New(cfg Config) (*Gateway, error) {
	cfg.withDefaults()
	cfg.Clients = slices.Clone(cfg.Clients)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	now := cfg.Now()
	session, err := newSigningKey(cfg.SigningKey, jose.RS256, now)
	if err != nil {
		return nil, fmt.Errorf("gateway signing key: %w", err)
	}
	link, err := newSigningKey(cfg.LinkTokenKey, jose.RS512, now)
	if err != nil {
		return nil, fmt.Errorf("gateway link token key: %w", err)
	}
	u, _ := url.Parse(cfg.PublicURL) // validated above
	base := strings.TrimSuffix(cfg.PublicURL, "/")
	g := &Gateway{
		cfg:     cfg,
		log:     cfg.Logger,
		base:    base,
		prefix:  strings.TrimSuffix(u.Path, "/"),
		issuer:  base + "/auth/realms/central-registry",
		session: session,
		link:    link,
		clients: make(map[string]*Client, len(cfg.Clients)),
		owner:   make(map[string]string),
		routes:  make(map[string]*flowRoute, len(flowRoutes)),
		issued:  make(map[string][]string),
		revoked: make(map[string]bool),
		hooks:   make(map[string][]MessageFunc),
		started: now,
	}
	for i := range cfg.Clients {
		c := cfg.Clients[i]
		c.Services = slices.Clone(c.Services)
		if c.Name == "" {
			c.Name = c.ID
		}
		g.clients[c.ID] = &c
		for _, s := range c.Services {
			g.owner[s.ID] = c.ID
		}
	}
	for i := range flowRoutes {
		g.routes[flowRoutes[i].path] = &flowRoutes[i]
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.control = http.StripPrefix(g.prefix, g.controlMux())
	g.resetLocked()
	return g, nil
}

// Close stops late redeliveries and hooks still running and waits for them.
// Calls in progress that hold a dropped answer are released.
func (g *Gateway) Close() error {
	g.mu.Lock()
	g.cancel() // under mu, so goWorker cannot start a worker after Wait begins
	g.mu.Unlock()
	g.workers.Wait()
	return nil
}

// Reset returns the gateway to the state after New: no messages, no
// deliveries, no faults, every REQUEST-ID usable again and bridge URLs as
// configured. Issued session tokens stay valid; hooks stay registered.
func (g *Gateway) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resetLocked()
}

func (g *Gateway) resetLocked() {
	g.usedIDs = make(map[string]bool)
	g.messages = nil
	g.deliveries = nil
	g.deliveryByID = make(map[string]*Delivery)
	g.bridgeURL = make(map[string]string, len(g.clients))
	for id, c := range g.clients {
		if c.BridgeURL != "" {
			g.bridgeURL[id] = c.BridgeURL
		}
	}
	g.globalFaults = Faults{}
	g.clientFaults = make(map[string]*Faults)
}

// Handle registers fn to run after every accepted call to path, a
// bridge→gateway path such as "/v3/token/generate-token".
func (g *Gateway) Handle(path string, fn MessageFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hooks[path] = append(g.hooks[path], fn)
}

// URL is the gateway base URL clients call, PublicURL without a trailing
// slash.
func (g *Gateway) URL() string { return g.base }

// CMID is the consent-manager id the gateway expects in X-CM-ID.
func (g *Gateway) CMID() string { return g.cfg.CMID }

// ServiceOwner reports which client registered a service id.
func (g *Gateway) ServiceOwner(serviceID string) (clientID string, ok bool) {
	clientID, ok = g.owner[serviceID]
	return clientID, ok
}

// BridgeURL reports the callback base URL currently registered by a client.
func (g *Gateway) BridgeURL(clientID string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, ok := g.bridgeURL[clientID]
	return u, ok
}

const controlPrefix = "/_sandbox/gateway/"

// ServeHTTP serves the gateway API and the control API.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, g.prefix)
	if !ok || (g.prefix != "" && path != "" && path[0] != '/') {
		writeJSON(w, http.StatusNotFound, noRouteBody)
		return
	}
	if strings.HasPrefix(path, controlPrefix) {
		g.control.ServeHTTP(w, r)
		return
	}
	g.serveAPI(w, r, path)
}

func (g *Gateway) now() time.Time { return g.cfg.Now() }

// nextSeqLocked numbers messages and deliveries in one sequence, so their
// relative order is visible. The caller holds g.mu.
func (g *Gateway) nextSeqLocked() int64 {
	g.seq++
	return g.seq
}
