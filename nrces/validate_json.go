package nrces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The NRCeS rules run on the bundle as generic JSON, not on protos: the gate
// must judge bundles google/fhir cannot parse (one unknown property makes the
// whole bundle unreadable there), and its locations must be JSON paths.

type jobj = map[string]any

// decodeBundleJSON decodes a bundle, keeping numbers as text.
func decodeBundleJSON(data []byte) (jobj, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("data after the top-level JSON value")
	}
	o, ok := v.(jobj)
	if !ok {
		return nil, fmt.Errorf("top-level JSON value is not an object")
	}
	return o, nil
}

func jstr(o jobj, key string) string {
	s, _ := o[key].(string)
	return s
}

func jobject(o jobj, key string) jobj {
	m, _ := o[key].(jobj)
	return m
}

func jarray(o jobj, key string) []any {
	a, _ := o[key].([]any)
	return a
}

// jnode is a JSON object and its FHIRPath-like location.
type jnode struct {
	loc string
	obj jobj
}

// children returns the objects under key: the element itself or each item
// of an array, with locations.
func jchildren(parent jnode, key string) []jnode {
	switch v := parent.obj[key].(type) {
	case jobj:
		return []jnode{{parent.loc + "." + key, v}}
	case []any:
		out := make([]jnode, 0, len(v))
		for i, item := range v {
			if m, ok := item.(jobj); ok {
				out = append(out, jnode{parent.loc + "." + key + "[" + strconv.Itoa(i) + "]", m})
			}
		}
		return out
	}
	return nil
}

// jwalk returns the objects reached by a dotted path, fanning out over
// arrays.
func jwalk(start jnode, path string) []jnode {
	cur := []jnode{start}
	for _, seg := range strings.Split(path, ".") {
		var next []jnode
		for _, c := range cur {
			next = append(next, jchildren(c, seg)...)
		}
		cur = next
		if len(cur) == 0 {
			break
		}
	}
	return cur
}

// jhas reports whether o has element name; "x[x]" matches any choice
// type of x (valueQuantity, valueString, …).
func jhas(o jobj, name string) bool {
	if base, ok := strings.CutSuffix(name, "[x]"); ok {
		for k, v := range o {
			if len(k) > len(base) && strings.HasPrefix(k, base) && k[len(base)] >= 'A' && k[len(base)] <= 'Z' && jpresent(v) {
				return true
			}
		}
		return false
	}
	return jpresent(o[name])
}

// present reports whether a JSON value counts as present in FHIR terms:
// not absent, null, empty string, empty array or empty object.
func jpresent(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case jobj:
		return len(x) > 0
	}
	return true
}

// jchoiceType returns the type suffix of the choice element base[x] present
// in o ("Quantity" for valueQuantity), or "".
func jchoiceType(o jobj, base string) string {
	for k := range o {
		if len(k) > len(base) && strings.HasPrefix(k, base) && k[len(base)] >= 'A' && k[len(base)] <= 'Z' {
			return k[len(base):]
		}
	}
	return ""
}

// jprofiles returns the resource's meta.profile values.
func jprofiles(res jobj) []string {
	var out []string
	for _, p := range jarray(jobject(res, "meta"), "profile") {
		if s, ok := p.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// nrcesProfileName returns the profile id of an NRCeS canonical URL
// ("Patient" for https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient).
func nrcesProfileName(url string) (string, bool) {
	u := url
	if i := strings.IndexByte(u, '|'); i >= 0 {
		u = u[:i]
	}
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	name, ok := strings.CutPrefix(u, strings.TrimPrefix(profileBase, "https://"))
	return name, ok && name != ""
}

// jkeys returns o's keys in order, so findingList come out the same way
// every run.
func jkeys(o jobj) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
