package nrces

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// benchDocuments is about 1,000 care contexts' worth of documents (the data
// transfer target in DESIGN.md is 1,000 care contexts, ~10 MB of FHIR): the
// sample documents in turn, every fourth with a 30 KB report PDF attached
// the way real lab and discharge records carry one.
func benchDocuments() []*Document {
	samples := sampleDocuments()
	pdf := make([]byte, 30<<10)
	for i := range pdf {
		pdf[i] = byte(i * 7)
	}
	var docs []*Document
	for i := 0; i < 1000; i++ {
		d := *samples[i%len(samples)].doc
		if i%4 == 0 && (d.Type == OPConsultRecord || d.Type == DischargeSummaryRecord || d.Type == HealthDocumentRecord) {
			d.Attachments = []AttachedDocument{{Type: ConceptOf(SNOMED("371530004", "Clinical consultation report")),
				File: File{ContentType: "application/pdf", Data: pdf, Title: "Report"}}}
		}
		docs = append(docs, &d)
	}
	return docs
}

// BenchmarkBuildAndGate builds and gates ~10 MB of bundles per iteration,
// the outbound path of a data transfer; MB/s is of bundle JSON produced.
func BenchmarkBuildAndGate(b *testing.B) {
	docs := benchDocuments()
	bld := newTestBuilder(b, Config{})
	ctx := context.Background()
	var size int64
	for _, d := range docs {
		built, err := bld.Build(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(built.JSON))
	}
	b.SetBytes(size)
	b.ReportMetric(float64(len(docs)), "bundles/op")
	b.ResetTimer()
	for b.Loop() {
		for _, d := range docs {
			if _, err := bld.Build(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBuildAndGateParallel is the same work spread over all CPUs, as
// a data transfer builds its care contexts concurrently.
func BenchmarkBuildAndGateParallel(b *testing.B) {
	docs := benchDocuments()
	bld := newTestBuilder(b, Config{})
	ctx := context.Background()
	var size int64
	for _, d := range docs {
		built, err := bld.Build(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(built.JSON))
	}
	b.SetBytes(size / int64(len(docs)))
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := docs[next.Add(1)%int64(len(docs))]
			if _, err := bld.Build(ctx, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBuildSteps splits one bundle's cost into its steps, to show
// where google/fhir's time goes.
func BenchmarkBuildSteps(b *testing.B) {
	docs := benchDocuments()
	bld := newTestBuilder(b, Config{})
	ctx := context.Background()
	var jsons [][]byte
	var bundles []*bcrpb.Bundle
	var size int64
	for _, d := range docs[:90] {
		built, err := bld.Build(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		jsons = append(jsons, built.JSON)
		size += int64(len(built.JSON))
		s := &buildState{cfg: &bld.cfg, doc: d, rule: recordRuleFor(d.Type), content: map[contentKey][]sectionEntry{}}
		bundles = append(bundles, s.bundle())
	}
	b.Run("assemble-protos", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, d := range docs[:90] {
				s := &buildState{cfg: &bld.cfg, doc: d, rule: recordRuleFor(d.Type), content: map[contentKey][]sectionEntry{}}
				s.bundle()
			}
		}
	})
	b.Run("jsonformat-marshal", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, bu := range bundles {
				if _, err := bld.marshaler.MarshalResource(bu); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("fast-marshal", func(b *testing.B) {
		// What Build uses: the same bytes as jsonformat's (see
		// TestJSONWriterMatchesJSONFormat).
		b.SetBytes(size)
		for b.Loop() {
			for _, bu := range bundles {
				if _, err := bld.json.resource(bu.ProtoReflect()); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("baseline-encoding-json", func(b *testing.B) {
		// The same bundles written by encoding/json from generic maps: what
		// a hand-rolled model would cost instead of jsonformat.
		var trees []jobj
		for _, j := range jsons {
			root, err := decodeBundleJSON(j)
			if err != nil {
				b.Fatal(err)
			}
			trees = append(trees, root)
		}
		b.SetBytes(size)
		b.ResetTimer()
		for b.Loop() {
			for _, t := range trees {
				if _, err := json.Marshal(t); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("fhirvalidate-proto", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, bu := range bundles {
				cr := &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Bundle{Bundle: bu}}
				if err := fhirvalidate.ValidateWithErrorReporter(cr, &r4Reporter{}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("gate-nrces-rules", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, j := range jsons {
				root, err := decodeBundleJSON(j)
				if err != nil {
					b.Fatal(err)
				}
				checkNRCeS(root)
			}
		}
	})
	b.Run("gate-check-full", func(b *testing.B) {
		// The inbound path: NRCeS rules plus base R4 by parsing with
		// google/fhir's validating unmarshaller.
		b.SetBytes(size)
		for b.Loop() {
			for _, j := range jsons {
				if _, err := bld.gate.Check(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
