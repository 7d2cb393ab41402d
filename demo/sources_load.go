package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// SourceRole is the role the demo's SQL connectors assume: it may read the
// demo vendor schemas and nothing else, so a mapping file cannot reach
// Sangam's own tables.
const SourceRole = "sangam_demo_source"

// vendorColumns lists each table's columns in the order dataBuilder adds
// values.
var vendorColumns = map[string][]string{
	"patient_master":      {"mrn", "site_code", "first_name", "middle_name", "last_name", "sex", "dob", "mobile_no", "abha_no", "abha_addr", "address_line", "pin", "created_on", "modified_on"},
	"opd_visit":           {"visit_no", "site_code", "mrn", "visit_dt", "dept", "consultant", "chief_complaint", "modified_on"},
	"visit_diagnosis":     {"visit_no", "seq", "icd10", "diagnosis_desc"},
	"vitals":              {"visit_no", "param_code", "value", "unit", "recorded_at"},
	"ipd_admission":       {"ip_no", "site_code", "mrn", "admit_dt", "discharge_dt", "ward", "consultant", "discharge_summary", "modified_on"},
	"admission_diagnosis": {"ip_no", "seq", "icd10", "diagnosis_desc"},
	"ipd_procedure":       {"ip_no", "seq", "proc_code", "proc_name", "start_dt", "end_dt", "surgeon", "anaesthesia"},
	"persons":             {"person_id", "uhid", "full_name", "gender_cd", "birth_date", "phone", "health_id", "phr_address", "addr", "pincode", "last_update"},
	"encounters":          {"enc_id", "person_id", "enc_type", "start_ts", "end_ts", "speciality", "doctor_name", "notes", "last_update"},
	"problems":            {"enc_id", "seq", "problem_cd", "problem_text", "icd10_cd"},
	"procedures_done":     {"proc_id", "enc_id", "sct_code", "proc_text", "done_from", "done_to", "done_by"},
	"observations":        {"obs_id", "enc_id", "obs_name", "obs_value", "obs_unit", "taken_at"},
	"discharge_notes":     {"enc_id", "note_text", "signed_by", "signed_at"},
	"lab_patient":         {"lab_pid", "branch", "patient_name", "gender", "dob", "age_years", "contact_no", "hosp_mrn", "registered_at"},
	"lab_order":           {"order_id", "lab_pid", "branch", "panel_code", "panel_name", "collected_at", "reported_at", "status", "referring_doctor", "pathologist", "modified_at"},
	"lab_result":          {"order_id", "line_no", "test_code", "test_name", "result_value", "units", "ref_low", "ref_high", "flag"},
	"ris_patient":         {"rad_id", "pat_name", "birth_dt", "sex", "phone", "created"},
	"study":               {"accession", "rad_id", "study_uid", "study_code", "modality", "study_desc", "body_part", "study_date", "study_time", "report_status", "report_text", "impression", "radiologist", "finalised_at", "updated"},
	"customer":            {"cust_id", "store_id", "cust_name", "mobile", "yob", "gender", "created"},
	"rx_order":            {"rx_no", "cust_id", "store_id", "ordered_at", "prescriber", "status", "updated_at"},
	"rx_line":             {"rx_no", "line_no", "drug_code", "drug_name", "dose", "frequency", "duration_days", "qty"},
	"bd_patient":          {"uhid", "pat_name", "sex", "dob", "mobile", "created_at"},
	"bill_hdr":            {"bill_no", "uhid", "bill_type", "adm_no", "admit_dt", "disch_dt", "bill_dt", "bill_status", "payer", "consultant", "gross_amt", "disc_amt", "tax_amt", "net_amt", "updated_at"},
	"bill_line":           {"bill_no", "line_no", "svc_group", "item_code", "item_name", "svc_date", "qty", "uom", "rate", "amount", "disc", "cgst", "sgst"},
}

// tableOrder loads parents before children.
var tableOrder = []string{
	"patient_master", "opd_visit", "visit_diagnosis", "vitals", "ipd_admission", "admission_diagnosis", "ipd_procedure",
	"persons", "encounters", "problems", "procedures_done", "observations", "discharge_notes",
	"lab_patient", "lab_order", "lab_result",
	"ris_patient", "study",
	"customer", "rx_order", "rx_line",
	"bd_patient", "bill_hdr", "bill_line",
}

// installationParams names, per vendor, the installation parameter its
// mapping file declares for the facility code in siteCodes.
var installationParams = map[string]string{"medisoft": "site", "labtrack": "branch", "pharmaone": "store"}

// SourcesResult counts what LoadSources wrote.
type SourcesResult struct {
	People int
	// Rows counts rows per vendor schema.
	Rows map[string]int
	// Configured counts source systems newly pointed at a mapping file.
	Configured int
}

