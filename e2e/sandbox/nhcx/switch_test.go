package nhcx_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
)

// These tests drive the switch with Sangam's own NHCX client (claims/hcx),
// which shares no code with it: each side checks the other.

const (
	providerCode = "1000004604@sbx"
	goodToken    = "good-token"
)

var keys struct {
	once            sync.Once
	provider, payer *rsa.PrivateKey
	providerCertPEM string
	err             error
}

func testKeys(t *testing.T) (provider, payer *rsa.PrivateKey, cert string) {
	t.Helper()
	keys.once.Do(func() {
		if keys.provider, keys.err = rsa.GenerateKey(rand.Reader, 2048); keys.err != nil {
			return
		}
		if keys.payer, keys.err = rsa.GenerateKey(rand.Reader, 2048); keys.err != nil {
			return
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: providerCode},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &keys.provider.PublicKey, keys.provider)
		if err != nil {
			keys.err = err
			return
		}
		keys.providerCertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	})
	if keys.err != nil {
		t.Fatal(keys.err)
	}
	return keys.provider, keys.payer, keys.providerCertPEM
}

// delivery is what the provider's endpoint received.
type delivery struct {
	path    string
	body    []byte
	headers hcx.Headers
	payload []byte
}

// provider is a participant's endpoint on loopback: it opens what NHCX
// delivers with the provider's key and answers with the receipt, or fails
// the first failures deliveries with 500.
type provider struct {
	t        *testing.T
	key      *rsa.PrivateKey
	srv      *httptest.Server
	mu       sync.Mutex
	failures int
	got      []delivery
	attempts int
	arrived  chan struct{}
}

