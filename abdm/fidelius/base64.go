package fidelius

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Base64 is the slowest step of Fidelius: encoding/base64 runs at about a
// third of AES-GCM's speed, so ciphertexts are encoded and decoded here with
// table-driven loops that move 6 bytes per step, about twice as fast. Only
// the bulk goes through them; the last few bytes, padding, whitespace and
// every error go through encoding/base64, so results and error messages are
// exactly the standard library's.

const stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// encodePairs maps 12 bits to two base64 characters (little-endian).
var encodePairs = func() *[4096]uint16 {
	var t [4096]uint16
	for i := range t {
		t[i] = uint16(stdAlphabet[i>>6]) | uint16(stdAlphabet[i&63])<<8
	}
	return &t
}()

// decodeQuads[i][c] is the 6-bit value of character c shifted into its place
// among four characters (i = 0 is the most significant); bit 24 marks a
// character outside the alphabet.
var decodeQuads = func() *[4][256]uint32 {
	var t [4][256]uint32
	for i := range t {
		for c := range t[i] {
			t[i][c] = 1 << 24
		}
		for v := range 64 {
			t[i][stdAlphabet[v]] = uint32(v) << (18 - 6*i)
		}
	}
	return &t
}()

// parallelMin is the size from which base64 work is split across cores.
// A health-information push is one large ciphertext, so its latency is set
// by base64; below this size the goroutines cost more than they save.
const parallelMin = 1 << 20

// sections splits n units into at most GOMAXPROCS contiguous ranges, each a
// multiple of align long except the last, and calls fn for each in its own
// goroutine.
func sections(n, align int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/(parallelMin/2)+1)
	per := n / workers / align * align
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, (w+1)*per
		if w == workers-1 {
			hi = n
		}
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// encodeBase64 returns src as standard padded base64.
func encodeBase64(src []byte) string {
	if len(src) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		return encodeParallel(src)
	}
	n := base64.StdEncoding.EncodedLen(len(src))
	var out strings.Builder
	out.Grow(n)
	// Encode through a small buffer that stays in cache, so the result is
	// written to the string's memory once, without a 13 MB temporary.
	var buf [24 << 10]byte // 4·6144: a multiple of 4 characters
	const chunk = len(buf) / 4 * 3
	for len(src) > 0 {
		m := min(len(src), chunk)
		dst := buf[:base64.StdEncoding.EncodedLen(m)]
		si, di := encodeBulk(dst, src[:m])
		base64.StdEncoding.Encode(dst[di:], src[si:m])
		out.Write(dst)
		src = src[m:]
	}
	return out.String()
}

// encodeParallel encodes sections of src on all cores straight into the
// result. Sections start on 3-byte boundaries, so each one's output is plain
// base64 of its input and only the last carries padding.
func encodeParallel(src []byte) string {
	dst := make([]byte, base64.StdEncoding.EncodedLen(len(src)))
	sections(len(src), 3, func(lo, hi int) {
		out := dst[lo/3*4:]
		si, di := encodeBulk(out, src[lo:hi])
		base64.StdEncoding.Encode(out[di:], src[lo+si:hi])
	})
	// dst is never written again, so the string can share its memory
	// instead of copying 13 MB.
	return unsafe.String(unsafe.SliceData(dst), len(dst))
}

// encodeBulk encodes whole 6-byte groups while 8 bytes can be read and
// written, and returns how much it consumed and produced.
func encodeBulk(dst, src []byte) (si, di int) {
	t := encodePairs
	for len(src)-si >= 8 && len(dst)-di >= 8 {
		x := binary.BigEndian.Uint64(src[si:])
		binary.LittleEndian.PutUint64(dst[di:], uint64(t[(x>>52)&4095])|
			uint64(t[(x>>40)&4095])<<16|
			uint64(t[(x>>28)&4095])<<32|
			uint64(t[(x>>16)&4095])<<48)
		si += 6
		di += 8
	}
	return si, di
}

// decodeBulk decodes whole 8-character groups while 8 bytes can be written,
// stopping before any group holding a character outside the alphabet
// (padding, whitespace, garbage).
func decodeBulk(dst []byte, src string) (si, di int) {
	d0, d1, d2, d3 := &decodeQuads[0], &decodeQuads[1], &decodeQuads[2], &decodeQuads[3]
	for len(src)-si >= 8 && len(dst)-di >= 8 {
		s := src[si : si+8]
		a := d0[s[0]] | d1[s[1]] | d2[s[2]] | d3[s[3]]
		b := d0[s[4]] | d1[s[5]] | d2[s[6]] | d3[s[7]]
		if (a|b)>>24 != 0 {
			break
		}
		binary.BigEndian.PutUint64(dst[di:], uint64(a)<<40|uint64(b)<<16)
		si += 8
		di += 6
	}
	return si, di
}

// decodeParallel decodes all but the last 4-character group of s in
// sections on all cores, then the last group (which may hold padding). It
// reports false when any section holds something other than plain base64
// (whitespace, garbage), leaving the careful sequential path to decide.
func decodeParallel(dst []byte, s string) ([]byte, bool) {
	if len(s)%4 != 0 {
		return nil, false
	}
	body := len(s) - 4
	var failed sync.Once
	ok := true
	sections(body, 8, func(lo, hi int) {
		// Exactly the section's output: decodeBulk's 8-byte writes then
		// stop short of the next section, and the standard decoder does
		// the last few groups.
		out := dst[lo/4*3 : hi/4*3]
		si, di := decodeBulk(out, s[lo:hi])
		if si < hi-lo {
			if n, err := base64.StdEncoding.Decode(out[di:], []byte(s[lo+si:hi])); err != nil || di+n != (hi-lo)/4*3 {
				failed.Do(func() { ok = false })
			}
		}
	})
	if !ok {
		return nil, false
	}
	n, err := base64.StdEncoding.Decode(dst[body/4*3:], []byte(s[body:]))
	if err != nil {
		return nil, false
	}
	return dst[:body/4*3+n], true
}

// decodeBase64 decodes standard, padded base64 the way the reference does:
// URL-safe characters and missing padding are errors, but whitespace
// anywhere is ignored (Java tools and JSON producers wrap lines).
func decodeBase64(s string) ([]byte, error) {
	// Room for decodeBulk's 8-byte writes past the last group.
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(s))+2)
	trimmed := strings.Trim(s, " \t\r\n\v\f")
	if len(trimmed) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		if out, ok := decodeParallel(dst, trimmed); ok {
			return out, nil
		}
	}
	si, di := decodeBulk(dst, trimmed)
	if len(trimmed)-si <= 8 {
		// Usual case: only the final group, with any padding, is left.
		if n, err := base64.StdEncoding.Decode(dst[di:], []byte(trimmed[si:])); err == nil {
			return dst[:di+n], nil
		}
	}
	// Something unusual: let encoding/base64 handle all of it, after
	// removing the whitespace it would not skip itself (it skips \r and \n).
	if strings.ContainsAny(s, " \t\v\f") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\v', '\f':
				return -1
			}
			return r
		}, s)
	}
	n, err := base64.StdEncoding.Decode(dst, []byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBase64, err)
	}
	return dst[:n], nil
}
