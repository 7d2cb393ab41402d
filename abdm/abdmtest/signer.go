package abdmtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the claims the gateway puts on a callback token: RFC 7519's
// plus Keycloak's azp and clientId.
type Claims struct {
	jwt.Claims
	AuthorizedParty string `json:"azp,omitempty"`
	ClientID        string `json:"clientId,omitempty"`
}

// Signer signs tokens with one RSA key, like one entry of the gateway's JWKS.
type Signer struct {
	Key    *rsa.PrivateKey
	KeyID  string
	Issuer string
}

// NewSigner returns a Signer with a fresh 2048-bit key and a random kid.
func NewSigner() (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating RSA key: %w", err)
	}
	kid := make([]byte, 16)
	if _, err := rand.Read(kid); err != nil {
		return nil, fmt.Errorf("generating kid: %w", err)
	}
	return &Signer{
		Key:    key,
		KeyID:  base64.RawURLEncoding.EncodeToString(kid),
		Issuer: "https://gateway.abdmtest.invalid/auth/realms/central-registry",
	}, nil
}

// PublicJWK is the signer's entry for a JWKS.
func (s *Signer) PublicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &s.Key.PublicKey, KeyID: s.KeyID, Algorithm: string(jose.RS256), Use: "sig"}
}

// JWKS is a key set holding only this signer's public key.
func (s *Signer) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.PublicJWK()}}
}

// CallbackClaims returns the claims the gateway puts on a callback issued at
// now: aud "account", azp "gateway", five minutes of validity.
func (s *Signer) CallbackClaims(now time.Time) Claims {
	jti := make([]byte, 12)
	_, _ = rand.Read(jti) // crypto/rand.Read never fails since Go 1.24
	return Claims{
		Claims: jwt.Claims{
			Issuer:   s.Issuer,
			Audience: jwt.Audience{"account"},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(5 * time.Minute)),
			ID:       base64.RawURLEncoding.EncodeToString(jti),
		},
		AuthorizedParty: "gateway",
	}
}

// CallbackToken signs CallbackClaims(now).
func (s *Signer) CallbackToken(now time.Time) (string, error) {
	return s.Sign(s.CallbackClaims(now))
}

// Sign signs claims with RS256 and the signer's kid.
func (s *Signer) Sign(claims any) (string, error) {
	return s.SignWith(jose.RS256, claims)
}

// SignWith signs claims with the given RSA algorithm (to test refusals of
// e.g. RS512).
func (s *Signer) SignWith(alg jose.SignatureAlgorithm, claims any) (string, error) {
	sig, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: s.Key, KeyID: s.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("creating signer: %w", err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return tok, nil
}
