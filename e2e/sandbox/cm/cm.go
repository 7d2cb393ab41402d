package cm

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Gateway is what the consent manager needs from the simulated gateway:
// hooks on the calls bridges make, signed deliveries of callbacks, and the
// registry of clients and services.
type Gateway interface {
	Handle(path string, fn gateway.MessageFunc)
	Deliver(ctx context.Context, cb gateway.Callback) (gateway.Delivery, error)
	Clients() []gateway.ClientState
	JWKS() jose.JSONWebKeySet
	URL() string
	CMID() string
}

// SMSSender receives the text messages the consent manager sends to a
// patient's phone (the SMS deep link of sms/notify2).
type SMSSender interface {
	SendSMS(phone, from, text string)
}

// Config configures a CM. Zero durations take the defaults named on each
// field.
type Config struct {
	// Gateway is the simulated gateway the flows run inside. Required.
	Gateway Gateway
	// LinkTokenKey signs link tokens (RS512) and consent artefacts. It must
	// be the key given to the gateway as gateway.Config.LinkTokenKey, so
	// the gateway's JWKS publishes it. Required.
	LinkTokenKey *rsa.PrivateKey
	// ABHA supplies the patients: every address of every ABHA account.
	// Optional.
	ABHA Accounts
	// Patients are further patients, known whether or not the ABHA service
	// holds them (any address a test or a `make run` user wants to act as).
	Patients []Patient
	// SMS receives sms/notify2 deep links. Optional.
	SMS SMSSender
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now is the consent manager's clock. Default time.Now.
	Now func() time.Time

	// LinkTokenTTL is how long a link token is valid. Default 182 days
	// (the reference's "6 months").
	LinkTokenTTL time.Duration
	// RefusalWindow is how long a refused generate-token is remembered: an
	// identical request inside it gets 400 ABDM-1092, masking the first
	// refusal's cause. Default 90 s (observed: at least 69 s).
	RefusalWindow time.Duration
	// MaxTokenRefusals refusals of generate-token for one (HIP, ABHA
	// address) within BlockFor block that pair for BlockFor (ABDM-1027).
	// Default 3.
	MaxTokenRefusals int
	// BlockFor is the ABDM-1027 block period. Default 24 h.
	BlockFor time.Duration
	// ContextNotifyLag is how long after linking a context notify still
	// fails with ABDM-1006 (the observed eventual consistency, 0–5 s).
	// Default 0: off.
	ContextNotifyLag time.Duration
	// ConsentRequestTTL is how long a consent request waits for the
	// patient before it expires. Default 24 h.
	ConsentRequestTTL time.Duration
	// SweepInterval is how often due expiries (consent requests, artefacts
	// past dataEraseAt) are applied. Default 30 s; negative turns the
	// sweeper off (ExpireDue can still be called).
	SweepInterval time.Duration
}

func (c *Config) withDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.LinkTokenTTL, 182*24*time.Hour)
	setDefault(&c.RefusalWindow, 90*time.Second)
	setDefault(&c.BlockFor, 24*time.Hour)
	setDefault(&c.ConsentRequestTTL, 24*time.Hour)
	setDefault(&c.SweepInterval, 30*time.Second)
	if c.MaxTokenRefusals == 0 {
		c.MaxTokenRefusals = 3
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (c Config) validate() error {
	switch {
	case c.Gateway == nil:
		return errors.New("Gateway is required")
	case c.LinkTokenKey == nil:
		return errors.New("LinkTokenKey is required")
	case c.MaxTokenRefusals < 0:
		return errors.New("MaxTokenRefusals cannot be negative")
	case c.ContextNotifyLag < 0:
		return errors.New("ContextNotifyLag cannot be negative")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"LinkTokenTTL", c.LinkTokenTTL}, {"RefusalWindow", c.RefusalWindow},
		{"BlockFor", c.BlockFor}, {"ConsentRequestTTL", c.ConsentRequestTTL},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s cannot be negative", d.name)
		}
	}
	for i, p := range c.Patients {
		if !strings.Contains(p.ABHAAddress, "@") {
			return fmt.Errorf("Patients[%d].ABHAAddress %q is not an ABHA address (name@suffix)", i, p.ABHAAddress)
		}
	}
	return nil
}

