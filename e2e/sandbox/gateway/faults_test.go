package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// A delayed answer lets the callback the call triggers reach the bridge
// before the caller has its 202, as happens on the real gateway.
func TestAnswerDelayLetsTheCallbackOvertakeTheAck(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	b.g.Handle(pathGenTok, func(ctx context.Context, m gateway.Message) {
		_, _ = b.g.Deliver(ctx, gateway.Callback{ClientID: m.ClientID, Path: gateway.CallbackOnGenerateToken, HIPID: m.HIPID,
			Body: map[string]any{"response": map[string]string{"requestId": m.RequestID}}})
	})
	const delay = 400 * time.Millisecond
	b.setFaults(clientA, gateway.Faults{Paths: []string{pathGenTok}, AnswerDelayMS: int(delay.Milliseconds())})

	start := time.Now()
	status, raw := b.call(http.MethodPost, pathGenTok, map[string]any{"abhaAddress": "someone@sbx"}, header("X-HIP-ID", hipA))
	answered := time.Now()
	if status != 202 {
		t.Fatalf("generate-token: %d %s", status, raw)
	}
	if answered.Sub(start) < delay {
		t.Errorf("answered after %v; want at least %v", answered.Sub(start), delay)
	}
	if cb := br.next(t); !cb.at.Before(answered) {
		t.Errorf("callback arrived %v after the ack; want it before", cb.at.Sub(answered))
	}
	// Other paths are not delayed: the fault set is limited to generate-token.
	start = time.Now()
	b.call(http.MethodGet, "/gateway/v3/bridge-services", nil)
	if took := time.Since(start); took >= delay {
		t.Errorf("bridge-services took %v; the delay applies to generate-token only", took)
	}
}

