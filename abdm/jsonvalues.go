package abdm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timestampLayout is the TIMESTAMP header and body date format the gateway
// documents: UTC, millisecond precision, trailing Z.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// FormatTimestamp formats t the way the gateway expects in the TIMESTAMP
// header and in body dates, e.g. 2026-11-24T10:11:12.123Z.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// ParseTimestamp parses a gateway timestamp. It accepts RFC 3339 with or
// without a fractional part, and also the zone-less form the production
// gateway sometimes emits (read as UTC).
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parsing timestamp %q: not RFC 3339", s)
}

// Time is a date-time in a message body. It encodes as FormatTimestamp does
// and decodes leniently: RFC 3339 with or without fraction or zone, epoch
// milliseconds, or an empty string or null (the zero Time).
//
// Use the omitzero tag option for optional fields.
type Time struct {
	time.Time
}

// NewTime returns t as a wire Time.
func NewTime(t time.Time) Time { return Time{Time: t} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(FormatTimestamp(t.Time))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("decoding time %s: want string or epoch milliseconds", b)
		}
		t.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decoding time: %w", err)
	}
	parsed, err := ParseTimestamp(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// FlexString is a value the spec types as a string (or a number) and that
// senders emit either way: birth-date parts, coordinates, token expiry, the
// link OTP. It decodes a JSON string or number (keeping the number's text)
// and always encodes as a JSON string, which is what the sandbox was seen to
// send and accept.
type FlexString string

// MarshalJSON implements json.Marshaler.
func (s FlexString) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(s))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("decoding string: %w", err)
		}
		*s = FlexString(v)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("decoding %s: want string or number", b)
		}
		*s = FlexString(n.String())
	}
	return nil
}

// NumericID is an identifier made of digits that the spec types as a JSON
// number, such as the 14-digit ABHA number in generate-token. It encodes as a
// bare JSON number and refuses anything that is not all digits (a dashed
// ABHA number is refused by the gateway, better to fail here), and decodes
// from a number or a string.
type NumericID string

// MarshalJSON implements json.Marshaler.
func (n NumericID) MarshalJSON() ([]byte, error) {
	if !isDigits(string(n)) {
		return nil, errors.New("abdm: numeric id must be digits only (strip dashes from ABHA numbers)")
	}
	return []byte(n), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *NumericID) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*n = NumericID(s)
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
