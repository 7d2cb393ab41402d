package keys

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// PostgresStore is the embedded Store: envelope encryption in PostgreSQL.
//
// Each tenant has one random data key, sealed under the master key and kept
// in key_data_keys; each secret is sealed under its tenant's data key in
// key_secrets. Both tables are row-secured, and every query runs inside
// database.InTenant, so one tenant's requests cannot reach another's rows
// even through a bug in this file.
type PostgresStore struct {
	pool *pgxpool.Pool
	keys *MasterKeys
}

var _ Store = (*PostgresStore)(nil)

// NewPostgresStore returns a store on pool, which should be the application
// pool so that row-level security applies.
func NewPostgresStore(pool *pgxpool.Pool, keys *MasterKeys) *PostgresStore {
	return &PostgresStore{pool: pool, keys: keys}
}

// noFacility matches the generated column key_secrets.facility_key of a
// tenant-wide secret.
const noFacility = "00000000-0000-0000-0000-000000000000"

func facilityKey(ref Ref) string {
	if ref.Facility == "" {
		return noFacility
	}
	return ref.Facility
}

// Put implements Store.
func (s *PostgresStore) Put(ctx context.Context, sec Secret) error {
	if err := sec.validate(); err != nil {
		return err
	}
	ref := sec.canonical()
	// timestamptz keeps microseconds; truncating first makes the sealed
	// expiry equal to the one read back.
	expiresAt := sec.ExpiresAt.Truncate(time.Microsecond)
	var facility, expires any
	if ref.Facility != "" {
		facility = ref.Facility
	}
	if !expiresAt.IsZero() {
		expires = expiresAt
	}
	err := database.InTenant(ctx, s.pool, ref.Tenant, func(tx pgx.Tx) error {
		dk, err := s.dataKey(ctx, tx, ref.Tenant, true)
		if err != nil {
			return err
		}
		sealed, err := seal(dk, sec.Value, secretAAD(ref, expiresAt))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO key_secrets (tenant_id, facility_id, purpose, name, sealed, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, facility_key, purpose, name)
			DO UPDATE SET sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at, updated_at = now()`,
			ref.Tenant, facility, string(ref.Purpose), ref.Name, sealed, expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing secret %s: %w", ref, err)
	}
	return nil
}

// Get implements Store.
func (s *PostgresStore) Get(ctx context.Context, r Ref) (Secret, error) {
	if err := r.validate(); err != nil {
		return Secret{}, err
	}
	ref := r.canonical()
	var (
		sealed, wrapped []byte
		masterID        string
		expires         *time.Time
	)
	err := database.InTenant(ctx, s.pool, ref.Tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT s.sealed, s.expires_at, d.master_key_id, d.wrapped
			FROM key_secrets s JOIN key_data_keys d ON d.tenant_id = s.tenant_id
			WHERE s.tenant_id = $1 AND s.facility_key = $2 AND s.purpose = $3 AND s.name = $4`,
			ref.Tenant, facilityKey(ref), string(ref.Purpose), ref.Name).Scan(&sealed, &expires, &masterID, &wrapped)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Secret{}, fmt.Errorf("secret %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return Secret{}, fmt.Errorf("reading secret %s: %w", ref, err)
	}
	out := Secret{Ref: ref}
	if expires != nil {
		out.ExpiresAt = *expires
	}
	if expired(out.ExpiresAt, time.Now()) {
		return Secret{}, fmt.Errorf("secret %s: %w", ref, ErrNotFound)
	}
	dk, err := s.openDataKey(ref.Tenant, masterID, wrapped)
	if err != nil {
		return Secret{}, fmt.Errorf("reading secret %s: %w", ref, err)
	}
	if out.Value, err = unseal(dk, sealed, secretAAD(ref, out.ExpiresAt)); err != nil {
		return Secret{}, fmt.Errorf("reading secret %s: %w", ref, err)
	}
	return out, nil
}

// Delete implements Store.
func (s *PostgresStore) Delete(ctx context.Context, r Ref) error {
	if err := r.validate(); err != nil {
		return err
	}
	ref := r.canonical()
	err := database.InTenant(ctx, s.pool, ref.Tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM key_secrets WHERE tenant_id = $1 AND facility_key = $2 AND purpose = $3 AND name = $4`,
			ref.Tenant, facilityKey(ref), string(ref.Purpose), ref.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting secret %s: %w", ref, err)
	}
	return nil
}

// PurgeExpired implements Store. It works tenant by tenant, each in its own
// short transaction under that tenant's row-level security, because the
// application role cannot see across tenants.
func (s *PostgresStore) PurgeExpired(ctx context.Context) (int, error) {
	tenants, err := database.TenantIDs(ctx, s.pool)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	total := 0
	for _, tenant := range tenants {
		err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM key_secrets WHERE tenant_id = $1 AND expires_at <= $2`, tenant, now)
			total += int(tag.RowsAffected())
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purging expired secrets of tenant %s: %w", tenant, err)
		}
	}
	return total, nil
}

