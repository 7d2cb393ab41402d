package sqlmap

import (
	"database/sql/driver"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// row is one result row by column name, with each column's type.
type row struct {
	vals map[string]any
	oids map[string]uint32
}

// stamp is a point in time and whether only its date is meaningful.
type stamp struct {
	t   time.Time
	day bool
}

// concept is a resolved coding field: zero or more codings and a text.
type concept struct {
	codings []coding
	text    string
}

type coding struct {
	system, code, display string
}

var decimalRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)$`)

// resolver reads mapped fields out of a row.
type resolver struct {
	m   *Mapping
	row row
}

// raw is the field's value before conversion: the column's value or the
// constant. Absent values are nil.
func (r resolver) raw(f *Field) (any, uint32) {
	if f.Column == "" {
		return f.Value, pgtype.TextOID
	}
	return r.row.vals[f.Column], r.row.oids[f.Column]
}

func (r resolver) text(fs Fields, name string) string {
	f := fs[name]
	if f == nil {
		return ""
	}
	v, _ := r.raw(f)
	return strings.TrimSpace(asText(v))
}

// asText renders a database value as text.
func asText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case time.Time:
		return v.Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case driver.Valuer:
		dv, err := v.Value()
		if err != nil || dv == nil {
			return ""
		}
		return asText(dv)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

func (r resolver) decimal(fs Fields, name string) (string, bool) {
	f := fs[name]
	if f == nil {
		return "", false
	}
	v, _ := r.raw(f)
	switch v := v.(type) {
	case nil:
		return "", false
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
	case pgtype.Numeric:
		if !v.Valid || v.NaN || v.InfinityModifier != pgtype.Finite {
			return "", false
		}
	}
	s := strings.TrimSpace(asText(v))
	if !decimalRE.MatchString(s) {
		return "", false
	}
	return fhirDecimal(s), true
}

// fhirDecimal writes a decimal the way FHIR's grammar wants it, keeping its
// precision: no plus sign, no leading zeros, a digit before and after any
// point ("+.50" becomes "0.50", "12." becomes "12", "007" becomes "7").
func fhirDecimal(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	s = strings.TrimSuffix(s, ".")
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	for len(s) > 1 && s[0] == '0' && s[1] != '.' {
		s = s[1:]
	}
	if s == "" {
		s = "0"
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Exact arithmetic on decimal texts (amounts must not pick up binary
// floating-point error). Results keep the precision of their inputs.

func ratOf(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return r
}

func scaleOf(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// sumDecimals adds xs, subtracting those marked by minus.
func sumDecimals(plus []string, minus ...string) string {
	total, scale := new(big.Rat), 0
	for _, x := range plus {
		total.Add(total, ratOf(x))
		scale = max(scale, scaleOf(x))
	}
	for _, x := range minus {
		total.Sub(total, ratOf(x))
		scale = max(scale, scaleOf(x))
	}
	return total.FloatString(scale)
}

func mulDecimals(a, b string) string {
	return new(big.Rat).Mul(ratOf(a), ratOf(b)).FloatString(scaleOf(a) + scaleOf(b))
}

func isZero(s string) bool { return ratOf(s).Sign() == 0 }

func (r resolver) integer(fs Fields, name string) (int, bool) {
	s, ok := r.decimal(fs, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n != math.Trunc(n) {
		return 0, false
	}
	return int(n), true
}

// time reads a date or timestamp. Dates stay dates; timestamps stored
// without a zone are read in the connection's location.
func (r resolver) time(fs Fields, name string) (stamp, bool) {
	f := fs[name]
	if f == nil {
		return stamp{}, false
	}
	v, oid := r.raw(f)
	loc := r.m.Connection.Location
	switch v := v.(type) {
	case nil:
		return stamp{}, false
	case time.Time:
		switch oid {
		case pgtype.DateOID:
			return stamp{t: time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, loc), day: true}, true
		case pgtype.TimestampOID:
			return stamp{t: time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc)}, true
		}
		return stamp{t: v.In(loc)}, true
	case pgtype.Date:
		if !v.Valid || v.InfinityModifier != pgtype.Finite {
			return stamp{}, false
		}
		t := v.Time
		return stamp{t: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), day: true}, true
	}
	s := strings.TrimSpace(asText(v))
	if s == "" {
		return stamp{}, false
	}
	layout := f.Format
	if layout == "" {
		for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
			if _, err := time.ParseInLocation(l, s, loc); err == nil {
				layout = l
				break
			}
		}
		if layout == "" {
			return stamp{}, false
		}
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return stamp{}, false
	}
	return stamp{t: t, day: !hasClock(layout)}, true
}

// hasClock reports whether a Go time layout holds an hour.
func hasClock(layout string) bool {
	return strings.Contains(layout, "15") || strings.Contains(layout, "03") || strings.Contains(layout, "3:04") || strings.Contains(layout, "Z07")
}

// code reads a field with a fixed set of codes: the inline map translates
// the source's value; a value that is already a code passes; anything else
// becomes the field's default, or the definition's.
func (r resolver) code(fs Fields, name string, def fieldDef) string {
	fallback := def.codes[0]
	f := fs[name]
	if f == nil {
		return fallback
	}
	if f.Default != "" {
		fallback = f.Default
	}
	v, _ := r.raw(f)
	s := strings.TrimSpace(asText(v))
	if s == "" {
		return fallback
	}
	if to, ok := lookupFold(f.Inline, s); ok {
		return to
	}
	for _, c := range def.codes {
		if c != "" && strings.EqualFold(c, s) {
			return c
		}
	}
	return fallback
}

// lookupFold finds key in m exactly, then ignoring case.
func lookupFold[V any](m map[string]V, key string) (V, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// coding reads a coded field: a local code translated through a code map,
// a column already in a standard system, or a constant. A field listing
// several codings gives one concept holding each that has a value; its
// text is the first one's.
func (r resolver) coding(fs Fields, name string) (concept, bool) {
	f := fs[name]
	if f == nil {
		return concept{}, false
	}
	out, found := r.codingOf(f)
	for _, a := range f.Also {
		c, ok := r.codingOf(a)
		if !ok {
			continue
		}
		for _, k := range c.codings {
			if !slices.ContainsFunc(out.codings, func(o coding) bool { return o.system == k.system && o.code == k.code }) {
				out.codings = append(out.codings, k)
			}
		}
		if out.text == "" {
			out.text = c.text
		}
		found = true
	}
	return out, found
}

func (r resolver) codingOf(f *Field) (concept, bool) {
	display := f.Display
	if f.DisplayColumn != "" {
		display = strings.TrimSpace(asText(r.row.vals[f.DisplayColumn]))
	}
	if f.Column == "" && f.Value == "" {
		// Text only: the source has words, not codes.
		return concept{text: display}, display != ""
	}
	v, _ := r.raw(f)
	s := strings.TrimSpace(asText(v))
	if s == "" {
		return concept{}, false
	}
	var c concept
	if f.MapName == "" {
		c.codings = []coding{{system: f.System, code: s, display: display}}
		c.text = display
		return c, true
	}
	cm := r.m.CodeMaps[f.MapName]
	std, ok := lookupFold(cm.Codes, s)
	if ok {
		c.codings = append(c.codings, coding{system: cm.System, code: std.Code, display: std.Display})
	}
	if cm.LocalSystem != "" && (!ok || cm.KeepLocal) {
		c.codings = append(c.codings, coding{system: cm.LocalSystem, code: s, display: display})
	}
	switch {
	case display != "":
		c.text = display
	case ok && std.Display != "":
		c.text = std.Display
	default:
		c.text = s
	}
	return c, true
}