func TestDeliveryDelay(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	const delay = 300 * time.Millisecond
	b.setFaults("", gateway.Faults{DeliveryDelayMS: int(delay.Milliseconds())})
	start := time.Now()
	d, err := b.g.Deliver(context.Background(), gateway.Callback{Path: gateway.CallbackShare, HIPID: hipA, Body: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := br.next(t); got.at.Sub(start) < delay || d.Attempts[0].At.Sub(start) < delay {
		t.Errorf("callback sent %v after Deliver; want at least %v", got.at.Sub(start), delay)
	}
}

func TestDroppedAnswers(t *testing.T) {
	b := setup(t, withConfig(func(c *gateway.Config) { c.DropHold = 50 * time.Millisecond }))
	body := map[string]any{"consent": map[string]any{}}

	// Dropped before processing: the call never happened, so a retry with
	// the same REQUEST-ID goes through.
	b.setFaults(clientA, gateway.Faults{DropAnswers: 1})
	id := uuid.NewString()
	if _, err := http.DefaultClient.Do(b.req(http.MethodPost, "/consent/v3/request/init", body, header("REQUEST-ID", id))); err == nil {
		t.Fatal("dropped answer: the client got a response; want the connection closed without one")
	}
	if ms := b.g.Messages(gateway.Filter{RequestID: id}); len(ms) != 1 || ms[0].Status != 0 {
		t.Errorf("dropped call recorded as %+v; want status 0", ms)
	}
	if status, raw := b.call(http.MethodPost, "/consent/v3/request/init", body, header("REQUEST-ID", id)); status != 202 {
		t.Errorf("retry after a dropped call: %d %s; want 202", status, raw)
	}

	// Dropped after processing (a lost acknowledgement): the retry is a duplicate.
	b.setFaults(clientA, gateway.Faults{DropAnswers: 1, ProcessFailed: true})
	id = uuid.NewString()
	if _, err := http.DefaultClient.Do(b.req(http.MethodPost, "/consent/v3/request/init", body, header("REQUEST-ID", id))); err == nil {
		t.Fatal("dropped answer: the client got a response")
	}
	status, raw := b.call(http.MethodPost, "/consent/v3/request/init", body, header("REQUEST-ID", id))
	if code, _ := nestedError(t, raw); status != 400 || code != "ABDM-1064" {
		t.Errorf("retry after a lost ack: %d %s; want 400 ABDM-1064", status, raw)
	}

	// With the default 30 s hold, a client with a timeout gives up first.
	b2 := setup(t)
	b2.setFaults(clientA, gateway.Faults{DropAnswers: -1})
	client := &http.Client{Timeout: 100 * time.Millisecond}
	_, err := client.Do(b2.req(http.MethodPost, "/consent/v3/request/init", body))
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("client with a timeout: %v; want a timeout", err)
	}
}

func TestFailedAnswers(t *testing.T) {
	b := setup(t)
	body := map[string]any{"consent": map[string]any{}}
	b.setFaults("", gateway.Faults{FailAnswers: 2, FailStatus: 503})
	for i := range 2 {
		status, raw := b.call(http.MethodPost, "/consent/v3/request/init", body)
		var flat struct{ Code, Message string }
		mustUnmarshal(t, raw, &flat)
		if status != 503 || flat.Code != "ABDM-1024" || flat.Message != "Dependent service unavailable" {
			t.Errorf("call %d: %d %s; want 503 with the flat ABDM-1024 body", i+1, status, raw)
		}
	}
	if status, raw := b.call(http.MethodPost, "/consent/v3/request/init", body); status != 202 {
		t.Errorf("third call: %d %s; want 202 once the two failures are used up", status, raw)
	}
	if f := b.g.Faults(); f.Global.FailAnswers != 0 {
		t.Errorf("remaining fail_answers %d; want 0", f.Global.FailAnswers)
	}

	for _, tt := range []struct {
		status   int
		wantCode string
	}{{0, "ABDM-9999"}, {500, "ABDM-9999"}, {502, "ABDM-9999"}, {504, "ABDM-1007"}, {429, "ABDM-1022"}, {408, "ABDM-1007"}} {
		b.setFaults("", gateway.Faults{FailAnswers: 1, FailStatus: tt.status})
		want := tt.status
		if want == 0 {
			want = 500
		}
		status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil)
		if code, _ := nestedError(t, raw); status != want || code != tt.wantCode {
			t.Errorf("fail_status %d: %d %s; want %d %s", tt.status, status, raw, want, tt.wantCode)
		}
	}

	// Failed after processing: the call took effect, so its REQUEST-ID is used.
	b.setFaults("", gateway.Faults{FailAnswers: 1, ProcessFailed: true})
	id := uuid.NewString()
	if status, _ := b.call(http.MethodPost, "/consent/v3/request/init", body, header("REQUEST-ID", id)); status != 500 {
		t.Fatalf("failed call: status %d; want 500", status)
	}
	if ms := b.g.Messages(gateway.Filter{RequestID: id}); len(ms) != 1 || ms[0].Status != 500 {
		t.Errorf("recorded %+v", ms)
	}
	status, raw := b.call(http.MethodPost, "/consent/v3/request/init", body, header("REQUEST-ID", id))
	if code, _ := nestedError(t, raw); status != 400 || code != "ABDM-1064" {
		t.Errorf("retry: %d %s; want 400 ABDM-1064", status, raw)
	}
}

