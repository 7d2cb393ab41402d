package fidelius

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
)

// A PrivateKey is one side's Fidelius private key: a scalar d in [1, n-1] on
// BouncyCastle's curve25519, exactly what the Java reference holds.
//
// Internally the scalar is carried as an equivalent clamped X25519 scalar,
// so key agreement runs in crypto/ecdh, and the conversions between the two
// (on generation, import and export) use constant-time limb arithmetic. That
// covers every key we generate and every key another implementation
// generated honestly, including scalars that were never X25519-clamped.
// (Only the text encoding in Encode and ParsePrivateKey is ordinary base64.)
//
// The trade-off: when d or n-d is a multiple of 8 below about 2^127.6
// (d = 8, 16, ... or n-8, n-16, ...), no clamped scalar is equivalent. Such
// keys still work, through plain math/big double-and-add, which is not
// constant-time. That is acceptable because no random generator produces
// them (probability about 2^-126), a scalar that small is breakable anyway,
// and they only show up as hand-made test keys.
//
// A PrivateKey is immutable and safe for concurrent use. Its String and
// LogValue methods never reveal the key; use Encode to export it.
type PrivateKey struct {
	d   [32]byte         // the Fidelius scalar, big-endian
	x   *ecdh.PrivateKey // clamped equivalent of d; nil only for the fallback scalars
	pub *PublicKey
}

// A PublicKey is a validated point on the curve.
type PublicKey struct {
	x, y [32]byte        // big-endian Weierstrass coordinates
	u    *ecdh.PublicKey // the same point's Montgomery u, for crypto/ecdh
}

// GenerateKey returns a new private key from the system's secure random
// source.
//
// The key is an X25519 key (k = 2^254 + 8m, m uniform below 2^251), so its
// strength is that of X25519; its Fidelius scalar is k mod n.
func GenerateKey() (*PrivateKey, error) {
	for range 4 {
		var b [32]byte
		rand.Read(b[:]) // never returns an error since Go 1.24
		b[0] &= 248
		b[31] &= 127
		b[31] |= 64
		k := u256FromLE(b[:])
		key, err := newX25519Key(reduceModN(k), k, 0)
		clear(b[:])
		if err != nil {
			// Only for k with x(k·G) = x(8·G), which needs k ≡ ±8 (mod n):
			// impossible for a clamped k. Try again rather than fail.
			continue
		}
		return key, nil
	}
	return nil, fmt.Errorf("fidelius: generating a key failed repeatedly")
}

// ParsePrivateKey reads a private key in the reference's storage form:
// base64 of Java's BigInteger.toByteArray(), a big-endian two's-complement
// integer, usually 32 bytes, sometimes shorter, sometimes with a leading 0x00
// sign byte. The value must lie in [1, n-1], as BouncyCastle requires.
func ParsePrivateKey(s string) (*PrivateKey, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: private key: %w", ErrInvalidKey, err)
	}
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("fidelius: %w: private key is empty", ErrInvalidKey)
	case len(b) > 33:
		return nil, fmt.Errorf("fidelius: %w: private key is %d bytes; want at most 33", ErrInvalidKey, len(b))
	case b[0]&0x80 != 0:
		// The reference decodes as a signed integer, so this is a negative
		// scalar it rejects. Usually an encoder that wrote d unsigned.
		return nil, fmt.Errorf("fidelius: %w: private key encodes a negative number (first byte %#02x); the reference reads it as signed", ErrInvalidKey, b[0])
	case len(b) == 33 && b[0] != 0:
		return nil, fmt.Errorf("fidelius: %w: private key scalar is not below the curve order", ErrInvalidKey)
	}
	var d [32]byte
	if len(b) == 33 {
		b = b[1:]
	}
	copy(d[32-len(b):], b)
	clear(b)
	ld := u256FromBE(&d)
	if ld.isZero()|(1^lessThanN(ld)) == 1 {
		return nil, fmt.Errorf("fidelius: %w: private key scalar is not in [1, n-1]", ErrInvalidKey)
	}
	k, neg, ok := x25519Scalar(ld)
	if ok == 1 {
		return newX25519Key(ld, k, neg)
	}
	return newFallbackKey(d)
}