// Errors of the Go and control APIs, for errors.Is. The control API maps
// them to 404, 400 and 409.
var (
	ErrNotFound = errors.New("cm: not found")
	ErrInvalid  = errors.New("cm: invalid input")
	ErrConflict = errors.New("cm: not allowed in the current state")
)

// CM is the consent manager inside the simulated gateway. It is safe for
// concurrent use.
type CM struct {
	cfg    Config
	gw     Gateway
	log    *slog.Logger
	prefix string // gateway mount path, "" at the root
	signer jose.Signer
	kid    string

	ctx     context.Context // outlives requests; cancelled by Close
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	state
}

// state is everything Reset forgets.
type state struct {
	preflights map[string]*preflight // by REQUEST-ID
	refusals   []Refusal

	shares       []*Share
	shareByReq   map[string]*Share
	tokens       []*LinkToken
	tokenRefused map[string]time.Time   // hip|canonical body → refused at
	tokenFails   map[string][]time.Time // hip|address → refusals
	blocks       map[string]Block       // hip|address
	links        []*LinkedCareContext

	discoveries   []*Discovery
	discoveryByTx map[string]*Discovery
	discoveryReq  map[string]*Discovery // discover, init and confirm REQUEST-IDs

	requests    []*ConsentRequest
	requestByID map[string]*ConsentRequest
	consents    []*Consent
	consentByID map[string]*Consent
	notifyReq   map[string]*consentNotice // consent notify delivery REQUEST-ID

	transfers   []*Transfer
	transferByT map[string]*Transfer
	transferReq map[string]*Transfer // HI request delivery REQUEST-ID
	hiNonces    map[string]bool      // consent|HIU nonce of accepted HI requests
	notified    map[string]bool      // transaction|notifier type|id of accepted notifies
}

func newState() state {
	return state{
		preflights:    make(map[string]*preflight),
		shareByReq:    make(map[string]*Share),
		tokenRefused:  make(map[string]time.Time),
		tokenFails:    make(map[string][]time.Time),
		blocks:        make(map[string]Block),
		discoveryByTx: make(map[string]*Discovery),
		discoveryReq:  make(map[string]*Discovery),
		requestByID:   make(map[string]*ConsentRequest),
		consentByID:   make(map[string]*Consent),
		notifyReq:     make(map[string]*consentNotice),
		transferByT:   make(map[string]*Transfer),
		transferReq:   make(map[string]*Transfer),
		hiNonces:      make(map[string]bool),
		notified:      make(map[string]bool),
	}
}

// New builds the consent manager and registers its hooks on the gateway.
// Close stops its sweeper.
func New(cfg Config) (*CM, error) {
	cfg.withDefaults()
	cfg.Patients = slices.Clone(cfg.Patients)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("cm config: %w", err)
	}
	kid, err := keyID(&cfg.LinkTokenKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("cm: %w", err)
	}
	if !slices.ContainsFunc(cfg.Gateway.JWKS().Keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid }) {
		return nil, errors.New("cm config: LinkTokenKey is not in the gateway's JWKS; give the gateway the same key as gateway.Config.LinkTokenKey")
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS512, Key: jose.JSONWebKey{Key: cfg.LinkTokenKey, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("cm: link token signer: %w", err)
	}
	u, err := url.Parse(cfg.Gateway.URL())
	if err != nil {
		return nil, fmt.Errorf("cm: gateway URL: %w", err)
	}
	c := &CM{
		cfg:     cfg,
		gw:      cfg.Gateway,
		log:     cfg.Logger,
		prefix:  strings.TrimSuffix(u.Path, "/"),
		signer:  signer,
		kid:     kid,
		changed: make(chan struct{}),
		state:   newState(),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.registerHooks()
	if cfg.SweepInterval > 0 {
		c.workers.Add(1)
		go c.sweep(cfg.SweepInterval)
	}
	return c, nil
}

// keyID is the RFC 7638 thumbprint the gateway uses as kid.
func keyID(pub *rsa.PublicKey) (string, error) {
	thumb, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("link token key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(thumb), nil
}

func (c *CM) registerHooks() {
	for path, fn := range map[string]gateway.MessageFunc{
		abdm.PathPatientOnShare:                c.onShareAnswer,
		abdm.PathGenerateToken:                 c.onGenerateToken,
		abdm.PathLinkCareContext:               c.onLinkCareContext,
		abdm.PathLinkContextNotify:             c.onContextNotify,
		abdm.PathSMSNotify:                     c.onSMSNotify,
		abdm.PathOnDiscover:                    c.onDiscoverAnswer,
		abdm.PathLinkOnInit:                    c.onLinkInitAnswer,
		abdm.PathLinkOnConfirm:                 c.onLinkConfirmAnswer,
		abdm.PathConsentRequestInit:            c.onConsentInit,
		abdm.PathConsentRequestStatus:          c.onConsentStatus,
		abdm.PathConsentFetch:                  c.onConsentFetch,
		abdm.PathHIPConsentOnNotify:            c.onConsentNotifyAnswer,
		abdm.PathHIUConsentOnNotify:            c.onConsentNotifyAnswer,
		abdm.PathHealthInformationRequest:      c.onHIRequest,
		abdm.PathHIPHealthInformationOnRequest: c.onHIRequestAnswer,
		abdm.PathHealthInformationNotify:       c.onHINotify,
	} {
		c.gw.Handle(path, fn)
	}
}

// Close stops the sweeper and waits for it.
func (c *CM) Close() error {
	c.cancel()
	c.workers.Wait()
	return nil
}

// Reset forgets every share, token, link, discovery, consent and transfer.
// Hooks stay registered.
func (c *CM) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = newState()
	c.changedLocked()
}

func (c *CM) now() time.Time { return c.cfg.Now().UTC() }

// changedLocked wakes every Wait. The caller holds c.mu.
func (c *CM) changedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Wait blocks until cond reports true, re-checking it after every state
// change, or until ctx ends. cond may call the CM's getters.
func (c *CM) Wait(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the consent manager: %w", ctx.Err())
		}
	}
}

