package hcx_test

import (
	"bufio"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/claims/hcx"
)

// delivery is one message the fake switch received, opened with the
// payer's key as the payer would.
type delivery struct {
	path    string
	token   string
	body    map[string]json.RawMessage
	msg     *hcx.Message
	openErr error
	keyName string // which payer key opened it
}

// nhcxSwitch is the NHCX switch on loopback, with the payer behind it
// folded in: it decrypts what arrives with whichever of the payer's keys
// works, records it, and answers with reply.
type nhcxSwitch struct {
	t     *testing.T
	srv   *httptest.Server
	keys  map[string]*rsa.PrivateKey
	reply func(n int, d delivery) (int, string)

	mu         sync.Mutex
	deliveries []delivery
}

func newSwitch(t *testing.T, keys map[string]*rsa.PrivateKey) *nhcxSwitch {
	s := &nhcxSwitch{t: t, keys: keys}
	s.reply = func(_ int, d delivery) (int, string) { return http.StatusAccepted, ackFor(d) }
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// ackFor is the switch's 202 body for a delivery.
func ackFor(d delivery) string {
	h := d.msg.Headers
	b, _ := json.Marshal(map[string]any{
		"timestamp": "06/11/2023 13:22:06:123", "api_call_id": h.APICallID, "correlation_id": h.CorrelationID,
		"result": map[string]string{"sender_code": h.SenderCode, "recipient_code": h.RecipientCode,
			"entity_type": "preauth", "protocol_status": "request.queued"},
		"error": nil,
	})
	return string(b)
}

func (s *nhcxSwitch) serve(w http.ResponseWriter, req *http.Request) {
	d := delivery{path: req.URL.Path, token: checkCommonHeaders(s.t, req)}
	if err := json.NewDecoder(req.Body).Decode(&d.body); err != nil {
		s.t.Errorf("body is not a JSON object: %v", err)
	}
	var compact string
	_ = json.Unmarshal(d.body["payload"], &compact)
	d.openErr = errors.New("no key opened it")
	s.mu.Lock()
	keys, reply := s.keys, s.reply
	s.mu.Unlock()
	for name, k := range keys {
		if m, err := hcx.Open(compact, k); err == nil {
			d.msg, d.openErr, d.keyName = m, nil, name
			break
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	n := len(s.deliveries)
	s.mu.Unlock()
	if d.openErr != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"code":"PAYR-1001","message":"Unable to decrypt"}}`)
		return
	}
	status, body := reply(n, d)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// setKeys and setReply change the payer's keys and the answers between
// calls.
func (s *nhcxSwitch) setKeys(keys map[string]*rsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *nhcxSwitch) setReply(reply func(n int, d delivery) (int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = reply
}

func (s *nhcxSwitch) got() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.deliveries...)
}

type clientBundle struct {
	sw       *nhcxSwitch
	reg      registryBundle
	client   *hcx.Client
	payerKey *rsa.PrivateKey
}

func setupClient(t *testing.T) clientBundle {
	t.Helper()
	b := clientBundle{reg: setupRegistry(t, nil), payerKey: rsaKey(t, "payer")}
	b.reg.reg.set(payerCode, string(validCert(t, b.payerKey, "payer")))
	b.sw = newSwitch(t, map[string]*rsa.PrivateKey{"payer": b.payerKey, "payer-rotated": rsaKey(t, "payer-rotated")})
	var err error
	b.client, err = hcx.NewClient(hcx.ClientConfig{
		BaseURL: b.sw.srv.URL + "/hcx", ParticipantCode: ourCode, Tokens: b.reg.tokens, Keys: b.reg.client,
		Now: b.reg.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var bundle = []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Claim","use":"preauthorization"}}]}`)

func TestSendRequest(t *testing.T) {
	b := setupClient(t)
	h := hcx.Headers{RecipientCode: payerCode, WorkflowID: "12", BenABHAID: "91123456789012"}
	sent, err := b.client.Send(context.Background(), hcx.PathPreauthSubmit, h, bundle)
	if err != nil {
		t.Fatal(err)
	}
	got := b.sw.got()
	if len(got) != 1 {
		t.Fatalf("switch got %d calls, want 1", len(got))
	}
	d := got[0]
	if d.path != "/hcx/v1/preauth/submit" {
		t.Errorf("path %q", d.path)
	}
	if len(d.body) != 1 || d.body["payload"] == nil {
		t.Errorf("request body must be exactly {\"payload\": ...}, got keys %v", keysOf(d.body))
	}
	if string(d.msg.Payload) != string(bundle) {
		t.Errorf("payer read %s", d.msg.Payload)
	}
	if diff := cmp.Diff(sent.Headers, d.msg.Headers); diff != "" {
		t.Errorf("Sent.Headers differ from what was sealed (-sent +sealed):\n%s", diff)
	}
	sh := sent.Headers
	if sh.SenderCode != ourCode || sh.RecipientCode != payerCode || sh.Status != hcx.StatusRequestInitiated ||
		sh.WorkflowID != "12" || sh.BenABHAID != "91123456789012" {
		t.Errorf("headers: %+v", sh)
	}
	for _, id := range []string{sh.APICallID, sh.CorrelationID, sh.RequestID} {
		if uuid.Validate(id) != nil {
			t.Errorf("id %q is not a UUID", id)
		}
	}
	if sh.Timestamp != hcx.FormatTimestamp(b.reg.clock.Now()) {
		t.Errorf("timestamp %q", sh.Timestamp)
	}
	if sent.HTTPStatus != http.StatusAccepted || sent.Ack.APICallID != sh.APICallID ||
		sent.Ack.Result == nil || sent.Ack.Result.ProtocolStatus != hcx.StatusRequestQueued {
		t.Errorf("ack: %d %+v", sent.HTTPStatus, sent.Ack)
	}

	// The caller's headers are not changed, and every call gets a fresh
	// api_call_id while the case's ids stay.
	if h.APICallID != "" || h.SenderCode != "" {
		t.Errorf("Send changed the caller's headers: %+v", h)
	}
	h2 := sent.Headers
	again, err := b.client.Send(context.Background(), hcx.PathPreauthSubmit, h2, bundle)
	if err != nil {
		t.Fatal(err)
	}
	if again.Headers.APICallID == sh.APICallID || again.Headers.CorrelationID != sh.CorrelationID ||
		again.Headers.RequestID != sh.RequestID {
		t.Errorf("resend: api_call_id must change, correlation and request ids stay: %+v vs %+v", again.Headers, sh)
	}
	if n := b.reg.reg.hitsFor(payerCode); n != 1 {
		t.Errorf("certificate fetched %d times for two messages, want 1", n)
	}
}

func keysOf(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSendCallback(t *testing.T) {
	b := setupClient(t)
	req := hcx.NewRequest(payerCode, ourCode, "1", time.Now())
	sent, err := b.client.Send(context.Background(), hcx.PathCommunicationOnRequest, req.Reply(time.Now()), bundle)
	if err != nil {
		t.Fatal(err)
	}
	d := b.sw.got()[0]
	if string(d.body["type"]) != `"JWEPayload"` || len(d.body) != 2 {
		t.Errorf("callback body must be {\"type\":\"JWEPayload\",\"payload\":...}, got %v", keysOf(d.body))
	}
	if sent.Headers.Status != hcx.StatusResponseComplete || sent.Headers.CorrelationID != req.CorrelationID {
		t.Errorf("headers: %+v", sent.Headers)
	}

	// A callback must repeat the request's correlation id: none is made up.
	_, err = b.client.Send(context.Background(), hcx.PathCommunicationOnRequest, hcx.Headers{RecipientCode: payerCode}, bundle)
	var he *hcx.HeaderError
	if !errors.As(err, &he) || he.Header != hcx.HeaderCorrelationID {
		t.Errorf("callback without correlation id: got %v", err)
	}
	if n := len(b.sw.got()); n != 1 {
		t.Errorf("switch got %d calls, want 1", n)
	}
}

func TestSendRefusesBeforeSending(t *testing.T) {
	b := setupClient(t)
	ctx := context.Background()
	ours := validCert(t, rsaKey(t, "provider"), "provider")
	b.reg.reg.set(ourCode, string(ours))
	for name, tc := range map[string]struct {
		path string
		h    hcx.Headers
	}{
		"to ourselves":          {hcx.PathPreauthSubmit, hcx.Headers{RecipientCode: ourCode}},
		"no recipient":          {hcx.PathPreauthSubmit, hcx.Headers{}},
		"someone else's sender": {hcx.PathPreauthSubmit, hcx.Headers{SenderCode: "999@hcx", RecipientCode: payerCode}},
		"bad status":            {hcx.PathClaimSubmit, hcx.Headers{RecipientCode: payerCode, Status: hcx.StatusResponseComplete}},
		"bad correlation":       {hcx.PathClaimSubmit, hcx.Headers{RecipientCode: payerCode, CorrelationID: "1"}},
		"unknown path":          {"/v1/claims/submit", hcx.Headers{RecipientCode: payerCode}},
		"error path":            {hcx.PathError, hcx.Headers{RecipientCode: payerCode}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := b.client.Send(ctx, tc.path, tc.h, bundle); err == nil {
				t.Error("sent")
			}
		})
	}
	if n := len(b.sw.got()); n != 0 {
		t.Errorf("switch got %d calls, want none", n)
	}
	if n := b.reg.reg.hitsFor(ourCode); n != 0 {
		t.Errorf("our own certificate was fetched %d times for sending", n)
	}
}

func TestSendRefetchesCertificateOnPAYR(t *testing.T) {
	b := setupClient(t)
	ctx := context.Background()
	if _, err := b.client.Send(ctx, hcx.PathClaimSubmit, hcx.Headers{RecipientCode: payerCode}, bundle); err != nil {
		t.Fatal(err)
	}
	// The payer rotates its key; our cached certificate is now stale, so
	// the payer (behind the switch) answers PAYR-1001.
	rotated := rsaKey(t, "payer-rotated")
	b.reg.reg.set(payerCode, string(validCert(t, rotated, "payer")))
	b.sw.setKeys(map[string]*rsa.PrivateKey{"payer-rotated": rotated})

	sent, err := b.client.Send(ctx, hcx.PathClaimSubmit, hcx.Headers{RecipientCode: payerCode}, bundle)
	if err != nil {
		t.Fatalf("after PAYR-1001: %v", err)
	}
	got := b.sw.got()
	if len(got) != 3 {
		t.Fatalf("switch calls: %d, want 3 (first message, refused, resent)", len(got))
	}
	if got[1].openErr == nil || got[2].keyName != "payer-rotated" {
		t.Errorf("second call should fail to open and the third open with the new key: %v, %q", got[1].openErr, got[2].keyName)
	}
	if n := b.reg.reg.hitsFor(payerCode); n != 2 {
		t.Errorf("certificate fetched %d times, want 2", n)
	}
	if got[2].msg.Headers.APICallID != sent.Headers.APICallID {
		t.Error("Sent.Headers is not the accepted attempt's")
	}

	// A payer that keeps refusing gets one retry, not a loop.
	b.sw.setKeys(map[string]*rsa.PrivateKey{})
	_, err = b.client.Send(ctx, hcx.PathClaimSubmit, hcx.Headers{RecipientCode: payerCode}, bundle)
	var e *hcx.Error
	if !errors.Is(err, hcx.ErrStaleCertificate) || !errors.As(err, &e) || e.Code != "PAYR-1001" {
		t.Fatalf("got %v, want PAYR-1001", err)
	}
	if n := len(b.sw.got()); n != 5 {
		t.Errorf("switch calls: %d, want 5", n)
	}
}

func TestSendRetriesRefusedTokenOnce(t *testing.T) {
	b := setupClient(t)
	b.sw.setReply(func(n int, d delivery) (int, string) {
		if d.token == "tok-1" {
			return http.StatusUnauthorized, `{"error":{"code":"NHCX-401","message":"Sender is not authorized to execute the operation"}}`
		}
		return http.StatusAccepted, ackFor(d)
	})
	sent, err := b.client.Send(context.Background(), hcx.PathCoverageEligibilityCheck, hcx.Headers{RecipientCode: payerCode}, bundle)
	if err != nil {
		t.Fatal(err)
	}
	got := b.sw.got()
	if len(got) != 2 || got[0].token != "tok-1" || got[1].token != "tok-2" {
		t.Fatalf("calls: %d", len(got))
	}
	if got[0].msg.Headers.APICallID == got[1].msg.Headers.APICallID {
		t.Error("the retry reused the api_call_id")
	}
	if got[0].msg.Headers.CorrelationID != got[1].msg.Headers.CorrelationID || sent.Headers.APICallID != got[1].msg.Headers.APICallID {
		t.Error("the retry must keep the correlation id, and Sent must describe it")
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		category error
		code     string
	}{
		{"duplicate", http.StatusBadRequest, `{"timestamp":"x","error":{"code":"NHCX-1006","message":"correlation id retired"}}`, hcx.ErrDuplicate, "NHCX-1006"},
		{"not enabled", http.StatusForbidden, `{"error":{"code":"NHCX-1002","message":"use case not enabled"}}`, hcx.ErrNotEnabled, "NHCX-1002"},
		{"error inside 202", http.StatusAccepted, `{"api_call_id":"a","error":{"code":"ERR_INVALID_RECIPIENT","message":"inactive"}}`, hcx.ErrNotFound, "ERR_INVALID_RECIPIENT"},
		{"proxy page with 200", http.StatusOK, `<html><title>Login</title></html>`, hcx.ErrBadRequest, ""},
		{"switch down", http.StatusServiceUnavailable, ``, hcx.ErrSwitchUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setupClient(t)
			b.sw.setReply(func(int, delivery) (int, string) { return tt.status, tt.body })
			_, err := b.client.Send(context.Background(), hcx.PathPreauthSubmit, hcx.Headers{RecipientCode: payerCode}, bundle)
			var e *hcx.Error
			if !errors.Is(err, tt.category) || !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("got %v, want %v with code %q", err, tt.category, tt.code)
			}
			if e.Explanation == "" || e.Advice == "" {
				t.Errorf("no text for staff: %+v", e)
			}
		})
	}
	t.Run("202 without a readable ack is accepted", func(t *testing.T) {
		b := setupClient(t)
		b.sw.setReply(func(int, delivery) (int, string) { return http.StatusAccepted, `` })
		if _, err := b.client.Send(context.Background(), hcx.PathPreauthSubmit, hcx.Headers{RecipientCode: payerCode}, bundle); err != nil {
			t.Fatal(err)
		}
	})
}

