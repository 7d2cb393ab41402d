package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Prefix is where the remote hospital is served: its control API, its
// bridge (Prefix + "/bridge") and its HIU's data push URL.
const Prefix = "/_sandbox/remote"

// Patients is the register the remote hospital knows its patients from.
// *cm.CM implements it.
type Patients interface {
	Patients() []cm.Patient
	Patient(abhaAddress string) (cm.Patient, bool)
}

// Config configures a Hospital. Empty fields take the defaults named.
type Config struct {
	// PublicURL is the sandbox's base URL; the bridge URL and data push
	// URL are built on it. Required.
	PublicURL string
	// GatewayURL is where the hospital calls the gateway. Default
	// PublicURL.
	GatewayURL string
	// ClientID and Secret are the hospital's gateway credentials. Defaults
	// "SBX_CITY_HOSPITAL" and "city-hospital-secret".
	ClientID, Secret string
	// HIPID/HIPName and HIUID/HIUName are its services. Defaults
	// "IN_CITY_HIP" "City Hospital (another group)" and "IN_CITY_HIU"
	// "City Hospital Records".
	HIPID, HIPName string
	HIUID, HIUName string
	// RecordsDir holds the FHIR bundles the HIP serves (e.g.
	// ../shared/testdata/fhir). Empty or absent: the HIP holds no records
	// and its status says so.
	RecordsDir string
	// Patients is the patient register. Required.
	Patients Patients
	// OnlyPatients, when set, limits the patients with records to these
	// ABHA addresses; otherwise every registered patient has some.
	OnlyPatients []string
	// SMS carries the link OTP to the patient's mobile. Optional; without
	// it the OTP is only shown by the control API.
	SMS cm.SMSSender
	// ManualDataRequests stops the HIU from fetching artefacts and asking
	// for data by itself when consent is granted.
	ManualDataRequests bool
	// LinkAtStart links every patient's records with the consent manager
	// the HIP-initiated way (generate-token, link/carecontext), as a
	// hospital does when it registers a visit, so that patients find them
	// linked in the PHR app. It runs in the background after New (and
	// again after Reset): it waits for the gateway to answer, which it
	// need not do yet when New returns, and logs what fails.
	LinkAtStart bool
	// HTTPClient makes the gateway calls and data pushes. Default: 30 s
	// timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

func (c *Config) withDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.GatewayURL, c.PublicURL)
	def(&c.ClientID, "SBX_CITY_HOSPITAL")
	def(&c.Secret, "city-hospital-secret")
	def(&c.HIPID, "IN_CITY_HIP")
	def(&c.HIPName, "City Hospital (another group)")
	def(&c.HIUID, "IN_CITY_HIU")
	def(&c.HIUName, "City Hospital Records")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// GatewayClient is the registration the gateway needs for the hospital:
// add it to gateway.Config.Clients. Defaults apply as in New.
func (c Config) GatewayClient() gateway.Client {
	c.withDefaults()
	return gateway.Client{
		ID: c.ClientID, Secret: c.Secret, Name: "City Hospital", BridgeURL: bridgeURL(c.PublicURL),
		Services: []gateway.Service{
			{ID: c.HIPID, Name: c.HIPName, Types: []string{gateway.TypeHIP}},
			{ID: c.HIUID, Name: c.HIUName, Types: []string{gateway.TypeHIU}},
		},
	}
}

func bridgeURL(public string) string { return strings.TrimSuffix(public, "/") + Prefix + "/bridge" }

// Hospital is "another hospital": a remote HIP with records of the
// sandbox's patients and a remote HIU that asks Sangam's HIPs for theirs.
// It is a real bridge: the gateway calls it over HTTP and it answers with
// Sangam's ABDM client. It is safe for concurrent use.
type Hospital struct {
	cfg      Config
	log      *slog.Logger
	client   *abdm.Client
	verifier *abdm.Verifier
	bundles  []bundle
	byFile   map[string]*bundle
	mux      *http.ServeMux

	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu          sync.Mutex
	changed     chan struct{}
	stopLinking context.CancelFunc // the linking at start in progress, if any
	state
}

// state is everything Reset forgets.
type state struct {
	seen map[string]bool // callback REQUEST-IDs, to drop redeliveries

	linked     map[string]bool // address|care context ref
	tokens     map[string]string
	tokenCalls map[string]*HIPLink // generate-token / link REQUEST-ID → link job
	hipLinks   []*HIPLink
	shareSeq   int                  // queue tokens issued
	inits      map[string]*linkInit // link reference → pending user-initiated link
	hipConsent map[string]*HIPConsent
	hipXfers   []*HIPTransfer

	requests    []*ConsentRequest
	reqByCall   map[string]*ConsentRequest // init REQUEST-ID
	reqByID     map[string]*ConsentRequest
	artefacts   map[string]*Artefact
	fetchCalls  map[string]string // fetch REQUEST-ID → artefact id
	dataReqs    map[string]*DataRequest
	dataByCall  map[string]*DataRequest // HI request REQUEST-ID
	received    []Received
	receivedSeq int
}

func newState() state {
	return state{
		seen: make(map[string]bool), linked: make(map[string]bool), tokens: make(map[string]string),
		tokenCalls: make(map[string]*HIPLink), inits: make(map[string]*linkInit), hipConsent: make(map[string]*HIPConsent),
		reqByCall: make(map[string]*ConsentRequest), reqByID: make(map[string]*ConsentRequest),
		artefacts: make(map[string]*Artefact), fetchCalls: make(map[string]string),
		dataReqs: make(map[string]*DataRequest), dataByCall: make(map[string]*DataRequest),
	}
}

