package claims_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
)

// BenchmarkCallbackReceipt measures how long NHCX waits for our 202: parse,
// route by participant code, de-duplicate, decrypt, store with its job.
// NHCX gives up after 30 s (reference §8); this should be milliseconds.
func BenchmarkCallbackReceipt(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	ours := rsaKey(b, "provider")
	payload := claimBundle("preauthorization", "1000")
	url := h.appURL + "/nhcx" + hcx.PathPreauthOnSubmit
	bodies := make([][]byte, b.N)
	for i := range bodies {
		head := hcx.Headers{SenderCode: h.code, RecipientCode: nhcx.DefaultPayerCode}.Reply(time.Now())
		compact, err := hcx.Seal(payload, head, &ours.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i], _ = json.Marshal(hcx.NewBody(hcx.KindCallback, compact))
	}
	b.ResetTimer()
	for i := range b.N {
		resp, err := http.Post(url, "application/json", bytes.NewReader(bodies[i]))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
