package claims_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/keys"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

func newStore(t *testing.T) (keys.Store, string) {
	t.Helper()
	db := databasetest.New(t)
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewMasterKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return keys.NewPostgresStore(db.App, ring), db.Tenant(t, "Claims Test")
}

func TestPrivateKeyInKeyStore(t *testing.T) {
	store, tenant := newStore(t)
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	jwk, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatal(err)
	}

	for name, data := range map[string][]byte{"PEM": pemKey, "JWK": jwk} {
		t.Run(name, func(t *testing.T) {
			ref := claims.PrivateKeyRef(tenant, "", "1000004604@hcx-"+name)
			if err := claims.SavePrivateKey(ctx, store, ref, data); err != nil {
				t.Fatal(err)
			}
			got, err := claims.LoadPrivateKey(ctx, store, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Fatal("loaded a different key")
			}
			// The loaded key opens what was sealed to its public half.
			h := hcx.NewRequest("1000003538@hcx", "1000004604@hcx", "", time.Now())
			compact, err := hcx.Seal([]byte(`{"resourceType":"Bundle"}`), h, &key.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hcx.Open(compact, got); err != nil {
				t.Errorf("opening with the stored key: %v", err)
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		_, err := claims.LoadPrivateKey(ctx, store, claims.PrivateKeyRef(tenant, "", "nobody@hcx"))
		if !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("got %v, want keys.ErrNotFound", err)
		}
	})
	t.Run("refuses what is not a key", func(t *testing.T) {
		ref := claims.PrivateKeyRef(tenant, "", "garbage@hcx")
		if err := claims.SavePrivateKey(ctx, store, ref, []byte("not a key")); err == nil {
			t.Fatal("saved garbage")
		}
		if _, err := store.Get(ctx, ref); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("something was stored: %v", err)
		}
		small, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		smallPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})
		if err := claims.SavePrivateKey(ctx, store, ref, smallPEM); err == nil {
			t.Error("saved a 1024-bit key")
		}
	})
	t.Run("other purposes", func(t *testing.T) {
		ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "1000004604@hcx"}
		if err := claims.SavePrivateKey(ctx, store, ref, pemKey); err == nil {
			t.Error("saved under another purpose")
		}
		if _, err := claims.LoadPrivateKey(ctx, store, ref); err == nil {
			t.Error("loaded from another purpose")
		}
	})
}
