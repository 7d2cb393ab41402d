package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// VaultConfig configures VaultStore. Authentication is AppRole when RoleID
// is set, otherwise Token.
type VaultConfig struct {
	// Address is Vault's URL, e.g. https://vault.internal:8200. TLS settings
	// come from Vault's usual VAULT_CACERT/VAULT_CLIENT_CERT variables.
	Address string
	// Token is a Vault token; renewing it is the operator's business (use a
	// periodic token), so prefer AppRole for long-running processes.
	Token string
	// RoleID and SecretID log in through AppRole. The store logs in again
	// when Vault starts refusing the token, so token expiry needs no care.
	RoleID, SecretID string
	// AppRoleMount is where AppRole is enabled; default "approle".
	AppRoleMount string
	// KVMount is the KV version 2 mount; default "secret".
	KVMount string
	// PathPrefix is the folder under the mount that holds Sangam's secrets;
	// default "sangam". A secret lives at
	// <KVMount>/data/<PathPrefix>/<tenant>/<facility or _>/<purpose>/<name>,
	// so Vault policies can grant per tenant or per facility.
	PathPrefix string
	// TransitKey, when set, names a transit key (aes256-gcm96 or another
	// AEAD type) that encrypts each value before it is written to KV, so a
	// KV read permission alone does not reveal secrets.
	TransitKey string
	// TransitMount is the transit engine's mount; default "transit".
	TransitMount string
}

func (c *VaultConfig) withDefaults() {
	if c.AppRoleMount == "" {
		c.AppRoleMount = "approle"
	}
	if c.KVMount == "" {
		c.KVMount = "secret"
	}
	if c.PathPrefix == "" {
		c.PathPrefix = "sangam"
	}
	if c.TransitMount == "" {
		c.TransitMount = "transit"
	}
	c.KVMount = strings.Trim(c.KVMount, "/")
	c.PathPrefix = strings.Trim(c.PathPrefix, "/")
	c.TransitMount = strings.Trim(c.TransitMount, "/")
	c.AppRoleMount = strings.Trim(c.AppRoleMount, "/")
}

// VaultStore is a Store in HashiCorp Vault's KV v2 engine.
//
// Each secret is one KV entry holding the value (base64, or a transit
// ciphertext) and its expiry; the expiry is also written to the entry's
// custom metadata, where PurgeExpired reads it without touching the value.
// Entries keep a single version, so replacing or deleting a secret leaves no
// old copy readable.
//
// With the default mounts and prefix, Sangam's token needs this policy (plus
// Vault's default policy, for token lookup-self); narrow the paths to
// sangam/<tenant>/* to confine a deployment to some tenants:
//
//	path "secret/data/sangam/*"     { capabilities = ["create", "read", "update", "delete"] }
//	path "secret/metadata/sangam/*" { capabilities = ["create", "read", "update", "delete", "list"] }
//	path "secret/metadata/sangam"   { capabilities = ["list"] }
//	path "transit/encrypt/<key>"    { capabilities = ["update"] }
//	path "transit/decrypt/<key>"    { capabilities = ["update"] }
type VaultStore struct {
	cfg    VaultConfig
	client *vault.Client
	kv     *vault.KVv2
	// loginMu serialises AppRole logins when several calls see an expired
	// token at once.
	loginMu sync.Mutex
}

var _ Store = (*VaultStore)(nil)

// NewVaultStore connects to Vault and checks that the credentials work.
func NewVaultStore(ctx context.Context, cfg VaultConfig) (*VaultStore, error) {
	cfg.withDefaults()
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("vault client configuration: %w", vc.Error)
	}
	if cfg.Address != "" {
		vc.Address = cfg.Address
	}
	client, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("creating vault client for %s: %w", vc.Address, err)
	}
	// The client picks VAULT_TOKEN up from the environment by itself;
	// configuration alone decides the credentials here.
	client.ClearToken()
	s := &VaultStore{cfg: cfg, client: client, kv: client.KVv2(cfg.KVMount)}
	switch {
	case cfg.RoleID != "":
		if cfg.SecretID == "" {
			return nil, errors.New("vault AppRole login needs VAULT_SECRET_ID as well as VAULT_ROLE_ID")
		}
		if err := s.login(ctx, ""); err != nil {
			return nil, err
		}
	case cfg.Token != "":
		client.SetToken(cfg.Token)
		if _, err := client.Auth().Token().LookupSelfWithContext(ctx); err != nil {
			return nil, fmt.Errorf("vault at %s refused VAULT_TOKEN: %w", vc.Address, err)
		}
	default:
		return nil, errors.New("vault key store needs VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID")
	}
	return s, nil
}

