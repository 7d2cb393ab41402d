package hiu_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/sharedtest"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// memSecrets keeps the tenant's gateway client secret for the bridge.
type memSecrets struct{ m map[string][]byte }

func (s *memSecrets) PutClientSecret(_ context.Context, tenant string, secret []byte) error {
	s.m[tenant] = bytes.Clone(secret)
	return nil
}

func (s *memSecrets) ClientSecret(_ context.Context, tenant string) ([]byte, error) {
	v, ok := s.m[tenant]
	if !ok {
		return nil, bridge.ErrNoCredentials
	}
	return v, nil
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// harness wires the HIU like serve would: the sandbox gateway on loopback,
// a real abdm client and bridge, the Postgres key store, a Fiber app with
// the bridge inbox and the data push route, and River working one queue.
type harness struct {
	t        *testing.T
	db       *databasetest.DB
	gw       *gateway.Gateway
	svc      *hiu.Service
	keys     keys.Store
	tenant   string
	facility string
	hiuID    string
	url      string
}

func newHarness(t *testing.T, sweep time.Duration) *harness {
	t.Helper()
	return newHarnessIn(t, sweep, nil)
}

// newHarnessIn builds the harness inside a cmtest World when w is set:
// Sangam's bridge then stands in for the World's fake "Sangam" client,
// and the consent manager and remote hospital drive the flows.
func newHarnessIn(t *testing.T, sweep time.Duration, w *cmtest.World) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, db: databasetest.New(t)}
	h.tenant = h.db.Tenant(t, "Clinic "+suffix())
	h.hiuID = "HIU-" + suffix()
	clientID, secret := "SBX_CLINIC", "clinic-secret"
	if w != nil {
		h.hiuID, clientID, secret = cmtest.SangamHIU, cmtest.SangamClient, "sangam-secret"
		// Service ids are unique across tenants: a rerun (-count) reuses
		// the facility an earlier World test made.
		err := h.db.Owner.QueryRow(ctx, "SELECT tenant_id::text, id::text FROM facilities WHERE hip_id = $1",
			h.hiuID).Scan(&h.tenant, &h.facility)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
	}
	if h.facility == "" {
		err := database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name)
				VALUES ($1, $2, $2, 'Clinic') RETURNING id::text`, h.tenant, h.hiuID).Scan(&h.facility)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var slug string
	if err := h.db.Owner.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1", h.tenant).Scan(&slug); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()

	quiet := slog.New(slog.DiscardHandler)
	gatewayURL := ""
	if w != nil {
		gatewayURL = w.URL
	} else {
		gln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h.gw, err = gateway.New(gateway.Config{
			PublicURL: "http://" + gln.Addr().String(), Logger: quiet,
			Clients: []gateway.Client{{
				ID: clientID, Secret: secret, BridgeURL: h.url + "/bridge/" + slug,
				Services: []gateway.Service{{ID: h.hiuID, Name: "Clinic", Types: []string{gateway.TypeHIU}}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		gsrv := &http.Server{Handler: h.gw}
		go func() { _ = gsrv.Serve(gln) }()
		t.Cleanup(func() { _ = h.gw.Close(); _ = gsrv.Close() })
		gatewayURL = h.gw.URL()
	}

	creds := bridge.NewCredentials(h.db.App, &memSecrets{m: map[string][]byte{}})
	client, err := abdm.New(abdm.Config{
		GatewayURL: gatewayURL, CMID: abdm.CMSandbox, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	queue := "hiu_test_" + strings.ToLower(suffix())
	b, err := bridge.New(bridge.Config{
		Pool: h.db.App, Gateway: client, Verifier: verifier, Credentials: creds, PublicURL: h.url,
		Logger: quiet, Queue: queue, RetryBaseDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetCredentials(ctx, h.tenant, clientID, []byte(secret)); err != nil {
		t.Fatal(err)
	}
	// One master key for the test binary: a rerun (-count) reuses tenants
	// whose data keys are sealed under it.
	mk, err := keys.NewMasterKeys(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h.keys = keys.NewPostgresStore(h.db.App, mk)
	h.svc, err = hiu.New(hiu.Config{
		Pool: h.db.App, Bridge: b, Keys: h.keys, PublicURL: h.url, Queue: queue, Logger: quiet,
		MaxPushBytes: 1 << 20, PollBase: 50 * time.Millisecond, PollMax: 200 * time.Millisecond,
		SweepInterval: sweep,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.RegisterProcessors(b); err != nil {
		t.Fatal(err)
	}

	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 4 << 20})
	b.Register(app)
	h.svc.RegisterDataPush(app)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	workers := river.NewWorkers()
	if _, err := b.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	periodic, err := h.svc.RegisterJobs(workers)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(h.db.App), &river.Config{
		Queues: map[string]river.QueueConfig{queue: {MaxWorkers: 10}}, Workers: workers,
		PeriodicJobs: periodic, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.Stop(c)
	})
	if w != nil {
		// Take over the World's "Sangam" client: the gateway now calls us.
		if _, err := b.Onboard(ctx, h.tenant); err != nil {
			t.Fatalf("onboarding with the World's gateway: %v", err)
		}
	}
	return h
}

// waitFor polls cond until it is true, failing after a generous bound.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) deliver(path string, body any) {
	h.t.Helper()
	d, err := h.gw.Deliver(context.Background(), gateway.Callback{Path: path, HIUID: h.hiuID, Body: body})
	if err != nil {
		h.t.Fatal(err)
	}
	if d.State != gateway.StateDelivered {
		h.t.Fatalf("delivery of %s: %s %+v", path, d.State, d.Attempts)
	}
}

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.Owner.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// sharedBundle reads one of the shared example bundles, skipping the test
// when ../shared is not checked out next to the repository.
func sharedBundle(t *testing.T, name string) []byte {
	t.Helper()
	return sharedtest.Read(t, "fhir", "gcp-nrces-fhir", name)
}

// flow is one consent, granted, with its data requested.
type flow struct {
	requestID  string // ours
	artefact   string
	pushURL    string
	dataReqID  string
	txn        string
	requester  fidelius.KeyMaterial
	abha       string
	hip        string
	hipName    string // as the artefact names the HIP
	erase      time.Time
	pushBodies [][]byte
	// hiRequestID is the REQUEST-ID of our health-information request.
	hiRequestID string
}

// grant runs consent request → on-init → notify GRANTED → fetch → on-fetch
// → HI request → on-request, playing the gateway and consent manager.
func (h *harness) grant(erase time.Time) *flow {
	h.t.Helper()
	f := h.grantUntilRequest(erase)
	h.answerRequest(f)
	return f
}

// grantUntilRequest is grant up to the HI request, without on-request.
func (h *harness) grantUntilRequest(erase time.Time) *flow {
	h.t.Helper()
	ctx := context.Background()
	f := &flow{abha: "asha." + strings.ToLower(suffix()) + "@sbx", hip: "REMOTE-HIP-1", hipName: "Remote Hospital",
		artefact: uuid.NewString(), erase: erase}
	now := time.Now()
	var err error
	f.requestID, err = h.svc.CreateConsentRequest(ctx, h.tenant, h.facility, hiu.Request{
		PatientABHAAddress: f.abha, Purpose: abdm.PurposeCareManagement,
		HITypes: []abdm.HIType{abdm.HITypeDiagnosticReport},
		From:    now.AddDate(-5, 0, 0), To: now.Add(-time.Minute), Expiry: erase,
		RequesterName: "Dr. Mehta", RequesterID: "MH1001",
	})
	if err != nil {
		h.t.Fatal(err)
	}
	// Each flow is the only one in flight in its test, so the latest
	// message of a path is this flow's.
	init := h.lastMessage(abdm.PathConsentRequestInit)
	var initBody abdm.ConsentRequestInitRequest
	if err := json.Unmarshal(init.Body, &initBody); err != nil {
		h.t.Fatal(err)
	}
	if initBody.Consent.Patient.ID != f.abha || initBody.Consent.HIU.ID != h.hiuID || init.HIUID != h.hiuID {
		h.t.Fatalf("consent request init body %s", init.Body)
	}
	gatewayID := uuid.NewString()
	h.deliver(gateway.CallbackOnConsentInit, map[string]any{
		"consentRequest": map[string]string{"id": gatewayID}, "error": nil,
		"response": map[string]string{"requestId": init.RequestID},
	})
	h.waitFor("consent request id stored", func() bool {
		rs, err := h.svc.ConsentRequests(ctx, h.tenant, hiu.Filter{PatientABHAAddress: f.abha})
		return err == nil && len(rs) == 1 && rs[0].GatewayID == gatewayID && rs[0].Status == hiu.StatusRequested
	})

	h.deliver(gateway.CallbackHIUConsentNotify, map[string]any{"notification": map[string]any{
		"consentRequestId": gatewayID, "status": "GRANTED", "reason": nil,
		"consentArtefacts": []map[string]string{{"id": f.artefact}},
	}})
	fetch := h.waitMessage(abdm.PathConsentFetch, func(m gateway.Message) bool { return strings.Contains(string(m.Body), f.artefact) })
	ack := h.waitMessage(abdm.PathHIUConsentOnNotify, func(m gateway.Message) bool { return strings.Contains(string(m.Body), f.artefact) })
	if !strings.Contains(string(ack.Body), `"OK"`) {
		h.t.Fatalf("on-notify body %s", ack.Body)
	}

	h.deliver(gateway.CallbackOnConsentFetch, map[string]any{
		"consent": map[string]any{
			"status": "GRANTED",
			"consentDetail": map[string]any{
				"schemaVersion": "v3", "consentId": f.artefact,
				"patient": map[string]string{"id": f.abha}, "hip": map[string]string{"id": f.hip, "name": f.hipName},
				"hiu": map[string]string{"id": h.hiuID}, "consentManager": map[string]string{"id": "sbx"},
				"requester": map[string]any{"name": "Dr. Mehta"},
				"purpose":   map[string]string{"text": "Care Management", "code": "CAREMGT"},
				"hiTypes":   []string{"DiagnosticReport"},
				"careContexts": []map[string]string{
					{"patientReference": "PAT-1", "careContextReference": "CC-LAB"},
					{"patientReference": "PAT-1", "careContextReference": "CC-IMG"},
				},
				"permission": map[string]any{
					"accessMode":  "VIEW",
					"dateRange":   map[string]string{"from": abdm.FormatTimestamp(now.AddDate(-2, 0, 0)), "to": abdm.FormatTimestamp(now.Add(-time.Minute))},
					"dataEraseAt": abdm.FormatTimestamp(erase),
					"frequency":   map[string]any{"unit": "HOUR", "value": 1, "repeats": 0},
				},
			},
			"signature": "c2ln",
		},
		"error": nil, "response": map[string]string{"requestId": fetch.RequestID},
	})
	hiReq := h.waitMessage(abdm.PathHealthInformationRequest, func(m gateway.Message) bool { return strings.Contains(string(m.Body), f.artefact) })
	var body struct {
		HIRequest struct {
			Consent     abdm.Ref             `json:"consent"`
			DataPushURL string               `json:"dataPushUrl"`
			KeyMaterial fidelius.KeyMaterial `json:"keyMaterial"`
			DateRange   abdm.DateRange       `json:"dateRange"`
		} `json:"hiRequest"`
	}
	if err := json.Unmarshal(hiReq.Body, &body); err != nil {
		h.t.Fatal(err)
	}
	f.pushURL, f.requester = body.HIRequest.DataPushURL, body.HIRequest.KeyMaterial
	if !strings.HasPrefix(f.pushURL, h.url+"/bridge/") {
		h.t.Fatalf("data push URL %q is not ours", f.pushURL)
	}
	// The artefact's narrowed range, not the request's, is asked for.
	if got := body.HIRequest.DateRange.From.Time; got.Year() != now.Year()-2 {
		h.t.Fatalf("HI request from %v, want the artefact's range", got)
	}
	f.dataReqID = f.pushURL[strings.LastIndex(f.pushURL, "/")+1:]
	// The private key is in the key store and matches the public key sent.
	sec, err := h.keys.Get(ctx, keys.Ref{Tenant: h.tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "hiu-" + f.dataReqID})
	if err != nil {
		h.t.Fatalf("private key not in the key store: %v", err)
	}
	priv, err := fidelius.ParsePrivateKey(string(sec.Value))
	if err != nil {
		h.t.Fatal(err)
	}
	pub, _, err := f.requester.Parse()
	if err != nil {
		h.t.Fatal(err)
	}
	if !priv.PublicKey().Equal(pub) {
		h.t.Fatal("stored private key does not match the public key sent")
	}

	f.txn = uuid.NewString()
	f.hiRequestID = hiReq.RequestID
	return f
}

// answerRequest delivers on-request with the flow's transaction id.
func (h *harness) answerRequest(f *flow) {
	h.t.Helper()
	h.deliver(gateway.CallbackOnHIRequest, map[string]any{
		"hiRequest": map[string]string{"transactionId": f.txn, "sessionStatus": "REQUESTED"},
		"response":  map[string]string{"requestId": f.hiRequestID},
	})
	h.waitFor("transaction id stored", func() bool {
		return h.count("SELECT count(*) FROM hiu_data_requests WHERE id = $1 AND transaction_id = $2", f.dataReqID, f.txn) == 1
	})
}

func (h *harness) lastMessage(path string) gateway.Message {
	h.t.Helper()
	return h.waitMessage(path, func(gateway.Message) bool { return true })
}

func (h *harness) waitMessage(path string, match func(gateway.Message) bool) gateway.Message {
	h.t.Helper()
	var m gateway.Message
	h.waitFor("gateway call "+path, func() bool {
		ms := h.gw.Messages(gateway.Filter{Path: path})
		for i := len(ms) - 1; i >= 0; i-- {
			if match(ms[i]) {
				m = ms[i]
				return true
			}
		}
		return false
	})
	if m.Status/100 != 2 {
		h.t.Fatalf("gateway answered %s with %d %s", path, m.Status, m.ErrorCode)
	}
	return m
}

// page encrypts one bundle as a remote HIP would: a fresh key pair and
// nonce per page, X.509 public key in the push.
func (h *harness) page(f *flow, n, count int, careContext string, bundle []byte) []byte {
	h.t.Helper()
	reqKey, reqNonce, err := f.requester.Parse()
	if err != nil {
		h.t.Fatal(err)
	}
	key, err := fidelius.GenerateKey()
	if err != nil {
		h.t.Fatal(err)
	}
	nonce := fidelius.NewNonce()
	content, err := fidelius.Encrypt(key, reqKey, nonce, reqNonce, bundle)
	if err != nil {
		h.t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{
		"pageNumber": n, "pageCount": count, "transactionId": f.txn,
		"entries": []map[string]string{{
			"content": content, "media": "application/fhir+json", "checksum": "", "careContextReference": careContext,
		}},
		"keyMaterial": fidelius.NewKeyMaterial(key.PublicKey().X509(), nonce, time.Now().Add(time.Hour)),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return body
}

func post(t *testing.T, url string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// transfer pushes the lab report (CC-LAB) and an imaging report with an
// embedded image (CC-IMG) as two pages and waits for the HIU's notify.
func (h *harness) transfer(f *flow) abdm.HealthInformationNotification {
	h.t.Helper()
	lab := sharedBundle(h.t, "Bundle-DiagnosticReport-Lab-example-03.json")
	img := sharedBundle(h.t, "Bundle-DiagnosticReport-Imaging-Media-example-02.json")
	f.pushBodies = [][]byte{h.page(f, 1, 2, "CC-LAB", lab), h.page(f, 2, 2, "CC-IMG", img)}
	for i, b := range f.pushBodies {
		if st := post(h.t, f.pushURL, b); st != http.StatusAccepted {
			h.t.Fatalf("page %d: status %d, want 202", i+1, st)
		}
	}
	m := h.waitMessage(abdm.PathHealthInformationNotify, func(m gateway.Message) bool { return strings.Contains(string(m.Body), f.txn) })
	var n abdm.HealthInformationNotifyRequest
	if err := json.Unmarshal(m.Body, &n); err != nil {
		h.t.Fatal(err)
	}
	return n.Notification
}

// remaining counts what is left of a flow's data.
func (h *harness) remaining(f *flow) map[string]int {
	h.t.Helper()
	out := map[string]int{
		"records": h.count(`SELECT count(*) FROM hiu_records r JOIN hiu_consents c ON c.id = r.consent_id WHERE c.artefact_id = $1`, f.artefact),
		"entries": h.count(`SELECT count(*) FROM hiu_entries e JOIN hiu_records r ON r.id = e.record_id
			JOIN hiu_consents c ON c.id = r.consent_id WHERE c.artefact_id = $1`, f.artefact),
		"attachments": h.count(`SELECT count(*) FROM hiu_attachments a JOIN hiu_entries e ON e.id = a.entry_id
			JOIN hiu_records r ON r.id = e.record_id JOIN hiu_consents c ON c.id = r.consent_id WHERE c.artefact_id = $1`, f.artefact),
		"pages":   h.count(`SELECT count(*) FROM hiu_pages WHERE data_request_id = $1`, f.dataReqID),
		"secrets": h.count(`SELECT count(*) FROM key_secrets WHERE name = $1`, "hiu-"+f.dataReqID),
	}
	return out
}

func TestConsentToRecordsAndPurgeOnRevocation(t *testing.T) {
	h := newHarness(t, time.Hour)
	ctx := context.Background()
	f := h.grant(time.Now().Add(24 * time.Hour))

	n := h.transfer(f)
	if n.ConsentID != f.artefact || n.TransactionID != f.txn || n.Notifier.Type != abdm.RoleHIU || n.Notifier.ID != h.hiuID {
		t.Fatalf("notify %+v", n)
	}
	if n.StatusNotification.SessionStatus != abdm.SessionTransferred || n.StatusNotification.HIPID != f.hip {
		t.Fatalf("notify status %+v", n.StatusNotification)
	}
	got := map[string]string{}
	for _, st := range n.StatusNotification.StatusResponses {
		got[st.CareContextReference] = st.HIStatus
	}
	if got["CC-LAB"] != abdm.HIStatusOK || got["CC-IMG"] != abdm.HIStatusOK || len(got) != 2 {
		t.Fatalf("per care context statuses %v", got)
	}

	// Stored with provenance and normalised values.
	entries, err := h.svc.PatientRecords(ctx, h.tenant, f.abha, hiu.RecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no entries stored")
	}
	contexts := map[string]bool{}
	var observationWithValue, attachments bool
	for _, e := range entries {
		if e.HIP != f.hip || e.HIPName != f.hipName || e.Consent != f.artefact || e.ReceivedAt.IsZero() {
			t.Fatalf("entry provenance: HIP %q named %q, consent %q, received %v", e.HIP, e.HIPName, e.Consent, e.ReceivedAt)
		}
		contexts[e.CareContext] = true
		if e.Kind == "observation" && e.Value != "" && e.CodeSystem != "" {
			observationWithValue = true
		}
		if len(e.Attachments) > 0 {
			attachments = true
			ct, data, err := h.svc.Attachment(ctx, h.tenant, e.Attachments[0].ID)
			if err != nil || len(data) == 0 || ct == "" {
				t.Fatalf("attachment: %q %d bytes %v", ct, len(data), err)
			}
		}
	}
	if !contexts["CC-LAB"] || !contexts["CC-IMG"] {
		t.Fatalf("care contexts seen %v", contexts)
	}
	rs, err := h.svc.ConsentRequests(ctx, h.tenant, hiu.Filter{PatientABHAAddress: f.abha})
	if err != nil || len(rs) != 1 || len(rs[0].Artefacts) != 1 {
		t.Fatalf("consent requests %+v, %v", rs, err)
	}
	if a := rs[0].Artefacts[0]; a.HIP != f.hip || a.HIPName != f.hipName {
		t.Fatalf("artefact's HIP %q %q, want %q %q", a.HIP, a.HIPName, f.hip, f.hipName)
	}
	if !observationWithValue {
		t.Fatal("no observation with a coded value from the lab report")
	}
	if !attachments {
		t.Fatal("no attachment stored from the imaging report")
	}
	obs, err := h.svc.PatientRecords(ctx, h.tenant, f.abha, hiu.RecordFilter{Kinds: []string{"observation"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range obs {
		if e.Kind != "observation" {
			t.Fatalf("kind filter returned %s", e.Kind)
		}
	}
	// The transfer is complete: the private key is gone.
	if _, err := h.keys.Get(ctx, keys.Ref{Tenant: h.tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "hiu-" + f.dataReqID}); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("private key after completion: %v, want not found", err)
	}

	// A page pushed again is acknowledged and processed once.
	before := h.remaining(f)
	if st := post(t, f.pushURL, f.pushBodies[0]); st != http.StatusAccepted {
		t.Fatalf("duplicate page: %d, want 202", st)
	}
	time.Sleep(300 * time.Millisecond) // room for a wrongly queued job to run
	if after := h.remaining(f); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("duplicate page changed the store: %v → %v", before, after)
	}
	if k := len(h.gw.Messages(gateway.Filter{Path: abdm.PathHealthInformationNotify})); k != 1 {
		t.Fatalf("%d notifies, want 1", k)
	}

	// Refusals: unknown URL, wrong transaction, garbage, oversize.
	other := f.pushURL[:strings.LastIndex(f.pushURL, "/")+1] + uuid.NewString()
	if st := post(t, other, f.pushBodies[0]); st != http.StatusNotFound {
		t.Errorf("unknown data request: %d, want 404", st)
	}
	wrong := bytes.Replace(f.pushBodies[0], []byte(f.txn), []byte(uuid.NewString()), 1)
	if st := post(t, f.pushURL, wrong); st != http.StatusNotFound {
		t.Errorf("wrong transaction: %d, want 404", st)
	}
	if st := post(t, f.pushURL, []byte(`{"garbage":`)); st != http.StatusBadRequest {
		t.Errorf("garbage: %d, want 400", st)
	}
	if st := post(t, f.pushURL, bytes.Repeat([]byte(" "), 2<<20)); st != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize: %d, want 413", st)
	}

	// Revocation erases everything received under the consent.
	h.deliver(gateway.CallbackHIUConsentNotify, map[string]any{"notification": map[string]any{
		"consentRequestId": h.gatewayID(f), "status": "REVOKED",
		"consentArtefacts": []map[string]string{{"id": f.artefact}},
	}})
	h.waitFor("purge after revocation", func() bool {
		return h.count("SELECT count(*) FROM hiu_consents WHERE artefact_id = $1 AND purged_at IS NOT NULL AND status = 'revoked'", f.artefact) == 1
	})
	for what, n := range h.remaining(f) {
		if n != 0 {
			t.Errorf("%d %s left after revocation", n, what)
		}
	}
	if left, err := h.svc.PatientRecords(ctx, h.tenant, f.abha, hiu.RecordFilter{}); err != nil || len(left) != 0 {
		t.Fatalf("records after revocation: %d, %v", len(left), err)
	}
	rs, err = h.svc.ConsentRequests(ctx, h.tenant, hiu.Filter{PatientABHAAddress: f.abha})
	if err != nil || len(rs) != 1 || rs[0].Status != hiu.StatusRevoked || rs[0].RevokedAt.IsZero() || rs[0].GrantedAt.IsZero() {
		t.Fatalf("consent request after revocation: %+v %v", rs, err)
	}
	// A push after the purge is refused.
	if st := post(t, f.pushURL, h.page(f, 3, 3, "CC-LAB", []byte(`{}`))); st != http.StatusGone && st != http.StatusConflict {
		t.Errorf("push after purge: %d, want 410 or 409", st)
	}
}

func (h *harness) gatewayID(f *flow) string {
	h.t.Helper()
	rs, err := h.svc.ConsentRequests(context.Background(), h.tenant, hiu.Filter{PatientABHAAddress: f.abha})
	if err != nil || len(rs) != 1 {
		h.t.Fatalf("consent requests: %v %v", rs, err)
	}
	return rs[0].GatewayID
}

func TestPurgeAtDataEraseTime(t *testing.T) {
	h := newHarness(t, 200*time.Millisecond)
	f := h.grant(time.Now().Add(8 * time.Second))
	h.transfer(f)
	if r := h.remaining(f); r["records"] == 0 || r["attachments"] == 0 {
		t.Fatalf("nothing stored before erase time: %v", r)
	}
	h.waitFor("purge at dataEraseAt", func() bool {
		return h.count("SELECT count(*) FROM hiu_consents WHERE artefact_id = $1 AND purged_at IS NOT NULL", f.artefact) == 1
	})
	for what, n := range h.remaining(f) {
		if n != 0 {
			t.Errorf("%d %s left after erase time", n, what)
		}
	}
}

func TestPendingConsentIsPolledWithBackoff(t *testing.T) {
	h := newHarness(t, 100*time.Millisecond)
	ctx := context.Background()
	now := time.Now()
	abha := "ravi." + strings.ToLower(suffix()) + "@sbx"
	if _, err := h.svc.CreateConsentRequest(ctx, h.tenant, h.facility, hiu.Request{
		PatientABHAAddress: abha, Purpose: abdm.PurposeCareManagement, HITypes: []abdm.HIType{abdm.HITypePrescription},
		From: now.AddDate(-1, 0, 0), To: now.Add(-time.Minute), Expiry: now.Add(time.Hour), RequesterName: "Dr. Rao",
	}); err != nil {
		t.Fatal(err)
	}
	init := h.lastMessage(abdm.PathConsentRequestInit)
	gatewayID := uuid.NewString()
	h.deliver(gateway.CallbackOnConsentInit, map[string]any{
		"consentRequest": map[string]string{"id": gatewayID}, "error": nil,
		"response": map[string]string{"requestId": init.RequestID},
	})
	status := h.waitMessage(abdm.PathConsentRequestStatus, func(m gateway.Message) bool { return strings.Contains(string(m.Body), gatewayID) })
	h.waitMessage(abdm.PathConsentRequestStatus, func(m gateway.Message) bool {
		return m.Seq > status.Seq && strings.Contains(string(m.Body), gatewayID)
	})
	var attempts int
	if err := h.db.Owner.QueryRow(ctx, "SELECT poll_attempts FROM hiu_consent_requests WHERE gateway_id = $1", gatewayID).Scan(&attempts); err != nil || attempts < 2 {
		t.Fatalf("poll attempts %d, %v", attempts, err)
	}
	// The answer ends the polling.
	h.deliver(gateway.CallbackOnConsentStatus, map[string]any{
		"consentRequest": map[string]any{"id": gatewayID, "status": "DENIED"}, "error": nil,
		"response": map[string]string{"requestId": status.RequestID},
	})
	h.waitFor("denied", func() bool {
		rs, err := h.svc.ConsentRequests(ctx, h.tenant, hiu.Filter{PatientABHAAddress: abha})
		return err == nil && len(rs) == 1 && rs[0].Status == hiu.StatusDenied && !rs[0].DeniedAt.IsZero()
	})
	polls := len(h.gw.Messages(gateway.Filter{Path: abdm.PathConsentRequestStatus}))
	time.Sleep(500 * time.Millisecond)
	if now := len(h.gw.Messages(gateway.Filter{Path: abdm.PathConsentRequestStatus})); now != polls {
		t.Fatalf("still polling after DENIED: %d → %d", polls, now)
	}
}

// TestUndecryptablePageIsReportedFailed pushes a page encrypted for
// someone else's key: nothing is stored and the HIU reports FAILED with
// the care context ERRORED.
func TestUndecryptablePageIsReportedFailed(t *testing.T) {
	h := newHarness(t, time.Hour)
	f := h.grant(time.Now().Add(time.Hour))
	bundle := sharedBundle(t, "Bundle-Prescription-example-06.json")
	stranger, err := fidelius.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ours := f.requester
	f.requester = fidelius.NewKeyMaterial(stranger.PublicKey().Raw(), fidelius.NewNonce(), time.Now().Add(time.Hour))
	body := h.page(f, 1, 1, "CC-RX", bundle)
	f.requester = ours
	if st := post(t, f.pushURL, body); st != http.StatusAccepted {
		t.Fatalf("push: %d, want 202", st)
	}
	m := h.waitMessage(abdm.PathHealthInformationNotify, func(m gateway.Message) bool { return strings.Contains(string(m.Body), f.txn) })
	var n abdm.HealthInformationNotifyRequest
	if err := json.Unmarshal(m.Body, &n); err != nil {
		t.Fatal(err)
	}
	st := n.Notification.StatusNotification
	if st.SessionStatus != abdm.SessionFailed || len(st.StatusResponses) != 1 ||
		st.StatusResponses[0].CareContextReference != "CC-RX" || st.StatusResponses[0].HIStatus != abdm.HIStatusErrored {
		t.Fatalf("notify %+v", st)
	}
	if r := h.remaining(f); r["records"] != 0 || r["secrets"] != 0 {
		t.Fatalf("after a failed transfer: %v", r)
	}
}

// TestPushBeforeOnRequestThenExpiry covers a push that overtakes the
// gateway's on-request (seen in the sandbox) and an EXPIRED notification,
// which erases the data at once.
func TestPushBeforeOnRequestThenExpiry(t *testing.T) {
	h := newHarness(t, time.Hour)
	f := h.grantUntilRequest(time.Now().Add(time.Hour))
	n := h.transfer(f)
	if n.TransactionID != f.txn || n.StatusNotification.SessionStatus != abdm.SessionTransferred {
		t.Fatalf("notify %+v", n)
	}
	h.answerRequest(f) // late, and harmless
	if r := h.remaining(f); r["records"] == 0 {
		t.Fatalf("nothing stored: %v", r)
	}
	h.deliver(gateway.CallbackHIUConsentNotify, map[string]any{"notification": map[string]any{
		"consentRequestId": h.gatewayID(f), "status": "EXPIRED",
		"consentArtefacts": []map[string]string{{"id": f.artefact}},
	}})
	h.waitFor("purge after expiry", func() bool {
		return h.count("SELECT count(*) FROM hiu_consents WHERE artefact_id = $1 AND purged_at IS NOT NULL AND status = 'expired'", f.artefact) == 1
	})
	for what, n := range h.remaining(f) {
		if n != 0 {
			t.Errorf("%d %s left after expiry", n, what)
		}
	}
}

// TestWithConsentManagerAndRemoteHospital runs the whole flow against the
// sandbox consent manager and a remote hospital serving the shared example
// bundles: the patient approves in the CM, the hospital pushes encrypted
// pages itself, and revocation in the CM erases what arrived.
func TestWithConsentManagerAndRemoteHospital(t *testing.T) {
	const patient = "sunita.rao@sbx"
	fhir := sharedDir(t)
	ctx := context.Background()
	var hospital *remote.Hospital
	var rc remote.Config
	w := cmtest.NewWorld(t, cmtest.WorldConfig{
		Clients: func(url string) []gateway.Client {
			rc = remote.Config{PublicURL: url, RecordsDir: fhir, OnlyPatients: []string{patient}}
			return []gateway.Client{rc.GatewayClient()}
		},
		Mount: func(w *cmtest.World, mux *http.ServeMux) {
			rc.Patients = w.CM
			var err error
			if hospital, err = remote.New(rc); err != nil {
				t.Fatalf("remote.New: %v", err)
			}
			t.Cleanup(func() { _ = hospital.Close() })
			mux.Handle(remote.Prefix+"/", hospital)
		},
	})
	h := newHarnessIn(t, time.Hour, w)

	link, err := hospital.LinkPatient(ctx, patient)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := hospital.Wait(wctx, func() bool {
		for _, l := range hospital.HIPLinks() {
			if l.ID == link.ID && l.Status == remote.LinkLinked {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("linking at the remote hospital: %v", err)
	}

	now := time.Now()
	reqID, err := h.svc.CreateConsentRequest(ctx, h.tenant, h.facility, hiu.Request{
		PatientABHAAddress: patient, Purpose: abdm.PurposeCareManagement, HIP: hospital.HIPID(),
		HITypes: []abdm.HIType{
			abdm.HITypeOPConsultation, abdm.HITypePrescription, abdm.HITypeDiagnosticReport, abdm.HITypeDischargeSummary,
			abdm.HITypeImmunizationRecord, abdm.HITypeHealthDocumentRecord, abdm.HITypeWellnessRecord, abdm.HITypeInvoice,
		},
		From: now.AddDate(-30, 0, 0), To: now.Add(-time.Minute), Expiry: now.Add(24 * time.Hour), RequesterName: "Dr. Mehta",
	})
	if err != nil {
		t.Fatal(err)
	}
	var gatewayID string
	h.waitFor("consent request id", func() bool {
		rs, err := h.svc.ConsentRequests(ctx, h.tenant, hiu.Filter{PatientABHAAddress: patient})
		if err != nil || len(rs) == 0 || rs[0].ID != reqID { // newest first
			return false
		}
		if rs[0].Status == hiu.StatusFailed {
			t.Fatalf("consent request refused: %s", rs[0].LastError)
		}
		gatewayID = rs[0].GatewayID
		return gatewayID != ""
	})
	if _, err := w.CM.Approve(ctx, patient, gatewayID, cm.Grant{}); err != nil {
		t.Fatalf("approving: %v", err)
	}
	defer func() {
		if t.Failed() {
			h.dump()
		}
	}()
	h.waitFor("records from the remote hospital", func() bool {
		return h.count(`SELECT count(*) FROM hiu_data_requests d JOIN hiu_consents c ON c.id = d.consent_id
			JOIN hiu_consent_requests r ON r.id = c.consent_request_id WHERE r.id = $1 AND d.status = 'completed'`, reqID) > 0
	})
	entries, err := h.svc.PatientRecords(ctx, h.tenant, patient, hiu.RecordFilter{})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no records after the transfer: %v", err)
	}
	for _, e := range entries {
		if e.HIP != hospital.HIPID() || e.HIPName != hospital.Status().HIPName || e.CareContext == "" || e.Consent == "" {
			t.Fatalf("provenance: HIP %q named %q, care context %q, consent %q", e.HIP, e.HIPName, e.CareContext, e.Consent)
		}
	}

	if _, err := w.CM.Revoke(ctx, patient, gatewayID); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	h.waitFor("purge after revocation in the CM", func() bool {
		return h.count(`SELECT count(*) FROM hiu_consents c JOIN hiu_consent_requests r ON r.id = c.consent_request_id
			WHERE r.id = $1 AND c.purged_at IS NULL`, reqID) == 0
	})
	if left, err := h.svc.PatientRecords(ctx, h.tenant, patient, hiu.RecordFilter{}); err != nil || len(left) != 0 {
		t.Fatalf("records after revocation: %d, %v", len(left), err)
	}
	if n := h.count(`SELECT count(*) FROM hiu_pages p JOIN hiu_data_requests d ON d.id = p.data_request_id
		JOIN hiu_consents c ON c.id = d.consent_id WHERE c.consent_request_id = $1`, reqID); n != 0 {
		t.Fatalf("%d pages left after revocation", n)
	}
}

// sharedDir is ../shared/testdata/fhir next to the repository, or a skip.
func sharedDir(t *testing.T) string {
	t.Helper()
	return sharedtest.Path(t, "fhir")
}

// dump logs the HIU's state and the bridge's exchanges, for a failed test.
func (h *harness) dump() {
	ctx := context.Background()
	for _, q := range []string{
		"SELECT status || ' ' || gateway_id || ' ' || last_error FROM hiu_consent_requests",
		"SELECT status || ' ' || artefact_id || ' fetched=' || (fetched_at IS NOT NULL)::text || ' hip=' || hip_id FROM hiu_consents",
		"SELECT status || ' txn=' || transaction_id || ' ' || last_error || ' pages=' || coalesce(page_count, -1)::text FROM hiu_data_requests",
		"SELECT page_number::text || '/' || page_count::text || ' processed=' || (processed_at IS NOT NULL)::text || ' ok=' || entries_ok || ' failed=' || entries_failed FROM hiu_pages",
		"SELECT kind || ' ' || state || ' ' || attempt::text || ' ' || coalesce(errors[array_length(errors, 1)]->>'error', '') FROM river_job WHERE kind LIKE 'hiu%' ORDER BY id",
		"SELECT direction || ' ' || route || ' ' || state || ' ' || coalesce(last_status, 0)::text || ' ' || last_error FROM bridge_exchanges ORDER BY id",
	} {
		rows, err := h.db.Owner.Query(ctx, q)
		if err != nil {
			h.t.Log(err)
			continue
		}
		lines, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		h.t.Logf("%s:\n  %s", q[:40], strings.Join(lines, "\n  "))
	}
}