// RotateResult counts what RotateMasterKey did.
type RotateResult struct {
	// Rewrapped data keys were sealed under a previous master key and are
	// now sealed under the current one.
	Rewrapped int
	// Current data keys were already sealed under the current master key.
	Current int
}

// RotateMasterKey re-seals every tenant's data key that is still under a
// previous master key with the current one. Secrets themselves are not
// touched: they stay sealed under their unchanged data keys. Each tenant is
// one short transaction holding only its key_data_keys row, so readers are
// never blocked for long and running it again after an interruption simply
// carries on. Afterwards the previous master keys are no longer needed.
func (s *PostgresStore) RotateMasterKey(ctx context.Context) (RotateResult, error) {
	var res RotateResult
	tenants, err := database.TenantIDs(ctx, s.pool)
	if err != nil {
		return res, err
	}
	current := s.keys.current
	for _, tenant := range tenants {
		err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
			var masterID string
			var wrapped []byte
			err := tx.QueryRow(ctx, `SELECT master_key_id, wrapped FROM key_data_keys WHERE tenant_id = $1 FOR UPDATE`, tenant).Scan(&masterID, &wrapped)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // tenant has never stored a secret
			}
			if err != nil {
				return err
			}
			if masterID == current.id {
				res.Current++
				return nil
			}
			raw, err := s.unwrapDataKey(tenant, masterID, wrapped)
			if err != nil {
				return err
			}
			rewrapped, err := seal(current.aead, raw, dataKeyAAD(tenant))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE key_data_keys SET master_key_id = $2, wrapped = $3, rewrapped_at = now() WHERE tenant_id = $1`,
				tenant, current.id, rewrapped); err != nil {
				return err
			}
			res.Rewrapped++
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("re-wrapping data key of tenant %s: %w", tenant, err)
		}
	}
	return res, nil
}

// DataKeysByMasterKey counts tenants' data keys per sealing master key id,
// so an operator can confirm that a rotation left nothing under the old key.
func (s *PostgresStore) DataKeysByMasterKey(ctx context.Context) (map[string]int, error) {
	tenants, err := database.TenantIDs(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, tenant := range tenants {
		err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
			var id string
			err := tx.QueryRow(ctx, `SELECT master_key_id FROM key_data_keys WHERE tenant_id = $1`, tenant).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			counts[id]++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading data key of tenant %s: %w", tenant, err)
		}
	}
	return counts, nil
}

// dataKey returns the tenant's data key as a ready cipher, creating it when
// create is set and the tenant has none. Two first writes racing each other
// both end up with whichever key was inserted first.
func (s *PostgresStore) dataKey(ctx context.Context, tx pgx.Tx, tenant string, create bool) (cipher.AEAD, error) {
	var masterID string
	var wrapped []byte
	err := tx.QueryRow(ctx, `SELECT master_key_id, wrapped FROM key_data_keys WHERE tenant_id = $1`, tenant).Scan(&masterID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) && create {
		raw := make([]byte, MasterKeySize)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("generating data key: %w", err)
		}
		sealed, serr := seal(s.keys.current.aead, raw, dataKeyAAD(tenant))
		if serr != nil {
			return nil, serr
		}
		if _, err := tx.Exec(ctx, `INSERT INTO key_data_keys (tenant_id, master_key_id, wrapped) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING`,
			tenant, s.keys.current.id, sealed); err != nil {
			return nil, fmt.Errorf("storing data key: %w", err)
		}
		err = tx.QueryRow(ctx, `SELECT master_key_id, wrapped FROM key_data_keys WHERE tenant_id = $1`, tenant).Scan(&masterID, &wrapped)
	}
	if err != nil {
		return nil, fmt.Errorf("reading data key: %w", err)
	}
	return s.openDataKey(tenant, masterID, wrapped)
}

func (s *PostgresStore) openDataKey(tenant, masterID string, wrapped []byte) (cipher.AEAD, error) {
	raw, err := s.unwrapDataKey(tenant, masterID, wrapped)
	if err != nil {
		return nil, err
	}
	return newGCM(raw)
}

func (s *PostgresStore) unwrapDataKey(tenant, masterID string, wrapped []byte) ([]byte, error) {
	mk, ok := s.keys.byID[masterID]
	if !ok {
		return nil, fmt.Errorf("the tenant's data key is sealed under master key %s, which is not configured (configured: %v); add it as a previous master key, then run `sangam keys rotate`", masterID, s.keys.IDs())
	}
	raw, err := unseal(mk.aead, wrapped, dataKeyAAD(tenant))
	if err != nil {
		return nil, fmt.Errorf("opening data key: %w", err)
	}
	return raw, nil
}
