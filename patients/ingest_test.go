package patients

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestIngestMatchesOnABHADeterministically(t *testing.T) {
	f := setup(t)
	first := f.rec("city/his", "MRN-1", "Ravi Kumar Iyer", "M", "1980-04-02", "9876500001")
	first.ABHANumber = "91-1111-2222-3333"
	d1 := f.ingest(t, first)
	if d1.Outcome != OutcomeNew {
		t.Fatalf("first record: %s, want new", d1.Outcome)
	}

	// Little in common but the ABHA number: it decides.
	second := f.rec("clinic/pharmacy", "RX-77", "R. K. Iyer", "M", "", "")
	second.ABHANumber = "91111122223333"
	d2 := f.ingest(t, second)
	if d2.Outcome != OutcomeLinkedABHA || d2.PatientID != d1.PatientID {
		t.Fatalf("second record: %s to %s, want linked_abha to %s", d2.Outcome, d2.PatientID, d1.PatientID)
	}

	// Same record again: nothing changes.
	again := f.ingest(t, second)
	if again.Outcome != OutcomeUnchanged || again.LinkID != d2.LinkID || again.PatientID != d1.PatientID {
		t.Errorf("re-ingest: %+v, want unchanged on link %s", again, d2.LinkID)
	}
	// A changed record keeps its master.
	second.Mobile = "9876500001"
	upd := f.ingest(t, second)
	if upd.Outcome != OutcomeUpdated || upd.LinkID != d2.LinkID || upd.PatientID != d1.PatientID {
		t.Errorf("update: %+v, want updated on link %s", upd, d2.LinkID)
	}

	p := f.patient(t, d1.PatientID)
	if len(p.Links) != 2 {
		t.Fatalf("patient has %d links, want 2", len(p.Links))
	}
	if len(p.Identifiers) != 1 || p.Identifiers[0].Value != "91111122223333" || p.Identifiers[0].Verified {
		t.Errorf("identifiers %+v, want the one ABHA number, unverified", p.Identifiers)
	}
	for _, l := range p.Links {
		if l.LocalID == "RX-77" && (l.SourceCode != "pharmacy" || l.FacilityName != "clinic hospital" || l.LinkedBy != "abha_number" || l.Mobile != "9876500001") {
			t.Errorf("pharmacy link %+v", l)
		}
	}

	// An ABHA typed into someone else's record (other gender, other
	// name) does not link: a person is asked.
	wrong := f.rec("city/lims", "LAB-9", "Sunita Menon", "F", "1992-01-01", "")
	wrong.ABHANumber = "91-1111-2222-3333"
	d3 := f.ingest(t, wrong)
	if d3.Outcome != OutcomeReview || d3.PatientID == d1.PatientID || len(d3.Reviews) != 1 {
		t.Errorf("conflicting ABHA: %+v, want a review on its own master", d3)
	}
}

func TestIngestAutoLinksSpellingVariants(t *testing.T) {
	f := setup(t)
	for _, tc := range []struct {
		name     string
		existing SourceRecord
		incoming SourceRecord
	}{
		{"transliteration and phone format",
			f.rec("city/his", "H1", "Lakshmi Reddy", "F", "1985-08-15", "9876543210"),
			f.rec("city/lims", "L1", "Laxmi Reddi", "F", "1985-08-15", "+91 98765 43210")},
		{"swapped names and day/month",
			f.rec("city/his", "H2", "Srinivas Chaudhary", "M", "1975-03-07", "9811111111"),
			f.rec("clinic/his", "C2", "Choudhary Shreenivas", "M", "1975-07-03", "9811111111")},
		{"initial, year only",
			f.rec("city/his", "H3", "Mohammed Irfan Shaikh", "M", "1990-11-30", "9822222222"),
			f.rec("city/ris", "R3", "Mohd. I. Shaikh", "M", "1990", "9822222222")},
		{"typo and one digit off mobile",
			f.rec("city/his", "H4", "Priyanka Venkataraman", "F", "2001-02-14", "9833333333"),
			f.rec("clinic/pharmacy", "P4", "Priyanka Venkatraman", "F", "2001-02-14", "9833333334")},
	} {
		a := f.ingest(t, tc.existing)
		b := f.ingest(t, tc.incoming)
		if b.Outcome != OutcomeAutoLinked || b.PatientID != a.PatientID {
			t.Errorf("%s: %s (score %.1f), want auto_linked to %s", tc.name, b.Outcome, b.Score, a.PatientID)
		}
	}
}

