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
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

var discoverBody = map[string]any{
	"transactionId": "f901b782-bfdf-4224-9f8d-da2cadc20c0d",
	"patient":       map[string]any{"id": "someone@sbx", "name": "Full Name", "gender": "M", "yearOfBirth": 1990},
}

func TestDeliveryCarriesAJWTThatVerifiesAgainstTheJWKS(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	jwks := b.jwks()
	if len(jwks.Keys) != 2 || jwks.Keys[0].Algorithm != "RS256" || jwks.Keys[1].Algorithm != "RS512" {
		t.Fatalf("JWKS = %+v; want an RS256 and an RS512 key, as on the real gateway", jwks.Keys)
	}
	for _, k := range jwks.Keys {
		if k.KeyID == "" || k.Use != "sig" || len(k.Certificates) != 1 || k.Certificates[0].Subject.CommonName != "central-registry" {
			t.Errorf("key %q: use %q, %d certificates; want kid, use sig and a central-registry certificate", k.KeyID, k.Use, len(k.Certificates))
		}
	}

	d, err := b.g.Deliver(context.Background(), gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipA, Body: discoverBody})
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got := br.next(t)
	if got.path != gateway.CallbackDiscover {
		t.Errorf("path %q; want %q", got.path, gateway.CallbackDiscover)
	}
	h := got.header
	if h.Get("REQUEST-ID") != d.RequestID || uuid.Validate(d.RequestID) != nil {
		t.Errorf("REQUEST-ID %q, delivery %q; want the same UUID", h.Get("REQUEST-ID"), d.RequestID)
	}
	if ts, err := time.Parse(tsLayout, h.Get("TIMESTAMP")); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("TIMESTAMP %q: %v; want UTC with milliseconds and Z, now", h.Get("TIMESTAMP"), err)
	}
	if h.Get("X-HIP-ID") != hipA || h.Get("X-HIU-ID") != "" || h.Get("X-CM-ID") != "" {
		t.Errorf("X-HIP-ID %q, X-HIU-ID %q, X-CM-ID %q; want only X-HIP-ID %s (the gateway sends no X-CM-ID)",
			h.Get("X-HIP-ID"), h.Get("X-HIU-ID"), h.Get("X-CM-ID"), hipA)
	}
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", h.Get("Content-Type"))
	}
	var body map[string]any
	mustUnmarshal(t, got.body, &body)
	if body["transactionId"] != discoverBody["transactionId"] {
		t.Errorf("body %s; want the callback body", got.body)
	}

	raw, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok {
		t.Fatalf("Authorization %q; want a bearer token", h.Get("Authorization"))
	}
	c, err := verifyJWT(jwks, raw, time.Now())
	if err != nil {
		t.Fatalf("callback JWT does not verify against /certs: %v", err)
	}
	if c.AZP != gateway.CallbackAZP || c.Issuer != b.url+"/auth/realms/central-registry" || c.ID == "" {
		t.Errorf("claims %+v; want azp gateway, the realm issuer and a jti", c)
	}
	if life := c.Expiry.Time().Sub(c.IssuedAt.Time()); life != 5*time.Minute {
		t.Errorf("callback JWT lives %v; want 5m", life)
	}
	// The callback JWT is not a session token.
	if _, err := b.g.VerifySessionToken(raw); err == nil {
		t.Error("a callback JWT was accepted as a session token")
	}

	ds := b.g.Deliveries(gateway.Filter{RequestID: d.RequestID})
	if len(ds) != 1 || ds[0].State != gateway.StateDelivered || len(ds[0].Attempts) != 1 || ds[0].Attempts[0].Status != 202 ||
		ds[0].Attempts[0].URL != br.srv.URL+gateway.CallbackDiscover {
		t.Errorf("recorded delivery %+v; want one attempt answered 202", ds)
	}
}

func TestDeliveryRecordsWhatTheBridgeAnswered(t *testing.T) {
	b := setup(t)
	ctx := context.Background()

	// No bridge URL registered yet.
	d, err := b.g.Deliver(ctx, gateway.Callback{Path: gateway.CallbackShare, HIPID: hipA, Body: map[string]any{}})
	if !errors.Is(err, gateway.ErrNoBridgeURL) || d.State != gateway.StateFailed {
		t.Errorf("Deliver without a bridge URL = %v, state %q; want ErrNoBridgeURL, failed", err, d.State)
	}

	br := newBridge(t)
	br.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}
	b.register(br)
	d, err = b.g.Deliver(ctx, gateway.Callback{Path: gateway.CallbackShare, HIPID: hipA, Body: map[string]any{}})
	if err != nil {
		t.Fatalf("Deliver to a failing bridge: %v; a non-2xx answer is recorded, not an error", err)
	}
	if d.State != gateway.StateFailed || d.Attempts[0].Status != 500 || !strings.Contains(d.Attempts[0].ResponseBody, "database down") {
		t.Errorf("delivery %+v; want failed with status 500 and the body", d)
	}

	// Input mistakes are errors and nothing is sent.
	for name, cb := range map[string]gateway.Callback{
		"no id":          {Path: gateway.CallbackShare, Body: map[string]any{}},
		"both ids":       {Path: gateway.CallbackShare, HIPID: hipA, HIUID: hiuA, Body: map[string]any{}},
		"unknown owner":  {Path: gateway.CallbackShare, HIPID: "NOPE", Body: map[string]any{}},
		"relative path":  {Path: "api/v3/x", HIPID: hipA, Body: map[string]any{}},
		"body not JSON":  {Path: gateway.CallbackShare, HIPID: hipA, Body: json.RawMessage("{")},
		"unknown client": {ClientID: "nobody", Path: gateway.CallbackShare, HIPID: hipA, Body: map[string]any{}},
	} {
		if _, err := b.g.Deliver(ctx, cb); err == nil {
			t.Errorf("%s: Deliver succeeded; want an error", name)
		}
	}
	br.next(t) // the failing delivery above
	br.none(t)
}

