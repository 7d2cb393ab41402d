package nrces

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// Base R4 validation is google/fhir's validating unmarshaller: syntax,
// primitive formats, unknown properties, required-binding codes, base
// cardinalities and literal reference types. Two of its quirks would fail
// conformant bundles (google-fhir-go.md), so the bytes it sees are first
// normalised:
//
//   - it reads base64Binary from the raw JSON bytes, so a JSON-escaped
//     slash ("\/", valid JSON from PHP and Java encoders) is rejected;
//   - it rejects whitespace inside base64, which R4's base64Binary allows.
//
// Its silent acceptance of empty values is made up for by checkEmpty.

// r4Issue is one problem google/fhir reported.
type r4Issue struct {
	path    string
	err     error
	warning bool
}

// r4Reporter collects google/fhir validation issues instead of stopping at
// the first.
type r4Reporter struct{ issues []r4Issue }

func (r *r4Reporter) ReportValidationError(path string, err error) error {
	r.issues = append(r.issues, r4Issue{path: path, err: err})
	return nil
}

func (r *r4Reporter) ReportValidationWarning(path string, err error) error {
	r.issues = append(r.issues, r4Issue{path: path, err: err, warning: true})
	return nil
}

// checkR4 validates against base R4. It may rewrite base64 values in root.
func (g *Gate) checkR4(root jobj, raw []byte) []Finding {
	var fs findingList
	checkEmpty(&fs, "Bundle", root, false)
	data := raw
	if normaliseBase64(&fs, "Bundle", root) || bytes.Contains(raw, []byte(`\/`)) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(root); err == nil {
			data = buf.Bytes()
		}
	}
	rep := &r4Reporter{}
	if _, err := g.r4.UnmarshalWithErrorReporter(data, rep); err != nil {
		// A parse error stops google/fhir at the first problem.
		fs.errorf(r4Location(err), "fhir-r4", "%s", r4Message(err))
	}
	fs = append(fs, r4Findings(rep.issues)...)
	return fs
}

// r4Findings turns google/fhir issues into findingList.
func r4Findings(issues []r4Issue) []Finding {
	var fs findingList
	for _, is := range issues {
		loc := convertR4Path(is.path)
		msg := r4Message(is.err)
		if m := r4MissingField.FindStringSubmatch(msg); m != nil {
			loc += "." + m[1]
			msg = "required element " + m[1] + " is missing (base R4 cardinality)"
		}
		sev := SeverityError
		if is.warning {
			sev = SeverityWarning
		}
		fs.add(loc, "fhir-r4", sev, "%s", msg)
	}
	return fs
}

var (
	r4ErrorAt      = regexp.MustCompile(`^error at "([^"]*)": (.*)$`)
	r4MissingField = regexp.MustCompile(`^missing required field "([A-Za-z0-9_]+)"$`)
)

// r4Location returns a finding location for a google/fhir error.
func r4Location(err error) string {
	if m := r4ErrorAt.FindStringSubmatch(firstLineOf(err.Error())); m != nil {
		return convertR4Path(m[1])
	}
	return "Bundle"
}

