package abdm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
)

const (
	testTenant   = "acme"
	testClientID = "SBX_000123"
	testSecret   = "s3cret-value-never-logged"
	testHIP      = "IN2810014366"
	testHIU      = "IN2910000123"
)

// clock is a settable time source shared by a test's client and verifier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 10, 11, 12, 123e6, time.UTC)} }

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

type testBundle struct {
	gw     *abdmtest.Gateway
	client *abdm.Client
	clock  *clock
	logs   *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// setup starts a fake gateway and a client for testTenant. A nil clock
// means real time.
func setup(t *testing.T, clk *clock, mutate ...func(*abdm.Config)) *testBundle {
	t.Helper()
	gw := abdmtest.NewGateway(t)
	gw.AddClient(testClientID, testSecret)
	logs := &syncBuffer{}
	cfg := abdm.Config{
		GatewayURL: gw.URL + "/", // trailing slash must not double up
		CMID:       abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(ctx context.Context, tenant string) (abdm.ClientCredentials, error) {
			if tenant != testTenant {
				return abdm.ClientCredentials{}, fmt.Errorf("no credentials for tenant %q", tenant)
			}
			return abdm.ClientCredentials{ClientID: testClientID, ClientSecret: testSecret}, nil
		}),
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if clk != nil {
		cfg.NowFunc = clk.Now
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := abdm.New(cfg)
	if err != nil {
		t.Fatalf("abdm.New: %v", err)
	}
	return &testBundle{gw: gw, client: c, clock: clk, logs: logs}
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func checkCommonHeaders(t *testing.T, r abdmtest.RecordedRequest) {
	t.Helper()
	id, err := uuid.Parse(r.Header.Get("REQUEST-ID"))
	if err != nil {
		t.Errorf("%s %s: REQUEST-ID %q is not a UUID: %v", r.Method, r.Path, r.Header.Get("REQUEST-ID"), err)
	} else if id.Version() != 4 || id.Variant() != uuid.RFC4122 {
		t.Errorf("%s %s: REQUEST-ID %s is version %d variant %v, want v4 RFC 4122", r.Method, r.Path, id, id.Version(), id.Variant())
	}
	ts := r.Header.Get("TIMESTAMP")
	if !timestampRE.MatchString(ts) {
		t.Errorf("%s %s: TIMESTAMP %q, want UTC with milliseconds like 2026-11-24T10:11:12.123Z", r.Method, r.Path, ts)
	} else if parsed, err := time.Parse(time.RFC3339Nano, ts); err != nil || time.Since(parsed).Abs() > time.Minute {
		t.Errorf("%s %s: TIMESTAMP %q is not close to now (%v)", r.Method, r.Path, ts, err)
	}
	if got := r.Header.Get("X-CM-ID"); got != "sbx" {
		t.Errorf("%s %s: X-CM-ID = %q, want sbx", r.Method, r.Path, got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s %s: Content-Type = %q, want application/json", r.Method, r.Path, got)
	}
}

func TestDoSendsProtocolHeaders(t *testing.T) {
	b := setup(t, nil)
	ctx := t.Context()
	callerID := uuid.NewString()
	abha := abdm.NumericID("91123456789012")

	calls := []struct {
		name      string
		do        func() error
		path      string
		method    string
		hip, hiu  string
		linkToken string
		requestID string
	}{
		{name: "generate token", path: abdm.PathGenerateToken, method: "POST", hip: testHIP, do: func() error {
			_, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathGenerateToken, Tenant: testTenant, HIPID: testHIP,
				Body: abdm.GenerateTokenRequest{ABHANumber: &abha, ABHAAddress: "someone@sbx", Name: "A", Gender: "M", YearOfBirth: 1990}})
			return err
		}},
		{name: "link care context", path: abdm.PathLinkCareContext, method: "POST", hip: testHIP, linkToken: "link.jwt.token", do: func() error {
			_, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathLinkCareContext, Tenant: testTenant, HIPID: testHIP, LinkToken: "link.jwt.token",
				Body: abdm.LinkCareContextRequest{ABHAAddress: "someone@sbx"}})
			return err
		}},
		{name: "consent fetch with caller request id", path: abdm.PathConsentFetch, method: "POST", hiu: testHIU, requestID: callerID, do: func() error {
			resp, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathConsentFetch, Tenant: testTenant, HIUID: testHIU, RequestID: callerID,
				Body: abdm.ConsentFetchRequest{ConsentID: "c1"}})
			if err == nil && resp.RequestID != callerID {
				return fmt.Errorf("Response.RequestID = %q, want %q", resp.RequestID, callerID)
			}
			return err
		}},
		{name: "patch bridge url", path: abdm.PathBridgeURL, method: "PATCH", do: func() error {
			return b.client.PatchBridgeURL(ctx, testTenant, "https://sangam.example/bridge/acme")
		}},
		{name: "on-discover without address header", path: abdm.PathOnDiscover, method: "POST", do: func() error {
			_, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant, Body: json.RawMessage(`{"transactionId":"t"}`)})
			return err
		}},
	}
	for _, c := range calls {
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}

	reqs := b.gw.Requests()
	if len(reqs) != len(calls)+1 {
		t.Fatalf("gateway saw %d requests, want %d (one session + %d calls)", len(reqs), len(calls)+1, len(calls))
	}
	session := reqs[0]
	if session.Path != abdm.PathSessions {
		t.Fatalf("first request went to %s, want the sessions call", session.Path)
	}
	checkCommonHeaders(t, session)
	if got := session.Header.Get("Authorization"); got != "" {
		t.Errorf("sessions call carries Authorization %q, want none", got)
	}
	var sessionBody map[string]any
	if err := json.Unmarshal(session.Body, &sessionBody); err != nil {
		t.Fatalf("sessions body: %v", err)
	}
	wantSession := map[string]any{"clientId": testClientID, "clientSecret": testSecret, "grantType": "client_credentials"}
	if diff := cmp.Diff(wantSession, sessionBody); diff != "" {
		t.Errorf("sessions body mismatch (-want +got):\n%s", diff)
	}

	seen := map[string]bool{session.Header.Get("REQUEST-ID"): true}
	for i, c := range calls {
		r := reqs[i+1]
		if r.Path != c.path || r.Method != c.method {
			t.Errorf("%s: gateway saw %s %s, want %s %s", c.name, r.Method, r.Path, c.method, c.path)
		}
		checkCommonHeaders(t, r)
		if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer tok-") {
			t.Errorf("%s: Authorization = %q, want the session token", c.name, got)
		}
		for header, want := range map[string]string{"X-HIP-ID": c.hip, "X-HIU-ID": c.hiu, "X-LINK-TOKEN": c.linkToken} {
			if got := r.Header.Get(header); got != want {
				t.Errorf("%s: %s = %q, want %q", c.name, header, got, want)
			}
		}
		id := r.Header.Get("REQUEST-ID")
		if c.requestID != "" && id != c.requestID {
			t.Errorf("%s: REQUEST-ID = %q, want caller's %q", c.name, id, c.requestID)
		}
		if seen[id] {
			t.Errorf("%s: REQUEST-ID %s reused", c.name, id)
		}
		seen[id] = true
	}

	patch := b.gw.RequestsTo(abdm.PathBridgeURL)[0]
	if got, want := string(patch.Body), `{"url":"https://sangam.example/bridge/acme"}`; got != want {
		t.Errorf("bridge url body = %s, want %s", got, want)
	}
}

