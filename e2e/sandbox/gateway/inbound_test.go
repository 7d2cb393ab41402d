package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

const pathOnDiscover = "/user-initiated-linking/v3/patient/care-context/on-discover"

func onDiscover(requestID string) map[string]any {
	return map[string]any{
		"transactionId": discoverBody["transactionId"],
		"patient":       []any{},
		"response":      map[string]string{"requestId": requestID},
	}
}

func TestAnswersMustEchoADeliveredCallback(t *testing.T) {
	clk := &clock{t: time.Now()}
	b := setup(t, withClock(clk))
	br := newBridge(t)
	b.register(br)
	ctx := context.Background()
	discover, err := b.g.Deliver(ctx, gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipA, Body: discoverBody})
	if err != nil {
		t.Fatal(err)
	}
	share, err := b.g.Deliver(ctx, gateway.Callback{Path: gateway.CallbackShare, HIPID: hipA, Body: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	tokenB := b.session(clientB, secretB)

	refused := []struct {
		name string
		body any
		mods []func(*http.Request)
		code string
	}{
		{"unknown requestId", onDiscover(uuid.NewString()), nil, "ABDM-2500"},
		{"requestId of a share, not a discover", onDiscover(share.RequestID), nil, "ABDM-2500"},
		{"another client answering", onDiscover(discover.RequestID), []func(*http.Request){bearer(tokenB)}, "ABDM-2500"},
		{"no response object", map[string]any{"transactionId": "x"}, nil, "ABDM-1006: "},
		{"empty requestId", onDiscover(""), nil, "ABDM-1006: "},
	}
	for _, tt := range refused {
		status, raw := b.call(http.MethodPost, pathOnDiscover, tt.body, tt.mods...)
		if code, _ := nestedError(t, raw); status != 400 || code != tt.code {
			t.Errorf("%s: %d %s; want 400 %s", tt.name, status, raw, tt.code)
		}
	}

	answerID := uuid.NewString()
	status, raw := b.call(http.MethodPost, pathOnDiscover, onDiscover(discover.RequestID), header("REQUEST-ID", answerID))
	if status != http.StatusAccepted || len(raw) != 0 {
		t.Fatalf("on-discover echoing the delivery: %d %s; want 202", status, raw)
	}
	ms := b.g.Messages(gateway.Filter{RequestID: answerID})
	if len(ms) != 1 || ms[0].Answers != discover.RequestID || ms[0].ClientID != clientA || ms[0].Status != 202 {
		t.Errorf("recorded answer %+v; want it to name the discover delivery", ms)
	}
	if ds := b.g.Deliveries(gateway.Filter{RequestID: discover.RequestID}); len(ds) != 1 || len(ds[0].AnsweredBy) != 1 || ds[0].AnsweredBy[0] != answerID {
		t.Errorf("delivery %+v; want answered by %s", ds, answerID)
	}

	// A second on-discover for the same event is a duplicate.
	status, raw = b.call(http.MethodPost, pathOnDiscover, onDiscover(discover.RequestID))
	if code, msg := nestedError(t, raw); status != 400 || code != "ABDM-1106" || msg != "Duplicate On discovery request" {
		t.Errorf("second on-discover: %d %s; want 400 ABDM-1106", status, raw)
	}

	// The share is answered by on-share; after the answer window it is too late.
	clk.Advance(5*time.Minute + time.Second)
	status, raw = b.call(http.MethodPost, "/patient-share/v3/on-share", map[string]any{
		"acknowledgement": map[string]any{"status": "SUCCESS"}, "response": map[string]string{"requestId": share.RequestID},
	})
	if code, _ := nestedError(t, raw); status != 400 || code != "ABDM-2500" {
		t.Errorf("on-share after the window: %d %s; want 400 ABDM-2500", status, raw)
	}
}

func TestDroppedDeliveriesCannotBeAnswered(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	b.setFaults("", gateway.Faults{DropDeliveries: 1})
	d, err := b.g.Deliver(context.Background(), gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipA, Body: discoverBody})
	if err != nil || d.State != gateway.StateDropped {
		t.Fatalf("Deliver = %+v, %v; want dropped", d, err)
	}
	status, raw := b.call(http.MethodPost, pathOnDiscover, onDiscover(d.RequestID))
	if code, _ := nestedError(t, raw); status != 400 || code != "ABDM-2500" {
		t.Errorf("answer to a dropped delivery: %d %s; want 400 ABDM-2500", status, raw)
	}
}

// A bridge may send its on-* before it acknowledges the callback
// (care_abdm answers on-discover inline); the gateway must already know the
// delivery.
func TestAnswerSentWhileTheCallbackIsInFlight(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	answered := make(chan int, 1)
	br.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		status, _ := b.call(http.MethodPost, pathOnDiscover, onDiscover(r.Header.Get("REQUEST-ID")))
		answered <- status
		w.WriteHeader(http.StatusOK)
	}
	b.register(br)
	if _, err := b.g.Deliver(context.Background(), gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipA, Body: discoverBody}); err != nil {
		t.Fatal(err)
	}
	if status := <-answered; status != http.StatusAccepted {
		t.Errorf("inline on-discover: status %d; want 202", status)
	}
}

