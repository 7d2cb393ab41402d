package claims_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/sharedtest"
)

func TestDuplicateCallbackProcessedOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetFaults(nhcx.Faults{DuplicateCallbacks: 1}))
	h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "5000"))
	h.waitCase(c.ID, statusIs(claims.StatusApproved))

	// The switch delivered the answer twice with the same api_call_id and
	// got the same receipt both times.
	var sw nhcx.Message
	waitFor(t, func() bool {
		ms := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathPreauthOnSubmit})
		if len(ms) == 1 && len(ms[0].Attempts) == 2 {
			sw = ms[0]
			return true
		}
		return false
	})
	if !sw.Attempts[1].Duplicate || sw.Attempts[0].HTTPStatus != 202 || sw.Attempts[1].HTTPStatus != 202 ||
		sw.Attempts[0].Response != sw.Attempts[1].Response {
		t.Errorf("attempts %+v", sw.Attempts)
	}
	in := h.waitMessage(claims.LedgerFilter{CaseID: c.ID, Direction: claims.Inbound}, func(m claims.Message) bool {
		return m.Duplicates == 1
	})
	if in.APICallID != sw.APICallID || in.Attempts != 1 || in.State != claims.StateProcessed {
		t.Errorf("answer %+v", in)
	}
	if n := h.count(`SELECT count(*) FROM claims_messages WHERE tenant_id = $1 AND direction = 'inbound'`, h.tenant); n != 1 {
		t.Errorf("%d inbound rows, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM river_job WHERE queue = $1 AND kind = 'claims_process'`, h.queue); n != 1 {
		t.Errorf("%d processing jobs, want 1", n)
	}

	// A redelivery by hand: same body, same receipt, no second job.
	raw := redeliver(t, h, in.ID)
	st, receipt := postCallback(t, h.appURL+"/nhcx"+hcx.PathPreauthOnSubmit, raw)
	if st != 202 || !strings.Contains(receipt, in.APICallID) {
		t.Errorf("redelivery: %d %s", st, receipt)
	}
	if n := h.count(`SELECT count(*) FROM river_job WHERE queue = $1 AND kind = 'claims_process'`, h.queue); n != 1 {
		t.Errorf("%d processing jobs after a redelivery, want 1", n)
	}
}

// redeliver rebuilds the body of a stored inbound message from its JWE.
func redeliver(t *testing.T, h *harness, id int64) []byte {
	t.Helper()
	var jwe string
	if err := h.db.Owner.QueryRow(context.Background(), "SELECT jwe FROM claims_messages WHERE id = $1", id).Scan(&jwe); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(hcx.NewBody(hcx.KindCallback, jwe))
	return b
}

