package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
)

// enqueue sends call from a transaction of the harness tenant, as a domain
// package would.
func (h *harness) enqueue(call bridge.OutboundCall) bridge.Sent {
	h.t.Helper()
	if call.Tenant == "" {
		call.Tenant = h.tenant.ID
	}
	var sent bridge.Sent
	err := database.InTenant(context.Background(), h.db.App, call.Tenant, func(tx pgx.Tx) error {
		var err error
		sent, err = h.bridge.Send(context.Background(), tx, call)
		return err
	})
	if err != nil {
		h.t.Fatalf("Send: %v", err)
	}
	return sent
}

func (h *harness) generateToken() bridge.OutboundCall {
	return bridge.OutboundCall{
		Path:  abdm.PathGenerateToken,
		HIPID: h.tenant.HIPs[0],
		Body:  abdm.GenerateTokenRequest{ABHAAddress: "someone@sbx", Name: "Asha Rao", Gender: abdm.GenderFemale, YearOfBirth: 1990},
	}
}

// script answers a gateway path with the given statuses in turn (the last
// one repeats); 0 means "hang longer than the client waits".
func script(gw *abdmtest.Gateway, path string, hang time.Duration, statuses ...int) *atomic.Int32 {
	var n atomic.Int32
	gw.Handle(http.MethodPost, path, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		status := statuses[min(i, len(statuses)-1)]
		switch {
		case status == 0:
			time.Sleep(hang)
			w.WriteHeader(http.StatusAccepted)
		case status >= 400:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			code := "ABDM-1024"
			if status < 500 {
				code = "ABDM-1006"
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": "scripted"}})
		default:
			w.WriteHeader(status)
		}
	})
	return &n
}

func requestIDs(gw *abdmtest.Gateway, path string) []string {
	var ids []string
	for _, r := range gw.RequestsTo(path) {
		ids = append(ids, r.Header.Get(abdm.HeaderRequestID))
	}
	return ids
}

func TestSendRetriesUnavailableGatewayUntilDelivered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	script(h.gw, abdm.PathGenerateToken, 0, 503, 500, 202)
	sent := h.enqueue(h.generateToken())

	d := h.waitState(sent.ExchangeID, bridge.StateDelivered)
	ids := requestIDs(h.gw, abdm.PathGenerateToken)
	if len(ids) != 3 || ids[0] != sent.RequestID || ids[1] != sent.RequestID || ids[2] != sent.RequestID {
		t.Errorf("gateway saw REQUEST-IDs %v, want %s three times", ids, sent.RequestID)
	}
	want := []string{"queued", "attempt", "attempt", "attempt", "delivered"}
	if got := eventKinds(d); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v\n%s", got, want, timeline(d))
	}
	if d.Attempts != 3 || d.LastStatus != 202 || d.Events[1].HTTPStatus != 503 || !strings.Contains(d.Events[1].Detail, "will retry") {
		t.Errorf("attempts %d, last status %d, first attempt %+v", d.Attempts, d.LastStatus, d.Events[1])
	}
	got := h.gw.RequestsTo(abdm.PathGenerateToken)[2]
	if got.Header.Get(abdm.HeaderHIPID) != h.tenant.HIPs[0] || !strings.Contains(string(got.Body), `"abhaAddress":"someone@sbx"`) {
		t.Errorf("gateway got headers %v body %s", got.Header, got.Body)
	}
	if d.FacilityID != h.tenant.FacID[0] {
		t.Errorf("call not tied to facility: %q", d.FacilityID)
	}
}

func TestSendRetriesTimeouts(t *testing.T) {
	h := newHarness(t, harnessOptions{httpTimeout: 300 * time.Millisecond})
	script(h.gw, abdm.PathGenerateToken, time.Second, 0, 202)
	sent := h.enqueue(h.generateToken())
	d := h.waitState(sent.ExchangeID, bridge.StateDelivered)
	if d.Attempts != 2 || !strings.Contains(d.Events[1].Detail, "gateway unavailable") {
		t.Errorf("attempts %d, first attempt %+v", d.Attempts, d.Events[1])
	}
	if ids := requestIDs(h.gw, abdm.PathGenerateToken); len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("REQUEST-IDs %v, want the same twice", ids)
	}
}

