package keys_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	vault "github.com/hashicorp/vault/api"

	"github.com/sangamhealth/sangam/keys"
)

// vaultServer is a real Vault dev server, given by SANGAM_TEST_VAULT_ADDR
// and SANGAM_TEST_VAULT_TOKEN (a root token). `make test` starts one.
type vaultServer struct {
	addr, token string
	admin       *vault.Client
}

func newVaultServer(t *testing.T) *vaultServer {
	t.Helper()
	addr, token := os.Getenv("SANGAM_TEST_VAULT_ADDR"), os.Getenv("SANGAM_TEST_VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Skip("SANGAM_TEST_VAULT_ADDR and SANGAM_TEST_VAULT_TOKEN are unset: `make test` starts a Vault dev server and sets them (or run tools/vaultsrv/dev.sh)")
	}
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	admin, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin.SetToken(token)
	return &vaultServer{addr: addr, token: token, admin: admin}
}

// prefix returns a fresh KV folder for one test and removes it afterwards,
// so tests never see each other's secrets.
func (v *vaultServer) prefix(t *testing.T) string {
	t.Helper()
	p := "sangam-test-" + uuid.NewString()[:8]
	t.Cleanup(func() { v.deleteTree(t, "secret", p) })
	return p
}

func (v *vaultServer) deleteTree(t *testing.T, mount, dir string) {
	ctx := context.Background()
	resp, err := v.admin.Logical().ListWithContext(ctx, mount+"/metadata/"+dir)
	if err != nil || resp == nil {
		return
	}
	names, _ := resp.Data["keys"].([]any)
	for _, n := range names {
		name, _ := n.(string)
		if strings.HasSuffix(name, "/") {
			v.deleteTree(t, mount, dir+"/"+strings.TrimSuffix(name, "/"))
			continue
		}
		if err := v.admin.KVv2(mount).DeleteMetadata(ctx, dir+"/"+name); err != nil {
			t.Errorf("cleaning up %s/%s: %v", dir, name, err)
		}
	}
}

// mount enables a secrets engine or auth method at a fresh path and
// disables it when the test ends.
func (v *vaultServer) mount(t *testing.T, kind string) string {
	t.Helper()
	ctx := context.Background()
	path := kind + "-test-" + uuid.NewString()[:8]
	if kind == "approle" {
		if err := v.admin.Sys().EnableAuthWithOptionsWithContext(ctx, path, &vault.EnableAuthOptions{Type: "approle"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = v.admin.Sys().DisableAuthWithContext(context.Background(), path) })
		return path
	}
	if err := v.admin.Sys().MountWithContext(ctx, path, &vault.MountInput{Type: kind}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.admin.Sys().UnmountWithContext(context.Background(), path) })
	return path
}

func vaultBundle(store keys.Store) storeBundle {
	return storeBundle{
		store:    store,
		tenant:   func(*testing.T) string { return uuid.NewString() },
		facility: func(*testing.T, string) string { return uuid.NewString() },
	}
}

