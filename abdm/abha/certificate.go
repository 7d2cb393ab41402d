package abha

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA-1 is the OAEP/MGF1 hash ABDM specifies, not a signature.
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

// certCache holds the two public keys, each behind its own lock so that a
// cold cache costs one fetch, not one per concurrent caller.
type certCache struct {
	entries [2]certEntry
}

type certEntry struct {
	mu      sync.Mutex
	key     *rsa.PublicKey
	fetched time.Time
}

func (cc *certCache) forget(which Certificate) {
	e := &cc.entries[which]
	e.mu.Lock()
	e.key = nil
	e.mu.Unlock()
}

// certificateBody is the answer of both certificate endpoints.
type certificateBody struct {
	PublicKey           string `json:"publicKey"`
	EncryptionAlgorithm string `json:"encryptionAlgorithm"`
}

// PublicKey returns the ABHA service's public key, fetched with tenant's
// session and cached for Config.CertificateTTL.
func (c *Client) PublicKey(ctx context.Context, tenant string, which Certificate) (*rsa.PublicKey, error) {
	if which != ProfileCertificate && which != PHRCertificate {
		return nil, fmt.Errorf("abha: unknown certificate %d", which)
	}
	e := &c.certs.entries[which]
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.key != nil && c.now().Sub(e.fetched) < c.certTTL {
		return e.key, nil
	}
	path := PathProfileCertificate
	if which == PHRCertificate {
		path = PathPHRCertificate
	}
	st := step{name: "fetch public certificate"}
	var body certificateBody
	if _, err := c.call(ctx, tenant, st, abdm.Request{Method: http.MethodGet, Path: path}, &body); err != nil {
		return nil, err
	}
	key, err := parsePublicKey(body.PublicKey)
	if err != nil {
		ue := newError(st, ErrUnexpectedAnswer)
		ue.cause = err
		return nil, ue
	}
	if alg := body.EncryptionAlgorithm; alg != "" && !strings.Contains(strings.ToUpper(alg), "OAEP") {
		// Sangam only knows OAEP-SHA1; say so loudly rather than send
		// values the service cannot read.
		c.log.WarnContext(ctx, "abha certificate announces an unexpected algorithm", "algorithm", alg)
	}
	e.key, e.fetched = key, c.now()
	return key, nil
}

// parsePublicKey reads base64 DER SubjectPublicKeyInfo, as the service
// sends it, and also tolerates PEM armour or a whole X.509 certificate.
func parsePublicKey(s string) (*rsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	var der []byte
	if block, _ := pem.Decode([]byte(s)); block != nil {
		der = block.Bytes
	} else {
		var err error
		der, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, fmt.Errorf("decoding public key: %w", err)
		}
	}
	var pub any
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		cert, cerr := x509.ParseCertificate(der)
		if cerr != nil {
			return nil, fmt.Errorf("parsing public key: %w", err)
		}
		pub = cert.PublicKey
	}
	rsaKey, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("parsing public key: not an RSA key")
	}
	return rsaKey, nil
}

// encrypt encrypts one value (Aadhaar number, mobile, OTP, login id) as
// the ABHA service requires: RSA-OAEP with SHA-1 for the hash and MGF1,
// empty label, standard base64.
func (c *Client) encrypt(ctx context.Context, tenant string, which Certificate, value string) (string, error) {
	key, err := c.PublicKey(ctx, tenant, which)
	if err != nil {
		return "", err
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, key, []byte(value), nil)
	if err != nil {
		return "", fmt.Errorf("abha: encrypting a value: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}
