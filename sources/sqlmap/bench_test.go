package sqlmap_test

import (
	"context"
	"testing"

	"github.com/sangamhealth/sangam/sources"
)

// BenchmarkFetchLabVisit measures one care context's fetch: five queries
// and the FHIR resources built from their rows (an encounter, two
// conditions, a report and three results).
func BenchmarkFetchLabVisit(b *testing.B) {
	o, _ := setup(b)
	c := open(b, o, "beta.json")
	ctx := context.Background()
	ref := sources.ContextRef{Type: "visit", LocalID: "V-10"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Fetch(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}
