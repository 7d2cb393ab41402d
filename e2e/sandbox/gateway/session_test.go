package gateway_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

func TestSessionIssuesRS256TokenVerifiableAgainstJWKS(t *testing.T) {
	b := setup(t)
	status, raw := b.call(http.MethodPost, "/gateway/v3/sessions",
		map[string]string{"clientId": clientB, "clientSecret": secretB, "grantType": "client_credentials"},
		header("Authorization", ""))
	if status != http.StatusAccepted {
		t.Fatalf("status %d, body %s; want 202", status, raw)
	}
	var s struct {
		AccessToken      string `json:"accessToken"`
		ExpiresIn        int    `json:"expiresIn"`
		RefreshExpiresIn int    `json:"refreshExpiresIn"`
		RefreshToken     string `json:"refreshToken"`
		TokenType        string `json:"tokenType"`
	}
	mustUnmarshal(t, raw, &s)
	if s.ExpiresIn != 1200 || s.RefreshExpiresIn != 1800 || s.TokenType != "bearer" || s.RefreshToken == "" {
		t.Errorf("session = %+v; want expiresIn 1200, refreshExpiresIn 1800, tokenType bearer, a refresh token", s)
	}

	now := time.Now()
	c, err := verifyJWT(b.jwks(), s.AccessToken, now)
	if err != nil {
		t.Fatalf("access token does not verify against /certs: %v", err)
	}
	if c.AZP != clientB || c.Type != "Bearer" {
		t.Errorf("claims azp=%q typ=%q; want %q, Bearer", c.AZP, c.Type, clientB)
	}
	if got := c.Expiry.Time().Sub(c.IssuedAt.Time()); got != 1200*time.Second {
		t.Errorf("exp - iat = %v; want 1200s", got)
	}

	// The token works for client B and shows client B's bridge.
	status, raw = b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, bearer(s.AccessToken))
	if status != http.StatusOK {
		t.Fatalf("bridge-services with the new token: status %d, body %s", status, raw)
	}
	var bs struct {
		Bridge struct {
			ID string `json:"id"`
		} `json:"bridge"`
	}
	mustUnmarshal(t, raw, &bs)
	if bs.Bridge.ID != clientB {
		t.Errorf("bridge id %q; want %q", bs.Bridge.ID, clientB)
	}

	// A refresh token is not an access token.
	status, _ = b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, bearer(s.RefreshToken))
	if status != http.StatusUnauthorized {
		t.Errorf("refresh token as bearer: status %d; want 401", status)
	}
}

func TestSessionRefusesBadCredentials(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name       string
		body       map[string]string
		wantStatus int
		wantCode   string
	}{
		{"wrong secret", map[string]string{"clientId": clientA, "clientSecret": "nope", "grantType": "client_credentials"}, 401, "900901"},
		{"unknown client", map[string]string{"clientId": "SBX_999", "clientSecret": secretA, "grantType": "client_credentials"}, 401, "900901"},
		{"other client's secret", map[string]string{"clientId": clientA, "clientSecret": secretB, "grantType": "client_credentials"}, 401, "900901"},
		{"wrong grant type", map[string]string{"clientId": clientA, "clientSecret": secretA, "grantType": "password"}, 400, "ABDM-1006: "},
		{"no secret", map[string]string{"clientId": clientA, "grantType": "client_credentials"}, 400, "ABDM-1006: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := b.call(http.MethodPost, "/gateway/v3/sessions", tt.body, header("Authorization", ""))
			if status != tt.wantStatus {
				t.Fatalf("status %d, body %s; want %d", status, raw, tt.wantStatus)
			}
			var flat struct{ Code, Message, Description string }
			mustUnmarshal(t, raw, &flat)
			code := flat.Code
			if code == "" {
				code, _ = nestedError(t, raw)
			}
			if code != tt.wantCode {
				t.Errorf("code %q in %s; want %q", code, raw, tt.wantCode)
			}
			if tt.wantStatus == 401 && (flat.Message != "Invalid Credentials" || flat.Description == "") {
				t.Errorf("401 body %s; want the API manager's {code,message,description}", raw)
			}
		})
	}
}

func TestGatewayCallsNeedAValidSession(t *testing.T) {
	clk := &clock{t: time.Now()}
	b := setup(t, withClock(clk))

	status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("Authorization", ""))
	if code, msg := nestedError(t, raw); status != 401 || code != "ABDM-2500" || msg != "Authorization header is missing" {
		t.Errorf("no Authorization: %d %s; want 401 ABDM-2500", status, raw)
	}
	for name, auth := range map[string]string{
		"garbage":          "Bearer not-a-jwt",
		"not bearer":       "Basic " + b.token,
		"tampered payload": "Bearer " + b.token[:len(b.token)-4] + "AAAA",
	} {
		status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("Authorization", auth))
		if status != 401 || !contains(raw, `"code":"900901"`) {
			t.Errorf("%s: %d %s; want 401 code 900901", name, status, raw)
		}
	}

	// The certs endpoint is behind the session too, as on the real gateway.
	status, _ = b.call(http.MethodGet, "/gateway/v3/certs", nil, header("Authorization", ""))
	if status != 401 {
		t.Errorf("certs without a token: status %d; want 401", status)
	}
	// The discovery document is public and points at it.
	status, raw = b.call(http.MethodGet, "/gateway/v3/.well-known/openid-configuration", nil, header("Authorization", ""))
	if status != 200 || !contains(raw, `"jwks_uri":"`+b.url+`/gateway/v3/certs"`) {
		t.Errorf("openid-configuration: %d %s", status, raw)
	}

	// The token expires after expiresIn.
	if status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil); status != 200 {
		t.Fatalf("fresh token: %d %s", status, raw)
	}
	clk.Advance(1201 * time.Second)
	status, raw = b.call(http.MethodGet, "/gateway/v3/bridge-services", nil)
	if status != 401 || !contains(raw, `"code":"900901"`) {
		t.Errorf("expired token: %d %s; want 401 code 900901", status, raw)
	}
	if _, err := b.g.VerifySessionToken(b.token); !errors.Is(err, jwt.ErrExpired) {
		t.Errorf("VerifySessionToken(expired) = %v; want jwt.ErrExpired", err)
	}
}

func TestRevokedTokensGet900901(t *testing.T) {
	b := setup(t)
	tokenB := b.session(clientB, secretB)
	if status, raw := b.control(http.MethodPost, "/clients/"+clientA+"/revoke-tokens", nil); status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", status, raw)
	}
	status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil)
	if status != 401 || !contains(raw, `"code":"900901"`) {
		t.Errorf("revoked token: %d %s; want 401 code 900901", status, raw)
	}
	if status, _ := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, bearer(tokenB)); status != 200 {
		t.Errorf("client B's token after revoking A's: status %d; want 200", status)
	}
	b.token = b.session(clientA, secretA)
	if status, _ := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil); status != 200 {
		t.Errorf("new session after revocation: status %d; want 200", status)
	}
	if status, _ := b.control(http.MethodPost, "/clients/nobody/revoke-tokens", nil); status != http.StatusNotFound {
		t.Errorf("revoking an unknown client: status %d; want 404", status)
	}
}

func contains(raw []byte, s string) bool { return bytes.Contains(raw, []byte(s)) }
