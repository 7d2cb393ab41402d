package keys_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/keys"
)

func newJSONLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func sprintAll(v any) string {
	return fmt.Sprint(v) + fmt.Sprintf("%v %+v %s", v, v, v)
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, keys.MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newRing(t *testing.T, current []byte, previous ...[]byte) *keys.MasterKeys {
	t.Helper()
	ring, err := keys.NewMasterKeys(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// createFacility inserts a facility for tenant through the owner pool.
func createFacility(t *testing.T, db *databasetest.DB, tenant string) string {
	t.Helper()
	var id string
	hip := "HIP-" + hex.EncodeToString(randomKey(t)[:6])
	err := db.Owner.QueryRow(context.Background(),
		`INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, $2, $2, 'Test facility') RETURNING id::text`,
		tenant, hip).Scan(&id)
	if err != nil {
		t.Fatalf("creating facility: %v", err)
	}
	return id
}

// resetKeyTables empties the key store's tables. Rotation works on every
// tenant of the database, and the tests of this package share one database
// (they do not run in parallel), so a rotation test starts from nothing
// rather than meet other tests' tenants sealed under their random keys.
func resetKeyTables(t *testing.T, db *databasetest.DB) {
	t.Helper()
	if _, err := db.Owner.Exec(context.Background(), "TRUNCATE key_secrets, key_data_keys"); err != nil {
		t.Fatal(err)
	}
}

func postgresBundle(t *testing.T, db *databasetest.DB, store keys.Store) storeBundle {
	return storeBundle{
		store:    store,
		tenant:   func(t *testing.T) string { return db.Tenant(t, "Keys Test") },
		facility: func(t *testing.T, tenant string) string { return createFacility(t, db, tenant) },
	}
}

func TestPostgresStore(t *testing.T) {
	db := databasetest.New(t)
	store := keys.NewPostgresStore(db.App, newRing(t, randomKey(t)))
	testStoreContract(t, postgresBundle(t, db, store))
}

func TestOpenSelectsEmbeddedStore(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	store, err := keys.Open(ctx, keys.Config{
		MasterKey: keys.MasterKeyConfig{Key: base64.StdEncoding.EncodeToString(randomKey(t))},
	}, db.App)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := store.(*keys.PostgresStore); !ok {
		t.Fatalf("Open with no backend gave %T, want *keys.PostgresStore", store)
	}
	testStoreContract(t, postgresBundle(t, db, store))

	if _, err := keys.Open(ctx, keys.Config{Backend: "filesystem"}, db.App); err == nil || !strings.Contains(err.Error(), "KEYS_BACKEND") {
		t.Errorf("unknown backend: %v, want an error naming KEYS_BACKEND", err)
	}
}

// TestPostgresRowsHoldNoPlaintext reads every stored row as the database
// owner (who bypasses row-level security) and checks that neither the
// secrets nor the master key appear in any form.
func TestPostgresRowsHoldNoPlaintext(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	master := randomKey(t)
	store := keys.NewPostgresStore(db.App, newRing(t, master))

	var secrets [][]byte
	for i := range 3 {
		tenant := db.Tenant(t, "Plaintext Check")
		value := []byte(fmt.Sprintf("PLAINTEXT-MARKER-%d-%x", i, randomKey(t)[:8]))
		secrets = append(secrets, value)
		ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: "client-secret"}
		if err := store.Put(ctx, keys.Secret{Ref: ref, Value: value}); err != nil {
			t.Fatal(err)
		}
	}

	var dump bytes.Buffer
	for _, table := range []string{"key_secrets", "key_data_keys"} {
		rows, err := db.Owner.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(texts) < 3 {
			t.Fatalf("%s: %d rows, want at least 3", table, len(texts))
		}
		for _, s := range texts {
			dump.WriteString(s)
		}
		// Raw bytea too, in case the text form hid something.
		col := map[string]string{"key_secrets": "sealed", "key_data_keys": "wrapped"}[table]
		rows, err = db.Owner.Query(ctx, "SELECT "+col+" FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blobs {
			dump.Write(b)
		}
	}
	haystack := dump.Bytes()
	needles := [][]byte{master, []byte(hex.EncodeToString(master)), []byte(base64.StdEncoding.EncodeToString(master))}
	for _, s := range secrets {
		needles = append(needles, s, []byte(hex.EncodeToString(s)), []byte(base64.StdEncoding.EncodeToString(s)), []byte("PLAINTEXT-MARKER"))
	}
	for _, n := range needles {
		if bytes.Contains(haystack, n) {
			t.Errorf("found %q in the stored rows", n)
		}
	}

	// And the rows are useless with any other master key.
	other := keys.NewPostgresStore(db.App, newRing(t, randomKey(t)))
	var tenant string
	if err := db.Owner.QueryRow(ctx, "SELECT tenant_id::text FROM key_secrets WHERE name = 'client-secret' LIMIT 1").Scan(&tenant); err != nil {
		t.Fatal(err)
	}
	_, err := other.Get(ctx, keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: "client-secret"})
	if err == nil || errors.Is(err, keys.ErrNotFound) || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("reading with a different master key: %v, want an error saying the key is not configured", err)
	}
}

