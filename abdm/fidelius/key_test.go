package fidelius

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
)

// javaBytes is Java's BigInteger.toByteArray() for a positive d, written
// independently of PrivateKey.Encode.
func javaBytes(d *big.Int) []byte {
	b := d.Bytes()
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

func randomScalar(t testing.TB) *big.Int {
	t.Helper()
	for {
		d, err := rand.Int(rand.Reader, curveN)
		if err != nil {
			t.Fatal(err)
		}
		if d.Sign() > 0 {
			return d
		}
	}
}

func bigToLimbs(x *big.Int) u256 {
	var b [32]byte
	x.FillBytes(b[:])
	return u256FromBE(&b)
}

func limbsToBig(x u256) *big.Int {
	b := x.bigEndian()
	return new(big.Int).SetBytes(b[:])
}

func TestConstants(t *testing.T) {
	if limbsToBig(limbsP).Cmp(curveP) != 0 {
		t.Errorf("limbsP = %x, want %x", limbsToBig(limbsP), curveP)
	}
	if limbsToBig(limbsN).Cmp(curveN) != 0 {
		t.Errorf("limbsN = %x, want %x", limbsToBig(limbsN), curveN)
	}
	delta := new(big.Int).ModInverse(big.NewInt(3), curveP)
	delta.Mul(delta, big.NewInt(486662))
	delta.Mod(delta, curveP)
	if limbsToBig(limbsDelta).Cmp(delta) != 0 {
		t.Errorf("limbsDelta = %x, want A/3 = %x", limbsToBig(limbsDelta), delta)
	}
	// G is the image of the RFC 7748 base point u = 9.
	if gx := new(big.Int).Add(delta, big.NewInt(9)); gx.Cmp(curveGx) != 0 {
		t.Errorf("Gx = %x, want 9 + A/3 = %x", curveGx, gx)
	}
	g := &affinePoint{curveGx, curveGy}
	if !onCurve(g.x, g.y) {
		t.Error("G is not on the curve")
	}
	if p := scalarMult(curveN, g); p != nil {
		t.Error("n·G is not the point at infinity")
	}
	g8 := g.double().double().double()
	if g8.x.Cmp(curve8Gx) != 0 || g8.y.Cmp(curve8Gy) != 0 {
		t.Errorf("8G = (%x, %x), want (%x, %x)", g8.x, g8.y, curve8Gx, curve8Gy)
	}
}

func TestCoordinateShift(t *testing.T) {
	values := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(curveP, big.NewInt(1)), limbsToBig(limbsDelta),
		new(big.Int).Sub(limbsToBig(limbsDelta), big.NewInt(1)), new(big.Int).Add(limbsToBig(limbsDelta), big.NewInt(1))}
	for range 1000 {
		v, _ := rand.Int(rand.Reader, curveP)
		values = append(values, v)
	}
	delta := limbsToBig(limbsDelta)
	for _, v := range values {
		var be [32]byte
		v.FillBytes(be[:])
		le := reverse(be[:])
		x := montgomeryToWeierstrass(le)
		want := new(big.Int).Add(v, delta)
		want.Mod(want, curveP)
		if new(big.Int).SetBytes(x[:]).Cmp(want) != 0 {
			t.Fatalf("u = %x: x = %x, want %x", v, x, want)
		}
		u := weierstrassToMontgomery(&be)
		want.Sub(v, delta).Mod(want, curveP)
		if new(big.Int).SetBytes(reverse(u[:])).Cmp(want) != 0 {
			t.Fatalf("x = %x: u = %x, want %x", v, reverse(u[:]), want)
		}
	}
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

func TestReduceModN(t *testing.T) {
	two254 := new(big.Int).Lsh(big.NewInt(1), 254)
	ks := []*big.Int{two254, new(big.Int).Sub(new(big.Int).Lsh(two254, 1), big.NewInt(8))}
	for range 1000 {
		m, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 251))
		ks = append(ks, new(big.Int).Add(two254, m.Lsh(m, 3)))
	}
	for _, k := range ks {
		got := limbsToBig(reduceModN(bigToLimbs(k)))
		if want := new(big.Int).Mod(k, curveN); got.Cmp(want) != 0 {
			t.Fatalf("%x mod n = %x, want %x", k, got, want)
		}
	}
}

