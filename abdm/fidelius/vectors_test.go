package fidelius

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/sangamhealth/sangam/sharedtest"
	"math/big"
	"os"
	"strings"
	"testing"
)

// The vectors were produced by the Java reference (mgrmtech/fidelius-cli on
// BouncyCastle); see ../shared/reference/fidelius.md §11.

type vectorFile struct {
	Vectors []vector `json:"vectors"`
}

type vectorKey struct {
	PrivateKey    string `json:"privateKey"`
	DecodedLen    int    `json:"privateKey_decoded_len"`
	ScalarHex     string `json:"privateKey_scalar_hex"`
	PublicKey     string `json:"publicKey"`
	XHex          string `json:"publicKey_x_hex"`
	YHex          string `json:"publicKey_y_hex"`
	X509PublicKey string `json:"x509PublicKey"`
}

type vector struct {
	ID             string    `json:"id"`
	ExpectedResult string    `json:"expected_result"`
	Sender         vectorKey `json:"sender"`
	Requester      vectorKey `json:"requester"`
	SenderNonce    string    `json:"senderNonce"`
	RequesterNonce string    `json:"requesterNonce"`
	Plaintext      string    `json:"plaintext"`
	PlaintextLen   int       `json:"plaintext_utf8_len"`
	PlaintextSHA   string    `json:"plaintext_utf8_sha256"`
	Intermediate   struct {
		XorHex       string `json:"xorOfNonces_hex"`
		SaltHex      string `json:"hkdf_salt_hex"`
		IVHex        string `json:"aes_gcm_iv_hex"`
		SecretBase64 string `json:"sharedSecret_base64"`
		SecretHex    string `json:"sharedSecret_hex"`
		AES256KeyHex string `json:"aes256_key_hex"`
	} `json:"intermediate"`
	EncryptUsedRequesterKey string `json:"encrypt_used_requester_key"`
	DecryptUsedSenderKey    string `json:"decrypt_used_sender_key"`
	Ciphertext              string `json:"ciphertext"`
	CiphertextLen           int    `json:"ciphertext_len"`
	TagHex                  string `json:"gcm_tag_hex"`
}

func (v vector) positive() bool { return v.ExpectedResult == "decrypts" }

// loadVectors reads ../shared/testdata/fidelius/vectors.json relative to the
// repository root, skipping the test when the shared directory is absent.
func loadVectors(t testing.TB) []vector {
	t.Helper()
	path := sharedtest.Path(t, "fidelius", "vectors.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s has no vectors", path)
	}
	for _, v := range f.Vectors {
		if !v.positive() && !strings.HasPrefix(v.ExpectedResult, "authentication failure") {
			t.Fatalf("%s: unknown expected_result %q", v.ID, v.ExpectedResult)
		}
	}
	return f.Vectors
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// form returns the vector key's public key in the named form.
func (k vectorKey) form(t testing.TB, name string) string {
	t.Helper()
	switch name {
	case "publicKey":
		return k.PublicKey
	case "x509PublicKey":
		return k.X509PublicKey
	}
	t.Fatalf("unknown key form %q", name)
	return ""
}

