package fidelius

import (
	"fmt"
	"strings"
	"time"
)

// Values this package writes into keyMaterial. They are the ABDM
// specification's examples; readers must not depend on them (see Parse).
const (
	CryptoAlg  = "ECDH"
	CurveName  = "Curve25519"
	Parameters = "Curve25519/32byte random key"
)

// KeyMaterial is ABDM's keyMaterial object. An HIU sends one in
// hiRequest.keyMaterial (its raw public key and nonce); an HIP sends one at
// the top level of each data push (its X.509 public key and nonce).
type KeyMaterial struct {
	CryptoAlg   string      `json:"cryptoAlg"`
	Curve       string      `json:"curve"`
	DHPublicKey DHPublicKey `json:"dhPublicKey"`
	Nonce       string      `json:"nonce"`
}

// DHPublicKey is keyMaterial.dhPublicKey.
type DHPublicKey struct {
	// Expiry is kept as sent: implementations write it with or without a
	// zone and fraction. See ExpiresAt.
	Expiry string `json:"expiry"`
	// Parameters is free text ("Curve25519/32byte random key", "Ephemeral
	// public key", ...) and is never checked.
	Parameters string `json:"parameters"`
	// KeyValue is the base64 public key in any form ParsePublicKey reads.
	KeyValue string `json:"keyValue"`
}

// NewKeyMaterial describes our public key and nonce. keyValue is
// PublicKey.Raw for an HIU's hiRequest and PublicKey.X509 for an HIP's data
// push: that is what the other side's reference code can parse.
func NewKeyMaterial(keyValue string, nonce Nonce, expiry time.Time) KeyMaterial {
	return KeyMaterial{
		CryptoAlg: CryptoAlg,
		Curve:     CurveName,
		DHPublicKey: DHPublicKey{
			Expiry:     expiry.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			Parameters: Parameters,
			KeyValue:   keyValue,
		},
		Nonce: nonce.String(),
	}
}

// Parse returns the peer's public key and nonce.
//
// It is lenient where implementations differ, because the reference checks
// none of these strings: cryptoAlg and curve are compared ignoring case and
// punctuation ("Curve25519" in the specification, "curve25519" from
// BouncyCastle-based senders) and may be empty; parameters and expiry are not
// looked at. Only values that name something else entirely (cryptoAlg
// without "ECDH", curve without "25519") are rejected with
// ErrInvalidKeyMaterial. The key and nonce themselves are checked in full.
func (m KeyMaterial) Parse() (*PublicKey, Nonce, error) {
	if alg := normalize(m.CryptoAlg); alg != "" && !strings.Contains(alg, "ecdh") {
		return nil, Nonce{}, fmt.Errorf("fidelius: %w: cryptoAlg %q, want %q", ErrInvalidKeyMaterial, m.CryptoAlg, CryptoAlg)
	}
	if curve := normalize(m.Curve); curve != "" && !strings.Contains(curve, "25519") {
		return nil, Nonce{}, fmt.Errorf("fidelius: %w: curve %q, want %q", ErrInvalidKeyMaterial, m.Curve, CurveName)
	}
	pub, err := ParsePublicKey(m.DHPublicKey.KeyValue)
	if err != nil {
		return nil, Nonce{}, fmt.Errorf("keyMaterial.dhPublicKey.keyValue: %w", err)
	}
	nonce, err := ParseNonce(m.Nonce)
	if err != nil {
		return nil, Nonce{}, fmt.Errorf("keyMaterial.nonce: %w", err)
	}
	return pub, nonce, nil
}

// normalize lower-cases s and keeps only letters and digits.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return -1
	}, s)
}

// ExpiresAt parses Expiry. It accepts RFC 3339 with or without fractional
// seconds, and the zone-less local date-time some HIUs send, which it reads
// as UTC (ABDM timestamps are UTC).
func (k DHPublicKey) ExpiresAt() (time.Time, error) {
	s := strings.TrimSpace(k.Expiry)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("fidelius: %w: expiry %q is not a date-time", ErrInvalidKeyMaterial, k.Expiry)
}