func TestDoRefusesBadRequests(t *testing.T) {
	b := setup(t, nil)
	tests := []struct {
		name string
		req  abdm.Request
		want string
	}{
		{"generate-token needs X-HIP-ID", abdm.Request{Path: abdm.PathGenerateToken, Tenant: testTenant}, "needs HIPID"},
		{"link needs X-HIP-ID", abdm.Request{Path: abdm.PathLinkCareContext, Tenant: testTenant}, "needs HIPID"},
		{"context notify needs X-HIP-ID", abdm.Request{Path: abdm.PathLinkContextNotify, Tenant: testTenant}, "needs HIPID"},
		{"consent init needs X-HIU-ID", abdm.Request{Path: abdm.PathConsentRequestInit, Tenant: testTenant, HIPID: testHIP}, "needs HIUID"},
		{"status needs X-HIU-ID", abdm.Request{Path: abdm.PathConsentRequestStatus, Tenant: testTenant}, "needs HIUID"},
		{"fetch needs X-HIU-ID", abdm.Request{Path: abdm.PathConsentFetch, Tenant: testTenant}, "needs HIUID"},
		{"HI request needs X-HIU-ID", abdm.Request{Path: abdm.PathHealthInformationRequest, Tenant: testTenant}, "needs HIUID"},
		{"tenant required", abdm.Request{Path: abdm.PathOnDiscover}, "Tenant is required"},
		{"relative path", abdm.Request{Path: "v3/x", Tenant: testTenant}, "must start with /"},
		{"request id not a uuid", abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant, RequestID: "abc"}, "not a UUID"},
		{"abha without url", abdm.Request{Path: "/v3/profile/account", Service: abdm.ServiceABHA, Tenant: testTenant}, "ABHAURL"},
		{"dashed abha number", abdm.Request{Path: abdm.PathGenerateToken, Tenant: testTenant, HIPID: testHIP,
			Body: abdm.GenerateTokenRequest{ABHANumber: ptr(abdm.NumericID("91-1234-5678-9012"))}}, "digits only"},
	}
	for _, tt := range tests {
		_, err := b.client.Do(t.Context(), tt.req)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if n := len(b.gw.Requests()); n != 0 {
		t.Errorf("gateway saw %d requests, want none for refused requests", n)
	}
}

