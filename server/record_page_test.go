package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/server/servertest"
)

// receiveExternal stores, as the HIU's data flow would, a record from
// another hospital for the patient: three HbA1c results (a LOINC series)
// and a PDF report. The consent request is made through the service; the
// rows after the consent manager's answer are written through the tables,
// since the HIU exposes no API to fake a hospital's push.
func receiveExternal(t *testing.T, env *recordEnv, patientID, addr, facility string) (pdf []byte) {
	t.Helper()
	ctx := context.Background()
	reqID, err := env.HIU.CreateConsentRequest(ctx, env.Tenant, facility, hiu.Request{
		PatientABHAAddress: addr, PatientID: patientID, Purpose: abdm.PurposeCareManagement,
		HITypes: []abdm.HIType{abdm.HITypeDiagnosticReport}, From: time.Now().AddDate(-2, 0, 0), To: time.Now().Add(-time.Minute),
		Expiry: time.Now().AddDate(0, 1, 0), RequesterName: "Vikram Doctor",
	})
	if err != nil {
		t.Fatal(err)
	}
	pdf = []byte("%PDF-1.4 test report")
	err = database.InTenant(ctx, env.DB.App, env.Tenant, func(tx pgx.Tx) error {
		var consent, dataReq, recordID string
		var pageID, entryID int64
		if err := tx.QueryRow(ctx, `INSERT INTO hiu_consents (tenant_id, consent_request_id, artefact_id, status, hip_id, hip_name)
			VALUES (app_tenant_id(), $1, 'artefact-xyz', 'granted', 'CITY-HOSP', 'City Hospital') RETURNING id::text`, reqID).Scan(&consent); err != nil {
			return fmt.Errorf("consent: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO hiu_data_requests (tenant_id, consent_id, key_name, nonce, hi_exchange_id, status, expires_at)
			VALUES (app_tenant_id(), $1, 'k', 'n', 1, 'completed', now() + interval '1 day') RETURNING id::text`, consent).Scan(&dataReq); err != nil {
			return fmt.Errorf("data request: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO hiu_pages (tenant_id, data_request_id, page_number, page_count, body)
			VALUES (app_tenant_id(), $1, 1, 1, '\x00') RETURNING id`, dataReq).Scan(&pageID); err != nil {
			return fmt.Errorf("page: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO hiu_records (tenant_id, consent_id, page_id, patient_abha_address, patient_id,
				hip_id, care_context, artefact_id, received_at, record_type, title, record_date)
			VALUES (app_tenant_id(), $1, $2, $3, $4, 'CITY-HOSP', 'cc-1', 'artefact-xyz', now(), 'DiagnosticReport', 'Diabetes panel', now())
			RETURNING id::text`, consent, pageID, addr, patientID).Scan(&recordID); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		for i, v := range []string{"7.9", "7.1", "6.4"} {
			_, err := tx.Exec(ctx, `INSERT INTO hiu_entries (tenant_id, record_id, position, kind, resource, code_system, code, display,
					value, unit, range_low, range_high, effective_at, detail)
				VALUES (app_tenant_id(), $1, $2, 'observation', 'Observation', 'http://loinc.org', '4548-4', 'Hemoglobin A1c',
					$3, '%', '4', '5.6', now() - make_interval(days => $4), '{}')`, recordID, i, v, 90*(3-i))
			if err != nil {
				return fmt.Errorf("entry: %w", err)
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO hiu_entries (tenant_id, record_id, position, kind, resource, display, effective_at, detail)
			VALUES (app_tenant_id(), $1, 9, 'document', 'DocumentReference', 'Lab report', now() - interval '1 day', '{}') RETURNING id`,
			recordID).Scan(&entryID); err != nil {
			return fmt.Errorf("document entry: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO hiu_attachments (tenant_id, entry_id, content_type, title, size, data)
			VALUES (app_tenant_id(), $1, 'application/pdf', 'Report PDF', $2, $3)`, entryID, len(pdf), pdf)
		return err
	})
	if err != nil {
		t.Fatalf("storing the received record: %v", err)
	}
	return pdf
}

func TestRecordPage(t *testing.T) {
	env := startRecordEnv(t)
	p, addr := abhaPatient(t, env)
	var facility string
	err := database.InTenant(context.Background(), env.DB.App, env.Tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT id::text FROM facilities ORDER BY name LIMIT 1").Scan(&facility)
	})
	if err != nil {
		t.Fatal(err)
	}
	pdf := receiveExternal(t, env, p.ID, addr, facility)

	doctor := servertest.NewClient(t)
	env.SignIn(t, doctor, "doctor", identity.DemoPassword)
	status, page, _ := fetchPage(t, doctor, env.URL+"/patients/"+p.ID+"/record")
	if status != http.StatusOK {
		t.Fatalf("record page: %d\n%s", status, page)
	}
	if strings.Contains(page, "Could not be shown") || strings.Contains(page, "could not be read just now") {
		j := max(strings.Index(page, "Could not be shown"), strings.Index(page, "could not be read just now"))
		t.Errorf("some of the patient's own records could not be shown: %s", page[max(j-300, 0):min(j+400, len(page))])
	}
	// The navigation marks where the record belongs: the patients.
	if !strings.Contains(page, `<a href="/patients" aria-current="page">Patients</a>`) {
		t.Error("the record page does not mark Patients as current in the doctor's navigation")
	}
	// Own entries, read live from each source system the patient is in.
	systems := map[string]bool{}
	for _, l := range p.Links {
		if strings.Contains(page, html.EscapeString(l.FacilityName+" · "+l.SourceName)) {
			systems[l.SourceSystemID] = true
		}
	}
	if len(systems) < 2 {
		t.Errorf("record page shows entries from %d of the patient's source systems, want at least 2", len(systems))
	}
	// External entries, with where they came from.
	if !strings.Contains(page, "From City Hospital via ABDM · consent artefact-xyz · received") {
		t.Error("record page has no provenance naming the hospital for the received record")
	}
	if !strings.Contains(page, `<option value="City Hospital">City Hospital</option>`) {
		t.Error("the facility filter does not offer the other hospital by name")
	}
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "Hemoglobin A1c over time") || !strings.Contains(page, "<polyline") {
		t.Error("record page has no trend chart for the HbA1c series")
	}
	i := strings.Index(page, `href="/records/attachments/`)
	if i < 0 {
		t.Fatal("record page does not link the PDF")
	}
	href := page[i+6 : i+6+strings.Index(page[i+6:], `"`)]
	status, body, hdr := fetchPage(t, doctor, env.URL+href)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/pdf" || body != string(pdf) {
		t.Errorf("attachment: %d %q, %d bytes", status, hdr.Get("Content-Type"), len(body))
	}
	if hdr.Get("Content-Disposition") != "inline" || hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("attachment headers: disposition %q, cache %q", hdr.Get("Content-Disposition"), hdr.Get("Cache-Control"))
	}

	// Filtering to the external source keeps only its entries.
	_, filtered, _ := fetchPage(t, doctor, env.URL+"/patients/"+p.ID+"/record?source=ABDM")
	if strings.Contains(filtered, `class="badge badge-own"`) || !strings.Contains(filtered, "badge-external") {
		t.Error("filter source=ABDM still shows own entries or lost the external ones")
	}

	desk := servertest.NewClient(t)
	env.SignIn(t, desk, "frontdesk", identity.DemoPassword)
	if status, _, _ := fetchPage(t, desk, env.URL+"/patients/"+p.ID+"/record"); status != http.StatusForbidden {
		t.Errorf("front desk on the record page: %d, want 403", status)
	}
	if status, _, _ := fetchPage(t, desk, env.URL+href); status != http.StatusForbidden {
		t.Errorf("front desk on an attachment: %d, want 403", status)
	}
}
