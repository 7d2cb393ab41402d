// Package keys stores Sangam's secrets: HIU private keys (one per health
// information request), link tokens, ABDM client secrets and NHCX private
// keys. Every secret belongs to a tenant, optionally to one of its
// facilities, has a purpose and a name, and may expire.
//
// Two backends implement Store. PostgresStore, the default, seals each secret
// with AES-256-GCM under a per-tenant data key, which is itself sealed under a
// master key kept outside the database (a file with mode 0600, or an
// environment variable). VaultStore keeps secrets in HashiCorp Vault's KV v2
// engine under per-tenant, per-facility paths, optionally encrypted first with
// a transit key. Open picks one from a Config.
//
// Expired secrets are never returned; the job registered by RegisterJobs
// deletes them.
package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// ErrNotFound reports a secret that does not exist or has expired.
var ErrNotFound = errors.New("secret not found")

// Purpose says what a secret is for. It is part of the secret's identity, so
// the same name can be used for different purposes without clashing.
type Purpose string

// The purposes Sangam stores.
const (
	// PurposeHIUPrivateKey is the ephemeral X25519 private key of one HIU
	// health information request, kept until its data has arrived.
	PurposeHIUPrivateKey Purpose = "hiu-private-key"
	// PurposeLinkToken is a gateway link token for linking care contexts.
	PurposeLinkToken Purpose = "link-token"
	// PurposeABDMClientSecret is a tenant's ABDM gateway client secret.
	PurposeABDMClientSecret Purpose = "abdm-client-secret"
	// PurposeNHCXPrivateKey is a participant's NHCX signing/decryption key.
	PurposeNHCXPrivateKey Purpose = "nhcx-private-key"
)

// Valid reports whether p is one of the purposes above.
func (p Purpose) Valid() bool {
	switch p {
	case PurposeHIUPrivateKey, PurposeLinkToken, PurposeABDMClientSecret, PurposeNHCXPrivateKey:
		return true
	}
	return false
}

// Ref names one secret.
type Ref struct {
	// Tenant is the owning tenant's id (a UUID).
	Tenant string
	// Facility is a facility id (a UUID), or empty for a tenant-wide secret.
	Facility string
	Purpose  Purpose
	// Name tells secrets of one purpose apart, e.g. a transaction id. It is
	// 1 to 200 characters from A-Z a-z 0-9 . _ - @ : + =
	Name string
}

// Secret is a stored secret.
type Secret struct {
	Ref
	Value []byte
	// ExpiresAt is when the secret stops being returned; zero means never.
	ExpiresAt time.Time
}

// Store keeps secrets. Implementations are safe for concurrent use.
type Store interface {
	// Put stores s, replacing any secret with the same Ref.
	Put(ctx context.Context, s Secret) error
	// Get returns the secret named by ref, or ErrNotFound when there is none
	// or it has expired.
	Get(ctx context.Context, ref Ref) (Secret, error)
	// Delete removes the secret named by ref; deleting a missing secret is
	// not an error.
	Delete(ctx context.Context, ref Ref) error
	// PurgeExpired deletes every expired secret of every tenant and returns
	// how many it deleted.
	PurgeExpired(ctx context.Context) (int, error)
}

const maxNameLen = 200

// validate checks a Ref before it reaches SQL or a Vault path. Tenant and
// facility must be UUIDs and names come from a small alphabet without '/',
// so no caller-supplied text can climb out of its tenant's Vault path.
func (r Ref) validate() error {
	if _, err := uuid.Parse(r.Tenant); err != nil || r.Tenant == "" {
		return fmt.Errorf("secret tenant %q is not a UUID", r.Tenant)
	}
	if r.Facility != "" {
		if _, err := uuid.Parse(r.Facility); err != nil {
			return fmt.Errorf("secret facility %q is not a UUID", r.Facility)
		}
	}
	if !r.Purpose.Valid() {
		return fmt.Errorf("secret purpose %q is not one of the keys.Purpose constants", r.Purpose)
	}
	if len(r.Name) == 0 || len(r.Name) > maxNameLen {
		return fmt.Errorf("secret name must be 1 to %d characters, got %d", maxNameLen, len(r.Name))
	}
	if r.Name == "." || r.Name == ".." {
		return fmt.Errorf("secret name %q is reserved", r.Name)
	}
	for _, c := range r.Name {
		if !nameChar(c) {
			return fmt.Errorf("secret name %q: character %q is not allowed (use A-Z a-z 0-9 . _ - @ : + =)", r.Name, c)
		}
	}
	return nil
}

func nameChar(c rune) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '.', '_', '-', '@', ':', '+', '=':
		return true
	}
	return false
}

// canonical returns ref with the UUIDs in their lower-case form, so that
// "ABC…" and "abc…" name the same secret in both backends.
func (r Ref) canonical() Ref {
	r.Tenant = uuid.MustParse(r.Tenant).String()
	if r.Facility != "" {
		r.Facility = uuid.MustParse(r.Facility).String()
	}
	return r
}

// String names the secret for logs and errors; it never includes the value.
func (r Ref) String() string {
	f := r.Facility
	if f == "" {
		f = "_"
	}
	return r.Tenant + "/" + f + "/" + string(r.Purpose) + "/" + r.Name
}

// expired reports whether a secret with this expiry is past it at now.
func expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}

// String names the secret without its value, so that printing a Secret by
// mistake cannot leak it.
func (s Secret) String() string { return "secret " + s.Ref.String() }

// LogValue keeps the value out of structured logs for the same reason.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.Ref.String()) }

// MaxValueSize bounds a secret's value; keys and tokens are far smaller.
const MaxValueSize = 64 << 10

func (s Secret) validate() error {
	if err := s.Ref.validate(); err != nil {
		return err
	}
	if len(s.Value) == 0 {
		return fmt.Errorf("secret %s: empty value", s.Ref)
	}
	if len(s.Value) > MaxValueSize {
		return fmt.Errorf("secret %s: value is %d bytes, more than the %d allowed", s.Ref, len(s.Value), MaxValueSize)
	}
	return nil
}
