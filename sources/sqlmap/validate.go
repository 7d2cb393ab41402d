package sqlmap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sangamhealth/sangam/sources"
)

// validator checks a decoded file, collecting problems with the line of the
// node each one is about.
type validator struct {
	file     string
	root     *yaml.Node
	problems []Problem
	codeMaps map[string]*CodeMap
	params   []string // installation parameters
}

// at finds the node at path (map keys and sequence indexes) and returns its
// line; a missing tail resolves to the nearest existing ancestor.
func (v *validator) at(path ...any) int {
	n := v.root
	for _, p := range path {
		next := (*yaml.Node)(nil)
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return n.Line
		}
		n = next
	}
	return n.Line
}

func (v *validator) addf(line int, path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: line, Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) mapping(raw *rawFile) *Mapping {
	m := &Mapping{File: v.file, Vendor: raw.Vendor, Description: raw.Description}
	if raw.Format != 1 {
		v.addf(v.at("format"), "format", "must be 1 (the only mapping format so far), got %d", raw.Format)
	}
	if raw.Vendor == "" {
		v.addf(v.at("vendor"), "vendor", "is required")
	}
	m.Connection = v.connection(raw.Connection)
	v.params = m.Connection.Params

	m.CodeMaps = map[string]*CodeMap{}
	for name, cm := range raw.CodeMaps {
		m.CodeMaps[name] = v.codeMap(name, cm)
	}
	v.codeMaps = m.CodeMaps

	m.Patients = v.patients(raw.Patients)

	if len(raw.CareContexts) == 0 {
		v.addf(v.at("care_contexts"), "care_contexts", "at least one care-context type is required")
	}
	seen := map[string]bool{}
	for i, rc := range raw.CareContexts {
		c := v.context(i, rc)
		if seen[c.Type] {
			v.addf(v.at("care_contexts", i, "type"), fmt.Sprintf("care_contexts[%d].type", i), "%q is defined twice", c.Type)
		}
		seen[c.Type] = true
		m.Contexts = append(m.Contexts, c)
	}
	return m
}

func (v *validator) connection(rc rawConnection) Connection {
	c := Connection{Schema: rc.Schema, Role: rc.Role, QueryTimeout: 5 * time.Second, MaxConns: 4, Params: rc.Params}
	if rc.Schema != "" && !identRE.MatchString(rc.Schema) {
		v.addf(v.at("connection", "schema"), "connection.schema", "%q is not a plain lower-case identifier", rc.Schema)
	}
	if rc.Role != "" && !identRE.MatchString(rc.Role) {
		v.addf(v.at("connection", "role"), "connection.role", "%q is not a plain lower-case identifier", rc.Role)
	}
	if rc.QueryTimeout != "" {
		d, err := time.ParseDuration(rc.QueryTimeout)
		switch {
		case err != nil:
			v.addf(v.at("connection", "query_timeout"), "connection.query_timeout", "%q is not a duration such as 5s or 1500ms", rc.QueryTimeout)
		case d <= 0 || d > time.Minute:
			v.addf(v.at("connection", "query_timeout"), "connection.query_timeout", "must be more than 0 and at most 1m, got %s", d)
		default:
			c.QueryTimeout = d
		}
	}
	if rc.MaxConns != 0 {
		if rc.MaxConns < 1 || rc.MaxConns > 32 {
			v.addf(v.at("connection", "max_conns"), "connection.max_conns", "must be between 1 and 32, got %d", rc.MaxConns)
		} else {
			c.MaxConns = rc.MaxConns
		}
	}
	c.TimeZone = "Asia/Kolkata"
	if rc.TimeZone != "" {
		c.TimeZone = rc.TimeZone
	}
	loc, err := loadLocation(c.TimeZone)
	if err != nil {
		v.addf(v.at("connection", "timezone"), "connection.timezone", "%v", err)
	} else {
		c.Location = loc
	}
	builtin := slices.Concat(searchParams, listParams, ccListParams, ccGetParams, changedParams, contentParams)
	for i, p := range rc.Params {
		switch {
		case !identRE.MatchString(p):
			v.addf(v.at("connection", "params", i), "connection.params", "%q is not a plain lower-case name", p)
		case slices.Contains(builtin, p):
			v.addf(v.at("connection", "params", i), "connection.params", "%q is supplied by the connector; pick another name", p)
		}
	}
	return c
}

