package hip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// benchSlowSource is a source system that takes delay to list a patient's
// care contexts and holds one visit for them.
type benchSlowSource struct {
	sys   sources.System
	delay time.Duration
	// calls records when the sources were asked and answered, for the
	// latency breakdown.
	calls *benchCalls
}

// benchCalls keeps the first call's start and the last answer's end.
type benchCalls struct {
	mu          sync.Mutex
	first, last time.Time
}

func (c *benchCalls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.first, c.last = time.Time{}, time.Time{}
}

func (c *benchCalls) get() (time.Time, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first, c.last
}

var errBenchUnused = errors.New("not used by discovery")

func (s benchSlowSource) FindPatients(context.Context, sources.PatientQuery) ([]patients.SourceRecord, error) {
	return nil, errBenchUnused
}

func (s benchSlowSource) ListPatients(context.Context, string, int) ([]patients.SourceRecord, error) {
	return nil, errBenchUnused
}

func (s benchSlowSource) CareContexts(ctx context.Context, patientID string, _, _ time.Time) ([]sources.CareContext, error) {
	s.calls.mu.Lock()
	if s.calls.first.IsZero() {
		s.calls.first = time.Now()
	}
	s.calls.mu.Unlock()
	defer func() {
		s.calls.mu.Lock()
		s.calls.last = time.Now()
		s.calls.mu.Unlock()
	}()
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ref := sources.ContextRef{Type: "visit", LocalID: "V-" + patientID}
	return []sources.CareContext{{
		Reference: sources.Reference(s.sys.Code, ref), Type: ref.Type, LocalID: ref.LocalID, PatientID: patientID,
		Display: "Visit at " + s.sys.Code, HIType: sources.OPConsultation, Date: time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC),
	}}, nil
}

func (s benchSlowSource) Fetch(context.Context, sources.ContextRef) (*sources.Content, error) {
	return nil, errBenchUnused
}

func (s benchSlowSource) Ping(context.Context) error { return nil }

func (s benchSlowSource) Close() {}

// BenchmarkDiscover8Sources measures discovery for a patient known to 8
// source systems of one facility, each taking 100 ms to answer: from
// posting the signed discover callback to the bridge until the gateway
// has received on-discover (bridge verification, River jobs for the
// callback and the answer, the fan-out to the sources, the outbound
// call). It reports the p50 and p99 of that latency; the target is
// p99 < 150 ms.
func BenchmarkDiscover8Sources(b *testing.B) {
	const nSources, delay = 8, 100 * time.Millisecond
	h := newM2Harness(b)
	ctx := context.Background()
	calls := &benchCalls{}

	// Eight slow systems at the facility, each holding the same patient.
	for i := range nSources {
		if _, err := h.db.Owner.Exec(ctx, `INSERT INTO source_systems (tenant_id, facility_id, code, name, kind, vendor, config)
			VALUES ($1, $2, $3, $4, 'HIS', 'bench', '{"connector":"bench"}')`,
			h.tenant, h.facility, fmt.Sprintf("slow%d", i+1), fmt.Sprintf("Slow system %d", i+1)); err != nil {
			b.Fatal(err)
		}
	}
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: h.db.App, Logger: slog.New(slog.DiscardHandler),
		Openers: map[string]sources.OpenFunc{"bench": func(_ context.Context, sys sources.System) (sources.Connector, error) {
			return benchSlowSource{sys: sys, delay: delay, calls: calls}, nil
		}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(reg.Close)
	h.srcs.reg = reg // the harness's M2 reads its sources through h.srcs
	systems, err := reg.Systems(ctx, h.tenant, h.facility)
	if err != nil {
		b.Fatal(err)
	}
	const addr = "meera.bench@sbx"
	birth := time.Date(1984, 3, 9, 0, 0, 0, 0, time.UTC)
	n := 0
	for _, s := range systems {
		if !strings.HasPrefix(s.Code, "slow") {
			continue
		}
		n++
		if _, err := h.index.Ingest(ctx, h.tenant, patients.SourceRecord{
			FacilityID: h.facility, SourceSystemID: s.ID, LocalID: "B-" + s.Code, Name: "Meera Bench", Gender: "F",
			BirthDate: birth, BirthYear: birth.Year(), Mobile: "9000000017", ABHAAddress: addr,
		}); err != nil {
			b.Fatal(err)
		}
	}
	m, err := h.index.Find(ctx, h.tenant, patients.Query{ABHAAddress: addr, Name: "Meera Bench", Gender: "F", BirthYear: birth.Year()})
	if err != nil || m.Status != patients.MatchExact || len(m.Patient.Links) != nSources || n != nSources {
		b.Fatalf("bench patient: %v %s, %d links of %d systems", err, m.Status, len(m.Patient.Links), n)
	}
	patient := abdm.DiscoverPatient{ID: addr, Name: "Meera Bench", Gender: abdm.Gender("F"), YearOfBirth: birth.Year(),
		VerifiedIdentifiers: []abdm.Identifier{{Type: abdm.IdentifierABHAAddress, Value: addr}}}

	answered := func(id string) []byte {
		for _, path := range []string{"/api/hiecm" + abdm.PathOnDiscover, abdm.PathOnDiscover} {
			for _, r := range h.gw.RequestsTo(path) {
				if respondsTo(id)(r.Body) {
					return r.Body
				}
			}
		}
		return nil
	}
	var lat, before, after []time.Duration
	i := 0
	for b.Loop() {
		i++
		calls.reset()
		start := time.Now()
		id := h.benchDeliver(b, routeDiscover, abdm.DiscoverRequest{TransactionID: fmt.Sprintf("txn-bench-%d", i), Patient: patient})
		var body []byte
		for deadline := start.Add(10 * time.Second); body == nil; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("no on-discover within 10 s")
			}
			body = answered(id)
		}
		lat = append(lat, time.Since(start))
		first, last := calls.get()
		before, after = append(before, first.Sub(start)), append(after, start.Add(lat[len(lat)-1]).Sub(last))
		if got := strings.Count(string(body), `"referenceNumber":"slow`); got != nSources {
			b.Fatalf("on-discover carries %d of %d sources' care contexts: %s", got, nSources, body)
		}
	}
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	// Where the time goes: from delivery until the sources are asked (the
	// bridge taking the callback and its job starting), and from the last
	// source's answer until the gateway has on-discover (matching write,
	// the outbound job, the call).
	b.ReportMetric(pct(before, 0.50), "p50-to-sources-ms")
	b.ReportMetric(pct(after, 0.50), "p50-after-sources-ms")
	b.ReportMetric(pct(before, 0.99), "p99-to-sources-ms")
	b.ReportMetric(pct(after, 0.99), "p99-after-sources-ms")
}
