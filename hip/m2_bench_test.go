package hip

import (
	"context"
	"testing"

	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/sources"
)

// BenchmarkTransferCareContext measures the CPU side of serving one care
// context: document adapter, NRCeS build and gate, Fidelius encryption.
// The source fetch (a database round trip) is done once, outside the loop.
func BenchmarkTransferCareContext(b *testing.B) {
	h := newM2Harness(b)
	ctx := context.Background()
	cc := h.registerContexts(b, "his", sources.OPConsultation, 1)[0]
	mon, err := h.srcs.reg.Source(ctx, h.tenant, h.systems["his"].ID)
	if err != nil {
		b.Fatal(err)
	}
	content, err := mon.Fetch(ctx, cc.Ref())
	if err != nil {
		b.Fatal(err)
	}
	reg := sources.Registered{CareContext: cc}
	patient, err := transferPatient(ctx, mon, reg, "asha.rao@sbx", "IN2910000231")
	if err != nil {
		b.Fatal(err)
	}
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		b.Fatal(err)
	}
	hiuKey, _ := fidelius.GenerateKey()
	key, _ := fidelius.GenerateKey()
	sess, err := fidelius.NewSession(key, hiuKey.PublicKey(), fidelius.NewNonce(), fidelius.NewNonce())
	if err != nil {
		b.Fatal(err)
	}
	org := nrces.Organization{Name: "Kaveri", HFRID: "IN2910000231"}
	b.ReportAllocs()
	for b.Loop() {
		doc, err := NewDocument(DocumentInput{Content: content, Patient: patient, Organization: org})
		if err != nil {
			b.Fatal(err)
		}
		built, err := builder.Build(ctx, doc)
		if err != nil {
			b.Fatal(err)
		}
		_ = sess.Seal(built.JSON)
	}
}
