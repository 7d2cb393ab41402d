package nrces

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Clean-up rule: base64Binary values. FHIR allows only the standard
// alphabet with padding and no whitespace; real bundles arrive with MIME
// line breaks, a space every 64 characters (ProjectEKA), JSON-escaped "\/"
// and occasionally the URL-safe alphabet or no padding. The JSON layer
// (inBase64) undoes escapes and whitespace; this decodes the rest.

// base64Value is a decoded base64Binary and what it took.
type base64Value struct {
	data      []byte
	undecoded string // the text, when it could not be decoded
	escaped   bool   // had JSON-escaped "\/"
	spaced    bool   // had whitespace or line breaks
	variant   string // non-standard alphabet or padding it needed
	bad       string // why it could not be decoded
}

// decodeBase64Value decodes raw JSON string contents, escapes included.
func decodeBase64Value(raw []byte) base64Value {
	var v base64Value
	text := raw
	if bytes.IndexByte(text, '\\') >= 0 {
		v.escaped = bytes.Contains(text, []byte(`\/`))
		var ok bool
		if text, ok = unescapeJSONString(text); !ok {
			v.bad = "invalid JSON escape"
			v.undecoded = string(raw)
			return v
		}
	}
	sent := text
	if hasJSONSpace(text) {
		v.spaced = true
		text = stripSpace(text)
	}
	v.data, v.variant, v.bad = decodeBase64Lenient(text)
	if v.bad != "" {
		v.undecoded = string(sent)
	}
	return v
}

// unescapeJSONString undoes JSON string escapes. The ones base64 values
// carry (\/, \n, \r) are undone in place; anything else goes through
// encoding/json.
func unescapeJSONString(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 == len(s) {
			return nil, false
		}
		i++
		switch s[i] {
		case '/', '\\', '"':
			out = append(out, s[i])
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			var str string
			quoted := append(append([]byte{'"'}, s...), '"')
			if err := json.Unmarshal(quoted, &str); err != nil {
				return nil, false
			}
			return []byte(str), true
		}
	}
	return out, true
}

// hasJSONSpace reports whether b has a space, tab or line break. Four
// IndexByte scans (vectorised) are several times faster than one
// bytes.ContainsAny over megabytes of base64.
func hasJSONSpace(b []byte) bool {
	return bytes.IndexByte(b, ' ') >= 0 || bytes.IndexByte(b, '\n') >= 0 ||
		bytes.IndexByte(b, '\r') >= 0 || bytes.IndexByte(b, '\t') >= 0
}

// stripSpace returns b without spaces, tabs and line breaks.
func stripSpace(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			out = append(out, c)
		}
	}
	return out
}

// base64Variants are tried in order; the first is the only one FHIR allows.
var base64Variants = []struct {
	name string
	enc  *base64.Encoding
}{
	{"", base64.StdEncoding},
	{"unpadded", base64.RawStdEncoding},
	{"url-safe", base64.URLEncoding},
	{"url-safe unpadded", base64.RawURLEncoding},
}

// decodeBase64Lenient decodes text (already free of whitespace), returning
// which non-standard variant it needed ("" for standard) or, when nothing
// decodes it, why.
func decodeBase64Lenient(text []byte) (data []byte, variant, bad string) {
	if len(text) == 0 {
		return nil, "", ""
	}
	var firstErr error
	for _, v := range base64Variants {
		buf := make([]byte, v.enc.DecodedLen(len(text)))
		n, err := v.enc.Decode(buf, text)
		if err == nil {
			return buf[:n], v.name, ""
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, "", firstErr.Error()
}

// cleanBase64String is the same rule for the R4 clean-up pass, on an
// already-unescaped JSON string: it returns the standard encoding and what
// was changed ("" when nothing was).
func cleanBase64String(s string) (clean, changed string, ok bool) {
	text := []byte(s)
	var did []string
	if strings.ContainsAny(s, " \t\r\n") {
		text = stripSpace(text)
		did = append(did, "removed whitespace")
	}
	data, variant, bad := decodeBase64Lenient(text)
	if bad != "" {
		return s, "", false
	}
	if variant != "" {
		did = append(did, "re-encoded "+variant+" base64 as standard")
		return base64.StdEncoding.EncodeToString(data), strings.Join(did, ", "), true
	}
	return string(text), strings.Join(did, ", "), true
}
