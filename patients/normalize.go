package patients

import (
	"strings"
	"time"
)

// digits keeps the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// normMobile reduces an Indian mobile number to its 10 digits, dropping a
// +91 or 0 prefix and any separators. It returns "" for anything that is
// not a mobile number (landlines, too few digits), which then counts as
// missing rather than as a disagreement.
func normMobile(s string) string {
	d := digits(s)
	switch {
	case len(d) == 12 && strings.HasPrefix(d, "91"):
		d = d[2:]
	case len(d) == 11 && d[0] == '0':
		d = d[1:]
	}
	if len(d) != 10 || d[0] < '6' {
		return ""
	}
	return d
}

// normABHANumber reduces an ABHA number to its 14 digits, or "".
func normABHANumber(s string) string {
	d := digits(s)
	if len(d) != 14 {
		return ""
	}
	return d
}

// FormatABHANumber writes 14 ABHA digits the way ABDM shows them,
// 91-1234-5678-9012; anything else is returned unchanged.
func FormatABHANumber(s string) string {
	d := normABHANumber(s)
	if d == "" {
		return s
	}
	return d[:2] + "-" + d[2:6] + "-" + d[6:10] + "-" + d[10:]
}

// normABHAAddress lower-cases and trims an ABHA address (name@sbx). An
// address is case-insensitive at ABDM.
func normABHAAddress(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.ContainsAny(s, " \t") || len(s) < 3 {
		return ""
	}
	return s
}

// normGender maps the spellings sources use to the ABDM codes M, F and O;
// unknown is "".
func normGender(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "m", "male":
		return "M"
	case "f", "female":
		return "F"
	case "o", "other", "t", "transgender":
		return "O"
	}
	return ""
}

// normPin keeps a six-digit Indian PIN code, or "".
func normPin(s string) string {
	d := digits(s)
	if len(d) != 6 || d[0] == '0' {
		return ""
	}
	return d
}

// birthOf returns the date (zero when only the year is known) and year of
// a record, after discarding impossible values.
func birthOf(r SourceRecord) (time.Time, int) {
	d, y := r.BirthDate, r.BirthYear
	if !d.IsZero() {
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		y = d.Year()
	}
	if y < 1850 || y > 2200 {
		return time.Time{}, 0
	}
	return d, y
}