func TestSendRefusedByGatewayIsDeadLetteredAtOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	script(h.gw, abdm.PathGenerateToken, 0, 400)
	sent := h.enqueue(h.generateToken())
	d := h.waitState(sent.ExchangeID, bridge.StateDeadLettered)
	if d.Attempts != 1 || d.LastStatus != 400 || d.LastErrorCode != "ABDM-1006" {
		t.Errorf("attempts %d, status %d, code %q", d.Attempts, d.LastStatus, d.LastErrorCode)
	}
	if want := []string{"queued", "attempt", "dead_lettered"}; !slices.Equal(eventKinds(d), want) {
		t.Errorf("timeline %v, want %v", eventKinds(d), want)
	}
	waitJobState(t, h, sent.JobID, "cancelled")
}

func waitJobState(t *testing.T, h *harness, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var state string
		mustNoErr(t, h.db.Owner.QueryRow(context.Background(), "SELECT state FROM river_job WHERE id = $1", id).Scan(&state))
		if state == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s, want %s", id, state, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSendAttemptsExhaustedIsDeadLettered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	script(h.gw, abdm.PathGenerateToken, 0, 502)
	call := h.generateToken()
	call.MaxAttempts = 3
	sent := h.enqueue(call)
	d := h.waitState(sent.ExchangeID, bridge.StateDeadLettered)
	if n := len(h.gw.RequestsTo(abdm.PathGenerateToken)); n != 3 || d.Attempts != 3 || d.MaxAttempts != 3 {
		t.Errorf("gateway called %d times, attempts %d of %d; want 3 of 3", n, d.Attempts, d.MaxAttempts)
	}
	last := d.Events[len(d.Events)-1]
	if last.Kind != "dead_lettered" || !strings.Contains(last.Detail, "no attempts left") {
		t.Errorf("last event %+v", last)
	}
	waitJobState(t, h, sent.JobID, "discarded")
}

func TestReplayAfterOutageKeepsRequestID(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	call := h.generateToken()
	call.MaxAttempts = 2
	script(h.gw, abdm.PathGenerateToken, 0, 503, 503, 202)
	sent := h.enqueue(call)
	h.waitState(sent.ExchangeID, bridge.StateDeadLettered)

	mustNoErr(t, h.bridge.Replay(context.Background(), h.tenant.ID, sent.ExchangeID))
	d := h.waitState(sent.ExchangeID, bridge.StateDelivered)
	ids := requestIDs(h.gw, abdm.PathGenerateToken)
	if len(ids) != 3 || slices.ContainsFunc(ids, func(id string) bool { return id != sent.RequestID }) {
		t.Errorf("REQUEST-IDs %v, want %s every time", ids, sent.RequestID)
	}
	if !slices.Contains(eventKinds(d), "replayed") || !strings.Contains(timeline(d), "same REQUEST-ID") {
		t.Errorf("timeline:\n%s", timeline(d))
	}
	// Delivered calls cannot be replayed.
	if err := h.bridge.Replay(context.Background(), h.tenant.ID, sent.ExchangeID); !errors.Is(err, bridge.ErrNotReplayable) {
		t.Errorf("replaying a delivered call: %v, want ErrNotReplayable", err)
	}
}

func TestReplayAfterRefusalUsesFreshRequestID(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	script(h.gw, abdm.PathGenerateToken, 0, 400, 202)
	sent := h.enqueue(h.generateToken())
	h.waitState(sent.ExchangeID, bridge.StateDeadLettered)

	mustNoErr(t, h.bridge.Replay(context.Background(), h.tenant.ID, sent.ExchangeID))
	d := h.waitState(sent.ExchangeID, bridge.StateDelivered)
	ids := requestIDs(h.gw, abdm.PathGenerateToken)
	if len(ids) != 2 || ids[0] != sent.RequestID || ids[1] == sent.RequestID || ids[1] != d.RequestID {
		t.Errorf("REQUEST-IDs %v (exchange now %s), want %s then a fresh one", ids, d.RequestID, sent.RequestID)
	}
}

