package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// loginTTL bounds how long a sign-in may take at the provider.
const loginTTL = 10 * time.Minute

// pendingLogin is a sign-in that has left for the provider and not come
// back yet. It lives in an encrypted cookie, so any replica can finish it
// and nothing is written to the database before the user is known.
type pendingLogin struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"r,omitempty"`
	Expires  time.Time `json:"e"`
}

func newPendingLogin(next string, now time.Time) pendingLogin {
	return pendingLogin{
		State:    randomToken(16),
		Nonce:    randomToken(16),
		Verifier: oauth2.GenerateVerifier(),
		Next:     next,
		Expires:  now.Add(loginTTL),
	}
}

// errBadLoginState covers every way a returning sign-in can fail to match
// the one this browser started: no cookie, a forged or stale one, another
// state. The user's remedy is the same for all: start again.
var errBadLoginState = errors.New("sign-in state missing, invalid, expired or not matching")

// sealer encrypts and authenticates small values with AES-256-GCM.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generating the sign-in cookie key: %w", err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sign-in cookie key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sign-in cookie key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts v; purpose is bound in as additional data so a value sealed
// for one cookie is refused as another.
func (s *sealer) seal(purpose string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", purpose, err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealing %s: %w", purpose, err)
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(purpose))), nil
}

func (s *sealer) open(purpose, sealed string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return errBadLoginState
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(purpose))
	if err != nil {
		return errBadLoginState
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errBadLoginState
	}
	return nil
}

// openPendingLogin decrypts the sign-in cookie and checks it belongs to the
// state the provider sent back and has not expired.
func (s *sealer) openPendingLogin(cookie, state string, now time.Time) (pendingLogin, error) {
	var p pendingLogin
	if cookie == "" || state == "" {
		return p, errBadLoginState
	}
	if err := s.open(loginCookie, cookie, &p); err != nil {
		return p, err
	}
	if !now.Before(p.Expires) || !equalSecret(p.State, state) {
		return p, errBadLoginState
	}
	return p, nil
}
