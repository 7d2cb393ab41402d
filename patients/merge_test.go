package patients

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
)

// indexState is everything a merge may touch, for comparing before and
// after an unmerge.
type indexState struct {
	LinkPatient       map[string]string // link id -> master
	IdentifierPatient map[int64]string  // identifier id -> master
	Matches           map[int64]string  // match id -> "status patient candidate"
	MergedInto        map[string]string // master -> merged_into
}

func (f *fixture) state(t *testing.T) indexState {
	t.Helper()
	ctx := context.Background()
	s := indexState{LinkPatient: map[string]string{}, IdentifierPatient: map[int64]string{}, Matches: map[int64]string{}, MergedInto: map[string]string{}}
	err := database.InTenant(ctx, f.db.App, f.tenant, func(tx pgx.Tx) error {
		var k, v string
		rows, _ := tx.Query(ctx, "SELECT id::text, patient_id::text FROM patient_links")
		if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { s.LinkPatient[k] = v; return nil }); err != nil {
			return err
		}
		var id int64
		rows, _ = tx.Query(ctx, "SELECT id, patient_id::text FROM patient_identifiers")
		if _, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error { s.IdentifierPatient[id] = v; return nil }); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, "SELECT id, status || ' ' || patient_id || ' ' || candidate_id FROM patient_matches")
		if _, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error { s.Matches[id] = v; return nil }); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, "SELECT id::text, coalesce(merged_into::text, '') FROM patients")
		_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { s.MergedInto[k] = v; return nil })
		return err
	})
	if err != nil {
		t.Fatalf("reading index state: %v", err)
	}
	return s
}

// mergeScene builds three masters: A (two records), B (one record with an
// ABHA, verified) that a review item asks to compare with A, and C that a
// review item asks to compare with B.
type mergeScene struct {
	a, b, c          Decision
	reviewAB         int64
	reviewCB         int64
	abhaB            string
	aLinks, allLinks int
}

func newMergeScene(t *testing.T, f *fixture) mergeScene {
	t.Helper()
	var s mergeScene
	s.a = f.ingest(t, f.rec("city/his", "A1", "Anita Desai", "F", "1990-01-02", "9800000001"))
	if d := f.ingest(t, f.rec("city/lims", "A2", "Aneeta Desai", "F", "1990-01-02", "9800000001")); d.PatientID != s.a.PatientID {
		t.Fatalf("A2 not linked to A: %+v", d)
	}
	// B: a record of the same person with the gender entered wrongly.
	rb := f.rec("clinic/his", "B1", "Anita Desai", "M", "1990", "9800000001")
	rb.ABHANumber = "91-2222-3333-4444"
	s.b = f.ingest(t, rb)
	if s.b.Outcome != OutcomeReview || len(s.b.Reviews) != 1 {
		t.Fatalf("B: %+v, want one review item", s.b)
	}
	s.reviewAB = s.b.Reviews[0]
	s.abhaB = rb.ABHANumber
	if err := f.ix.VerifyABHA(context.Background(), f.tenant, s.b.PatientID, s.abhaB, "anita.desai@sbx"); err != nil {
		t.Fatal(err)
	}
	// C: same name and mobile, born twenty years earlier: compared with B.
	s.c = f.ingest(t, f.rec("clinic/pharmacy", "C1", "Anita Desai", "M", "1970-05-05", "9800000001"))
	if s.c.Outcome != OutcomeReview || len(s.c.Reviews) != 1 {
		t.Fatalf("C: %+v, want one review item", s.c)
	}
	s.reviewCB = s.c.Reviews[0]
	return s
}

