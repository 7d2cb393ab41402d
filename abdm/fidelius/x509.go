package fidelius

import (
	"encoding/asn1"
	"fmt"
	"math/big"
)

// The reference hands out public keys as X.509 SubjectPublicKeyInfo with the
// curve spelled out (explicit ECParameters, RFC 3279 section 2.3.5), because
// it wraps BouncyCastle's curve in an unnamed spec. crypto/x509 cannot read
// that form, so it is built and parsed here with encoding/asn1.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPrimeField  = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}
	// BouncyCastle's OID for curve25519, which its named-curve form uses.
	oidCurve25519 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3029, 1, 5, 1}
)

type subjectPublicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue
}

type ecParameters struct {
	Version  int
	FieldID  fieldID
	Curve    curveCoefficients
	Base     []byte
	Order    *big.Int
	Cofactor int `asn1:"optional"`
}

type fieldID struct {
	FieldType asn1.ObjectIdentifier
	Prime     *big.Int
}

type curveCoefficients struct {
	A, B []byte
	Seed asn1.BitString `asn1:"optional"`
}

// explicitParameters returns the DER of the curve's ECParameters exactly as
// BouncyCastle writes them: version 1, a and b as 32-byte strings, no seed,
// the uncompressed base point, order and cofactor.
func explicitParameters() []byte {
	base := make([]byte, 65)
	base[0] = 4
	curveGx.FillBytes(base[1:33])
	curveGy.FillBytes(base[33:])
	params := ecParameters{
		Version: 1,
		FieldID: fieldID{FieldType: oidPrimeField, Prime: curveP},
		Curve: curveCoefficients{
			A: curveA.FillBytes(make([]byte, 32)),
			B: curveB.FillBytes(make([]byte, 32)),
		},
		Base:     base,
		Order:    curveN,
		Cofactor: curveCofactor,
	}
	der, err := asn1.Marshal(params)
	if err != nil {
		panic("fidelius: marshalling curve parameters: " + err.Error())
	}
	return der
}

// marshalSPKI wraps a 65-byte point in the reference's X.509 form (309
// bytes).
func marshalSPKI(point []byte) []byte {
	der, err := asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmIdentifier{
			Algorithm:  oidECPublicKey,
			Parameters: asn1.RawValue{FullBytes: explicitParameters()},
		},
		PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)},
	})
	if err != nil {
		panic("fidelius: marshalling public key: " + err.Error())
	}
	return der
}

// parseSPKI checks that der is an EC SubjectPublicKeyInfo on curve25519,
// with named or explicit parameters, and returns the encoded point.
func parseSPKI(der []byte) ([]byte, error) {
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil {
		return nil, fmt.Errorf("not DER SubjectPublicKeyInfo: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d bytes of trailing data", len(rest))
	}
	if !spki.Algorithm.Algorithm.Equal(oidECPublicKey) {
		return nil, fmt.Errorf("algorithm %v is not id-ecPublicKey", spki.Algorithm.Algorithm)
	}
	if err := checkCurveParameters(spki.Algorithm.Parameters); err != nil {
		return nil, err
	}
	if spki.PublicKey.BitLength%8 != 0 {
		return nil, fmt.Errorf("public key bit string has %d bits", spki.PublicKey.BitLength)
	}
	return spki.PublicKey.Bytes, nil
}

func checkCurveParameters(raw asn1.RawValue) error {
	switch {
	case raw.Class == asn1.ClassUniversal && raw.Tag == asn1.TagOID:
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(raw.FullBytes, &oid); err != nil {
			return fmt.Errorf("curve OID: %w", err)
		}
		if !oid.Equal(oidCurve25519) {
			return fmt.Errorf("named curve %v is not curve25519 (%v)", oid, oidCurve25519)
		}
		return nil
	case raw.Class == asn1.ClassUniversal && raw.Tag == asn1.TagSequence:
		return checkExplicitParameters(raw.FullBytes)
	default:
		return fmt.Errorf("curve parameters are neither a named curve nor explicit")
	}
}

// checkExplicitParameters accepts any encoding of curve25519's parameters,
// not just BouncyCastle's bytes: the field and coefficients must match, the
// order must be n, and the base point must have x = Gx (the sign of y does
// not matter: -G generates the same group and ECDH only uses x).
func checkExplicitParameters(der []byte) error {
	var params ecParameters
	rest, err := asn1.Unmarshal(der, &params)
	if err != nil {
		return fmt.Errorf("explicit curve parameters: %w", err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("explicit curve parameters: trailing data")
	}
	switch {
	case !params.FieldID.FieldType.Equal(oidPrimeField) || params.FieldID.Prime == nil || params.FieldID.Prime.Cmp(curveP) != 0:
		return fmt.Errorf("explicit curve parameters: field is not GF(2^255-19)")
	case new(big.Int).SetBytes(params.Curve.A).Cmp(curveA) != 0 || new(big.Int).SetBytes(params.Curve.B).Cmp(curveB) != 0:
		return fmt.Errorf("explicit curve parameters: a and b are not curve25519's")
	case params.Order == nil || params.Order.Cmp(curveN) != 0:
		return fmt.Errorf("explicit curve parameters: order is not curve25519's")
	case params.Cofactor != 0 && params.Cofactor != curveCofactor:
		return fmt.Errorf("explicit curve parameters: cofactor %d, want 8", params.Cofactor)
	}
	base, err := parsePoint(params.Base)
	if err != nil {
		return fmt.Errorf("explicit curve parameters: base point: %w", err)
	}
	if new(big.Int).SetBytes(base.x[:]).Cmp(curveGx) != 0 {
		return fmt.Errorf("explicit curve parameters: base point is not curve25519's generator")
	}
	return nil
}
