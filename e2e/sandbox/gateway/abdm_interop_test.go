package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Sangam's own gateway client and callback verifier against the stand-in:
// they must agree on sessions, headers, the 900901 retry, the JWKS and the
// callback JWT, and the client must read every error shape the stand-in
// can emit.
func TestAbdmClientAgainstTheStandIn(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	client, err := abdm.New(abdm.Config{
		GatewayURL: b.url,
		CMID:       abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: clientA, ClientSecret: secretA}, nil
		}),
	})
	if err != nil {
		t.Fatalf("abdm.New: %v", err)
	}

	br := newBridge(t)
	if err := client.PatchBridgeURL(ctx, "acme", br.srv.URL); err != nil {
		t.Fatalf("PatchBridgeURL: %v", err)
	}
	if u, _ := b.g.BridgeURL(clientA); u != br.srv.URL {
		t.Errorf("bridge URL %q; want %q", u, br.srv.URL)
	}
	if _, err := client.BridgeServices(ctx, "acme"); err != nil {
		t.Errorf("BridgeServices: %v", err)
	}
	if _, err := client.BridgeService(ctx, "acme", "UNKNOWN"); !errors.Is(err, abdm.ErrNotFound) {
		t.Errorf("BridgeService(unknown) = %v; want ErrNotFound", err)
	}

	resp, err := client.Do(ctx, abdm.Request{Path: pathGenTok, Tenant: "acme", HIPID: hipA,
		Body: map[string]any{"abhaAddress": "someone@sbx", "name": "A", "gender": "M", "yearOfBirth": 1990}})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("generate-token through abdm.Client: %v", err)
	}

	// A revoked session is refused with 900901; the client retries once
	// with a new session and the same REQUEST-ID, which the gateway has not
	// used up because the API manager refused the first try.
	if err := b.g.RevokeTokens(clientA); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	if _, err := client.Do(ctx, abdm.Request{Path: "/consent/v3/request/init", Tenant: "acme", HIUID: hiuA, RequestID: id,
		Body: map[string]any{"consent": map[string]any{}}}); err != nil {
		t.Fatalf("call after revocation: %v", err)
	}
	var statuses []int
	for _, m := range b.g.Messages(gateway.Filter{RequestID: id}) {
		statuses = append(statuses, m.Status)
	}
	if len(statuses) != 2 || statuses[0] != 401 || statuses[1] != 202 {
		t.Errorf("statuses for %s: %v; want [401 202]", id, statuses)
	}

	// Callbacks verify with the client's Verifier, fed by Certs.
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client, AuthorizedParties: []string{gateway.CallbackAZP}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.g.Deliver(ctx, gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipA, Body: discoverBody})
	if err != nil {
		t.Fatal(err)
	}
	got := br.next(t)
	claims, err := verifier.Verify(ctx, "acme", got.header.Get("Authorization"))
	if err != nil {
		t.Fatalf("abdm.Verifier refused the gateway's callback: %v", err)
	}
	if claims.AuthorizedParty != gateway.CallbackAZP {
		t.Errorf("azp %q", claims.AuthorizedParty)
	}
	if _, err := b.g.Redeliver(ctx, d.RequestID, true); err != nil {
		t.Fatal(err)
	}
	late := br.next(t)
	if _, err := verifier.Verify(ctx, "acme", late.header.Get("Authorization")); !errors.Is(err, abdm.ErrInvalidCallbackToken) {
		t.Errorf("expired redelivery: %v; want ErrInvalidCallbackToken despite the verifier's leeway", err)
	}

	// Every error shape parses to the code it carries (Spring, empty and
	// text carry none).
	b.token = b.session(clientA, secretA) // the harness's token was revoked above
	for _, tt := range []struct {
		shape    string
		wantCode string
	}{
		{"", "ABDM-2403"}, {gateway.ShapeArray, "ABDM-2403"}, {gateway.ShapeArrayFlat, "ABDM-2403"},
		{gateway.ShapeFlat, "ABDM-2403"}, {gateway.ShapeSpring, ""}, {gateway.ShapeEmpty, ""}, {gateway.ShapeText, ""},
	} {
		b.setFaults("", gateway.Faults{ErrorShape: tt.shape, ErrorCodeColon: true})
		status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("X-CM-ID", "abdm"))
		if e := abdm.ParseError(status, raw); e.Code != tt.wantCode || !errors.Is(e, abdm.ErrBadRequest) {
			t.Errorf("shape %q: parsed %q (%v); want code %q, ErrBadRequest", tt.shape, e.Code, e, tt.wantCode)
		}
	}
}
