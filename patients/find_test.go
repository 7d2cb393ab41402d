package patients

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestFind(t *testing.T) {
	f := setup(t)
	ctx := context.Background()

	// Sunita: HIS and LIMS records, an ABHA typed into the HIS.
	rs := f.rec("city/his", "S-1", "Sunita Kulkarni", "F", "1982-07-19", "9811100001")
	rs.ABHANumber = "91-4444-5555-6666"
	sunita := f.ingest(t, rs)
	f.ingest(t, f.rec("city/lims", "S-2", "Suneeta Kulkarni", "F", "1982-07-19", "9811100001"))
	// Ramesh senior and junior share a name and the home mobile.
	senior := f.ingest(t, f.rec("city/his", "R-1", "Ramesh Iyer", "M", "1955-02-01", "9822200002"))
	junior := f.ingest(t, f.rec("clinic/his", "R-2", "Ramesh Iyer", "M", "1984-10-10", "9822200002"))
	if junior.PatientID == senior.PatientID {
		t.Fatal("father and son share a master")
	}
	// Meera twice: the second record's gender was entered wrongly, so it
	// waits for review in its own master.
	meera1 := f.ingest(t, f.rec("city/his", "M-1", "Meera Pillai", "F", "1993-03-03", "9833300003"))
	meera2 := f.ingest(t, f.rec("clinic/his", "M-2", "Meera Pillai", "M", "1993", "9833300003"))
	if meera2.PatientID == meera1.PatientID || meera2.Outcome != OutcomeReview {
		t.Fatalf("Meera's second record: %+v", meera2)
	}

	for _, tc := range []struct {
		name      string
		q         Query
		status    MatchStatus
		patient   string
		matchedBy []string
	}{
		{"unverified ABHA with agreeing demographics",
			Query{ABHANumber: "91444455556666", Name: "Sunita Kulkarni", Gender: "F", BirthYear: 1982},
			MatchExact, sunita.PatientID, []string{MatchedByABHANumber}},
		{"unverified ABHA with another person's demographics",
			Query{ABHANumber: "91444455556666", Name: "Vikram Rao", Gender: "M", BirthYear: 1960},
			MatchNone, "", nil},
		{"verified mobile and demographics",
			Query{Name: "Sunita Kulkarni", Gender: "F", BirthYear: 1982, Mobile: "+919811100001"},
			MatchExact, sunita.PatientID, []string{MatchedByMobile}},
		{"name and year of birth alone",
			Query{Name: "Sunita Kulkarni", Gender: "F", BirthYear: 1982},
			MatchNone, "", nil},
		{"the son, by year of birth, not his father",
			Query{Name: "Ramesh Iyer", Gender: "M", BirthYear: 1984, Mobile: "9822200002"},
			MatchExact, junior.PatientID, []string{MatchedByMobile}},
		{"father or son: no year of birth",
			Query{Name: "Ramesh Iyer", Gender: "M", Mobile: "9822200002"},
			MatchAmbiguous, "", nil},
		{"two masters of one person, not yet merged",
			Query{Name: "Meera Pillai", BirthYear: 1993, Mobile: "9833300003"},
			MatchAmbiguous, "", nil},
		{"the gender tells the two Meera masters apart",
			Query{Name: "Meera Pillai", Gender: "F", BirthYear: 1993, Mobile: "9833300003"},
			MatchExact, meera1.PatientID, []string{MatchedByMobile}},
		{"medical record number of the facility",
			Query{Name: "Sunita Kulkarni", Gender: "F", BirthYear: 1982, FacilityID: f.facility["city"], LocalIDs: []string{"S-2"}},
			MatchExact, sunita.PatientID, []string{MatchedByMR}},
		{"medical record number of another facility",
			Query{Name: "Sunita Kulkarni", Gender: "F", BirthYear: 1982, FacilityID: f.facility["clinic"], LocalIDs: []string{"S-2"}},
			MatchNone, "", nil},
		{"nobody",
			Query{Name: "Zainab Ansari", Gender: "F", BirthYear: 2001, Mobile: "9899999999"},
			MatchNone, "", nil},
	} {
		m, err := f.ix.Find(ctx, f.tenant, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if m.Status != tc.status || m.Patient.ID != tc.patient || !slices.Equal(m.MatchedBy, tc.matchedBy) {
			t.Errorf("%s: %s %s %v (score %.1f), want %s %s %v", tc.name, m.Status, m.Patient.ID, m.MatchedBy, m.Score, tc.status, tc.patient, tc.matchedBy)
		}
		if m.Status == MatchExact && len(m.Patient.Links) == 0 {
			t.Errorf("%s: exact match without links", tc.name)
		}
	}

	// A verified ABHA decides on its own, and cannot be verified for a
	// second master.
	if err := f.ix.VerifyABHA(ctx, f.tenant, senior.PatientID, "", "ramesh.iyer@sbx"); err != nil {
		t.Fatal(err)
	}
	m, err := f.ix.Find(ctx, f.tenant, Query{ABHAAddress: "Ramesh.Iyer@sbx"})
	if err != nil || m.Status != MatchExact || m.Patient.ID != senior.PatientID || !slices.Equal(m.MatchedBy, []string{MatchedByABHAAddress}) {
		t.Errorf("verified ABHA address: %+v, %v", m, err)
	}
	if err := f.ix.VerifyABHA(ctx, f.tenant, junior.PatientID, "", "ramesh.iyer@sbx"); !errors.Is(err, ErrConflict) {
		t.Errorf("verifying the address for the son too: %v, want ErrConflict", err)
	}
	if err := f.ix.VerifyABHA(ctx, f.tenant, junior.PatientID, "12-34", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("verifying a malformed ABHA number: %v, want ErrInvalid", err)
	}
}

func TestSearch(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	senior := f.ingest(t, f.rec("city/his", "R-1", "Ramesh Iyer", "M", "1955-02-01", "9822200002"))
	junior := f.ingest(t, f.rec("clinic/his", "R-2", "Ramesh Iyer", "M", "1984-10-10", "9822200002"))
	wife := f.ingest(t, f.rec("city/his", "L-1", "Lakshmi Iyer", "F", "1958-06-30", "9822200002"))
	r := f.rec("city/lims", "X-1", "Farhan Qureshi", "M", "1999-09-09", "")
	r.ABHAAddress = "farhan@sbx"
	farhan := f.ingest(t, r)

	ids := func(rs []SearchResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Patient.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"9822200002", sorted(senior.PatientID, junior.PatientID, wife.PatientID)},
		{"Ramesh Iyer 1984", sorted(junior.PatientID, senior.PatientID)}, // the father too: same name, for a person to rule out
		{"Laxmi Iyer 1958", []string{wife.PatientID}},
		{"farhan@SBX", []string{farhan.PatientID}},
		{"Nobody Known 1990", nil},
	} {
		got, err := f.ix.Search(ctx, f.tenant, ParseSearch(tc.text), 10)
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%q found %v, want %v", tc.text, ids(got), tc.want)
		}
	}
	got, err := f.ix.Search(ctx, f.tenant, ParseSearch("Ramesh Iyer 1984"), 10)
	if err != nil || len(got) == 0 || got[0].Patient.ID != junior.PatientID || got[0].NameMatch != "same" {
		t.Errorf("best result for the son's year: %+v, %v", got, err)
	}
	if _, err := f.ix.Search(ctx, f.tenant, ParseSearch("Ramesh"), 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("a single name: %v, want ErrInvalid", err)
	}
}

func TestParseSearch(t *testing.T) {
	for in, want := range map[string]Query{
		"91-1234-5678-9012":     {ABHANumber: "91-1234-5678-9012"},
		"riya@sbx":              {ABHAAddress: "riya@sbx"},
		"+919876543210":         {Mobile: "+919876543210"},
		"Ravi Kumar 1980":       {Name: "Ravi Kumar", BirthYear: 1980},
		"  Laxmi   9876543210 ": {Name: "Laxmi", Mobile: "9876543210"},
	} {
		got := ParseSearch(in)
		if got.Name != want.Name || got.ABHANumber != want.ABHANumber || got.ABHAAddress != want.ABHAAddress || got.Mobile != want.Mobile || got.BirthYear != want.BirthYear {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", in, got, want)
		}
	}
}
