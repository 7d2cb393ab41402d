package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/server/servertest"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// indexedGroup is a copy of the demo group in a tenant of its own, with
// its patients indexed from the demo vendors' databases through the
// connectors, as `sangam demo` does. Its own tenant keeps the planted
// near-duplicates out of the demo tenant that other tests count on.
func indexedGroup() demo.Group {
	g := demo.KaveriHealth()
	g.Slug, g.Name = "kaveri-index", "Kaveri Health Group (indexed copy)"
	for i := range g.Facilities {
		g.Facilities[i].HIPID += "-IX" // HIP ids are unique across tenants
	}
	return g
}

var (
	indexOnce   sync.Once
	indexTenant string
	indexErr    error
)

// startIndexed starts Sangam with staff signing in to the indexed group.
func startIndexed(t *testing.T) (*servertest.Env, string) {
	t.Helper()
	db := databasetest.New(t)
	indexOnce.Do(func() { indexTenant, indexErr = loadIndexed(db) })
	if indexErr != nil {
		t.Fatalf("loading the indexed demo group: %v", indexErr)
	}
	g := indexedGroup()
	env := servertest.Start(t, servertest.Options{DefaultTenant: g.Slug, Users: identity.DemoUsers(g.HFRIDs())})
	return env, indexTenant
}

func loadIndexed(db *databasetest.DB) (string, error) {
	ctx := context.Background()
	g := indexedGroup()
	res, err := demo.Load(ctx, db.Owner, g)
	if err != nil {
		return "", err
	}
	if _, err := demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL"); err != nil {
		return "", err
	}
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{
		Mappings: mappings.FS,
		LookupEnvFunc: func(k string) (string, bool) {
			if k == "DATABASE_URL" {
				return db.URL, true
			}
			return "", false
		},
	})
	defer opener.Close()
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}})
	if err != nil {
		return "", err
	}
	defer reg.Close()
	if _, err := sources.IndexAll(ctx, reg, res.TenantID, patients.New(db.App, patients.Config{})); err != nil {
		return "", err
	}
	return res.TenantID, nil
}

// record is how the list shows one of a patient's records.
func record(l patients.Link) string {
	return html.EscapeString(l.FacilityName + " · " + l.SourceName + " · " + l.LocalID)
}

