package nrces

import (
	"context"
	"testing"
)

// BenchmarkClaimFinal builds a final claim that carries its enhancement
// and pre-authorization, through the gate, as the claims package does for
// each submission.
func BenchmarkClaimFinal(b *testing.B) {
	bl, err := NewBuilder(Config{})
	if err != nil {
		b.Fatal(err)
	}
	req := sampleFinal(sampleEnhancement(samplePreauth()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bl.Claim(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGateClaimBundle checks the published pre-authorization example.
func BenchmarkGateClaimBundle(b *testing.B) {
	g, err := NewGate()
	if err != nil {
		b.Fatal(err)
	}
	data := nhcxExampleTB(b, exampleClaimBundle)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := g.Check(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}