func TestX25519Scalar(t *testing.T) {
	two254 := new(big.Int).Lsh(big.NewInt(1), 254)
	two255 := new(big.Int).Lsh(big.NewInt(1), 255)
	nMinus := func(v int64) *big.Int { return new(big.Int).Sub(curveN, big.NewInt(v)) }
	type scalarCase struct {
		d      *big.Int
		mapped bool
	}
	cases := []scalarCase{
		{big.NewInt(1), true}, {big.NewInt(2), true}, {big.NewInt(5), true}, {big.NewInt(7), true},
		{big.NewInt(8), false}, {big.NewInt(16), false}, {big.NewInt(8 * 12345), false},
		{nMinus(1), true}, {nMinus(8), false}, {nMinus(16), false},
	}
	var negatives int
	for range 2000 {
		cases = append(cases, scalarCase{randomScalar(t), true})
	}
	for _, c := range cases {
		k, neg, ok := x25519Scalar(bigToLimbs(c.d))
		if (ok == 1) != c.mapped {
			t.Errorf("d = %x: ok = %d, want mapped = %v", c.d, ok, c.mapped)
			continue
		}
		if ok == 0 {
			continue
		}
		kb := limbsToBig(k)
		if kb.Cmp(two254) < 0 || kb.Cmp(two255) >= 0 || kb.Bit(0)|kb.Bit(1)|kb.Bit(2) != 0 {
			t.Errorf("d = %x: k = %x is not a clamped X25519 scalar", c.d, kb)
		}
		want := new(big.Int).Set(c.d)
		if neg == 1 {
			want.Sub(curveN, want)
			negatives++
		}
		if new(big.Int).Mod(kb, curveN).Cmp(want) != 0 {
			t.Errorf("d = %x: k = %x, neg = %d, but k mod n = %x", c.d, kb, neg, new(big.Int).Mod(kb, curveN))
		}
	}
	if negatives == 0 {
		t.Error("no random scalar mapped to -d; the negative branch went untested")
	}
}

// TestForeignScalars covers private keys made by other implementations:
// unclamped scalars of every encoded length, the sign byte, and the tiny
// scalars that go through the math/big fallback.
func TestForeignScalars(t *testing.T) {
	peer, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	q := &affinePoint{new(big.Int).SetBytes(peer.pub.x[:]), new(big.Int).SetBytes(peer.pub.y[:])}
	g := &affinePoint{curveGx, curveGy}
	two := func(e uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), e) }
	scalars := map[string]*big.Int{
		"1":                  big.NewInt(1),
		"2":                  big.NewInt(2),
		"8 (fallback)":       big.NewInt(8),
		"16 (fallback)":      big.NewInt(16),
		"n-1":                new(big.Int).Sub(curveN, big.NewInt(1)),
		"n-8 (fallback)":     new(big.Int).Sub(curveN, big.NewInt(8)),
		"2^247-1 (31 bytes)": new(big.Int).Sub(two(247), big.NewInt(1)),
		"2^247 (sign byte)":  two(247),
		"2^248-1 (sign)":     new(big.Int).Sub(two(248), big.NewInt(1)),
		"2^200+3 (26 bytes)": new(big.Int).Add(two(200), big.NewInt(3)),
		"random":             randomScalar(t),
	}
	for name, d := range scalars {
		t.Run(name, func(t *testing.T) {
			enc := base64.StdEncoding.EncodeToString(javaBytes(d))
			key, err := ParsePrivateKey(enc)
			if err != nil {
				t.Fatalf("ParsePrivateKey(%s): %v", enc, err)
			}
			if got := key.Encode(); got != enc {
				t.Errorf("Encode() = %s, want %s", got, enc)
			}
			if fallback := strings.Contains(name, "fallback"); fallback != (key.x == nil) {
				t.Errorf("fallback = %v, want %v", key.x == nil, fallback)
			}
			want := scalarMult(d, g)
			if new(big.Int).SetBytes(key.pub.x[:]).Cmp(want.x) != 0 || new(big.Int).SetBytes(key.pub.y[:]).Cmp(want.y) != 0 {
				t.Errorf("public key = (%x, %x), want d·G = (%x, %x)", key.pub.x, key.pub.y, want.x, want.y)
			}
			secret, err := key.ECDH(peer.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			wantSecret := scalarMult(d, q).x.FillBytes(make([]byte, 32))
			if !bytes.Equal(secret, wantSecret) {
				t.Errorf("ECDH = %x, want x(d·Q) = %x", secret, wantSecret)
			}
			// The other side, through crypto/ecdh, must agree.
			back, err := peer.ECDH(key.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, secret) {
				t.Errorf("peer's ECDH = %x, ours = %x", back, secret)
			}
		})
	}
}

