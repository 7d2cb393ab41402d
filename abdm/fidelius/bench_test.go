package fidelius

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
)

// Run with: go test -run '^$' -bench . ./abdm/fidelius/
//
// MB/s of BenchmarkEncrypt and BenchmarkDecrypt (whole Fidelius: key
// agreement, HKDF, AES-256-GCM and base64) compare directly with
// BenchmarkAESGCM on the same sizes. The design target is Fidelius within 2x
// of plain AES-GCM at 10 MB.

var benchSizes = []int{1 << 20, 10 << 20}

func sizeName(n int) string { return fmt.Sprintf("%dMB", n>>20) }

type benchSetup struct {
	sender, requester *PrivateKey
	sn, rn            Nonce
	plaintext         []byte
}

func newBenchSetup(b *testing.B, size int) benchSetup {
	b.Helper()
	s := benchSetup{sender: newKey(b), requester: newKey(b), sn: NewNonce(), rn: NewNonce(), plaintext: make([]byte, size)}
	if _, err := rand.Read(s.plaintext); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkEncrypt(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			s := newBenchSetup(b, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encrypt(s.sender, s.requester.PublicKey(), s.sn, s.rn, s.plaintext); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			s := newBenchSetup(b, size)
			ct, err := Encrypt(s.sender, s.requester.PublicKey(), s.sn, s.rn, s.plaintext)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decrypt(s.requester, s.sender.PublicKey(), s.sn, s.rn, ct); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAESGCM is the baseline: AES-256-GCM alone on raw bytes, output
// allocated per call, as a plain caller would.
func BenchmarkAESGCM(b *testing.B) {
	key := make([]byte, 32)
	iv := make([]byte, ivSize)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range benchSizes {
		data := make([]byte, size)
		sealed := aead.Seal(nil, iv, data, nil)
		b.Run("Seal/"+sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				aead.Seal(nil, iv, data, nil)
			}
		})
		b.Run("Open/"+sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := aead.Open(nil, iv, sealed, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeyAgreement measures one ECDH with a parsed peer key; see the
// agreements/s metric.
func BenchmarkKeyAgreement(b *testing.B) {
	own, peer := newKey(b), newKey(b)
	for b.Loop() {
		if _, err := own.ECDH(peer.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "agreements/s")
}

// BenchmarkKeyAgreementFromWire adds what a receiver does per push: parse
// the X.509 key from keyMaterial, then agree.
func BenchmarkKeyAgreementFromWire(b *testing.B) {
	own, peer := newKey(b), newKey(b)
	x509Key := peer.PublicKey().X509()
	for b.Loop() {
		pub, err := ParsePublicKey(x509Key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := own.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "agreements/s")
}

func BenchmarkGenerateKey(b *testing.B) {
	for b.Loop() {
		if _, err := GenerateKey(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBase64 shows where the rest of the time goes: the ciphertext's
// base64, ours against encoding/base64 (MB/s of raw bytes).
func BenchmarkBase64(b *testing.B) {
	const size = 10 << 20
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	text := base64.StdEncoding.EncodeToString(data)
	b.Run("Encode/10MB", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			encodeBase64(data)
		}
	})
	b.Run("Decode/10MB", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := decodeBase64(text); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("StdlibEncode/10MB", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			base64.StdEncoding.EncodeToString(data)
		}
	})
	b.Run("StdlibDecode/10MB", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := base64.StdEncoding.DecodeString(text); err != nil {
				b.Fatal(err)
			}
		}
	})
}
