// Package demo describes the demo hospital group that `make run` shows and
// loads it into the database. The sandbox reads the same description, so the
// gateway's registered HIP ids and the demo staff's facility claims always
// match what Sangam holds.
package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// Group is a hospital group: one tenant.
type Group struct {
	Slug       string
	Name       string
	Facilities []Facility
}

// Facility is one hospital or clinic of the group.
type Facility struct {
	HFRID    string
	HIPID    string
	Name     string
	Address  string
	Counters []Counter
	Sources  []Source
}

// Counter is a scan-and-share desk.
type Counter struct {
	Code string
	Name string
}

// Source is one of the facility's own systems.
type Source struct {
	Code   string
	Name   string
	Kind   string // HIS, LIMS, RIS, pharmacy or billing
	Vendor string
}

// KaveriHealth is the demo group: three facilities of different sizes whose
// systems come from different vendors, as in a real group that grew by
// acquisition.
func KaveriHealth() Group {
	return Group{
		Slug: "kaveri",
		Name: "Kaveri Health Group (demo)",
		Facilities: []Facility{
			{
				HFRID: "IN2910000231", HIPID: "KAVERI-BLR-01",
				Name: "Kaveri City Hospital", Address: "14 Residency Road, Bengaluru 560025",
				Counters: []Counter{{"OPD1", "OPD registration"}, {"ER1", "Emergency desk"}},
				Sources: []Source{
					{"his", "MediSoft HIS", "HIS", "medisoft"},
					{"lims", "LabTrack LIMS", "LIMS", "labtrack"},
					{"ris", "RadView RIS/PACS", "RIS", "radview"},
					{"pharmacy", "PharmaOne", "pharmacy", "pharmaone"},
				},
			},
			{
				HFRID: "IN2910000587", HIPID: "KAVERI-MYS-02",
				Name: "Kaveri Women and Child Hospital", Address: "3 Sayyaji Rao Road, Mysuru 570001",
				Counters: []Counter{{"OPD1", "OPD registration"}, {"MCH1", "Maternity desk"}},
				Sources: []Source{
					{"his", "CareWare HIS", "HIS", "careware"},
					{"lims", "LabTrack LIMS", "LIMS", "labtrack"},
					{"billing", "Hospital billing", "billing", "billdesk"},
				},
			},
			{
				HFRID: "IN2910000944", HIPID: "KAVERI-HSN-03",
				Name: "Kaveri Clinic Hassan", Address: "22 BM Road, Hassan 573201",
				Counters: []Counter{{"OPD1", "Front desk"}, {"OPD2", "Second desk"}},
				Sources: []Source{
					{"his", "MediSoft HIS", "HIS", "medisoft"},
					{"pharmacy", "PharmaOne", "pharmacy", "pharmaone"},
				},
			},
		},
	}
}

// HFRIDs lists the group's facility HFR ids, in order.
func (g Group) HFRIDs() []string {
	ids := make([]string, len(g.Facilities))
	for i, f := range g.Facilities {
		ids[i] = f.HFRID
	}
	return ids
}

// Result counts what Load found and what it added.
type Result struct {
	TenantID   string
	Facilities int
	Counters   int
	Sources    int
	Created    bool
}

// Load writes g into the database through an owner pool. It is idempotent:
// rows that exist (by tenant slug, facility HFR id, counter and source code)
// are left as they are, so a second `make run` keeps whatever an admin
// changed.
func Load(ctx context.Context, owner *pgxpool.Pool, g Group) (Result, error) {
	var res Result
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING", g.Slug, g.Name)
		if err != nil {
			return fmt.Errorf("creating tenant %s: %w", g.Slug, err)
		}
		res.Created = tag.RowsAffected() == 1
		if err := tx.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", g.Slug).Scan(&res.TenantID); err != nil {
			return fmt.Errorf("reading tenant %s: %w", g.Slug, err)
		}
		// The owner may be subject to forced row-level security too.
		if err := database.SetTenant(ctx, tx, res.TenantID); err != nil {
			return err
		}
		for _, f := range g.Facilities {
			if err := loadFacility(ctx, tx, res.TenantID, f, &res); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func loadFacility(ctx context.Context, tx pgx.Tx, tenantID string, f Facility, res *Result) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO facilities (tenant_id, hfr_id, hip_id, name, address) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, hfr_id) DO NOTHING`, tenantID, f.HFRID, f.HIPID, f.Name, f.Address)
	if err != nil {
		return fmt.Errorf("creating facility %s: %w", f.HFRID, err)
	}
	var facilityID string
	if err := tx.QueryRow(ctx, "SELECT id::text FROM facilities WHERE tenant_id = $1 AND hfr_id = $2", tenantID, f.HFRID).Scan(&facilityID); err != nil {
		return fmt.Errorf("reading facility %s: %w", f.HFRID, err)
	}
	res.Facilities++
	for _, c := range f.Counters {
		_, err := tx.Exec(ctx, `
			INSERT INTO counters (tenant_id, facility_id, code, name) VALUES ($1, $2, $3, $4)
			ON CONFLICT (facility_id, code) DO NOTHING`, tenantID, facilityID, c.Code, c.Name)
		if err != nil {
			return fmt.Errorf("creating counter %s at %s: %w", c.Code, f.HFRID, err)
		}
		res.Counters++
	}
	for _, s := range f.Sources {
		cfg, err := json.Marshal(map[string]string{"vendor_schema": "demo_" + s.Vendor})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO source_systems (tenant_id, facility_id, code, name, kind, vendor, config) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (facility_id, code) DO NOTHING`, tenantID, facilityID, s.Code, s.Name, s.Kind, s.Vendor, cfg)
		if err != nil {
			return fmt.Errorf("creating source system %s at %s: %w", s.Code, f.HFRID, err)
		}
		res.Sources++
	}
	return nil
}
