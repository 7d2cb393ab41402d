package fidelius

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The fast base64 paths must behave exactly like encoding/base64 (after
// removing whitespace), including the error messages.

func TestEncodeBase64MatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 13, 14, 15, 18431, 18432, 18433, 100003}
	for range 300 {
		sizes = append(sizes, r.IntN(3000))
	}
	for _, n := range sizes {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		if got, want := encodeBase64(src), base64.StdEncoding.EncodeToString(src); got != want {
			t.Fatalf("%d bytes: encodeBase64 differs from encoding/base64", n)
		}
	}
}

func stdlibDecode(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" \t\v\f", r) {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

func TestDecodeBase64MatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var inputs []string
	for range 2000 {
		src := make([]byte, r.IntN(400))
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		s := []byte(base64.StdEncoding.EncodeToString(src))
		switch r.IntN(6) {
		case 0: // valid as is
		case 1: // one character replaced by anything
			if len(s) > 0 {
				s[r.IntN(len(s))] = byte(r.IntN(256))
			}
		case 2: // whitespace inserted
			for range 1 + r.IntN(4) {
				i := r.IntN(len(s) + 1)
				ws := []string{" ", "\t", "\n", "\r\n", "\f", "\v"}[r.IntN(6)]
				s = append(s[:i], append([]byte(ws), s[i:]...)...)
			}
		case 3: // truncated
			if len(s) > 0 {
				s = s[:r.IntN(len(s))]
			}
		case 4: // padding removed or URL alphabet
			s = bytes.TrimRight(s, "=")
			s = bytes.ReplaceAll(s, []byte("+"), []byte("-"))
		case 5: // trailing garbage
			s = append(s, "AA=="[:1+r.IntN(4)]...)
		}
		inputs = append(inputs, string(s))
	}
	for _, in := range inputs {
		want, wantErr := stdlibDecode(in)
		got, gotErr := decodeBase64(in)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: err = %v, want %v", in, gotErr, wantErr)
		}
		if wantErr != nil {
			if !errors.Is(gotErr, ErrInvalidBase64) || gotErr.Error() != fmt.Sprintf("%v: %v", ErrInvalidBase64, wantErr) {
				t.Fatalf("%q: err = %v, want %v", in, gotErr, wantErr)
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: decoded %x, want %x", in, got, want)
		}
	}
}
