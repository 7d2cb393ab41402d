package hip

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/jobs"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// m2Secrets is an in-memory bridge.ClientSecrets.
type m2Secrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *m2Secrets) PutClientSecret(_ context.Context, tenant string, secret []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[tenant] = secret
	return nil
}

func (s *m2Secrets) ClientSecret(_ context.Context, tenant string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[tenant]; ok {
		return v, nil
	}
	return nil, bridge.ErrNoCredentials
}

// m2Stoppable is a source system that can be stopped: its calls then fail
// as an unreachable source's do.
type m2Stoppable struct {
	sources.Connector
	stopped *atomic.Bool
	slow    *atomic.Bool
}

func (s m2Stoppable) CareContexts(ctx context.Context, patientID string, from, to time.Time) ([]sources.CareContext, error) {
	if s.slow.Load() {
		<-ctx.Done() // a source hanging past any deadline
		return nil, ctx.Err()
	}
	return s.Connector.CareContexts(ctx, patientID, from, to)
}

func (s m2Stoppable) Fetch(ctx context.Context, ref sources.ContextRef) (*sources.Content, error) {
	if s.stopped.Load() {
		return nil, sources.ErrUnavailable
	}
	return s.Connector.Fetch(ctx, ref)
}

// m2StoppableSources hands out monitors whose connector can be stopped.
type m2StoppableSources struct {
	reg     *sources.Registry
	stopped map[string]*atomic.Bool // by source system id
	slow    map[string]*atomic.Bool
}

func (s *m2StoppableSources) Source(ctx context.Context, tenant, id string) (*sources.Monitor, error) {
	mon, err := s.reg.Source(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	flag := s.stopped[id]
	if flag == nil {
		return mon, nil
	}
	return sources.NewMonitor(mon.System(), m2Stoppable{Connector: mon, stopped: flag, slow: s.slow[id]}, sources.MonitorConfig{}), nil
}

// m2SMS records the OTPs it is asked to send, as a patient's phone would
// receive them.
type m2SMS struct {
	mu   sync.Mutex
	sent map[string]string // mobile -> last OTP
}

func (s *m2SMS) SendLinkOTP(_ context.Context, _, mobile, otp string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]string{}
	}
	s.sent[mobile] = otp
	return nil
}

func (s *m2SMS) last(mobile string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[mobile]
}

type m2Harness struct {
	sms      *m2SMS
	db       *databasetest.DB
	tenant   string
	slug     string
	hipID    string
	facility string
	gw       *abdmtest.Gateway // nil with the sandbox
	sandbox  *gateway.Gateway  // nil without it
	signer   *abdmtest.Signer
	bridge   *bridge.Bridge
	srcs     *m2StoppableSources
	systems  map[string]sources.System // by code
	m2       *M2
	index    *patients.Index
}

func newM2Harness(t testing.TB) *m2Harness { return newM2HarnessWith(t, false) }

