package hcx_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/claims/hcx"
)

// TestSwasthVector decrypts the compact JWE from the Swasth Java SDK 1.0.8
// README (made by Nimbus) with the SDK's published test key.
func TestSwasthVector(t *testing.T) {
	compact := interopFile(t, "swasth-java-sdk-readme-sample.jwe")
	keyPEM := interopFile(t, "swasth-java-sdk-PUBLIC-TEST-private-key.pem")
	certPEM := interopFile(t, "swasth-java-sdk-PUBLIC-TEST-certificate.pem")
	wantPlain := interopFile(t, "swasth-java-sdk-readme-sample.decrypted.json")

	key, err := hcx.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatalf("reading the SDK's PKCS#8 key: %v", err)
	}
	cert, err := hcx.ParsePublicKey(certPEM)
	if err != nil {
		t.Fatalf("reading the SDK's certificate: %v", err)
	}
	if !cert.Public.Equal(&key.PublicKey) {
		t.Error("the SDK's certificate does not hold the public half of its private key")
	}
	if !cert.Expired(time.Now()) {
		t.Errorf("the SDK's certificate (NotAfter %v) should be expired", cert.Certificate.NotAfter)
	}

	msg, err := hcx.Open(string(compact), key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if msg.Algorithm != "RSA-OAEP-256" {
		t.Errorf("algorithm: got %q, want RSA-OAEP-256", msg.Algorithm)
	}

	// The file next to the vector is the plaintext pretty-printed; the
	// SDK's plaintext is compact, so they are compared as JSON values.
	var got, want any
	if err := json.Unmarshal(msg.Payload, &got); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	if err := json.Unmarshal(wantPlain, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payload differs from the vector's decrypted.json (-want +got):\n%s", diff)
	}

	wantHeaders := hcx.Headers{
		SenderCode:    "testprovider1.apollo@swasth-hcx-dev",
		RecipientCode: "testprovider1.apollo@swasth-hcx-dev",
		APICallID:     "1e1797bd-dbed-4192-b0c9-cef772724be5",
		CorrelationID: "d4f56d79-4908-4a99-a8dd-a3b733fde8d6",
		Timestamp:     "2022-10-27T11:07:48+0530",
	}
	if diff := cmp.Diff(wantHeaders, msg.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	var protected map[string]string
	if err := json.Unmarshal(msg.Protected, &protected); err != nil {
		t.Fatalf("protected header: %v", err)
	}
	if protected["alg"] != "RSA-OAEP-256" || protected["enc"] != "A256GCM" || len(protected) != 7 {
		t.Errorf("protected header: got %v, want alg, enc and five x-hcx-* members", protected)
	}
	ts, err := msg.Headers.Time()
	if err != nil || !ts.Equal(time.Date(2022, 10, 27, 5, 37, 48, 0, time.UTC)) {
		t.Errorf("timestamp: got %v, %v; want 2022-10-27 05:37:48 UTC", ts, err)
	}

	// The headers are readable without the key.
	h, raw, err := hcx.ReadHeaders(string(compact))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantHeaders, h); diff != "" {
		t.Errorf("ReadHeaders (-want +got):\n%s", diff)
	}
	if !bytes.Equal(raw, msg.Protected) {
		t.Error("ReadHeaders and Open disagree about the protected header")
	}
}

func fullHeaders() hcx.Headers {
	h := hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "12", time.Now())
	h.BenABHAID = "91123456789012"
	h.ErrorDetails = &hcx.Details{Code: "ERR_DOMAIN_PROCESSING", Message: "something", Trace: "at x"}
	h.DebugFlag = "Info"
	h.Extra = map[string]json.RawMessage{"x-hcx-preauth-priority": json.RawMessage(`{"level":2}`)}
	return h
}