func postCallback(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestUndecryptableCallbackRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetFaults(nhcx.Faults{CorruptCallbacks: 1}))
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "5000"))

	// The switch tries 3 times (CallbackRetries 2), is refused each time,
	// and drops the request.
	waitFor(t, func() bool {
		ms := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathPreauthOnSubmit})
		return len(ms) == 1 && ms[0].State == nhcx.StateFailed
	})
	sw := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathPreauthOnSubmit})[0]
	for _, a := range sw.Attempts {
		if a.HTTPStatus != 400 || !strings.Contains(a.Response, "ERR_INVALID_ENCRYPTION") {
			t.Errorf("attempt %+v", a)
		}
	}
	refused := h.waitMessage(claims.LedgerFilter{State: claims.StateRefused}, func(m claims.Message) bool { return true })
	if refused.APICallID != sw.APICallID || refused.Duplicates != 2 || refused.HasPayload || refused.HasJWE ||
		refused.ErrorCode != "ERR_INVALID_ENCRYPTION" || refused.CorrelationID != sent.CorrelationID {
		t.Errorf("refused %+v", refused)
	}
	if n := h.count(`SELECT count(*) FROM river_job WHERE queue = $1 AND kind = 'claims_process'`, h.queue); n != 0 {
		t.Errorf("%d processing jobs for a refused delivery", n)
	}
	if got, _ := h.svc.Case(context.Background(), h.tenant, c.ID); got.Status != claims.StatusAwaitingResponse {
		t.Errorf("case %s after a refused answer", got.Status)
	}

	// Hand-made bad deliveries, refused before anything is stored.
	payerKey := h.sb.NHCX.PayerKey(nhcx.DefaultPayerCode)
	// Each has its own api_call_id, as NHCX gives every delivery.
	head := func() hcx.Headers {
		return hcx.Headers{SenderCode: h.code, RecipientCode: nhcx.DefaultPayerCode, CorrelationID: sent.CorrelationID}.Reply(time.Now())
	}
	ours := rsaKey(t, "provider")
	good, err := hcx.Seal(claimBundle("preauthorization", "1"), head(), &ours.PublicKey)
	mustNoErr(t, err)
	parts := strings.Split(good, ".")
	tampered := strings.Join([]string{parts[0], parts[1], parts[2], "AAAA" + parts[3][4:], parts[4]}, ".")
	toPayer, err := hcx.Seal(claimBundle("preauthorization", "1"), head(), &payerKey.PublicKey)
	mustNoErr(t, err)
	stranger := head()
	stranger.RecipientCode = "999@sbx"
	strangerJWE, err := hcx.Seal([]byte(`{}`), stranger, &ours.PublicKey)
	mustNoErr(t, err)
	body := func(c string) []byte { b, _ := json.Marshal(hcx.NewBody(hcx.KindCallback, c)); return b }
	before := h.count(`SELECT count(*) FROM claims_messages WHERE tenant_id = $1`, h.tenant)
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"tampered ciphertext", body(tampered), 400, "ERR_INVALID_ENCRYPTION"},
		{"encrypted to another key", body(toPayer), 400, "ERR_INVALID_ENCRYPTION"},
		{"not our participant", body(strangerJWE), 404, "ERR_INVALID_RECIPIENT"},
		{"not JSON", []byte("hello"), 400, "ERR_INVALID_PAYLOAD"},
		{"not a JWE", body("a.b.c"), 400, "ERR_INVALID_PAYLOAD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, resp := postCallback(t, h.appURL+"/nhcx"+hcx.PathPreauthOnSubmit, tc.body)
			var ack hcx.Ack
			_ = json.Unmarshal([]byte(resp), &ack)
			if st != tc.status || ack.Error == nil || ack.Error.Code != tc.code {
				t.Errorf("got %d %s, want %d %s", st, resp, tc.status, tc.code)
			}
		})
	}
	// The two refusals that reached our key are kept (without content);
	// the others never got that far.
	if after := h.count(`SELECT count(*) FROM claims_messages WHERE tenant_id = $1`, h.tenant); after != before+2 {
		t.Errorf("%d rows after refusals, want %d", after, before+2)
	}
	if n := h.count(`SELECT count(*) FROM river_job WHERE queue = $1 AND kind = 'claims_process'`, h.queue); n != 0 {
		t.Errorf("%d processing jobs after refusals", n)
	}
}

func TestOutboxRetriesSwitchFailures(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetFaults(nhcx.Faults{FailRequests: 2, FailStatus: 503}))
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "5000"))
	h.waitCase(c.ID, statusIs(claims.StatusApproved))
	m, err := h.svc.Message(context.Background(), h.tenant, sent.ID)
	mustNoErr(t, err)
	if m.State != claims.StateSent || m.Attempts != 3 || m.ErrorCode != "" || m.HTTPStatus != 202 {
		t.Errorf("message %+v", m)
	}
	// Three calls reached the switch; each had its own api_call_id and the
	// same correlation id.
	sw := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathPreauthSubmit})
	if len(sw) != 3 || sw[0].State != nhcx.StateRefused || sw[2].State != nhcx.StateAccepted {
		t.Fatalf("switch saw %+v", sw)
	}
}

func TestDeadLetterAndReplay(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *claims.Config) { c.SendMaxAttempts = 3 }})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetFaults(nhcx.Faults{FailRequests: 3, FailStatus: 502}))
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "7000"))
	failed := h.waitCase(c.ID, statusIs(claims.StatusFailed))
	if failed.ErrorCode != "ERR_SERVICE_UNAVAILABLE" || failed.ErrorMessage == "" {
		t.Errorf("case %+v", failed)
	}
	dead, err := h.svc.Message(context.Background(), h.tenant, sent.ID)
	mustNoErr(t, err)
	if dead.State != claims.StateDeadLettered || dead.Attempts != 3 || dead.HTTPStatus != 502 {
		t.Errorf("dead letter %+v", dead)
	}

	replay, err := h.svc.Replay(context.Background(), h.tenant, sent.ID)
	mustNoErr(t, err)
	if replay.ReplayOf != sent.ID || replay.CorrelationID != sent.CorrelationID || replay.State != claims.StateQueued {
		t.Errorf("replay %+v", replay)
	}
	h.waitCase(c.ID, statusIs(claims.StatusApproved))
	again, err := h.svc.Message(context.Background(), h.tenant, replay.ID)
	mustNoErr(t, err)
	if again.State != claims.StateSent || again.APICallID == "" || again.Attempts != 1 {
		t.Errorf("replayed %+v", again)
	}
	if _, err := h.svc.Replay(context.Background(), h.tenant, h.ledger(c.ID)[2].ID); !errors.Is(err, claims.ErrNotReplayable) {
		t.Errorf("replaying an inbound message: %v", err)
	}
}

