package hcx_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
)

// A provider seals a pre-authorisation for the payer; the payer reads the
// headers without its key (to route and de-duplicate), then opens it.
func ExampleSeal() {
	payer, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	h := hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "12",
		time.Date(2026, 1, 5, 4, 30, 0, 0, time.UTC))
	compact, err := hcx.Seal([]byte(`{"resourceType":"Bundle","type":"collection"}`), h, &payer.PublicKey)
	if err != nil {
		panic(err)
	}

	seen, _, err := hcx.ReadHeaders(compact)
	if err != nil {
		panic(err)
	}
	fmt.Println(seen.SenderCode, "->", seen.RecipientCode, seen.Timestamp, seen.Status)

	msg, err := hcx.Open(compact, payer)
	if err != nil {
		panic(err)
	}
	fmt.Println(msg.Algorithm, string(msg.Payload))
	// Output:
	// 1000004604@hcx -> 1000003538@hcx 2026-01-05T10:00:00+0530 request.initiated
	// RSA-OAEP-256 {"resourceType":"Bundle","type":"collection"}
}

// benchmarkPayload is a claim bundle of about 1 MB, the size of one with a
// few scanned documents attached.
var benchmarkPayload = append(append([]byte(`{"resourceType":"Bundle","data":"`), bytes.Repeat([]byte("QUJD"), 256<<10)...), `"}`...)

func BenchmarkSeal1MB(b *testing.B) {
	key := rsaKey(b, "payer")
	h := hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "", time.Now())
	b.SetBytes(int64(len(benchmarkPayload)))
	for b.Loop() {
		if _, err := hcx.Seal(benchmarkPayload, h, &key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1MB(b *testing.B) {
	key := rsaKey(b, "payer")
	compact, err := hcx.Seal(benchmarkPayload, hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "", time.Now()), &key.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchmarkPayload)))
	for b.Loop() {
		if _, err := hcx.Open(compact, key); err != nil {
			b.Fatal(err)
		}
	}
}