func ptr[T any](v T) *T { return &v }

func TestNewValidatesConfig(t *testing.T) {
	creds := abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
		return abdm.ClientCredentials{}, nil
	})
	tests := []struct {
		name string
		cfg  abdm.Config
		want string
	}{
		{"no gateway", abdm.Config{CMID: "sbx", Credentials: creds}, "GatewayURL"},
		{"relative gateway", abdm.Config{GatewayURL: "dev.abdm.gov.in", CMID: "sbx", Credentials: creds}, "GatewayURL"},
		{"bad cm id", abdm.Config{GatewayURL: "https://x", CMID: "prod", Credentials: creds}, "CMID"},
		{"no credentials", abdm.Config{GatewayURL: "https://x", CMID: "abdm"}, "Credentials"},
		{"bad abha url", abdm.Config{GatewayURL: "https://x", ABHAURL: "ftp://y", CMID: "abdm", Credentials: creds}, "ABHAURL"},
	}
	for _, tt := range tests {
		if _, err := abdm.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming %s", tt.name, err, tt.want)
		}
	}
}

func TestABHAServiceUsesSessionToken(t *testing.T) {
	var b *testBundle
	b = setup(t, nil, func(c *abdm.Config) { c.ABHAURL = strings.TrimSuffix(c.GatewayURL, "/") + "/abha/api" })
	b.gw.Handle("GET", "/abha/api/v3/profile/account", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ABHANumber":"91-1234-5678-9012"}`)
	})
	resp, err := b.client.Do(t.Context(), abdm.Request{
		Method: "GET", Path: "/v3/profile/account", Service: abdm.ServiceABHA, Tenant: testTenant,
		Header: http.Header{"X-Token": {"Bearer user-token"}, "Request-Id": {"must-be-overridden"}},
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if !strings.Contains(string(resp.Body), "91-1234-5678-9012") {
		t.Errorf("body = %s", resp.Body)
	}
	r := b.gw.RequestsTo("/abha/api/v3/profile/account")[0]
	checkCommonHeaders(t, r)
	if got := r.Header.Get("X-Token"); got != "Bearer user-token" {
		t.Errorf("X-token = %q, want the extra header", got)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer tok-") {
		t.Errorf("Authorization = %q, want the gateway session token", got)
	}
}

func TestSessionTokenCachedAndRefreshed(t *testing.T) {
	clk := newClock()
	b := setup(t, clk)
	b.gw.SetExpiresIn(120) // refresh margin 60 s applies
	ctx := t.Context()
	call := func() string {
		t.Helper()
		if _, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant}); err != nil {
			t.Fatalf("Do at %v: %v", clk.Now(), err)
		}
		reqs := b.gw.RequestsTo(abdm.PathOnDiscover)
		return reqs[len(reqs)-1].Header.Get("Authorization")
	}

	first := call()
	call()
	call()
	if n := b.gw.SessionCount(); n != 1 {
		t.Fatalf("after 3 calls: %d sessions, want 1 (cached)", n)
	}
	clk.Advance(59 * time.Second)
	if got := call(); got != first || b.gw.SessionCount() != 1 {
		t.Fatalf("59 s in: token changed or new session (%d); want the cached one", b.gw.SessionCount())
	}
	clk.Advance(2 * time.Second) // 61 s: inside the 60 s margin before expiry
	second := call()
	if n := b.gw.SessionCount(); n != 2 {
		t.Fatalf("61 s in: %d sessions, want 2 (renewed before expiry)", n)
	}
	if second == first {
		t.Errorf("61 s in: still using the first token")
	}

	// A token shorter than twice the margin is renewed at half its life.
	b.gw.SetExpiresIn(10)
	clk.Advance(10 * time.Minute)
	call() // session 3, lifetime 10 s
	clk.Advance(4 * time.Second)
	call()
	if n := b.gw.SessionCount(); n != 3 {
		t.Errorf("4 s into a 10 s token: %d sessions, want 3", n)
	}
	clk.Advance(2 * time.Second)
	call()
	if n := b.gw.SessionCount(); n != 4 {
		t.Errorf("6 s into a 10 s token: %d sessions, want 4", n)
	}
}

