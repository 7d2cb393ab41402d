package fhirrest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"

	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/fhirrest"
	"github.com/sangamhealth/sangam/sources/fhirrest/fhirresttest"
)

type bundle struct {
	server *fhirresttest.Server
	conn   *fhirrest.Connector
	sys    sources.System
}

func setup(t *testing.T, token string) bundle {
	t.Helper()
	data, err := os.ReadFile("testdata/his.json")
	if err != nil {
		t.Fatal(err)
	}
	resources, err := fhirresttest.LoadBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	srv := fhirresttest.New("s3cret", resources)
	srv.PageSize = 1 // every search pages
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg, _ := json.Marshal(map[string]any{"connector": "fhir", "base_url": hs.URL + "/fhir", "token_env": "HIS_TOKEN"})
	sys := sources.System{ID: "sys-1", FacilityID: "fac-1", FacilityHFRID: "IN0000000002", Code: "his", Config: cfg}
	conn, err := fhirrest.Open(context.Background(), sys, fhirrest.Options{
		Client: hs.Client(),
		LookupEnvFunc: func(k string) (string, bool) {
			if k == "HIS_TOKEN" {
				return token, true
			}
			return "", false
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return bundle{server: srv, conn: conn, sys: sys}
}

func TestFindPatientsByIdentifierPhoneAndDemographics(t *testing.T) {
	b := setup(t, "s3cret")
	ctx := context.Background()
	cases := []struct {
		q    sources.PatientQuery
		want string
	}{
		{sources.PatientQuery{LocalID: "pat-1001"}, "pat-1001"},
		{sources.PatientQuery{ABHANumber: "91111122223333"}, "pat-1001"},
		{sources.PatientQuery{ABHAAddress: "Asha.Rao@sbx"}, "pat-1001"},
		{sources.PatientQuery{Mobile: "+91 98450 11111"}, "pat-1001"},
		{sources.PatientQuery{Mobile: "09845022222"}, "pat-1002"},
		{sources.PatientQuery{Name: "ravi", BirthYear: 1970, Gender: "M"}, "pat-1002"},
	}
	for _, c := range cases {
		got, err := b.conn.FindPatients(ctx, c.q)
		if err != nil {
			t.Fatalf("FindPatients(%+v): %v", c.q, err)
		}
		if len(got) != 1 || got[0].LocalID != c.want {
			t.Errorf("FindPatients(%+v) = %+v, want %s", c.q, got, c.want)
		}
	}
	got, _ := b.conn.FindPatients(ctx, sources.PatientQuery{LocalID: "pat-1001"})
	r := got[0]
	if r.Name != "Asha Rao" || r.Gender != "F" || r.BirthDate.Format(time.DateOnly) != "1985-02-14" || r.BirthYear != 1985 ||
		r.Mobile != "9845011111" || r.ABHANumber != "91-1111-2222-3333" || r.ABHAAddress != "asha.rao@sbx" ||
		r.Address != "12 MG Road, Bengaluru" || r.PinCode != "560001" || r.SourceSystemID != "sys-1" || r.FacilityID != "fac-1" {
		t.Errorf("patient mapped to %+v", r)
	}
	got, _ = b.conn.FindPatients(ctx, sources.PatientQuery{LocalID: "pat-1002"})
	if got[0].BirthYear != 1970 || !got[0].BirthDate.IsZero() {
		t.Errorf("year-only birth date mapped to %v / %d", got[0].BirthDate, got[0].BirthYear)
	}
	if _, err := b.conn.FindPatients(ctx, sources.PatientQuery{Name: "asha"}); !errors.Is(err, sources.ErrInvalidInput) {
		t.Errorf("name without birth year: %v, want ErrInvalidInput", err)
	}
}

func TestCareContextsAreDateFilteredAndPaged(t *testing.T) {
	b := setup(t, "s3cret")
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ccs, err := b.conn.CareContexts(context.Background(), "pat-1001", from, to)
	if err != nil {
		t.Fatal(err)
	}
	// Four searches, one of which (two outpatient visits, one per page)
	// takes a second page.
	if n := b.server.Requests.Load(); n != 5 {
		t.Errorf("server saw %d requests, want 5 (the next link followed once)", n)
	}
	var refs []string
	for _, c := range ccs {
		refs = append(refs, c.Reference+" "+string(c.HIType))
	}
	want := []string{
		"his:ipd:enc-3 DischargeSummary", "his:opd:enc-2 OPConsultation",
		"his:report:dr-1 DiagnosticReport", "his:rx:mr-1 Prescription", "his:opd:enc-1 OPConsultation",
	}
	if len(refs) != len(want) {
		t.Fatalf("care contexts = %v, want %v", refs, want)
	}
	for i := range want {
		if refs[i] != want[i] {
			t.Errorf("care context %d = %s, want %s", i, refs[i], want[i])
		}
	}
	if ccs[4].Display != "General Medicine, 1 Mar 2025" || ccs[4].PatientID != "pat-1001" || ccs[4].Updated.IsZero() {
		t.Errorf("enc-1 context = %+v", ccs[4])
	}
}

func TestFetchRewritesReferencesToUUIDs(t *testing.T) {
	b := setup(t, "s3cret")
	ctx := context.Background()
	content, err := b.conn.Fetch(ctx, sources.ContextRef{Type: "opd", LocalID: "enc-1"})
	if err != nil {
		t.Fatal(err)
	}
	patient := "urn:uuid:" + content.PatientID
	encID := sources.ResourceID("IN0000000002", "his", "Encounter/enc-1")
	kinds := map[string]int{}
	for _, r := range content.Resources {
		if err := fhirvalidate.Validate(r); err != nil {
			t.Errorf("invalid resource: %v", err)
		}
		switch {
		case r.GetEncounter() != nil:
			kinds["Encounter"]++
			e := r.GetEncounter()
			if e.GetId().GetValue() != encID || e.GetSubject().GetUri().GetValue() != patient {
				t.Errorf("encounter id %s subject %v", e.GetId().GetValue(), e.GetSubject())
			}
			if got := e.GetParticipant()[0].GetIndividual().GetUri().GetValue(); got != "urn:uuid:"+sources.ResourceID("IN0000000002", "his", "Practitioner/pr-1") {
				t.Errorf("participant reference %s", got)
			}
		case r.GetCondition() != nil:
			kinds["Condition"]++
			if got := r.GetCondition().GetEncounter().GetUri().GetValue(); got != "urn:uuid:"+encID {
				t.Errorf("condition encounter %s, want urn:uuid:%s", got, encID)
			}
		case r.GetObservation() != nil:
			kinds["Observation"]++
		case r.GetPractitioner() != nil:
			kinds["Practitioner"]++
		case r.GetPatient() != nil:
			t.Error("a Patient resource was passed on")
		}
	}
	if kinds["Encounter"] != 1 || kinds["Condition"] != 1 || kinds["Observation"] != 1 || kinds["Practitioner"] != 1 {
		t.Errorf("resources = %v", kinds)
	}

	report, err := b.conn.Fetch(ctx, sources.ContextRef{Type: "report", LocalID: "dr-1"})
	if err != nil {
		t.Fatal(err)
	}
	var dr *bcrpb.ContainedResource
	obs := ""
	for _, r := range report.Resources {
		if r.GetDiagnosticReport() != nil {
			dr = r
		}
		if r.GetObservation() != nil {
			obs = r.GetObservation().GetId().GetValue()
		}
	}
	if dr == nil || obs == "" || dr.GetDiagnosticReport().GetResult()[0].GetUri().GetValue() != "urn:uuid:"+obs {
		t.Errorf("report %v does not point at its result %s", dr, obs)
	}
	if _, err := b.conn.Fetch(ctx, sources.ContextRef{Type: "opd", LocalID: "enc-404"}); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("missing encounter: %v, want ErrNotFound", err)
	}
}

func TestChangedSinceAndFailures(t *testing.T) {
	b := setup(t, "s3cret")
	ctx := context.Background()
	changed, err := b.conn.ChangedSince(ctx, time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC), 10)
	if err != nil {
		t.Fatal(err)
	}
	// Changed after 11:30 IST on 1 March: dr-1 (13:00), enc-2, enc-3; not
	// mr-1 (11:30 exactly) or enc-1 (11:00).
	var ids []string
	for _, c := range changed {
		ids = append(ids, c.LocalID)
	}
	if len(ids) != 3 || ids[0] != "dr-1" || ids[1] != "enc-2" || ids[2] != "enc-3" {
		t.Errorf("changed = %v, want [dr-1 enc-2 enc-3]", ids)
	}
	if err := b.conn.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if _, err := b.conn.ListPatients(ctx, "", 10); !errors.Is(err, sources.ErrUnsupported) {
		t.Errorf("ListPatients: %v, want ErrUnsupported", err)
	}

	b.server.SetFailing(true)
	if err := b.conn.Ping(ctx); !errors.Is(err, sources.ErrUnavailable) {
		t.Errorf("Ping of a failing server: %v, want ErrUnavailable", err)
	}
	b.server.SetFailing(false)

	wrong := setup(t, "wrong-token")
	if _, err := wrong.conn.FindPatients(ctx, sources.PatientQuery{LocalID: "pat-1001"}); !errors.Is(err, sources.ErrUnavailable) {
		t.Errorf("wrong token: %v, want ErrUnavailable", err)
	}
}
