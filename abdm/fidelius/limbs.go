package fidelius

import (
	"encoding/binary"
	"math/bits"
)

// u256 is a 256-bit unsigned integer as four little-endian 64-bit limbs.
//
// Every operation on it runs in time independent of the values, which is why
// it exists next to math/big: it handles the values derived from private
// keys and shared secrets (scalar reduction and the Montgomery-to-Weierstrass
// shift), while math/big only ever sees public points.
type u256 [4]uint64

func u256FromBE(b *[32]byte) u256 {
	return u256{
		binary.BigEndian.Uint64(b[24:]),
		binary.BigEndian.Uint64(b[16:]),
		binary.BigEndian.Uint64(b[8:]),
		binary.BigEndian.Uint64(b[0:]),
	}
}

func (x u256) bigEndian() [32]byte {
	var b [32]byte
	binary.BigEndian.PutUint64(b[0:], x[3])
	binary.BigEndian.PutUint64(b[8:], x[2])
	binary.BigEndian.PutUint64(b[16:], x[1])
	binary.BigEndian.PutUint64(b[24:], x[0])
	return b
}

func u256FromLE(b []byte) u256 {
	return u256{
		binary.LittleEndian.Uint64(b[0:]),
		binary.LittleEndian.Uint64(b[8:]),
		binary.LittleEndian.Uint64(b[16:]),
		binary.LittleEndian.Uint64(b[24:]),
	}
}

func (x u256) littleEndian() [32]byte {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], x[0])
	binary.LittleEndian.PutUint64(b[8:], x[1])
	binary.LittleEndian.PutUint64(b[16:], x[2])
	binary.LittleEndian.PutUint64(b[24:], x[3])
	return b
}

// add returns x+y and the carry out (0 or 1).
func (x u256) add(y u256) (u256, uint64) {
	var z u256
	var c uint64
	z[0], c = bits.Add64(x[0], y[0], 0)
	z[1], c = bits.Add64(x[1], y[1], c)
	z[2], c = bits.Add64(x[2], y[2], c)
	z[3], c = bits.Add64(x[3], y[3], c)
	return z, c
}

// sub returns x-y and the borrow out (0 or 1).
func (x u256) sub(y u256) (u256, uint64) {
	var z u256
	var b uint64
	z[0], b = bits.Sub64(x[0], y[0], 0)
	z[1], b = bits.Sub64(x[1], y[1], b)
	z[2], b = bits.Sub64(x[2], y[2], b)
	z[3], b = bits.Sub64(x[3], y[3], b)
	return z, b
}

// choose returns x if flag is 1 and y if flag is 0.
func choose(flag uint64, x, y u256) u256 {
	mask := -flag
	var z u256
	for i := range z {
		z[i] = (x[i] & mask) | (y[i] &^ mask)
	}
	return z
}

// isZero returns 1 if x is zero and 0 otherwise.
func (x u256) isZero() uint64 {
	v := x[0] | x[1] | x[2] | x[3]
	return 1 ^ ((v | -v) >> 63)
}

// equalSmall returns 1 if a == b and 0 otherwise.
func equalSmall(a, b uint64) uint64 {
	v := a ^ b
	return 1 ^ ((v | -v) >> 63)
}

// Curve constants as limbs.
var (
	limbsP     = u256{0xffffffffffffffed, 0xffffffffffffffff, 0xffffffffffffffff, 0x7fffffffffffffff}
	limbsN     = u256{0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000}
	limbsDelta = u256{0xaaaaaaaaaaad2451, 0xaaaaaaaaaaaaaaaa, 0xaaaaaaaaaaaaaaaa, 0x2aaaaaaaaaaaaaaa}
)

// montgomeryToWeierstrass maps a Montgomery u-coordinate (little-endian,
// canonical, as crypto/ecdh returns it) to the big-endian Weierstrass
// x = u + A/3 mod p. It runs in constant time because u may be a shared
// secret.
func montgomeryToWeierstrass(u []byte) [32]byte {
	s, _ := u256FromLE(u).add(limbsDelta) // u < p and δ < p, so no carry out of 256 bits
	t, borrow := s.sub(limbsP)
	return choose(borrow, s, t).bigEndian()
}

// weierstrassToMontgomery maps a Weierstrass x (big-endian, < p) to the
// little-endian Montgomery u = x - A/3 mod p.
func weierstrassToMontgomery(x *[32]byte) [32]byte {
	d, borrow := u256FromBE(x).sub(limbsDelta)
	e, _ := d.add(limbsP)
	return choose(borrow, e, d).littleEndian()
}

// x25519Scalar finds the X25519 scalar that acts like the Fidelius scalar d.
//
// crypto/ecdh clamps every X25519 scalar to k = 2^254 + 8m with m < 2^251.
// Points in the prime-order subgroup only see k mod n, and the x-coordinate
// of k·Q does not change when k is negated, so any clamped k with
// k ≡ ±d (mod n) gives the same shared secret as d. Because 8 divides k, k·Q
// also drops any small-order part of Q, exactly as BouncyCastle's
// (8⁻¹·d mod n)·(8·Q) does, so the result matches the reference for every
// point on the curve.
//
// For k ≡ d (mod n) and 8 | k, k must be d + j·n with j ≡ -5·d (mod 8)
// (n ≡ 5 mod 8, and 5 is its own inverse mod 8), which leaves exactly one
// candidate below 8n; the same holds for n - d. The two candidates sum to 8n,
// so one of them lies in [2^254, 2^255) unless d or n - d is a multiple of 8
// below 8·(n - 2^252) ≈ 2^127.6 (j = 0 with a tiny remainder). No honestly
// generated key is (probability about 2^-126); ok is 0 then.
//
// neg is 1 when k ≡ -d, which flips the y-coordinate of the public key.
// Everything here is branch-free on d.
func x25519Scalar(d u256) (k u256, neg, ok uint64) {
	k1, ok1 := clampedCandidate(d)
	nd, _ := limbsN.sub(d)
	k2, ok2 := clampedCandidate(nd)
	k = choose(ok1, k1, k2)
	return k, 1 ^ ok1, ok1 | ok2
}

// clampedCandidate returns the unique k = d + j·n (0 ≤ j < 8) with 8 | k, and
// whether it has the clamped form 2^254 ≤ k < 2^255.
func clampedCandidate(d u256) (u256, uint64) {
	j := (-(5 * d[0])) & 7
	var jn, acc u256
	for i := uint64(0); i < 8; i++ {
		jn = choose(equalSmall(i, j), acc, jn)
		acc, _ = acc.add(limbsN)
	}
	k, _ := d.add(jn) // d < n and j ≤ 7, so k < 8n < 2^256
	ok := (k[3] >> 62) & 1 &^ (k[3] >> 63)
	return k, ok
}

// reduceModN returns x mod n for a clamped X25519 scalar x (2^254 ≤ x < 2^255
// < 8n) by seven constant-time conditional subtractions.
func reduceModN(x u256) u256 {
	for range 7 {
		t, borrow := x.sub(limbsN)
		x = choose(borrow, x, t)
	}
	return x
}

// lessThanN returns 1 if x < n.
func lessThanN(x u256) uint64 {
	_, borrow := x.sub(limbsN)
	return borrow
}