func TestEveryBridgeToGatewayPathIsAccepted(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	ctx := context.Background()
	deliver := func(path, hip, hiu string) string {
		d, err := b.g.Deliver(ctx, gateway.Callback{Path: path, HIPID: hip, HIUID: hiu, Body: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		br.next(t)
		return d.RequestID
	}
	answer := func(id string) map[string]any { return map[string]any{"response": map[string]string{"requestId": id}} }
	hip, hiu, link := header("X-HIP-ID", hipA), header("X-HIU-ID", hiuA), header("X-LINK-TOKEN", "eyJhbGciOiJSUzUxMiJ9.e30.sig")

	tests := []struct {
		path       string
		body       any
		mods       []func(*http.Request)
		wantStatus int
		wantBody   string
	}{
		{"/v3/token/generate-token", map[string]any{"abhaAddress": "someone@sbx"}, []func(*http.Request){hip}, 202, ""},
		{"/hip/v3/link/carecontext", map[string]any{"patient": []any{}}, []func(*http.Request){hip, link}, 202, ""},
		{"/hip/v3/link/context/notify", map[string]any{"notification": map[string]any{}}, []func(*http.Request){hip}, 202, ""},
		{"/hip/v3/link/patient/links/sms/notify2", map[string]any{"notification": map[string]any{}}, nil, 202, ""},
		{"/patient-share/v3/on-share", answer(deliver(gateway.CallbackShare, hipA, "")), []func(*http.Request){hip}, 202, ""},
		{"/user-initiated-linking/v3/patient/care-context/on-discover", answer(deliver(gateway.CallbackDiscover, hipA, "")), nil, 202, ""},
		{"/user-initiated-linking/v3/link/care-context/on-init", answer(deliver(gateway.CallbackLinkInit, hipA, "")), nil, 202, ""},
		{"/user-initiated-linking/v3/link/care-context/on-confirm", answer(deliver(gateway.CallbackLinkConfirm, hipA, "")), nil, 202, ""},
		{"/consent/v3/request/hip/on-notify", answer(deliver(gateway.CallbackHIPConsentNotify, hipA, "")), nil, 202, ""},
		{"/data-flow/v3/health-information/hip/on-request", answer(deliver(gateway.CallbackHIPHIRequest, hipA, "")), nil, 200, ""},
		{"/data-flow/v3/health-information/notify", map[string]any{"notification": map[string]any{}}, nil, 202, `{"status":"Notification is Accepted"}`},
		{"/consent/v3/request/init", map[string]any{"consent": map[string]any{}}, []func(*http.Request){hiu}, 202, ""},
		{"/consent/v3/request/status", map[string]any{"consentRequestId": uuid.NewString()}, []func(*http.Request){hiu}, 202, ""},
		{"/consent/v3/request/hiu/on-notify", answer(deliver(gateway.CallbackHIUConsentNotify, "", hiuA)), []func(*http.Request){hiu}, 202, ""},
		{"/consent/v3/fetch", map[string]any{"consentId": uuid.NewString()}, []func(*http.Request){hiu}, 202, ""},
		{"/data-flow/v3/health-information/request", map[string]any{"hiRequest": map[string]any{}}, []func(*http.Request){hiu}, 202, ""},
	}
	for _, tt := range tests {
		status, raw := b.call(http.MethodPost, tt.path, tt.body, tt.mods...)
		if status != tt.wantStatus || string(raw) != tt.wantBody {
			t.Errorf("POST %s: %d %s; want %d %s", tt.path, status, raw, tt.wantStatus, tt.wantBody)
		}
	}

	// Every call is stored and can be listed by path and client.
	status, raw := b.control(http.MethodGet, "/messages?path=/consent/v3/fetch&client="+clientA, nil)
	var list struct {
		Messages []gateway.Message `json:"messages"`
	}
	mustUnmarshal(t, raw, &list)
	if status != 200 || len(list.Messages) != 1 || list.Messages[0].HIUID != hiuA || !contains(list.Messages[0].Body, `"consentId"`) {
		t.Errorf("messages for /consent/v3/fetch: %d %s", status, raw)
	}
	status, raw = b.control(http.MethodGet, "/messages?client="+clientB, nil)
	mustUnmarshal(t, raw, &list)
	if status != 200 || len(list.Messages) != 0 {
		t.Errorf("messages for client B: %d %s; want none", status, raw)
	}
	// Session bodies hold the secret and are not stored.
	for _, m := range b.g.Messages(gateway.Filter{Path: "/gateway/v3/sessions"}) {
		if len(m.Body) != 0 {
			t.Errorf("sessions body stored: %s", m.Body)
		}
	}
}

// A flow registered with Handle reacts to an accepted call; here it answers
// generate-token the way the gateway does, echoing the call's REQUEST-ID.
func TestHandleRunsFlowsOnAcceptedCalls(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	b.g.Handle(pathGenTok, func(ctx context.Context, m gateway.Message) {
		_, _ = b.g.Deliver(ctx, gateway.Callback{
			ClientID: m.ClientID, Path: gateway.CallbackOnGenerateToken, HIPID: m.HIPID,
			Body: map[string]any{"abhaAddress": "someone@sbx", "linkToken": "x", "response": map[string]string{"requestId": m.RequestID}},
		})
	})
	id := uuid.NewString()
	status, raw := b.call(http.MethodPost, pathGenTok, map[string]any{"abhaAddress": "someone@sbx"}, header("X-HIP-ID", hipA), header("REQUEST-ID", id))
	if status != 202 {
		t.Fatalf("generate-token: %d %s", status, raw)
	}
	got := br.next(t)
	if got.path != gateway.CallbackOnGenerateToken || !contains(got.body, `"requestId":"`+id+`"`) || got.header.Get("X-HIP-ID") != hipA {
		t.Errorf("callback %s %s; want on-generate-token echoing %s", got.path, got.body, id)
	}
	// Refused calls do not run flows.
	b.call(http.MethodPost, pathGenTok, map[string]any{}, header("X-HIP-ID", hipB))
	if err := b.g.Close(); err != nil { // waits for hooks
		t.Fatal(err)
	}
	br.none(t)
}