func TestPatientsPages(t *testing.T) {
	env, tenant := startIndexed(t)
	ctx := context.Background()
	ix := patients.New(env.DB.App, patients.Config{})
	all, err := ix.List(ctx, tenant, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= 25 {
		t.Fatalf("%d patients indexed; the demo should have far more", len(all))
	}
	// The first page's patient with records in the most systems.
	var multi patients.Patient
	for _, p := range all[:25] {
		systems := map[string]bool{}
		for _, l := range p.Links {
			systems[l.SourceSystemID] = true
		}
		if len(systems) >= 2 && len(p.Links) > len(multi.Links) {
			multi = p
		}
	}
	if multi.ID == "" {
		t.Fatal("no patient on the first page has records in two systems")
	}

	desk := servertest.NewClient(t)
	env.SignIn(t, desk, "frontdesk", identity.DemoPassword)
	resp, page := get(t, desk, env.URL+"/patients", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /patients: %d\n%s", resp.StatusCode, page)
	}
	if n := strings.Count(page, `data-testid="patient-row"`); n != 25 {
		t.Errorf("%d rows on the first page, want 25", n)
	}
	wants := []string{`href="/patients/` + multi.ID + `"`, html.EscapeString(multi.Summary.Name), `href="/patients?page=2"`}
	for _, l := range multi.Links {
		wants = append(wants, record(l))
	}
	mustContain(t, "the patient list", page, wants...)
	mustNotContain(t, "the first page", page, `rel="prev"`)

	_, page = get(t, desk, env.URL+"/patients?page=2", nil)
	mustContain(t, "page 2", page, "All patients, page 2", `href="/patients?page=1"`, `href="/patients/`+all[25].ID+`"`)
	for _, bad := range []string{"0", "x", "-1"} {
		if resp, _ := get(t, desk, env.URL+"/patients?page="+bad, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("page=%s: %d, want 400", bad, resp.StatusCode)
		}
	}

	// Search by each kind of identifier, and by name with the birth year.
	var byABHA, byMobile, byName patients.Patient
	var abha string
	for _, p := range all {
		for _, id := range p.Identifiers {
			if byABHA.ID == "" && id.Kind == "abha_number" {
				byABHA, abha = p, patients.FormatABHANumber(id.Value)
			}
		}
		if byMobile.ID == "" && p.Summary.Mobile != "" {
			byMobile = p
		}
		if byName.ID == "" && p.Summary.BirthYear != 0 && len(strings.Fields(p.Summary.Name)) >= 2 {
			byName = p
		}
	}
	if byABHA.ID == "" || byMobile.ID == "" || byName.ID == "" {
		t.Fatalf("the demo lacks a patient with an ABHA number (%t), a mobile (%t) or a full name (%t)", byABHA.ID != "", byMobile.ID != "", byName.ID != "")
	}
	for _, tc := range []struct {
		what, q string
		want    patients.Patient
	}{
		{"ABHA number", abha, byABHA},
		{"mobile", byMobile.Summary.Mobile, byMobile},
		{"name and year", byName.Summary.Name + " " + byName.Summary.Birth()[:4], byName},
	} {
		resp, page := get(t, desk, env.URL+"/patients?q="+url.QueryEscape(tc.q), nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("search by %s: %d", tc.what, resp.StatusCode)
			continue
		}
		mustContain(t, "search by "+tc.what, page, "Results for", `href="/patients/`+tc.want.ID+`"`, record(tc.want.Links[0]))
	}
	resp, page = get(t, desk, env.URL+"/patients?q=Ravi", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `data-testid="search-error"`) {
		t.Errorf("a search by one name alone: %d, want 400 with the message", resp.StatusCode)
	}
	_, page = get(t, desk, env.URL+"/patients?q=9999999999", nil)
	mustContain(t, "a search nobody matches", page, `data-testid="no-patients"`)

	// One patient: details, ABHA, every record as its system wrote it.
	resp, page = get(t, desk, env.URL+"/patients/"+multi.ID, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the patient: %d\n%s", resp.StatusCode, page)
	}
	wants = []string{"Records in each system", "This patient has never been merged."}
	for _, l := range multi.Links {
		wants = append(wants, html.EscapeString(l.SourceName), html.EscapeString(l.LocalID), html.EscapeString(l.Name), l.HFRID)
	}
	mustContain(t, "the patient page", page, wants...)
	_, page = get(t, desk, env.URL+"/patients/"+byABHA.ID, nil)
	mustContain(t, "the ABHA patient's page", page, `data-testid="identifiers"`, abha)

	for path, want := range map[string]int{
		"/patients/" + uuid.NewString(): http.StatusNotFound,
		"/patients/not-a-patient":       http.StatusBadRequest,
		"/patients/review":              http.StatusOK,
	} {
		if resp, _ := get(t, desk, env.URL+path, nil); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	_, page = get(t, desk, env.URL+"/patients/review", nil)
	mustContain(t, "/patients/review", page, "<h1>Patient review</h1>")

	// A merge shows in both patients' histories; the desk may undo it
	// there, a doctor may only read it.
	survivor, merged := all[0], all[1]
	if _, err := ix.Merge(ctx, tenant, survivor.ID, merged.ID, "someone", "test merge"); err != nil {
		t.Fatal(err)
	}
	unmerge := `action="/patients/` + merged.ID + `/unmerge"`
	_, page = get(t, desk, env.URL+"/patients/"+survivor.ID, nil)
	mustContain(t, "the survivor's page", page, `data-testid="history"`, "test merge", unmerge, html.EscapeString(merged.Links[0].LocalID))
	_, page = get(t, desk, env.URL+"/patients/"+merged.ID, nil)
	mustContain(t, "the merged patient's page", page, `data-testid="merged-into"`, `href="/patients/`+survivor.ID+`"`, unmerge)

	doctor := servertest.NewClient(t)
	env.SignIn(t, doctor, "doctor", identity.DemoPassword)
	resp, page = get(t, doctor, env.URL+"/patients/"+survivor.ID, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("doctor: %d", resp.StatusCode)
	}
	mustContain(t, "the doctor's view", page, "test merge")
	mustNotContain(t, "the doctor's view", page, unmerge)

	deskToken := func() string { _, p := get(t, desk, env.URL+"/patients", nil); return csrfToken(t, p) }()
	resp, page = do(t, noFollow(desk), mustRequest(t, http.MethodPost, env.URL+"/patients/"+merged.ID+"/unmerge",
		url.Values{"reason": {"not the same"}, "csrf_token": {deskToken}}))
	wantRedirect(t, resp, page, "/patients/review?notice=unmerged")
	_, page = get(t, desk, env.URL+"/patients/"+survivor.ID, nil)
	mustContain(t, "the survivor after the unmerge", page, "since undone", "not the same")
	mustNotContain(t, "the survivor after the unmerge", page, unmerge)

	billing := servertest.NewClient(t)
	env.SignIn(t, billing, "billing", identity.DemoPassword)
	for _, path := range []string{"/patients", "/patients/" + multi.ID} {
		if resp, _ := get(t, billing, env.URL+path, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("billing GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
}