func TestSessionRenewalFailureKeepsValidToken(t *testing.T) {
	clk := newClock()
	b := setup(t, clk)
	b.gw.SetExpiresIn(120)
	do := func() error {
		_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant})
		return err
	}
	if err := do(); err != nil {
		t.Fatal(err)
	}
	b.gw.AddClient(testClientID, "rotated") // our secret no longer works
	clk.Advance(90 * time.Second)           // renewal due, token still valid
	if err := do(); err != nil {
		t.Fatalf("renewal failed but the token is still valid; Do: %v", err)
	}
	clk.Advance(31 * time.Second) // expired
	err := do()
	if !errors.Is(err, abdm.ErrUnauthorized) {
		t.Fatalf("after expiry with bad secret: err = %v, want ErrUnauthorized", err)
	}
	if abdm.Retryable(err) {
		t.Errorf("bad credentials reported as retryable")
	}
}

func TestConcurrentCallersShareOneSession(t *testing.T) {
	b := setup(t, nil)
	b.gw.SetSessionDelay(100 * time.Millisecond)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Do: %v", err)
		}
	}
	if got := b.gw.SessionCount(); got != 1 {
		t.Errorf("%d concurrent callers caused %d sessions calls, want 1", n, got)
	}
	if got := len(b.gw.RequestsTo(abdm.PathOnDiscover)); got != n {
		t.Errorf("gateway saw %d calls, want %d", got, n)
	}
}

