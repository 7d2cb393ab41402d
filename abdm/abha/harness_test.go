package abha_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	sbabha "github.com/sangamhealth/sangam/e2e/sandbox/abha"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

const tenant = "acme"

// Demo identities of the sandbox (see package e2e/sandbox/abha).
const (
	aadhaarAsha   = "9999 0000 0016" // no ABHA; Aadhaar mobile 9000000001
	aadhaarRavi   = "999900000028"   // no ABHA; Aadhaar mobile 9000000002
	aadhaarSunita = "999900000037"   // ABHA 91-0000-0000-0037, sunita.rao@sbx, mobile 9000000003
	aadhaarFarhan = "999900000063"   // no ABHA; mobile 9000000006
	numberSunita  = "91-0000-0000-0037"
	numberMeena   = "91-0000-0000-0044"
	numberArjun   = "91-0000-0000-0059"
	sharedMobile  = "9000000099" // Meena's and Arjun's ABHAs
)

// keys are generated once per test binary: a 4096-bit key costs up to a
// second.
var keys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	p, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		panic(err)
	}
	q, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return p, q
})

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorded is one request that reached the ABHA service.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// harness is a sandbox on loopback, the ABHA client pointed at it, and a
// record of what the client sent.
type harness struct {
	base   string
	sb     *sandbox.Sandbox
	abdm   *abdm.Client
	client *abha.Client
	clock  *clock // the ABHA service's and the client's clock

	mu       sync.Mutex
	requests []recorded
}

type options struct {
	abha   sbabha.Config
	client abha.Config
}

func setup(t *testing.T, opts ...func(*options)) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: time.Now()}}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, sandbox.ABHAPath+"/") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.mu.Lock()
			h.requests = append(h.requests, recorded{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, sandbox.ABHAPath),
				Header: r.Header.Clone(), Body: body})
			h.mu.Unlock()
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	h.base = srv.URL

	profileKey, phrKey := keys()
	o := options{
		abha:   sbabha.Config{ProfileKey: profileKey, PHRKey: phrKey, Now: h.clock.Now},
		client: abha.Config{AddressDomain: "sbx", Now: h.clock.Now},
	}
	for _, f := range opts {
		f(&o)
	}
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: srv.URL,
		Gateway: gateway.Config{Clients: []gateway.Client{{ID: "SBX_1", Secret: "s", Services: []gateway.Service{
			{ID: "HIP_1", Name: "HIP one", Types: []string{gateway.TypeHIP}},
		}}}},
		ABHA: o.abha,
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	handler = sb
	h.sb = sb

	h.abdm, err = abdm.New(abdm.Config{
		GatewayURL: srv.URL, ABHAURL: srv.URL + sandbox.ABHAPath, CMID: abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: "SBX_1", ClientSecret: "s"}, nil
		}),
	})
	if err != nil {
		t.Fatalf("abdm.New: %v", err)
	}
	o.client.ABDM = h.abdm
	h.client, err = abha.New(o.client)
	if err != nil {
		t.Fatalf("abha.New: %v", err)
	}
	return h
}

// sentOTP is an OTP as the sandbox control API shows it.
type sentOTP struct {
	TxnID        string `json:"txn_id"`
	Channel      string `json:"channel"`
	SentTo       string `json:"sent_to"`
	OTP          string `json:"otp"`
	Status       string `json:"status"`
	AttemptsLeft int    `json:"attempts_left"`
}

// otp reads the newest OTP sent for a transaction (or to a mobile) from
// the sandbox control API, the only place OTPs are visible.
func (h *harness) otp(t *testing.T, key, value string) sentOTP {
	t.Helper()
	resp, err := http.Get(h.base + "/_sandbox/abha/otps?" + url.Values{key: {value}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OTPs []sentOTP `json:"otps"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding control OTPs: %v", err)
	}
	if len(out.OTPs) == 0 {
		t.Fatalf("no OTP sent for %s=%s", key, value)
	}
	return out.OTPs[0]
}

// wrong returns a six-digit OTP that is not otp.
func wrong(otp string) string {
	if otp == "000000" {
		return "111111"
	}
	return "000000"
}

// sent lists the recorded requests to an ABHA path.
func (h *harness) sent(path string) []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []recorded
	for _, r := range h.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (h *harness) allSent() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.requests...)
}

func consent() abha.Consent {
	return abha.Consent{Code: abha.ConsentCode, Version: abha.ConsentVersion, Language: "en",
		RecordedBy: "staff:desk-1", AgreedAt: time.Now()}
}

// abhaError asserts err is an *abha.Error of kind and returns it.
func abhaError(t *testing.T, err error, kind error) *abha.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v; want kind %v", err, kind)
	}
	var e *abha.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *abha.Error", err, err)
	}
	if e.Explanation == "" || e.Advice == "" {
		t.Errorf("error %v has no front-desk text: %+v", err, e)
	}
	return e
}

// enrol runs the Aadhaar OTP step of an enrolment for aadhaar with mobile.
func (h *harness) enrol(t *testing.T, aadhaar, mobile string) *abha.Enrolment {
	t.Helper()
	ctx := t.Context()
	sent, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaar, consent())
	if err != nil {
		t.Fatalf("RequestAadhaarOTP: %v", err)
	}
	otp := h.otp(t, "txn_id", sent.TxnID)
	enr, err := h.client.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: sent.TxnID, OTP: otp.OTP, Mobile: mobile, Consent: consent()})
	if err != nil {
		t.Fatalf("EnrolByAadhaar: %v", err)
	}
	return enr
}

// login runs a login to the end of the OTP step.
func (h *harness) login(t *testing.T, r abha.LoginRequest) *abha.Login {
	t.Helper()
	lo, err := h.client.RequestLoginOTP(t.Context(), tenant, r)
	if err != nil {
		t.Fatalf("RequestLoginOTP(%s): %v", r.Method, err)
	}
	otp := h.otp(t, "txn_id", lo.TxnID)
	login, err := h.client.VerifyLoginOTP(t.Context(), tenant, lo, otp.OTP)
	if err != nil {
		t.Fatalf("VerifyLoginOTP(%s): %v", r.Method, err)
	}
	return login
}
