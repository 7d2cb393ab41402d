package claims

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// GatherPatients reads master patients; *patients.Index is one.
type GatherPatients interface {
	Patient(ctx context.Context, tenant, id string) (patients.Patient, error)
}

// GatherSources hands out a tenant's source systems; *sources.Registry is
// one.
type GatherSources interface {
	Source(ctx context.Context, tenantID, sourceSystemID string) (*sources.Monitor, error)
}

// GatherCoverage reads the coverage on file and the facilities'
// empanelments; *Service is one.
type GatherCoverage interface {
	Coverages(ctx context.Context, tenant, patientID string) ([]Coverage, error)
	Empanelments(ctx context.Context, tenant, facilityID string) ([]Empanelment, error)
}

// Defaults for GathererConfig.
const (
	// DefaultGatherTimeout bounds one Encounters or Gather call: every
	// source is asked at once, and one that has not answered by then is
	// left out and reported.
	DefaultGatherTimeout = 10 * time.Second
	// DefaultGatherWindow is how far before admission and after
	// discharge Gather looks for related care (lab work before
	// admission, a stay elsewhere before a transfer, follow-ups).
	DefaultGatherWindow = 30 * 24 * time.Hour
	// DefaultGatherParallelism bounds concurrent fetches per source.
	DefaultGatherParallelism = 4
)

// gatherGrace is how long past the deadline results are still waited
// for: connectors honour the deadline and report at once, and their
// partial results and errors are worth the moment. A source that never
// returns is not waited for longer.
const gatherGrace = 250 * time.Millisecond

// GathererConfig configures a Gatherer. Zero durations take the defaults.
type GathererConfig struct {
	Patients GatherPatients
	Sources  GatherSources
	Coverage GatherCoverage
	// Timeout is the one deadline of all the sources' work in a call.
	Timeout time.Duration
	// WindowBefore and WindowAfter widen the billed encounter's period
	// (admission to discharge) for the related care gathered.
	WindowBefore, WindowAfter time.Duration
	// Parallelism bounds concurrent fetches from one source.
	Parallelism int
	Logger      *slog.Logger
	Now         func() time.Time
}

// Gatherer assembles claim evidence across facilities: it finds a master
// patient's records in every source system the index links, reads them in
// parallel under one deadline, and extracts what a claim needs. It is
// safe for concurrent use.
type Gatherer struct {
	cfg GathererConfig
}

// NewGatherer returns a Gatherer for cfg.
func NewGatherer(cfg GathererConfig) (*Gatherer, error) {
	var errs []error
	if cfg.Patients == nil {
		errs = append(errs, errors.New("Patients (the master index) is required"))
	}
	if cfg.Sources == nil {
		errs = append(errs, errors.New("Sources (the source registry) is required"))
	}
	if cfg.Coverage == nil {
		errs = append(errs, errors.New("Coverage is required"))
	}
	for _, d := range []struct {
		name string
		v    int64
	}{
		{"Timeout", int64(cfg.Timeout)}, {"WindowBefore", int64(cfg.WindowBefore)},
		{"WindowAfter", int64(cfg.WindowAfter)}, {"Parallelism", int64(cfg.Parallelism)},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s cannot be negative", d.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("claims gatherer config: %w", err)
	}
	setDefault(&cfg.Timeout, DefaultGatherTimeout)
	setDefault(&cfg.WindowBefore, DefaultGatherWindow)
	setDefault(&cfg.WindowAfter, DefaultGatherWindow)
	setDefault(&cfg.Parallelism, DefaultGatherParallelism)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gatherer{cfg: cfg}, nil
}

