package gateway

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// signingKey is one key of the gateway's JWKS.
type signingKey struct {
	priv   *rsa.PrivateKey
	alg    jose.SignatureAlgorithm
	public jose.JSONWebKey // as published, with kid and certificate
	signer jose.Signer
}

// newSigningKey wraps priv (generating one when nil) the way Keycloak
// publishes its realm keys: kid is the RFC 7638 thumbprint and x5c holds a
// self-signed certificate whose subject is the realm name.
func newSigningKey(priv *rsa.PrivateKey, alg jose.SignatureAlgorithm, now time.Time) (*signingKey, error) {
	if priv == nil {
		var err error
		if priv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("generating %s key: %w", alg, err)
		}
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(alg), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)

	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "central-registry"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("self-signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing own certificate: %w", err)
	}
	s1, s256 := sha1.Sum(der), sha256.Sum256(der)
	pub.Certificates = []*x509.Certificate{cert}
	pub.CertificateThumbprintSHA1, pub.CertificateThumbprintSHA256 = s1[:], s256[:]

	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("building %s signer: %w", alg, err)
	}
	return &signingKey{priv: priv, alg: alg, public: pub, signer: signer}, nil
}

// sign serialises claims (any JSON object values) as a compact JWS.
func (k *signingKey) sign(claims ...any) (string, error) {
	b := jwt.Signed(k.signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	s, err := b.Serialize()
	if err != nil {
		return "", fmt.Errorf("signing JWT: %w", err)
	}
	return s, nil
}

// verify checks a compact JWS made by sign and decodes its claims.
func (k *signingKey) verify(token string, dest ...any) error {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{k.alg})
	if err != nil {
		return fmt.Errorf("parsing JWT: %w", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID != k.public.KeyID {
		return fmt.Errorf("JWT not signed with key %s", k.public.KeyID)
	}
	if err := tok.Claims(&k.priv.PublicKey, dest...); err != nil {
		return fmt.Errorf("verifying JWT: %w", err)
	}
	return nil
}
