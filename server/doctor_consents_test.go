package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server/servertest"
)

// abhaPatient is an indexed patient with an ABHA address and records in
// at least two source systems.
func abhaPatient(t *testing.T, env *recordEnv) (patients.Patient, string) {
	t.Helper()
	all, err := patients.New(env.DB.App, patients.Config{}).List(context.Background(), env.Tenant, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		systems := map[string]bool{}
		for _, l := range p.Links {
			systems[l.SourceSystemID] = true
		}
		for _, id := range p.Identifiers {
			if id.Kind == "abha_address" && len(systems) >= 2 {
				return p, id.Value
			}
		}
	}
	t.Fatal("no indexed patient has an ABHA address and records in two systems")
	return patients.Patient{}, ""
}

func TestConsentRequestFromThePage(t *testing.T) {
	env := startRecordEnv(t)
	p, addr := abhaPatient(t, env)
	doctor := servertest.NewClient(t)
	env.SignIn(t, doctor, "doctor", identity.DemoPassword)

	status, page, _ := fetchPage(t, doctor, env.URL+"/doctor/consents?q="+url.QueryEscape(addr))
	if status != http.StatusOK {
		t.Fatalf("consents page: %d %s", status, page)
	}
	pick := p.ID + "|" + addr
	if !strings.Contains(page, `value="`+html.EscapeString(pick)+`"`) {
		t.Fatalf("search for %s does not offer the patient to pick", addr)
	}
	today := time.Now().Format(time.DateOnly)
	form := url.Values{
		"csrf_token": {csrfToken(t, page)},
		"patient":    {pick},
		"purpose":    {"CAREMGT"},
		"hi_type":    {"DiagnosticReport", "OPConsultation"},
		"from":       {time.Now().AddDate(-1, 0, 0).Format(time.DateOnly)},
		"to":         {today},
		"expiry":     {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)},
	}

	// A form without HI types comes back with the reason and no request.
	bad := url.Values{}
	for k, v := range form {
		if k != "hi_type" {
			bad[k] = v
		}
	}
	resp, err := doctor.PostForm(env.URL+"/doctor/consents", bad)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("form without record types: %d, want 400", resp.StatusCode)
	}

	resp, err = doctor.PostForm(env.URL+"/doctor/consents", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.String(), "/doctor/consents?created=1") {
		t.Fatalf("after sending: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	_, table, _ := fetchPage(t, doctor, env.URL+"/doctor/consents/table")
	if !strings.Contains(table, addr) || !strings.Contains(table, "Care Management") || !strings.Contains(table, "Lab and imaging reports, OP consultations") {
		t.Fatalf("table does not show the request:\n%s", table)
	}
	if !strings.Contains(table, "Sending") && !strings.Contains(table, "Not sent yet") && !strings.Contains(table, "No answer from the patient yet") {
		t.Fatalf("table shows no live status:\n%s", table)
	}
	reqs, err := env.HIU.ConsentRequests(context.Background(), env.Tenant, hiu.Filter{PatientABHAAddress: addr})
	if err != nil || len(reqs) == 0 {
		t.Fatalf("stored requests: %v %v", reqs, err)
	}
	if reqs[0].PatientID != p.ID || reqs[0].RequesterName != "Vikram Doctor" {
		t.Errorf("stored request %+v: want patient %s asked by Vikram Doctor", reqs[0], p.ID)
	}

	desk := servertest.NewClient(t)
	env.SignIn(t, desk, "frontdesk", identity.DemoPassword)
	if status, _, _ := fetchPage(t, desk, env.URL+"/doctor/consents"); status != http.StatusForbidden {
		t.Errorf("front desk on the consents page: %d, want 403", status)
	}
}
