package server

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
)

// facility is a facility of the signed-in user's scope, with its counters
// and source systems, as the role home pages show them.
type facility struct {
	ID       string
	Name     string
	HFRID    string
	HIPID    string
	Address  string
	Counters []counter
	Sources  []sourceSystem
}

type counter struct {
	ID   string
	Code string
	Name string
}

type sourceSystem struct {
	Code   string
	Name   string
	Kind   string
	Vendor string
}

// facilitiesOf reads the facilities whose HFR ids the user's token lists,
// in the user's tenant, ordered by name. Ids of other tenants' facilities
// find nothing: row-level security limits the reads to the tenant.
func (s *Server) facilitiesOf(ctx context.Context, st *staff) ([]facility, error) {
	var out []facility
	err := database.InTenant(ctx, s.pool, st.TenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id::text, name, hfr_id, hip_id, address FROM facilities
			WHERE hfr_id = ANY($1) ORDER BY name, hfr_id`, nonNil(st.Facilities))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (facility, error) {
			var f facility
			err := r.Scan(&f.ID, &f.Name, &f.HFRID, &f.HIPID, &f.Address)
			return f, err
		})
		if err != nil {
			return err
		}
		byID := make(map[string]*facility, len(out))
		ids := make([]string, len(out))
		for i := range out {
			byID[out[i].ID] = &out[i]
			ids[i] = out[i].ID
		}
		if err := readCounters(ctx, tx, ids, byID); err != nil {
			return err
		}
		return readSources(ctx, tx, ids, byID)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the facilities of %s: %w", st.Subject, err)
	}
	return out, nil
}

func readCounters(ctx context.Context, tx pgx.Tx, ids []string, byID map[string]*facility) error {
	rows, err := tx.Query(ctx, `
		SELECT facility_id::text, id::text, code, name FROM counters
		WHERE facility_id = ANY($1::uuid[]) ORDER BY code`, ids)
	if err != nil {
		return fmt.Errorf("reading counters: %w", err)
	}
	var fid string
	var c counter
	_, err = pgx.ForEachRow(rows, []any{&fid, &c.ID, &c.Code, &c.Name}, func() error {
		byID[fid].Counters = append(byID[fid].Counters, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading counters: %w", err)
	}
	return nil
}

func readSources(ctx context.Context, tx pgx.Tx, ids []string, byID map[string]*facility) error {
	rows, err := tx.Query(ctx, `
		SELECT facility_id::text, code, name, kind, vendor FROM source_systems
		WHERE facility_id = ANY($1::uuid[]) ORDER BY kind, code`, ids)
	if err != nil {
		return fmt.Errorf("reading source systems: %w", err)
	}
	var fid string
	var src sourceSystem
	_, err = pgx.ForEachRow(rows, []any{&fid, &src.Code, &src.Name, &src.Kind, &src.Vendor}, func() error {
		byID[fid].Sources = append(byID[fid].Sources, src)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading source systems: %w", err)
	}
	return nil
}