// SourceConfig is the source_systems.config LoadSources gives a demo source
// system (merged into what is there): the SQL connector, the vendor's
// mapping file in sources/mappings, the database URL from the environment
// variable dsnEnv, and the facility's code in the vendor database.
func SourceConfig(vendor, hfrID, dsnEnv string) map[string]any {
	cfg := map[string]any{"connector": "sql", "mapping": vendor + ".yaml", "dsn_env": dsnEnv}
	if p := installationParams[vendor]; p != "" {
		cfg["params"] = map[string]string{p: siteCodes[vendor][hfrID]}
	}
	return cfg
}

// LoadSources builds the demo vendors' databases: one schema per vendor
// (demo_medisoft, demo_careware, demo_labtrack, demo_radview,
// demo_pharmaone, demo_billdesk) filled from People(), readable by SourceRole. The schemas
// are replaced on every run (their data is generated, never edited). Then
// each of g's source systems whose config names no connector yet is pointed
// at its vendor's mapping file, reading the database whose URL is in the
// environment variable dsnEnv; a source an admin has configured is left
// alone. Call it after Load, through the owner pool.
func LoadSources(ctx context.Context, owner *pgxpool.Pool, g Group, dsnEnv string) (SourcesResult, error) {
	people := People()
	data := buildVendorData(people)
	res := SourcesResult{People: len(people), Rows: map[string]int{}}
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			DO $$
			BEGIN
				CREATE ROLE `+SourceRole+` NOLOGIN NOSUPERUSER NOBYPASSRLS;
			EXCEPTION WHEN duplicate_object OR unique_violation THEN
				NULL;
			END
			$$`); err != nil {
			return fmt.Errorf("creating role %s: %w", SourceRole, err)
		}
		if _, err := tx.Exec(ctx, `
			DO $$
			BEGIN
				EXECUTE format('GRANT `+SourceRole+` TO %I', current_user);
			EXCEPTION WHEN duplicate_object OR unique_violation OR invalid_grant_operation THEN
				NULL;
			END
			$$`); err != nil {
			return fmt.Errorf("granting role %s: %w", SourceRole, err)
		}
		for _, vs := range vendorSchemas {
			n, err := loadVendor(ctx, tx, vs.schema, vs.ddl, data[vs.vendor])
			if err != nil {
				return fmt.Errorf("loading demo vendor %s: %w", vs.vendor, err)
			}
			res.Rows[vs.schema] = n
		}
		n, err := configureSources(ctx, tx, g, dsnEnv)
		res.Configured = n
		return err
	})
	if err != nil {
		return SourcesResult{}, err
	}
	return res, nil
}

func loadVendor(ctx context.Context, tx pgx.Tx, schema, ddl string, data vendorData) (int, error) {
	s := pgx.Identifier{schema}.Sanitize()
	role := pgx.Identifier{SourceRole}.Sanitize()
	for _, stmt := range []string{
		"DROP SCHEMA IF EXISTS " + s + " CASCADE",
		"CREATE SCHEMA " + s,
		"SET LOCAL search_path = " + s,
		ddl,
		"GRANT USAGE ON SCHEMA " + s + " TO " + role,
		"GRANT SELECT ON ALL TABLES IN SCHEMA " + s + " TO " + role,
		"RESET search_path",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return 0, fmt.Errorf("preparing schema %s: %w", schema, err)
		}
	}
	total := 0
	for _, table := range tableOrder {
		rows, ok := data[table]
		if !ok {
			continue
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{schema, table}, vendorColumns[table], pgx.CopyFromRows(rows))
		if err != nil {
			return 0, fmt.Errorf("copying %s.%s: %w", schema, table, err)
		}
		total += int(n)
	}
	return total, nil
}

func configureSources(ctx context.Context, tx pgx.Tx, g Group, dsnEnv string) (int, error) {
	var tenantID string
	if err := tx.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", g.Slug).Scan(&tenantID); err != nil {
		return 0, fmt.Errorf("reading tenant %s (run Load first): %w", g.Slug, err)
	}
	if err := database.SetTenant(ctx, tx, tenantID); err != nil {
		return 0, err
	}
	configured := 0
	for _, f := range g.Facilities {
		for _, s := range f.Sources {
			if !hasMapping(s.Vendor) {
				continue
			}
			cfg, err := json.Marshal(SourceConfig(s.Vendor, f.HFRID, dsnEnv))
			if err != nil {
				return 0, err
			}
			tag, err := tx.Exec(ctx, `
				UPDATE source_systems SET config = config || $1::jsonb
				WHERE tenant_id = $2 AND code = $3 AND NOT (config ? 'connector')
				  AND facility_id = (SELECT id FROM facilities WHERE tenant_id = $2 AND hfr_id = $4)`,
				cfg, tenantID, s.Code, f.HFRID)
			if err != nil {
				return 0, fmt.Errorf("configuring source %s at %s: %w", s.Code, f.HFRID, err)
			}
			configured += int(tag.RowsAffected())
		}
	}
	return configured, nil
}

func hasMapping(vendor string) bool {
	for _, vs := range vendorSchemas {
		if vs.vendor == vendor {
			return true
		}
	}
	return false
}