func (c *CM) sweep(every time.Duration) {
	defer c.workers.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.ExpireDue(c.ctx)
		}
	}
}

// service finds a registered service and the client that owns it.
func (c *CM) service(id string) (gateway.Service, string, bool) {
	for _, cl := range c.gw.Clients() {
		for _, s := range cl.Services {
			if s.ID == id {
				return s, cl.ID, true
			}
		}
	}
	return gateway.Service{}, "", false
}

// Facility is a registered HIP or HIU service, as the PHR app lists it.
type Facility struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	ClientID string   `json:"client_id"`
	Active   bool     `json:"active"`
}

// HIPs lists the registered services that can be an HIP, in
// registration order.
func (c *CM) HIPs() []Facility {
	var out []Facility
	for _, cl := range c.gw.Clients() {
		for _, s := range cl.Services {
			if slices.Contains(s.Types, gateway.TypeHIP) {
				out = append(out, Facility{ID: s.ID, Name: s.Name, Types: slices.Clone(s.Types), ClientID: cl.ID, Active: !s.Inactive})
			}
		}
	}
	return out
}

func (c *CM) serviceName(id string) string {
	if s, _, ok := c.service(id); ok {
		return s.Name
	}
	return ""
}

// isService reports whether id is an active service of one of types.
func (c *CM) isService(id string, types ...string) bool {
	s, _, ok := c.service(id)
	if !ok || s.Inactive {
		return false
	}
	return slices.ContainsFunc(types, func(t string) bool { return slices.Contains(s.Types, t) })
}

// deliver sends a callback and logs a failure to attempt it; the delivery
// state is returned for the record either way.
func (c *CM) deliver(ctx context.Context, cb gateway.Callback) string {
	d, err := c.gw.Deliver(ctx, cb)
	if err != nil {
		c.log.WarnContext(ctx, "cm callback not delivered", "path", cb.Path, "client", cb.ClientID, "error", err)
		if d.State == "" {
			return gateway.StateFailed
		}
	}
	return d.State
}

// answer delivers the result callback of a bridge call to its caller.
func (c *CM) answer(ctx context.Context, m gateway.Message, path string, body any) string {
	cb := gateway.Callback{ClientID: m.ClientID, Path: path, Body: body, HIPID: m.HIPID}
	if cb.HIPID == "" {
		cb.HIUID = m.HIUID
	}
	return c.deliver(ctx, cb)
}

// errDetail builds the error object of an on-* callback.
func errDetail(code, message string) *abdm.ErrorDetail {
	return &abdm.ErrorDetail{Code: code, Message: message}
}

// statusOK reports a 2xx status.
func statusOK(s int) bool { return s >= http.StatusOK && s < http.StatusMultipleChoices }
