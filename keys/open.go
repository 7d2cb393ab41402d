package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The backends Config.Backend selects.
const (
	BackendEmbedded = "embedded"
	BackendVault    = "vault"
)

// Config selects and configures a Store.
type Config struct {
	// Backend is BackendEmbedded (the default when empty) or BackendVault.
	Backend string
	// MasterKey configures the embedded backend.
	MasterKey MasterKeyConfig
	// Vault configures the Vault backend.
	Vault VaultConfig
	// Logger hears about a newly created master key file; nil discards.
	Logger *slog.Logger
}

// Open returns the Store cfg selects. The embedded store keeps its rows in
// pool, which should be the application pool; the Vault store ignores it.
func Open(ctx context.Context, cfg Config, pool *pgxpool.Pool) (Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Backend {
	case "", BackendEmbedded:
		if pool == nil {
			return nil, errors.New("embedded key store needs a database pool")
		}
		ring, created, err := LoadMasterKeys(cfg.MasterKey)
		if err != nil {
			return nil, err
		}
		if created {
			// Not the key, only where it is: without this file every stored
			// secret is lost, so the operator must back it up now.
			log.WarnContext(ctx, "created a new master key file; back it up, since secrets cannot be read without it",
				"file", cfg.MasterKey.File, "master_key_id", ring.CurrentID())
		}
		return NewPostgresStore(pool, ring), nil
	case BackendVault:
		return NewVaultStore(ctx, cfg.Vault)
	default:
		return nil, fmt.Errorf("KEYS_BACKEND %q: want %q or %q", cfg.Backend, BackendEmbedded, BackendVault)
	}
}
