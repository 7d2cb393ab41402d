package patients

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

// fixture is a tenant with two facilities and their source systems.
type fixture struct {
	ix     *Index
	db     *databasetest.DB
	tenant string
	// facility ids by name, source system ids by "<facility>/<code>".
	facility map[string]string
	source   map[string]string
}

func setup(t testing.TB) *fixture {
	t.Helper()
	db := databasetest.New(t)
	f := &fixture{
		ix:       New(db.App, Config{}),
		db:       db,
		tenant:   db.Tenant(t, "Patients test"),
		facility: map[string]string{},
		source:   map[string]string{},
	}
	layout := []struct {
		name    string
		sources []string
	}{
		{"city", []string{"his", "lims", "ris"}},
		{"clinic", []string{"his", "pharmacy"}},
	}
	ctx := context.Background()
	err := database.InTenant(ctx, db.App, f.tenant, func(tx pgx.Tx) error {
		for i, fac := range layout {
			var fid string
			hip := fmt.Sprintf("T-%s-%s", f.tenant[:8], fac.name)
			if err := tx.QueryRow(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, $2, $3, $4) RETURNING id::text`,
				f.tenant, fmt.Sprintf("HFR%d", i), hip, fac.name+" hospital").Scan(&fid); err != nil {
				return err
			}
			f.facility[fac.name] = fid
			for _, code := range fac.sources {
				kind := map[string]string{"his": "HIS", "lims": "LIMS", "ris": "RIS", "pharmacy": "pharmacy"}[code]
				var sid string
				if err := tx.QueryRow(ctx, `INSERT INTO source_systems (tenant_id, facility_id, code, name, kind, vendor) VALUES ($1, $2, $3, $4, $5, 'test') RETURNING id::text`,
					f.tenant, fid, code, code+" of "+fac.name, kind).Scan(&sid); err != nil {
					return err
				}
				f.source[fac.name+"/"+code] = sid
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("setting up facilities: %v", err)
	}
	return f
}

// rec makes a record of source "<facility>/<code>".
func (f *fixture) rec(source, localID, name, gender, birth, mobile string) SourceRecord {
	r := SourceRecord{SourceSystemID: f.source[source], LocalID: localID, Name: name, Gender: gender, Mobile: mobile}
	switch len(birth) {
	case 4:
		fmt.Sscan(birth, &r.BirthYear)
	case 10:
		d, err := time.Parse("2006-01-02", birth)
		if err != nil {
			panic(err)
		}
		r.BirthDate, r.BirthYear = d, d.Year()
	}
	return r
}

func (f *fixture) ingest(t testing.TB, r SourceRecord) Decision {
	t.Helper()
	d, err := f.ix.Ingest(context.Background(), f.tenant, r)
	if err != nil {
		t.Fatalf("Ingest(%s %q): %v", r.LocalID, r.Name, err)
	}
	return d
}

func (f *fixture) patient(t testing.TB, id string) Patient {
	t.Helper()
	p, err := f.ix.Patient(context.Background(), f.tenant, id)
	if err != nil {
		t.Fatalf("Patient(%s): %v", id, err)
	}
	return p
}