// login fetches a new token through AppRole unless another caller already
// replaced stale since this one saw it fail.
func (s *VaultStore) login(ctx context.Context, stale string) error {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if stale != "" && s.client.Token() != stale {
		return nil
	}
	lc, err := s.client.Clone()
	if err != nil {
		return fmt.Errorf("vault AppRole login: %w", err)
	}
	lc.ClearToken()
	resp, err := lc.Logical().WriteWithContext(ctx, "auth/"+s.cfg.AppRoleMount+"/login", map[string]any{
		"role_id":   s.cfg.RoleID,
		"secret_id": s.cfg.SecretID,
	})
	if err != nil {
		return fmt.Errorf("vault AppRole login at auth/%s: %w", s.cfg.AppRoleMount, err)
	}
	if resp == nil || resp.Auth == nil || resp.Auth.ClientToken == "" {
		return fmt.Errorf("vault AppRole login at auth/%s returned no token", s.cfg.AppRoleMount)
	}
	s.client.SetToken(resp.Auth.ClientToken)
	return nil
}

// do runs op, logging in again and retrying once if Vault refuses an
// AppRole token (it has expired or been revoked).
func (s *VaultStore) do(ctx context.Context, op func() error) error {
	token := s.client.Token()
	err := op()
	var re *vault.ResponseError
	if err == nil || s.cfg.RoleID == "" || !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		return err
	}
	if lerr := s.login(ctx, token); lerr != nil {
		return errors.Join(err, lerr)
	}
	return op()
}

// secretPath is the KV path of ref below the mount. Ref.validate has
// restricted every part to characters that cannot form "/" or "..".
func (s *VaultStore) secretPath(ref Ref) string {
	facility := ref.Facility
	if facility == "" {
		facility = "_"
	}
	return path.Join(s.cfg.PathPrefix, ref.Tenant, facility, string(ref.Purpose), ref.Name)
}

