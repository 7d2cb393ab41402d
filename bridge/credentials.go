package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/database"
)

// ClientSecrets keeps tenants' ABDM client secrets outside PostgreSQL's
// plain columns; the key store implements it (purpose abdm-client-secret).
type ClientSecrets interface {
	PutClientSecret(ctx context.Context, tenant string, secret []byte) error
	// ClientSecret returns an error matching ErrNoCredentials when the
	// tenant has none.
	ClientSecret(ctx context.Context, tenant string) ([]byte, error)
}

// Credentials looks up a tenant's gateway client id (in bridge_tenants) and
// secret (in ClientSecrets). It implements abdm.Credentials, so the
// gateway client fetches the secret only when it needs a session token.
type Credentials struct {
	pool    *pgxpool.Pool
	secrets ClientSecrets
}

// NewCredentials returns Credentials over the application pool.
func NewCredentials(pool *pgxpool.Pool, secrets ClientSecrets) *Credentials {
	return &Credentials{pool: pool, secrets: secrets}
}

// ClientCredentials implements abdm.Credentials. Tenants without stored
// credentials get an error matching ErrNoCredentials.
func (c *Credentials) ClientCredentials(ctx context.Context, tenant string) (abdm.ClientCredentials, error) {
	id, err := c.ClientID(ctx, tenant)
	if err != nil {
		return abdm.ClientCredentials{}, err
	}
	secret, err := c.secrets.ClientSecret(ctx, tenant)
	if err != nil {
		return abdm.ClientCredentials{}, fmt.Errorf("reading ABDM client secret: %w", err)
	}
	return abdm.ClientCredentials{ClientID: id, ClientSecret: string(secret)}, nil
}

// ClientID returns the tenant's gateway client id.
func (c *Credentials) ClientID(ctx context.Context, tenant string) (string, error) {
	if err := checkTenant(tenant); err != nil {
		return "", err
	}
	var id string
	err := database.InTenant(ctx, c.pool, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT client_id FROM bridge_tenants").Scan(&id)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNoCredentials
	}
	if err != nil {
		return "", fmt.Errorf("reading ABDM client id: %w", err)
	}
	return id, nil
}

// Save stores the tenant's client id and secret, replacing earlier ones.
// The secret goes to the key store first: a client id without a usable
// secret would look onboarded and fail at the first call.
func (c *Credentials) Save(ctx context.Context, tenant, clientID string, secret []byte) error {
	clientID = strings.TrimSpace(clientID)
	switch {
	case clientID == "":
		return errors.New("ABDM client id is empty")
	case len(secret) == 0:
		return errors.New("ABDM client secret is empty")
	}
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if err := c.secrets.PutClientSecret(ctx, tenant, secret); err != nil {
		return fmt.Errorf("storing ABDM client secret: %w", err)
	}
	err := database.InTenant(ctx, c.pool, tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO bridge_tenants (tenant_id, client_id) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO UPDATE SET client_id = EXCLUDED.client_id, updated_at = now()`,
			tenant, clientID)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing ABDM client id: %w", err)
	}
	return nil
}