func TestSealOpenRoundTrip(t *testing.T) {
	payer := rsaKey(t, "payer")
	h := fullHeaders()
	payload := []byte(`{"resourceType":"Bundle","type":"collection","note":"<b>&</b>"}`)

	compact, err := hcx.Seal(payload, h, &payer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(compact, "."); n != 4 {
		t.Fatalf("compact JWE has %d dots, want 4", n)
	}
	msg, err := hcx.Open(compact, payer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg.Payload, payload) {
		t.Errorf("payload: got %s, want %s", msg.Payload, payload)
	}
	if diff := cmp.Diff(h, msg.Headers); diff != "" {
		t.Errorf("headers (-sent +opened):\n%s", diff)
	}

	// The protected header holds alg, enc and the x-hcx-* headers, nothing
	// else (NHA's schema has no kid, typ or cty).
	var protected map[string]json.RawMessage
	if err := json.Unmarshal(msg.Protected, &protected); err != nil {
		t.Fatal(err)
	}
	for k := range protected {
		if k != "alg" && k != "enc" && !strings.HasPrefix(k, "x-hcx-") {
			t.Errorf("protected header has %q", k)
		}
	}
	if string(protected["alg"]) != `"RSA-OAEP-256"` || string(protected["enc"]) != `"A256GCM"` {
		t.Errorf("alg/enc: got %s/%s", protected["alg"], protected["enc"])
	}
	if string(protected["x-hcx-error_details"]) == "" || !json.Valid(protected["x-hcx-error_details"]) {
		t.Errorf("error_details should be a nested object, got %s", protected["x-hcx-error_details"])
	}

	// Every message is sealed afresh: same input, different ciphertext.
	again, err := hcx.Seal(payload, h, &payer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if again == compact {
		t.Error("two seals of the same message are identical")
	}
}

func TestOpenAcceptsRSAOAEP(t *testing.T) {
	payer := rsaKey(t, "payer")
	opts := (&jose.EncrypterOptions{}).WithHeader("x-hcx-correlation_id", "5e0b3b8c-6bde-4c43-9b47-0b1e0a6b0b6e")
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP, Key: &payer.PublicKey}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := hcx.Open(compact, payer)
	if err != nil {
		t.Fatalf("RSA-OAEP must be accepted: %v", err)
	}
	if msg.Algorithm != "RSA-OAEP" || string(msg.Payload) != `{"a":1}` || msg.Headers.CorrelationID != "5e0b3b8c-6bde-4c43-9b47-0b1e0a6b0b6e" {
		t.Errorf("got alg %q payload %s headers %+v", msg.Algorithm, msg.Payload, msg.Headers)
	}
}

func TestOpenRefusesOtherAlgorithms(t *testing.T) {
	payer := rsaKey(t, "payer")
	aesKey := make([]byte, 32)
	if _, err := rand.Read(aesKey); err != nil {
		t.Fatal(err)
	}
	seal := func(t *testing.T, enc jose.ContentEncryption, rcpt jose.Recipient, opts *jose.EncrypterOptions) string {
		t.Helper()
		e, err := jose.NewEncrypter(enc, rcpt, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := e.Encrypt([]byte(`{"resourceType":"Bundle"}`))
		if err != nil {
			t.Fatal(err)
		}
		s, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		compact func(t *testing.T) string
	}{
		{"RSA1_5", func(t *testing.T) string {
			return seal(t, jose.A256GCM, jose.Recipient{Algorithm: jose.RSA1_5, Key: &payer.PublicKey}, nil)
		}},
		{"dir", func(t *testing.T) string {
			return seal(t, jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: aesKey}, nil)
		}},
		{"A256KW", func(t *testing.T) string {
			return seal(t, jose.A256GCM, jose.Recipient{Algorithm: jose.A256KW, Key: aesKey}, nil)
		}},
		{"A128CBC-HS256 content", func(t *testing.T) string {
			return seal(t, jose.A128CBC_HS256, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &payer.PublicKey}, nil)
		}},
		{"zip", func(t *testing.T) string {
			return seal(t, jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &payer.PublicKey},
				&jose.EncrypterOptions{Compression: jose.DEFLATE})
		}},
		{"none in header", func(t *testing.T) string {
			good := seal(t, jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &payer.PublicKey}, nil)
			_, rest, _ := strings.Cut(good, ".")
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","enc":"A256GCM"}`)) + "." + rest
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compact := tt.compact(t)
			_, err := hcx.Open(compact, payer)
			if !errors.Is(err, hcx.ErrAlgorithmNotAllowed) {
				t.Errorf("Open: got %v, want ErrAlgorithmNotAllowed", err)
			}
			if _, _, err := hcx.ReadHeaders(compact); !errors.Is(err, hcx.ErrAlgorithmNotAllowed) {
				t.Errorf("ReadHeaders: got %v, want ErrAlgorithmNotAllowed", err)
			}
		})
	}
}

