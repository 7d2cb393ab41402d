package nrces

import (
	"bytes"
	"strconv"
)

// Embedded files (PDF reports, scans, DICOM) are most of a bundle's bytes:
// base64 in "data" properties. encoding/json runs its byte-at-a-time
// scanner over every byte at least twice (validation, then decoding), and
// once more per nesting level that has a custom decoder, which keeps a
// 1.7 MB discharge summary under the throughput target. So before decoding,
// long "data" strings are cut out of the document with a memchr-speed scan
// and replaced by short placeholders; the structured rest is decoded as
// usual, and each placeholder is looked up when its attachment is
// normalised. Only "data" values are cut, the property FHIR uses for
// base64Binary content (Attachment.data, Binary.data, Signature.data), so
// no text field can ever read a placeholder.

// blobMinLen is the shortest string worth cutting out.
const blobMinLen = 512

// blobMark starts a placeholder. It is a JSON escape of NUL, which base64
// never contains, so a real value cannot look like a placeholder.
var blobMark = []byte(`"\u0000blob:`)

// cutBlobs returns data with long "data" strings replaced by placeholders,
// and the cut strings (raw JSON string contents, escapes included). When
// nothing is long enough, data itself is returned.
func cutBlobs(data []byte) (skeleton []byte, blobs [][]byte) {
	pos := 0 // everything before pos is copied or scanned
	copied := 0
	for pos < len(data) {
		q := bytes.IndexByte(data[pos:], '"')
		if q < 0 {
			break
		}
		start := pos + q // opening quote
		end := closingQuote(data, start+1)
		if end < 0 {
			break // unterminated: let encoding/json report it
		}
		pos = end + 1
		if end-start-1 < blobMinLen || !isDataValue(data, start) {
			continue
		}
		if skeleton == nil {
			skeleton = make([]byte, 0, len(data)/4+1024)
		}
		skeleton = append(skeleton, data[copied:start]...)
		skeleton = append(skeleton, blobMark...)
		skeleton = strconv.AppendInt(skeleton, int64(len(blobs)), 10)
		skeleton = append(skeleton, '"')
		blobs = append(blobs, data[start+1:end])
		copied = end + 1
	}
	if skeleton == nil {
		return data, nil
	}
	return append(skeleton, data[copied:]...), blobs
}

// closingQuote returns the index of the quote that ends the string whose
// contents start at i, or -1.
func closingQuote(data []byte, i int) int {
	for {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			return -1
		}
		j := i + q
		// The quote is escaped if an odd number of backslashes precede it.
		k := j - 1
		for k >= i && data[k] == '\\' {
			k--
		}
		if (j-1-k)%2 == 0 {
			return j
		}
		i = j + 1
	}
}

// isDataValue reports whether the string starting at the quote at start is
// the value of a "data" property: `"data"`, optional spaces, `:`, optional
// spaces, then the string.
func isDataValue(data []byte, start int) bool {
	i := start - 1
	for i >= 0 && isJSONSpace(data[i]) {
		i--
	}
	if i < 0 || data[i] != ':' {
		return false
	}
	i--
	for i >= 0 && isJSONSpace(data[i]) {
		i--
	}
	const key = `"data"`
	return i+1 >= len(key) && string(data[i+1-len(key):i+1]) == key
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// blobIndex reads a placeholder's number; ok is false for real values.
func blobIndex(raw []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(raw, blobMark)
	if !ok || len(rest) < 2 || rest[len(rest)-1] != '"' {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:len(rest)-1]))
	if err != nil {
		return 0, false
	}
	return n, true
}
