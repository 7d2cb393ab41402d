package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
)

// resolveTenant decides which tenant a signed-in user belongs to: the
// tenant named by their token's "tenant" claim; else the configured default
// tenant; else the only tenant, when there is exactly one. Anything else is
// refused: guessing would put staff into another organisation's data.
//
// The tenants table is not row-secured (routing needs it before a tenant is
// known), so these reads need no tenant context.
func (s *Server) resolveTenant(ctx context.Context, claim string) (string, error) {
	if claim != "" {
		id, err := s.tenantBySlug(ctx, claim)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", signInRefused(fmt.Sprintf("Your account names the organisation %q, which Sangam does not know. Ask your identity administrator to correct the account's tenant.", claim))
		}
		return id, err
	}
	if s.defaultTenant != "" {
		id, err := s.tenantBySlug(ctx, s.defaultTenant)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", err
		}
		// A default that names no tenant falls through to the single-tenant
		// rule; the log says so, because it is a configuration mistake.
		s.log.WarnContext(ctx, "the default tenant does not exist", "default_tenant", s.defaultTenant)
	}
	ids, err := s.tenantIDs(ctx, 2)
	if err != nil {
		return "", err
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return "", signInRefused("Sangam could not tell which organisation your account belongs to: your account has no tenant, and no single default organisation is set up. Ask your administrator to add a tenant to your account or to set SANGAM_DEFAULT_TENANT.")
}

func (s *Server) tenantBySlug(ctx context.Context, slug string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", slug).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("finding tenant %q: %w", slug, err)
	}
	return id, err
}

// tenantIDs returns up to limit tenant ids.
func (s *Server) tenantIDs(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT id::text FROM tenants ORDER BY created_at LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	return ids, nil
}

// signInRefused is a sign-in that worked at the provider but that Sangam
// cannot accept.
func signInRefused(message string) *problem {
	return &problem{status: fiber.StatusForbidden, title: "Sign-in refused", message: message}
}
