package keys_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/keys"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// storeBundle is what the shared contract needs from a backend: the store
// and a way to make tenants and facilities it accepts.
type storeBundle struct {
	store    keys.Store
	tenant   func(t *testing.T) string
	facility func(t *testing.T, tenant string) string
}

// testStoreContract checks the behaviour both backends promise through the
// Store interface.
func testStoreContract(t *testing.T, b storeBundle) {
	ctx := context.Background()

	t.Run("round trip and overwrite", func(t *testing.T) {
		tenant := b.tenant(t)
		expires := time.Now().Add(time.Hour)
		ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "txn-" + uuid.NewString()}
		value := []byte("-----BEGIN PRIVATE KEY----- \x00\xff binary too")
		if err := b.store.Put(ctx, keys.Secret{Ref: ref, Value: value, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.Get(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Value, value) {
			t.Errorf("value: got %q, want %q", got.Value, value)
		}
		if got.Ref != ref {
			t.Errorf("ref: got %+v, want %+v", got.Ref, ref)
		}
		if !got.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) {
			t.Errorf("expires: got %v, want %v", got.ExpiresAt, expires.Truncate(time.Microsecond))
		}

		if err := b.store.Put(ctx, keys.Secret{Ref: ref, Value: []byte("second")}); err != nil {
			t.Fatal(err)
		}
		got, err = b.store.Get(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Value) != "second" || !got.ExpiresAt.IsZero() {
			t.Errorf("after overwrite: got %q expiring %v, want %q never expiring", got.Value, got.ExpiresAt, "second")
		}
	})

	t.Run("identity is tenant, facility, purpose and name", func(t *testing.T) {
		tenant := b.tenant(t)
		other := b.tenant(t)
		facility := b.facility(t, tenant)
		base := keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "abc@sbx"}
		refs := map[string]keys.Ref{
			"tenant-wide":  base,
			"facility":     {Tenant: tenant, Facility: facility, Purpose: base.Purpose, Name: base.Name},
			"purpose":      {Tenant: tenant, Purpose: keys.PurposeNHCXPrivateKey, Name: base.Name},
			"name":         {Tenant: tenant, Purpose: base.Purpose, Name: base.Name + "2"},
			"other tenant": {Tenant: other, Purpose: base.Purpose, Name: base.Name},
		}
		for label, ref := range refs {
			if err := b.store.Put(ctx, keys.Secret{Ref: ref, Value: []byte(label)}); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
		}
		for label, ref := range refs {
			got, err := b.store.Get(ctx, ref)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if string(got.Value) != label {
				t.Errorf("%s: got %q, want %q", label, got.Value, label)
			}
		}
		// Upper-case UUIDs name the same secret.
		upper := keys.Ref{Tenant: strings.ToUpper(tenant), Facility: strings.ToUpper(facility), Purpose: base.Purpose, Name: base.Name}
		got, err := b.store.Get(ctx, upper)
		if err != nil || string(got.Value) != "facility" {
			t.Errorf("upper-case ids: got %q, %v; want %q", got.Value, err, "facility")
		}
	})

	t.Run("missing and expired are not found", func(t *testing.T) {
		tenant := b.tenant(t)
		missing := keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: "nothing-here"}
		if _, err := b.store.Get(ctx, missing); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("missing: got %v, want ErrNotFound", err)
		}
		expired := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "old"}
		if err := b.store.Put(ctx, keys.Secret{Ref: expired, Value: []byte("stale"), ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.Get(ctx, expired)
		if !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("expired: got %q, %v; want ErrNotFound", got.Value, err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		tenant := b.tenant(t)
		ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "to-delete"}
		if err := b.store.Put(ctx, keys.Secret{Ref: ref, Value: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Delete(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.Get(ctx, ref); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("after delete: got %v, want ErrNotFound", err)
		}
		if err := b.store.Delete(ctx, ref); err != nil {
			t.Errorf("deleting again: %v, want nil", err)
		}
	})

	t.Run("purge expired", func(t *testing.T) {
		tenant := b.tenant(t)
		facility := b.facility(t, tenant)
		past := time.Now().Add(-time.Minute)
		gone := []keys.Ref{
			{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "expired-1"},
			{Tenant: tenant, Facility: facility, Purpose: keys.PurposeLinkToken, Name: "expired-2"},
		}
		kept := []keys.Ref{
			{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "live"},
			{Tenant: tenant, Facility: facility, Purpose: keys.PurposeNHCXPrivateKey, Name: "forever"},
		}
		for _, ref := range gone {
			if err := b.store.Put(ctx, keys.Secret{Ref: ref, Value: []byte("old"), ExpiresAt: past}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.store.Put(ctx, keys.Secret{Ref: kept[0], Value: []byte("live"), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Put(ctx, keys.Secret{Ref: kept[1], Value: []byte("forever")}); err != nil {
			t.Fatal(err)
		}
		n, err := b.store.PurgeExpired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Other subtests leave expired secrets behind too, so at least ours.
		if n < len(gone) {
			t.Errorf("purged %d, want at least %d", n, len(gone))
		}
		for _, ref := range kept {
			if _, err := b.store.Get(ctx, ref); err != nil {
				t.Errorf("%s after purge: %v", ref, err)
			}
		}
		n, err = b.store.PurgeExpired(ctx)
		if err != nil || n != 0 {
			t.Errorf("second purge: %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("invalid input is refused", func(t *testing.T) {
		tenant := b.tenant(t)
		ok := keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "fine"}
		bad := map[string]keys.Secret{
			"tenant not a uuid":   {Ref: keys.Ref{Tenant: "acme", Purpose: ok.Purpose, Name: ok.Name}, Value: []byte("x")},
			"facility not a uuid": {Ref: keys.Ref{Tenant: tenant, Facility: "../x", Purpose: ok.Purpose, Name: ok.Name}, Value: []byte("x")},
			"unknown purpose":     {Ref: keys.Ref{Tenant: tenant, Purpose: "misc", Name: ok.Name}, Value: []byte("x")},
			"slash in name":       {Ref: keys.Ref{Tenant: tenant, Purpose: ok.Purpose, Name: "a/b"}, Value: []byte("x")},
			"dot-dot name":        {Ref: keys.Ref{Tenant: tenant, Purpose: ok.Purpose, Name: ".."}, Value: []byte("x")},
			"empty name":          {Ref: keys.Ref{Tenant: tenant, Purpose: ok.Purpose}, Value: []byte("x")},
			"empty value":         {Ref: ok},
			"huge value":          {Ref: ok, Value: make([]byte, keys.MaxValueSize+1)},
		}
		for label, sec := range bad {
			if err := b.store.Put(ctx, sec); err == nil {
				t.Errorf("%s: Put succeeded, want an error", label)
			}
		}
		if _, err := b.store.Get(ctx, keys.Ref{Tenant: tenant, Purpose: ok.Purpose, Name: "a/../b"}); err == nil || errors.Is(err, keys.ErrNotFound) {
			t.Errorf("Get with a bad name: %v, want a validation error", err)
		}
	})
}

func TestSecretNeverPrintsItsValue(t *testing.T) {
	s := keys.Secret{
		Ref:   keys.Ref{Tenant: uuid.NewString(), Purpose: keys.PurposeABDMClientSecret, Name: "client"},
		Value: []byte("hunter2-very-secret"),
	}
	var logged bytes.Buffer
	log := newJSONLogger(&logged)
	log.Info("storing", "secret", s)
	for _, text := range []string{logged.String(), s.String(), sprintAll(s)} {
		if strings.Contains(text, "hunter2") || strings.Contains(text, "aHVudGVyM") {
			t.Errorf("value leaked: %s", text)
		}
		if !strings.Contains(text, "abdm-client-secret/client") {
			t.Errorf("reference missing from %s", text)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