// staticKeys is a KeySource with one fixed key.
type staticKeys struct{ key hcx.EncryptionKey }

func (s staticKeys) EncryptionKey(context.Context, string) (hcx.EncryptionKey, error) {
	return s.key, nil
}
func (staticKeys) ForgetOnError(string, error) bool { return false }

// TestClientWireHeaders reads the raw request off a loopback socket: the
// token header must be spelled bearer_auth exactly, which an http.Server
// would hide by canonicalising it.
func TestClientWireHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lines := make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		var head []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			head = append(head, line)
		}
		lines <- head
		fmt.Fprint(conn, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
	}()

	c, err := hcx.NewClient(hcx.ClientConfig{
		BaseURL: "http://" + ln.Addr().String() + "/hcx/", ParticipantCode: ourCode, Tokens: plainTokens{"secret-token"},
		Keys: staticKeys{hcx.EncryptionKey{Public: &rsaKey(t, "payer").PublicKey}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), hcx.PathPreauthSubmit, hcx.Headers{RecipientCode: payerCode}, bundle); err != nil {
		t.Fatal(err)
	}
	head := <-lines
	if len(head) == 0 || head[0] != "POST /hcx/v1/preauth/submit HTTP/1.1" {
		t.Fatalf("request line: %v", head)
	}
	want := map[string]bool{
		"bearer_auth: Bearer secret-token":   false,
		"Authorization: Bearer secret-token": false,
		"Content-Type: application/json":     false,
		"Accept: application/json":           false,
	}
	for _, l := range head[1:] {
		if _, ok := want[l]; ok {
			want[l] = true
		}
		if strings.HasPrefix(strings.ToLower(l), "x-hcx-") {
			t.Errorf("protocol header sent as HTTP header: %q", l)
		}
	}
	for l, seen := range want {
		if !seen {
			t.Errorf("missing header line %q in %q", l, head)
		}
	}
}

func TestNewClientChecksConfig(t *testing.T) {
	good := hcx.ClientConfig{BaseURL: "https://apisbx.abdm.gov.in/hcx", ParticipantCode: ourCode, Tokens: &tokens{},
		Keys: staticKeys{}}
	if _, err := hcx.NewClient(good); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*hcx.ClientConfig){
		"no URL":   func(c *hcx.ClientConfig) { c.BaseURL = "" },
		"ftp URL":  func(c *hcx.ClientConfig) { c.BaseURL = "ftp://x/hcx" },
		"no code":  func(c *hcx.ClientConfig) { c.ParticipantCode = " " },
		"no token": func(c *hcx.ClientConfig) { c.Tokens = nil },
		"no keys":  func(c *hcx.ClientConfig) { c.Keys = nil },
	} {
		cfg := good
		edit(&cfg)
		if _, err := hcx.NewClient(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