// r4Message returns the message of a google/fhir error without its
// location, plus the diagnostics it keeps out of Error() (for example
// `"M" is not a AdministrativeGenderCode`).
func r4Message(err error) string {
	msg := firstLineOf(err.Error())
	if m := r4ErrorAt.FindStringSubmatch(msg); m != nil {
		msg = m[2]
	}
	if d := r4Diagnostics(err); d != "" {
		msg += ": " + d
	}
	if msg == "unknown field" {
		msg = "unknown property: not an R4 element (a typo, an R5 element or a vendor field)"
	}
	return msg
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// diagnostics reads the exported Diagnostics field of google/fhir's
// internal UnmarshalError, which its Error method leaves out.
func r4Diagnostics(err error) string {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	if f := v.FieldByName("Diagnostics"); f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// convertR4Path turns google/fhir's paths into the gate's: it names the
// resource type after "resource" ("Bundle.entry[1].resource.Patient.gender")
// where FHIRPath does not.
func convertR4Path(p string) string {
	segs := strings.Split(p, ".")
	out := make([]string, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		out = append(out, segs[i])
		if (segs[i] == "resource" || strings.HasPrefix(segs[i], "contained[")) && i+1 < len(segs) {
			i++ // skip the resource type
		}
	}
	if len(out) > 0 && out[0] != "Bundle" {
		out = append([]string{"Bundle"}, out...)
	}
	return strings.Join(out, ".")
}

// checkEmpty reports empty strings, arrays and objects and nulls outside
// arrays: R4 JSON forbids them, and google/fhir drops them silently, so a
// producer's mistake would otherwise pass unseen.
func checkEmpty(fs *findingList, loc string, v any, inArray bool) {
	// Conformant bundles have no empty value; finding that out without
	// building a location for every element keeps it cheap for them.
	if !hasEmpty(v, inArray) {
		return
	}
	checkEmptyAt(fs, loc, v, inArray)
}

// hasEmpty reports whether checkEmptyAt would find anything in v.
func hasEmpty(v any, inArray bool) bool {
	switch x := v.(type) {
	case nil:
		return !inArray
	case string:
		return x == ""
	case []any:
		if len(x) == 0 {
			return true
		}
		for _, item := range x {
			if hasEmpty(item, true) {
				return true
			}
		}
	case jobj:
		if len(x) == 0 {
			return true
		}
		for _, item := range x {
			if hasEmpty(item, false) {
				return true
			}
		}
	}
	return false
}

func checkEmptyAt(fs *findingList, loc string, v any, inArray bool) {
	switch x := v.(type) {
	case nil:
		// null is allowed only inside arrays, to align primitive values with
		// their extensions ("given": ["A", null], "_given": [null, {...}]).
		if !inArray {
			fs.errorf(loc, "fhir-empty", "null value; R4 JSON leaves absent elements out")
		}
	case string:
		if x == "" {
			fs.errorf(loc, "fhir-empty", "empty string; R4 does not allow empty values")
		}
	case []any:
		if len(x) == 0 {
			fs.errorf(loc, "fhir-empty", "empty array; R4 JSON leaves absent elements out")
		}
		for i, item := range x {
			checkEmptyAt(fs, loc+"["+strconv.Itoa(i)+"]", item, true)
		}
	case jobj:
		if len(x) == 0 {
			fs.errorf(loc, "fhir-empty", "empty object; R4 elements need a value or children (ele-1)")
		}
		for _, k := range jkeys(x) {
			checkEmptyAt(fs, loc+"."+k, x[k], false)
		}
	}
}

// base64Keys are the R4 element names of type base64Binary.
var base64Keys = map[string]bool{"data": true, "hash": true, "valueBase64Binary": true, "carrierAIDC": true}

// normaliseBase64 removes whitespace from base64 values that decode without
// it, warning that strict parsers reject it. It reports whether it changed
// anything.
func normaliseBase64(fs *findingList, loc string, v any) bool {
	changed := false
	switch x := v.(type) {
	case []any:
		for i, item := range x {
			if normaliseBase64(fs, loc+"["+strconv.Itoa(i)+"]", item) {
				changed = true
			}
		}
	case jobj:
		for _, k := range jkeys(x) {
			child := x[k]
			if s, ok := child.(string); ok && base64Keys[k] && strings.ContainsAny(s, " \t\r\n") {
				clean := strings.Map(func(r rune) rune {
					if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
						return -1
					}
					return r
				}, s)
				if _, err := base64.StdEncoding.DecodeString(clean); err == nil {
					x[k] = clean
					changed = true
					fs.warnf(loc+"."+k, "fhir-base64-whitespace", "base64 contains whitespace; R4 allows it but strict parsers (google/fhir) reject it")
				}
				continue
			}
			if normaliseBase64(fs, loc+"."+k, child) {
				changed = true
			}
		}
	}
	return changed
}
