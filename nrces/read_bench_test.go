package nrces

import (
	"context"
	"testing"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"github.com/sangamhealth/sangam/abdm/fidelius"
)

// Run with: go test -run '^$' -bench . -benchtime 20x ./nrces/
//
// MB/s is of the FHIR JSON. The design target is decrypt + parse +
// normalise at 50 MB/s or more (DESIGN.md). BenchmarkRead* is the lenient
// read the HIU runs; BenchmarkDecryptRead* adds Fidelius decryption of the
// push; BenchmarkReadCheckR4* adds the R4 clean-up pass and google/fhir/go;
// BenchmarkGoogleUnmarshal* is google/fhir/go's parse alone, for its share.

const (
	dischargeSummaryFile = "hip-service/NCP1008ThirdVisitDischargeSummary.json"
	structuredFile       = "ncg-cancer-modules-abdm/OPConsultation-output.json"
)

// mixedBundles is every shared example, repeated until there are 10 MiB.
func mixedBundles(b *testing.B) ([][]byte, int64) {
	names, data := sharedBundles(b)
	var docs [][]byte
	var total int64
	for total < 10<<20 {
		for _, n := range names {
			docs = append(docs, data[n])
			total += int64(len(data[n]))
		}
	}
	return docs, total
}

func dischargeSummary(b *testing.B) [][]byte {
	_, data := sharedBundles(b)
	d, ok := data[dischargeSummaryFile]
	if !ok {
		b.Fatalf("%s is missing from the shared examples", dischargeSummaryFile)
	}
	return [][]byte{d}
}

func benchRead(b *testing.B, docs [][]byte, r Reader) {
	ctx := context.Background()
	var total int64
	for _, d := range docs {
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			rec, err := r.Read(ctx, d, Provenance{HIP: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			if len(rec.Entries) == 0 {
				b.Fatal("no entries")
			}
		}
	}
}

func BenchmarkReadDischargeSummary(b *testing.B) { benchRead(b, dischargeSummary(b), Reader{}) }

func BenchmarkReadMixed(b *testing.B) {
	docs, _ := mixedBundles(b)
	benchRead(b, docs, Reader{})
}

// BenchmarkReadStructured is the worst case for throughput: a bundle of
// 96 clinical resources and no embedded files (KCDO's OP consultation).
func BenchmarkReadStructured(b *testing.B) { benchRead(b, structuredBundle(b), Reader{}) }

func structuredBundle(b *testing.B) [][]byte {
	_, data := sharedBundles(b)
	d, ok := data[structuredFile]
	if !ok {
		b.Fatalf("%s is missing from the shared examples", structuredFile)
	}
	return [][]byte{d}
}

func BenchmarkGoogleUnmarshalStructured(b *testing.B) { benchGoogle(b, structuredBundle(b)) }

func BenchmarkReadCheckR4DischargeSummary(b *testing.B) {
	benchRead(b, dischargeSummary(b), Reader{CheckR4: true})
}

func BenchmarkReadCheckR4Mixed(b *testing.B) {
	docs, _ := mixedBundles(b)
	benchRead(b, docs, Reader{CheckR4: true})
}

func benchGoogle(b *testing.B, docs [][]byte) {
	u, err := jsonformat.NewUnmarshallerWithoutValidation("UTC", fhirversion.R4)
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, d := range docs {
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range docs {
			if _, err := u.Unmarshal(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkGoogleUnmarshalDischargeSummary(b *testing.B) { benchGoogle(b, dischargeSummary(b)) }

func BenchmarkGoogleUnmarshalMixed(b *testing.B) {
	docs, _ := mixedBundles(b)
	benchGoogle(b, docs)
}

// benchDecryptRead measures what the HIU does with a data push: Fidelius
// decryption of each entry's content, then the read.
func benchDecryptRead(b *testing.B, docs [][]byte, r Reader) {
	hip, err := fidelius.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	hiu, err := fidelius.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	hipNonce, hiuNonce := fidelius.NewNonce(), fidelius.NewNonce()
	cipher := make([]string, len(docs))
	var total int64
	for i, d := range docs {
		if cipher[i], err = fidelius.Encrypt(hip, hiu.PublicKey(), hipNonce, hiuNonce, d); err != nil {
			b.Fatal(err)
		}
		total += int64(len(d))
	}
	ctx := context.Background()
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cipher {
			plain, err := fidelius.Decrypt(hiu, hip.PublicKey(), hipNonce, hiuNonce, c)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Read(ctx, plain, Provenance{HIP: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDecryptReadDischargeSummary(b *testing.B) {
	benchDecryptRead(b, dischargeSummary(b), Reader{})
}

func BenchmarkDecryptReadStructured(b *testing.B) {
	benchDecryptRead(b, structuredBundle(b), Reader{})
}

func BenchmarkDecryptReadMixed(b *testing.B) {
	docs, _ := mixedBundles(b)
	benchDecryptRead(b, docs, Reader{})
}
