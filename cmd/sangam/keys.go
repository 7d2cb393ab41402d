package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/keys"
)

// keyStoreOptions are the settings of the key store. serve registers all of
// them; the keys subcommands only the master key ones.
type keyStoreOptions struct {
	backend   string
	masterKey masterKeyOptions
	vault     keys.VaultConfig
}

func (k *keyStoreOptions) register(o *options) {
	o.String(&k.backend, "keys-backend", "KEYS_BACKEND", keys.BackendEmbedded, "where secrets are kept: embedded (encrypted in PostgreSQL) or vault")
	k.masterKey.register(o)
	v := &k.vault
	o.String(&v.Address, "vault-addr", "VAULT_ADDR", "", "Vault URL, for --keys-backend=vault")
	o.String(&v.Token, "vault-token", "VAULT_TOKEN", "", "Vault token (prefer the environment variable, or AppRole)")
	o.String(&v.RoleID, "vault-role-id", "VAULT_ROLE_ID", "", "AppRole role id; with --vault-secret-id, used instead of a token")
	o.String(&v.SecretID, "vault-secret-id", "VAULT_SECRET_ID", "", "AppRole secret id (prefer the environment variable)")
	o.String(&v.AppRoleMount, "vault-approle-mount", "VAULT_APPROLE_MOUNT", "approle", "mount path of the AppRole auth method")
	o.String(&v.KVMount, "vault-kv-mount", "VAULT_KV_MOUNT", "secret", "mount path of the KV version 2 engine")
	o.String(&v.PathPrefix, "vault-path-prefix", "VAULT_PATH_PREFIX", "sangam", "folder under the KV mount for Sangam's secrets")
	o.String(&v.TransitKey, "vault-transit-key", "VAULT_TRANSIT_KEY", "", "transit key that encrypts values before they are stored in KV; empty stores them as they are")
	o.String(&v.TransitMount, "vault-transit-mount", "VAULT_TRANSIT_MOUNT", "transit", "mount path of the transit engine")
}

// config is what keys.Open takes; log hears about a newly made master key.
func (k *keyStoreOptions) config(log *slog.Logger) keys.Config {
	return keys.Config{Backend: k.backend, MasterKey: k.masterKey.config(), Vault: k.vault, Logger: log}
}

type masterKeyOptions struct {
	file, key, previousFiles, previous string
}

func (m *masterKeyOptions) register(o *options) {
	o.String(&m.file, "master-key-file", "SANGAM_MASTER_KEY_FILE", "", "file holding the embedded key store's master key; created with mode 0600 when missing")
	o.String(&m.key, "master-key", "SANGAM_MASTER_KEY", "", "the master key itself in base64, instead of a file (prefer the environment variable)")
	o.String(&m.previousFiles, "previous-master-key-files", "SANGAM_PREVIOUS_MASTER_KEY_FILES", "", "comma-separated files of older master keys, needed only until 'sangam keys rotate' has run")
	o.String(&m.previous, "previous-master-keys", "SANGAM_PREVIOUS_MASTER_KEYS", "", "comma-separated older master keys in base64 (prefer the environment variable)")
}

