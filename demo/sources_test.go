package demo_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
)

func TestPeopleAreDeterministicAndVaried(t *testing.T) {
	people := demo.People()
	if diff := cmp.Diff(people, demo.People()); diff != "" {
		t.Fatalf("People() differs between calls:\n%s", diff)
	}
	if len(people) != demo.PeopleCount {
		t.Fatalf("got %d people, want %d", len(people), demo.PeopleCount)
	}
	abhaNumber := regexp.MustCompile(`^91-\d{4}-\d{4}-\d{4}$`)
	abhaAddress := regexp.MustCompile(`^[a-z0-9.]+@sbx$`)
	mobile := regexp.MustCompile(`^[6-9]\d{9}$`)
	ids := map[string]string{}
	twoFacilities, withABHA, sharedMobile := 0, 0, 0
	differences := map[string]int{}
	regions := map[string]bool{}
	mobiles := map[string]int{}
	for _, p := range people {
		regions[p.Region] = true
		mobiles[p.Mobile]++
		if p.ABHANumber != "" {
			withABHA++
			if !abhaNumber.MatchString(p.ABHANumber) || !abhaAddress.MatchString(p.ABHAAddress) {
				t.Errorf("%s: ABHA %q %q", p.ID, p.ABHANumber, p.ABHAAddress)
			}
		}
		if !mobile.MatchString(p.Mobile) {
			t.Errorf("%s: mobile %q", p.ID, p.Mobile)
		}
		hfrs := map[string]bool{}
		for _, r := range p.Records {
			hfrs[r.FacilityHFRID] = true
			key := r.FacilityHFRID + "/" + r.SourceCode + "/" + r.LocalID
			if other, dup := ids[key]; dup {
				t.Errorf("%s is both %s and %s", key, other, p.ID)
			}
			ids[key] = p.ID
			for _, d := range r.Differences {
				differences[d]++
			}
			if r.SourceCode == "his" && !strings.Contains("medisoft careware", r.Vendor) {
				t.Errorf("%s: HIS vendor %s", r.LocalID, r.Vendor)
			}
		}
		if len(hfrs) > 1 {
			twoFacilities++
		}
	}
	for _, n := range mobiles {
		if n > 1 {
			sharedMobile++
		}
	}
	if twoFacilities < 25 || twoFacilities > 60 {
		t.Errorf("%d people at two facilities, want about one in five", twoFacilities)
	}
	if withABHA < 50 || withABHA > 110 {
		t.Errorf("%d people with ABHA, want about four in ten", withABHA)
	}
	for _, d := range []string{"spelling", "initials", "dob-swapped", "mobile-digit"} {
		if differences[d] == 0 {
			t.Errorf("no planted %s difference", d)
		}
	}
	if len(regions) < 8 {
		t.Errorf("names from %d regions, want a varied demo", len(regions))
	}
	if sharedMobile == 0 {
		t.Error("no family shares a mobile; the demo should have some")
	}
}

func TestLoadSourcesBuildsVendorSchemasAndConfiguresSources(t *testing.T) {
	db := databasetest.New(t)
	ctx := context.Background()
	g := demo.KaveriHealth()
	loaded, err := demo.Load(ctx, db.Owner, g)
	if err != nil {
		t.Fatal(err)
	}
	first, err := demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	if first.Configured != 9 || first.People != demo.PeopleCount {
		t.Errorf("first load: %+v, want all 9 sources configured", first)
	}
	for _, schema := range []string{"demo_medisoft", "demo_careware", "demo_labtrack", "demo_radview", "demo_pharmaone", "demo_billdesk"} {
		if first.Rows[schema] == 0 {
			t.Errorf("%s is empty", schema)
		}
	}

	// An admin points the Hassan pharmacy elsewhere; a second load keeps
	// that and regenerates the same data.
	err = database.InTenant(ctx, db.App, loaded.TenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE source_systems SET config = '{"connector": "fhir", "base_url": "https://pharmacy.example"}'
			WHERE code = 'pharmacy' AND facility_id = (SELECT id FROM facilities WHERE hfr_id = 'IN2910000944')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	second, err := demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL")
	if err != nil {
		t.Fatal(err)
	}
	if second.Configured != 0 || !cmp.Equal(first.Rows, second.Rows) {
		t.Errorf("second load: %+v, want nothing reconfigured and the same rows as %+v", second, first.Rows)
	}
	configs := map[string]map[string]any{}
	err = database.InTenant(ctx, db.App, loaded.TenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT f.hfr_id || '/' || s.code, s.config FROM source_systems s JOIN facilities f ON f.id = s.facility_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var key string
			var raw []byte
			if err := rows.Scan(&key, &raw); err != nil {
				return err
			}
			var cfg map[string]any
			_ = json.Unmarshal(raw, &cfg)
			configs[key] = cfg
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := configs["IN2910000944/pharmacy"]["connector"]; got != "fhir" {
		t.Errorf("admin's config overwritten: connector %v", got)
	}
	if got := configs["IN2910000231/lims"]; got["mapping"] != "labtrack.yaml" || got["params"].(map[string]any)["branch"] != "BLR01" || got["vendor_schema"] != "demo_labtrack" {
		t.Errorf("Bengaluru LIMS config = %v", got)
	}
	if got := configs["IN2910000587/billing"]; got["connector"] != "sql" || got["mapping"] != "billdesk.yaml" || got["dsn_env"] != "DATABASE_URL" {
		t.Errorf("Mysuru billing config = %v, want the SQL connector through billdesk.yaml", got)
	}

	// The connectors' role reads the vendor schemas and nothing of Sangam's.
	conn, err := db.Owner.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+demo.SourceRole); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM demo_medisoft.patient_master").Scan(&n); err != nil || n == 0 {
		t.Errorf("source role reads %d patients (%v)", n, err)
	}
	_, err = tx.Exec(ctx, "SELECT count(*) FROM public.source_tokens")
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("source role reading Sangam's tables: %v, want permission denied", err)
	}
}