func TestErrorShapes(t *testing.T) {
	b := setup(t)
	wantDetail := map[string]any{"code": "ABDM-2403", "message": "Invalid X-CM-ID"}
	tests := []struct {
		shape string
		colon bool
		want  any // decoded JSON; nil for non-JSON shapes
	}{
		{"", false, map[string]any{"error": wantDetail}},
		{gateway.ShapeNested, true, map[string]any{"error": map[string]any{"code": "ABDM-2403: ", "message": "Invalid X-CM-ID"}}},
		{gateway.ShapeArray, false, []any{map[string]any{"error": wantDetail}}},
		{gateway.ShapeArrayFlat, true, []any{map[string]any{"code": "ABDM-2403: ", "message": "Invalid X-CM-ID"}}},
		{gateway.ShapeFlat, false, wantDetail},
	}
	for _, tt := range tests {
		b.setFaults("", gateway.Faults{ErrorShape: tt.shape, ErrorCodeColon: tt.colon})
		status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("X-CM-ID", "abdm"))
		var got any
		mustUnmarshal(t, raw, &got)
		if diff := cmp.Diff(tt.want, got); status != 400 || diff != "" {
			t.Errorf("shape %q colon %v: status %d, body (-want +got):\n%s", tt.shape, tt.colon, status, diff)
		}
	}

	b.setFaults("", gateway.Faults{ErrorShape: gateway.ShapeSpring})
	id := uuid.NewString()
	status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("X-CM-ID", "abdm"), header("REQUEST-ID", id))
	var spring struct {
		Timestamp int64  `json:"timestamp"`
		Path      string `json:"path"`
		Status    int    `json:"status"`
		Error     string `json:"error"`
		RequestID string `json:"requestId"`
	}
	mustUnmarshal(t, raw, &spring)
	if status != 400 || spring.Status != 400 || spring.Error != "Bad Request" || spring.Path != "/gateway/v3/bridge-services" ||
		spring.RequestID != id || spring.Timestamp == 0 || contains(raw, "ABDM") {
		t.Errorf("spring shape: %d %s", status, raw)
	}

	b.setFaults("", gateway.Faults{ErrorShape: gateway.ShapeEmpty})
	if status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("X-CM-ID", "abdm")); status != 400 || len(raw) != 0 {
		t.Errorf("empty shape: %d %q; want 400 and no body", status, raw)
	}

	b.setFaults("", gateway.Faults{ErrorShape: gateway.ShapeText})
	resp, err := http.DefaultClient.Do(b.req(http.MethodGet, "/gateway/v3/bridge-services", nil, header("X-CM-ID", "abdm")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("text shape: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// The API manager's 401 keeps its own shape whatever the knob says.
	b.setFaults("", gateway.Faults{ErrorShape: gateway.ShapeArray})
	if status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, bearer("x")); status != 401 || !strings.HasPrefix(string(raw), `{"code":"900901"`) {
		t.Errorf("401 under the array shape: %d %s", status, raw)
	}
}

func TestDropDuplicateAndLateDeliveries(t *testing.T) {
	b := setup(t, withConfig(func(c *gateway.Config) { c.LateRedeliveryAfter = 100 * time.Millisecond }))
	br := newBridge(t)
	b.register(br)
	jwks := b.jwks()
	ctx := context.Background()
	deliver := func() gateway.Delivery {
		t.Helper()
		d, err := b.g.Deliver(ctx, gateway.Callback{Path: gateway.CallbackHIPConsentNotify, HIPID: hipA, Body: map[string]any{"n": uuid.NewString()}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	t.Run("drop", func(t *testing.T) {
		b.setFaults(clientA, gateway.Faults{DropDeliveries: 1})
		dropped, sent := deliver(), deliver()
		if dropped.State != gateway.StateDropped || len(dropped.Attempts) != 0 || sent.State != gateway.StateDelivered {
			t.Errorf("states %q, %q; want dropped, delivered", dropped.State, sent.State)
		}
		if got := br.next(t); got.header.Get("REQUEST-ID") != sent.RequestID {
			t.Errorf("bridge got %s; want only the second delivery %s", got.header.Get("REQUEST-ID"), sent.RequestID)
		}
		br.none(t)
	})

	t.Run("duplicate", func(t *testing.T) {
		b.setFaults(clientA, gateway.Faults{DuplicateDeliveries: 1})
		d := deliver()
		first, second := br.next(t), br.next(t)
		if first.header.Get("REQUEST-ID") != d.RequestID || second.header.Get("REQUEST-ID") != d.RequestID ||
			string(first.body) != string(second.body) {
			t.Errorf("duplicate: REQUEST-IDs %s, %s; want both %s with one body", first.header.Get("REQUEST-ID"), second.header.Get("REQUEST-ID"), d.RequestID)
		}
		for _, got := range []received{first, second} {
			token, _ := strings.CutPrefix(got.header.Get("Authorization"), "Bearer ")
			if _, err := verifyJWT(jwks, token, time.Now()); err != nil {
				t.Errorf("duplicate's JWT: %v; want valid", err)
			}
		}
		if len(d.Attempts) != 2 || d.Attempts[1].Reason != "duplicate" {
			t.Errorf("attempts %+v", d.Attempts)
		}
		deliver() // the fault was for one delivery only
		br.next(t)
		br.none(t)
	})

	t.Run("late redelivery with an expired token", func(t *testing.T) {
		b.setFaults(clientA, gateway.Faults{LateRedeliveries: 1})
		d := deliver()
		first := br.next(t)
		late := br.next(t)
		if late.header.Get("REQUEST-ID") != d.RequestID || string(late.body) != string(first.body) {
			t.Errorf("late redelivery %s %s; want the first callback again", late.header.Get("REQUEST-ID"), late.body)
		}
		if gap := late.at.Sub(first.at); gap < 100*time.Millisecond {
			t.Errorf("redelivered %v after the first attempt; want at least 100ms", gap)
		}
		token, _ := strings.CutPrefix(late.header.Get("Authorization"), "Bearer ")
		if _, err := verifyJWT(jwks, token, time.Now()); !errors.Is(err, jwt.ErrExpired) {
			t.Errorf("late JWT: %v; want a good signature and jwt.ErrExpired", err)
		}
		ds := b.g.Deliveries(gateway.Filter{RequestID: d.RequestID})
		if len(ds) != 1 || len(ds[0].Attempts) != 2 || ds[0].Attempts[1].Reason != "late" || !ds[0].Attempts[1].ExpiredToken {
			t.Errorf("recorded %+v", ds)
		}
	})
}

func TestFaultScopeAndValidation(t *testing.T) {
	b := setup(t)
	tokenB := b.session(clientB, secretB)
	bridgeServices := func(token string) int {
		status, _ := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, bearer(token))
		return status
	}

	// A client's own set replaces the global one for that client.
	b.setFaults("", gateway.Faults{FailAnswers: -1})
	b.setFaults(clientA, gateway.Faults{})
	if a, bb := bridgeServices(b.token), bridgeServices(tokenB); a != 200 || bb != 500 {
		t.Errorf("statuses A %d, B %d; want 200 (own empty set), 500 (global)", a, bb)
	}
	status, raw := b.control(http.MethodGet, "/faults", nil)
	var state gateway.FaultsState
	mustUnmarshal(t, raw, &state)
	if _, ok := state.Clients[clientA]; status != 200 || state.Global.FailAnswers != -1 || !ok {
		t.Errorf("GET faults: %d %s", status, raw)
	}
	if status, _ := b.control(http.MethodDelete, "/faults/"+clientA, nil); status != http.StatusNoContent {
		t.Errorf("DELETE client faults: %d", status)
	}
	if a := bridgeServices(b.token); a != 500 {
		t.Errorf("A after deleting its set: %d; want 500 from the global set", a)
	}
	if status, _ := b.control(http.MethodDelete, "/faults", nil); status != http.StatusNoContent {
		t.Errorf("DELETE all faults: %d", status)
	}
	if a, bb := bridgeServices(b.token), bridgeServices(tokenB); a != 200 || bb != 200 {
		t.Errorf("after clearing: %d, %d; want 200, 200", a, bb)
	}

	for name, body := range map[string]any{
		"unknown field":  map[string]any{"drop_answer": 1},
		"bad shape":      map[string]any{"error_shape": "xml"},
		"bad status":     map[string]any{"fail_answers": 1, "fail_status": 404},
		"negative count": map[string]any{"drop_deliveries": -2},
		"huge delay":     map[string]any{"answer_delay_ms": 3600000},
	} {
		if status, raw := b.control(http.MethodPut, "/faults", body); status != 400 {
			t.Errorf("%s: %d %s; want 400", name, status, raw)
		}
	}
	if status, _ := b.control(http.MethodPut, "/faults/nobody", map[string]any{}); status != 400 {
		t.Errorf("faults for an unknown client: %d; want 400", status)
	}

	// Reset clears faults too.
	b.setFaults("", gateway.Faults{FailAnswers: -1})
	b.control(http.MethodPost, "/reset", nil)
	if a := bridgeServices(b.token); a != 200 {
		t.Errorf("after reset: %d; want 200", a)
	}
	raw, _ = json.Marshal(b.g.Faults())
	if !strings.Contains(string(raw), `"global":{}`) {
		t.Errorf("faults after reset: %s", raw)
	}
}
