package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// The group's own records are read live from each source system a
// patient is linked in, and go through the same NRCeS document and reader
// as records from other hospitals, so both look alike on the page.

// SourceReader opens one source system (*sources.Registry).
type SourceReader interface {
	Source(ctx context.Context, tenantID, sourceSystemID string) (*sources.Monitor, error)
}

// ownRecordYears is how far back the page reads the group's own systems.
const ownRecordYears = 10

// ownItems reads every care context of every link of p, one goroutine per
// link so that a slow system does not add to the others. A source that
// cannot be read becomes a note, not an error: the rest of the record is
// still worth showing.
func (s *Server) ownItems(ctx context.Context, tenant string, p patients.Patient, now time.Time) ([]recordItem, []string) {
	got := make([][]recordItem, len(p.Links))
	errs := make([]error, len(p.Links))
	var wg sync.WaitGroup
	for i, l := range p.Links {
		wg.Go(func() { got[i], errs[i] = s.linkItems(ctx, tenant, p, l, now) })
	}
	wg.Wait()
	var items []recordItem
	var notes []string
	for i, l := range p.Links {
		items = append(items, got[i]...)
		if errs[i] == nil {
			continue
		}
		s.log.WarnContext(ctx, "reading own records", "source_system", l.SourceSystemID, "error", errs[i].Error())
		if ctx.Err() != nil {
			notes = append(notes, fmt.Sprintf("%s at %s took too long to answer, so some of its records are missing.", l.SourceName, l.FacilityName))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s at %s could not be read just now, so its records are missing.", l.SourceName, l.FacilityName))
	}
	return items, notes
}

func (s *Server) linkItems(ctx context.Context, tenant string, p patients.Patient, l patients.Link, now time.Time) ([]recordItem, error) {
	mon, err := s.sources.Source(ctx, tenant, l.SourceSystemID)
	if err != nil {
		return nil, fmt.Errorf("opening source: %w", err)
	}
	ccs, err := mon.CareContexts(ctx, l.LocalID, now.AddDate(-ownRecordYears, 0, 0), now.Add(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("listing care contexts: %w", err)
	}
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		return nil, fmt.Errorf("document builder: %w", err)
	}
	patient := nrces.Patient{Name: firstNonEmpty(l.Name, p.Summary.Name),
		Gender: map[string]string{"M": "male", "F": "female", "O": "other"}[l.Gender], ABHAAddress: l.ABHAAddress}
	// The source's own number is always there, so the document's patient
	// has the identifier the profile requires even without an ABHA.
	patient.Identifiers = []nrces.Identifier{{
		Type:   nrces.Coding{System: "http://terminology.hl7.org/CodeSystem/v2-0203", Code: "MR", Display: "Medical record number"},
		System: "urn:sangam:mrn", Value: l.HFRID + "/" + l.LocalID,
	}}
	if patient.Gender == "" {
		patient.Gender = "unknown"
	}
	org := nrces.Organization{Name: l.FacilityName, HFRID: l.HFRID}
	provenance := l.FacilityName + " · " + l.SourceName
	var out []recordItem
	for _, cc := range ccs {
		content, err := mon.Fetch(ctx, cc.Ref())
		if err != nil {
			return out, fmt.Errorf("fetching %s: %w", cc.Reference, err)
		}
		rec, err := ownRecord(ctx, builder, content, patient, org)
		if errors.Is(err, hip.ErrDocumentUnsupported) {
			continue // e.g. an invoice: nothing a doctor reads here
		}
		if err != nil {
			// One care context the NRCeS gate refuses should not hide
			// the rest; it shows as a line that says so.
			out = append(out, recordItem{At: cc.Date, Kind: "document", Title: cc.Display,
				Summary: "Could not be shown: " + err.Error(), Facility: l.FacilityName, Source: l.SourceName, Provenance: provenance})
			continue
		}
		for i := range rec.Entries {
			out = append(out, ownItem(&rec.Entries[i], cc, l, provenance))
		}
	}
	return out, nil
}

func ownRecord(ctx context.Context, b *nrces.Builder, content *sources.Content, patient nrces.Patient, org nrces.Organization) (*nrces.Record, error) {
	doc, err := hip.NewDocument(hip.DocumentInput{Content: content, Patient: patient, Organization: org})
	if err != nil {
		return nil, err
	}
	built, err := b.Build(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("building the record: %w", err)
	}
	return nrces.Read(ctx, built.JSON, nrces.Provenance{CareContext: content.CareContext.Reference})
}

func ownItem(e *nrces.Entry, cc sources.CareContext, l patients.Link, provenance string) recordItem {
	it := recordItem{At: e.Time, TimeText: e.TimeText, Kind: string(e.Kind), Title: e.Text,
		Facility: l.FacilityName, Source: l.SourceName, Provenance: provenance}
	if it.At.IsZero() {
		it.At = cc.Date
	}
	if len(e.Codes) > 0 {
		it.CodeSystem, it.Code = e.Codes[0].System, e.Codes[0].Code
		it.Title = firstNonEmpty(it.Title, e.Codes[0].Display)
	}
	if o := e.Observation; o != nil {
		switch {
		case o.Quantity != nil:
			it.Value, it.Unit = o.Quantity.Comparator+o.Quantity.Value.String(), o.Quantity.Unit
		case o.Text != "":
			it.Value = o.Text
		}
		if len(o.ReferenceRange) > 0 {
			r := o.ReferenceRange[0]
			if r.Low != nil {
				it.RangeLow = r.Low.Value.String()
			}
			if r.High != nil {
				it.RangeHigh = r.High.Value.String()
			}
			it.RangeTx = r.Text
		}
	}
	if it.Title == "" {
		it.Title = firstNonEmpty(cc.Display, e.Resource)
	}
	return it
}