// newM2HarnessWith builds the harness against the sandbox gateway
// (e2e/sandbox/gateway: checks on-* answers against its deliveries) when
// sandbox is set, else against abdmtest's recording gateway.
func newM2HarnessWith(t testing.TB, sandbox bool) *m2Harness {
	t.Helper()
	ctx := context.Background()
	h := &m2Harness{db: databasetest.New(t), sms: &m2SMS{}}
	res, err := demo.Load(ctx, h.db.Owner, demo.KaveriHealth())
	if err != nil {
		t.Fatal(err)
	}
	h.tenant = res.TenantID
	if _, err := demo.LoadSources(ctx, h.db.Owner, demo.KaveriHealth(), "DATABASE_URL"); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", h.tenant).Scan(&h.slug); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Owner.QueryRow(ctx, "SELECT id::text, hip_id FROM facilities WHERE tenant_id = $1 AND hfr_id = 'IN2910000231'",
		h.tenant).Scan(&h.facility, &h.hipID); err != nil {
		t.Fatal(err)
	}

	quiet := slog.New(slog.DiscardHandler)
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return h.db.URL, true
		}
		return "", false
	}})
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: h.db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); opener.Close() })
	systems, err := reg.Systems(ctx, h.tenant, h.facility)
	if err != nil {
		t.Fatal(err)
	}
	h.systems = map[string]sources.System{}
	h.srcs = &m2StoppableSources{reg: reg, stopped: map[string]*atomic.Bool{}, slow: map[string]*atomic.Bool{}}
	for _, s := range systems {
		h.systems[s.Code] = s
		h.srcs.stopped[s.ID] = new(atomic.Bool)
		h.srcs.slow[s.ID] = new(atomic.Bool)
	}
	h.index = patients.New(h.db.App, patients.Config{})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + ln.Addr().String()
	gatewayURL := ""
	if sandbox {
		gln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gatewayURL = "http://" + gln.Addr().String()
		h.sandbox, err = gateway.New(gateway.Config{
			PublicURL: gatewayURL, Logger: quiet,
			Clients: []gateway.Client{{ID: "SBX_KAVERI", Secret: "kaveri-secret", BridgeURL: publicURL + "/bridge/" + h.slug,
				Services: []gateway.Service{{ID: h.hipID, Name: "Kaveri", Types: []string{gateway.TypeHIP}}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h.sandbox}
		go func() { _ = srv.Serve(gln) }()
		t.Cleanup(func() { _ = h.sandbox.Close(); _ = srv.Close() })
	} else {
		h.gw = abdmtest.NewGateway(t)
		h.gw.AddClient("SBX_KAVERI", "kaveri-secret")
		if h.signer, err = abdmtest.NewSigner(); err != nil {
			t.Fatal(err)
		}
		h.gw.SetKeys(h.signer.PublicJWK())
		gatewayURL = h.gw.URL
	}
	creds := bridge.NewCredentials(h.db.App, &m2Secrets{})
	client, err := abdm.New(abdm.Config{GatewayURL: gatewayURL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	queue := "hip_m2_test"
	h.bridge, err = bridge.New(bridge.Config{Pool: h.db.App, Gateway: client, Verifier: verifier, Credentials: creds,
		PublicURL: publicURL, Logger: quiet, Queue: queue,
		RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.bridge.SetCredentials(ctx, h.tenant, "SBX_KAVERI", []byte("kaveri-secret")); err != nil {
		t.Fatal(err)
	}
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h.m2, err = NewM2(M2Config{Pool: h.db.App, Bridge: h.bridge, Sources: h.srcs, Builder: builder,
		Patients: h.index, OTPSender: h.sms, DiscoverTimeout: 500 * time.Millisecond,
		Queue: queue, Logger: quiet, PushPageBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.m2.Register(); err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	h.bridge.Register(app)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	workers := river.NewWorkers()
	if _, err := h.bridge.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	if err := h.m2.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	// The bridge queue as serve runs it, so that benchmarks measure what
	// production does.
	rc, err := jobs.New(h.db.App, jobs.Config{Workers: workers,
		Queues: map[string]river.QueueConfig{queue: jobs.InteractiveQueue(10)}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.Stop(ctx)
	})
	return h
}

// deliver posts a signed gateway callback to the tenant's bridge and
// returns its REQUEST-ID.
func (h *m2Harness) deliver(t *testing.T, routeName string, body any) string {
	t.Helper()
	var route abdm.CallbackRoute
	for _, r := range abdm.CallbackRoutes() {
		if r.Name == routeName {
			route = r
		}
	}
	if h.sandbox != nil {
		d, err := h.sandbox.Deliver(context.Background(), gateway.Callback{Path: route.Path, HIPID: h.hipID, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if d.State != gateway.StateDelivered {
			t.Fatalf("%s: delivery %s: %+v", routeName, d.State, d.Attempts)
		}
		return d.RequestID
	}
	req, id, err := abdmtest.NewCallbackRequest(context.Background(), h.signer, h.bridge.BridgeURL(h.slug), route, h.hipID, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: bridge answered %d %s", routeName, resp.StatusCode, b)
	}
	return id
}

// waitGateway waits for a call to path whose body satisfies match.
func (h *m2Harness) waitGateway(t *testing.T, path string, match func([]byte) bool) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if h.sandbox != nil {
			// Only answers the sandbox accepted count.
			for _, m := range h.sandbox.Messages(gateway.Filter{}) {
				if strings.HasSuffix(m.Path, path) && match(m.Body) {
					if m.Status/100 != 2 {
						t.Fatalf("sandbox refused %s: %d %s %s", path, m.Status, m.ErrorCode, m.Body)
					}
					return m.Body
				}
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		for _, r := range h.gw.RequestsTo("/api/hiecm" + path) {
			if match(r.Body) {
				return r.Body
			}
		}
		for _, r := range h.gw.RequestsTo(path) {
			if match(r.Body) {
				return r.Body
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no gateway call to %s matched", path)
	return nil
}

// notifyConsent delivers a consent notification and waits until it has
// been processed (its on-notify is queued in the processing transaction).
func (h *m2Harness) notifyConsent(t *testing.T, body abdm.HIPConsentNotifyRequest) {
	t.Helper()
	id := h.deliver(t, routeConsentNotify, body)
	h.waitGateway(t, abdm.PathHIPConsentOnNotify, respondsTo(id))
}

func respondsTo(id string) func([]byte) bool {
	return func(b []byte) bool { return strings.Contains(string(b), `"requestId":"`+id+`"`) }
}

// registerContexts puts the first patient of system code with care
// contexts of hiType into the register, as polling would, and returns them.
func (h *m2Harness) registerContexts(t testing.TB, code string, hiType sources.HIType, n int) []sources.CareContext {
	t.Helper()
	ctx := context.Background()
	sys := h.systems[code]
	mon, err := h.srcs.reg.Source(ctx, h.tenant, sys.ID)
	if err != nil {
		t.Fatal(err)
	}
	pats, err := mon.ListPatients(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []sources.CareContext
	for _, p := range pats {
		ccs, err := mon.CareContexts(ctx, p.LocalID, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ccs {
			if c.HIType == hiType && len(out) < n {
				out = append(out, c)
			}
		}
		if len(out) >= n {
			break
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s care context in %s", hiType, code)
	}
	err = database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
		for _, c := range out {
			if _, _, err := sources.UpsertCareContext(ctx, tx, sys.ID, c, sources.FoundViaPoll); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func consentBody(id, status string, refs []sources.CareContext, from, to, erase time.Time) abdm.HIPConsentNotifyRequest {
	var ccs []abdm.CareContextRef
	hiTypes := map[abdm.HIType]bool{}
	for _, c := range refs {
		ccs = append(ccs, abdm.CareContextRef{PatientReference: c.PatientID, CareContextReference: c.Reference})
		hiTypes[abdm.HIType(c.HIType)] = true
	}
	var types []abdm.HIType
	for t := range hiTypes {
		types = append(types, t)
	}
	purpose, _ := abdm.PurposeOf(abdm.PurposeCareManagement)
	return abdm.HIPConsentNotifyRequest{Notification: abdm.HIPConsentNotification{
		Status: abdm.ConsentStatus(status), ConsentID: id,
		ConsentDetail: &abdm.ConsentDetail{
			SchemaVersion: "v3", ConsentID: id, CreatedAt: abdm.NewTime(time.Now()),
			Patient: abdm.Ref{ID: "asha.rao@sbx"}, CareContexts: ccs, Purpose: purpose,
			HIU: abdm.Party{ID: "HIU-TEST"}, ConsentManager: abdm.Ref{ID: "sbx"},
			Requester: abdm.Requester{Name: "Dr. A"}, HITypes: types,
			Permission: abdm.Permission{AccessMode: abdm.AccessView,
				DateRange:   abdm.DateRange{From: abdm.NewTime(from), To: abdm.NewTime(to)},
				DataEraseAt: abdm.NewTime(erase), Frequency: abdm.Frequency{Unit: abdm.FrequencyHour, Value: 1}},
		},
	}}
}

// hiu is a remote HIU receiving pushes and decrypting them.
type hiu struct {
	key   *fidelius.PrivateKey
	nonce fidelius.Nonce
	srv   *httptest.Server
	gate  *nrces.Gate
	t     *testing.T

	mu      sync.Mutex
	pages   []abdm.DataPushRequest
	bundles map[string][]byte // by care-context reference
	errs    []error
}

func newHIU(t *testing.T) *hiu {
	k, err := fidelius.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	g, err := nrces.NewGate()
	if err != nil {
		t.Fatal(err)
	}
	u := &hiu{key: k, nonce: fidelius.NewNonce(), gate: g, t: t, bundles: map[string][]byte{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.push))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *hiu) push(w http.ResponseWriter, r *http.Request) {
	var p abdm.DataPushRequest
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.pages = append(u.pages, p)
	senderKey, senderNonce, err := transferPeerKey(p.KeyMaterial).Parse()
	if err != nil {
		u.errs = append(u.errs, err)
		w.WriteHeader(202)
		return
	}
	for _, e := range p.Entries {
		plain, err := fidelius.Decrypt(u.key, senderKey, senderNonce, u.nonce, e.Content)
		if err != nil {
			u.errs = append(u.errs, err)
			continue
		}
		u.bundles[e.CareContextReference] = plain
	}
	w.WriteHeader(http.StatusAccepted)
}

func (u *hiu) request(consentID, txn string, from, to time.Time) abdm.HIPHealthInformationRequest {
	return abdm.HIPHealthInformationRequest{TransactionID: txn, HIRequest: abdm.HIRequest{
		Consent: abdm.Ref{ID: consentID}, DateRange: abdm.DateRange{From: abdm.NewTime(from), To: abdm.NewTime(to)},
		DataPushURL: u.srv.URL + "/data/push/" + consentID,
		KeyMaterial: abdm.KeyMaterial{CryptoAlg: "ECDH", Curve: "Curve25519", Nonce: u.nonce.String(),
			DHPublicKey: abdm.DHPublicKey{Expiry: abdm.NewTime(time.Now().Add(time.Hour)), Parameters: "Curve25519/32byte random key",
				KeyValue: u.key.PublicKey().Raw()}},
	}}
}

func decodeNotify(t *testing.T, b []byte) abdm.HealthInformationNotification {
	var n abdm.HealthInformationNotifyRequest
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	return n.Notification
}

func TestM2ConsentAndTransfer(t *testing.T) {
	h := newM2Harness(t)
	ctx := context.Background()
	op := h.registerContexts(t, "his", sources.OPConsultation, 2)
	lab := h.registerContexts(t, "lims", sources.DiagnosticReport, 2)
	// An imaging study with its key image (the first one is left for the
	// review case below, which takes its key image away).
	ris := h.registerContexts(t, "ris", sources.DiagnosticReport, 2)[1:]
	all := append(append(append([]sources.CareContext{}, op...), lab...), ris...)
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour)
	erase := time.Now().Add(24 * time.Hour)

	// Consent notify: stored, on-notify answers it.
	nid := h.deliver(t, routeConsentNotify, consentBody("c-granted", "GRANTED", all, from, to, erase))
	var ack abdm.HIPConsentOnNotifyRequest
	if err := json.Unmarshal(h.waitGateway(t, abdm.PathHIPConsentOnNotify, respondsTo(nid)), &ack); err != nil {
		t.Fatal(err)
	}
	if ack.Error != nil || ack.Acknowledgement.Status != abdm.AckOK || ack.Acknowledgement.ConsentID != "c-granted" {
		t.Fatalf("on-notify = %+v", ack)
	}
	var status string
	var n int
	err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT status, jsonb_array_length(care_contexts) FROM hip_consents WHERE consent_id = 'c-granted'`).Scan(&status, &n)
	})
	if err != nil || status != "GRANTED" || n != len(all) {
		t.Fatalf("stored consent: %q %d %v", status, n, err)
	}

	t.Run("transfer from two sources", func(t *testing.T) {
		u := newHIU(t)
		rid := h.deliver(t, routeHIRequest, u.request("c-granted", "txn-ok", from, to))
		var onReq abdm.HealthInformationOnRequest
		if err := json.Unmarshal(h.waitGateway(t, abdm.PathHIPHealthInformationOnRequest, respondsTo(rid)), &onReq); err != nil {
			t.Fatal(err)
		}
		if onReq.Error != nil || onReq.HIRequest == nil || onReq.HIRequest.SessionStatus != abdm.SessionAcknowledged {
			t.Fatalf("on-request = %+v", onReq)
		}
		nt := decodeNotify(t, h.waitGateway(t, abdm.PathHealthInformationNotify, func(b []byte) bool { return strings.Contains(string(b), "txn-ok") }))
		u.mu.Lock()
		defer u.mu.Unlock()
		if len(u.errs) > 0 {
			t.Fatalf("HIU could not decrypt: %v", u.errs)
		}
		delivered := 0
		for _, s := range nt.StatusNotification.StatusResponses {
			if s.HIStatus == abdm.HIStatusDelivered {
				delivered++
				b, ok := u.bundles[s.CareContextReference]
				if !ok {
					t.Errorf("%s reported delivered but not received", s.CareContextReference)
					continue
				}
				fs, err := u.gate.Check(ctx, b)
				if err != nil || nrces.HasErrors(fs) {
					t.Errorf("%s: received bundle fails the gate: %v %v", s.CareContextReference, err, fs)
				}
			} else {
				t.Logf("%s: %s %s", s.CareContextReference, s.HIStatus, s.Description)
			}
		}
		if nt.StatusNotification.SessionStatus != abdm.SessionTransferred || delivered != len(all) {
			t.Fatalf("notify: %s, %d of %d delivered", nt.StatusNotification.SessionStatus, delivered, len(all))
		}
		if len(u.pages) < 2 || u.pages[0].PageNumber != 1 || u.pages[0].PageCount != len(u.pages) {
			t.Fatalf("pages: %d, first %d/%d", len(u.pages), u.pages[0].PageNumber, u.pages[0].PageCount)
		}
	})

	t.Run("stopped source fails its care contexts and flags the transfer partial", func(t *testing.T) {
		h.srcs.stopped[h.systems["lims"].ID].Store(true)
		defer h.srcs.stopped[h.systems["lims"].ID].Store(false)
		u := newHIU(t)
		h.deliver(t, routeHIRequest, u.request("c-granted", "txn-partial", from, to))
		nt := decodeNotify(t, h.waitGateway(t, abdm.PathHealthInformationNotify, func(b []byte) bool { return strings.Contains(string(b), "txn-partial") }))
		for _, s := range nt.StatusNotification.StatusResponses {
			isLab := strings.HasPrefix(s.CareContextReference, "lims:")
			if isLab != (s.HIStatus == abdm.HIStatusErrored) || (isLab && s.Description == "") {
				t.Errorf("%s: %s %q", s.CareContextReference, s.HIStatus, s.Description)
			}
		}
		var partial bool
		var state string
		err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT state, partial FROM hip_transfers WHERE transaction_id = 'txn-partial'`).Scan(&state, &partial)
		})
		if err != nil || state != "transferred" || !partial {
			t.Fatalf("transfer row: %s partial=%v %v", state, partial, err)
		}
		u.mu.Lock()
		defer u.mu.Unlock()
		for ref := range u.bundles {
			if strings.HasPrefix(ref, "lims:") {
				t.Errorf("lab context %s was pushed from a stopped source", ref)
			}
		}
	})

	t.Run("a bundle the gate refuses goes to review, not to the HIU", func(t *testing.T) {
		// A study the radiologist marked no key image for: its report
		// lacks the media the DiagnosticReportImaging profile requires.
		ris := h.registerContexts(t, "ris", sources.DiagnosticReport, 1)
		if _, err := h.db.Owner.Exec(ctx, `UPDATE demo_radview.study SET key_image = NULL WHERE accession = $1`, ris[0].LocalID); err != nil {
			t.Fatal(err)
		}
		mixed := append([]sources.CareContext{op[0]}, ris...)
		h.notifyConsent(t, consentBody("c-mixed", "GRANTED", mixed, from, to, erase))
		u := newHIU(t)
		h.deliver(t, routeHIRequest, u.request("c-mixed", "txn-mixed", from, to))
		nt := decodeNotify(t, h.waitGateway(t, abdm.PathHealthInformationNotify, func(b []byte) bool { return strings.Contains(string(b), "txn-mixed") }))
		got := map[string]string{}
		for _, s := range nt.StatusNotification.StatusResponses {
			got[s.CareContextReference] = s.HIStatus
		}
		if got[op[0].Reference] != abdm.HIStatusDelivered || got[ris[0].Reference] != abdm.HIStatusErrored {
			t.Fatalf("statuses %v", got)
		}
		var reviews int
		err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM hip_review WHERE reference = $1 AND jsonb_array_length(findings) > 0`, ris[0].Reference).Scan(&reviews)
		})
		if err != nil || reviews != 1 {
			t.Fatalf("review rows: %d %v", reviews, err)
		}
		u.mu.Lock()
		defer u.mu.Unlock()
		if _, sent := u.bundles[ris[0].Reference]; sent {
			t.Fatal("a refused bundle reached the HIU")
		}
	})

	t.Run("a transfer that keeps failing ends FAILED, not silent", func(t *testing.T) {
		var id int64
		err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO hip_transfers (tenant_id, facility_id, hip_id, transaction_id, consent_id, request_id, request)
				VALUES ($1, $2, $3, 'txn-giveup', 'c-granted', 'r', '{}') RETURNING id`, h.tenant, h.facility, h.hipID).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.m2.transferGiveUp(ctx, TransferArgs{Tenant: h.tenant, Transfer: id}, errors.New("source timed out")); err != nil {
			t.Fatal(err)
		}
		nt := decodeNotify(t, h.waitGateway(t, abdm.PathHealthInformationNotify, func(b []byte) bool { return strings.Contains(string(b), "txn-giveup") }))
		if nt.StatusNotification.SessionStatus != abdm.SessionFailed || len(nt.StatusNotification.StatusResponses) != len(all) {
			t.Fatalf("notify %+v", nt.StatusNotification)
		}
		for _, s := range nt.StatusNotification.StatusResponses {
			if s.HIStatus != abdm.HIStatusErrored {
				t.Errorf("%s: %s", s.CareContextReference, s.HIStatus)
			}
		}
	})

	for _, tc := range []struct {
		name, consent, status string
		erase                 time.Time
	}{
		{"revoked consent serves nothing", "c-revoked", "REVOKED", erase},
		{"expired consent serves nothing", "c-expired", "GRANTED", time.Now().Add(-time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.notifyConsent(t, consentBody(tc.consent, "GRANTED", all, from, to, erase))
			if tc.status == "REVOKED" {
				h.notifyConsent(t, consentBody(tc.consent, "REVOKED", all, from, to, erase))
			} else {
				h.notifyConsent(t, consentBody(tc.consent, "GRANTED", all, from, to, tc.erase))
			}
			u := newHIU(t)
			rid := h.deliver(t, routeHIRequest, u.request(tc.consent, "txn-"+tc.consent, from, to))
			var onReq abdm.HealthInformationOnRequest
			if err := json.Unmarshal(h.waitGateway(t, abdm.PathHIPHealthInformationOnRequest, respondsTo(rid)), &onReq); err != nil {
				t.Fatal(err)
			}
			if onReq.Error == nil || onReq.HIRequest != nil {
				t.Fatalf("on-request = %+v, want an error", onReq)
			}
			// Refused in the same transaction that would have queued the
			// transfer job: no job exists, so nothing can be pushed.
			var state string
			var jobs int
			err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `SELECT state FROM hip_transfers WHERE transaction_id = $1`, "txn-"+tc.consent).Scan(&state)
			})
			if err == nil {
				err = h.db.Owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'hip_transfer' AND args->>'transfer' =
					(SELECT id::text FROM hip_transfers WHERE transaction_id = $1)`, "txn-"+tc.consent).Scan(&jobs)
			}
			if err != nil || state != "refused" || jobs != 0 {
				t.Fatalf("transfer state %q, %d jobs, %v", state, jobs, err)
			}
			u.mu.Lock()
			defer u.mu.Unlock()
			if len(u.pages) != 0 {
				t.Fatalf("%d pages pushed on a %s consent", len(u.pages), tc.status)
			}
		})
	}
}

// TestTransferFetchNeedsValidatedGrant: the fetch refuses a grant that
// validation did not produce, and validation refuses revoked, expired and
// out-of-range requests.
func TestTransferFetchNeedsValidatedGrant(t *testing.T) {
	reg := sources.Registered{CareContext: sources.CareContext{Reference: "his:opd:1", HIType: sources.OPConsultation, Date: time.Now()}}
	if _, err := transferFetch(context.Background(), &consentGrant{hiTypes: []string{"OPConsultation"}}, nil, reg); !errors.Is(err, errNotValidated) {
		t.Fatalf("fetch with a hand-made grant: %v", err)
	}
	if _, err := transferFetch(context.Background(), nil, nil, reg); !errors.Is(err, errNotValidated) {
		t.Fatalf("fetch with no grant: %v", err)
	}
	now := time.Now()
	a := consentArtefact{ID: "c", FacilityID: "f", Status: "GRANTED", HITypes: []string{"OPConsultation"},
		CareContexts: []abdm.CareContextRef{{CareContextReference: "his:opd:1"}},
		From:         now.Add(-48 * time.Hour), To: now, EraseAt: now.Add(time.Hour)}
	within := abdm.DateRange{From: abdm.NewTime(now.Add(-24 * time.Hour)), To: abdm.NewTime(now.Add(-time.Hour))}
	if _, err := consentValidate(a, "f", within, now); err != nil {
		t.Fatalf("valid consent refused: %v", err)
	}
	for name, mutate := range map[string]func(*consentArtefact, *abdm.DateRange){
		"revoked":     func(a *consentArtefact, _ *abdm.DateRange) { a.Status = "REVOKED" },
		"expired":     func(a *consentArtefact, _ *abdm.DateRange) { a.Status = "EXPIRED" },
		"erased":      func(a *consentArtefact, _ *abdm.DateRange) { a.EraseAt = now.Add(-time.Second) },
		"other HIP":   func(a *consentArtefact, _ *abdm.DateRange) { a.FacilityID = "g" },
		"wider range": func(_ *consentArtefact, r *abdm.DateRange) { r.From = abdm.NewTime(now.Add(-72 * time.Hour)) },
		"unknown":     func(a *consentArtefact, _ *abdm.DateRange) { *a = consentArtefact{} },
	} {
		b, r := a, within
		mutate(&b, &r)
		if g, err := consentValidate(b, "f", r, now); err == nil || g != nil {
			t.Errorf("%s: validated", name)
		}
	}
}

// ingest puts every patient of the facility's systems into the index.
func (h *m2Harness) ingest(t *testing.T, codes ...string) map[string][]patients.SourceRecord {
	t.Helper()
	ctx := context.Background()
	out := map[string][]patients.SourceRecord{}
	for _, code := range codes {
		sys := h.systems[code]
		mon, err := h.srcs.reg.Source(ctx, h.tenant, sys.ID)
		if err != nil {
			t.Fatal(err)
		}
		after := ""
		for {
			recs, err := mon.ListPatients(ctx, after, 200)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				r.FacilityID, r.SourceSystemID = h.facility, sys.ID
				if _, err := h.index.Ingest(ctx, h.tenant, r); err != nil {
					t.Fatal(err)
				}
				out[code] = append(out[code], r)
			}
			after = recs[len(recs)-1].LocalID
		}
	}
	return out
}

func TestM2Discovery(t *testing.T) {
	h := newM2Harness(t)
	ctx := context.Background()
	recs := h.ingest(t, "his", "lims")
	// A patient with an ABHA address whose master holds records in both
	// the HIS and the LIMS.
	var who patients.SourceRecord
	var master patients.Patient
	for _, r := range recs["his"] {
		if r.ABHAAddress == "" {
			continue
		}
		m, err := h.index.Find(ctx, h.tenant, patients.Query{ABHAAddress: r.ABHAAddress, Name: r.Name, Gender: r.Gender, BirthYear: r.BirthYear})
		if err != nil || m.Status != patients.MatchExact {
			continue
		}
		codes := map[string]bool{}
		for _, l := range m.Patient.Links {
			codes[l.SourceCode] = true
		}
		if codes["his"] && codes["lims"] {
			who, master = r, m.Patient
			break
		}
	}
	if master.ID == "" {
		t.Fatal("no demo patient with an ABHA address and both HIS and LIMS records")
	}
	discover := func(txn string, p abdm.DiscoverPatient) abdm.OnDiscoverRequest {
		id := h.deliver(t, routeDiscover, abdm.DiscoverRequest{TransactionID: txn, Patient: p})
		var out abdm.OnDiscoverRequest
		if err := json.Unmarshal(h.waitGateway(t, abdm.PathOnDiscover, respondsTo(id)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	patient := abdm.DiscoverPatient{ID: who.ABHAAddress, Name: who.Name, Gender: abdm.Gender(who.Gender), YearOfBirth: who.BirthYear,
		VerifiedIdentifiers: []abdm.Identifier{{Type: abdm.IdentifierABHAAddress, Value: who.ABHAAddress}}}
	countBy := func(r abdm.OnDiscoverRequest) map[string]int {
		n := map[string]int{}
		for _, p := range r.Patient {
			if p.ReferenceNumber != master.ID || p.Count != len(p.CareContexts) {
				t.Errorf("patient entry %+v", p)
			}
			for _, c := range p.CareContexts {
				code, _, _ := strings.Cut(c.ReferenceNumber, ":")
				n[code]++
			}
		}
		return n
	}

	full := discover("txn-full", patient)
	if full.Error != nil {
		t.Fatalf("on-discover error %+v", full.Error)
	}
	n := countBy(full)
	if n["his"] == 0 || n["lims"] == 0 {
		t.Fatalf("discovery found %v, want HIS and LIMS contexts", n)
	}

	h.srcs.slow[h.systems["lims"].ID].Store(true)
	partial := discover("txn-slow", patient)
	h.srcs.slow[h.systems["lims"].ID].Store(false)
	if partial.Error != nil {
		t.Fatalf("on-discover error %+v", partial.Error)
	}
	if got := countBy(partial); got["his"] != n["his"] || got["lims"] != 0 {
		t.Fatalf("with a slow LIMS, discovery found %v, want his=%d and no lims", got, n["his"])
	}
	var misses int
	err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM hip_discovery_misses WHERE transaction_id = 'txn-slow' AND source_system_id::text = $1
			AND reason LIKE '%deadline%'`, h.systems["lims"].ID).Scan(&misses)
	})
	if err != nil || misses != 1 {
		t.Fatalf("recorded misses: %d %v", misses, err)
	}

	nobody := discover("txn-nobody", abdm.DiscoverPatient{ID: "nobody.here@sbx", Name: "Nobody Here", Gender: "M", YearOfBirth: 1901,
		VerifiedIdentifiers: []abdm.Identifier{{Type: abdm.IdentifierABHAAddress, Value: "nobody.here@sbx"}}})
	if nobody.Error == nil || len(nobody.Patient) != 0 {
		t.Fatalf("unknown person: %+v", nobody)
	}
}

func TestM2UserInitiatedLinking(t *testing.T) {
	h := newM2Harness(t)
	ctx := context.Background()
	recs := h.ingest(t, "his")
	var who patients.SourceRecord
	var master patients.Patient
	for _, r := range recs["his"] {
		if r.ABHAAddress == "" {
			continue
		}
		m, err := h.index.Find(ctx, h.tenant, patients.Query{ABHAAddress: r.ABHAAddress, Name: r.Name, Gender: r.Gender, BirthYear: r.BirthYear})
		if err == nil && m.Status == patients.MatchExact && m.Patient.Summary.Mobile != "" {
			who, master = r, m.Patient
			break
		}
	}
	if master.ID == "" {
		t.Fatal("no demo patient with an ABHA address and a mobile")
	}
	patient := abdm.DiscoverPatient{ID: who.ABHAAddress, Name: who.Name, Gender: abdm.Gender(who.Gender), YearOfBirth: who.BirthYear,
		VerifiedIdentifiers: []abdm.Identifier{{Type: abdm.IdentifierABHAAddress, Value: who.ABHAAddress}}}
	discover := func(txn string) abdm.OnDiscoverRequest {
		id := h.deliver(t, routeDiscover, abdm.DiscoverRequest{TransactionID: txn, Patient: patient})
		var out abdm.OnDiscoverRequest
		if err := json.Unmarshal(h.waitGateway(t, abdm.PathOnDiscover, respondsTo(id)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := discover("txn-link-1")
	if first.Error != nil || len(first.Patient) == 0 {
		t.Fatalf("discovery: %+v", first)
	}
	chosen := first.Patient[0]
	chosen.CareContexts = chosen.CareContexts[:1]
	chosen.Count = 1

	initLink := func(txn string) abdm.LinkOnInitRequest {
		id := h.deliver(t, routeLinkInit, abdm.LinkInitRequest{TransactionID: txn, ABHAAddress: who.ABHAAddress, Patient: []abdm.PatientCareContexts{chosen}})
		var out abdm.LinkOnInitRequest
		if err := json.Unmarshal(h.waitGateway(t, abdm.PathLinkOnInit, respondsTo(id)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	confirm := func(ref, otp string) abdm.LinkOnConfirmRequest {
		id := h.deliver(t, routeLinkConfirm, abdm.LinkConfirmRequest{Confirmation: abdm.LinkConfirmation{LinkRefNumber: ref, Token: abdm.FlexString(otp)}})
		var out abdm.LinkOnConfirmRequest
		if err := json.Unmarshal(h.waitGateway(t, abdm.PathLinkOnConfirm, respondsTo(id)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	wrong := func(otp string) string {
		if otp == "000000" {
			return "000001"
		}
		return "000000"
	}

	// Attempts are limited: three wrong OTPs fail the link for good.
	blocked := initLink("txn-link-blocked")
	if blocked.Error != nil || blocked.Link == nil || blocked.Link.Meta == nil || blocked.Link.Meta.CommunicationMedium != abdm.CommunicationMobile {
		t.Fatalf("on-init: %+v", blocked)
	}
	otp := h.sms.last(master.Summary.Mobile)
	for range DefaultLinkMaxAttempts {
		if r := confirm(blocked.Link.ReferenceNumber, wrong(otp)); r.Error == nil {
			t.Fatalf("wrong OTP accepted: %+v", r)
		}
	}
	if r := confirm(blocked.Link.ReferenceNumber, otp); r.Error == nil {
		t.Fatal("right OTP accepted after the attempts ran out")
	}

	// The OTP is stored hashed, never in clear.
	ok := initLink("txn-link-ok")
	if ok.Error != nil || ok.Link == nil {
		t.Fatalf("on-init: %+v", ok)
	}
	otp = h.sms.last(master.Summary.Mobile)
	var stored []byte
	err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT otp_hash FROM hip_user_links WHERE link_ref::text = $1`, ok.Link.ReferenceNumber).Scan(&stored)
	})
	if err != nil || len(stored) == 0 || strings.Contains(string(stored), otp) {
		t.Fatalf("stored OTP hash: %v", err)
	}
	if r := confirm(ok.Link.ReferenceNumber, wrong(otp)); r.Error == nil {
		t.Fatal("wrong OTP accepted")
	}
	done := confirm(ok.Link.ReferenceNumber, otp)
	if done.Error != nil || len(done.Patient) != 1 || len(done.Patient[0].CareContexts) != 1 ||
		done.Patient[0].CareContexts[0].ReferenceNumber != chosen.CareContexts[0].ReferenceNumber {
		t.Fatalf("on-confirm: %+v", done)
	}
	if again := confirm(ok.Link.ReferenceNumber, otp); again.Error == nil {
		t.Fatal("a used link reference was accepted again")
	}

	// Discovery no longer offers the linked context.
	after := discover("txn-link-2")
	for _, p := range after.Patient {
		for _, c := range p.CareContexts {
			if c.ReferenceNumber == chosen.CareContexts[0].ReferenceNumber {
				t.Fatalf("linked context %s offered again", c.ReferenceNumber)
			}
		}
	}
	if dup := initLink("txn-link-dup"); dup.Error == nil || dup.Error.Code != "ABDM-1056" {
		t.Fatalf("linking a linked context: %+v", dup)
	}
}

// TestM2OverSandboxGateway runs consent notify, a transfer and discovery
// against the sandbox gateway, which refuses on-* answers it is not waiting
// for and checks the bodies' shape.
func TestM2OverSandboxGateway(t *testing.T) {
	h := newM2HarnessWith(t, true)
	op := h.registerContexts(t, "his", sources.OPConsultation, 1)
	lab := h.registerContexts(t, "lims", sources.DiagnosticReport, 1)
	all := append(append([]sources.CareContext{}, op...), lab...)
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour)
	h.notifyConsent(t, consentBody("c-sbx", "GRANTED", all, from, to, time.Now().Add(time.Hour)))

	u := newHIU(t)
	rid := h.deliver(t, routeHIRequest, u.request("c-sbx", "txn-sbx", from, to))
	h.waitGateway(t, abdm.PathHIPHealthInformationOnRequest, respondsTo(rid))
	nt := decodeNotify(t, h.waitGateway(t, abdm.PathHealthInformationNotify, func(b []byte) bool { return strings.Contains(string(b), "txn-sbx") }))
	if nt.StatusNotification.SessionStatus != abdm.SessionTransferred || len(nt.StatusNotification.StatusResponses) != len(all) {
		t.Fatalf("notify %+v", nt.StatusNotification)
	}
	u.mu.Lock()
	got := len(u.bundles)
	u.mu.Unlock()
	if got != len(all) {
		t.Fatalf("HIU decrypted %d bundles, want %d", got, len(all))
	}

	// Discovery: the sandbox accepts the on-discover.
	recs := h.ingest(t, "his")
	for _, r := range recs["his"] {
		if r.ABHAAddress == "" {
			continue
		}
		id := h.deliver(t, routeDiscover, abdm.DiscoverRequest{TransactionID: "txn-sbx-discover", Patient: abdm.DiscoverPatient{
			ID: r.ABHAAddress, Name: r.Name, Gender: abdm.Gender(r.Gender), YearOfBirth: r.BirthYear,
			VerifiedIdentifiers: []abdm.Identifier{{Type: abdm.IdentifierABHAAddress, Value: r.ABHAAddress}}}})
		var od abdm.OnDiscoverRequest
		if err := json.Unmarshal(h.waitGateway(t, abdm.PathOnDiscover, respondsTo(id)), &od); err != nil {
			t.Fatal(err)
		}
		if od.Error != nil || len(od.Patient) == 0 {
			t.Fatalf("on-discover %+v", od)
		}
		break
	}

	for _, m := range h.sandbox.Messages(gateway.Filter{}) {
		if strings.Contains(m.Path, "on-") && m.Answers == "" {
			t.Errorf("%s was not matched to a delivery: %d %s", m.Path, m.Status, m.ErrorCode)
		}
	}
}
