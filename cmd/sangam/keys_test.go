package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/keys"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// clearKeyEnv keeps the caller's environment (say, VAULT_TOKEN exported by
// tools/vaultsrv/dev.sh) out of the flag defaults.
func clearKeyEnv(t *testing.T) {
	for _, v := range []string{
		"SANGAM_MASTER_KEY_FILE", "SANGAM_MASTER_KEY", "SANGAM_PREVIOUS_MASTER_KEY_FILES", "SANGAM_PREVIOUS_MASTER_KEYS", "DATABASE_URL",
		"KEYS_BACKEND", "VAULT_ADDR", "VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "VAULT_APPROLE_MOUNT",
		"VAULT_KV_MOUNT", "VAULT_PATH_PREFIX", "VAULT_TRANSIT_KEY", "VAULT_TRANSIT_MOUNT",
	} {
		t.Setenv(v, "") // restores the original value when the test ends
		os.Unsetenv(v)
	}
}

func runKeysCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runKeys(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestKeysNewMasterKey(t *testing.T) {
	clearKeyEnv(t)
	path := filepath.Join(t.TempDir(), "master.key")
	stdout, _, err := runKeysCmd(t, "new-master-key", "-out", path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := keys.ReadMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", info.Mode().Perm())
	}
	if !strings.Contains(stdout, keys.MasterKeyID(raw)) {
		t.Errorf("output %q does not name the key id %s", stdout, keys.MasterKeyID(raw))
	}
	if _, _, err := runKeysCmd(t, "new-master-key", "-out", path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second run: %v, want a refusal to overwrite", err)
	}
	after, _ := keys.ReadMasterKeyFile(path)
	if !bytes.Equal(raw, after) {
		t.Error("the existing key was overwritten")
	}
}

// TestKeysRotate follows the procedure in `sangam keys -h` end to end.
func TestKeysRotate(t *testing.T) {
	clearKeyEnv(t)
	db := databasetest.New(t)
	ctx := context.Background()
	dir := t.TempDir()
	oldFile, newFile := filepath.Join(dir, "master.key"), filepath.Join(dir, "master-2.key")

	// Secrets written under the original key.
	oldStore, err := keys.Open(ctx, keys.Config{MasterKey: keys.MasterKeyConfig{File: oldFile}}, db.App)
	if err != nil {
		t.Fatal(err)
	}
	var refs []keys.Ref
	for range 3 {
		ref := keys.Ref{Tenant: db.Tenant(t, "CLI rotate"), Purpose: keys.PurposeABDMClientSecret, Name: "client"}
		refs = append(refs, ref)
		if err := oldStore.Put(ctx, keys.Secret{Ref: ref, Value: []byte("secret of " + ref.Tenant)}); err != nil {
			t.Fatal(err)
		}
	}

	if _, _, err := runKeysCmd(t, "new-master-key", "-out", newFile); err != nil {
		t.Fatal(err)
	}
	newRaw, err := keys.ReadMasterKeyFile(newFile)
	if err != nil {
		t.Fatal(err)
	}
	oldRaw, err := keys.ReadMasterKeyFile(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	newID, oldID := keys.MasterKeyID(newRaw), keys.MasterKeyID(oldRaw)

	// Rotating without the old key fails and says which key is missing.
	if _, _, err := runKeysCmd(t, "rotate", "--database-url", db.URL, "--master-key-file", newFile); err == nil || !strings.Contains(err.Error(), oldID) {
		t.Errorf("rotate without the previous key: %v, want an error naming %s", err, oldID)
	}

	// Settings through the environment, as in production.
	t.Setenv("DATABASE_URL", db.URL)
	t.Setenv("SANGAM_MASTER_KEY_FILE", newFile)
	t.Setenv("SANGAM_PREVIOUS_MASTER_KEY_FILES", oldFile)
	stdout, _, err := runKeysCmd(t, "status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, oldID+": 3 data keys (previous") {
		t.Errorf("status before rotate:\n%s", stdout)
	}
	stdout, _, err = runKeysCmd(t, "rotate")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "re-sealed 3 data keys under master key "+newID) {
		t.Errorf("rotate output: %q", stdout)
	}
	stdout, _, err = runKeysCmd(t, "status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, newID+": 3 data keys (current)") || strings.Contains(stdout, oldID) {
		t.Errorf("status after rotate:\n%s", stdout)
	}

	// The old key file can go: the new one alone reads everything.
	if err := os.Remove(oldFile); err != nil {
		t.Fatal(err)
	}
	newStore, err := keys.Open(ctx, keys.Config{MasterKey: keys.MasterKeyConfig{File: newFile}}, db.App)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		got, err := newStore.Get(ctx, ref)
		if err != nil || string(got.Value) != "secret of "+ref.Tenant {
			t.Errorf("%s after rotation: %q, %v", ref, got.Value, err)
		}
	}
}

func TestKeysRotateNeverCreatesAMasterKey(t *testing.T) {
	clearKeyEnv(t)
	db := databasetest.New(t)
	missing := filepath.Join(t.TempDir(), "typo.key")
	_, _, err := runKeysCmd(t, "rotate", "--database-url", db.URL, "--master-key-file", missing)
	if err == nil || !strings.Contains(err.Error(), "new-master-key") {
		t.Errorf("rotate with a missing key file: %v, want advice to run new-master-key", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rotate created %s", missing)
	}
}

func TestKeysHelpDescribesRotation(t *testing.T) {
	clearKeyEnv(t)
	_, stderr, err := runKeysCmd(t, "-h")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"new-master-key", "rotate", "status", "SANGAM_PREVIOUS_MASTER_KEY_FILES", "without downtime"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if _, _, err := runKeysCmd(t, "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown subcommand: %v, want errUsage", err)
	}
}

// TestKeyStoreOptions checks the settings serve reads for the key store.
func TestKeyStoreOptions(t *testing.T) {
	clearKeyEnv(t)
	t.Setenv("KEYS_BACKEND", "vault")
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:18200")
	t.Setenv("VAULT_ROLE_ID", "role")
	t.Setenv("VAULT_SECRET_ID", "secret")
	t.Setenv("VAULT_TRANSIT_KEY", "sangam")
	t.Setenv("SANGAM_PREVIOUS_MASTER_KEY_FILES", "/a.key, /b.key,")
	var k keyStoreOptions
	o := newOptions("serve", "", io.Discard)
	k.register(o)
	if err := o.parse([]string{"--vault-kv-mount", "kv"}); err != nil {
		t.Fatal(err)
	}
	got := k.config(nil)
	want := keys.Config{
		Backend:   "vault",
		MasterKey: keys.MasterKeyConfig{PreviousFiles: []string{"/a.key", "/b.key"}},
		Vault: keys.VaultConfig{
			Address: "http://127.0.0.1:18200", RoleID: "role", SecretID: "secret", AppRoleMount: "approle",
			KVMount: "kv", PathPrefix: "sangam", TransitKey: "sangam", TransitMount: "transit",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}