func TestCancelledWaiterDoesNotBreakSharedSession(t *testing.T) {
	b := setup(t, nil)
	b.gw.SetSessionDelay(200 * time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant})
		first <- err
	}()
	// Wait until the session fetch is in flight, then give up on the first caller.
	for len(b.gw.RequestsTo(abdm.PathSessions)) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	if abdm.Retryable(context.Canceled) {
		t.Errorf("a caller's own cancellation reported as retryable")
	}
	if _, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant}); err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if got := b.gw.SessionCount(); got != 1 {
		t.Errorf("sessions = %d, want 1: the fetch must survive its first caller's cancellation", got)
	}
}

func TestRetryOnceOnInvalidatedToken(t *testing.T) {
	b := setup(t, nil)
	ctx := t.Context()
	if _, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant}); err != nil {
		t.Fatal(err)
	}
	b.gw.RevokeTokens()
	id := uuid.NewString()
	resp, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathLinkOnInit, Tenant: testTenant, RequestID: id})
	if err != nil {
		t.Fatalf("Do after revocation: %v", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d, want 202", resp.StatusCode)
	}
	if got := b.gw.SessionCount(); got != 2 {
		t.Errorf("sessions = %d, want 2 (token dropped and fetched again)", got)
	}
	attempts := b.gw.RequestsTo(abdm.PathLinkOnInit)
	if len(attempts) != 2 {
		t.Fatalf("attempts = %d, want 2", len(attempts))
	}
	for _, a := range attempts {
		if got := a.Header.Get("REQUEST-ID"); got != id {
			t.Errorf("retry REQUEST-ID = %q, want the same %q", got, id)
		}
	}
	if attempts[0].Header.Get("Authorization") == attempts[1].Header.Get("Authorization") {
		t.Errorf("retry reused the refused token")
	}
}

func TestNoRetryBeyondOnce(t *testing.T) {
	b := setup(t, nil)
	always401 := func(code string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"code":%q,"message":"Invalid Credentials","description":"x"}`, code)
		}
	}
	b.gw.Handle("POST", abdm.PathLinkOnInit, always401("900901"))
	b.gw.Handle("POST", abdm.PathLinkOnConfirm, always401("900902"))

	_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathLinkOnInit, Tenant: testTenant})
	var apiErr *abdm.Error
	if !errors.As(err, &apiErr) || apiErr.Code != "900901" || !errors.Is(err, abdm.ErrUnauthorized) {
		t.Fatalf("err = %v, want *Error 900901 matching ErrUnauthorized", err)
	}
	if got := len(b.gw.RequestsTo(abdm.PathLinkOnInit)); got != 2 {
		t.Errorf("900901 every time: %d attempts, want exactly 2", got)
	}
	if _, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathLinkOnConfirm, Tenant: testTenant}); err == nil {
		t.Fatal("900902: want error")
	}
	if got := len(b.gw.RequestsTo(abdm.PathLinkOnConfirm)); got != 1 {
		t.Errorf("401 with another code: %d attempts, want 1", got)
	}
}

func TestDoReturnsParsedGatewayError(t *testing.T) {
	b := setup(t, nil)
	b.gw.Handle("POST", abdm.PathGenerateToken, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"code":"ABDM-1092: ","message":"duplicate link token request"}}`)
	})
	resp, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathGenerateToken, Tenant: testTenant, HIPID: testHIP})
	var apiErr *abdm.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *abdm.Error", err)
	}
	if apiErr.HTTPStatus != 400 || apiErr.Code != "ABDM-1092" || apiErr.Message != "duplicate link token request" {
		t.Errorf("got %+v", apiErr)
	}
	if !errors.Is(err, abdm.ErrDuplicate) || abdm.Retryable(err) {
		t.Errorf("ABDM-1092: want ErrDuplicate and not retryable")
	}
	if resp == nil || resp.StatusCode != 400 {
		t.Errorf("Response = %+v, want it returned with status 400", resp)
	}
}