// newX25519Key builds a key whose scalar d is carried as the clamped X25519
// scalar k ≡ ±d (mod n); neg is 1 for the minus sign.
func newX25519Key(d, k u256, neg uint64) (*PrivateKey, error) {
	kLE := k.littleEndian()
	defer clear(kLE[:])
	xk, err := ecdh.X25519().NewPrivateKey(kLE[:])
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: %w", ErrInvalidKey, err)
	}

	// The public key needs its y-coordinate, which X25519 does not give.
	// x((k±8)·G) = x(P ± 8G) pins it down (see recoverY). k+8 keeps the
	// clamped form unless k is the largest clamped scalar; then use k-8.
	eight := u256{8}
	k2, _ := k.add(eight)
	yR := curve8Gy
	if k2[3]>>63 == 1 {
		k2, _ = k.sub(eight)
		yR = new(big.Int).Sub(curveP, curve8Gy)
	}
	k2LE := k2.littleEndian()
	defer clear(k2LE[:])
	xk2, err := ecdh.X25519().NewPrivateKey(k2LE[:])
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: %w", ErrInvalidKey, err)
	}
	x := montgomeryToWeierstrass(xk.PublicKey().Bytes())
	x3 := montgomeryToWeierstrass(xk2.PublicKey().Bytes())
	xP := new(big.Int).SetBytes(x[:])
	y, err := recoverY(xP, new(big.Int).SetBytes(x3[:]), yR)
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: %w", ErrInvalidKey, err)
	}
	if neg == 1 && y.Sign() != 0 {
		// k·G = -(d·G); the reference publishes d·G.
		y.Sub(curveP, y)
	}
	pub := &PublicKey{x: x, u: xk.PublicKey()}
	y.FillBytes(pub.y[:])
	return &PrivateKey{d: d.bigEndian(), x: xk, pub: pub}, nil
}

// newFallbackKey builds a key for a scalar x25519Scalar cannot map. See the
// PrivateKey documentation for why this path is allowed to be variable-time.
func newFallbackKey(d [32]byte) (*PrivateKey, error) {
	g := &affinePoint{curveGx, curveGy}
	p := scalarMult(new(big.Int).SetBytes(d[:]), g)
	if p == nil {
		return nil, fmt.Errorf("fidelius: %w: private key scalar is a multiple of the order", ErrInvalidKey)
	}
	pub, err := newPublicKey(p.x, p.y)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{d: d, pub: pub}, nil
}

// PublicKey returns the public key d·G, with the same coordinates the
// reference derives.
func (k *PrivateKey) PublicKey() *PublicKey { return k.pub }

// Encode returns the key in the reference's storage form: base64 of the
// minimal big-endian two's-complement encoding of d (Java's
// BigInteger.toByteArray()). That is 32 bytes for most keys, fewer for about
// one in 32, and 32 starting with a 0x00 sign byte for another one in 32.
// The reference's tools read it back unchanged.
func (k *PrivateKey) Encode() string {
	b := k.d[:]
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Equal reports whether k and other are the same scalar.
func (k *PrivateKey) Equal(other *PrivateKey) bool {
	return subtle.ConstantTimeCompare(k.d[:], other.d[:]) == 1
}

// String hides the key so that it cannot end up in a log line by accident.
func (k *PrivateKey) String() string { return "fidelius.PrivateKey(REDACTED)" }

// GoString hides the key from %#v.
func (k *PrivateKey) GoString() string { return k.String() }

// LogValue hides the key from log/slog.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// ECDH returns the Fidelius shared secret with peer: the x-coordinate of
// d·Q, as exactly 32 big-endian bytes (leading zeros kept). Like the
// reference, it clears any small-order component of Q first, and it fails
// if the result is the point at infinity.
func (k *PrivateKey) ECDH(peer *PublicKey) ([]byte, error) {
	if k.pub == nil || peer == nil || peer.u == nil {
		return nil, fmt.Errorf("fidelius: %w: key not made by GenerateKey, ParsePrivateKey or ParsePublicKey", ErrInvalidKey)
	}
	if k.x != nil {
		u, err := k.x.ECDH(peer.u)
		if err != nil {
			// crypto/ecdh only fails on an all-zero output: peer is a
			// low-order point.
			return nil, fmt.Errorf("fidelius: %w: peer public key has small order", ErrInvalidKey)
		}
		x := montgomeryToWeierstrass(u)
		clear(u)
		return x[:], nil
	}
	// Fallback scalar: compute (8⁻¹·d mod n)·(8·Q) the way BouncyCastle's
	// ECDHBasicAgreement does.
	q := &affinePoint{new(big.Int).SetBytes(peer.x[:]), new(big.Int).SetBytes(peer.y[:])}
	q = q.double().double().double()
	e := new(big.Int).ModInverse(big.NewInt(curveCofactor), curveN)
	e.Mul(e, new(big.Int).SetBytes(k.d[:]))
	e.Mod(e, curveN)
	r := scalarMult(e, q)
	if r == nil {
		return nil, fmt.Errorf("fidelius: %w: peer public key has small order", ErrInvalidKey)
	}
	secret := make([]byte, 32)
	r.x.FillBytes(secret)
	return secret, nil
}

// ParsePublicKey reads a public key in any form seen on the wire, deciding
// from the decoded bytes rather than the string length:
//   - raw: base64 of 0x04‖X‖Y, 65 bytes (what an HIU sends in hiRequest);
//   - X.509 SubjectPublicKeyInfo with explicit curve parameters (what the
//     reference emits and an HIP sends in a data push);
//   - X.509 with BouncyCastle's named-curve OID 1.3.6.1.4.1.3029.1.5.1.
//
// Compressed points (0x02/0x03‖X) are accepted too, raw or inside X.509. The
// point must lie on the curve.
func ParsePublicKey(s string) (*PublicKey, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: public key: %w", ErrInvalidKey, err)
	}
	switch {
	case len(b) > 0 && b[0] == 0x30:
		point, err := parseSPKI(b)
		if err != nil {
			return nil, fmt.Errorf("fidelius: %w: X.509 public key: %w", ErrInvalidKey, err)
		}
		return parsePoint(point)
	case len(b) == 65 && b[0] == 4, len(b) == 33 && (b[0] == 2 || b[0] == 3):
		return parsePoint(b)
	case len(b) == 64:
		return nil, fmt.Errorf("fidelius: %w: raw public key is 64 bytes; want 65 (0x04‖X‖Y) — did the sender drop a leading zero byte?", ErrInvalidKey)
	case len(b) == 32:
		return nil, fmt.Errorf("fidelius: %w: public key is 32 bytes, like a bare X25519 key; Fidelius needs a curve25519 point (0x04‖X‖Y or X.509)", ErrInvalidKey)
	default:
		return nil, fmt.Errorf("fidelius: %w: public key is %d bytes, neither a raw point (65) nor X.509", ErrInvalidKey, len(b))
	}
}

