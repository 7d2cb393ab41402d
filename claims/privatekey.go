package claims

import (
	"context"
	"crypto/rsa"
	"fmt"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/keys"
)

// SecretGetter is the part of keys.Store that reading a key needs.
type SecretGetter interface {
	Get(ctx context.Context, ref keys.Ref) (keys.Secret, error)
}

// SecretPutter is the part of keys.Store that saving a key needs.
type SecretPutter interface {
	Put(ctx context.Context, s keys.Secret) error
}

// PrivateKeyRef names the NHCX private key of a participant. facility is
// empty when the tenant has one participant code for all its facilities.
// Participant codes such as 1000004604@hcx are valid secret names as they
// are.
func PrivateKeyRef(tenant, facility, participantCode string) keys.Ref {
	return keys.Ref{Tenant: tenant, Facility: facility, Purpose: keys.PurposeNHCXPrivateKey, Name: participantCode}
}

// LoadPrivateKey reads the participant's NHCX private key from the key
// store. The stored value is PEM (PKCS#1 or PKCS#8) or a JWK.
func LoadPrivateKey(ctx context.Context, store SecretGetter, ref keys.Ref) (*rsa.PrivateKey, error) {
	if ref.Purpose != keys.PurposeNHCXPrivateKey {
		return nil, fmt.Errorf("loading NHCX private key: %s is a %q secret", ref, ref.Purpose)
	}
	s, err := store.Get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("loading NHCX private key %s: %w", ref, err)
	}
	key, err := hcx.ParsePrivateKey(s.Value)
	if err != nil {
		return nil, fmt.Errorf("loading NHCX private key %s: %w", ref, err)
	}
	return key, nil
}

// SavePrivateKey checks that data is a usable NHCX private key (RSA, at
// least 2048 bits, in PEM or JWK) and stores it under ref, replacing any
// earlier key. It refuses anything else, so a wrong file is found when it
// is saved rather than when the first insurer answer cannot be read.
func SavePrivateKey(ctx context.Context, store SecretPutter, ref keys.Ref, data []byte) error {
	if ref.Purpose != keys.PurposeNHCXPrivateKey {
		return fmt.Errorf("saving NHCX private key: %s is a %q secret", ref, ref.Purpose)
	}
	key, err := hcx.ParsePrivateKey(data)
	if err != nil {
		return fmt.Errorf("saving NHCX private key %s: %w", ref, err)
	}
	if n := key.N.BitLen(); n < 2048 {
		return fmt.Errorf("saving NHCX private key %s: RSA key has %d bits; NHCX needs at least 2048", ref, n)
	}
	if err := store.Put(ctx, keys.Secret{Ref: ref, Value: data}); err != nil {
		return fmt.Errorf("saving NHCX private key %s: %w", ref, err)
	}
	return nil
}