// patient reads a master patient, following merges to the survivor.
func (g *Gatherer) patient(ctx context.Context, tenant, id string) (patients.Patient, error) {
	for range 20 {
		p, err := g.cfg.Patients.Patient(ctx, tenant, id)
		if errors.Is(err, patients.ErrNotFound) {
			return patients.Patient{}, fmt.Errorf("patient %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return patients.Patient{}, fmt.Errorf("reading patient %s: %w", id, err)
		}
		if p.MergedInto == "" {
			return p, nil
		}
		id = p.MergedInto
	}
	return patients.Patient{}, fmt.Errorf("patient %s: merges go round in circles", id)
}

// sourceLinks are one source system's records of the patient.
type sourceLinks struct {
	origin   Origin // facility and source set, no care context
	localIDs []string
}

// bySource groups a patient's links by source system, in the index's
// order (facility, kind, code).
func bySource(p patients.Patient) []*sourceLinks {
	var out []*sourceLinks
	seen := map[string]*sourceLinks{}
	for _, l := range p.Links {
		s, ok := seen[l.SourceSystemID]
		if !ok {
			s = &sourceLinks{origin: Origin{
				FacilityID: l.FacilityID, FacilityHFRID: l.HFRID, FacilityName: l.FacilityName,
				SourceSystemID: l.SourceSystemID, SourceCode: l.SourceCode, SourceName: l.SourceName, SourceKind: l.SourceKind,
			}}
			seen[l.SourceSystemID] = s
			out = append(out, s)
		}
		s.localIDs = append(s.localIDs, l.LocalID)
	}
	return out
}

func (o Origin) with(cc sources.CareContext) Origin {
	o.Reference, o.HIType, o.Date = cc.Reference, cc.HIType, cc.Date
	return o
}

// sourceResult is what one source gave within the deadline.
type sourceResult struct {
	records  []CareRecord
	listed   []listedContext
	problems []Problem
}

type listedContext struct {
	origin  Origin
	display string
}

// Encounters lists the patient's billable encounters (admissions and OPD
// visits) at every facility, from every source the master index links,
// newest first. Admissions are read to learn their discharge. Sources
// that fail or miss the deadline are returned as problems; the list is
// then incomplete.
func (g *Gatherer) Encounters(ctx context.Context, tenant, patientID string) ([]BillableEncounter, []Problem, error) {
	p, err := g.patient(ctx, tenant, patientID)
	if err != nil {
		return nil, nil, fmt.Errorf("listing encounters: %w", err)
	}
	to := g.cfg.Now().Add(24 * time.Hour)
	results, problems := g.fanOut(ctx, tenant, bySource(p), func(ctx context.Context, mon *sources.Monitor, s *sourceLinks) sourceResult {
		var res sourceResult
		ccs, err := g.list(ctx, mon, s, time.Unix(0, 0), to)
		if err != nil {
			res.problems = append(res.problems, g.problem(ctx, s.origin, err))
			return res
		}
		var admissions []sources.CareContext
		for _, cc := range ccs {
			if !billable(cc.HIType) {
				continue
			}
			res.listed = append(res.listed, listedContext{origin: s.origin.with(cc), display: cc.Display})
			if cc.HIType == sources.DischargeSummary {
				admissions = append(admissions, cc)
			}
		}
		// The list gives the admission date only; the discharge is in
		// the stay's Encounter.
		recs, probs := g.fetchAll(ctx, mon, s.origin, admissions)
		res.records, res.problems = recs, append(res.problems, probs...)
		return res
	})
	read := map[string]Encounter{}
	for _, r := range results {
		for _, rec := range r.records {
			if es := extract(rec).encounters; len(es) > 0 {
				read[rec.EncounterRef()] = es[0]
			}
		}
	}
	var out []BillableEncounter
	for _, r := range results {
		for _, l := range r.listed {
			be := BillableEncounter{
				Origin: l.origin, Ref: l.origin.EncounterRef(), Display: l.display,
				Inpatient: l.origin.HIType == sources.DischargeSummary, Class: classOfHIType(l.origin.HIType), Start: l.origin.Date,
			}
			if e, ok := read[be.Ref]; ok {
				be.Class, be.Inpatient, be.End = e.Class, e.Inpatient, e.End
				if !e.Start.IsZero() {
					be.Start = e.Start
				}
			}
			out = append(out, be)
		}
	}
	slices.SortFunc(out, func(a, b BillableEncounter) int {
		return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(a.Ref, b.Ref))
	})
	return out, problems, nil
}