// parsePoint decodes an uncompressed or compressed SEC 1 point.
func parsePoint(b []byte) (*PublicKey, error) {
	switch {
	case len(b) == 65 && b[0] == 4:
		return newPublicKey(new(big.Int).SetBytes(b[1:33]), new(big.Int).SetBytes(b[33:]))
	case len(b) == 33 && (b[0] == 2 || b[0] == 3):
		x := new(big.Int).SetBytes(b[1:])
		if x.Cmp(curveP) >= 0 {
			return nil, fmt.Errorf("fidelius: %w: public key x-coordinate is not below p", ErrInvalidKey)
		}
		y, err := decompress(x, uint(b[0]&1))
		if err != nil {
			return nil, fmt.Errorf("fidelius: %w: %w", ErrInvalidKey, err)
		}
		return newPublicKey(x, y)
	default:
		return nil, fmt.Errorf("fidelius: %w: point is %d bytes starting %#02x; want 65 starting 0x04", ErrInvalidKey, len(b), b[0])
	}
}

// newPublicKey validates (x, y) and prepares its Montgomery form.
func newPublicKey(x, y *big.Int) (*PublicKey, error) {
	if x.Cmp(curveP) >= 0 || y.Cmp(curveP) >= 0 {
		return nil, fmt.Errorf("fidelius: %w: public key coordinate is not below p", ErrInvalidKey)
	}
	// X25519 would happily use a point on the twist; this check is what
	// keeps it from doing so.
	if !onCurve(x, y) {
		return nil, fmt.Errorf("fidelius: %w: public key is not on curve25519", ErrInvalidKey)
	}
	var p PublicKey
	x.FillBytes(p.x[:])
	y.FillBytes(p.y[:])
	u := weierstrassToMontgomery(&p.x)
	var err error
	p.u, err = ecdh.X25519().NewPublicKey(u[:])
	if err != nil {
		return nil, fmt.Errorf("fidelius: %w: %w", ErrInvalidKey, err)
	}
	return &p, nil
}

// Bytes returns the raw 65-byte uncompressed point 0x04‖X‖Y.
func (p *PublicKey) Bytes() []byte {
	b := make([]byte, 65)
	b[0] = 4
	copy(b[1:], p.x[:])
	copy(b[33:], p.y[:])
	return b
}

// Raw returns the base64 raw form (88 characters), which an HIU puts in
// hiRequest.keyMaterial.dhPublicKey.keyValue.
func (p *PublicKey) Raw() string { return base64.StdEncoding.EncodeToString(p.Bytes()) }

// X509 returns the base64 X.509 form with explicit curve parameters (412
// characters), byte for byte what the reference's getEncoded() gives. An HIP
// puts it in the data push's keyMaterial.dhPublicKey.keyValue.
func (p *PublicKey) X509() string {
	return base64.StdEncoding.EncodeToString(marshalSPKI(p.Bytes()))
}

// Equal reports whether p and other are the same point.
func (p *PublicKey) Equal(other *PublicKey) bool {
	return p.x == other.x && p.y == other.y
}