// TestPostgresRowLevelSecurity checks isolation below the Store API, with
// hand-written SQL on the application pool.
func TestPostgresRowLevelSecurity(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	store := keys.NewPostgresStore(db.App, newRing(t, randomKey(t)))
	a := db.Tenant(t, "Alpha")
	b := db.Tenant(t, "Beta")
	for _, tenant := range []string{a, b} {
		if err := store.Put(ctx, keys.Secret{Ref: keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "t"}, Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}

	count := func(tenant, table string) (n int) {
		t.Helper()
		err := database.InTenant(ctx, db.App, tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, table := range []string{"key_secrets", "key_data_keys"} {
		if n := count(a, table); n != 1 {
			t.Errorf("tenant A sees %d rows of %s, want 1", n, table)
		}
		var n int
		if err := db.App.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("no tenant context: %d rows of %s visible, want 0", n, table)
		}
	}

	// A's transaction cannot write into B's rows or create rows for B.
	err := database.InTenant(ctx, db.App, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE key_data_keys SET wrapped = '\\x00' WHERE tenant_id = $1", b)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 0 {
			return errors.New("tenant A updated tenant B's data key")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	err = database.InTenant(ctx, db.App, a, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO key_secrets (tenant_id, purpose, name, sealed) VALUES ($1, 'link-token', 'sneaky', '\\x00')", b)
		return err
	})
	if err == nil {
		t.Error("tenant A inserted a secret for tenant B; want a row-level security violation")
	}
	if _, err := store.Get(ctx, keys.Ref{Tenant: b, Purpose: keys.PurposeLinkToken, Name: "t"}); err != nil {
		t.Errorf("tenant B's secret after A's attempts: %v", err)
	}
}

// TestPostgresCiphertextIsBoundToItsRow tampers with rows the way someone
// with write access to the database (but no master key) could, and checks
// that each change stops the secret from being read instead of handing out
// another row's value.
func TestPostgresCiphertextIsBoundToItsRow(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	store := keys.NewPostgresStore(db.App, newRing(t, randomKey(t)))

	owner := func(t *testing.T, sql string, args ...any) {
		t.Helper()
		tag, err := db.Owner.Exec(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if tag.RowsAffected() != 1 {
			t.Fatalf("%s: changed %d rows, want 1", sql, tag.RowsAffected())
		}
	}
	put := func(t *testing.T, ref keys.Ref, value string, expires time.Time) {
		t.Helper()
		if err := store.Put(ctx, keys.Secret{Ref: ref, Value: []byte(value), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	wantTampered := func(t *testing.T, label string, ref keys.Ref) {
		t.Helper()
		got, err := store.Get(ctx, ref)
		if err == nil {
			t.Errorf("%s: read %q, want an authentication error", label, got.Value)
			return
		}
		if errors.Is(err, keys.ErrNotFound) || !strings.Contains(err.Error(), "does not authenticate") {
			t.Errorf("%s: %v, want an authentication error", label, err)
		}
	}

	t.Run("ciphertext copied to another name", func(t *testing.T) {
		tenant := db.Tenant(t, "Swap")
		victim := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "victim"}
		source := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "source"}
		put(t, victim, "victim-value", time.Time{})
		put(t, source, "source-value", time.Time{})
		owner(t, `UPDATE key_secrets SET sealed = (SELECT sealed FROM key_secrets WHERE tenant_id = $1 AND name = 'source') WHERE tenant_id = $1 AND name = 'victim'`, tenant)
		wantTampered(t, "swapped ciphertext", victim)
	})

	t.Run("row renamed and re-purposed", func(t *testing.T) {
		tenant := db.Tenant(t, "Rename")
		put(t, keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "before"}, "v", time.Time{})
		owner(t, `UPDATE key_secrets SET name = 'after' WHERE tenant_id = $1`, tenant)
		wantTampered(t, "renamed", keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "after"})
		owner(t, `UPDATE key_secrets SET name = 'before', purpose = 'link-token' WHERE tenant_id = $1`, tenant)
		wantTampered(t, "re-purposed", keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "before"})
	})

	t.Run("facility changed", func(t *testing.T) {
		tenant := db.Tenant(t, "Facility")
		f1, f2 := createFacility(t, db, tenant), createFacility(t, db, tenant)
		put(t, keys.Ref{Tenant: tenant, Facility: f1, Purpose: keys.PurposeNHCXPrivateKey, Name: "k"}, "v", time.Time{})
		owner(t, `UPDATE key_secrets SET facility_id = $2 WHERE tenant_id = $1`, tenant, f2)
		wantTampered(t, "moved to another facility", keys.Ref{Tenant: tenant, Facility: f2, Purpose: keys.PurposeNHCXPrivateKey, Name: "k"})
	})

	t.Run("expiry extended", func(t *testing.T) {
		tenant := db.Tenant(t, "Expiry")
		ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "short"}
		put(t, ref, "v", time.Now().Add(time.Minute))
		owner(t, `UPDATE key_secrets SET expires_at = expires_at + interval '1 year' WHERE tenant_id = $1`, tenant)
		wantTampered(t, "later expiry", ref)
		owner(t, `UPDATE key_secrets SET expires_at = NULL WHERE tenant_id = $1`, tenant)
		wantTampered(t, "expiry removed", ref)
	})

	t.Run("secret moved to another tenant", func(t *testing.T) {
		a, b := db.Tenant(t, "Mover A"), db.Tenant(t, "Mover B")
		put(t, keys.Ref{Tenant: a, Purpose: keys.PurposeABDMClientSecret, Name: "secret"}, "A's secret", time.Time{})
		put(t, keys.Ref{Tenant: b, Purpose: keys.PurposeABDMClientSecret, Name: "other"}, "B's", time.Time{})
		owner(t, `UPDATE key_secrets SET tenant_id = $2 WHERE tenant_id = $1`, a, b)
		wantTampered(t, "moved tenant", keys.Ref{Tenant: b, Purpose: keys.PurposeABDMClientSecret, Name: "secret"})
	})

	t.Run("data key copied to another tenant", func(t *testing.T) {
		a, b := db.Tenant(t, "Key A"), db.Tenant(t, "Key B")
		put(t, keys.Ref{Tenant: a, Purpose: keys.PurposeABDMClientSecret, Name: "s"}, "A", time.Time{})
		ref := keys.Ref{Tenant: b, Purpose: keys.PurposeABDMClientSecret, Name: "s"}
		put(t, ref, "B", time.Time{})
		owner(t, `UPDATE key_data_keys SET wrapped = (SELECT wrapped FROM key_data_keys WHERE tenant_id = $1) WHERE tenant_id = $2`, a, b)
		wantTampered(t, "foreign data key", ref)
		// Nor does B go on sealing new secrets under A's key.
		err := store.Put(ctx, keys.Secret{Ref: keys.Ref{Tenant: b, Purpose: keys.PurposeLinkToken, Name: "new"}, Value: []byte("x")})
		if err == nil || !strings.Contains(err.Error(), "does not authenticate") {
			t.Errorf("Put with a foreign data key: %v, want an authentication error", err)
		}
	})
}