// Gather assembles the evidence for a claim on one encounter (a Ref from
// Encounters) of a master patient: the encounter itself, then everything
// every source holds for the patient from WindowBefore its start to
// WindowAfter its end, read in parallel under one deadline, and the
// coverage on file. Sources that fail or miss the deadline are listed in
// Evidence.Problems and the rest is still gathered. The encounter itself
// must be readable: if its source fails, Gather returns the error.
func (g *Gatherer) Gather(ctx context.Context, tenant, patientID, encounterRef string) (Evidence, error) {
	hfr, reference, err := ParseEncounterRef(encounterRef)
	if err != nil {
		return Evidence{}, fmt.Errorf("gathering evidence: %w", err)
	}
	code, ref, _ := sources.ParseReference(reference)
	p, err := g.patient(ctx, tenant, patientID)
	if err != nil {
		return Evidence{}, fmt.Errorf("gathering evidence: %w", err)
	}
	groups := bySource(p)
	var home *sourceLinks
	for _, s := range groups {
		if s.origin.FacilityHFRID == hfr && s.origin.SourceCode == code {
			home = s
		}
	}
	if home == nil {
		return Evidence{}, fmt.Errorf("gathering evidence: encounter %s: the patient has no record in that source: %w", encounterRef, ErrNotFound)
	}

	now := g.cfg.Now()
	// One deadline for all the sources' work; our own database is read
	// with the caller's context, after it.
	srcCtx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	anchor, err := g.anchor(srcCtx, tenant, home, ref)
	if err != nil {
		return Evidence{}, fmt.Errorf("gathering evidence for %s: %w", encounterRef, err)
	}
	// A bill or report names the stay it belongs to, but is not one.
	billed := extract(anchor)
	if !billable(anchor.HIType) || len(billed.encounters) == 0 {
		return Evidence{}, fmt.Errorf("gathering evidence: %s is a %s, not an admission or visit: %w", encounterRef, anchor.HIType, ErrInvalid)
	}
	enc := billed.encounters[0]
	end := enc.End
	if end.IsZero() {
		end = enc.Start
		if enc.Inpatient && now.After(end) {
			end = now // still admitted
		}
	}
	ev := Evidence{
		Tenant: tenant, PatientID: p.ID, EncounterRef: encounterRef, GatheredAt: now,
		From: enc.Start.Add(-g.cfg.WindowBefore), To: end.Add(g.cfg.WindowAfter),
		Patient: patientDetails(p), Encounter: enc,
	}

	results, problems := g.fanOut(srcCtx, tenant, groups, func(ctx context.Context, mon *sources.Monitor, s *sourceLinks) sourceResult {
		var res sourceResult
		ccs, err := g.list(ctx, mon, s, ev.From, ev.To)
		if err != nil {
			res.problems = append(res.problems, g.problem(ctx, s.origin, err))
			return res
		}
		ccs = slices.DeleteFunc(ccs, func(cc sources.CareContext) bool {
			return s == home && cc.Reference == anchor.Reference
		})
		res.records, res.problems = g.fetchAll(ctx, mon, s.origin, ccs)
		return res
	})
	ev.Problems = problems
	records := []CareRecord{anchor}
	for _, r := range results {
		records = append(records, r.records...)
	}
	g.assemble(&ev, records)

	// Our own database: a failure here is an error, not a source problem.
	if ev.Coverages, err = g.cfg.Coverage.Coverages(ctx, tenant, p.ID); err != nil {
		return Evidence{}, fmt.Errorf("gathering evidence: %w", err)
	}
	if ev.Empanelments, err = g.cfg.Coverage.Empanelments(ctx, tenant, enc.FacilityID); err != nil {
		return Evidence{}, fmt.Errorf("gathering evidence: %w", err)
	}
	return ev, nil
}

// anchor reads the billed encounter and checks it is the patient's.
func (g *Gatherer) anchor(ctx context.Context, tenant string, home *sourceLinks, ref sources.ContextRef) (CareRecord, error) {
	mon, err := g.cfg.Sources.Source(ctx, tenant, home.origin.SourceSystemID)
	if err != nil {
		return CareRecord{}, fmt.Errorf("%s at %s: %w", home.origin.SourceName, home.origin.FacilityName, err)
	}
	c, err := mon.Fetch(ctx, ref)
	if err != nil {
		return CareRecord{}, fmt.Errorf("reading the encounter from %s at %s: %w", home.origin.SourceName, home.origin.FacilityName, err)
	}
	// A reference names a care context, not whose it is: refuse another
	// patient's, whatever the caller typed.
	if c.CareContext.PatientID == "" || !slices.Contains(home.localIDs, c.CareContext.PatientID) {
		return CareRecord{}, fmt.Errorf("encounter %s is not this patient's: %w", sources.Reference(home.origin.SourceCode, ref), ErrNotFound)
	}
	return CareRecord{Origin: home.origin.with(c.CareContext), Display: c.CareContext.Display, Resources: c.Resources}, nil
}

