package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// patientName is in the callback body only: it must not reach a page
// unless the body is deliberately shown.
const patientName = "Asha Rao Opsconsole"

// onboard stores the test credentials and registers the bridge through the
// bridge's own API, for tests about what happens afterwards.
func (e *abdmEnv) onboard(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := e.Bridge.SetCredentials(ctx, e.TenantID, testClientID, []byte(testSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bridge.Onboard(ctx, e.TenantID); err != nil {
		t.Fatal(err)
	}
}

// answerDiscover makes discover callbacks answered with on-discover,
// sent once only so that a refused answer is dead-lettered at once.
func (e *abdmEnv) answerDiscover(t *testing.T) {
	t.Helper()
	err := e.Bridge.Handle("hip.discover", func(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
		var in abdm.DiscoverRequest
		if err := cb.Decode(&in); err != nil {
			return err
		}
		_, err := e.Bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: cb.Tenant, Path: abdm.PathOnDiscover, HIPID: cb.ServiceID, RespondsTo: cb.RequestID, MaxAttempts: 1,
			Body: abdm.OnDiscoverRequest{TransactionID: in.TransactionID,
				Error: &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}, Response: abdm.ResponseRef{RequestID: cb.RequestID}},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deliverDiscover has the gateway deliver a signed discover callback.
func (e *abdmEnv) deliverDiscover(t *testing.T) gateway.Delivery {
	t.Helper()
	body, err := json.Marshal(abdm.DiscoverRequest{TransactionID: "txn-" + randomHex(4),
		Patient: abdm.DiscoverPatient{ID: "asha@sbx", Name: patientName, Gender: "F", YearOfBirth: 1990}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Gateway.Deliver(context.Background(), gateway.Callback{Path: abdm.CallbackDiscover, HIPID: e.HIPs[0], Body: json.RawMessage(body)})
	if err != nil {
		t.Fatal(err)
	}
	if d.State != gateway.StateDelivered {
		t.Fatalf("delivery %+v", d)
	}
	return d
}

// exchangeID finds an exchange by direction and request or correlation id.
func (e *abdmEnv) exchangeID(t *testing.T, dir bridge.Direction, requestID string) int64 {
	t.Helper()
	xs, err := e.Bridge.Timeline(context.Background(), e.TenantID, bridge.Filter{Direction: dir, RequestID: requestID})
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 1 {
		t.Fatalf("%d %s exchanges for request id %s, want 1", len(xs), dir, requestID)
	}
	return xs[0].ID
}

// TestOpsConsole follows a delivered callback whose answer the gateway
// fails: the console lists both, filters them, shows the timeline without
// the body, shows the body only on a recorded request, and replays the
// dead-lettered answer until it is delivered.
func TestOpsConsole(t *testing.T) {
	e := startABDM(t, nil)
	e.onboard(t)
	e.answerDiscover(t)
	admin, token := e.signInAdmin(t)

	_, page := get(t, admin, e.URL+"/admin/ops", nil)
	mustContain(t, "the empty console", page, `data-testid="empty"`, "No exchanges yet")

	// The gateway fails the first answer: with one attempt allowed, it is
	// dead-lettered.
	if err := e.Gateway.SetFaults(testClientID, gateway.Faults{Paths: []string{abdm.PathOnDiscover}, FailAnswers: 1, FailStatus: http.StatusInternalServerError}); err != nil {
		t.Fatal(err)
	}
	d := e.deliverDiscover(t)
	in := e.exchangeID(t, bridge.Inbound, d.RequestID)
	e.waitState(t, in, bridge.StateProcessed)
	xs, err := e.Bridge.Timeline(context.Background(), e.TenantID, bridge.Filter{Direction: bridge.Outbound, RequestID: d.RequestID})
	if err != nil || len(xs) != 1 {
		t.Fatalf("outbound answers to %s: %v, %v", d.RequestID, xs, err)
	}
	out := xs[0].ID
	answer := e.waitState(t, out, bridge.StateDeadLettered)

	resp, page := get(t, admin, e.URL+"/admin/ops", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/ops: %d", resp.StatusCode)
	}
	mustContain(t, "the console", page, `data-exchange="`+strconv.FormatInt(in, 10)+`"`, `data-exchange="`+strconv.FormatInt(out, 10)+`"`,
		d.RequestID, answer.RequestID, e.Names[0], "<strong>Dead-lettered</strong>", "Processed", "1 of 1", "hip.discover", "on_discover",
		`hx-trigger="every 5s"`, `hx-select="#exchanges"`, "polls=1")
	mustNotContain(t, "the console", page, patientName)
	if strings.Index(page, `data-exchange="`+strconv.FormatInt(out, 10)) > strings.Index(page, `data-exchange="`+strconv.FormatInt(in, 10)) {
		t.Error("the console does not list the newest exchange first")
	}

	// Filters, as a plain GET form submits them.
	for _, tc := range []struct {
		query     string
		want, not []int64
	}{
		{"direction=outbound", []int64{out}, []int64{in}},
		{"direction=inbound&state=processed", []int64{in}, []int64{out}},
		{"state=dead_lettered", []int64{out}, []int64{in}},
		{"route=hip.discover", []int64{in}, []int64{out}},
		{"request_id=" + d.RequestID, []int64{in, out}, nil},
		{"before=" + strconv.FormatInt(out, 10), []int64{in}, []int64{out}},
		{"state=failed", nil, []int64{in, out}},
	} {
		_, page := get(t, admin, e.URL+"/admin/ops?"+tc.query, nil)
		for _, id := range tc.want {
			if !strings.Contains(page, `data-exchange="`+strconv.FormatInt(id, 10)+`"`) {
				t.Errorf("?%s does not list exchange %d", tc.query, id)
			}
		}
		for _, id := range tc.not {
			if strings.Contains(page, `data-exchange="`+strconv.FormatInt(id, 10)+`"`) {
				t.Errorf("?%s lists exchange %d", tc.query, id)
			}
		}
	}

	// htmx polls get the table alone, with the next poll count.
	resp, page = get(t, admin, e.URL+"/admin/ops/live?state=dead_lettered&polls=3", map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(page, `<section id="exchanges"`) || strings.Contains(page, "<html") {
		t.Errorf("htmx poll: status %d, want the table fragment alone; got:\n%.300s", resp.StatusCode, page)
	}
	mustContain(t, "the polled table", page, "polls=4", "state=dead_lettered", `data-exchange="`+strconv.FormatInt(out, 10)+`"`)
	_, page = get(t, admin, e.URL+"/admin/ops/live?polls=120", map[string]string{"HX-Request": "true"})
	mustContain(t, "the last poll", page, "Automatic refresh stopped")
	mustNotContain(t, "the last poll", page, "hx-trigger")

	// The dead-lettered answer's page: timeline, related callback, replay,
	// and the body hidden.
	outPath := "/admin/ops/" + strconv.FormatInt(out, 10)
	_, page = get(t, admin, e.URL+outPath, nil)
	mustContain(t, "the answer's page", page, "Queued to send", "Send attempt", "Dead-lettered: no more attempts", `data-testid="replay"`,
		`data-testid="related"`, d.RequestID, `data-testid="show-body"`, `data-testid="last-error"`, "HTTP 500")
	mustNotContain(t, "the answer's page", page, `data-testid="body"`)

	// The callback's page: its timeline, no replay, the body hidden.
	inPath := "/admin/ops/" + strconv.FormatInt(in, 10)
	_, page = get(t, admin, e.URL+inPath, nil)
	mustContain(t, "the callback's page", page, "Received from ABDM", "Acknowledged to ABDM", "Processed", `data-testid="no-replay"`, `data-testid="show-body"`)
	mustNotContain(t, "the callback's page", page, patientName, `data-testid="body"`)

	// Showing the body is a deliberate, recorded act.
	resp, page = e.post(t, admin, inPath+"/body", url.Values{"csrf_token": {token}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("showing the body: status %d", resp.StatusCode)
	}
	mustContain(t, "the disclosed body", page, `data-testid="body"`, patientName, "recorded in the audit log")
	if n := auditCount(t, e.Env, "demo-admin", "bridge.body_viewed"); n != 1 {
		t.Errorf("%d body_viewed audit events, want 1", n)
	}

	// Replay: queued again and, the fault used up, delivered; the callback
	// it answers moves on to replied.
	resp, page = e.post(t, admin, outPath+"/replay", url.Values{"csrf_token": {token}})
	wantRedirect(t, resp, page, outPath+"?notice=replayed")
	e.waitState(t, out, bridge.StateDelivered)
	e.waitState(t, in, bridge.StateReplied)
	_, page = get(t, admin, e.URL+outPath+"?notice=replayed", nil)
	mustContain(t, "the replayed answer's page", page, `data-testid="notice"`, "Replayed by an operator", "Delivered to ABDM", `data-testid="no-replay"`)
	_, page = get(t, admin, e.URL+inPath, nil)
	mustContain(t, "the answered callback's page", page, "Replied to ABDM")
	if n := auditCount(t, e.Env, "demo-admin", "bridge.exchange_replayed"); n != 1 {
		t.Errorf("%d exchange_replayed audit events, want 1", n)
	}
	// The gateway saw the failed send and the replay, with the same
	// REQUEST-ID: after a 5xx it may have accepted the first.
	answers := e.Gateway.Messages(gateway.Filter{Path: abdm.PathOnDiscover})
	if len(answers) != 2 || answers[0].Status != http.StatusInternalServerError || answers[1].Status != http.StatusAccepted ||
		answers[1].Answers != d.RequestID || answers[0].RequestID != answers[1].RequestID {
		for _, m := range answers {
			t.Logf("on-discover %s: %d answers %q", m.RequestID, m.Status, m.Answers)
		}
		t.Errorf("gateway recorded %d on-discover calls, want a failed one and its accepted replay with the same REQUEST-ID", len(answers))
	}

	// A delivered call cannot be replayed again.
	resp, page = e.post(t, admin, outPath+"/replay", url.Values{"csrf_token": {token}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "cannot be replayed") {
		t.Errorf("replaying a delivered call: status %d, want 409", resp.StatusCode)
	}
}

// TestOpsBadInput: malformed filters and exchange numbers are a clear 400,
// unknown exchanges a 404.
func TestOpsBadInput(t *testing.T) {
	e := startABDM(t, nil)
	admin, token := e.signInAdmin(t)
	for _, q := range []string{
		"direction=sideways", "state=bogus", "route=" + url.QueryEscape("<script>"), "request_id=" + url.QueryEscape("a b"),
		"request_id=" + strings.Repeat("a", 65), "before=-1", "before=abc", "polls=121", "polls=x",
	} {
		resp, body := get(t, admin, e.URL+"/admin/ops?"+q, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "This filter is not valid") {
			t.Errorf("?%s: status %d, want 400 explaining the filter", q, resp.StatusCode)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("?%s: the page echoes the raw value", q)
		}
	}
	for path, want := range map[string]int{
		"/admin/ops/abc": http.StatusBadRequest, "/admin/ops/0": http.StatusBadRequest, "/admin/ops/-3": http.StatusBadRequest,
		"/admin/ops/99999999999999999999": http.StatusBadRequest, "/admin/ops/987654321": http.StatusNotFound,
	} {
		if resp, _ := get(t, admin, e.URL+path, nil); resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	for path, want := range map[string]int{
		"/admin/ops/abc/replay": http.StatusBadRequest, "/admin/ops/987654321/replay": http.StatusNotFound,
		"/admin/ops/abc/body": http.StatusBadRequest, "/admin/ops/987654321/body": http.StatusNotFound,
	} {
		if resp, _ := e.post(t, admin, path, url.Values{"csrf_token": {token}}); resp.StatusCode != want {
			t.Errorf("POST %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	if n := auditCount(t, e.Env, "demo-admin", "bridge.body_viewed"); n != 0 {
		t.Errorf("%d body views recorded for exchanges that do not exist", n)
	}
}

// TestOpsOtherTenant: an exchange of another organisation is not found,
// even by its number.
func TestOpsOtherTenant(t *testing.T) {
	e := startABDM(t, nil)
	e.onboard(t)
	d := e.deliverDiscover(t)
	theirs := e.exchangeID(t, bridge.Inbound, d.RequestID)

	other := startABDM(t, nil)
	admin, token := other.signInAdmin(t)
	path := "/admin/ops/" + strconv.FormatInt(theirs, 10)
	if resp, _ := get(t, admin, other.URL+path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another tenant's exchange: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := other.post(t, admin, path+"/body", url.Values{"csrf_token": {token}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another tenant's body: status %d, want 404", resp.StatusCode)
	}
	_, page := get(t, admin, other.URL+"/admin/ops?request_id="+d.RequestID, nil)
	mustContain(t, "the other tenant's console", page, "No exchange matches this filter.")
}