func TestDuplicateAnswerAfterLostAcknowledgementCountsAsDelivered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// The first send reaches the gateway but its answer is lost (500);
	// the retry is refused as a repeated REQUEST-ID, proving the first got
	// through.
	var n atomic.Int32
	h.gw.Handle(http.MethodPost, abdm.PathOnDiscover, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"code":"ABDM-1064","message":"request with this request id already exists"}}`))
	})
	sent := h.enqueue(bridge.OutboundCall{Path: abdm.PathOnDiscover, HIPID: h.tenant.HIPs[0],
		Body: abdm.OnDiscoverRequest{TransactionID: "t", Response: abdm.ResponseRef{RequestID: "r-1"}}})
	d := h.waitState(sent.ExchangeID, bridge.StateDelivered)
	if !strings.Contains(timeline(d), "earlier send of this REQUEST-ID got through") {
		t.Errorf("timeline:\n%s", timeline(d))
	}
}

func TestCallWithoutCredentialsIsDeadLettered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	other := newTenant(t, h.db, "No creds "+randomSuffix(), 1)
	call := h.generateToken()
	call.Tenant, call.HIPID = other.ID, other.HIPs[0]
	sent := h.enqueue(call)
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := h.bridge.Exchange(context.Background(), other.ID, sent.ExchangeID)
		mustNoErr(t, err)
		if d.State == bridge.StateDeadLettered {
			if d.Attempts != 1 || !strings.Contains(timeline(d), "no ABDM credentials") {
				t.Errorf("attempts %d; timeline:\n%s", d.Attempts, timeline(d))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %s:\n%s", d.State, timeline(d))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(h.gw.RequestsTo(abdm.PathGenerateToken)); n != 0 {
		t.Errorf("gateway called %d times without credentials", n)
	}
}

func TestSendRefusesCallsThatCannotSucceed(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, tc := range []struct {
		name string
		call bridge.OutboundCall
	}{
		{"missing X-HIP-ID", bridge.OutboundCall{Path: abdm.PathGenerateToken, Body: json.RawMessage(`{}`)}},
		{"missing X-HIU-ID", bridge.OutboundCall{Path: abdm.PathConsentRequestInit, Body: json.RawMessage(`{}`)}},
		{"relative path", bridge.OutboundCall{Path: "v3/token/generate-token", HIPID: "x"}},
		{"invalid JSON", bridge.OutboundCall{Path: abdm.PathOnDiscover, Body: json.RawMessage(`{`)}},
		{"reply without the echo", bridge.OutboundCall{Path: abdm.PathOnDiscover, RespondsTo: "in-1",
			Body: abdm.OnDiscoverRequest{Response: abdm.ResponseRef{RequestID: "other"}}}},
		{"link token without a source", bridge.OutboundCall{Path: abdm.PathLinkCareContext, HIPID: "x", LinkTokenName: "t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.call.Tenant = h.tenant.ID
			err := database.InTenant(context.Background(), h.db.App, h.tenant.ID, func(tx pgx.Tx) error {
				_, err := h.bridge.Send(context.Background(), tx, tc.call)
				return err
			})
			if !errors.Is(err, bridge.ErrInvalidCall) {
				t.Errorf("Send: %v, want ErrInvalidCall", err)
			}
		})
	}
	if n := h.tenantExchanges(); n != 0 {
		t.Errorf("%d exchanges stored, want none", n)
	}
}

func TestRolledBackSendSendsNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	err := database.InTenant(context.Background(), h.db.App, h.tenant.ID, func(tx pgx.Tx) error {
		call := h.generateToken()
		call.Tenant = h.tenant.ID
		if _, err := h.bridge.Send(context.Background(), tx, call); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	if n, j := h.tenantExchanges(), h.queueJobs(); n != 0 || j != 0 {
		t.Errorf("%d exchanges and %d jobs after rollback", n, j)
	}
}

// TestResultCallbackIsLinkedToItsCall sends generate-token, then delivers
// the gateway's on-generate-token quoting our REQUEST-ID, and checks both
// sides of the link.
func TestResultCallbackIsLinkedToItsCall(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.on_generate_token", c.fn("hip.on_generate_token")))
	sent := h.enqueue(h.generateToken())
	h.waitState(sent.ExchangeID, bridge.StateDelivered)

	req, id := h.callback("hip.on_generate_token", h.tenant.HIPs[0],
		abdm.OnGenerateTokenRequest{ABHAAddress: "someone@sbx", LinkToken: "tok", Response: abdm.ResponseRef{RequestID: sent.RequestID}})
	if r := send(t, req); r.status != http.StatusOK {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	in := h.waitState(h.exchangeID(bridge.Inbound, id), bridge.StateProcessed)
	if in.RelatedID != sent.ExchangeID || in.CorrelationID != sent.RequestID {
		t.Errorf("callback related to %d via %q, want %d via %s", in.RelatedID, in.CorrelationID, sent.ExchangeID, sent.RequestID)
	}
	if cb := c.first(); cb.RelatedID != sent.ExchangeID {
		t.Errorf("processor saw RelatedID %d, want %d", cb.RelatedID, sent.ExchangeID)
	}
	out, err := h.bridge.Exchange(context.Background(), h.tenant.ID, sent.ExchangeID)
	mustNoErr(t, err)
	if !slices.Contains(eventKinds(out), "answered") || len(out.Related) != 1 || out.Related[0].RequestID != id {
		t.Errorf("call timeline %v, related %+v", eventKinds(out), out.Related)
	}
}

// TestReplyToCallbackMarksItReplied has the discover processor queue its
// on-discover in the processing transaction and follows it to delivery.
func TestReplyToCallbackMarksItReplied(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var (
		mu      sync.Mutex
		replies []bridge.Sent
	)
	mustNoErr(t, h.bridge.Handle("hip.discover", func(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
		var in abdm.DiscoverRequest
		if err := cb.Decode(&in); err != nil {
			return err
		}
		sent, err := h.bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: cb.Tenant, Path: abdm.PathOnDiscover, HIPID: cb.ServiceID, RespondsTo: cb.RequestID,
			Body: abdm.OnDiscoverRequest{TransactionID: in.TransactionID,
				Error: &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}, Response: abdm.ResponseRef{RequestID: cb.RequestID}},
		})
		mu.Lock()
		replies = append(replies, sent)
		mu.Unlock()
		return err
	}))
	req, id := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	if r := send(t, req); r.status != http.StatusAccepted {
		t.Fatalf("got %d", r.status)
	}
	in := h.waitState(h.exchangeID(bridge.Inbound, id), bridge.StateReplied)
	if got, want := eventKinds(in), []string{"received", "acknowledged", "processed", "replied"}; !slices.Equal(got, want) {
		t.Errorf("callback timeline %v, want %v", got, want)
	}
	mu.Lock()
	reply := replies[0]
	mu.Unlock()
	out, err := h.bridge.Exchange(context.Background(), h.tenant.ID, reply.ExchangeID)
	mustNoErr(t, err)
	if out.State != bridge.StateDelivered || out.CorrelationID != id || out.RelatedID != in.ID {
		t.Errorf("reply %s, correlation %q related %d; want delivered, %s, %d", out.State, out.CorrelationID, out.RelatedID, id, in.ID)
	}
	got := h.gw.RequestsTo(abdm.PathOnDiscover)
	if len(got) != 1 || !strings.Contains(string(got[0].Body), `"requestId":"`+id+`"`) || got[0].Header.Get(abdm.HeaderRequestID) != reply.RequestID {
		t.Errorf("gateway got %d on-discover calls: %+v", len(got), got)
	}
}

// TestSendInterruptedByShutdownIsRetriedAfterRestart stops the job client
// while a call hangs at the gateway, then restarts it: the interrupted
// attempt does not use up attempts, and the call goes out again with the
// same REQUEST-ID.
func TestSendInterruptedByShutdownIsRetriedAfterRestart(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	arrived := make(chan struct{}, 1)
	var n atomic.Int32
	h.gw.Handle(http.MethodPost, abdm.PathGenerateToken, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			arrived <- struct{}{}
			<-r.Context().Done() // hang until the client gives up
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	call := h.generateToken()
	call.MaxAttempts = 1 // an attempt counted against it would dead-letter the call
	sent := h.enqueue(call)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the call never reached the gateway")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mustNoErr(t, h.jobs.StopAndCancel(ctx))

	d, err := h.bridge.Exchange(ctx, h.tenant.ID, sent.ExchangeID)
	mustNoErr(t, err)
	if d.State != bridge.StateQueued || !strings.Contains(timeline(d), "interrupted") {
		t.Fatalf("after the stop: %s\n%s", d.State, timeline(d))
	}
	h.startJobs()
	d = h.waitState(sent.ExchangeID, bridge.StateDelivered)
	if ids := requestIDs(h.gw, abdm.PathGenerateToken); len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("REQUEST-IDs %v, want the same twice", ids)
	}
}