func TestParsePrivateKeyLenient(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	var d32 [33]byte
	copy(d32[1:], key.d[:])
	for name, s := range map[string]string{
		"33 bytes with sign byte": base64.StdEncoding.EncodeToString(d32[:]),
		"32 bytes padded":         base64.StdEncoding.EncodeToString(d32[1:]),
		"wrapped lines":           wrap(key.Encode(), 10, "\r\n"),
		"spaces and tabs":         " " + wrap(key.Encode(), 7, " \t") + "\n",
	} {
		got, err := ParsePrivateKey(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !got.Equal(key) || !got.PublicKey().Equal(key.PublicKey()) {
			t.Errorf("%s: parsed a different key", name)
		}
	}
}

func wrap(s string, n int, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		b.WriteString(s[i:min(i+n, len(s))])
		b.WriteString(sep)
	}
	return b.String()
}

func TestParsePrivateKeyErrors(t *testing.T) {
	enc := func(b ...byte) string { return base64.StdEncoding.EncodeToString(b) }
	n := curveN.Bytes()
	nPlus1 := new(big.Int).Add(curveN, big.NewInt(1)).Bytes()
	tooLong := make([]byte, 34)
	tooLong[33] = 1
	thirtyThree := make([]byte, 33)
	thirtyThree[0], thirtyThree[32] = 1, 1
	for _, c := range []struct {
		name, in, want string
		base64         bool
	}{
		{"bad base64", "not base64!", "illegal base64", true},
		{"url-safe", strings.ReplaceAll(strings.ReplaceAll(enc(0x0f, 0xfb, 0xff), "+", "-"), "/", "_"), "illegal base64", true},
		{"unpadded", "AQ", "illegal base64", true},
		{"empty", "", "empty", false},
		{"negative", enc(0x80, 1, 2, 3), "negative", false},
		{"zero", enc(0), "[1, n-1]", false},
		{"n", enc(n...), "[1, n-1]", false},
		{"n+1", enc(nPlus1...), "[1, n-1]", false},
		{"34 bytes", enc(tooLong...), "at most 33", false},
		{"33 bytes without sign byte", enc(thirtyThree...), "not below", false},
	} {
		_, err := ParsePrivateKey(c.in)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrInvalidBase64) != c.base64 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want ErrInvalidKey (base64: %v) mentioning %q", c.name, err, c.base64, c.want)
		}
	}
}

