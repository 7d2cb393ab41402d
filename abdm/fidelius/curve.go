package fidelius

import (
	"fmt"
	"math/big"
)

// The curve is BouncyCastle's "curve25519": Curve25519 written in short
// Weierstrass form y² = x³ + ax + b. It maps to the Montgomery form that
// X25519 uses by x = u + A/3, y = v (A = 486662).
//
// math/big is used only for public values: checking and decompressing peer
// points, recovering the y-coordinate of a public key, and the rare-scalar
// fallback described in scalarMult.
var (
	curveP  = hexInt("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed")
	curveA  = hexInt("2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa984914a144")
	curveB  = hexInt("7b425ed097b425ed097b425ed097b425ed097b425ed097b4260b5e9c7710c864")
	curveN  = hexInt("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed")
	curveGx = hexInt("2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad245a")
	curveGy = hexInt("20ae19a1b8a086b4e01edd2c7748d14c923d4d7e6d7c61b229e9c5a27eced3d9")

	// 8·G, the known point used to recover y-coordinates (see recoverY).
	curve8Gx = hexInt("520a5182558106d882e632f87361074c25239875581f53c99c1c1a97f376bdb9")
	curve8Gy = hexInt("1f7a44457046c61b7230bb96bf994f73b0b863988f3a6e063ad69291608d78d5")
)

const curveCofactor = 8

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("fidelius: bad constant " + s)
	}
	return v
}

// curveRHS returns x³ + ax + b mod p.
func curveRHS(x *big.Int) *big.Int {
	r := new(big.Int).Mul(x, x)
	r.Add(r, curveA)
	r.Mul(r, x)
	r.Add(r, curveB)
	return r.Mod(r, curveP)
}

// onCurve reports whether (x, y) satisfies the curve equation. Both must
// already be in [0, p).
func onCurve(x, y *big.Int) bool {
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, curveP)
	return y2.Cmp(curveRHS(x)) == 0
}

// decompress returns the y with the given parity (0 even, 1 odd) such that
// (x, y) is on the curve.
func decompress(x *big.Int, odd uint) (*big.Int, error) {
	y := new(big.Int).ModSqrt(curveRHS(x), curveP)
	if y == nil {
		return nil, fmt.Errorf("compressed x-coordinate is not on the curve")
	}
	if y.Bit(0) != odd {
		y.Sub(curveP, y)
	}
	if y.Bit(0) != odd { // y == 0 has no odd twin
		return nil, fmt.Errorf("compressed point has no y of the requested parity")
	}
	return y, nil
}

// recoverY returns the y-coordinate of P = (xP, ?) given x3 = x(P + R), where
// R = (x(8G), yR) is 8·G or -8·G.
//
// X25519 only reveals x-coordinates. With R known and x3 = x(P+R), the
// chord through P and R has slope λ with λ² = x3 + xR + xP, so
// (yP - yR)² = (x3 + xR + xP)(xP - xR)², which is linear in yP once yP² is
// replaced by the curve equation:
//
//	yP = (xP³ + a·xP + b + yR² - (x3 + xR + xP)(xP - xR)²) / (2·yR).
//
// Every input is public (P is a public key, and x(P+8G) follows from it), so
// math/big's variable timing reveals nothing.
func recoverY(xP, x3, yR *big.Int) (*big.Int, error) {
	if xP.Cmp(curve8Gx) == 0 {
		return nil, fmt.Errorf("public key is ±8·G")
	}
	t := new(big.Int).Sub(xP, curve8Gx)
	t.Mul(t, t)
	s := new(big.Int).Add(x3, curve8Gx)
	s.Add(s, xP)
	t.Mul(t, s)

	num := curveRHS(xP)
	num.Add(num, new(big.Int).Mul(yR, yR))
	num.Sub(num, t)
	num.Mod(num, curveP)

	den := new(big.Int).Lsh(yR, 1)
	den.ModInverse(den, curveP)
	y := num.Mul(num, den)
	y.Mod(y, curveP)
	if !onCurve(xP, y) {
		return nil, fmt.Errorf("recovered point is not on the curve")
	}
	return y, nil
}

// affinePoint is a point on the Weierstrass curve; nil means infinity.
type affinePoint struct{ x, y *big.Int }

func (p *affinePoint) double() *affinePoint {
	if p == nil || p.y.Sign() == 0 {
		return nil
	}
	// λ = (3x² + a) / 2y
	l := new(big.Int).Mul(p.x, p.x)
	l.Mul(l, big.NewInt(3))
	l.Add(l, curveA)
	den := new(big.Int).Lsh(p.y, 1)
	den.ModInverse(den, curveP)
	l.Mul(l, den)
	l.Mod(l, curveP)
	return p.chord(l, p)
}

func (p *affinePoint) add(q *affinePoint) *affinePoint {
	switch {
	case p == nil:
		return q
	case q == nil:
		return p
	case p.x.Cmp(q.x) == 0:
		if p.y.Cmp(q.y) == 0 {
			return p.double()
		}
		return nil // q = -p
	}
	// λ = (yq - yp) / (xq - xp)
	den := new(big.Int).Sub(q.x, p.x)
	den.Mod(den, curveP)
	den.ModInverse(den, curveP)
	l := new(big.Int).Sub(q.y, p.y)
	l.Mul(l, den)
	l.Mod(l, curveP)
	return p.chord(l, q)
}

// chord returns the third intersection of the line through p and q with slope
// l, reflected: the sum p + q.
func (p *affinePoint) chord(l *big.Int, q *affinePoint) *affinePoint {
	x := new(big.Int).Mul(l, l)
	x.Sub(x, p.x)
	x.Sub(x, q.x)
	x.Mod(x, curveP)
	y := new(big.Int).Sub(p.x, x)
	y.Mul(y, l)
	y.Sub(y, p.y)
	y.Mod(y, curveP)
	return &affinePoint{x, y}
}

// scalarMult returns k·p by plain double-and-add.
//
// It is NOT constant-time. Private keys only reach it when x25519Scalar
// cannot map them (tiny multiples of 8 and their negatives, which no honest
// key generator produces and which are trivially weak anyway); keys we
// generate never do. See PrivateKey. Tests also use it as an independent
// reference.
func scalarMult(k *big.Int, p *affinePoint) *affinePoint {
	var r *affinePoint
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = r.double()
		if k.Bit(i) == 1 {
			r = r.add(p)
		}
	}
	return r
}
