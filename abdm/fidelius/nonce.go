package fidelius

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// NonceSize is the length of a Fidelius nonce in bytes.
const NonceSize = 32

// A Nonce is the 32 random bytes each side contributes to a session. Nonces
// are public: they travel in keyMaterial next to the public key.
type Nonce [NonceSize]byte

// NewNonce returns a fresh random nonce from the system's secure random
// source.
func NewNonce() Nonce {
	var n Nonce
	rand.Read(n[:]) // never returns an error since Go 1.24
	return n
}

// ParseNonce reads a nonce from standard padded base64 (44 characters).
//
// The reference would accept other lengths, but with anything other than
// two 32-byte nonces its salt and IV derivation pads with zeros or overlaps,
// so a different length is treated as a bug on the other side.
func ParseNonce(s string) (Nonce, error) {
	var n Nonce
	b, err := decodeBase64(s)
	if err != nil {
		return n, fmt.Errorf("fidelius: %w: %w", ErrInvalidNonce, err)
	}
	if len(b) != NonceSize {
		return n, fmt.Errorf("fidelius: %w: nonce is %d bytes; want %d", ErrInvalidNonce, len(b), NonceSize)
	}
	copy(n[:], b)
	return n, nil
}

// String returns the nonce as standard padded base64, its wire form.
func (n Nonce) String() string { return base64.StdEncoding.EncodeToString(n[:]) }
