package hcx_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
)

const (
	ourCode   = "1000004604@hcx"
	payerCode = "1000003538@hcx"
)

type registryBundle struct {
	reg    *registry
	client *hcx.Registry
	clock  *clock
	tokens *tokens
}

func setupRegistry(t *testing.T, edit func(*hcx.RegistryConfig)) registryBundle {
	t.Helper()
	b := registryBundle{reg: newRegistry(t), clock: &clock{now: time.Now()}, tokens: &tokens{}}
	cfg := hcx.RegistryConfig{
		BaseURL: b.reg.url(), Tokens: b.tokens, OwnCode: ourCode, OwnKey: &rsaKey(t, "provider").PublicKey,
		TTL: time.Hour, Now: b.clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	var err error
	if b.client, err = hcx.NewRegistry(cfg); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRegistryCachesWithTTL(t *testing.T) {
	b := setupRegistry(t, nil)
	ctx := context.Background()
	payer := rsaKey(t, "payer")
	b.reg.set(payerCode, string(validCert(t, payer, "payer")))

	for _, code := range []string{payerCode, payerCode, strings.ToUpper(payerCode), " " + payerCode} {
		k, err := b.client.EncryptionKey(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if !k.Public.Equal(&payer.PublicKey) || k.Certificate == nil {
			t.Fatal("wrong key")
		}
	}
	if n := b.reg.hitsFor(payerCode); n != 1 {
		t.Errorf("registry called %d times for four lookups within the TTL, want 1", n)
	}

	b.clock.Advance(59 * time.Minute)
	if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil {
		t.Fatal(err)
	}
	if n := b.reg.hitsFor(payerCode); n != 1 {
		t.Errorf("refetched before the TTL: %d calls", n)
	}
	b.clock.Advance(2 * time.Minute)
	if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil {
		t.Fatal(err)
	}
	if n := b.reg.hitsFor(payerCode); n != 2 {
		t.Errorf("after the TTL the registry was called %d times in all, want 2", n)
	}
}

func TestRegistryNeverCachesPastNotAfter(t *testing.T) {
	b := setupRegistry(t, func(c *hcx.RegistryConfig) { c.TTL = 24 * time.Hour })
	ctx := context.Background()
	payer := rsaKey(t, "payer")
	now := b.clock.Now()
	b.reg.set(payerCode, string(selfSigned(t, payer, "payer", now.Add(-time.Hour), now.Add(time.Hour))))
	if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil {
		t.Fatal(err)
	}
	// The payer has renewed its certificate by the time the old one ends.
	b.reg.set(payerCode, string(selfSigned(t, payer, "payer", now, now.Add(365*24*time.Hour))))
	b.clock.Advance(90 * time.Minute)
	k, err := b.client.EncryptionKey(ctx, payerCode)
	if err != nil {
		t.Fatalf("after the cached certificate ended: %v", err)
	}
	if n := b.reg.hitsFor(payerCode); n != 2 || k.Expired(b.clock.Now()) {
		t.Errorf("calls %d, expired %v: want the renewed certificate fetched", n, k.Expired(b.clock.Now()))
	}
}

func TestRegistryRefetchesOnPAYR(t *testing.T) {
	for _, code := range []string{"PAYR-1001", "PAYR-1002", "ERR_INVALID_ENCRYPTION"} {
		t.Run(code, func(t *testing.T) {
			b := setupRegistry(t, nil)
			ctx := context.Background()
			oldKey, newKey := rsaKey(t, "payer"), rsaKey(t, "payer-rotated")
			b.reg.set(payerCode, string(validCert(t, oldKey, "payer")))
			if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil {
				t.Fatal(err)
			}
			b.reg.set(payerCode, string(validCert(t, newKey, "payer")))

			// Errors that say nothing about the certificate keep the cache.
			if b.client.ForgetOnError(payerCode, hcx.Details{Code: "NHCX-1006", Message: "duplicate"}.Err()) {
				t.Error("NHCX-1006 dropped the certificate")
			}
			if k, _ := b.client.EncryptionKey(ctx, payerCode); !k.Public.Equal(&oldKey.PublicKey) {
				t.Error("cache lost without cause")
			}

			payr := hcx.Details{Code: code, Message: "cannot decrypt"}.Err()
			if !b.client.ForgetOnError(payerCode, payr) {
				t.Fatalf("%s did not drop the certificate", code)
			}
			k, err := b.client.EncryptionKey(ctx, payerCode)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Public.Equal(&newKey.PublicKey) {
				t.Error("still the old key after the payer could not decrypt")
			}
			if n := b.reg.hitsFor(payerCode); n != 2 {
				t.Errorf("registry calls: got %d, want 2", n)
			}
		})
	}
}

func TestRegistryRefusesOurOwnKey(t *testing.T) {
	b := setupRegistry(t, nil)
	ctx := context.Background()
	ours := validCert(t, rsaKey(t, "provider"), "provider")
	b.reg.set(payerCode, string(ours))
	b.reg.set(ourCode, string(ours))

	if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrOwnCertificate) {
		t.Fatalf("got %v, want ErrOwnCertificate", err)
	}
	// Our own code may carry our key (a registration check).
	if _, err := b.client.EncryptionKey(ctx, ourCode); err != nil {
		t.Errorf("our own code: %v", err)
	}
	// Not cached: once the registry is fixed, the right key is used.
	payer := rsaKey(t, "payer")
	b.reg.set(payerCode, string(validCert(t, payer, "payer")))
	k, err := b.client.EncryptionKey(ctx, payerCode)
	if err != nil || !k.Public.Equal(&payer.PublicKey) {
		t.Errorf("after the registry was fixed: %v", err)
	}
}

func TestRegistryCertificateProblems(t *testing.T) {
	ctx := context.Background()
	payer := rsaKey(t, "payer")
	now := time.Now()
	expired := string(selfSigned(t, payer, "payer", now.Add(-48*time.Hour), now.Add(-24*time.Hour)))

	t.Run("no certificate is not cached", func(t *testing.T) {
		b := setupRegistry(t, nil)
		for range 2 {
			if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrNoCertificate) {
				t.Fatalf("got %v, want ErrNoCertificate", err)
			}
		}
		if n := b.reg.hitsFor(payerCode); n != 2 {
			t.Errorf("registry calls: got %d, want 2 (a missing certificate must not be cached)", n)
		}
	})
	t.Run("invalid certificate with 400", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.setRaw(payerCode, http.StatusBadRequest, "Invalid Certificate Found")
		if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrNoCertificate) {
			t.Fatalf("got %v, want ErrNoCertificate", err)
		}
	})
	t.Run("empty encryption_cert", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.set(payerCode, "")
		if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrNoCertificate) {
			t.Fatalf("got %v, want ErrNoCertificate", err)
		}
	})
	t.Run("certificate address", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.set(payerCode, "https://example.invalid/cert.pem")
		if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrNoCertificate) {
			t.Fatalf("got %v, want ErrNoCertificate", err)
		}
	})
	t.Run("base64 of PEM", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.set(payerCode, base64.StdEncoding.EncodeToString(validCert(t, payer, "payer")))
		if k, err := b.client.EncryptionKey(ctx, payerCode); err != nil || !k.Public.Equal(&payer.PublicKey) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("expired refused", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.set(payerCode, expired)
		if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrCertificateExpired) {
			t.Fatalf("got %v, want ErrCertificateExpired", err)
		}
	})
	t.Run("expired accepted in sandbox", func(t *testing.T) {
		b := setupRegistry(t, func(c *hcx.RegistryConfig) { c.AcceptExpired = true })
		b.reg.set(payerCode, expired)
		if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil {
			t.Fatal(err)
		}
		if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil || b.reg.hitsFor(payerCode) != 1 {
			t.Errorf("second lookup: %v, %d calls", err, b.reg.hitsFor(payerCode))
		}
	})
	t.Run("server error", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.setRaw(payerCode, http.StatusBadGateway, "<html><title>502 Bad Gateway</title></html>")
		_, err := b.client.EncryptionKey(ctx, payerCode)
		if !errors.Is(err, hcx.ErrSwitchUnavailable) || !hcx.Retryable(err) {
			t.Fatalf("got %v, want a retryable ErrSwitchUnavailable", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		b := setupRegistry(t, nil)
		b.reg.srv.Close()
		if _, err := b.client.EncryptionKey(ctx, payerCode); !errors.Is(err, hcx.ErrSwitchUnavailable) {
			t.Fatalf("got %v, want ErrSwitchUnavailable", err)
		}
	})
}

