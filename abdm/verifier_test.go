package abdm_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
)

type verifierBundle struct {
	*testBundle
	signer   *abdmtest.Signer
	verifier *abdm.Verifier
}

func newSigner(t *testing.T) *abdmtest.Signer {
	t.Helper()
	s, err := abdmtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func setupVerifier(t *testing.T) *verifierBundle {
	t.Helper()
	clk := newClock()
	b := setup(t, clk)
	signer := newSigner(t)
	b.gw.SetKeys(signer.PublicJWK())
	v, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: b.client, NowFunc: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &verifierBundle{testBundle: b, signer: signer, verifier: v}
}

func (b *verifierBundle) sign(t *testing.T, s *abdmtest.Signer, claims any) string {
	t.Helper()
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

func TestVerifierAcceptsGatewayToken(t *testing.T) {
	b := setupVerifier(t)
	claims := b.signer.CallbackClaims(b.clock.Now())
	claims.ClientID = "gateway-client"
	claims.Subject = "service-account"
	got, err := b.verifier.Verify(t.Context(), testTenant, b.sign(t, b.signer, claims))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := abdm.CallbackClaims{
		KeyID: b.signer.KeyID, Issuer: b.signer.Issuer, Subject: "service-account",
		Audience: []string{"account"}, AuthorizedParty: "gateway", ClientID: "gateway-client", ID: claims.ID,
		IssuedAt: b.clock.Now().Truncate(time.Second), ExpiresAt: b.clock.Now().Add(5 * time.Minute).Truncate(time.Second),
	}
	if !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("times: got iat %v exp %v, want %v %v", got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt)
	}
	got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g, w := toJSON(t, got), toJSON(t, want); g != w {
		t.Errorf("claims\n got %s\nwant %s", g, w)
	}

	// Lower-case scheme is accepted too, and the key set is cached.
	tok := b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now()))
	if _, err := b.verifier.Verify(t.Context(), testTenant, "bearer "+strings.TrimPrefix(tok, "Bearer ")); err != nil {
		t.Errorf("lower-case bearer: %v", err)
	}
	if n := b.gw.CertsCount(); n != 1 {
		t.Errorf("certs fetched %d times, want 1 (cached)", n)
	}
	// The certs call carried the session token.
	certs := b.gw.RequestsTo(abdm.PathCerts)[0]
	if !strings.HasPrefix(certs.Header.Get("Authorization"), "Bearer tok-") {
		t.Errorf("certs call without session token")
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifierRefuses(t *testing.T) {
	b := setupVerifier(t)
	now := b.clock.Now()
	other := newSigner(t)
	otherSameKid := newSigner(t)
	otherSameKid.KeyID = b.signer.KeyID

	good := b.signer.CallbackClaims(now)
	valid := b.sign(t, b.signer, good)
	parts := strings.Split(strings.TrimPrefix(valid, "Bearer "), ".")

	expired := b.signer.CallbackClaims(now.Add(-10 * time.Minute)) // exp = now-5m
	noExp := b.signer.CallbackClaims(now)
	noExp.Expiry = nil
	future := b.signer.CallbackClaims(now.Add(5 * time.Minute)) // iat 5 min ahead
	future.NotBefore = jwt.NewNumericDate(now.Add(5 * time.Minute))
	wrongAud := b.signer.CallbackClaims(now)
	wrongAud.Audience = jwt.Audience{"someone-else"}

	rs512, err := b.signer.SignWith(jose.RS512, good)
	if err != nil {
		t.Fatal(err)
	}

	tamperedPayload := func() string {
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		p := strings.Replace(string(payload), `"azp":"gateway"`, `"azp":"attacker"`, 1)
		return "Bearer " + parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + parts[2]
	}()
	unsigned := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + b.signer.KeyID + `","typ":"JWT"}`))
		return "Bearer " + h + "." + parts[1] + "."
	}()
	// Key confusion: HS256 keyed with the public key's bytes.
	hs256 := func() string {
		der, _ := x509.MarshalPKIXPublicKey(&b.signer.Key.PublicKey)
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"` + b.signer.KeyID + `","typ":"JWT"}`))
		mac := hmac.New(sha256.New, der)
		mac.Write([]byte(h + "." + parts[1]))
		return "Bearer " + h + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}()
	noKid := func() string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: b.signer.Key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(sig).Claims(good).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}()

	tests := []struct {
		name  string
		authz string
	}{
		{"missing header", ""},
		{"basic auth", "Basic dXNlcjpwYXNz"},
		{"bearer without token", "Bearer "},
		{"not a jwt", "Bearer not-a-jwt"},
		{"unsigned alg none", unsigned},
		{"HS256 key confusion", hs256},
		{"RS512 (not allowed)", "Bearer " + rs512},
		{"tampered payload", tamperedPayload},
		{"signature from another key with the same kid", b.sign(t, otherSameKid, good)},
		{"other key, unknown kid", b.sign(t, other, other.CallbackClaims(now))},
		{"no kid", noKid},
		{"expired beyond leeway", b.sign(t, b.signer, expired)},
		{"no exp", b.sign(t, b.signer, noExp)},
		{"not yet valid", b.sign(t, b.signer, future)},
		{"wrong audience", b.sign(t, b.signer, wrongAud)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.verifier.Verify(t.Context(), testTenant, tt.authz)
			if !errors.Is(err, abdm.ErrInvalidCallbackToken) {
				t.Errorf("err = %v, want ErrInvalidCallbackToken", err)
			}
		})
	}
	// The valid token still passes: the refusals above are not a broken verifier.
	if _, err := b.verifier.Verify(t.Context(), testTenant, valid); err != nil {
		t.Errorf("valid token refused: %v", err)
	}
}

func TestVerifierLeeway(t *testing.T) {
	b := setupVerifier(t)
	tok := b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now())) // exp = now+5m
	b.clock.Advance(5*time.Minute + 50*time.Second)                    // 50 s past exp, within 60 s leeway
	if _, err := b.verifier.Verify(t.Context(), testTenant, tok); err != nil {
		t.Errorf("50 s past exp: %v, want accepted within leeway", err)
	}
	b.clock.Advance(20 * time.Second) // 70 s past exp
	if _, err := b.verifier.Verify(t.Context(), testTenant, tok); !errors.Is(err, abdm.ErrInvalidCallbackToken) {
		t.Errorf("70 s past exp: err = %v, want refused", err)
	}
}

func TestVerifierRefetchesOnUnknownKid(t *testing.T) {
	b := setupVerifier(t)
	ctx := t.Context()
	if _, err := b.verifier.Verify(ctx, testTenant, b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now()))); err != nil {
		t.Fatal(err)
	}
	// The gateway rotates in a new key.
	rotated := newSigner(t)
	b.gw.SetKeys(b.signer.PublicJWK(), rotated.PublicJWK())

	// Within the refetch interval an unknown kid does not reach the gateway.
	b.clock.Advance(10 * time.Second)
	tok := b.sign(t, rotated, rotated.CallbackClaims(b.clock.Now()))
	if _, err := b.verifier.Verify(ctx, testTenant, tok); !errors.Is(err, abdm.ErrInvalidCallbackToken) {
		t.Fatalf("unknown kid inside refetch interval: err = %v, want refused", err)
	}
	if n := b.gw.CertsCount(); n != 1 {
		t.Fatalf("certs fetched %d times inside the refetch interval, want 1", n)
	}

	b.clock.Advance(25 * time.Second) // 35 s since the first fetch
	tok = b.sign(t, rotated, rotated.CallbackClaims(b.clock.Now()))
	if _, err := b.verifier.Verify(ctx, testTenant, tok); err != nil {
		t.Fatalf("rotated key after refetch interval: %v", err)
	}
	if n := b.gw.CertsCount(); n != 2 {
		t.Errorf("certs fetched %d times, want 2", n)
	}

	// A flood of forged kids costs at most one fetch per interval.
	forger := newSigner(t)
	for range 10 {
		b.verifier.Verify(ctx, testTenant, b.sign(t, forger, forger.CallbackClaims(b.clock.Now())))
	}
	if n := b.gw.CertsCount(); n != 2 {
		t.Errorf("forged kids right after a fetch: certs fetched %d times, want still 2", n)
	}
	b.clock.Advance(31 * time.Second)
	for range 10 {
		b.verifier.Verify(ctx, testTenant, b.sign(t, forger, forger.CallbackClaims(b.clock.Now())))
	}
	if n := b.gw.CertsCount(); n != 3 {
		t.Errorf("forged kids after the interval: certs fetched %d times, want 3", n)
	}
}

func TestVerifierKeySetProblems(t *testing.T) {
	t.Run("key declared for another algorithm", func(t *testing.T) {
		b := setupVerifier(t)
		jwk := b.signer.PublicJWK()
		jwk.Algorithm = string(jose.RS512) // like the sandbox's second key
		b.gw.SetKeys(jwk)
		_, err := b.verifier.Verify(t.Context(), testTenant, b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now())))
		if !errors.Is(err, abdm.ErrInvalidCallbackToken) {
			t.Errorf("err = %v, want refused", err)
		}
	})
	t.Run("certs unavailable", func(t *testing.T) {
		b := setupVerifier(t)
		b.gw.Server.Close()
		_, err := b.verifier.Verify(t.Context(), testTenant, b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now())))
		if errors.Is(err, abdm.ErrInvalidCallbackToken) || !errors.Is(err, abdm.ErrGatewayUnavailable) {
			t.Errorf("err = %v, want ErrGatewayUnavailable (answer 503, not 401)", err)
		}
	})
	t.Run("stale set kept when refresh fails", func(t *testing.T) {
		b := setupVerifier(t)
		tok := func() string { return b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now())) }
		if _, err := b.verifier.Verify(t.Context(), testTenant, tok()); err != nil {
			t.Fatal(err)
		}
		b.gw.Server.Close()
		b.clock.Advance(2 * time.Hour) // past the cache TTL
		if _, err := b.verifier.Verify(t.Context(), testTenant, tok()); err != nil {
			t.Errorf("known key with certs down: %v, want accepted from the stale set", err)
		}
	})
}

func TestCertsSkipsUnusableKeys(t *testing.T) {
	b := setup(t, nil)
	signer := newSigner(t)
	good, err := json.Marshal(signer.PublicJWK())
	if err != nil {
		t.Fatal(err)
	}
	b.gw.Handle("GET", abdm.PathCerts, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"},{"kty":"oct","kid":"sym","k":"c2VjcmV0"},` + string(good) + `]}`))
	})
	set, err := b.client.Certs(t.Context(), testTenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != signer.KeyID {
		t.Errorf("keys = %+v, want only %s", set.Keys, signer.KeyID)
	}

	b.gw.Handle("GET", abdm.PathCerts, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[]}`))
	})
	if _, err := b.client.Certs(t.Context(), testTenant); err == nil {
		t.Error("empty key set: want error")
	}
}

// BenchmarkVerify measures verification with a warm key cache, the cost
// every inbound callback pays before it is stored.
func BenchmarkVerify(b *testing.B) {
	gw := abdmtest.NewGateway(b)
	gw.AddClient(testClientID, testSecret)
	signer, err := abdmtest.NewSigner()
	if err != nil {
		b.Fatal(err)
	}
	gw.SetKeys(signer.PublicJWK())
	client, err := abdm.New(abdm.Config{GatewayURL: gw.URL, CMID: abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: testClientID, ClientSecret: testSecret}, nil
		})})
	if err != nil {
		b.Fatal(err)
	}
	v, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := signer.CallbackToken(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	authz := "Bearer " + tok
	if _, err := v.Verify(b.Context(), testTenant, authz); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), testTenant, authz); err != nil {
			b.Fatal(err)
		}
	}
}

// Callbacks arriving together at a freshly started bridge all wait for the
// first key fetch instead of being refused as "keys not loaded yet" by the
// refetch rate limit, and the keys are fetched once.
func TestVerifierConcurrentFirstCallbacksShareTheFetch(t *testing.T) {
	b := setupVerifier(t)
	b.gw.SetSessionDelay(300 * time.Millisecond)
	tok := b.sign(t, b.signer, b.signer.CallbackClaims(b.clock.Now()))

	errs := make(chan error, 2)
	go func() {
		_, err := b.verifier.Verify(t.Context(), testTenant, tok)
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond) // the first fetch is now in flight
	go func() {
		_, err := b.verifier.Verify(t.Context(), testTenant, tok)
		errs <- err
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	if n := b.gw.CertsCount(); n != 1 {
		t.Errorf("keys fetched %d times, want 1", n)
	}
}