func TestMergeAndUnmergeRoundTrip(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	s := newMergeScene(t, f)
	before := f.state(t)

	ev, err := f.ix.Merge(ctx, f.tenant, s.a.PatientID, s.b.PatientID, "asha", "same person, gender mistyped at the clinic")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != "merge" || len(ev.Links) != 1 || ev.Links[0] != s.b.LinkID {
		t.Errorf("merge event %+v", ev)
	}
	a := f.patient(t, s.a.PatientID)
	if len(a.Links) != 3 {
		t.Errorf("A has %d links after the merge, want 3", len(a.Links))
	}
	if b := f.patient(t, s.b.PatientID); b.MergedInto != s.a.PatientID || len(b.Links) != 0 {
		t.Errorf("B after the merge: merged into %q, %d links", b.MergedInto, len(b.Links))
	}
	// B's verified ABHA now finds A.
	m, err := f.ix.Find(ctx, f.tenant, Query{ABHANumber: s.abhaB})
	if err != nil || m.Status != MatchExact || m.Patient.ID != s.a.PatientID {
		t.Errorf("Find by B's ABHA after the merge: %+v, %v", m.Status, err)
	}
	mid := f.state(t)
	if got := mid.Matches[s.reviewAB]; got != "merged "+s.b.PatientID+" "+s.a.PatientID {
		t.Errorf("review A-B after the merge: %s", got)
	}
	if got := mid.Matches[s.reviewCB]; got != "open "+s.c.PatientID+" "+s.a.PatientID {
		t.Errorf("review C-B after the merge: %s, want it moved to A", got)
	}
	if _, err := f.ix.Merge(ctx, f.tenant, s.c.PatientID, s.b.PatientID, "asha", "again"); !errors.Is(err, ErrConflict) {
		t.Errorf("merging a merged patient: %v, want ErrConflict", err)
	}

	un, err := f.ix.Unmerge(ctx, f.tenant, s.b.PatientID, "ravi", "they are cousins")
	if err != nil {
		t.Fatal(err)
	}
	if un.Kind != "unmerge" || un.Reverses != ev.ID {
		t.Errorf("unmerge event %+v", un)
	}
	after := f.state(t)
	// Exactly the state before, except that the A-B question is now
	// answered: the unmerge said they are different people.
	want := before
	want.Matches = map[int64]string{}
	for id, v := range before.Matches {
		want.Matches[id] = v
	}
	want.Matches[s.reviewAB] = "distinct " + s.b.PatientID + " " + s.a.PatientID
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("state after unmerge (-want +got):\n%s", diff)
	}

	hist, err := f.ix.History(ctx, f.tenant, s.b.PatientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Kind != "unmerge" || hist[0].Actor != "ravi" || hist[0].Reason != "they are cousins" ||
		hist[1].Kind != "merge" || hist[1].Actor != "asha" || hist[1].UndoneBy != un.ID || hist[1].MergedName != "Anita Desai" {
		t.Errorf("history %+v", hist)
	}
	if _, err := f.ix.Unmerge(ctx, f.tenant, s.b.PatientID, "ravi", "again"); !errors.Is(err, ErrConflict) {
		t.Errorf("second unmerge: %v, want ErrConflict", err)
	}
	for name, err := range map[string]error{
		"itself":    second(f.ix.Merge(ctx, f.tenant, s.a.PatientID, s.a.PatientID, "asha", "x")),
		"no reason": second(f.ix.Merge(ctx, f.tenant, s.a.PatientID, s.c.PatientID, "asha", " ")),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("merge with %s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := f.ix.Merge(ctx, f.tenant, s.a.PatientID, "00000000-0000-0000-0000-000000000009", "asha", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("merge with an unknown patient: %v, want ErrNotFound", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestUnmergeFollowsMergeOrder: a survivor merged away since must be
// unmerged first; after both unmerges the index is as it was.
func TestUnmergeFollowsMergeOrder(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	s := newMergeScene(t, f)
	before := f.state(t)
	if _, err := f.ix.Merge(ctx, f.tenant, s.a.PatientID, s.b.PatientID, "asha", "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ix.Merge(ctx, f.tenant, s.c.PatientID, s.a.PatientID, "asha", "two"); err != nil {
		t.Fatal(err)
	}
	if got := len(f.patient(t, s.c.PatientID).Links); got != 4 {
		t.Errorf("C has %d links, want 4", got)
	}
	if _, err := f.ix.Unmerge(ctx, f.tenant, s.b.PatientID, "asha", "wrong order"); !errors.Is(err, ErrConflict) {
		t.Errorf("unmerging B before A: %v, want ErrConflict", err)
	}
	if _, err := f.ix.Unmerge(ctx, f.tenant, s.a.PatientID, "asha", "undo two"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ix.Unmerge(ctx, f.tenant, s.b.PatientID, "asha", "undo one"); err != nil {
		t.Fatal(err)
	}
	after := f.state(t)
	if diff := cmp.Diff(before.LinkPatient, after.LinkPatient); diff != "" {
		t.Errorf("links (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(before.IdentifierPatient, after.IdentifierPatient); diff != "" {
		t.Errorf("identifiers (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(before.MergedInto, after.MergedInto); diff != "" {
		t.Errorf("merged_into (-before +after):\n%s", diff)
	}
}

func TestDecideReviewSameMerges(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	s := newMergeScene(t, f)
	it, err := f.ix.DecideReview(ctx, f.tenant, s.reviewAB, ReviewDecision{Same: true, Actor: "asha", Reason: "checked the Aadhaar card"})
	if err != nil {
		t.Fatal(err)
	}
	if it.Status != "merged" || it.DecidedBy != "asha" || it.Reason != "checked the Aadhaar card" || it.DecidedAt.IsZero() {
		t.Errorf("decided item %+v", it)
	}
	if got := f.patient(t, s.b.PatientID).MergedInto; got != s.a.PatientID {
		t.Errorf("B merged into %q, want A", got)
	}
	hist, err := f.ix.History(ctx, f.tenant, s.a.PatientID)
	if err != nil || len(hist) != 1 || hist[0].MatchID != s.reviewAB {
		t.Errorf("history %+v, %v", hist, err)
	}
	merges, err := f.ix.Merges(ctx, f.tenant, 10)
	if err != nil || len(merges) != 1 || merges[0].MergedID != s.b.PatientID {
		t.Errorf("recent merges %+v, %v", merges, err)
	}
	queue, err := f.ix.ReviewQueue(ctx, f.tenant, 10)
	if err != nil || len(queue) != 1 || queue[0].ID != s.reviewCB || queue[0].Existing.ID != s.a.PatientID {
		t.Errorf("queue after the merge: %+v, %v", queue, err)
	}
	if _, err := f.ix.Unmerge(ctx, f.tenant, s.b.PatientID, "asha", "no"); err != nil {
		t.Fatal(err)
	}
	if it, err := f.ix.Review(ctx, f.tenant, s.reviewAB); err != nil || it.Status != "distinct" {
		t.Errorf("item after the unmerge: %+v, %v", it.Status, err)
	}
	if merges, err := f.ix.Merges(ctx, f.tenant, 10); err != nil || len(merges) != 0 {
		t.Errorf("undone merge still listed: %+v, %v", merges, err)
	}
}