// checkVectorKey checks that we read and re-emit a reference key pair
// exactly, and that the public key really is d·G on BouncyCastle's curve.
func checkVectorKey(t *testing.T, name string, vk vectorKey) *PrivateKey {
	t.Helper()
	priv, err := ParsePrivateKey(vk.PrivateKey)
	if err != nil {
		t.Fatalf("%s: ParsePrivateKey: %v", name, err)
	}
	if got := priv.Encode(); got != vk.PrivateKey {
		t.Errorf("%s: Encode() = %q, want %q", name, got, vk.PrivateKey)
	}
	if got := hex.EncodeToString(priv.d[:]); strings.TrimLeft(got, "0") != strings.TrimLeft(vk.ScalarHex, "0") {
		t.Errorf("%s: scalar = %s, want %s", name, got, vk.ScalarHex)
	}
	pub := priv.PublicKey()
	if got := pub.Raw(); got != vk.PublicKey {
		t.Errorf("%s: derived raw public key = %s, want %s", name, got, vk.PublicKey)
	}
	if got := pub.X509(); got != vk.X509PublicKey {
		t.Errorf("%s: derived X.509 public key = %s, want %s", name, got, vk.X509PublicKey)
	}
	if got, want := hex.EncodeToString(pub.x[:]), vk.XHex; got != want {
		t.Errorf("%s: X = %s, want %s", name, got, want)
	}
	if got, want := hex.EncodeToString(pub.y[:]), vk.YHex; got != want {
		t.Errorf("%s: Y = %s, want %s", name, got, want)
	}
	for _, form := range []string{vk.PublicKey, vk.X509PublicKey} {
		parsed, err := ParsePublicKey(form)
		if err != nil {
			t.Fatalf("%s: ParsePublicKey(%.20s…): %v", name, form, err)
		}
		if !parsed.Equal(pub) {
			t.Errorf("%s: parsed %.20s… differs from the derived public key", name, form)
		}
	}
	// Independent of crypto/ecdh and recoverY: plain Weierstrass d·G.
	d := new(big.Int).SetBytes(mustHex(t, vk.ScalarHex))
	p := scalarMult(d, &affinePoint{curveGx, curveGy})
	if want := new(big.Int).SetBytes(mustHex(t, vk.XHex)); p.x.Cmp(want) != 0 {
		t.Errorf("%s: d·G x = %x, want %x", name, p.x, want)
	}
	if want := new(big.Int).SetBytes(mustHex(t, vk.YHex)); p.y.Cmp(want) != 0 {
		t.Errorf("%s: d·G y = %x, want %x", name, p.y, want)
	}
	return priv
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			sender := checkVectorKey(t, "sender", v.Sender)
			requester := checkVectorKey(t, "requester", v.Requester)
			senderNonce, err := ParseNonce(v.SenderNonce)
			if err != nil {
				t.Fatal(err)
			}
			requesterNonce, err := ParseNonce(v.RequesterNonce)
			if err != nil {
				t.Fatal(err)
			}
			if senderNonce.String() != v.SenderNonce || requesterNonce.String() != v.RequesterNonce {
				t.Errorf("nonces do not re-encode to themselves")
			}
			if !v.positive() {
				checkTampered(t, v, requester, senderNonce, requesterNonce)
				return
			}

			// Intermediate values, in both directions.
			wantSecret := mustHex(t, v.Intermediate.SecretHex)
			if len(wantSecret) != 32 {
				t.Fatalf("vector secret is %d bytes", len(wantSecret))
			}
			for _, dir := range []struct {
				name string
				own  *PrivateKey
				peer *PublicKey
			}{
				{"sender", sender, requester.PublicKey()},
				{"requester", requester, sender.PublicKey()},
			} {
				secret, err := dir.own.ECDH(dir.peer)
				if err != nil {
					t.Fatalf("%s ECDH: %v", dir.name, err)
				}
				if !bytes.Equal(secret, wantSecret) {
					t.Errorf("%s ECDH = %x, want %x", dir.name, secret, wantSecret)
				}
				if got := base64.StdEncoding.EncodeToString(secret); got != v.Intermediate.SecretBase64 {
					t.Errorf("%s ECDH base64 = %s, want %s", dir.name, got, v.Intermediate.SecretBase64)
				}
			}
			key, iv, err := deriveKey(wantSecret, senderNonce, requesterNonce)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := hex.EncodeToString(key), v.Intermediate.AES256KeyHex; got != want {
				t.Errorf("AES key = %s, want %s", got, want)
			}
			if got, want := hex.EncodeToString(iv[:]), v.Intermediate.IVHex; got != want {
				t.Errorf("IV = %s, want %s", got, want)
			}
			xor := mustHex(t, v.Intermediate.XorHex)
			if want := mustHex(t, v.Intermediate.SaltHex); !bytes.Equal(xor[:saltSize], want) {
				t.Errorf("vector salt %x is not xor[0:20] of %x", want, xor)
			}

			// Encrypt with the requester key form the reference used, and
			// with the other form too: the result must not depend on it.
			wantCT := v.Ciphertext
			for _, form := range []string{v.EncryptUsedRequesterKey, "publicKey", "x509PublicKey"} {
				pub, err := ParsePublicKey(v.Requester.form(t, form))
				if err != nil {
					t.Fatal(err)
				}
				got, err := Encrypt(sender, pub, senderNonce, requesterNonce, []byte(v.Plaintext))
				if err != nil {
					t.Fatalf("Encrypt with requester %s: %v", form, err)
				}
				if got != wantCT {
					t.Errorf("Encrypt with requester %s = %s, want %s", form, got, wantCT)
				}
			}
			raw, _ := base64.StdEncoding.DecodeString(wantCT)
			if len(raw) != v.CiphertextLen || hex.EncodeToString(raw[len(raw)-tagSize:]) != v.TagHex {
				t.Errorf("vector ciphertext length/tag inconsistent with its metadata")
			}

			for _, form := range []string{v.DecryptUsedSenderKey, "publicKey", "x509PublicKey"} {
				pub, err := ParsePublicKey(v.Sender.form(t, form))
				if err != nil {
					t.Fatal(err)
				}
				got, err := Decrypt(requester, pub, senderNonce, requesterNonce, wantCT)
				if err != nil {
					t.Fatalf("Decrypt with sender %s: %v", form, err)
				}
				if string(got) != v.Plaintext {
					t.Errorf("Decrypt with sender %s = %q, want %q", form, got, v.Plaintext)
				}
				sum := sha256.Sum256(got)
				if len(got) != v.PlaintextLen || hex.EncodeToString(sum[:]) != v.PlaintextSHA {
					t.Errorf("decrypted %d bytes with sha256 %x, want %d bytes %s", len(got), sum, v.PlaintextLen, v.PlaintextSHA)
				}
			}

			// With two 32-byte nonces the XOR is symmetric, so swapping
			// them must not matter; any other change must.
			if got, err := Decrypt(requester, sender.PublicKey(), requesterNonce, senderNonce, wantCT); err != nil || string(got) != v.Plaintext {
				t.Errorf("Decrypt with swapped nonces = %q, %v; want the plaintext", got, err)
			}
			otherNonce := senderNonce
			otherNonce[0] ^= 1
			if _, err := Decrypt(requester, sender.PublicKey(), otherNonce, requesterNonce, wantCT); !errors.Is(err, ErrAuthentication) {
				t.Errorf("Decrypt with a changed nonce: err = %v, want ErrAuthentication", err)
			}
			if _, err := Decrypt(sender, sender.PublicKey(), senderNonce, requesterNonce, wantCT); !errors.Is(err, ErrAuthentication) {
				t.Errorf("Decrypt with the wrong key pair: err = %v, want ErrAuthentication", err)
			}
			// Every single-bit flip and every truncation of a short
			// ciphertext must fail.
			for i := range len(raw) * 8 {
				if len(raw) > 300 && i%97 != 0 {
					continue
				}
				bad := bytes.Clone(raw)
				bad[i/8] ^= 1 << (i % 8)
				if got, err := Decrypt(requester, sender.PublicKey(), senderNonce, requesterNonce, base64.StdEncoding.EncodeToString(bad)); !errors.Is(err, ErrAuthentication) || got != nil {
					t.Fatalf("bit %d flipped: got %q, %v; want ErrAuthentication", i, got, err)
				}
			}
			for n := range len(raw) {
				if got, err := Decrypt(requester, sender.PublicKey(), senderNonce, requesterNonce, base64.StdEncoding.EncodeToString(raw[:n])); !errors.Is(err, ErrAuthentication) || got != nil {
					t.Fatalf("truncated to %d bytes: got %q, %v; want ErrAuthentication", n, got, err)
				}
			}
		})
	}
}