// fanOut runs work for every source at once and collects what each gives
// by the deadline (plus a short grace). A source that has not reported by
// then is listed as a problem; its goroutine finishes on its own.
func (g *Gatherer) fanOut(ctx context.Context, tenant string, groups []*sourceLinks, work func(context.Context, *sources.Monitor, *sourceLinks) sourceResult) ([]sourceResult, []Problem) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	type done struct {
		i   int
		res sourceResult
	}
	ch := make(chan done, len(groups)) // buffered: late senders never block
	for i, s := range groups {
		go func() {
			mon, err := g.cfg.Sources.Source(ctx, tenant, s.origin.SourceSystemID)
			if err != nil {
				ch <- done{i, sourceResult{problems: []Problem{g.problem(ctx, s.origin, err)}}}
				return
			}
			ch <- done{i, work(ctx, mon, s)}
		}()
	}
	results := make([]sourceResult, len(groups))
	reported := make([]bool, len(groups))
	deadline, _ := ctx.Deadline()
	hardStop := time.NewTimer(time.Until(deadline) + gatherGrace)
	defer hardStop.Stop()
	var problems []Problem
collect:
	for range groups {
		select {
		case d := <-ch:
			results[d.i], reported[d.i] = d.res, true
		case <-hardStop.C:
			break collect
		}
	}
	for i, s := range groups {
		if !reported[i] {
			problems = append(problems, g.problem(ctx, s.origin, context.DeadlineExceeded))
		}
		problems = append(problems, results[i].problems...)
	}
	return results, problems
}

// list asks one source for the care contexts of each of the patient's
// records in it, dropping repeats.
func (g *Gatherer) list(ctx context.Context, mon *sources.Monitor, s *sourceLinks, from, to time.Time) ([]sources.CareContext, error) {
	var out []sources.CareContext
	seen := map[string]bool{}
	for _, local := range s.localIDs {
		ccs, err := mon.CareContexts(ctx, local, from, to)
		if err != nil {
			return nil, err
		}
		for _, cc := range ccs {
			if !seen[cc.Reference] {
				seen[cc.Reference] = true
				out = append(out, cc)
			}
		}
	}
	return out, nil
}

// fetchAll reads care contexts from one source, Parallelism at a time. A
// context that cannot be read is a problem; the others are still read.
func (g *Gatherer) fetchAll(ctx context.Context, mon *sources.Monitor, origin Origin, ccs []sources.CareContext) ([]CareRecord, []Problem) {
	recs := make([]*CareRecord, len(ccs))
	probs := make([]*Problem, len(ccs))
	sem := make(chan struct{}, g.cfg.Parallelism)
	var wg sync.WaitGroup
	for i, cc := range ccs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				p := g.problem(ctx, origin.with(cc), ctx.Err())
				probs[i] = &p
				return
			}
			c, err := mon.Fetch(ctx, cc.Ref())
			if err != nil {
				p := g.problem(ctx, origin.with(cc), err)
				probs[i] = &p
				return
			}
			// The listing's care context is kept: it is the one asked for,
			// with the date the window was applied to.
			recs[i] = &CareRecord{Origin: origin.with(cc), Display: cc.Display, Resources: c.Resources}
		}()
	}
	wg.Wait()
	var out []CareRecord
	var problems []Problem
	for i := range ccs {
		if recs[i] != nil {
			out = append(out, *recs[i])
		}
		if probs[i] != nil {
			problems = append(problems, *probs[i])
		}
	}
	return out, problems
}

// problem turns a source's failure into a Problem in plain words and
// logs it (the source and the error, never content).
func (g *Gatherer) problem(ctx context.Context, o Origin, err error) Problem {
	p := Problem{
		FacilityID: o.FacilityID, FacilityHFRID: o.FacilityHFRID, FacilityName: o.FacilityName,
		SourceSystemID: o.SourceSystemID, SourceCode: o.SourceCode, SourceName: o.SourceName,
		Reference: o.Reference, Err: err,
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		p.TimedOut = true
		p.Message = fmt.Sprintf("did not answer within %s; its records are missing", g.cfg.Timeout)
	case errors.Is(err, sources.ErrCircuitOpen):
		p.Message = "has been failing and is not being asked until it recovers; its records are missing"
	case errors.Is(err, sources.ErrUnsupported):
		p.Message = "cannot be read by Sangam (no connector is set up for it); its records are missing"
	case errors.Is(err, sources.ErrNotFound) && o.Reference != "":
		p.Message = "no longer holds this record"
	case errors.Is(err, sources.ErrNotFound):
		p.Message = "is not set up for this tenant"
	case errors.Is(err, sources.ErrInvalidInput):
		p.Message = "refused the request; its records are missing"
	default:
		p.Message = "could not be reached or gave an unusable answer; its records are missing"
	}
	if o.Reference != "" {
		p.Message = "this record could not be read: " + p.Message
	}
	g.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "source left out of claim evidence",
		slog.String("facility", o.FacilityHFRID), slog.String("source", o.SourceCode),
		slog.String("reference", o.Reference), slog.Bool("timed_out", p.TimedOut), slog.String("error", err.Error()))
	return p
}