func TestRefusalByTheSwitchIsNotRetried(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	// The payer is deregistered: the switch refuses the recipient.
	mustNoErr(t, h.sb.NHCX.RegisterParticipant(nhcx.Participant{Code: nhcx.DefaultPayerCode, Status: "Inactive"}))
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "7000"))
	failed := h.waitCase(c.ID, statusIs(claims.StatusFailed))
	m, err := h.svc.Message(context.Background(), h.tenant, sent.ID)
	mustNoErr(t, err)
	if m.State != claims.StateDeadLettered || m.Attempts != 1 || failed.ErrorCode != "ERR_INVALID_RECIPIENT" {
		t.Errorf("message %+v, case %+v", m, failed)
	}
}

func TestErrorReportFromNHCX(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetRules([]nhcx.Rule{{Outcome: nhcx.OutcomeError, Code: "PAYR-1001", Times: 1}}))
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "7000"))
	failed := h.waitCase(c.ID, statusIs(claims.StatusFailed))
	if failed.ErrorCode != "PAYR-1001" || !strings.Contains(failed.ErrorMessage, "certificate") {
		t.Errorf("case %+v", failed)
	}
	report := h.waitMessage(claims.LedgerFilter{CaseID: c.ID, Direction: claims.Inbound}, func(m claims.Message) bool {
		return m.Path == hcx.PathError
	})
	if report.State != claims.StateProcessed || report.RespondsTo != sent.ID || report.HasJWE || report.Outcome != "error" {
		t.Errorf("report %+v", report)
	}
	orig, _ := h.svc.Message(context.Background(), h.tenant, sent.ID)
	if orig.ErrorCode != "PAYR-1001" {
		t.Errorf("the request does not show the report: %+v", orig)
	}

	// PAYR-1001 made us forget the payer's certificate: sending again
	// fetches it again.
	fetches := h.hits.get("/pmjay/sbxhcx/participanthcxservice/fetch/certs")
	if fetches != 1 {
		t.Errorf("%d certificate fetches before the replay, want 1", fetches)
	}
	_, err := h.svc.Replay(context.Background(), h.tenant, sent.ID)
	mustNoErr(t, err)
	h.waitCase(c.ID, statusIs(claims.StatusApproved))
	if n := h.hits.get("/pmjay/sbxhcx/participanthcxservice/fetch/certs"); n != 2 {
		t.Errorf("%d certificate fetches after the replay, want 2", n)
	}
}

func TestUnmatchedDeliveryIsKept(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	_, err := h.sb.NHCX.Trigger(nhcx.Trigger{Path: "/v1/paymentnotice/request", Provider: h.code,
		WorkflowID: uuid.NewString(), Amount: "10", UTR: "UTR1"})
	mustNoErr(t, err)
	m := h.waitMessage(claims.LedgerFilter{Direction: claims.Inbound}, func(m claims.Message) bool {
		return m.State == claims.StateUnmatched
	})
	if m.CaseID != "" || m.ErrorMessage == "" || !m.HasPayload {
		t.Errorf("unmatched %+v", m)
	}
}

func TestTenantsSeeOnlyTheirLedger(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	h.send(c.ID, hcx.PathCoverageEligibilityCheck, eligibilityBundle())
	h.waitCase(c.ID, statusIs(claims.StatusEligible))
	other := h.db.Tenant(t, "Other")
	ms, err := h.svc.Ledger(context.Background(), other, claims.LedgerFilter{})
	mustNoErr(t, err)
	if len(ms) != 0 {
		t.Errorf("another tenant sees %d messages", len(ms))
	}
	if _, err := h.svc.Case(context.Background(), other, c.ID); !errors.Is(err, claims.ErrNotFound) {
		t.Errorf("another tenant reads the case: %v", err)
	}
	// A participant code belongs to one tenant.
	err = h.svc.SetParticipant(context.Background(), claims.Participant{Tenant: other, Code: strings.ToUpper(h.code)})
	if !errors.Is(err, claims.ErrParticipantTaken) {
		t.Errorf("taking another tenant's code: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sharedTestdata reads a file of ../shared/testdata/nhcx next to the
// repository root, skipping the test when the shared directory is absent.
func sharedTestdata(t *testing.T, name string) []byte {
	t.Helper()
	path := sharedtest.Path(t, "nhcx", name)
	data, err := os.ReadFile(path)
	mustNoErr(t, err)
	return data
}
