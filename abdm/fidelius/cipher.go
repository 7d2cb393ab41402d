package fidelius

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

const (
	saltSize = 20
	ivSize   = 12
	tagSize  = 16
)

// A Session is the AES-256-GCM key and IV that one pair of keyMaterials
// yields. Both sides derive the same Session: the sender (HIP) from its
// private key and the requester's public key, the requester (HIU) from its
// private key and the sender's public key.
//
// The IV comes from the nonces alone, so every Seal on one Session uses the
// same key and IV. That is how the protocol is defined, and GCM under a
// repeated IV leaks the XOR of the plaintexts and allows forgeries: seal
// only one plaintext per Session (a fresh key pair and nonce per data push),
// and open as many as the peer sent.
//
// A Session is safe for concurrent use.
type Session struct {
	aead cipher.AEAD
	iv   [ivSize]byte
}

// NewSession derives the session between own and peer. The nonces are the
// sender's (HIP's) and the requester's (HIU's); with two 32-byte nonces their
// order does not actually matter.
//
// Derivation, as in the reference: secret = x(own·peer) as 32 big-endian
// bytes; xor = senderNonce ⊕ requesterNonce; key = HKDF-SHA256(secret,
// salt = xor[0:20], info = "", 32 bytes); IV = xor[20:32].
func NewSession(own *PrivateKey, peer *PublicKey, senderNonce, requesterNonce Nonce) (*Session, error) {
	secret, err := own.ECDH(peer)
	if err != nil {
		return nil, err
	}
	key, iv, err := deriveKey(secret, senderNonce, requesterNonce)
	clear(secret)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w", err)
	}
	return &Session{aead: aead, iv: iv}, nil
}

// deriveKey turns the shared secret and the nonces into the AES key and IV.
func deriveKey(secret []byte, senderNonce, requesterNonce Nonce) (key []byte, iv [ivSize]byte, err error) {
	var xor [NonceSize]byte
	for i := range xor {
		xor[i] = senderNonce[i] ^ requesterNonce[i]
	}
	key, err = hkdf.Key(sha256.New, secret, xor[:saltSize], "", 32)
	if err != nil {
		return nil, iv, fmt.Errorf("fidelius: deriving the AES key: %w", err)
	}
	copy(iv[:], xor[saltSize:])
	return key, iv, nil
}

// Seal encrypts plaintext and returns base64(ciphertext‖tag), the form that
// goes into a data push's entries[].content. Pass the UTF-8 bytes of the
// FHIR bundle. See Session about sealing more than once.
func (s *Session) Seal(plaintext []byte) string {
	sealed := s.aead.Seal(make([]byte, 0, len(plaintext)+tagSize), s.iv[:], plaintext, nil)
	return encodeBase64(sealed)
}

// Open decodes and decrypts one ciphertext. Whitespace in the base64 is
// ignored, as the reference does. A tag mismatch returns an error wrapping
// ErrAuthentication and never any plaintext; an empty plaintext with a nil
// error is a genuinely empty message.
func (s *Session) Open(ciphertext string) ([]byte, error) {
	sealed, err := decodeBase64(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("fidelius: ciphertext: %w", err)
	}
	if len(sealed) < tagSize {
		return nil, fmt.Errorf("fidelius: %w: ciphertext is %d bytes, shorter than the %d-byte tag", ErrAuthentication, len(sealed), tagSize)
	}
	plaintext, err := s.aead.Open(sealed[:0], s.iv[:], sealed, nil)
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: wrong keys or nonces, or the ciphertext was altered", ErrAuthentication)
	}
	return plaintext, nil
}

// Encrypt is the sender's (HIP's) side in one call: it derives the session
// from the sender's private key and the requester's public key and seals
// plaintext. Use a fresh sender key and nonce for every call.
func Encrypt(senderKey *PrivateKey, requesterKey *PublicKey, senderNonce, requesterNonce Nonce, plaintext []byte) (string, error) {
	s, err := NewSession(senderKey, requesterKey, senderNonce, requesterNonce)
	if err != nil {
		return "", err
	}
	return s.Seal(plaintext), nil
}

// Decrypt is the requester's (HIU's) side in one call: it derives the
// session from the requester's private key and the sender's public key and
// opens ciphertext. To open several entries of one push, use NewSession
// once and call Open for each.
func Decrypt(requesterKey *PrivateKey, senderKey *PublicKey, senderNonce, requesterNonce Nonce, ciphertext string) ([]byte, error) {
	s, err := NewSession(requesterKey, senderKey, senderNonce, requesterNonce)
	if err != nil {
		return nil, err
	}
	return s.Open(ciphertext)
}
