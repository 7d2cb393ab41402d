package fidelius

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"testing"
)

// keyShape records the encoding features that broke other ports.
type keyShape struct {
	shortPrivate bool // d encodes to fewer than 32 bytes
	signByte     bool // d encodes with a leading 0x00 sign byte
	xZero, yZero bool // a public coordinate starts with a 0x00 byte
}

func shapeOf(t testing.TB, k *PrivateKey) keyShape {
	t.Helper()
	enc, err := base64.StdEncoding.DecodeString(k.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return keyShape{
		shortPrivate: len(enc) < 32,
		signByte:     enc[0] == 0,
		xZero:        k.pub.x[0] == 0,
		yZero:        k.pub.y[0] == 0,
	}
}

// findKey generates keys until one has the wanted shape. Each shape turns up
// about once in 32 to 128 keys, so the bound is never reached by chance.
func findKey(t testing.TB, name string, want func(keyShape) bool) *PrivateKey {
	t.Helper()
	for range 20000 {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if want(shapeOf(t, k)) {
			return k
		}
	}
	t.Fatalf("no generated key with %s after 20000 tries", name)
	return nil
}

// foreignKey imports a uniformly random scalar, as another implementation
// (BouncyCastle included) would generate it; top, if non-zero, bounds it to
// force short encodings.
func foreignKey(t testing.TB, top *big.Int) *PrivateKey {
	t.Helper()
	if top == nil {
		top = curveN
	}
	for {
		d, err := rand.Int(rand.Reader, top)
		if err != nil {
			t.Fatal(err)
		}
		if d.Sign() == 0 {
			continue
		}
		k, err := ParsePrivateKey(base64.StdEncoding.EncodeToString(javaBytes(d)))
		if err != nil {
			t.Fatalf("importing scalar %x: %v", d, err)
		}
		return k
	}
}

// TestRoundTrips encrypts and decrypts with fresh keys on both sides, in
// both public-key forms, and makes sure the leading-zero cases that broke
// other ports are among them.
func TestRoundTrips(t *testing.T) {
	n := 10000
	if testing.Short() || raceEnabled {
		n = 1000
	}

	// Deliberately constructed cases first, so they are covered even in
	// -short mode; the random ones below hit them again on their own.
	special := []*PrivateKey{
		findKey(t, "X starting with 0x00", func(s keyShape) bool { return s.xZero }),
		findKey(t, "Y starting with 0x00", func(s keyShape) bool { return s.yZero }),
		findKey(t, "a private key shorter than 32 bytes", func(s keyShape) bool { return s.shortPrivate }),
		findKey(t, "a private key with a sign byte", func(s keyShape) bool { return s.signByte }),
		foreignKey(t, new(big.Int).Lsh(big.NewInt(1), 230)), // 29 bytes or fewer
		foreignKey(t, nil),
	}
	zeroSecretPeer, zeroSecretKey := findZeroSecret(t)

	type counts struct {
		shortPrivate, signByte, xZero, yZero, zeroSecret, foreign, independent int
	}
	var got counts
	g := &affinePoint{curveGx, curveGy}
	pt := make([]byte, 600)
	for i := range n {
		var sender, requester *PrivateKey
		switch {
		case i < len(special):
			sender, requester = special[i], newKey(t)
		case i < 2*len(special):
			sender, requester = newKey(t), special[i-len(special)]
		case i == 2*len(special):
			sender, requester = zeroSecretKey, zeroSecretPeer
		case i%7 == 0:
			sender, requester = foreignKey(t, nil), newKey(t)
			got.foreign++
		case i%11 == 0:
			// A stored key, read back the way an HIU would before decrypting.
			stored := newKey(t)
			var err error
			requester, err = ParsePrivateKey(stored.Encode())
			if err != nil {
				t.Fatal(err)
			}
			sender = newKey(t)
		default:
			sender, requester = newKey(t), newKey(t)
		}
		for _, k := range []*PrivateKey{sender, requester} {
			s := shapeOf(t, k)
			got.shortPrivate += b2i(s.shortPrivate)
			got.signByte += b2i(s.signByte)
			got.xZero += b2i(s.xZero)
			got.yZero += b2i(s.yZero)
		}

		// The HIU sends its raw key, the HIP its X.509 key; swap every
		// other time so both forms go both ways.
		requesterPub, senderPub := requester.PublicKey().Raw(), sender.PublicKey().X509()
		if i%2 == 1 {
			requesterPub, senderPub = requester.PublicKey().X509(), sender.PublicKey().Raw()
		}
		rpub, err := ParsePublicKey(requesterPub)
		if err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
		spub, err := ParsePublicKey(senderPub)
		if err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
		secret, err := sender.ECDH(rpub)
		if err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
		zero := secret[0] == 0
		got.zeroSecret += b2i(zero)

		// Cross-check against plain Weierstrass arithmetic for every
		// leading-zero secret and a sample of the rest (it is slow).
		if zero || i < 2*len(special) || i%500 == 0 {
			d := new(big.Int).SetBytes(sender.d[:])
			q := &affinePoint{new(big.Int).SetBytes(rpub.x[:]), new(big.Int).SetBytes(rpub.y[:])}
			if want := scalarMult(d, q).x.FillBytes(make([]byte, 32)); !bytes.Equal(secret, want) {
				t.Fatalf("round trip %d: secret %x, want x(d·Q) = %x", i, secret, want)
			}
			if p := scalarMult(d, g); new(big.Int).SetBytes(sender.pub.y[:]).Cmp(p.y) != 0 {
				t.Fatalf("round trip %d: sender public key is not d·G", i)
			}
			got.independent++
		}

		msg := pt[:i%len(pt)]
		if _, err := rand.Read(msg); err != nil {
			t.Fatal(err)
		}
		sn, rn := NewNonce(), NewNonce()
		ct, err := Encrypt(sender, rpub, sn, rn, msg)
		if err != nil {
			t.Fatalf("round trip %d: Encrypt: %v", i, err)
		}
		back, err := Decrypt(requester, spub, sn, rn, ct)
		if err != nil {
			t.Fatalf("round trip %d: Decrypt: %v", i, err)
		}
		if !bytes.Equal(back, msg) {
			t.Fatalf("round trip %d: got %x, want %x", i, back, msg)
		}
	}
	t.Logf("%d round trips: %+v", n, got)
	for name, c := range map[string]int{
		"private key shorter than 32 bytes": got.shortPrivate,
		"private key with sign byte":        got.signByte,
		"public X starting with 0x00":       got.xZero,
		"public Y starting with 0x00":       got.yZero,
		"shared secret starting with 0x00":  got.zeroSecret,
	} {
		if c == 0 {
			t.Errorf("no round trip had a %s", name)
		}
	}
}

// findZeroSecret returns a key pair whose shared secret starts with 0x00
// (about one pair in 128).
func findZeroSecret(t testing.TB) (peer, key *PrivateKey) {
	t.Helper()
	peer = newKey(t)
	for range 20000 {
		k := newKey(t)
		s, err := k.ECDH(peer.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if s[0] == 0 {
			return peer, k
		}
	}
	t.Fatal("no shared secret starting with 0x00 after 20000 tries")
	return nil, nil
}

func newKey(t testing.TB) *PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
