package fidelius

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// The parallel paths must give exactly what the standard library gives, at
// every length around the section boundaries.
func TestParallelBase64MatchesStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{parallelMin, parallelMin + 1, parallelMin + 2, 3*parallelMin + 5, 5<<20 + 7} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		want := base64.StdEncoding.EncodeToString(src)
		got := encodeBase64(src)
		if got != want {
			t.Fatalf("encode %d bytes: differs from encoding/base64", n)
		}
		back, err := decodeBase64(got)
		if err != nil {
			t.Fatalf("decode %d bytes: %v", n, err)
		}
		if !bytes.Equal(back, src) {
			t.Fatalf("decode %d bytes: round trip differs", n)
		}
	}
}

func TestParallelBase64FallsBackOnUnusualInput(t *testing.T) {
	src := bytes.Repeat([]byte("Fidelius parallel base64 "), parallelMin/20)
	enc := base64.StdEncoding.EncodeToString(src)

	// Line-wrapped input (as Java tools write it) is still accepted.
	var wrapped strings.Builder
	for i := 0; i < len(enc); i += 76 {
		wrapped.WriteString(enc[i:min(i+76, len(enc))])
		wrapped.WriteString("\r\n")
	}
	got, err := decodeBase64(wrapped.String())
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("wrapped input: err=%v, equal=%t", err, bytes.Equal(got, src))
	}

	// A stray character in the middle is an error, not silent garbage.
	bad := []byte(enc)
	bad[len(bad)/2] = '*'
	if _, err := decodeBase64(string(bad)); !errors.Is(err, ErrInvalidBase64) {
		t.Fatalf("garbage in the middle: err = %v, want ErrInvalidBase64", err)
	}
}