func TestParsePublicKeyForms(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey()
	raw := pub.Bytes()
	compressed := append([]byte{2 | raw[64]&1}, raw[1:33]...)
	named, err := asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmIdentifier{Algorithm: oidECPublicKey, Parameters: oidRaw(t, oidCurve25519)},
		PublicKey: asn1.BitString{Bytes: raw, BitLength: 520},
	})
	if err != nil {
		t.Fatal(err)
	}
	namedCompressed, err := asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmIdentifier{Algorithm: oidECPublicKey, Parameters: oidRaw(t, oidCurve25519)},
		PublicKey: asn1.BitString{Bytes: compressed, BitLength: 264},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another library might write the explicit parameters with -G.
	negG := explicitParametersWith(t, func(p *ecParameters) {
		y := new(big.Int).Sub(curveP, curveGy)
		y.FillBytes(p.Base[33:])
		p.Cofactor = 0
	})
	withNegG, err := asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: negG}},
		PublicKey: asn1.BitString{Bytes: raw, BitLength: 520},
	})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	// The reference notes quote one more character, but that one already
	// depends on the top bits of X.
	if len(named) != 93 || !strings.HasPrefix(b64(named), "MFswFQYHKoZIzj0CAQYKKwYBBAGXVQEFAQNCAA") {
		t.Errorf("named-curve SPKI = %s (%d bytes), want the 93-byte form the reference notes describe", b64(named), len(named))
	}
	for name, s := range map[string]string{
		"raw":                   pub.Raw(),
		"x509 explicit":         pub.X509(),
		"x509 named curve":      b64(named),
		"x509 named compressed": b64(namedCompressed),
		"x509 base point -G":    b64(withNegG),
		"raw compressed":        b64(compressed),
		"x509 wrapped":          wrap(pub.X509(), 64, "\n"),
	} {
		got, err := ParsePublicKey(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !got.Equal(pub) {
			t.Errorf("%s: parsed a different point", name)
		}
	}
	if len(pub.Raw()) != 88 || len(pub.X509()) != 412 {
		t.Errorf("encoded lengths %d and %d, want 88 and 412", len(pub.Raw()), len(pub.X509()))
	}
}

func oidRaw(t *testing.T, oid asn1.ObjectIdentifier) asn1.RawValue {
	t.Helper()
	der, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	return asn1.RawValue{FullBytes: der}
}