func TestTransportFailuresAreRetryable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		b := setup(t, nil)
		b.gw.Server.Close()
		_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant})
		if !errors.Is(err, abdm.ErrGatewayUnavailable) || !abdm.Retryable(err) {
			t.Errorf("err = %v, want retryable ErrGatewayUnavailable", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		b := setup(t, nil, func(c *abdm.Config) { c.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond} })
		b.gw.Handle("POST", abdm.PathOnDiscover, func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		})
		_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant})
		if !errors.Is(err, abdm.ErrGatewayUnavailable) || !abdm.Retryable(err) {
			t.Errorf("err = %v, want retryable ErrGatewayUnavailable", err)
		}
	})
	t.Run("503", func(t *testing.T) {
		b := setup(t, nil)
		b.gw.Handle("POST", abdm.PathOnDiscover, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<html><head><title>503 Service Temporarily Unavailable</title></head></html>`)
		})
		_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant})
		var apiErr *abdm.Error
		if !errors.As(err, &apiErr) || apiErr.Message != "503 Service Temporarily Unavailable" || !abdm.Retryable(err) {
			t.Errorf("err = %v, want retryable *Error with the page title", err)
		}
	})
}

func TestCredentialLookupFailure(t *testing.T) {
	b := setup(t, nil)
	_, err := b.client.Do(t.Context(), abdm.Request{Path: abdm.PathOnDiscover, Tenant: "unknown-tenant"})
	if err == nil || !strings.Contains(err.Error(), `no credentials for tenant "unknown-tenant"`) {
		t.Errorf("err = %v, want the credential lookup failure", err)
	}
	if n := len(b.gw.Requests()); n != 0 {
		t.Errorf("gateway saw %d requests, want 0", n)
	}
}

func TestSecretsNotLogged(t *testing.T) {
	b := setup(t, nil)
	ctx := t.Context()
	if _, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathLinkCareContext, Tenant: testTenant, HIPID: testHIP, LinkToken: "link-token-secret"}); err != nil {
		t.Fatal(err)
	}
	b.gw.RevokeTokens()
	if _, err := b.client.Do(ctx, abdm.Request{Path: abdm.PathOnDiscover, Tenant: testTenant}); err != nil {
		t.Fatal(err)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "abdm session created") || !strings.Contains(logs, "abdm call") {
		t.Fatalf("expected session and call records in the log, got:\n%s", logs)
	}
	secrets := []string{testSecret, "link-token-secret"}
	for _, r := range b.gw.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secrets = append(secrets, tok)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log contains a secret %q", s)
		}
	}
	creds := abdm.ClientCredentials{ClientID: "id", ClientSecret: testSecret}
	for _, s := range []string{fmt.Sprint(creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds),
		fmt.Sprint(abdm.SessionRequest{ClientSecret: testSecret})} {
		if strings.Contains(s, testSecret) {
			t.Errorf("formatting leaks the secret: %s", s)
		}
	}
}

// A download (the ABHA card) says what it accepts; every other call asks for
// JSON.
func TestDoKeepsCallersAccept(t *testing.T) {
	b := setup(t, nil)
	ctx := t.Context()
	_, err := b.client.Do(ctx, abdm.Request{Method: "GET", Path: "/gateway/v3/some-download", Tenant: testTenant,
		Header: http.Header{"Accept": {"image/png, application/pdf"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.client.PatchBridgeURL(ctx, testTenant, "https://sangam.example/bridge/acme"); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range b.gw.Requests() {
		got[r.Path] = r.Header.Get("Accept")
	}
	if got["/gateway/v3/some-download"] != "image/png, application/pdf" {
		t.Errorf("download sent Accept %q, want the caller's", got["/gateway/v3/some-download"])
	}
	if got[abdm.PathBridgeURL] != "application/json" {
		t.Errorf("bridge call sent Accept %q, want application/json", got[abdm.PathBridgeURL])
	}
}