// loadLocation accepts an IANA zone name or a fixed offset such as +05:30.
func loadLocation(tz string) (*time.Location, error) {
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		h, err1 := strconv.Atoi(tz[1:3])
		m, err2 := strconv.Atoi(tz[4:6])
		if err1 == nil && err2 == nil && h <= 14 && m < 60 {
			off := h*3600 + m*60
			if tz[0] == '-' {
				off = -off
			}
			return time.FixedZone(tz, off), nil
		}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a time zone name (Asia/Kolkata) nor an offset (+05:30)", tz)
	}
	return loc, nil
}

func (v *validator) codeMap(name string, rc rawCodeMap) *CodeMap {
	path := "code_maps." + name
	cm := &CodeMap{Name: name, System: rc.System, LocalSystem: rc.LocalSystem, KeepLocal: rc.KeepLocal, Codes: rc.Codes}
	if !strings.Contains(rc.System, ":") {
		v.addf(v.at("code_maps", name, "system"), path+".system", "must be the code system's URI (e.g. http://loinc.org), got %q", rc.System)
	}
	if rc.LocalSystem != "" && !strings.Contains(rc.LocalSystem, ":") {
		v.addf(v.at("code_maps", name, "local_system"), path+".local_system", "must be a URI, got %q", rc.LocalSystem)
	}
	if rc.KeepLocal && rc.LocalSystem == "" {
		v.addf(v.at("code_maps", name, "keep_local"), path+".keep_local", "needs local_system to name the local codes' system")
	}
	if len(rc.Codes) == 0 {
		v.addf(v.at("code_maps", name), path, "has no codes")
	}
	for local, c := range rc.Codes {
		if c.Code == "" {
			v.addf(v.at("code_maps", name, "codes", local), path+".codes."+local, "maps to an empty code")
		}
	}
	return cm
}

func (v *validator) patients(rp rawPatients) Patients {
	p := Patients{Fields: v.fields([]any{"patients", "fields"}, "patients.fields", rp.Fields, patientFields)}
	if len(rp.Search) == 0 {
		v.addf(v.at("patients"), "patients.search", "at least one search query is required")
	}
	names := map[string]bool{}
	for i, rq := range rp.Search {
		path := []any{"patients", "search", i}
		label := fmt.Sprintf("patients.search[%d]", i)
		if rq.Name != "" {
			label = "patients.search[" + rq.Name + "]"
		}
		if names[rq.Name] && rq.Name != "" {
			v.addf(v.at(append(path, "name")...), label, "name %q is used twice", rq.Name)
		}
		names[rq.Name] = true
		q := v.query(path, label, rq.Query, rq.Params, searchParams)
		if len(q.Params) == 0 && q.SQL != "" {
			v.addf(v.at(path...), label, "a search query needs at least one search parameter, or it would return everyone")
		}
		p.Search = append(p.Search, q)
	}
	if rp.List != nil {
		p.List = v.query([]any{"patients", "list"}, "patients.list", rp.List.Query, rp.List.Params, listParams)
		v.requireParams([]any{"patients", "list"}, "patients.list", p.List, "after", "limit")
	}
	return p
}

func (v *validator) context(i int, rc rawContext) *Context {
	path := []any{"care_contexts", i}
	label := fmt.Sprintf("care_contexts[%d]", i)
	c := &Context{Type: rc.Type, HIType: sources.HIType(rc.HIType), Line: v.at(path...)}
	if !contextRE.MatchString(rc.Type) {
		v.addf(v.at(append(path, "type")...), label+".type", "%q must be a short lower-case name such as visit or lab_order", rc.Type)
	} else {
		label = "care_contexts[" + rc.Type + "]"
	}
	if !c.HIType.IsKnown() {
		known := make([]string, 0, 8)
		for _, t := range sources.HITypes() {
			known = append(known, string(t))
		}
		v.addf(v.at(append(path, "hi_type")...), label+".hi_type", "%q is not an ABDM hiType (%s)", rc.HIType, strings.Join(known, ", "))
	}
	c.Fields = v.fields(append(path, "fields"), label+".fields", rc.Fields, contextFields)
	if rc.List == nil {
		v.addf(v.at(path...), label+".list", "is required")
	} else {
		c.List = v.query(append(path, "list"), label+".list", rc.List.Query, rc.List.Params, ccListParams)
		v.requireParams(append(path, "list"), label+".list", c.List, "patient_id")
	}
	if rc.Get == nil {
		v.addf(v.at(path...), label+".get", "is required")
	} else {
		c.Get = v.query(append(path, "get"), label+".get", rc.Get.Query, rc.Get.Params, ccGetParams)
		v.requireParams(append(path, "get"), label+".get", c.Get, "local_id")
	}
	if rc.Changed != nil {
		c.Changed = v.query(append(path, "changed"), label+".changed", rc.Changed.Query, rc.Changed.Params, changedParams)
		v.requireParams(append(path, "changed"), label+".changed", c.Changed, "since")
		if c.Fields["updated"] == nil {
			v.addf(v.at(append(path, "fields")...), label+".fields", "updated is required when a changed query is given")
		}
	}
	if len(rc.Content) == 0 {
		v.addf(v.at(path...), label+".content", "at least one resource is required")
	}
	for j, rr := range rc.Content {
		rpath := append(slices.Clone(path), "content", j)
		rlabel := fmt.Sprintf("%s.content[%d]", label, j)
		defs, ok := resourceFields[rr.Resource]
		if !ok {
			v.addf(v.at(append(rpath, "resource")...), rlabel+".resource", "%q is not a resource this connector builds (%s)", rr.Resource, strings.Join(resourceTypes(), ", "))
			continue
		}
		rlabel = fmt.Sprintf("%s.content[%d:%s]", label, j, rr.Resource)
		res := &Resource{
			Type:   rr.Resource,
			Query:  v.query(rpath, rlabel, rr.Query, rr.Params, contentParams),
			Fields: v.fields(append(rpath, "fields"), rlabel+".fields", rr.Fields, defs),
		}
		if res.Type == "ChargeItem" && rr.Fields["amount"] == nil && rr.Fields["unit_price"] == nil {
			v.addf(v.at(append(rpath, "fields")...), rlabel+".fields", "amount or unit_price is required: a charge without a price cannot be a bill's line")
		}
		c.Content = append(c.Content, res)
	}
	v.billing(path, label, c, rc)
	return c
}