func TestIngestBorderlineGoesToReview(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	// Father and son of the same name sharing the family mobile.
	father := f.ingest(t, f.rec("city/his", "H-F", "Ravi Sharma", "M", "1968-03-12", "9900000001"))
	son := f.ingest(t, f.rec("city/lims", "L-S", "Ravi Sharma", "M", "1996-09-01", "9900000001"))
	if son.Outcome != OutcomeReview || son.PatientID == father.PatientID || len(son.Reviews) != 1 {
		t.Fatalf("son: %+v, want a review item and his own master", son)
	}
	queue, err := f.ix.ReviewQueue(ctx, f.tenant, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 1 {
		t.Fatalf("queue has %d items, want 1", len(queue))
	}
	it := queue[0]
	if it.ID != son.Reviews[0] || it.Existing.ID != father.PatientID || it.Incoming.ID != son.PatientID || it.Status != "open" {
		t.Errorf("item %+v", it)
	}
	if it.Existing.Links[0].LocalID != "H-F" || it.Incoming.Links[0].LocalID != "L-S" {
		t.Errorf("item patients' links: %+v / %+v", it.Existing.Links, it.Incoming.Links)
	}
	outcomes := map[string]string{}
	for _, e := range it.Evidence {
		outcomes[e.Field] = e.Outcome
	}
	if outcomes[FieldName] != "same" || outcomes[FieldBirth] != "differs" || outcomes[FieldMobile] != "same" {
		t.Errorf("evidence %+v", it.Evidence)
	}

	// Different people: closed, and not asked again when the son's next
	// record arrives.
	if _, err := f.ix.DecideReview(ctx, f.tenant, it.ID, ReviewDecision{Same: false, Actor: "asha", Reason: "father and son"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ix.DecideReview(ctx, f.tenant, it.ID, ReviewDecision{Same: true, Actor: "asha", Reason: "again"}); !errors.Is(err, ErrConflict) {
		t.Errorf("deciding twice: %v, want ErrConflict", err)
	}
	next := f.ingest(t, f.rec("clinic/his", "C-S", "Ravi Sharma", "M", "1996-09-01", "9900000001"))
	if next.Outcome != OutcomeAutoLinked || next.PatientID != son.PatientID {
		t.Errorf("son's next record: %+v, want auto-linked to the son", next)
	}
	queue, err = f.ix.ReviewQueue(ctx, f.tenant, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 0 {
		t.Errorf("queue after the decision has %d items", len(queue))
	}
}

func TestTwinsAreNotLinked(t *testing.T) {
	f := setup(t)
	for _, pair := range [][2]SourceRecord{
		{f.rec("city/his", "T1", "Rohan Mehta", "M", "2010-06-05", "9700000001"), f.rec("city/lims", "T2", "Sohan Mehta", "M", "2010-06-05", "9700000001")},
		{f.rec("city/his", "T3", "Lav Kumar Yadav", "M", "2012-01-20", "9700000002"), f.rec("clinic/his", "T4", "Kush Kumar Yadav", "M", "2012-01-20", "9700000002")},
		{f.rec("city/his", "T5", "Geeta Iyer", "F", "2015-10-10", "9700000003"), f.rec("city/lims", "T6", "Seeta Iyer", "F", "2015-10-10", "9700000003")},
	} {
		pair[0].PinCode, pair[1].PinCode = "560025", "560025"
		a := f.ingest(t, pair[0])
		b := f.ingest(t, pair[1])
		if b.PatientID == a.PatientID || b.Outcome == OutcomeAutoLinked {
			t.Errorf("%s and %s: %s (score %.1f), want separate masters", pair[0].Name, pair[1].Name, b.Outcome, b.Score)
		}
	}
}

func TestIngestRejectsBadRecords(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for name, r := range map[string]SourceRecord{
		"no local id":      {SourceSystemID: f.source["city/his"], Name: "X"},
		"no source":        {LocalID: "1", Name: "X"},
		"malformed source": {SourceSystemID: "his", LocalID: "1"},
		"unknown source":   {SourceSystemID: "00000000-0000-0000-0000-000000000001", LocalID: "1"},
		"facility differs": {SourceSystemID: f.source["city/his"], FacilityID: f.facility["clinic"], LocalID: "1"},
	} {
		if _, err := f.ix.Ingest(ctx, f.tenant, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestTenantsAreIsolated: one tenant's index neither shows nor matches
// another's patients, and cannot file records under its source systems.
func TestTenantsAreIsolated(t *testing.T) {
	a := setup(t)
	b := setup(t)
	ctx := context.Background()
	r := a.rec("city/his", "ISO-1", "Fatima Begum Khan", "F", "1979-12-01", "9600000001")
	r.ABHANumber = "91-5555-6666-7777"
	d := a.ingest(t, r)

	if _, err := b.ix.Patient(ctx, b.tenant, d.PatientID); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant reads the patient: %v", err)
	}
	m, err := b.ix.Find(ctx, b.tenant, Query{ABHANumber: r.ABHANumber, Name: r.Name, Gender: "F", BirthYear: 1979, Mobile: r.Mobile})
	if err != nil || m.Status != MatchNone {
		t.Errorf("other tenant finds %+v, %v", m, err)
	}
	if _, err := b.ix.Ingest(ctx, b.tenant, r); !errors.Is(err, ErrInvalid) {
		t.Errorf("other tenant ingests under this tenant's source: %v", err)
	}
	if _, err := b.ix.Merge(ctx, b.tenant, d.PatientID, d.PatientID, "x", "y"); err == nil {
		t.Error("other tenant merged")
	}
	list, err := b.ix.List(ctx, b.tenant, 10, 0)
	if err != nil || len(list) != 0 {
		t.Errorf("other tenant lists %d patients, %v", len(list), err)
	}
	// The same record in the other tenant's own source is a new person there.
	r2 := r
	r2.SourceSystemID = b.source["city/his"]
	if d2 := b.ingest(t, r2); d2.Outcome != OutcomeNew {
		t.Errorf("other tenant's own record: %s, want new", d2.Outcome)
	}
}

// TestPatientsWithTheirIdsInEverySystem: List shows each master with its
// record in every source, and LinkFor goes back from a source's local id.
func TestPatientsWithTheirIdsInEverySystem(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a := f.ingest(t, f.rec("city/his", "MRN-100", "Kiran Rao", "F", "1977-12-12", "9744400004"))
	f.ingest(t, f.rec("city/lims", "LAB-7", "Kiran Rao", "F", "1977-12-12", "9744400004"))
	f.ingest(t, f.rec("clinic/pharmacy", "RX-3", "Kiran Rao", "F", "1977", "9744400004"))
	b := f.ingest(t, f.rec("clinic/his", "OP-55", "Arjun Menon", "M", "2004-04-04", ""))

	list, err := f.ix.List(ctx, f.tenant, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a.PatientID || list[1].ID != b.PatientID {
		t.Fatalf("List: %d patients", len(list))
	}
	type ref struct{ facility, source, local string }
	var got []ref
	for _, l := range list[0].Links {
		got = append(got, ref{l.FacilityName, l.SourceCode, l.LocalID})
	}
	want := []ref{{"city hospital", "his", "MRN-100"}, {"city hospital", "lims", "LAB-7"}, {"clinic hospital", "pharmacy", "RX-3"}}
	if !slices.Equal(got, want) {
		t.Errorf("Kiran's links %v, want %v", got, want)
	}
	if s := list[0].Summary; s.Name != "Kiran Rao" || s.Birth() != "1977-12-12" || s.Mobile != "9744400004" {
		t.Errorf("summary %+v", s)
	}
	if page, err := f.ix.List(ctx, f.tenant, 1, 1); err != nil || len(page) != 1 || page[0].ID != b.PatientID {
		t.Errorf("second page: %v, %v", page, err)
	}

	l, err := f.ix.LinkFor(ctx, f.tenant, f.source["clinic/pharmacy"], "RX-3")
	if err != nil || l.PatientID != a.PatientID || l.SourceKind != "pharmacy" || l.BirthYear != 1977 || !l.BirthDate.IsZero() {
		t.Errorf("LinkFor: %+v, %v", l, err)
	}
	if _, err := f.ix.LinkFor(ctx, f.tenant, f.source["clinic/pharmacy"], "RX-404"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LinkFor an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := f.ix.Patient(ctx, f.tenant, "00000000-0000-0000-0000-000000000009"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown patient: %v, want ErrNotFound", err)
	}
}

// TestConcurrentIngestMakesOneMaster: records of one person arriving at
// the same moment from every source end up in one master, because their
// matching is serialised on the keys they share.
func TestConcurrentIngestMakesOneMaster(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make(chan Decision, len(f.source))
	errs := make(chan error, len(f.source))
	for code, id := range f.source {
		wg.Go(func() {
			r := SourceRecord{SourceSystemID: id, LocalID: "SAME-" + code, Name: "Harpreet Kaur Gill", Gender: "F",
				BirthDate: time.Date(1988, 2, 29, 0, 0, 0, 0, time.UTC), BirthYear: 1988, Mobile: "9855500005"}
			d, err := f.ix.Ingest(ctx, f.tenant, r)
			if err != nil {
				errs <- err
				return
			}
			results <- d
		})
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	masters := map[string]bool{}
	for d := range results {
		masters[d.PatientID] = true
	}
	if len(masters) != 1 {
		t.Errorf("%d masters for one person, want 1", len(masters))
	}
}