// assemble extracts every record into ev, the billed encounter's first.
func (g *Gatherer) assemble(ev *Evidence, records []CareRecord) {
	slices.SortStableFunc(records[1:], func(a, b CareRecord) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.FacilityHFRID, b.FacilityHFRID), cmp.Compare(a.Reference, b.Reference))
	})
	ev.Records = records
	for i, rec := range records {
		x := extract(rec)
		if i == 0 {
			principal := slices.IndexFunc(x.diagnoses, func(d Diagnosis) bool { return d.Rank == minRank(x.diagnoses) })
			for j := range x.diagnoses {
				x.diagnoses[j].OfBilledEncounter = true
				x.diagnoses[j].Principal = j == principal
			}
			slices.SortStableFunc(x.diagnoses, func(a, b Diagnosis) int { return cmp.Compare(a.Rank, b.Rank) })
		} else if billable(rec.HIType) {
			// A bill's care context describes the stay it bills; that is
			// not another stay.
			ev.Related = append(ev.Related, x.encounters...)
		}
		ev.Diagnoses = append(ev.Diagnoses, x.diagnoses...)
		ev.Procedures = append(ev.Procedures, x.procedures...)
		ev.Reports = append(ev.Reports, x.reports...)
		ev.DischargeSummaries = append(ev.DischargeSummaries, x.summaries...)
		ev.Bills = append(ev.Bills, x.bills...)
		ev.Charges = append(ev.Charges, x.charges...)
	}
	_, billedRef, _ := sources.ParseReference(ev.Encounter.Reference)
	for i := range ev.Bills {
		b := &ev.Bills[i]
		if b.Encounter == nil || b.FacilityID != ev.Encounter.FacilityID {
			continue
		}
		if id := b.Encounter.Identifier; id != "" {
			b.OfBilledEncounter = id == billedRef.LocalID || id == ev.Encounter.Identifier
		} else {
			b.OfBilledEncounter = !b.Encounter.Start.IsZero() && b.Encounter.Start.Equal(ev.Encounter.Start)
		}
	}
	slices.SortStableFunc(ev.Reports, func(a, b Report) int { return reportDate(a).Compare(reportDate(b)) })
	slices.SortStableFunc(ev.Bills, func(a, b Bill) int { return a.Date.Compare(b.Date) })
}

func minRank(ds []Diagnosis) int {
	m := 0
	for i, d := range ds {
		if i == 0 || d.Rank < m {
			m = d.Rank
		}
	}
	return m
}

func reportDate(r Report) time.Time {
	for _, t := range []time.Time{r.Effective, r.Issued} {
		if !t.IsZero() {
			return t
		}
	}
	return r.Date
}

// patientDetails reads the patient's demographics and identifiers from the
// index, verified ABHA identifiers first.
func patientDetails(p patients.Patient) PatientDetails {
	d := PatientDetails{Demographics: p.Summary, Identifiers: p.Identifiers}
	for _, id := range p.Identifiers { // verified first, as the index orders them
		switch {
		case id.Kind == "abha_number" && d.ABHANumber == "":
			d.ABHANumber, d.ABHAVerified = patients.FormatABHANumber(id.Value), id.Verified
		case id.Kind == "abha_address" && d.ABHAAddress == "":
			d.ABHAAddress = id.Value
		}
	}
	for _, l := range p.Links {
		d.LocalIDs = append(d.LocalIDs, LocalID{
			FacilityID: l.FacilityID, FacilityHFRID: l.HFRID, FacilityName: l.FacilityName,
			SourceSystemID: l.SourceSystemID, SourceCode: l.SourceCode, SourceKind: l.SourceKind, LocalID: l.LocalID,
		})
	}
	return d
}