func checkTampered(t *testing.T, v vector, requester *PrivateKey, senderNonce, requesterNonce Nonce) {
	t.Helper()
	for _, form := range []string{v.Sender.PublicKey, v.Sender.X509PublicKey} {
		pub, err := ParsePublicKey(form)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decrypt(requester, pub, senderNonce, requesterNonce, v.Ciphertext)
		if !errors.Is(err, ErrAuthentication) {
			t.Errorf("Decrypt = %v, want ErrAuthentication", err)
		}
		if got != nil {
			t.Errorf("Decrypt returned %d bytes of plaintext alongside the error", len(got))
		}
	}
}

// TestX509Prefix pins the constant 244-byte part of the reference's X.509
// encoding (§3.3 of the reference notes; the hex printed there has one "ff"
// too many in p, 245 bytes, while the vectors' keys are 309 = 244 + 65).
func TestX509Prefix(t *testing.T) {
	const prefix = "308201313081ea06072a8648ce3d02013081de020101302b06072a8648ce3d01010220" +
		"7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed" + // p
		"3044" + "0420" + "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa984914a144" + // a
		"0420" + "7b425ed097b425ed097b425ed097b425ed097b425ed097b4260b5e9c7710c864" + // b
		"044104" + "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad245a" + // G
		"20ae19a1b8a086b4e01edd2c7748d14c923d4d7e6d7c61b229e9c5a27eced3d9" +
		"0220" + "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed" + // n
		"020108" + "034200" // cofactor 8, then the BIT STRING holding the point
	if len(prefix) != 2*244 {
		t.Fatalf("prefix constant is %d bytes", len(prefix)/2)
	}
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(key.PublicKey().X509())
	if err != nil {
		t.Fatal(err)
	}
	if len(der) != 309 {
		t.Errorf("X.509 key is %d bytes, want 309", len(der))
	}
	if got := hex.EncodeToString(der); !strings.HasPrefix(got, prefix) || got[len(prefix):] != hex.EncodeToString(key.PublicKey().Bytes()) {
		t.Errorf("X.509 key = %s\nwant prefix %s followed by the raw point", got, prefix)
	}
}
