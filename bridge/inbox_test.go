package bridge_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
	"github.com/sangamhealth/sangam/bridge"
)

func TestCallbackIsStoredAcknowledgedAndProcessed(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.discover", c.fn("hip.discover")))

	body := discoverBody()
	req, id := h.callback("hip.discover", h.tenant.HIPs[1], body)
	if r := send(t, req); r.status != http.StatusAccepted || r.body != "" {
		t.Fatalf("discover acknowledged with %d %q, want 202 and no body", r.status, r.body)
	}
	d := h.waitState(h.exchangeID(bridge.Inbound, id), bridge.StateProcessed)

	if got, want := eventKinds(d), []string{"received", "acknowledged", "processed"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if d.FacilityID != h.tenant.FacID[1] || d.ServiceID != h.tenant.HIPs[1] || d.ServiceRole != "HIP" || d.AckStatus != 202 {
		t.Errorf("exchange routed to facility %s (%s %s), ack %d; want facility %s", d.FacilityID, d.ServiceRole, d.ServiceID, d.AckStatus, h.tenant.FacID[1])
	}
	if c.n("hip.discover") != 1 {
		t.Fatalf("processor ran %d times, want 1", c.n("hip.discover"))
	}
	cb := c.first()
	var got abdm.DiscoverRequest
	mustNoErr(t, cb.Decode(&got))
	if diff := cmp.Diff(body, got); diff != "" {
		t.Errorf("processor got a different body (-sent +got):\n%s", diff)
	}
	if cb.RequestID != id || cb.FacilityID != h.tenant.FacID[1] || cb.Tenant != h.tenant.ID || cb.Attempt != 1 {
		t.Errorf("processor got %+v", cb)
	}
}

// forgedToken signs a callback token with a key the gateway never
// published, under the real key's kid.
func forgedToken(t *testing.T, kid string, now time.Time) string {
	t.Helper()
	other, err := abdmtest.NewSigner()
	mustNoErr(t, err)
	other.KeyID = kid
	tok, err := other.CallbackToken(now)
	mustNoErr(t, err)
	return tok
}

func TestCallbackWithBadTokenIsRefusedAndNothingStored(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.discover", c.fn("hip.discover")))
	now := time.Now()

	// A good callback first, so the gateway's keys are cached and the
	// refusals below are decided by the token, not by a key fetch.
	good, _ := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	if r := send(t, good); r.status != http.StatusAccepted {
		t.Fatalf("good callback: %d %s", r.status, r.body)
	}
	exchanges, jobs := h.tenantExchanges(), h.queueJobs()

	expired := h.signer.CallbackClaims(now.Add(-time.Hour))
	wrongAud := h.signer.CallbackClaims(now)
	wrongAud.Audience = jwt.Audience{"someone-else"}
	sign := func(alg jose.SignatureAlgorithm, claims any) string {
		tok, err := h.signer.SignWith(alg, claims)
		mustNoErr(t, err)
		return tok
	}
	otherKid, err := abdmtest.NewSigner()
	mustNoErr(t, err)
	unknownKid, err := otherKid.CallbackToken(now)
	mustNoErr(t, err)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"account","exp":9999999999}`)) + "."

	for _, tc := range []struct {
		name, auth string
	}{
		{"no header", ""},
		{"not bearer", "Basic Zm9vOmJhcg=="},
		{"garbage", "Bearer not-a-jwt"},
		{"unsigned", "Bearer " + none},
		{"forged with the gateway's kid", "Bearer " + forgedToken(t, h.signer.KeyID, now)},
		{"unknown kid", "Bearer " + unknownKid},
		{"expired", "Bearer " + sign(jose.RS256, expired)},
		{"wrong audience", "Bearer " + sign(jose.RS256, wrongAud)},
		{"RS512", "Bearer " + sign(jose.RS512, h.signer.CallbackClaims(now))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
			if tc.auth == "" {
				req.Header.Del("Authorization")
			} else {
				req.Header.Set("Authorization", tc.auth)
			}
			if r := send(t, req); r.status != http.StatusUnauthorized || r.code != "invalid_token" {
				t.Errorf("got %d %s, want 401 invalid_token", r.status, r.body)
			}
		})
	}
	if n := h.tenantExchanges(); n != exchanges {
		t.Errorf("%d exchanges stored after refusals, want %d", n, exchanges)
	}
	if n := h.queueJobs(); n != jobs {
		t.Errorf("%d jobs after refusals, want %d", n, jobs)
	}
}

func TestCallbackKeysUnavailableAnswers503(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.gw.Handle(http.MethodGet, abdm.PathCerts, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	req, _ := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	r := send(t, req)
	if r.status != http.StatusServiceUnavailable || r.code != "keys_unavailable" {
		t.Fatalf("got %d %s, want 503 keys_unavailable", r.status, r.body)
	}
	if n := h.tenantExchanges(); n != 0 {
		t.Errorf("%d exchanges stored, want none", n)
	}
}

func TestCallbackForUnknownTenantIs404(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	req, _, err := abdmtest.NewCallbackRequest(context.Background(), h.signer, h.url+"/bridge/no-such-tenant",
		route(t, "hip.discover"), h.tenant.HIPs[0], discoverBody())
	mustNoErr(t, err)
	if r := send(t, req); r.status != http.StatusNotFound || r.code != "unknown_tenant" {
		t.Fatalf("got %d %s, want 404 unknown_tenant", r.status, r.body)
	}
}

func TestCallbackForAnotherTenantsHIPIsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	other := newTenant(t, h.db, "Other "+randomSuffix(), 1)
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.discover", c.fn("hip.discover")))

	req, id := h.callback("hip.discover", other.HIPs[0], discoverBody())
	r := send(t, req)
	if r.status != http.StatusNotFound || r.code != "unknown_service_id" || !strings.Contains(r.body, other.HIPs[0]) {
		t.Fatalf("got %d %s, want 404 unknown_service_id naming %s", r.status, r.body, other.HIPs[0])
	}
	// The refusal is visible to operators, without the body, and nothing
	// was queued.
	refused, err := h.bridge.Timeline(context.Background(), h.tenant.ID, bridge.Filter{State: bridge.StateRefused})
	mustNoErr(t, err)
	if len(refused) != 1 || refused[0].RequestID != id || refused[0].ServiceID != other.HIPs[0] {
		t.Fatalf("refused exchanges %+v, want the one callback", refused)
	}
	d, err := h.bridge.Exchange(context.Background(), h.tenant.ID, refused[0].ID)
	mustNoErr(t, err)
	if d.Body != nil || !slices.Equal(eventKinds(d), []string{"refused"}) {
		t.Errorf("refused exchange kept body %q, events %v", d.Body, eventKinds(d))
	}
	if n := h.queueJobs(); n != 0 {
		t.Errorf("%d jobs queued, want none", n)
	}
	// The other tenant sees nothing either.
	xs, err := h.bridge.Timeline(context.Background(), other.ID, bridge.Filter{})
	mustNoErr(t, err)
	if len(xs) != 0 {
		t.Errorf("other tenant sees %d exchanges", len(xs))
	}
	if c.n("hip.discover") != 0 {
		t.Error("processor ran for a refused callback")
	}
}

func TestDuplicateDeliveryIsProcessedOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.consent_notify", c.fn("hip.consent_notify")))
	body := json.RawMessage(`{"notification":{"status":"GRANTED","consentId":"c-1","consentDetail":{"consentId":"c-1"}}}`)

	req, id := h.callback("hip.consent_notify", h.tenant.HIPs[0], body)
	for i := range 3 {
		if r := send(t, req); r.status != http.StatusOK {
			t.Fatalf("delivery %d: %d %s, want 200 (the route's ack) every time", i+1, r.status, r.body)
		}
	}
	x := h.exchangeID(bridge.Inbound, id)
	d := h.waitState(x, bridge.StateProcessed)
	// Processing may finish before or between the redeliveries.
	got := eventKinds(d)
	slices.Sort(got)
	if want := []string{"acknowledged", "duplicate", "duplicate", "processed", "received"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want (in some order) %v", eventKinds(d), want)
	}
	if n := h.count("SELECT count(*) FROM river_job WHERE queue = $1 AND (args->>'exchange')::bigint = $2", h.queue, x); n != 1 {
		t.Errorf("%d processing jobs, want 1", n)
	}
	if c.n("hip.consent_notify") != 1 {
		t.Errorf("processed %d times, want 1", c.n("hip.consent_notify"))
	}
}

func TestSameRequestIDWithDifferentBodyIsRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.discover", c.fn("hip.discover")))

	first, id := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	if r := send(t, first); r.status != http.StatusAccepted {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	second, _ := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	second.Header.Set(abdm.HeaderRequestID, id)
	if r := send(t, second); r.status != http.StatusConflict || r.code != "request_id_reused" {
		t.Fatalf("second: %d %s, want 409 request_id_reused", r.status, r.body)
	}
	d := h.waitState(h.exchangeID(bridge.Inbound, id), bridge.StateProcessed)
	if !slices.Contains(eventKinds(d), "conflict") {
		t.Errorf("timeline %v has no conflict event", eventKinds(d))
	}
	if c.n("hip.discover") != 1 {
		t.Errorf("processed %d times, want 1", c.n("hip.discover"))
	}
}

func TestMalformedCallbacksGetClear400s(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *bridge.Config) { c.MaxBodyBytes = 4096 }})
	for _, tc := range []struct {
		name    string
		route   string
		body    string
		mod     func(*http.Request)
		status  int
		code    string
		mention string
	}{
		{name: "no REQUEST-ID", route: "hip.discover", body: `{}`, mod: func(r *http.Request) { r.Header.Del(abdm.HeaderRequestID) },
			status: 400, code: "missing_request_id", mention: "REQUEST-ID"},
		{name: "no X-HIP-ID", route: "hip.discover", body: `{}`, mod: func(r *http.Request) { r.Header.Del(abdm.HeaderHIPID) },
			status: 400, code: "missing_service_id", mention: "X-HIP-ID"},
		{name: "HIU route without X-HIU-ID", route: "hiu.consent_notify", body: `{}`,
			mod:    func(r *http.Request) { r.Header.Del(abdm.HeaderHIUID); r.Header.Set(abdm.HeaderHIPID, "x") },
			status: 400, code: "missing_service_id", mention: "X-HIU-ID"},
		{name: "empty body", route: "hip.discover", body: ``, status: 400, code: "empty_body"},
		{name: "unparsable JSON", route: "hip.discover", body: `{"transactionId": "t",`, status: 400, code: "invalid_json", mention: "not valid JSON"},
		{name: "array", route: "hip.discover", body: `[{}]`, status: 400, code: "invalid_json", mention: "JSON object"},
		{name: "wrong field type", route: "hip.discover", body: `{"transactionId": 12}`, status: 400, code: "invalid_body", mention: "transactionId"},
		{name: "result without response.requestId", route: "hip.on_generate_token", body: `{"linkToken":"x"}`,
			status: 400, code: "missing_response_request_id", mention: "response.requestId"},
		{name: "too large", route: "hip.discover", body: `{"transactionId":"` + strings.Repeat("x", 5000) + `"}`,
			status: 413, code: "body_too_large", mention: "4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := h.callback(tc.route, h.tenant.HIPs[0], json.RawMessage(`{}`))
			req.Body = io.NopCloser(strings.NewReader(tc.body))
			req.ContentLength = int64(len(tc.body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(tc.body)), nil }
			if tc.mod != nil {
				tc.mod(req)
			}
			r := send(t, req)
			if r.status != tc.status || r.code != tc.code || !strings.Contains(r.body, tc.mention) {
				t.Errorf("got %d %s, want %d %s mentioning %q", r.status, r.body, tc.status, tc.code, tc.mention)
			}
		})
	}
	if n := h.tenantExchanges(); n != 0 {
		t.Errorf("%d exchanges stored, want none", n)
	}
}

// TestAcknowledgedCallbackSurvivesRestart acknowledges a callback while no
// worker runs (the process died right after answering), then starts a
// fresh job client, as a restarted process would, and sees it processed.
func TestAcknowledgedCallbackSurvivesRestart(t *testing.T) {
	h := newHarness(t, harnessOptions{noWorkers: true})
	var c counter
	mustNoErr(t, h.bridge.Handle("hiu.consent_notify", c.fn("hiu.consent_notify")))

	req, id := h.callback("hiu.consent_notify", h.tenant.HIPs[0],
		json.RawMessage(`{"notification":{"consentRequestId":"cr-1","status":"GRANTED","consentArtefacts":[{"id":"a-1"}]}}`))
	if r := send(t, req); r.status != http.StatusOK {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	x := h.exchangeID(bridge.Inbound, id)
	if n := h.count("SELECT count(*) FROM river_job WHERE queue = $1 AND state = 'available'", h.queue); n != 1 {
		t.Fatalf("%d available jobs after the acknowledgement, want 1", n)
	}
	d, err := h.bridge.Exchange(context.Background(), h.tenant.ID, x)
	mustNoErr(t, err)
	if d.State != bridge.StateAcknowledged || c.n("hiu.consent_notify") != 0 {
		t.Fatalf("before restart: state %s, processed %d times", d.State, c.n("hiu.consent_notify"))
	}

	h.startJobs()
	h.waitState(x, bridge.StateProcessed)
	if c.n("hiu.consent_notify") != 1 {
		t.Errorf("processed %d times, want 1", c.n("hiu.consent_notify"))
	}
}

func TestCallbackWithoutProcessorIsUnhandledThenReplayable(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	req, id := h.callback("hip.link_init", h.tenant.HIPs[0], json.RawMessage(`{"transactionId":"t-1","abhaAddress":"a@sbx","patient":[]}`))
	if r := send(t, req); r.status != http.StatusOK {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	x := h.exchangeID(bridge.Inbound, id)
	d := h.waitState(x, bridge.StateUnhandled)
	if !slices.Contains(eventKinds(d), "unhandled") || !strings.Contains(timeline(d), "hip.link_init") {
		t.Errorf("timeline does not say why:\n%s", timeline(d))
	}
	unhandled, err := h.bridge.Timeline(context.Background(), h.tenant.ID, bridge.Filter{State: bridge.StateUnhandled})
	mustNoErr(t, err)
	if len(unhandled) != 1 || !unhandled[0].IsReplayable() {
		t.Fatalf("ops filter for unhandled: %+v", unhandled)
	}

	var c counter
	mustNoErr(t, h.bridge.Handle("hip.link_init", c.fn("hip.link_init")))
	mustNoErr(t, h.bridge.Replay(context.Background(), h.tenant.ID, x))
	d = h.waitState(x, bridge.StateProcessed)
	if got, want := eventKinds(d), []string{"received", "acknowledged", "unhandled", "replayed", "processed"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if c.n("hip.link_init") != 1 {
		t.Errorf("processed %d times, want 1", c.n("hip.link_init"))
	}
}

func TestProcessorErrorsAreRetriedThenFail(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *bridge.Config) { c.ProcessMaxAttempts = 3 }})
	var runs atomic.Int32
	mustNoErr(t, h.bridge.Handle("hip.discover", func(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
		n := int(runs.Add(1))
		// A write that must not survive a failed run.
		if _, err := tx.Exec(ctx, "UPDATE bridge_exchanges SET last_error_code = 'written-by-processor' WHERE id = $1", cb.ExchangeID); err != nil {
			return err
		}
		if cb.Attempt != n {
			t.Errorf("attempt %d on run %d", cb.Attempt, n)
		}
		return errBoom
	}))
	req, id := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	if r := send(t, req); r.status != http.StatusAccepted {
		t.Fatalf("got %d", r.status)
	}
	d := h.waitState(h.exchangeID(bridge.Inbound, id), bridge.StateFailed)
	want := []string{"received", "acknowledged", "process_failed", "process_failed", "failed"}
	if got := eventKinds(d); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if runs.Load() != 3 || d.Attempts != 3 || d.LastError != "boom" || d.LastErrorCode != "" {
		t.Errorf("runs %d, attempts %d, last error %q, code %q (the processor's write must roll back)", runs.Load(), d.Attempts, d.LastError, d.LastErrorCode)
	}
	if !d.IsReplayable() {
		t.Error("a failed callback should be replayable")
	}
}

func TestRequestBodyIsStoredByteForByte(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	raw := []byte("{\"transactionId\":\"t\",  \"patient\":{\"id\":\"a@sbx\",\"name\":\"\u0905\u0936\u093e\",\"gender\":\"F\",\"yearOfBirth\":1990}, \"extra\":[1,2.50]}")
	req, id := h.callback("hip.discover", h.tenant.HIPs[0], json.RawMessage(raw))
	req.Body = io.NopCloser(bytes.NewReader(raw))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	req.ContentLength = int64(len(raw))
	if r := send(t, req); r.status != http.StatusAccepted {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	d, err := h.bridge.Exchange(context.Background(), h.tenant.ID, h.exchangeID(bridge.Inbound, id))
	mustNoErr(t, err)
	if !bytes.Equal(d.Body, raw) {
		t.Errorf("stored body %q, want %q", d.Body, raw)
	}
}