// billing checks what a bill needs across a care context's resources: an
// Invoice care context holds an Invoice, and an Invoice has ChargeItems
// for its lines.
func (v *validator) billing(path []any, label string, c *Context, rc rawContext) {
	has := func(typ string) bool {
		return slices.ContainsFunc(rc.Content, func(r rawResource) bool { return r.Resource == typ })
	}
	if c.HIType == sources.Invoice && len(rc.Content) > 0 && !has("Invoice") {
		v.addf(v.at(append(slices.Clone(path), "content")...), label+".content", "hi_type Invoice needs an Invoice resource (the bill) in content")
	}
	for j, rr := range rc.Content {
		if rr.Resource == "Invoice" && !has("ChargeItem") {
			v.addf(v.at(append(slices.Clone(path), "content", j, "resource")...), fmt.Sprintf("%s.content[%d:Invoice]", label, j),
				"an Invoice needs a ChargeItem resource in the same care context for its lines")
		}
	}
}

// query checks one statement: a single read-only SELECT whose $n
// placeholders match its parameter list one to one.
func (v *validator) query(path []any, label, sql string, params, allowed []string) *Query {
	q := &Query{Name: label, SQL: strings.TrimSpace(sql), Params: params, Line: v.at(append(slices.Clone(path), "query")...)}
	if q.SQL == "" {
		v.addf(v.at(path...), label+".query", "is required")
		return q
	}
	stripped := strings.TrimSpace(sqlCommentRE.ReplaceAllString(stripQuoted(q.SQL), " "))
	q.SQL = strings.TrimRight(q.SQL, "; \t\n")
	first := strings.ToUpper(strings.Fields(stripped + " x")[0])
	if first != "SELECT" && first != "WITH" {
		v.addf(q.Line, label+".query", "must be a SELECT (or WITH ... SELECT); the connector only reads")
	}
	if strings.Contains(strings.TrimRight(stripped, "; \t\n"), ";") {
		v.addf(q.Line, label+".query", "must be a single statement (found a ';' inside)")
	}
	used := map[int]bool{}
	maxN := 0
	for _, m := range placeholdRE.FindAllStringSubmatch(stripped, -1) {
		n, _ := strconv.Atoi(m[1])
		used[n] = true
		maxN = max(maxN, n)
	}
	if maxN != len(params) {
		v.addf(q.Line, label+".query", "uses placeholders up to $%d but params lists %d value(s); list one parameter per placeholder, in order", maxN, len(params))
	} else {
		for n := 1; n <= maxN; n++ {
			if !used[n] {
				v.addf(q.Line, label+".query", "params lists %d value(s) but $%d is never used", len(params), n)
			}
		}
	}
	ok := slices.Concat(allowed, v.params)
	for i, p := range params {
		if !slices.Contains(ok, p) {
			v.addf(v.at(append(slices.Clone(path), "params", i)...), label+".params", "%q is not a parameter here (available: %s)", p, strings.Join(ok, ", "))
		}
	}
	return q
}