func TestVaultStoreWithToken(t *testing.T) {
	v := newVaultServer(t)
	ctx := context.Background()
	prefix := v.prefix(t)
	store, err := keys.Open(ctx, keys.Config{Backend: keys.BackendVault, Vault: keys.VaultConfig{
		Address: v.addr, Token: v.token, PathPrefix: prefix,
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := store.(*keys.VaultStore); !ok {
		t.Fatalf("Open with backend vault gave %T", store)
	}
	testStoreContract(t, vaultBundle(store))

	// The layout is per tenant and per facility, so Vault policies can be
	// written along those lines; the expiry is readable as metadata.
	tenant, facility := uuid.NewString(), uuid.NewString()
	ref := keys.Ref{Tenant: tenant, Facility: facility, Purpose: keys.PurposeNHCXPrivateKey, Name: "signing"}
	sec := keys.Secret{Ref: ref, Value: []byte("nhcx key"), ExpiresAt: mustTime(t, "2099-01-02T03:04:05.123456Z")}
	if err := store.Put(ctx, sec); err != nil {
		t.Fatal(err)
	}
	kvs, err := v.admin.KVv2("secret").Get(ctx, fmt.Sprintf("%s/%s/%s/nhcx-private-key/signing", prefix, tenant, facility))
	if err != nil {
		t.Fatalf("secret not at the documented path: %v", err)
	}
	if got := kvs.CustomMetadata["expires_at"]; got != "2099-01-02T03:04:05.123456Z" {
		t.Errorf("custom metadata expires_at = %v", got)
	}
	if got, _ := kvs.Data["value"].(string); got != base64.StdEncoding.EncodeToString([]byte("nhcx key")) {
		t.Errorf("stored value = %q", got)
	}
	md, err := v.admin.KVv2("secret").GetMetadata(ctx, fmt.Sprintf("%s/%s/%s/nhcx-private-key/signing", prefix, tenant, facility))
	if err != nil {
		t.Fatal(err)
	}
	if md.MaxVersions != 1 {
		t.Errorf("max_versions = %d, want 1 so replaced values do not linger", md.MaxVersions)
	}
	wide := keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: "client"}
	if err := store.Put(ctx, keys.Secret{Ref: wide, Value: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.admin.KVv2("secret").Get(ctx, fmt.Sprintf("%s/%s/_/abdm-client-secret/client", prefix, tenant)); err != nil {
		t.Errorf("tenant-wide secret not under _: %v", err)
	}

	// Expiry is enforced on read even before any purge.
	if _, err := v.admin.KVv2("secret").Patch(ctx, fmt.Sprintf("%s/%s/_/abdm-client-secret/client", prefix, tenant),
		map[string]any{"expires_at": "2001-01-01T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, wide); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("entry past its expiry: %v, want ErrNotFound", err)
	}
}

func TestVaultStoreWithTransit(t *testing.T) {
	v := newVaultServer(t)
	ctx := context.Background()
	prefix := v.prefix(t)
	transit := v.mount(t, "transit")
	if _, err := v.admin.Logical().WriteWithContext(ctx, transit+"/keys/sangam", map[string]any{"type": "aes256-gcm96"}); err != nil {
		t.Fatal(err)
	}
	store, err := keys.NewVaultStore(ctx, keys.VaultConfig{
		Address: v.addr, Token: v.token, PathPrefix: prefix, TransitMount: transit, TransitKey: "sangam",
	})
	if err != nil {
		t.Fatal(err)
	}
	testStoreContract(t, vaultBundle(store))

	tenant := uuid.NewString()
	a := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "a"}
	b := keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: "b"}
	for _, ref := range []keys.Ref{a, b} {
		if err := store.Put(ctx, keys.Secret{Ref: ref, Value: []byte("PLAINTEXT-" + ref.Name)}); err != nil {
			t.Fatal(err)
		}
	}
	kv := v.admin.KVv2("secret")
	pathA := fmt.Sprintf("%s/%s/_/hiu-private-key/a", prefix, tenant)
	pathB := fmt.Sprintf("%s/%s/_/hiu-private-key/b", prefix, tenant)
	rawA, err := kv.Get(ctx, pathA)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := rawA.Data["ciphertext"].(string)
	if !strings.HasPrefix(ct, "vault:v1:") {
		t.Errorf("stored ciphertext %q is not a transit ciphertext", ct)
	}
	for k, val := range rawA.Data {
		if s, _ := val.(string); strings.Contains(s, "PLAINTEXT") || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte("PLAINTEXT-a"))) {
			t.Errorf("KV field %s holds the plaintext: %q", k, s)
		}
	}

	// The transit associated data binds a ciphertext to its path: copying
	// a's entry over b's makes b unreadable rather than returning a's value.
	if _, err := kv.Put(ctx, pathB, rawA.Data); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, b)
	if err == nil {
		t.Errorf("copied ciphertext read as %q, want an error", got.Value)
	} else if errors.Is(err, keys.ErrNotFound) {
		t.Errorf("copied ciphertext: %v, want a decryption error", err)
	}

	// A store without transit configured still reads values written with
	// it, because the entry names its transit key.
	plain, err := keys.NewVaultStore(ctx, keys.VaultConfig{Address: v.addr, Token: v.token, PathPrefix: prefix, TransitMount: transit})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := plain.Get(ctx, a); err != nil || string(got.Value) != "PLAINTEXT-a" {
		t.Errorf("reading a transit entry without VAULT_TRANSIT_KEY: %q, %v", got.Value, err)
	}
}

