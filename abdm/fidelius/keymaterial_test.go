package fidelius

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestKeyMaterialRoundTrip(t *testing.T) {
	key := newKey(t)
	nonce := NewNonce()
	expiry := time.Date(2024, 6, 1, 5, 30, 0, 0, time.FixedZone("IST", 5*3600+1800))
	for name, keyValue := range map[string]string{"raw": key.PublicKey().Raw(), "x509": key.PublicKey().X509()} {
		km := NewKeyMaterial(keyValue, nonce, expiry)
		data, err := json.Marshal(km)
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{`"cryptoAlg":"ECDH"`, `"curve":"Curve25519"`, `"expiry":"2024-06-01T00:00:00.000Z"`,
			`"parameters":"Curve25519/32byte random key"`, `"keyValue":"` + keyValue + `"`, `"nonce":"` + nonce.String() + `"`} {
			if !strings.Contains(string(data), field) {
				t.Errorf("%s: %s lacks %s", name, data, field)
			}
		}
		var back KeyMaterial
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		pub, n, err := back.Parse()
		if err != nil {
			t.Fatalf("%s: Parse: %v", name, err)
		}
		if !pub.Equal(key.PublicKey()) || n != nonce {
			t.Errorf("%s: Parse returned a different key or nonce", name)
		}
		at, err := back.DHPublicKey.ExpiresAt()
		if err != nil || !at.Equal(expiry) {
			t.Errorf("%s: ExpiresAt = %v, %v; want %v", name, at, err, expiry)
		}
	}
}

// TestKeyMaterialVariants reads keyMaterial the way other implementations
// write it (reference notes §8).
func TestKeyMaterialVariants(t *testing.T) {
	key := newKey(t)
	nonce := NewNonce()
	// Gson escapes '=' as \u003d; a JSON parser undoes that.
	gsonNonce := strings.ReplaceAll(nonce.String(), "=", `\u003d`)
	gsonKey := strings.ReplaceAll(key.PublicKey().X509(), "=", `\u003d`)
	for name, doc := range map[string]string{
		"NHA wrapper": `{"cryptoAlg":"ECDH","curve":"curve25519","dhPublicKey":{"expiry":"2024-06-01T00:00:00.000Z",` +
			`"parameters":"Curve25519/32byte random key","keyValue":"` + gsonKey + `"},"nonce":"` + gsonNonce + `"}`,
		"ProjectEKA": `{"cryptoAlg":"ECDH","curve":"curve25519","dhPublicKey":{"expiry":"2024-06-01T00:00:00",` +
			`"parameters":"Ephemeral public key","keyValue":"` + key.PublicKey().Raw() + `"},"nonce":"` + nonce.String() + `"}`,
		"spaced curve name": `{"cryptoAlg":"ECDH","curve":"Curve 25519","dhPublicKey":{"expiry":"2024-06-01T05:30:00+05:30",` +
			`"parameters":"","keyValue":"` + key.PublicKey().Raw() + `"},"nonce":"` + nonce.String() + `"}`,
		"lower-case keys, no curve": `{"cryptoalg":"ecdh","dhpublickey":{"expiry":"2024-06-01 00:00:00",` +
			`"keyvalue":"` + key.PublicKey().Raw() + `"},"nonce":"` + nonce.String() + `","extra":1}`,
	} {
		var km KeyMaterial
		if err := json.Unmarshal([]byte(doc), &km); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pub, n, err := km.Parse()
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		if !pub.Equal(key.PublicKey()) || n != nonce {
			t.Errorf("%s: Parse returned a different key or nonce", name)
		}
		at, err := km.DHPublicKey.ExpiresAt()
		if want := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC); err != nil || !at.Equal(want) {
			t.Errorf("%s: ExpiresAt = %v, %v; want %v", name, at, err, want)
		}
	}
}

func TestKeyMaterialErrors(t *testing.T) {
	good := NewKeyMaterial(newKey(t).PublicKey().Raw(), NewNonce(), time.Now())
	for _, c := range []struct {
		name   string
		change func(*KeyMaterial)
		want   error
	}{
		{"other algorithm", func(m *KeyMaterial) { m.CryptoAlg = "RSA" }, ErrInvalidKeyMaterial},
		{"other curve", func(m *KeyMaterial) { m.Curve = "P-256" }, ErrInvalidKeyMaterial},
		{"x25519 key", func(m *KeyMaterial) { m.DHPublicKey.KeyValue = NewNonce().String() }, ErrInvalidKey},
		{"uuid nonce", func(m *KeyMaterial) { m.Nonce = "5f1b8a2e-0000-4000-8000-000000000000" }, ErrInvalidNonce},
		{"missing key", func(m *KeyMaterial) { m.DHPublicKey.KeyValue = "" }, ErrInvalidKey},
	} {
		m := good
		c.change(&m)
		if _, _, err := m.Parse(); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := (DHPublicKey{Expiry: "tomorrow"}).ExpiresAt(); !errors.Is(err, ErrInvalidKeyMaterial) {
		t.Errorf("ExpiresAt(tomorrow): err = %v", err)
	}
}
