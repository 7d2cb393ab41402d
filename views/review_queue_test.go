package views

import (
	"strings"
	"testing"
)

func TestReviewQueuePage(t *testing.T) {
	p := Page{Title: "Patient review", Staff: &StaffBar{Name: "Asha", CSRFToken: "tok"}}
	v := ReviewQueue{
		Notice: "Merged.",
		Cases: []ReviewCase{{
			ID: "7", Action: "/patients/review/7", Why: "Similar details (score 7.5)", Raised: "1 Jan 2026",
			Existing: PatientCard{Heading: "Patient already known", Name: "Ravi <Sharma>", Birth: "1968-03-12",
				ABHA: []string{"91-1111-2222-3333 (verified)"}, Records: []RecordRef{{"City", "MediSoft HIS", "MRN-1"}}},
			Incoming: PatientCard{Heading: "Patient of the new record", Name: "Ravi Sharma", Birth: "1996-09-01",
				Records: []RecordRef{{"City", "LabTrack LIMS", "LAB-2"}}},
			Evidence: []EvidenceRow{
				{Field: "Name", Existing: "Ravi <Sharma>", Incoming: "Ravi Sharma", Outcome: "Same", Weight: "+8"},
				{Field: "Birth", Existing: "1968-03-12", Incoming: "1996-09-01", Outcome: "Different", Weight: "−6", Differs: true},
			},
			Reason: "kept", Error: "Give a reason.",
		}},
		Merges: []MergeRow{{When: "2 Jan 2026", Who: "asha", Why: "same card", MergedName: "Anita", Records: "1", UnmergeURL: "/patients/abc/unmerge"}},
	}
	got := renderString(t, ReviewQueuePage(p, v))
	for _, want := range []string{
		"<title>Patient review · Sangam</title>",
		`data-testid="notice">Merged.</p>`,
		"Waiting for review (1 pair)",
		`<h3 id="case-7">Similar details (score 7.5)</h3>`,
		"Ravi &lt;Sharma&gt;",
		"<code>91-1111-2222-3333 (verified)</code>",
		"<td>MediSoft HIS</td><td><code>MRN-1</code></td>",
		"<td>LabTrack LIMS</td><td><code>LAB-2</code></td>",
		"<th scope=\"col\">Patient already known</th><th scope=\"col\">Patient of the new record</th>",
		"<td><strong>Different</strong></td><td>−6</td>",
		`<form method="post" action="/patients/review/7">`,
		`<input type="hidden" name="csrf_token" value="tok">`,
		`value="kept" required maxlength="500"`,
		`id="case-error-7" data-testid="form-error">Give a reason.</p>`,
		`name="decision" value="same"`,
		`name="decision" value="different"`,
		`<form method="post" action="/patients/abc/unmerge">`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if n := strings.Count(got, `data-testid="patient-card"`); n != 2 {
		t.Errorf("%d patient cards, want 2 side by side", n)
	}

	empty := renderString(t, ReviewQueuePage(p, ReviewQueue{}))
	for _, want := range []string{`data-testid="queue-empty"`, "No merges to undo.", "Waiting for review (0 pairs)"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty page lacks %s", want)
		}
	}
	if strings.Contains(empty, `name="decision"`) {
		t.Error("empty page offers a decision")
	}
}
