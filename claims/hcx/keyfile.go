package hcx

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest key we encrypt to. NHCX participants use
// 2048-bit keys; anything smaller is a mistake or a downgrade.
const minRSABits = 2048

// EncryptionKey is a participant's public key and, when it came as one, its
// X.509 certificate.
type EncryptionKey struct {
	Public *rsa.PublicKey
	// Certificate is nil when a bare public key was given.
	Certificate *x509.Certificate
}

// Expired reports whether the key came with a certificate that is outside
// its validity period at now.
func (k EncryptionKey) Expired(now time.Time) bool {
	c := k.Certificate
	return c != nil && (now.After(c.NotAfter) || now.Before(c.NotBefore))
}

// ParsePublicKey reads a participant's encryption key in any form seen in
// the registry or given by integrators: PEM CERTIFICATE, PUBLIC KEY (PKIX)
// or RSA PUBLIC KEY (PKCS#1); base64 of any of those PEMs; bare base64 DER
// of a certificate or PKIX key; or a public RSA JWK. The key must be RSA
// of at least 2048 bits.
func ParsePublicKey(data []byte) (EncryptionKey, error) {
	k, err := parsePublic(bytes.TrimSpace(data), true)
	if err != nil {
		return EncryptionKey{}, err
	}
	if n := k.Public.N.BitLen(); n < minRSABits {
		return EncryptionKey{}, fmt.Errorf("RSA key has %d bits; NHCX keys have at least %d", n, minRSABits)
	}
	return k, nil
}

func parsePublic(data []byte, allowBase64 bool) (EncryptionKey, error) {
	switch {
	case len(data) == 0:
		return EncryptionKey{}, errors.New("no key or certificate given")
	case data[0] == '{':
		return publicFromJWK(data)
	case bytes.Contains(data, []byte("-----BEGIN")):
		return publicFromPEM(data)
	}
	if !allowBase64 {
		return EncryptionKey{}, errors.New("not a PEM certificate or public key")
	}
	der, err := decodeBase64(data)
	if err != nil {
		return EncryptionKey{}, errors.New("not a PEM or JWK key, nor base64 of a certificate or public key")
	}
	if bytes.Contains(der, []byte("-----BEGIN")) {
		return parsePublic(bytes.TrimSpace(der), false)
	}
	if k, err := publicFromDER("CERTIFICATE", der); err == nil {
		return k, nil
	}
	return publicFromDER("PUBLIC KEY", der)
}

func publicFromPEM(data []byte) (EncryptionKey, error) {
	var firstErr error
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY":
			k, err := publicFromDER(block.Type, block.Bytes)
			if err == nil {
				return k, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if firstErr == nil {
				firstErr = errors.New("this is a private key; give the recipient's certificate or public key")
			}
		}
	}
	if firstErr != nil {
		return EncryptionKey{}, firstErr
	}
	return EncryptionKey{}, errors.New("no CERTIFICATE, PUBLIC KEY or RSA PUBLIC KEY block in the PEM")
}

func publicFromDER(kind string, der []byte) (EncryptionKey, error) {
	switch kind {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return EncryptionKey{}, fmt.Errorf("reading certificate: %w", err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return EncryptionKey{}, fmt.Errorf("certificate key is %T; NHCX uses RSA", cert.PublicKey)
		}
		return EncryptionKey{Public: pub, Certificate: cert}, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return EncryptionKey{}, fmt.Errorf("reading PKCS#1 public key: %w", err)
		}
		return EncryptionKey{Public: pub}, nil
	default:
		key, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return EncryptionKey{}, fmt.Errorf("reading public key: %w", err)
		}
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return EncryptionKey{}, fmt.Errorf("public key is %T; NHCX uses RSA", key)
		}
		return EncryptionKey{Public: pub}, nil
	}
}

func publicFromJWK(data []byte) (EncryptionKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return EncryptionKey{}, fmt.Errorf("reading JWK: %w", err)
	}
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		return EncryptionKey{Public: k}, nil
	case *rsa.PrivateKey:
		return EncryptionKey{}, errors.New("this JWK is a private key; give the recipient's public key")
	default:
		return EncryptionKey{}, fmt.Errorf("JWK key is %T; NHCX uses RSA", jwk.Key)
	}
}

// ParsePrivateKey reads our RSA private key from PEM (PKCS#1 "RSA PRIVATE
// KEY" or PKCS#8 "PRIVATE KEY"; other blocks such as certificates in the
// same file are skipped), from base64 of PKCS#8 or PKCS#1 DER, or from a
// private RSA JWK. Encrypted PEM is refused: decrypt it first.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	data = bytes.TrimSpace(data)
	var key *rsa.PrivateKey
	var err error
	switch {
	case len(data) == 0:
		return nil, errors.New("no private key given")
	case data[0] == '{':
		key, err = privateFromJWK(data)
	case bytes.Contains(data, []byte("-----BEGIN")):
		key, err = privateFromPEM(data)
	default:
		der, decErr := decodeBase64(data)
		if decErr != nil {
			return nil, errors.New("not a PEM or JWK private key, nor base64 of one")
		}
		key, err = privateFromDER("PRIVATE KEY", der)
		if err != nil {
			key, err = privateFromDER("RSA PRIVATE KEY", der)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("private key is inconsistent: %w", err)
	}
	return key, nil
}

func privateFromPEM(data []byte) (*rsa.PrivateKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PRIVATE KEY or RSA PRIVATE KEY block in the PEM")
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)")
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			if _, ok := block.Headers["DEK-Info"]; ok {
				return nil, errors.New("the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)")
			}
			return privateFromDER(block.Type, block.Bytes)
		}
	}
}

func privateFromDER(kind string, der []byte) (*rsa.PrivateKey, error) {
	if kind == "RSA PRIVATE KEY" {
		key, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("reading PKCS#1 private key: %w", err)
		}
		return key, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("reading PKCS#8 private key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T; NHCX uses RSA", key)
	}
	return rsaKey, nil
}

func privateFromJWK(data []byte) (*rsa.PrivateKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("reading JWK: %w", err)
	}
	switch k := jwk.Key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *rsa.PublicKey:
		return nil, errors.New("this JWK is a public key; decrypting needs the private key (with \"d\")")
	default:
		return nil, fmt.Errorf("JWK key is %T; NHCX uses RSA", jwk.Key)
	}
}

// decodeBase64 accepts standard or URL alphabet, padded or not, with line
// breaks: registries and key stores differ.
func decodeBase64(data []byte) ([]byte, error) {
	s := strings.Join(strings.Fields(string(data)), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
