package nhcx

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The switch's own JWE handling, written apart from claims/hcx so that
// the two sides check each other: a mistake in one does not hide behind
// the same mistake in the other.

// headerMap is a JWE protected header: alg, enc and the x-hcx-* headers
// with their JSON values.
type headerMap map[string]any

func (h headerMap) str(name string) string {
	switch v := h[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// readProtected decodes the protected header of a compact JWE without
// decrypting, as the real switch routes on it.
func readProtected(compact string) (headerMap, error) {
	parts := strings.Split(strings.TrimSpace(compact), ".")
	if len(parts) != 5 {
		return nil, fmt.Errorf("not a compact JWE: %d parts, want 5", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("protected header is not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var h headerMap
	if err := dec.Decode(&h); err != nil || h == nil {
		return nil, errors.New("protected header is not a JSON object")
	}
	return h, nil
}

// seal encrypts payload to pub with RSA-OAEP-256 and A256GCM, every
// header of h in the protected header.
func seal(payload []byte, h headerMap, pub *rsa.PublicKey) (string, error) {
	opts := &jose.EncrypterOptions{}
	for k, v := range h {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: pub}, opts)
	if err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	obj, err := enc.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	return obj.CompactSerialize()
}

// open decrypts a compact JWE with key; RSA-OAEP-256 and RSA-OAEP with
// A256GCM only.
func open(compact string, key *rsa.PrivateKey) ([]byte, error) {
	obj, err := jose.ParseEncryptedCompact(strings.TrimSpace(compact),
		[]jose.KeyAlgorithm{jose.RSA_OAEP_256, jose.RSA_OAEP}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, fmt.Errorf("reading JWE: %w", err)
	}
	plain, err := obj.Decrypt(key)
	if err != nil {
		return nil, errors.New("cannot decrypt with the recipient's key")
	}
	return plain, nil
}

// parsePublicKey reads a registered certificate in the forms the real
// registry is seen to hold: PEM certificate or public key, base64 of
// either, or bare base64 DER of a certificate or PKIX key.
func parsePublicKey(s string) (*rsa.PublicKey, error) {
	data := []byte(strings.TrimSpace(s))
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), ""))
		if err != nil {
			return nil, errors.New("not PEM, nor base64")
		}
		if bytes.Contains(der, []byte("-----BEGIN")) {
			data = der
		} else {
			return publicFromDER(der)
		}
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	return publicFromDER(block.Bytes)
}

func publicFromDER(der []byte) (*rsa.PublicKey, error) {
	var key any
	if cert, err := x509.ParseCertificate(der); err == nil {
		key = cert.PublicKey
	} else if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		key = k
	} else {
		return nil, errors.New("not a certificate or RSA public key")
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key is %T; NHCX uses RSA", key)
	}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key has %d bits; NHCX needs 2048", pub.N.BitLen())
	}
	return pub, nil
}

// selfSignedPEM makes the self-signed certificate a participant registers
// in the sandbox (NHA accepts self-signed ones there).
func selfSignedPEM(key *rsa.PrivateKey, cn string, now time.Time) (string, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Sangam NHCX sandbox"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}