// TestPostgresMasterKeyRotation runs the rotation procedure of `sangam keys
// -h`: data written under the old key stays readable during and after the
// rotation, and afterwards the old key is no longer needed.
func TestPostgresMasterKeyRotation(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	resetKeyTables(t, db)
	oldKey, newKey := randomKey(t), randomKey(t)
	before := keys.NewPostgresStore(db.App, newRing(t, oldKey))

	written := map[keys.Ref]string{}
	for i := range 5 {
		tenant := db.Tenant(t, "Rotation")
		for j := range 3 {
			ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: fmt.Sprintf("txn-%d", j)}
			written[ref] = fmt.Sprintf("value-%d-%d", i, j)
			if err := before.Put(ctx, keys.Secret{Ref: ref, Value: []byte(written[ref])}); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.Tenant(t, "Rotation no secrets")

	readAll := func(label string, s *keys.PostgresStore) {
		t.Helper()
		for ref, want := range written {
			got, err := s.Get(ctx, ref)
			if err != nil {
				t.Fatalf("%s: %s: %v", label, ref, err)
			}
			if string(got.Value) != want {
				t.Fatalf("%s: %s: got %q, want %q", label, ref, got.Value, want)
			}
		}
	}

	// Steps 2 and 3: replicas know both keys; new tenants get the new one.
	during := keys.NewPostgresStore(db.App, newRing(t, newKey, oldKey))
	readAll("both keys, before rotate", during)
	lateTenant := db.Tenant(t, "Rotation late")
	lateRef := keys.Ref{Tenant: lateTenant, Purpose: keys.PurposeLinkToken, Name: "late"}
	written[lateRef] = "written during the rotation"
	if err := during.Put(ctx, keys.Secret{Ref: lateRef, Value: []byte(written[lateRef])}); err != nil {
		t.Fatal(err)
	}

	// Step 4, with readers running all the while.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	readErrs := make(chan error, 100)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for ref, want := range written {
					got, err := during.Get(ctx, ref)
					if err != nil || string(got.Value) != want {
						readErrs <- fmt.Errorf("%s: got %q, %v", ref, got.Value, err)
						return
					}
				}
			}
		})
	}
	res, err := during.RotateMasterKey(ctx)
	close(stop)
	wg.Wait()
	close(readErrs)
	for err := range readErrs {
		t.Errorf("read during rotation: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewrapped != 5 || res.Current != 1 {
		t.Errorf("rotate: %+v, want 5 re-wrapped and 1 already current", res)
	}

	// Step 5: only the new key is left in use and needed.
	counts, err := during.DataKeysByMasterKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[keys.MasterKeyID(newKey)] != 6 {
		t.Errorf("data keys per master key: %v, want only %s: 6", counts, keys.MasterKeyID(newKey))
	}
	after := keys.NewPostgresStore(db.App, newRing(t, newKey))
	readAll("new key only, after rotate", after)
	for ref := range written {
		if _, err := before.Get(ctx, ref); err == nil {
			t.Errorf("%s still readable with only the old master key", ref)
		}
		break
	}

	again, err := after.RotateMasterKey(ctx)
	if err != nil || again.Rewrapped != 0 || again.Current != 6 {
		t.Errorf("second rotate: %+v, %v; want nothing to do", again, err)
	}
}

// TestPostgresRotationNeedsTheOldKey shows the failure an operator sees when
// the previous key is missing: an error naming it, and nothing changed.
func TestPostgresRotationNeedsTheOldKey(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	resetKeyTables(t, db)
	oldKey := randomKey(t)
	tenant := db.Tenant(t, "Lost key")
	ref := keys.Ref{Tenant: tenant, Purpose: keys.PurposeLinkToken, Name: "x"}
	if err := keys.NewPostgresStore(db.App, newRing(t, oldKey)).Put(ctx, keys.Secret{Ref: ref, Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	_, err := keys.NewPostgresStore(db.App, newRing(t, randomKey(t))).RotateMasterKey(ctx)
	if err == nil || !strings.Contains(err.Error(), keys.MasterKeyID(oldKey)) {
		t.Fatalf("rotate without the old key: %v, want an error naming %s", err, keys.MasterKeyID(oldKey))
	}
	if _, err := keys.NewPostgresStore(db.App, newRing(t, oldKey)).Get(ctx, ref); err != nil {
		t.Errorf("after the failed rotation the old key should still work: %v", err)
	}
}