func TestRegistryRetriesRefusedTokenOnce(t *testing.T) {
	b := setupRegistry(t, nil)
	ctx := context.Background()
	payer := rsaKey(t, "payer")
	b.reg.set(payerCode, string(validCert(t, payer, "payer")))
	b.reg.refuse("tok-1")
	if _, err := b.client.EncryptionKey(ctx, payerCode); err != nil {
		t.Fatal(err)
	}
	if got := b.reg.seenTokens(); got != "tok-1,tok-2" {
		t.Errorf("tokens sent: %s, want tok-1,tok-2", got)
	}
	if len(b.tokens.invalidated) != 1 || b.tokens.invalidated[0] != "tok-1" {
		t.Errorf("invalidated: %v", b.tokens.invalidated)
	}

	// A token source that cannot invalidate gets the 401 back.
	plain := setupRegistry(t, func(c *hcx.RegistryConfig) { c.Tokens = plainTokens{"stale"} })
	plain.reg.set(payerCode, string(validCert(t, payer, "payer")))
	plain.reg.refuse("stale")
	_, err := plain.client.EncryptionKey(ctx, payerCode)
	var e *hcx.Error
	if !errors.Is(err, hcx.ErrUnauthorized) || !errors.As(err, &e) || e.Code != "NHCX-401" {
		t.Fatalf("got %v, want NHCX-401 ErrUnauthorized", err)
	}
	if got := plain.reg.seenTokens(); got != "stale" {
		t.Errorf("tokens sent: %s, want one call with stale", got)
	}
}

