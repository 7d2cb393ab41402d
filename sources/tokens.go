package sources

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// ErrUnauthorized reports a missing, unknown or expired source token.
var ErrUnauthorized = errors.New("source token is missing, unknown or expired")

// tokenPrefix marks Sangam source tokens, so one pasted in the wrong place
// is recognisable (and findable by secret scanners).
const tokenPrefix = "sgs_"

// Tokens issues and checks the bearer tokens with which source systems push
// events. A token carries its tenant (so it can be checked under that
// tenant's row-level security before anything else is known) and 32 random
// bytes; only its SHA-256 is stored.
type Tokens struct {
	pool    *pgxpool.Pool
	nowFunc func() time.Time
}

// NewTokens returns a token store on the application pool. nowFunc may be
// nil (time.Now); tests pass a clock to move past a grace period.
func NewTokens(pool *pgxpool.Pool, nowFunc func() time.Time) *Tokens {
	if nowFunc == nil {
		nowFunc = time.Now
	}
	return &Tokens{pool: pool, nowFunc: nowFunc}
}

// Rotate issues a new token for a source system and gives every token it
// already has at most grace more time (0 revokes them now). The first call
// for a source simply issues its token. The token is returned once, to be
// handed to the source system's administrator; Sangam cannot show it again.
func (t *Tokens) Rotate(ctx context.Context, tenantID, sourceSystemID string, grace time.Duration) (string, error) {
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		return "", fmt.Errorf("%w: tenant id %q", ErrInvalidInput, tenantID)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("generating source token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(append(tid[:], secret...))
	sum := sha256.Sum256([]byte(token))
	now := t.nowFunc()
	err = database.InTenant(ctx, t.pool, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO source_tokens (tenant_id, source_system_id, token_sha256, created_at)
			SELECT tenant_id, id, $2, $3 FROM source_systems WHERE id::text = $1`, sourceSystemID, sum[:], now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("source system %s: %w", sourceSystemID, ErrNotFound)
		}
		_, err = tx.Exec(ctx, `
			UPDATE source_tokens SET expires_at = $3
			WHERE source_system_id::text = $1 AND token_sha256 <> $2 AND (expires_at IS NULL OR expires_at > $3)`,
			sourceSystemID, sum[:], now.Add(grace))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("rotating source token: %w", err)
	}
	return token, nil
}

// Authenticate checks token for a source system and returns its tenant. It
// wraps ErrUnauthorized for anything but a live token of that source.
func (t *Tokens) Authenticate(ctx context.Context, sourceSystemID, token string) (tenantID string, err error) {
	raw, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", ErrUnauthorized
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != 16+32 {
		return "", ErrUnauthorized
	}
	tid, _ := uuid.FromBytes(b[:16])
	sum := sha256.Sum256([]byte(token))
	var found bool
	err = database.InTenant(ctx, t.pool, tid.String(), func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM source_tokens WHERE token_sha256 = $1 AND source_system_id::text = $2
				AND (expires_at IS NULL OR expires_at > $3))`, sum[:], sourceSystemID, t.nowFunc()).Scan(&found)
	})
	if err != nil {
		return "", fmt.Errorf("checking source token: %w", err)
	}
	if !found {
		return "", ErrUnauthorized
	}
	return tid.String(), nil
}
