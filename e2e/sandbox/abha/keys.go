package abha

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SHA-1 is the OAEP/MGF1 hash ABDM specifies, not a signature.
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
)

const (
	profileKeyBits = 4096
	phrKeyBits     = 2048
	// encryptionAlgorithm is what the certificate endpoints announce.
	encryptionAlgorithm = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding"
)

// keyKind names one of the two certificates.
type keyKind int

const (
	keyProfile keyKind = iota // /v3/profile/public/certificate
	keyPHR                    // /v3/phr/app/login/public/certificate
)

// lazyKey generates its RSA key on first use: a 4096-bit key takes a
// noticeable fraction of a second, and most sandboxes started by tests never
// serve an ABHA call.
type lazyKey struct {
	once sync.Once
	bits int
	key  *rsa.PrivateKey
	err  error
}

func newLazyKey(bits int, given *rsa.PrivateKey) *lazyKey {
	k := &lazyKey{bits: bits, key: given}
	if given != nil {
		k.once.Do(func() {})
	}
	return k
}

func (k *lazyKey) get() (*rsa.PrivateKey, error) {
	k.once.Do(func() {
		k.key, k.err = rsa.GenerateKey(rand.Reader, k.bits)
		if k.err != nil {
			k.err = fmt.Errorf("generating RSA-%d key: %w", k.bits, k.err)
		}
	})
	return k.key, k.err
}

func (s *Service) key(kind keyKind) (*rsa.PrivateKey, error) {
	if kind == keyPHR {
		return s.phrKey.get()
	}
	return s.profileKey.get()
}

// showCertificate answers the certificate endpoints: base64 DER
// SubjectPublicKeyInfo without PEM armour.
func (s *Service) showCertificate(kind keyKind) handler {
	return func(c *call) reply {
		k, err := s.key(kind)
		if err != nil {
			s.log.Error("abha sandbox key unavailable", "error", err)
			return errInternal
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			s.log.Error("abha sandbox key not encodable", "error", err)
			return errInternal
		}
		return ok(map[string]string{
			"publicKey":           base64.StdEncoding.EncodeToString(der),
			"encryptionAlgorithm": encryptionAlgorithm,
		})
	}
}

// Decryption failures.
var (
	errNotEncrypted = errors.New("value is not RSA-OAEP ciphertext for a published key")
	errWrongKey     = errors.New("value was encrypted with the other certificate's key")
)

// decrypt opens one RSA-OAEP(SHA-1) value. allowed lists the keys the
// path takes; the key used is recognised by the ciphertext length.
func (s *Service) decrypt(value string, allowed ...keyKind) (string, error) {
	ct, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", errNotEncrypted
	}
	var kind keyKind
	switch len(ct) {
	case profileKeyBits / 8:
		kind = keyProfile
	case phrKeyBits / 8:
		kind = keyPHR
	default:
		return "", errNotEncrypted
	}
	permitted := false
	for _, a := range allowed {
		permitted = permitted || a == kind
	}
	if !permitted {
		return "", errWrongKey
	}
	k, err := s.key(kind)
	if err != nil {
		return "", err
	}
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, k, ct, nil)
	if err != nil {
		return "", errNotEncrypted
	}
	return string(pt), nil
}

// Keys allowed per path family (reference §2.2).
var (
	profileKeys = []keyKind{keyProfile}
	phrWebKeys  = []keyKind{keyProfile, keyPHR}
)

// decryptField decrypts a body field and turns failures into the replies
// the real service gives: field-keyed 400 for plain or garbled values,
// ABDM-1006 for the other key. what names the value in the ABDM-1006 text.
func (s *Service) decryptField(c *call, field, what, value string, allowed []keyKind) (string, *reply) {
	pt, err := s.decrypt(value, allowed...)
	switch {
	case err == nil:
		return pt, nil
	case errors.Is(err, errWrongKey):
		rep := wrongKey(what)
		return "", &rep
	case errors.Is(err, errNotEncrypted):
		rep := fieldError(c.now, field, invalidFieldText[field])
		return "", &rep
	default:
		s.log.Error("abha sandbox decryption failed", "error", err)
		rep := errInternal
		return "", &rep
	}
}

var invalidFieldText = map[string]string{
	"loginId":  "Invalid LoginId",
	"otpValue": "Invalid OTP value",
}