func newProvider(t *testing.T, key *rsa.PrivateKey) *provider {
	p := &provider{t: t, key: key, arrived: make(chan struct{}, 100)}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.attempts++
	fail := p.failures > 0
	if fail {
		p.failures--
	}
	p.mu.Unlock()
	if fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	d := delivery{path: r.URL.Path, body: body}
	rcv, err := hcx.ParseBody(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rcv.Protocol != nil {
		d.headers = *rcv.Protocol
	} else {
		msg, err := hcx.Open(rcv.Payload, p.key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d.headers, d.payload = msg.Headers, msg.Payload
	}
	p.mu.Lock()
	p.got = append(p.got, d)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(hcx.NewReceipt(d.headers, "x", time.Now()))
	p.arrived <- struct{}{}
}

// wait returns the n-th delivery (from 1), waiting for it.
func (p *provider) wait(n int) delivery {
	p.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		p.mu.Lock()
		if len(p.got) >= n {
			d := p.got[n-1]
			p.mu.Unlock()
			return d
		}
		p.mu.Unlock()
		select {
		case <-p.arrived:
		case <-deadline:
			p.t.Fatalf("delivery %d never arrived", n)
		}
	}
}

type env struct {
	sw       *nhcx.Switch
	url      string
	provider *provider
	client   *hcx.Client
}

type staticTokens string

func (s staticTokens) Token(context.Context) (string, error) { return string(s), nil }

func newEnv(t *testing.T, cfg nhcx.Config) *env {
	t.Helper()
	provKey, payerKey, cert := testKeys(t)
	p := newProvider(t, provKey)
	cfg.VerifyToken = func(token string) (string, error) {
		if token != goodToken {
			return "", errors.New("bad token")
		}
		return "SBX_1", nil
	}
	cfg.PayerKeys = map[string]*rsa.PrivateKey{nhcx.DefaultPayerCode: payerKey}
	cfg.Providers = append(cfg.Providers, nhcx.Participant{Code: providerCode, EndpointURL: p.srv.URL, EncryptionCert: cert, ClientID: "SBX_1"})
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay, cfg.RetryMaxDelay = 10*time.Millisecond, 40*time.Millisecond
	}
	sw, err := nhcx.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sw)
	t.Cleanup(func() {
		srv.Close()
		_ = sw.Close()
	})
	reg, err := hcx.NewRegistry(hcx.RegistryConfig{BaseURL: srv.URL, Tokens: staticTokens(goodToken), OwnCode: providerCode, OwnKey: &provKey.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	client, err := hcx.NewClient(hcx.ClientConfig{BaseURL: srv.URL, ParticipantCode: providerCode, Tokens: staticTokens(goodToken), Keys: reg})
	if err != nil {
		t.Fatal(err)
	}
	return &env{sw: sw, url: srv.URL, provider: p, client: client}
}

func claimBundle(use string, total int) []byte {
	return []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":
		{"resourceType":"Claim","id":"c1","use":"` + use + `","identifier":[{"value":"CLM-1"}],
		 "total":{"value":` + big.NewInt(int64(total)).String() + `,"currency":"INR"}}}]}`)
}

func preauth(t *testing.T, e *env, workflow string, payload []byte) *hcx.Sent {
	t.Helper()
	sent, err := e.client.Send(context.Background(), hcx.PathPreauthSubmit,
		hcx.Headers{RecipientCode: nhcx.DefaultPayerCode, WorkflowID: workflow}, payload)
	if err != nil {
		t.Fatalf("preauth: %v", err)
	}
	return sent
}

func claimResponse(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entry {
		if e.Resource["resourceType"] == "ClaimResponse" {
			return e.Resource
		}
	}
	t.Fatalf("no ClaimResponse in %s", payload)
	return nil
}

// benefit reads total[category=benefit].amount.value.
func benefit(cr map[string]any) string {
	totals, _ := cr["total"].([]any)
	for _, t := range totals {
		tm := t.(map[string]any)
		coding := tm["category"].(map[string]any)["coding"].([]any)[0].(map[string]any)
		if coding["code"] == "benefit" {
			return tm["amount"].(map[string]any)["value"].(json.Number).String()
		}
	}
	return ""
}

func TestPayerAnswersByRule(t *testing.T) {
	e := newEnv(t, nhcx.Config{})
	if err := e.sw.SetRules([]nhcx.Rule{
		{WorkflowID: "wf-partial", Outcome: nhcx.OutcomePartial, Amount: "40000"},
		{WorkflowID: "wf-reject", Outcome: nhcx.OutcomeReject, Reason: "Not covered", Code: "a002"},
	}); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		workflow, benefit, outcome string
	}{
		{"wf-approve", "70000.00", "complete"},
		{"wf-partial", "40000.00", "complete"},
		{"wf-reject", "0.00", "complete"},
	} {
		sent := preauth(t, e, tc.workflow, claimBundle("preauthorization", 70000))
		if sent.HTTPStatus != http.StatusAccepted || sent.Ack.Result == nil || sent.Ack.Result.EntityType != "preauth" ||
			sent.Ack.Result.ProtocolStatus != hcx.StatusRequestQueued {
			t.Errorf("%s: ack %+v", tc.workflow, sent.Ack)
		}
		d := e.provider.wait(i + 1)
		if d.path != hcx.PathPreauthOnSubmit {
			t.Errorf("%s: delivered to %s", tc.workflow, d.path)
		}
		h := d.headers
		if h.CorrelationID != sent.Headers.CorrelationID || h.WorkflowID != tc.workflow || h.Status != hcx.StatusResponseComplete ||
			h.SenderCode != nhcx.DefaultPayerCode || h.RecipientCode != providerCode || h.APICallID == sent.Headers.APICallID {
			t.Errorf("%s: answer headers %+v", tc.workflow, h)
		}
		// The answer is what our own client would send as a callback.
		if err := h.Validate(hcx.KindCallback); err != nil {
			t.Errorf("%s: answer headers invalid: %v", tc.workflow, err)
		}
		var env map[string]string
		_ = json.Unmarshal(d.body, &env)
		if env["type"] != "JWEPayload" {
			t.Errorf("%s: answer body type %q", tc.workflow, env["type"])
		}
		cr := claimResponse(t, d.payload)
		if got := benefit(cr); got != tc.benefit || cr["outcome"] != tc.outcome {
			t.Errorf("%s: outcome %v benefit %s, want %s %s", tc.workflow, cr["outcome"], got, tc.outcome, tc.benefit)
		}
	}
	// The switch's log shows both directions and the payer's reading.
	ms := e.sw.Messages(nhcx.Filter{Path: hcx.PathPreauthSubmit})
	if len(ms) != 3 || ms[1].Outcome != "answered: partial 40000.00" || !bytes.Contains(ms[0].Payload, []byte(`"CLM-1"`)) {
		t.Errorf("messages: %+v", ms)
	}
	if rules := e.sw.Rules(); rules[0].Used != 1 || rules[1].Used != 1 {
		t.Errorf("rule use %+v", rules)
	}
}

func TestQueryWaitsForDocuments(t *testing.T) {
	e := newEnv(t, nhcx.Config{})
	if err := e.sw.SetRules([]nhcx.Rule{{Outcome: nhcx.OutcomeQuery, Reason: "Send the discharge summary", Then: nhcx.OutcomePartial, ThenAmount: "50000"}}); err != nil {
		t.Fatal(err)
	}
	sent := preauth(t, e, "wf-q", claimBundle("preauthorization", 70000))
	q := e.provider.wait(1)
	if q.path != hcx.PathCommunicationRequest || q.headers.CorrelationID == sent.Headers.CorrelationID ||
		q.headers.WorkflowID != "wf-q" || !bytes.Contains(q.payload, []byte("Send the discharge summary")) {
		t.Fatalf("communication request: %s %+v", q.path, q.headers)
	}
	// Answering on a correlation id the payer never used is refused.
	_, err := e.client.Send(context.Background(), hcx.PathCommunicationOnRequest,
		hcx.Headers{RecipientCode: nhcx.DefaultPayerCode, CorrelationID: sent.Headers.CorrelationID}, []byte(`{"resourceType":"Bundle"}`))
	var he *hcx.Error
	if !errors.As(err, &he) || he.Code != "ERR_INVALID_CORRELATION_ID" {
		t.Errorf("answer to no request: %v", err)
	}
	if _, err := e.client.Send(context.Background(), hcx.PathCommunicationOnRequest, q.headers.Reply(time.Now()),
		[]byte(`{"resourceType":"Bundle","type":"collection","entry":[]}`)); err != nil {
		t.Fatalf("documents: %v", err)
	}
	final := e.provider.wait(2)
	if final.path != hcx.PathPreauthOnSubmit || final.headers.CorrelationID != sent.Headers.CorrelationID {
		t.Fatalf("final answer: %s %+v", final.path, final.headers)
	}
	if got := benefit(claimResponse(t, final.payload)); got != "50000.00" {
		t.Errorf("benefit %s", got)
	}
}

func TestCallbacksAreRetriedThenDropped(t *testing.T) {
	e := newEnv(t, nhcx.Config{CallbackRetries: 2})
	e.provider.failures = 2
	sent := preauth(t, e, "", claimBundle("preauthorization", 1000))
	e.provider.wait(1)
	waitFor(t, func() bool {
		ms := e.sw.Messages(nhcx.Filter{Path: hcx.PathPreauthOnSubmit})
		return len(ms) == 1 && ms[0].State == nhcx.StateDelivered
	})
	if ms := e.sw.Messages(nhcx.Filter{Path: hcx.PathPreauthOnSubmit}); len(ms[0].Attempts) != 3 || ms[0].Attempts[0].HTTPStatus != 500 {
		t.Fatalf("attempts %+v", ms[0].Attempts)
	}

	// Every attempt failing drops the request; its correlation id is
	// retired.
	e.provider.mu.Lock()
	e.provider.failures = 3
	e.provider.mu.Unlock()
	second := preauth(t, e, "", claimBundle("preauthorization", 1000))
	waitFor(t, func() bool {
		ms := e.sw.Messages(nhcx.Filter{CorrelationID: second.Headers.CorrelationID, Direction: nhcx.DirectionDelivered})
		return len(ms) == 1 && ms[0].State == nhcx.StateFailed
	})
	_, err := e.client.Send(context.Background(), hcx.PathPreauthSubmit,
		hcx.Headers{RecipientCode: nhcx.DefaultPayerCode, CorrelationID: second.Headers.CorrelationID}, claimBundle("preauthorization", 1))
	if !errors.Is(err, hcx.ErrDuplicate) {
		t.Errorf("reusing a retired correlation id: %v, want NHCX-1006", err)
	}
	_ = sent
}

func TestPayerReportsWhatItCannotRead(t *testing.T) {
	e := newEnv(t, nhcx.Config{})
	if err := e.sw.AddRule(nhcx.Rule{Path: hcx.PathClaimSubmit, Outcome: nhcx.OutcomeError, Code: "PAYR-1010", Reason: "Policy lapsed"}); err != nil {
		t.Fatal(err)
	}
	sent, err := e.client.Send(context.Background(), hcx.PathClaimSubmit, hcx.Headers{RecipientCode: nhcx.DefaultPayerCode}, claimBundle("claim", 5))
	if err != nil {
		t.Fatal(err)
	}
	d := e.provider.wait(1)
	if d.path != hcx.PathError || d.headers.ErrorDetails == nil || d.headers.ErrorDetails.Code != "PAYR-1010" ||
		d.headers.CorrelationID != sent.Headers.CorrelationID || d.headers.SenderCode != providerCode ||
		d.headers.Status != hcx.StatusResponseError || d.headers.EntityType != "claim" {
		t.Errorf("error report %s %+v", d.path, d.headers)
	}
}

func TestSwitchRefusesWhatNHCXRefuses(t *testing.T) {
	e := newEnv(t, nhcx.Config{})
	provKey, _, _ := testKeys(t)
	payerCert := ""
	for _, p := range e.sw.Participants() {
		if p.Code == nhcx.DefaultPayerCode {
			payerCert = p.EncryptionCert
		}
	}
	payerKey, err := hcx.ParsePublicKey([]byte(payerCert))
	if err != nil {
		t.Fatalf("payer certificate from the registry: %v", err)
	}
	good := func() hcx.Headers {
		return hcx.NewRequest(providerCode, nhcx.DefaultPayerCode, "", time.Now())
	}
	post := func(path string, h hcx.Headers, body func(string) any, hdr map[string]string) (int, string) {
		t.Helper()
		compact, err := hcx.Seal([]byte(`{"resourceType":"Bundle"}`), h, payerKey.Public)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(body(compact))
		req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header["bearer_auth"] = []string{"Bearer " + goodToken}
		for k, v := range hdr {
			if v == "" {
				req.Header.Del(k)
				delete(req.Header, k)
				continue
			}
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ack hcx.Ack
		_ = json.NewDecoder(resp.Body).Decode(&ack)
		code := ""
		if ack.Error != nil {
			code = ack.Error.Code
		}
		return resp.StatusCode, code
	}
	request := func(c string) any { return map[string]string{"payload": c} }
	callback := func(c string) any { return map[string]string{"type": "JWEPayload", "payload": c} }

	dup := good()
	if st, code := post(hcx.PathPreauthSubmit, dup, request, nil); st != 202 {
		t.Fatalf("good request: %d %s", st, code)
	}
	for _, tc := range []struct {
		name       string
		path       string
		headers    func() hcx.Headers
		body       func(string) any
		hdr        map[string]string
		wantStatus int
		wantCode   string
	}{
		{"Authorization only", hcx.PathPreauthSubmit, good, request, map[string]string{"bearer_auth": "", "Authorization": "Bearer " + goodToken}, 401, "NHCX-401"},
		{"bad token", hcx.PathPreauthSubmit, good, request, map[string]string{"bearer_auth": "Bearer nope"}, 401, "NHCX-401"},
		{"no Accept", hcx.PathPreauthSubmit, good, request, map[string]string{"Accept": ""}, 400, "ERR_INVALID_PAYLOAD"},
		{"type on a request", hcx.PathPreauthSubmit, good, callback, nil, 400, "ERR_INVALID_PAYLOAD"},
		{"duplicate api_call_id", hcx.PathPreauthSubmit, func() hcx.Headers { return dup }, request, nil, 400, "ERR_INVALID_API_CALL_ID"},
		{"colon in the timestamp offset", hcx.PathPreauthSubmit, func() hcx.Headers {
			h := good()
			h.Timestamp = time.Now().Format(time.RFC3339)
			return h
		}, request, nil, 400, "ERR_INVALID_TIMESTAMP"},
		{"unknown recipient", hcx.PathPreauthSubmit, func() hcx.Headers {
			h := good()
			h.RecipientCode = "nobody@hcx"
			return h
		}, request, nil, 400, "ERR_INVALID_RECIPIENT"},
		{"status on a reply", hcx.PathCommunicationOnRequest, func() hcx.Headers {
			h := good().Reply(time.Now())
			h.SenderCode, h.RecipientCode = providerCode, nhcx.DefaultPayerCode
			h.Status = hcx.StatusRequestInitiated
			return h
		}, callback, nil, 400, "NHCX-1011"},
		{"not a UUID", hcx.PathPreauthSubmit, func() hcx.Headers {
			h := good()
			h.CorrelationID = "abc"
			return h
		}, request, nil, 400, "ERR_INVALID_CORRELATION_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, code := post(tc.path, tc.headers(), tc.body, tc.hdr); st != tc.wantStatus || code != tc.wantCode {
				t.Errorf("got %d %s, want %d %s", st, code, tc.wantStatus, tc.wantCode)
			}
		})
	}
	_ = provKey
}

func TestRegistry(t *testing.T) {
	e := newEnv(t, nhcx.Config{})
	_, _, providerCert := testKeys(t)
	reg, err := hcx.NewRegistry(hcx.RegistryConfig{BaseURL: e.url, Tokens: staticTokens(goodToken), OwnCode: "other@sbx", OwnKey: &keys.payer.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, err := reg.EncryptionKey(ctx, providerCode)
	if err != nil || k.Certificate == nil {
		t.Fatalf("provider certificate: %v", err)
	}
	if want, _ := hcx.ParsePublicKey([]byte(providerCert)); !k.Public.Equal(want.Public) {
		t.Error("registry returned another key for the provider")
	}
	if _, err := reg.EncryptionKey(ctx, "nobody@sbx"); !errors.Is(err, hcx.ErrNoCertificate) {
		t.Errorf("unknown participant: %v", err)
	}
	p, err := reg.Lookup(ctx, nhcx.DefaultPayerCode)
	if err != nil || p.Status != "Active" || !strings.Contains(strings.Join(p.Roles, ","), "payer") {
		t.Errorf("search: %+v %v", p, err)
	}
	bad, _ := hcx.NewRegistry(hcx.RegistryConfig{BaseURL: e.url, Tokens: staticTokens("nope"), OwnCode: "x@sbx", OwnKey: &keys.payer.PublicKey})
	if _, err := bad.Lookup(ctx, providerCode); !errors.Is(err, hcx.ErrUnauthorized) {
		t.Errorf("bad token: %v", err)
	}
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t, nhcx.Config{})
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := do("PUT", "/_sandbox/nhcx/rules", `{"rules":[{"outcome":"maybe"}]}`); st != 400 || !strings.Contains(body, "maybe") {
		t.Errorf("bad rule: %d %s", st, body)
	}
	if st, body := do("PUT", "/_sandbox/nhcx/rules", `{"rules":[{"path":"/v1/claim/submit","outcome":"approve","pay":{"utr":"UTR9"}}]}`); st != 200 || !strings.Contains(body, `"utr":"UTR9"`) {
		t.Errorf("rules: %d %s", st, body)
	}
	if st, body := do("PUT", "/_sandbox/nhcx/participants/2000000001@sbx", `{"participant_name":"Other","endpoint_url":"not a url"}`); st != 400 {
		t.Errorf("bad participant: %d %s", st, body)
	}
	if st, body := do("PUT", "/_sandbox/nhcx/faults", `{"fail_requests":1,"fail_status":502}`); st != 200 {
		t.Errorf("faults: %d %s", st, body)
	}
	_, err := e.client.Send(context.Background(), hcx.PathClaimSubmit, hcx.Headers{RecipientCode: nhcx.DefaultPayerCode}, claimBundle("claim", 10))
	if !errors.Is(err, hcx.ErrSwitchUnavailable) {
		t.Errorf("with a fail_requests fault: %v", err)
	}
	// The claim rule pays: the answer, then a payment notice.
	sent, err := e.client.Send(context.Background(), hcx.PathClaimSubmit, hcx.Headers{RecipientCode: nhcx.DefaultPayerCode}, claimBundle("claim", 10))
	if err != nil {
		t.Fatal(err)
	}
	e.provider.wait(1)
	pn := e.provider.wait(2)
	if pn.path != hcx.PathPaymentNoticeRequest || !bytes.Contains(pn.payload, []byte(`"UTR9"`)) || pn.headers.CorrelationID == sent.Headers.CorrelationID {
		t.Errorf("payment notice %s %+v", pn.path, pn.headers)
	}
	waitFor(t, func() bool {
		st, body := do("GET", "/_sandbox/nhcx/messages?path=/v1/paymentnotice/request", "")
		return st == 200 && strings.Contains(body, `"state":"delivered"`) && strings.Contains(body, `"http_status":202`)
	})
	if st, body := do("POST", "/_sandbox/nhcx/requests", `{"path":"/v1/communication/request","provider":"`+providerCode+`","text":"Need X-ray"}`); st != 202 {
		t.Errorf("trigger: %d %s", st, body)
	}
	if d := e.provider.wait(3); d.path != hcx.PathCommunicationRequest || !bytes.Contains(d.payload, []byte("Need X-ray")) {
		t.Errorf("triggered request: %s", d.path)
	}
	if st, _ := do("POST", "/_sandbox/nhcx/reset", ""); st != 204 {
		t.Errorf("reset: %d", st)
	}
	if n := len(e.sw.Messages(nhcx.Filter{})); n != 0 || len(e.sw.Rules()) != 0 {
		t.Errorf("after reset: %d messages, %d rules", n, len(e.sw.Rules()))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
