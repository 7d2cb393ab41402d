package bridge

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
)

// PurgeExpired drops the bodies of every tenant's exchanges past their
// retention (Config.Retention after they were stored) and returns how many
// it dropped. The exchanges and their timelines stay; a purged exchange can
// no longer be replayed.
func (b *Bridge) PurgeExpired(ctx context.Context) (int, error) {
	tenants, err := database.TenantIDs(ctx, b.pool)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range tenants {
		var n int
		err := b.inTenant(ctx, t, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `
				WITH purged AS (
					UPDATE bridge_exchanges SET body = NULL, body_purged_at = now(), updated_at = now()
					WHERE body IS NOT NULL AND purge_after <= now()
					RETURNING id
				), logged AS (
					INSERT INTO bridge_events (tenant_id, exchange_id, kind, detail)
					SELECT app_tenant_id(), id, 'body_purged', 'retention period over; body dropped' FROM purged
				)
				SELECT count(*) FROM purged`).Scan(&n)
		})
		if err != nil {
			return total, fmt.Errorf("purging exchange bodies of tenant %s: %w", t, err)
		}
		total += n
	}
	if total > 0 {
		b.log.InfoContext(ctx, "purged bridge exchange bodies", "count", total)
	}
	return total, nil
}