// TestVaultStoreWithAppRole logs in through AppRole with a policy limited to
// the store's folder, and keeps working after Vault revokes the token.
func TestVaultStoreWithAppRole(t *testing.T) {
	v := newVaultServer(t)
	ctx := context.Background()
	prefix := v.prefix(t)
	approle := v.mount(t, "approle")

	policy := fmt.Sprintf(`
path "secret/data/%[1]s/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/%[1]s/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "secret/metadata/%[1]s"   { capabilities = ["list"] }
`, prefix)
	policyName := "sangam-" + prefix
	if err := v.admin.Sys().PutPolicyWithContext(ctx, policyName, policy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.admin.Sys().DeletePolicyWithContext(context.Background(), policyName) })
	if _, err := v.admin.Logical().WriteWithContext(ctx, "auth/"+approle+"/role/sangam", map[string]any{
		"token_policies": policyName,
		"token_ttl":      "10m",
	}); err != nil {
		t.Fatal(err)
	}
	roleResp, err := v.admin.Logical().ReadWithContext(ctx, "auth/"+approle+"/role/sangam/role-id")
	if err != nil {
		t.Fatal(err)
	}
	roleID, _ := roleResp.Data["role_id"].(string)
	secretResp, err := v.admin.Logical().WriteWithContext(ctx, "auth/"+approle+"/role/sangam/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	secretID, _ := secretResp.Data["secret_id"].(string)

	cfg := keys.VaultConfig{Address: v.addr, RoleID: roleID, SecretID: secretID, AppRoleMount: approle, PathPrefix: prefix}
	store, err := keys.NewVaultStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	testStoreContract(t, vaultBundle(store))

	// Revoke every token AppRole has issued: the store logs in again.
	ref := keys.Ref{Tenant: uuid.NewString(), Purpose: keys.PurposeLinkToken, Name: "after-revoke"}
	if err := store.Put(ctx, keys.Secret{Ref: ref, Value: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	if err := v.admin.Sys().RevokePrefixWithContext(ctx, "auth/"+approle+"/login"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Get(ctx, ref); err != nil || string(got.Value) != "v1" {
		t.Errorf("after token revocation: %q, %v; want the value after a new login", got.Value, err)
	}

	// The policy, not the store, keeps it inside its folder: a store
	// pointed elsewhere with the same credentials is refused.
	outside := cfg
	outside.PathPrefix = prefix + "-elsewhere"
	other, err := keys.NewVaultStore(ctx, outside)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Put(ctx, keys.Secret{Ref: ref, Value: []byte("x")}); err == nil {
		t.Error("AppRole token wrote outside its policy's folder")
	}

	bad := cfg
	bad.SecretID = uuid.NewString()
	if _, err := keys.NewVaultStore(ctx, bad); err == nil || !strings.Contains(err.Error(), "AppRole") {
		t.Errorf("wrong secret id: %v, want an AppRole login error", err)
	}
}

func TestVaultStoreRefusesBadCredentials(t *testing.T) {
	v := newVaultServer(t)
	ctx := context.Background()
	if _, err := keys.NewVaultStore(ctx, keys.VaultConfig{Address: v.addr, Token: "not-a-token"}); err == nil || !strings.Contains(err.Error(), "VAULT_TOKEN") {
		t.Errorf("bad token: %v, want an error naming VAULT_TOKEN", err)
	}
	if _, err := keys.NewVaultStore(ctx, keys.VaultConfig{Address: v.addr}); err == nil {
		t.Error("no credentials: want an error")
	}
	if _, err := keys.NewVaultStore(ctx, keys.VaultConfig{Address: v.addr, RoleID: "x"}); err == nil || !strings.Contains(err.Error(), "VAULT_SECRET_ID") {
		t.Errorf("role id without secret id: %v, want an error naming VAULT_SECRET_ID", err)
	}
}