func explicitParametersWith(t *testing.T, change func(*ecParameters)) []byte {
	t.Helper()
	var p ecParameters
	if _, err := asn1.Unmarshal(explicitParameters(), &p); err != nil {
		t.Fatal(err)
	}
	change(&p)
	der, err := asn1.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParsePublicKeyErrors(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	raw := key.PublicKey().Bytes()
	b64 := base64.StdEncoding.EncodeToString
	spki := func(params []byte, point []byte) string {
		der, err := asn1.Marshal(subjectPublicKeyInfo{
			Algorithm: algorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}},
			PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return b64(der)
	}
	offCurve := bytes.Clone(raw)
	offCurve[64] ^= 1
	bigX := bytes.Clone(raw)
	copy(bigX[1:33], bytes.Repeat([]byte{0xff}, 32))
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256DER, err := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	otherOID := oidRaw(t, asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
	wrongOrder := explicitParametersWith(t, func(p *ecParameters) { p.Order = new(big.Int).Add(curveN, big.NewInt(2)) })
	wrongA := explicitParametersWith(t, func(p *ecParameters) { p.Curve.A[31] ^= 1 })
	wrongBase := explicitParametersWith(t, func(p *ecParameters) { copy(p.Base[1:], raw[1:]) })
	for _, c := range []struct{ name, in, want string }{
		{"bad base64", "BAB*", "illegal base64"},
		{"64-byte raw", b64(raw[1:]), "drop a leading zero"},
		{"bare X25519", b64(raw[1:33]), "X25519"},
		{"empty", "", "0 bytes"},
		{"off curve", b64(offCurve), "not on curve25519"},
		{"x not below p", b64(bigX), "not below p"},
		{"compressed not on curve", b64(append([]byte{2}, bytes.Repeat([]byte{0x7f}, 32)...)), ""},
		{"P-256 key", b64(p256DER), "not curve25519"},
		{"other named curve", spki(otherOID.FullBytes, raw), "not curve25519"},
		{"wrong order", spki(wrongOrder, raw), "order"},
		{"wrong a", spki(wrongA, raw), "a and b"},
		{"wrong base point", spki(wrongBase, raw), "generator"},
		{"trailing data", b64(append(mustDecode(t, key.PublicKey().X509()), 0)), "trailing"},
		{"x509 off-curve point", spki(explicitParameters(), offCurve), "not on curve25519"},
		{"x509 64-byte point", spki(explicitParameters(), raw[1:]), "64 bytes"},
	} {
		_, err := ParsePublicKey(c.in)
		if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want ErrInvalidKey mentioning %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", c.name, err)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSmallOrderPoints checks the reference's cofactor handling: a point of
// order 2 is rejected, and adding it to a peer key changes nothing.
func TestSmallOrderPoints(t *testing.T) {
	// Montgomery (0, 0) has order 2; its Weierstrass image is (A/3, 0).
	t2 := &affinePoint{limbsToBig(limbsDelta), big.NewInt(0)}
	if !onCurve(t2.x, t2.y) || t2.double() != nil {
		t.Fatal("(A/3, 0) is not a point of order 2")
	}
	order2, err := newPublicKey(t2.x, t2.y)
	if err != nil {
		t.Fatal(err)
	}
	own, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	fallback, err := ParsePrivateKey(base64.StdEncoding.EncodeToString([]byte{8}))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	q := &affinePoint{new(big.Int).SetBytes(peer.pub.x[:]), new(big.Int).SetBytes(peer.pub.y[:])}
	mixed := q.add(t2)
	mixedKey, err := newPublicKey(mixed.x, mixed.y)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*PrivateKey{"x25519": own, "fallback": fallback} {
		if _, err := k.ECDH(order2); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: ECDH with an order-2 point: err = %v, want ErrInvalidKey", name, err)
		}
		clean, err := k.ECDH(peer.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		dirty, err := k.ECDH(mixedKey)
		if err != nil {
			t.Fatalf("%s: ECDH with Q + T2: %v", name, err)
		}
		if !bytes.Equal(clean, dirty) {
			t.Errorf("%s: ECDH(Q + T2) = %x, ECDH(Q) = %x; the reference clears the cofactor", name, dirty, clean)
		}
	}
}

func TestGeneratedKeysMatchWeierstrass(t *testing.T) {
	g := &affinePoint{curveGx, curveGy}
	for range 20 {
		key, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		want := scalarMult(new(big.Int).SetBytes(key.d[:]), g)
		if new(big.Int).SetBytes(key.pub.x[:]).Cmp(want.x) != 0 || new(big.Int).SetBytes(key.pub.y[:]).Cmp(want.y) != 0 {
			t.Fatalf("generated public key is not d·G")
		}
		again, err := ParsePrivateKey(key.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if !again.Equal(key) || !again.PublicKey().Equal(key.PublicKey()) {
			t.Fatalf("Encode/ParsePrivateKey changed the key")
		}
		// The re-parsed key must find the very same X25519 scalar.
		if !bytes.Equal(again.x.Bytes(), key.x.Bytes()) {
			t.Fatalf("re-parsed key uses a different X25519 scalar")
		}
	}
}

func TestPrivateKeyNeverPrinted(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "k", key)
	secret := key.Encode()
	for _, s := range []string{fmt.Sprint(key), fmt.Sprintf("%v %+v %#v %s", key, key, key, key), logged.String()} {
		if strings.Contains(s, secret) || !strings.Contains(s, "REDACTED") {
			t.Errorf("printing the key gave %q", s)
		}
	}
}

func TestNonce(t *testing.T) {
	a, b := NewNonce(), NewNonce()
	if a == b {
		t.Fatal("two fresh nonces are equal")
	}
	got, err := ParseNonce(a.String())
	if err != nil || got != a {
		t.Fatalf("ParseNonce(String()) = %v, %v", got, err)
	}
	if len(a.String()) != 44 {
		t.Errorf("nonce encodes to %d characters, want 44", len(a.String()))
	}
	for name, s := range map[string]string{
		"uuid":     "8f7b3cbe-4a5e-4c3a-9d47-3c2d8a4a1b2c",
		"16 bytes": base64.StdEncoding.EncodeToString(a[:16]),
		"empty":    "",
	} {
		_, err := ParseNonce(s)
		if !errors.Is(err, ErrInvalidNonce) {
			t.Errorf("%s: err = %v, want ErrInvalidNonce", name, err)
		}
	}
}
