package server

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/views"
)

// manyItems is n entries over n days: every third a LOINC result of one of
// five tests, the rest notes from two facilities and sources.
func manyItems(n int) []recordItem {
	start := time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC)
	codes := []string{"4548-4", "2345-7", "718-7", "2160-0", "2093-3"}
	out := make([]recordItem, n)
	for i := range out {
		it := recordItem{At: start.Add(time.Duration(i) * 24 * time.Hour), Kind: "encounter", Title: "Visit " + strconv.Itoa(i),
			Facility: "Kaveri City Hospital", Source: "MediSoft HIS", Provenance: "Kaveri City Hospital · MediSoft HIS"}
		if i%3 == 0 {
			it.Kind, it.CodeSystem, it.Code = "observation", systemLOINC, codes[i%len(codes)]
			it.Title, it.Value, it.Unit, it.RangeLow, it.RangeHigh = "Test "+it.Code, strconv.Itoa(90+i%40), "mg/dL", "70", "110"
			it.Facility, it.Source, it.Provenance = "City Hospital", "ABDM", "From City Hospital via ABDM"
			it.External = true
		}
		out[i] = it
	}
	return out
}

func TestRecordPageModel(t *testing.T) {
	items := manyItems(250)
	v := recordPageModel("p1", "Ravi", items, recordQuery{Page: 1}, nil)
	if v.Total != 250 || v.Shown != recordPerPage || v.NextURL == "" || v.PrevURL != "" {
		t.Fatalf("page 1: total %d shown %d next %q prev %q", v.Total, v.Shown, v.NextURL, v.PrevURL)
	}
	// Item 249, the newest, is a result of the fifth code.
	if first := v.Groups[0].Entries[0].Title; first != "Test 2093-3" {
		t.Errorf("newest first: first entry is %q", first)
	}
	if len(v.Trends) != 5 {
		t.Fatalf("%d trends, want one per LOINC code (5)", len(v.Trends))
	}
	for _, tr := range v.Trends {
		if tr.BandHeight <= 0 || len(tr.Points) < 2 {
			t.Errorf("trend %s: band %v, %d points", tr.Code, tr.BandHeight, len(tr.Points))
		}
		for _, p := range tr.Points {
			if p.X < 0 || p.X > views.TrendWidth || p.Y < 0 || p.Y > views.TrendHeight {
				t.Errorf("trend %s: point %+v outside the chart", tr.Code, p)
			}
		}
	}
	last := recordPageModel("p1", "Ravi", items, recordQuery{Page: 3}, nil)
	if last.Shown != 50 || last.NextURL != "" || !strings.Contains(last.PrevURL, "page=2") {
		t.Errorf("page 3: shown %d next %q prev %q", last.Shown, last.NextURL, last.PrevURL)
	}
	ext := recordPageModel("p1", "Ravi", items, recordQuery{Source: "ABDM", Page: 1}, nil)
	if ext.Total != 84 {
		t.Errorf("source=ABDM: %d entries, want 84", ext.Total)
	}
	for _, g := range ext.Groups {
		for _, e := range g.Entries {
			if !e.External {
				t.Fatalf("source=ABDM shows own entry %q", e.Title)
			}
			n, _ := strconv.Atoi(strings.Fields(e.Value)[0])
			if want := map[bool]string{true: "high", false: ""}[n > 110]; e.Flag != want {
				t.Errorf("%s %s: flag %q, want %q", e.Title, e.Value, e.Flag, want)
			}
		}
	}
}

func TestExternalItemsNameTheHIP(t *testing.T) {
	received := time.Date(2024, 5, 1, 4, 30, 0, 0, time.UTC) // 10:00 in India
	items := externalItems([]hiu.RecordEntry{
		{HIP: "IN_CITY_HIP", HIPName: "City Hospital", Consent: "artefact-1", ReceivedAt: received, Kind: "document", Display: "Discharge summary"},
		{HIP: "IN_OTHER_HIP", Consent: "artefact-2", ReceivedAt: received, Kind: "document", Display: "Lab report"},
	})
	for i, want := range []struct{ facility, provenance string }{
		{"City Hospital", "From City Hospital via ABDM · consent artefact-1 · received 1 May, 10:00:00"},
		// An artefact without the HIP's name: its service id instead.
		{"IN_OTHER_HIP", "From IN_OTHER_HIP via ABDM · consent artefact-2 · received 1 May, 10:00:00"},
	} {
		if got := items[i]; got.Facility != want.facility || got.Provenance != want.provenance || !got.External || got.Source != "ABDM" {
			t.Errorf("item %d: facility %q, provenance %q, external %v, source %q; want %q, %q", i, got.Facility, got.Provenance, got.External, got.Source, want.facility, want.provenance)
		}
	}
}

// BenchmarkRecordPage2000 builds and renders the record page of a patient
// with 2,000 entries (target: under 100 ms).
func BenchmarkRecordPage2000(b *testing.B) {
	items := manyItems(2000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v := recordPageModel("p1", "Ravi", items, recordQuery{Page: 1}, nil)
		if err := views.RecordPageView(views.Page{Title: "Ravi"}, v).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
