package abha

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Card formats for Config.CardFormat.
const (
	CardPNG = "png"
	CardPDF = "pdf"
)

// Config configures a Service. Zero values take the defaults named on each
// field.
type Config struct {
	// VerifyToken checks the gateway session token on every call and
	// returns the client it was issued to. Required; the sandbox passes the
	// gateway's VerifySessionToken.
	VerifyToken func(token string) (clientID string, err error)
	// Logger receives one record per call (path, status, client), never a
	// value from a body. Nil discards.
	Logger *slog.Logger
	// Now is the service clock. Default time.Now.
	Now func() time.Time

	// OTPTTL is how long an OTP can be used. Default 10 minutes.
	OTPTTL time.Duration
	// MaxOTPAttempts is how many wrong entries one OTP survives; the last
	// one ends the transaction and blocks the identity. Default 3.
	MaxOTPAttempts int
	// MaxOTPRequests is how many OTPs one identity may be sent within
	// BlockFor: the first plus two resends by default (3).
	MaxOTPRequests int
	// BlockFor is how long an identity stays blocked (ABDM-1100 says "try
	// again in 30 minutes"). Default 30 minutes.
	BlockFor time.Duration
	// TxnTTL bounds a transaction from its OTP request. Default 30 minutes.
	TxnTTL time.Duration
	// XTokenTTL (default 30 minutes), TransferTokenTTL (300 s) and
	// RefreshTokenTTL (15 days) are the user token lifetimes.
	XTokenTTL, TransferTokenTTL, RefreshTokenTTL time.Duration

	// AddressSuffix is the ABHA address domain. Default "sbx".
	AddressSuffix string
	// CardFormat is what /v3/profile/account/abha-card returns: CardPNG
	// (default) or CardPDF.
	CardFormat string

	// ProfileKey (RSA-4096 in the real service) and PHRKey (RSA-2048)
	// decrypt inputs. Nil keys are generated on first use, so a sandbox
	// that never serves ABHA calls costs nothing; pass keys to save the
	// time in tests or to keep them across restarts.
	ProfileKey, PHRKey *rsa.PrivateKey
}

func (c *Config) withDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.OTPTTL, 10*time.Minute)
	setDefault(&c.BlockFor, 30*time.Minute)
	setDefault(&c.TxnTTL, 30*time.Minute)
	setDefault(&c.XTokenTTL, 30*time.Minute)
	setDefault(&c.TransferTokenTTL, 300*time.Second)
	setDefault(&c.RefreshTokenTTL, 15*24*time.Hour)
	if c.MaxOTPAttempts == 0 {
		c.MaxOTPAttempts = 3
	}
	if c.MaxOTPRequests == 0 {
		c.MaxOTPRequests = 3
	}
	if c.AddressSuffix == "" {
		c.AddressSuffix = "sbx"
	}
	if c.CardFormat == "" {
		c.CardFormat = CardPNG
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (c Config) validate() error {
	if c.VerifyToken == nil {
		return errors.New("VerifyToken is required")
	}
	for name, d := range map[string]time.Duration{
		"OTPTTL": c.OTPTTL, "BlockFor": c.BlockFor, "TxnTTL": c.TxnTTL, "XTokenTTL": c.XTokenTTL,
		"TransferTokenTTL": c.TransferTokenTTL, "RefreshTokenTTL": c.RefreshTokenTTL,
	} {
		if d < 0 {
			return fmt.Errorf("%s cannot be negative", name)
		}
	}
	if c.MaxOTPAttempts < 1 {
		return errors.New("MaxOTPAttempts must be at least 1")
	}
	if c.MaxOTPRequests < 1 {
		return errors.New("MaxOTPRequests must be at least 1")
	}
	if c.CardFormat != CardPNG && c.CardFormat != CardPDF {
		return fmt.Errorf("CardFormat must be %q or %q, got %q", CardPNG, CardPDF, c.CardFormat)
	}
	// The service tells the keys apart by ciphertext length, as one can on
	// the real one (512 bytes for 4096, 256 for 2048), so the sizes are fixed.
	if c.ProfileKey != nil && c.ProfileKey.Size() != profileKeyBits/8 {
		return fmt.Errorf("ProfileKey must be RSA-%d", profileKeyBits)
	}
	if c.PHRKey != nil && c.PHRKey.Size() != phrKeyBits/8 {
		return fmt.Errorf("PHRKey must be RSA-%d", phrKeyBits)
	}
	return nil
}