// replacePart swaps one dot-separated part of a compact JWE.
func replacePart(compact string, i int, part string) string {
	parts := strings.Split(compact, ".")
	parts[i] = part
	return strings.Join(parts, ".")
}

// flipChar changes one base64url character in the middle of a part, so the
// decoded bytes change.
func flipChar(part string) string {
	b := []byte(part)
	mid := len(b) / 2
	if b[mid] == 'A' {
		b[mid] = 'B'
	} else {
		b[mid] = 'A'
	}
	return string(b)
}

func TestOpenRefusesTamperedMessages(t *testing.T) {
	payer := rsaKey(t, "payer")
	h := fullHeaders()
	compact, err := hcx.Seal([]byte(`{"resourceType":"Bundle","total":1200}`), h, &payer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(compact, ".")

	changedHeader := strings.Replace(string(mustB64(t, parts[0])), h.CorrelationID, "00000000-0000-4000-8000-000000000000", 1)
	tests := map[string]string{
		"ciphertext":         replacePart(compact, 3, flipChar(parts[3])),
		"tag":                replacePart(compact, 4, flipChar(parts[4])),
		"iv":                 replacePart(compact, 2, flipChar(parts[2])),
		"encrypted key":      replacePart(compact, 1, flipChar(parts[1])),
		"protected header":   replacePart(compact, 0, base64.RawURLEncoding.EncodeToString([]byte(changedHeader))),
		"swapped ciphertext": replacePart(compact, 3, base64.RawURLEncoding.EncodeToString([]byte(`{"resourceType":"Bundle","total":9999}`))),
	}
	for name, bad := range tests {
		t.Run(name, func(t *testing.T) {
			if bad == compact {
				t.Fatal("tampering did not change the message")
			}
			msg, err := hcx.Open(bad, payer)
			if !errors.Is(err, hcx.ErrDecrypt) {
				t.Errorf("got %v (message %v), want ErrDecrypt", err, msg)
			}
		})
	}

	t.Run("another key", func(t *testing.T) {
		if _, err := hcx.Open(compact, rsaKey(t, "other")); !errors.Is(err, hcx.ErrDecrypt) {
			t.Errorf("got %v, want ErrDecrypt", err)
		}
	})
	t.Run("still opens untouched", func(t *testing.T) {
		if _, err := hcx.Open(compact, payer); err != nil {
			t.Errorf("the original no longer opens: %v", err)
		}
	})
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenRefusesMalformed(t *testing.T) {
	payer := rsaKey(t, "payer")
	for name, in := range map[string]string{
		"empty":           "",
		"three parts":     "a.b.c",
		"six parts":       "a.b.c.d.e.f",
		"header not b64":  "!!!.b.c.d.e",
		"header not JSON": base64.RawURLEncoding.EncodeToString([]byte("hello")) + ".b.c.d.e",
		"header array":    base64.RawURLEncoding.EncodeToString([]byte(`["alg"]`)) + ".b.c.d.e",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := hcx.Open(in, payer); !errors.Is(err, hcx.ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSealRefusesSmallKeysAndForeignHeaders(t *testing.T) {
	small, err := rsaGenerate(1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hcx.Seal([]byte("{}"), fullHeaders(), &small.PublicKey); err == nil {
		t.Error("sealed to a 1024-bit key")
	}
	h := fullHeaders()
	h.Extra = map[string]json.RawMessage{"kid": json.RawMessage(`"x"`)}
	if _, err := hcx.Seal([]byte("{}"), h, &rsaKey(t, "payer").PublicKey); err == nil {
		t.Error("sealed with a non-x-hcx extra header")
	}
}
