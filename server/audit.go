package server

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// recordAudit appends an event to the tenant's audit log inside tx, so the
// event is written if and only if the change it records is. detail must
// never hold secrets or patient data.
func recordAudit(ctx context.Context, tx pgx.Tx, tenantID, actor, action string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	if _, err := tx.Exec(ctx,
		"INSERT INTO audit_events (tenant_id, actor, action, detail) VALUES ($1, $2, $3, $4)",
		tenantID, actor, action, detail); err != nil {
		return fmt.Errorf("recording audit event %s: %w", action, err)
	}
	return nil
}