func (v *validator) requireParams(path []any, label string, q *Query, names ...string) {
	for _, n := range names {
		if q.SQL != "" && !slices.Contains(q.Params, n) {
			v.addf(v.at(append(slices.Clone(path), "params")...), label+".params", "must use %s", n)
		}
	}
}

// stripQuoted blanks out SQL string literals and quoted identifiers so that
// a ';' or '$1' inside them is not mistaken for syntax.
func stripQuoted(sql string) string {
	b := []byte(sql)
	var quote byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b[i] = ' '
			}
		case c == '\'' || c == '"':
			quote = c
		}
	}
	return string(b)
}

// fields checks a field set against the definitions of its part.
func (v *validator) fields(path []any, label string, raw map[string]*Field, defs map[string]fieldDef) Fields {
	out := Fields{}
	for name, f := range raw {
		def, ok := defs[name]
		fpath := label + "." + name
		if !ok {
			known := make([]string, 0, len(defs))
			for k := range defs {
				known = append(known, k)
			}
			slices.Sort(known)
			v.addf(v.at(append(slices.Clone(path), name)...), fpath, "unknown field (known here: %s)", strings.Join(known, ", "))
			continue
		}
		if f == nil {
			v.addf(v.at(append(slices.Clone(path), name)...), fpath, "is empty")
			continue
		}
		v.field(fpath, f, def)
		out[name] = f
	}
	for name, def := range defs {
		if def.required && out[name] == nil && raw[name] == nil {
			v.addf(v.at(path...), label, "%s is required", name)
		}
	}
	return out
}

func (v *validator) field(path string, f *Field, def fieldDef) {
	if len(f.Also) > 0 {
		if def.kind != kindCoding {
			v.addf(f.Line, path, "a list of codings applies only to coded fields; %s is %s", path, def.kind)
			return
		}
		for i, a := range f.Also {
			v.field(fmt.Sprintf("%s[%d]", path, i+1), a, def)
		}
	}
	switch {
	case f.Column == "" && f.Value == "" && def.kind == kindCoding && f.DisplayColumn != "":
		// A text-only concept: free text the source has, no code.
	case f.Column == "" && f.Value == "":
		v.addf(f.Line, path, "needs a column or a value")
	case f.Column != "" && f.Value != "":
		v.addf(f.Line, path, "has both a column and a value; pick one")
	}
	if f.Format != "" {
		if def.kind != kindTime {
			v.addf(f.Line, path, "format applies only to dates and times; %s is %s", path, def.kind)
		} else if _, err := time.Parse(f.Format, time.Date(2024, 11, 23, 14, 5, 9, 0, time.UTC).Format(f.Format)); err != nil || !strings.Contains(f.Format, "2006") && !strings.Contains(f.Format, "06") {
			v.addf(f.Line, path, "format %q is not a Go time layout (write the reference time Mon Jan 2 15:04:05 2006 as the source stores it, e.g. 02-01-2006)", f.Format)
		}
	}
	if f.MapName != "" {
		cm, ok := v.codeMaps[f.MapName]
		switch {
		case !ok:
			v.addf(f.Line, path, "map %q is not defined under code_maps", f.MapName)
		case def.kind != kindCoding:
			v.addf(f.Line, path, "a code map (%s) makes a coding, but %s is %s; use an inline map", cm.Name, path, def.kind)
		}
	}
	if (f.System != "" || f.Display != "" || f.DisplayColumn != "") && def.kind != kindCoding {
		v.addf(f.Line, path, "system and display apply only to codings; %s is %s", path, def.kind)
	}
	if def.kind == kindCoding && f.MapName == "" && f.System == "" && f.Column != "" {
		v.addf(f.Line, path, "a coding from a column needs a code map (map: name) or the column's code system (system: uri)")
	}
	if def.kind == kindCoding && f.Value != "" && f.System == "" && f.MapName == "" {
		v.addf(f.Line, path, "a constant coding needs its system")
	}
	if f.Inline != nil && def.kind == kindCoding {
		v.addf(f.Line, path, "a coding is translated through a named code map, not an inline map")
	}
	if def.kind == kindCode {
		check := func(what, c string) {
			if !slices.Contains(def.codes, c) {
				v.addf(f.Line, path, "%s %q is not one of %s", what, c, strings.Join(slices.DeleteFunc(slices.Clone(def.codes), func(s string) bool { return s == "" }), ", "))
			}
		}
		for _, to := range f.Inline {
			check("maps to", to)
		}
		if f.Value != "" {
			check("value", f.Value)
		}
		if f.Default != "" {
			check("default", f.Default)
		}
	}
}
