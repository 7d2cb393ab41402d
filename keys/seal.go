package keys

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// sealFormat is the first byte of every sealed blob, so that a later format
// can be told apart from this one (nonce || AES-256-GCM ciphertext).
const sealFormat byte = 1

// errUnsealable hides the details of a failed decryption: a wrong key and a
// tampered row look the same, and both must stop the read.
var errUnsealable = errors.New("stored ciphertext does not authenticate: wrong key, or the row was altered or moved")

func seal(aead cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealFormat
	// Random 96-bit nonces are safe here: a data key seals far fewer than
	// the 2^32 messages at which collisions start to matter.
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, aad), nil
}

func unseal(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealFormat {
		return nil, errUnsealable
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, errUnsealable
	}
	return plain, nil
}

// dataKeyAAD binds a sealed data key to its tenant, so that copying one
// tenant's row over another's does not hand over the key.
func dataKeyAAD(tenant string) []byte {
	return appendField([]byte("sangam data key v1"), tenant)
}

// secretAAD binds a sealed secret to everything that identifies it, and to
// its expiry: a ciphertext copied to another row, or given a later expiry,
// no longer opens. ref must be canonical.
func secretAAD(ref Ref, expiresAt time.Time) []byte {
	b := []byte("sangam secret v1")
	for _, f := range []string{ref.Tenant, ref.Facility, string(ref.Purpose), ref.Name} {
		b = appendField(b, f)
	}
	if expiresAt.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.BigEndian.AppendUint64(b, uint64(expiresAt.UnixMicro()))
}

// appendField length-prefixes s so that no two field lists encode alike.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