func (m *masterKeyOptions) config() keys.MasterKeyConfig {
	return keys.MasterKeyConfig{
		File:          m.file,
		Key:           m.key,
		PreviousFiles: splitList(m.previousFiles),
		Previous:      splitList(m.previous),
	}
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

const keysUsage = `Usage: sangam keys <command> [options]

Manage the master key of the embedded key store, which keeps secrets in
PostgreSQL sealed under per-tenant data keys, themselves sealed under the
master key. (With KEYS_BACKEND=vault, Vault holds the secrets and these
commands do not apply; rotate a transit key with Vault's own
"vault write -f transit/keys/<name>/rotate".)

Commands:
  new-master-key  write a new random master key to a file with mode 0600
  rotate          re-seal every tenant's data key under the current master key
  status          count tenants' data keys per master key

Rotating the master key without downtime:
  1. sangam keys new-master-key -out /etc/sangam/master-2.key
  2. Restart the replicas with the new key added as a previous key, so every
     replica can open data keys sealed under it before any replica makes one:
       SANGAM_PREVIOUS_MASTER_KEY_FILES=/etc/sangam/master-2.key
     (Only needed when replicas restart one by one; with one replica go to 3.)
  3. Restart the replicas with the keys swapped; new data keys are now sealed
     under the new key, and the old one still opens the rest:
       SANGAM_MASTER_KEY_FILE=/etc/sangam/master-2.key
       SANGAM_PREVIOUS_MASTER_KEY_FILES=/etc/sangam/master.key
  4. With the settings of step 3:  sangam keys rotate
     Each tenant's data key is re-sealed in its own short transaction; the
     secrets themselves are not re-encrypted. It is safe to run again after an
     interruption.
  5. sangam keys status  must list only the new key's id. Then drop
     SANGAM_PREVIOUS_MASTER_KEY_FILES and restart. Keep the old key only as
     long as database backups from before the rotation: they need it.

Run "sangam keys <command> -h" for a command's options.
`

func runKeys(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, keysUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "new-master-key":
		return runKeysNewMasterKey(args[1:], stdout, stderr)
	case "rotate":
		return runKeysRotate(ctx, args[1:], stdout, stderr)
	case "status":
		return runKeysStatus(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sangam keys: unknown command %q\n\n", args[0])
	fmt.Fprint(stderr, keysUsage)
	return errUsage
}

func runKeysNewMasterKey(args []string, stdout, stderr io.Writer) error {
	var out string
	o := newOptions("keys new-master-key", "Write a new random master key (base64 of 32 bytes) to a new file with mode 0600.\nAn existing file is never overwritten.", stderr)
	o.String(&out, "out", "", "", "file to create (required)")
	if err := o.parse(args); err != nil {
		return err
	}
	if out == "" {
		return errors.New("--out is required")
	}
	created, err := keys.WriteNewMasterKeyFile(out)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("%s already exists; refusing to overwrite a master key", out)
	}
	raw, err := keys.ReadMasterKeyFile(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote master key %s to %s; back it up before using it\n", keys.MasterKeyID(raw), out)
	return nil
}

// openPostgresKeyStore opens the embedded store for the admin commands,
// which must never create a master key file: a typo in the path would
// otherwise re-seal every data key under a key nobody has backed up.
func openPostgresKeyStore(ctx context.Context, name, synopsis string, args []string, stderr io.Writer) (*keys.PostgresStore, *keys.MasterKeys, func(), error) {
	var (
		databaseURL string
		mk          masterKeyOptions
	)
	o := newOptions(name, synopsis, stderr)
	o.String(&databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL (required)")
	mk.register(o)
	if err := o.parse(args); err != nil {
		return nil, nil, nil, err
	}
	if databaseURL == "" {
		return nil, nil, nil, errors.New("DATABASE_URL (--database-url) is required")
	}
	cfg := mk.config()
	if cfg.File != "" {
		if _, err := os.Stat(cfg.File); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("master key file %s does not exist (make one with `sangam keys new-master-key -out %s`)", cfg.File, cfg.File)
		}
	}
	ring, _, err := keys.LoadMasterKeys(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, err := database.Open(ctx, databaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := database.CheckSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return keys.NewPostgresStore(pool, ring), ring, pool.Close, nil
}

func runKeysRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	store, ring, closeFunc, err := openPostgresKeyStore(ctx, "keys rotate",
		"Re-seal every tenant's data key that is still under a previous master key with the\ncurrent one. See `sangam keys -h` for the whole procedure.", args, stderr)
	if err != nil {
		return err
	}
	defer closeFunc()
	res, err := store.RotateMasterKey(ctx)
	if err != nil {
		if res.Rewrapped > 0 {
			fmt.Fprintf(stdout, "re-sealed %d data keys before the error; running again carries on\n", res.Rewrapped)
		}
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %d data keys under master key %s (%d were already under it)\n", res.Rewrapped, ring.CurrentID(), res.Current)
	return nil
}

func runKeysStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	store, ring, closeFunc, err := openPostgresKeyStore(ctx, "keys status",
		"Count tenants' data keys per master key id. After `sangam keys rotate` only the\ncurrent key's id should be listed.", args, stderr)
	if err != nil {
		return err
	}
	defer closeFunc()
	counts, err := store.DataKeysByMasterKey(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fmt.Fprintf(stdout, "current master key: %s\n", ring.CurrentID())
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "no tenant has a data key yet")
	}
	configured := ring.IDs()
	for _, id := range ids {
		note := ""
		switch {
		case id == ring.CurrentID():
			note = " (current)"
		case slices.Contains(configured, id):
			note = " (previous: run `sangam keys rotate`)"
		default:
			note = " (NOT CONFIGURED: these tenants' secrets cannot be read)"
		}
		fmt.Fprintf(stdout, "%s: %d data keys%s\n", id, counts[id], note)
	}
	return nil
}
