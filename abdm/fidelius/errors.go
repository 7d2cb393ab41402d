package fidelius

import "errors"

// Errors returned by this package. Every error it returns wraps at least one
// of them, so callers can branch with errors.Is and still show the full
// message, which says what exactly was wrong.
var (
	// ErrInvalidKey means a private or public key could not be used: wrong
	// length or form, a point not on the curve, a scalar out of range.
	ErrInvalidKey = errors.New("invalid key")

	// ErrInvalidNonce means a nonce is not base64 of exactly 32 bytes.
	ErrInvalidNonce = errors.New("invalid nonce")

	// ErrInvalidBase64 means an input is not standard, padded base64. It is
	// wrapped together with ErrInvalidKey, ErrInvalidNonce or ErrAuthentication
	// depending on which input it was.
	ErrInvalidBase64 = errors.New("invalid base64")

	// ErrAuthentication means the AES-GCM tag did not verify: the ciphertext
	// was altered or truncated, or the keys or nonces do not belong to it.
	// No plaintext is ever returned together with it.
	ErrAuthentication = errors.New("message authentication failed")

	// ErrInvalidKeyMaterial means a keyMaterial object names an algorithm or
	// curve other than Fidelius' ECDH on Curve25519.
	ErrInvalidKeyMaterial = errors.New("invalid keyMaterial")
)