func TestRegistryLookup(t *testing.T) {
	b := setupRegistry(t, nil)
	b.reg.setRecords([]map[string]any{
		{"participant_code": "other@hcx", "participant_name": "Other"},
		{"participant_code": payerCode, "participant_name": "Dummy Payer", "status": "Active",
			"endpoint_url": "https://payer.example/api", "roles": []any{"payer", 10002}, "encryption_cert": "PEM"},
	})
	p, err := b.client.Lookup(context.Background(), payerCode)
	if err != nil {
		t.Fatal(err)
	}
	want := hcx.Participant{Code: payerCode, Name: "Dummy Payer", Status: "Active", EndpointURL: "https://payer.example/api",
		Roles: []string{"payer", "10002"}, EncryptionCert: "PEM"}
	if p.Code != want.Code || p.Name != want.Name || p.Status != want.Status || p.EndpointURL != want.EndpointURL ||
		strings.Join(p.Roles, ",") != "payer,10002" || p.EncryptionCert != want.EncryptionCert {
		t.Errorf("got %+v, want %+v", p, want)
	}
	if _, err := b.client.Lookup(context.Background(), "missing@hcx"); !errors.Is(err, hcx.ErrNotFound) {
		t.Errorf("missing participant: got %v, want ErrNotFound", err)
	}
}

func TestNewRegistryChecksConfig(t *testing.T) {
	good := hcx.RegistryConfig{BaseURL: "https://apisbx.abdm.gov.in/pmjay/sbxhcx/participanthcxservice", Tokens: &tokens{},
		OwnCode: ourCode, OwnKey: &rsaKey(t, "provider").PublicKey}
	if _, err := hcx.NewRegistry(good); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*hcx.RegistryConfig){
		"relative URL": func(c *hcx.RegistryConfig) { c.BaseURL = "/participanthcxservice" },
		"query":        func(c *hcx.RegistryConfig) { c.BaseURL += "?x=1" },
		"no tokens":    func(c *hcx.RegistryConfig) { c.Tokens = nil },
		"no own code":  func(c *hcx.RegistryConfig) { c.OwnCode = "" },
		"no own key":   func(c *hcx.RegistryConfig) { c.OwnKey = nil },
		"negative TTL": func(c *hcx.RegistryConfig) { c.TTL = -time.Second },
	} {
		cfg := good
		edit(&cfg)
		if _, err := hcx.NewRegistry(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