// New builds the hospital and loads its records. It calls nothing until a
// callback or a control request arrives.
func New(cfg Config) (*Hospital, error) {
	cfg.withDefaults()
	if cfg.Patients == nil {
		return nil, errors.New("remote config: Patients is required")
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("remote config: PublicURL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	bundles, err := loadBundles(cfg.RecordsDir)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	client, err := abdm.New(abdm.Config{
		GatewayURL: cfg.GatewayURL, CMID: abdm.CMSandbox, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: cfg.ClientID, ClientSecret: cfg.Secret}, nil
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	h := &Hospital{
		cfg: cfg, log: cfg.Logger, client: client, verifier: verifier, bundles: bundles,
		byFile: make(map[string]*bundle, len(bundles)), changed: make(chan struct{}), state: newState(),
	}
	for i := range h.bundles {
		h.byFile[h.bundles[i].file] = &h.bundles[i]
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.mux = h.routes()
	if cfg.LinkAtStart {
		h.startLinking()
	}
	return h, nil
}

// Close stops answering and waits for answers in progress.
func (h *Hospital) Close() error {
	h.mu.Lock()
	h.cancel() // under mu, so spawn cannot add a worker after Wait starts
	h.mu.Unlock()
	h.workers.Wait()
	return nil
}

// Reset forgets links, consents, requests and received data. Records stay
// loaded. With LinkAtStart, the records are linked again in the
// background.
func (h *Hospital) Reset() {
	h.mu.Lock()
	h.state = newState()
	h.changedLocked()
	h.mu.Unlock()
	if h.cfg.LinkAtStart {
		h.startLinking()
	}
}

// ServeHTTP serves the bridge, the data push URL and the control API
// under Prefix.
func (h *Hospital) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Hospital) now() time.Time { return h.cfg.Now().UTC() }

func (h *Hospital) changedLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// Wait blocks until cond holds (re-checked on every change) or ctx ends.
func (h *Hospital) Wait(ctx context.Context, cond func() bool) error {
	for {
		h.mu.Lock()
		ch := h.changed
		h.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the remote hospital: %w", ctx.Err())
		}
	}
}

// spawn runs fn in the background, as a bridge answers from a job after
// acknowledging; Close waits for it.
func (h *Hospital) spawn(fn func(ctx context.Context)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return
	}
	h.workers.Add(1)
	go func() {
		defer h.workers.Done()
		fn(h.ctx)
	}()
}

// call sends a gateway request as the hospital.
func (h *Hospital) call(ctx context.Context, r abdm.Request) (*abdm.Response, error) {
	r.Tenant = h.cfg.ClientID
	resp, err := h.client.Do(ctx, r)
	if err != nil {
		h.log.WarnContext(ctx, "remote hospital: gateway call failed", "path", r.Path, "error", err)
		return resp, fmt.Errorf("remote hospital calling %s: %w", r.Path, err)
	}
	return resp, nil
}

// HIPID and HIUID are the hospital's service ids.
func (h *Hospital) HIPID() string { return h.cfg.HIPID }

// HIUID is the hospital's HIU service id.
func (h *Hospital) HIUID() string { return h.cfg.HIUID }

// Status says what the hospital serves.
type Status struct {
	ClientID   string `json:"client_id"`
	BridgeURL  string `json:"bridge_url"`
	HIPID      string `json:"hip_id"`
	HIPName    string `json:"hip_name"`
	HIUID      string `json:"hiu_id"`
	HIUName    string `json:"hiu_name"`
	RecordsDir string `json:"records_dir"`
	Bundles    int    `json:"bundles"`
	// Records explains what the HIP can serve, in words.
	Records string `json:"records"`
}

// Status reports the hospital's identity and records.
func (h *Hospital) Status() Status {
	s := Status{
		ClientID: h.cfg.ClientID, BridgeURL: bridgeURL(h.cfg.PublicURL), HIPID: h.cfg.HIPID, HIPName: h.cfg.HIPName,
		HIUID: h.cfg.HIUID, HIUName: h.cfg.HIUName, RecordsDir: h.cfg.RecordsDir, Bundles: len(h.bundles),
	}
	switch {
	case h.cfg.RecordsDir == "":
		s.Records = "no records directory configured: the remote HIP serves nothing"
	case len(h.bundles) == 0:
		s.Records = fmt.Sprintf("no FHIR document bundles found in %s (absent or empty): the remote HIP serves nothing", h.cfg.RecordsDir)
	default:
		s.Records = fmt.Sprintf("%d example bundles from %s, one per record type for each patient", len(h.bundles), h.cfg.RecordsDir)
	}
	return s
}

// Records lists the records the HIP holds for a patient (every patient
// when abhaAddress is "").
func (h *Hospital) Records(abhaAddress string) []Record {
	var out []Record
	for _, addr := range h.patientsWithRecords() {
		if abhaAddress != "" && !strings.EqualFold(addr, abhaAddress) {
			continue
		}
		recs := recordsFor(addr, h.bundles)
		h.mu.Lock()
		for i := range recs {
			recs[i].Linked = h.linked[linkKey(addr, recs[i].CareContextReference)]
		}
		h.mu.Unlock()
		out = append(out, recs...)
	}
	if out == nil {
		out = []Record{}
	}
	return out
}

func (h *Hospital) patientsWithRecords() []string {
	if len(h.bundles) == 0 {
		return nil
	}
	if len(h.cfg.OnlyPatients) > 0 {
		return h.cfg.OnlyPatients
	}
	var out []string
	for _, p := range h.cfg.Patients.Patients() {
		out = append(out, p.ABHAAddress)
	}
	return out
}

func linkKey(addr, ref string) string { return strings.ToLower(addr) + "|" + ref }
