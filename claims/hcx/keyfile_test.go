package hcx_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func jwkJSON(t *testing.T, key any) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, Algorithm: "RSA-OAEP-256", Use: "enc"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePublicKey(t *testing.T) {
	key := rsaKey(t, "payer")
	cert := validCert(t, key, "payer")
	block, _ := pem.Decode(cert)
	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		in       []byte
		withCert bool
	}{
		{"PEM certificate", cert, true},
		{"PEM certificate with a private key after it", append(append([]byte{}, cert...), pemBlock("PRIVATE KEY", pkcs8)...), true},
		{"PEM certificate without trailing newline", []byte(strings.TrimSpace(string(cert))), true},
		{"PEM PKIX public key", pemBlock("PUBLIC KEY", pkix), false},
		{"PEM PKCS#1 public key", pemBlock("RSA PUBLIC KEY", pkcs1), false},
		{"base64 of PEM certificate", []byte(base64.StdEncoding.EncodeToString(cert)), true},
		{"bare base64 DER certificate", []byte(base64.StdEncoding.EncodeToString(block.Bytes)), true},
		{"bare base64 DER certificate with line breaks", []byte(wrap(base64.StdEncoding.EncodeToString(block.Bytes), 64)), true},
		{"bare base64 PKIX key", []byte(base64.StdEncoding.EncodeToString(pkix)), false},
		{"JWK", jwkJSON(t, &key.PublicKey), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hcx.ParsePublicKey(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Public.Equal(&key.PublicKey) {
				t.Error("wrong key")
			}
			if (got.Certificate != nil) != tt.withCert {
				t.Errorf("certificate: got %v, want present=%v", got.Certificate != nil, tt.withCert)
			}
			if got.Expired(time.Now()) {
				t.Error("a current certificate reported expired")
			}
		})
	}

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsaGenerate(1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, err := x509.MarshalPKIXPublicKey(&small.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"empty":                 nil,
		"text":                  []byte("Invalid Certificate Found"),
		"private PEM":           pemBlock("PRIVATE KEY", pkcs8),
		"private JWK":           jwkJSON(t, key),
		"EC key":                pemBlock("PUBLIC KEY", ecDER),
		"1024-bit key":          pemBlock("PUBLIC KEY", smallDER),
		"broken certificate":    pemBlock("CERTIFICATE", []byte("not DER")),
		"base64 of nonsense":    []byte(base64.StdEncoding.EncodeToString([]byte("nonsense"))),
		"JWK that is not a key": []byte(`{"kty":"RSA"}`),
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if k, err := hcx.ParsePublicKey(in); err == nil {
				t.Errorf("accepted: %+v", k)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestParsePrivateKey(t *testing.T) {
	key := rsaKey(t, "provider")
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	cert := validCert(t, key, "provider")
	for name, in := range map[string][]byte{
		"PKCS#8 PEM":                  pemBlock("PRIVATE KEY", pkcs8),
		"PKCS#1 PEM":                  pemBlock("RSA PRIVATE KEY", pkcs1),
		"certificate then PKCS#8 PEM": append(append([]byte{}, cert...), pemBlock("PRIVATE KEY", pkcs8)...),
		"base64 PKCS#8 DER":           []byte(base64.StdEncoding.EncodeToString(pkcs8)),
		"base64 PKCS#1 DER":           []byte(base64.StdEncoding.EncodeToString(pkcs1)),
		"JWK":                         jwkJSON(t, key),
		"PEM with surrounding spaces": append(append([]byte("\n\n  "), pemBlock("PRIVATE KEY", pkcs8)...), "\n\n"...),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := hcx.ParsePrivateKey(in)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Error("wrong key")
			}
		})
	}

	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{
		"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte("x")})
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"empty":               nil,
		"certificate only":    cert,
		"public JWK":          jwkJSON(t, &key.PublicKey),
		"encrypted PEM":       encrypted,
		"PKCS#8 encrypted":    pemBlock("ENCRYPTED PRIVATE KEY", []byte("x")),
		"EC key":              pemBlock("PRIVATE KEY", ecDER),
		"garbage":             []byte("hello world"),
		"broken PKCS#1 block": pemBlock("RSA PRIVATE KEY", []byte("not DER")),
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if _, err := hcx.ParsePrivateKey(in); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestExpired(t *testing.T) {
	key := rsaKey(t, "payer")
	now := time.Now()
	old, err := hcx.ParsePublicKey(selfSigned(t, key, "old", now.Add(-48*time.Hour), now.Add(-24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	future, err := hcx.ParsePublicKey(selfSigned(t, key, "future", now.Add(24*time.Hour), now.Add(48*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if !old.Expired(now) || !future.Expired(now) {
		t.Error("certificates outside their validity should report expired")
	}
	if (hcx.EncryptionKey{Public: &key.PublicKey}).Expired(now) {
		t.Error("a bare key never expires")
	}
}
