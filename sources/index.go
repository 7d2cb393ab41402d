package sources

import (
	"context"
	"fmt"

	"github.com/sangamhealth/sangam/patients"
)

// Indexer takes one source record into the patient master index;
// *patients.Index is one.
type Indexer interface {
	Ingest(ctx context.Context, tenant string, rec patients.SourceRecord) (patients.Decision, error)
}

// IndexCounts says what indexing a tenant's sources did, per outcome.
type IndexCounts struct {
	Records  int
	Outcomes map[patients.Outcome]int
	// Failed lists the sources that could not be read, with the reason;
	// their patients are indexed on a later run.
	Failed map[string]string
}

// indexPage is how many patients are read from a source per call.
const indexPage = 200

// IndexAll reads every patient of every source system of the tenant and
// takes each into the master index. It is what connecting a new source (or
// loading the demo group) needs before discovery and linking can find
// anyone. Ingest is idempotent, so running it again only picks up changes.
// A source that fails is reported in Failed and the others carry on.
func IndexAll(ctx context.Context, reg *Registry, tenant string, ix Indexer) (IndexCounts, error) {
	counts := IndexCounts{Outcomes: map[patients.Outcome]int{}, Failed: map[string]string{}}
	monitors, err := reg.Tenant(ctx, tenant)
	if err != nil {
		return counts, fmt.Errorf("listing source systems: %w", err)
	}
	for _, m := range monitors {
		name := m.System().FacilityHFRID + "/" + m.System().Code
		if err := indexSource(ctx, m, tenant, ix, &counts); err != nil {
			if ctx.Err() != nil {
				return counts, ctx.Err()
			}
			counts.Failed[name] = err.Error()
		}
	}
	return counts, nil
}

func indexSource(ctx context.Context, c Connector, tenant string, ix Indexer, counts *IndexCounts) error {
	after := ""
	for {
		page, err := c.ListPatients(ctx, after, indexPage)
		if err != nil {
			return fmt.Errorf("reading patients: %w", err)
		}
		for _, rec := range page {
			d, err := ix.Ingest(ctx, tenant, rec)
			if err != nil {
				return fmt.Errorf("indexing patient %s: %w", rec.LocalID, err)
			}
			counts.Records++
			counts.Outcomes[d.Outcome]++
		}
		if len(page) < indexPage {
			return nil
		}
		after = page[len(page)-1].LocalID
	}
}