// Put implements Store. The expiry goes into custom metadata before the
// value is written, so a purge running alongside never sees a new value
// under the old expiry.
func (s *VaultStore) Put(ctx context.Context, sec Secret) error {
	if err := sec.validate(); err != nil {
		return err
	}
	ref := sec.canonical()
	expiresAt := sec.ExpiresAt.Truncate(time.Microsecond).UTC()
	p := s.secretPath(ref)

	data := map[string]any{}
	custom := map[string]any{"purpose": string(ref.Purpose)}
	if !expiresAt.IsZero() {
		data["expires_at"] = expiresAt.Format(time.RFC3339Nano)
		custom["expires_at"] = expiresAt.Format(time.RFC3339Nano)
	}
	if s.cfg.TransitKey != "" {
		ct, err := s.transitEncrypt(ctx, s.cfg.TransitKey, sec.Value, secretAAD(ref, expiresAt))
		if err != nil {
			return fmt.Errorf("storing secret %s: %w", ref, err)
		}
		data["ciphertext"] = ct
		data["transit_key"] = s.cfg.TransitKey
	} else {
		data["value"] = base64.StdEncoding.EncodeToString(sec.Value)
	}

	err := s.do(ctx, func() error {
		if err := s.kv.PutMetadata(ctx, p, vault.KVMetadataPutInput{MaxVersions: 1, CustomMetadata: custom}); err != nil {
			return err
		}
		_, err := s.kv.Put(ctx, p, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing secret %s in vault: %w", ref, err)
	}
	return nil
}

// Get implements Store.
func (s *VaultStore) Get(ctx context.Context, r Ref) (Secret, error) {
	if err := r.validate(); err != nil {
		return Secret{}, err
	}
	ref := r.canonical()
	var kvs *vault.KVSecret
	err := s.do(ctx, func() error {
		var err error
		kvs, err = s.kv.Get(ctx, s.secretPath(ref))
		return err
	})
	if errors.Is(err, vault.ErrSecretNotFound) || err == nil && kvs.Data == nil {
		return Secret{}, fmt.Errorf("secret %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return Secret{}, fmt.Errorf("reading secret %s from vault: %w", ref, err)
	}
	out := Secret{Ref: ref}
	if v, ok := kvs.Data["expires_at"].(string); ok {
		if out.ExpiresAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return Secret{}, fmt.Errorf("reading secret %s from vault: bad expires_at: %w", ref, err)
		}
	}
	if expired(out.ExpiresAt, time.Now()) {
		return Secret{}, fmt.Errorf("secret %s: %w", ref, ErrNotFound)
	}
	switch {
	case kvs.Data["ciphertext"] != nil:
		ct, _ := kvs.Data["ciphertext"].(string)
		key, _ := kvs.Data["transit_key"].(string)
		if key == "" {
			key = s.cfg.TransitKey
		}
		out.Value, err = s.transitDecrypt(ctx, key, ct, secretAAD(ref, out.ExpiresAt))
	case kvs.Data["value"] != nil:
		v, _ := kvs.Data["value"].(string)
		out.Value, err = base64.StdEncoding.DecodeString(v)
	default:
		err = errors.New("entry has neither value nor ciphertext")
	}
	if err != nil {
		return Secret{}, fmt.Errorf("reading secret %s from vault: %w", ref, err)
	}
	return out, nil
}

// Delete implements Store. Deleting the metadata removes every version for
// good, unlike a KV v2 soft delete.
func (s *VaultStore) Delete(ctx context.Context, r Ref) error {
	if err := r.validate(); err != nil {
		return err
	}
	ref := r.canonical()
	err := s.do(ctx, func() error { return s.kv.DeleteMetadata(ctx, s.secretPath(ref)) })
	if err != nil {
		return fmt.Errorf("deleting secret %s from vault: %w", ref, err)
	}
	return nil
}

// PurgeExpired implements Store by walking the prefix and deleting each
// entry whose custom metadata says it has expired. Vault cannot delete
// conditionally, so a secret re-Put in the instant between the check and
// the delete can be lost; callers store expiring secrets under fresh names
// (a transaction id), which makes that harmless in practice.
func (s *VaultStore) PurgeExpired(ctx context.Context) (int, error) {
	now := time.Now()
	purged := 0
	var walk func(dir string) error
	walk = func(dir string) error {
		names, err := s.list(ctx, dir)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := dir + "/" + strings.TrimSuffix(name, "/")
			if strings.HasSuffix(name, "/") {
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			var md *vault.KVMetadata
			err := s.do(ctx, func() error {
				var err error
				md, err = s.kv.GetMetadata(ctx, p)
				return err
			})
			if errors.Is(err, vault.ErrSecretNotFound) {
				continue // deleted since the listing
			}
			if err != nil {
				return fmt.Errorf("reading metadata of %s: %w", p, err)
			}
			v, _ := md.CustomMetadata["expires_at"].(string)
			if v == "" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil || !expired(at, now) {
				continue
			}
			if err := s.do(ctx, func() error { return s.kv.DeleteMetadata(ctx, p) }); err != nil {
				return fmt.Errorf("deleting expired %s: %w", p, err)
			}
			purged++
		}
		return nil
	}
	if err := walk(s.cfg.PathPrefix); err != nil {
		return purged, fmt.Errorf("purging expired secrets from vault: %w", err)
	}
	return purged, nil
}

// list returns the entries of a KV folder; folders end in "/".
func (s *VaultStore) list(ctx context.Context, dir string) ([]string, error) {
	var resp *vault.Secret
	err := s.do(ctx, func() error {
		var err error
		resp, err = s.client.Logical().ListWithContext(ctx, s.cfg.KVMount+"/metadata/"+dir)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s/metadata/%s: %w", s.cfg.KVMount, dir, err)
	}
	if resp == nil || resp.Data == nil {
		return nil, nil
	}
	raw, _ := resp.Data["keys"].([]any)
	names := make([]string, 0, len(raw))
	for _, k := range raw {
		if name, ok := k.(string); ok {
			names = append(names, name)
		}
	}
	return names, nil
}

// transitEncrypt encrypts plaintext with a transit key. The associated data
// ties the ciphertext to its KV path and expiry, as in the embedded store.
func (s *VaultStore) transitEncrypt(ctx context.Context, key string, plaintext, aad []byte) (string, error) {
	var resp *vault.Secret
	err := s.do(ctx, func() error {
		var err error
		resp, err = s.client.Logical().WriteWithContext(ctx, s.cfg.TransitMount+"/encrypt/"+key, map[string]any{
			"plaintext":       base64.StdEncoding.EncodeToString(plaintext),
			"associated_data": base64.StdEncoding.EncodeToString(aad),
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("transit encrypt with %s/keys/%s: %w", s.cfg.TransitMount, key, err)
	}
	ct, _ := resp.Data["ciphertext"].(string)
	if ct == "" {
		return "", fmt.Errorf("transit encrypt with %s/keys/%s returned no ciphertext", s.cfg.TransitMount, key)
	}
	return ct, nil
}

func (s *VaultStore) transitDecrypt(ctx context.Context, key, ciphertext string, aad []byte) ([]byte, error) {
	if key == "" {
		return nil, errors.New("value is transit-encrypted but no transit key is configured (VAULT_TRANSIT_KEY)")
	}
	var resp *vault.Secret
	err := s.do(ctx, func() error {
		var err error
		resp, err = s.client.Logical().WriteWithContext(ctx, s.cfg.TransitMount+"/decrypt/"+key, map[string]any{
			"ciphertext":      ciphertext,
			"associated_data": base64.StdEncoding.EncodeToString(aad),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("transit decrypt with %s/keys/%s: %w", s.cfg.TransitMount, key, err)
	}
	pt, _ := resp.Data["plaintext"].(string)
	return base64.StdEncoding.DecodeString(pt)
}