func TestControlAPITriggersAndListsDeliveries(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)

	// An arbitrary callback, even with a service id the client does not
	// own: tests of the bridge inbox need to send wrong ones too.
	id := uuid.NewString()
	status, raw := b.control(http.MethodPost, "/deliveries", map[string]any{
		"client_id": clientA, "path": gateway.CallbackHIUConsentNotify, "hiu_id": "SOMEONE_ELSE",
		"body": map[string]any{"notification": map[string]any{"status": "DENIED"}}, "request_id": id,
	})
	if status != http.StatusOK {
		t.Fatalf("trigger: %d %s", status, raw)
	}
	var d gateway.Delivery
	mustUnmarshal(t, raw, &d)
	if d.RequestID != id || d.State != gateway.StateDelivered || d.ClientID != clientA {
		t.Errorf("delivery %+v", d)
	}
	got := br.next(t)
	if got.path != gateway.CallbackHIUConsentNotify || got.header.Get("X-HIU-ID") != "SOMEONE_ELSE" ||
		got.header.Get("REQUEST-ID") != id || !contains(got.body, `"DENIED"`) {
		t.Errorf("bridge got %s %v %s", got.path, got.header, got.body)
	}

	// Async: answered at once with the REQUEST-ID.
	status, raw = b.control(http.MethodPost, "/deliveries", map[string]any{
		"path": gateway.CallbackShare, "hip_id": hipA, "body": map[string]any{"intent": "PROFILE_SHARE"}, "async": true,
	})
	var async struct {
		RequestID string `json:"request_id"`
	}
	mustUnmarshal(t, raw, &async)
	if status != http.StatusAccepted || uuid.Validate(async.RequestID) != nil {
		t.Fatalf("async trigger: %d %s", status, raw)
	}
	if got := br.next(t); got.header.Get("REQUEST-ID") != async.RequestID {
		t.Errorf("async delivery REQUEST-ID %q; want %q", got.header.Get("REQUEST-ID"), async.RequestID)
	}

	// Listing filters by path and client.
	status, raw = b.control(http.MethodGet, "/deliveries?path="+gateway.CallbackShare+"&client="+clientA, nil)
	var list struct {
		Deliveries []gateway.Delivery `json:"deliveries"`
	}
	mustUnmarshal(t, raw, &list)
	if status != 200 || len(list.Deliveries) != 1 || list.Deliveries[0].RequestID != async.RequestID {
		t.Errorf("filtered list: %d %s", status, raw)
	}

	// Bad triggers are refused.
	for _, body := range []map[string]any{
		{"path": gateway.CallbackShare, "body": map[string]any{}},
		{"path": gateway.CallbackShare, "hip_id": hipA, "bogus": true},
	} {
		if status, raw := b.control(http.MethodPost, "/deliveries", body); status != http.StatusBadRequest {
			t.Errorf("trigger %v: %d %s; want 400", body, status, raw)
		}
	}
	// The same REQUEST-ID cannot be used for two deliveries.
	if status, _ := b.control(http.MethodPost, "/deliveries", map[string]any{
		"path": gateway.CallbackShare, "hip_id": hipA, "body": map[string]any{}, "request_id": id,
	}); status != http.StatusBadRequest {
		t.Errorf("reused delivery REQUEST-ID: status %d; want 400", status)
	}
}

func TestRedeliverWithAnExpiredToken(t *testing.T) {
	b := setup(t)
	br := newBridge(t)
	b.register(br)
	jwks := b.jwks()
	d, err := b.g.Deliver(context.Background(), gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipA, Body: discoverBody})
	if err != nil {
		t.Fatal(err)
	}
	first := br.next(t)

	status, raw := b.control(http.MethodPost, "/deliveries/"+d.RequestID+"/redeliver", map[string]bool{"expired_token": true})
	if status != 200 {
		t.Fatalf("redeliver: %d %s", status, raw)
	}
	again := br.next(t)
	if again.header.Get("REQUEST-ID") != d.RequestID || string(again.body) != string(first.body) {
		t.Errorf("redelivery REQUEST-ID %q body %s; want the first callback again", again.header.Get("REQUEST-ID"), again.body)
	}
	token, _ := strings.CutPrefix(again.header.Get("Authorization"), "Bearer ")
	if _, err := verifyJWT(jwks, token, time.Now()); !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("redelivered JWT: %v; want a valid signature and jwt.ErrExpired", err)
	}
	var rd gateway.Delivery
	mustUnmarshal(t, raw, &rd)
	if len(rd.Attempts) != 2 || rd.Attempts[1].Reason != "redeliver" || !rd.Attempts[1].ExpiredToken {
		t.Errorf("attempts %+v", rd.Attempts)
	}

	if status, _ := b.control(http.MethodPost, "/deliveries/"+uuid.NewString()+"/redeliver", nil); status != http.StatusNotFound {
		t.Errorf("redeliver unknown: status %d; want 404", status)
	}
}
