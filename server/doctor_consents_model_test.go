package server

import (
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/hiu"
)

func TestConsentTableSaysWhatIsHappening(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	reqs := []hiu.ConsentRequest{
		{PatientABHAAddress: "ravi@sbx", Purpose: "CAREMGT", HITypes: []string{"DiagnosticReport"}, Status: hiu.StatusRequested,
			CreatedAt: now.Add(-13 * time.Minute), RequestedAt: now.Add(-12 * time.Minute)},
		{Status: hiu.StatusSending, CreatedAt: now.Add(-time.Minute), LastError: "gateway answered 503"},
		{Status: hiu.StatusGranted, GrantedAt: now, Artefacts: []hiu.Artefact{{FetchedAt: now}, {}}},
		{Status: hiu.StatusDenied, DeniedAt: now},
		{Status: hiu.StatusRevoked, RevokedAt: now},
	}
	want := []struct{ status, detail string }{
		{"Requested", "No answer from the patient yet — requested 12 min ago"},
		{"Not sent yet", "retrying): gateway answered 503"},
		{"Granted", "2 consent(s), records received for 1"},
		{"Denied", "The patient said no, 24 Nov, 15:30:00"},
		{"Revoked", "withdrew consent 24 Nov, 15:30:00"},
	}
	rows := consentTableModel(reqs, now).Rows
	for i, w := range want {
		if rows[i].Status != w.status || !strings.Contains(rows[i].Detail, w.detail) {
			t.Errorf("row %d: %q %q, want %q containing %q", i, rows[i].Status, rows[i].Detail, w.status, w.detail)
		}
	}
	if rows[0].Purpose != "Care Management" || rows[0].HITypes != "Lab and imaging reports" {
		t.Errorf("row 0 reads %q / %q", rows[0].Purpose, rows[0].HITypes)
	}
}

func TestConsentRequestOfTheForm(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f := defaultConsentForm(now)
	f.Patient = "3f1c0c9e-0000-4000-8000-000000000001|ravi@sbx"
	req, problems := consentRequestOf(f, []string{"OPConsultation", "Nonsense"}, now)
	if len(problems) != 0 {
		t.Fatalf("default form with a patient: %v", problems)
	}
	if req.PatientABHAAddress != "ravi@sbx" || len(req.HITypes) != 1 || req.To.After(now) || !req.Expiry.After(now) {
		t.Errorf("request %+v", req)
	}
	f.Patient, f.To, f.Expiry = "", "2020-01-01", "2020-01-01"
	if _, problems := consentRequestOf(f, nil, now); len(problems) != 4 {
		t.Errorf("bad form gave %d problems, want 4 (patient, types, dates, expiry): %v", len(problems), problems)
	}
}
