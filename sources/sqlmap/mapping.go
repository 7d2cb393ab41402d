package sqlmap

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // vendor time zones resolve without the host's zoneinfo

	"go.yaml.in/yaml/v3"

	"github.com/sangamhealth/sangam/sources"
)

// Mapping is a parsed and validated mapping file: how one vendor's schema
// holds patients and care contexts, and how its rows become FHIR resources.
type Mapping struct {
	// File names the mapping in error messages.
	File        string
	Vendor      string
	Description string
	Connection  Connection
	Patients    Patients
	Contexts    []*Context
	CodeMaps    map[string]*CodeMap
}

// Connection holds the vendor-wide connection settings. The database itself
// (DSN) is per installation and comes from the source system's config.
type Connection struct {
	// Schema is the search_path of the connection, so queries name tables
	// without a schema.
	Schema string
	// Role, when set, is assumed after connecting (SET ROLE), e.g. a
	// read-only role.
	Role         string
	QueryTimeout time.Duration
	MaxConns     int
	// Location interprets timestamps stored without a time zone, and
	// TimeZone is its name for the database session (so that the
	// connector's time parameters compare right against such columns).
	Location *time.Location
	TimeZone string
	// Params are installation parameters (e.g. site) whose values each
	// source system's config supplies; queries may use them.
	Params []string
}

// Patients maps the vendor's patient records.
type Patients struct {
	Fields Fields
	// Search queries run when every parameter they name is known for the
	// search; their results are merged.
	Search []*Query
	// List pages through all patients (parameters after and limit).
	List *Query
}

// Context maps one kind of care context (visit, admission, lab order...).
type Context struct {
	Type    string
	HIType  sources.HIType
	Fields  Fields
	List    *Query // one patient's contexts in [from, to)
	Get     *Query // one context by local_id
	Changed *Query // optional: contexts changed after since
	Content []*Resource
	Line    int
}

// Resource maps query rows to one FHIR resource type.
type Resource struct {
	Type   string
	Query  *Query
	Fields Fields
}

// Query is one parameterised SQL statement. Params name the values bound to
// $1, $2, ... in order; nothing is ever spliced into the text.
type Query struct {
	Name   string // where it sits in the file, e.g. care_contexts[visit].list
	SQL    string
	Params []string
	Line   int
}

// Fields maps field names to where their values come from.
type Fields map[string]*Field

// Field says where one field's value comes from: a column of the row or a
// constant, optionally translated through a code map or an inline value map.
type Field struct {
	Column string
	Value  string // constant, when Column is empty
	// MapName names a code map of the file; Inline is an inline value map.
	MapName string
	Inline  map[string]string
	Default string
	// Format is the Go time layout of a time stored as text.
	Format string
	// System and Display (or DisplayColumn) make a coding from a column
	// that already holds a standard code.
	System        string
	Display       string
	DisplayColumn string
	// Also lists further codings of the same concept, each from its own
	// column or constant (a field written as a YAML list): a problem code
	// mapped to SNOMED CT and the ICD-10 code the records department added.
	Also []*Field
	Line int
}

// CodeMap translates a vendor's local codes to a standard code system.
type CodeMap struct {
	Name   string
	System string
	// LocalSystem, when set, keeps unmapped local codes as codings in this
	// system; otherwise an unmapped code survives only as text.
	LocalSystem string
	// KeepLocal adds the local coding next to the standard one.
	KeepLocal bool
	Codes     map[string]Code
}

// Code is one standard code.
type Code struct {
	Code    string
	Display string
}

// Problem is one thing wrong with a mapping file, at a line.
type Problem struct {
	Line   int
	Path   string
	Reason string
}

// ValidationError lists everything wrong with a mapping file.
type ValidationError struct {
	File     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mapping file %s is invalid:", e.File)
	for _, p := range e.Problems {
		if p.Path != "" {
			fmt.Fprintf(&b, "\n  %s:%d: %s: %s", e.File, p.Line, p.Path, p.Reason)
		} else {
			fmt.Fprintf(&b, "\n  %s:%d: %s", e.File, p.Line, p.Reason)
		}
	}
	return b.String()
}

// The file as YAML (or JSON, which YAML reads too) before validation.
type rawFile struct {
	Format       int                   `yaml:"format"`
	Vendor       string                `yaml:"vendor"`
	Description  string                `yaml:"description"`
	Connection   rawConnection         `yaml:"connection"`
	Patients     rawPatients           `yaml:"patients"`
	CareContexts []rawContext          `yaml:"care_contexts"`
	CodeMaps     map[string]rawCodeMap `yaml:"code_maps"`
}

type rawConnection struct {
	Schema       string   `yaml:"schema"`
	Role         string   `yaml:"role"`
	QueryTimeout string   `yaml:"query_timeout"`
	MaxConns     int      `yaml:"max_conns"`
	TimeZone     string   `yaml:"timezone"`
	Params       []string `yaml:"params"`
}

type rawQuery struct {
	Name   string   `yaml:"name"`
	Query  string   `yaml:"query"`
	Params []string `yaml:"params"`
}

type rawPatients struct {
	Fields map[string]*Field `yaml:"fields"`
	Search []rawQuery        `yaml:"search"`
	List   *rawQuery         `yaml:"list"`
}

type rawContext struct {
	Type    string            `yaml:"type"`
	HIType  string            `yaml:"hi_type"`
	Fields  map[string]*Field `yaml:"fields"`
	List    *rawQuery         `yaml:"list"`
	Get     *rawQuery         `yaml:"get"`
	Changed *rawQuery         `yaml:"changed"`
	Content []rawResource     `yaml:"content"`
}

type rawResource struct {
	Resource string            `yaml:"resource"`
	Query    string            `yaml:"query"`
	Params   []string          `yaml:"params"`
	Fields   map[string]*Field `yaml:"fields"`
}

type rawCodeMap struct {
	System      string          `yaml:"system"`
	LocalSystem string          `yaml:"local_system"`
	KeepLocal   bool            `yaml:"keep_local"`
	Codes       map[string]Code `yaml:"codes"`
}

var fieldKeys = []string{"column", "value", "map", "default", "format", "system", "display", "display_column"}

// UnmarshalYAML reads a field: a column name, a mapping with the keys in
// fieldKeys, or (for a coded field) a list of those, one per coding.
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	f.Line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		f.Column = n.Value
		return nil
	case yaml.MappingNode:
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return fmt.Errorf("line %d: a list of codings is empty", n.Line)
		}
		for i, item := range n.Content {
			if item.Kind == yaml.SequenceNode {
				return fmt.Errorf("line %d: a list of codings holds columns or mappings, not lists", item.Line)
			}
			if i == 0 {
				if err := f.UnmarshalYAML(item); err != nil {
					return err
				}
				continue
			}
			also := &Field{}
			if err := also.UnmarshalYAML(item); err != nil {
				return err
			}
			f.Also = append(f.Also, also)
		}
		f.Line = n.Line
		return nil
	default:
		return fmt.Errorf("line %d: a field is a column name or a mapping with %s", n.Line, strings.Join(fieldKeys, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "map" {
			switch v.Kind {
			case yaml.ScalarNode:
				f.MapName = v.Value
			case yaml.MappingNode:
				f.Inline = map[string]string{}
				if err := v.Decode(&f.Inline); err != nil {
					return err
				}
			default:
				return fmt.Errorf("line %d: map is the name of a code map or an inline mapping of values", v.Line)
			}
			continue
		}
		if !slices.Contains(fieldKeys, k.Value) {
			return fmt.Errorf("line %d: unknown key %q in a field (known: %s)", k.Line, k.Value, strings.Join(fieldKeys, ", "))
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s must be a single value", v.Line, k.Value)
		}
		switch k.Value {
		case "column":
			f.Column = v.Value
		case "value":
			f.Value = v.Value
		case "default":
			f.Default = v.Value
		case "format":
			f.Format = v.Value
		case "system":
			f.System = v.Value
		case "display":
			f.Display = v.Value
		case "display_column":
			f.DisplayColumn = v.Value
		}
	}
	return nil
}

// UnmarshalYAML reads a code map entry: either the standard code alone or a
// mapping with code and display.
func (c *Code) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Code = n.Value
		return nil
	}
	var raw struct {
		Code    string `yaml:"code"`
		Display string `yaml:"display"`
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a code map entry is a code or {code, display}", n.Line)
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "code" && k != "display" {
			return fmt.Errorf("line %d: unknown key %q in a code map entry (known: code, display)", n.Content[i].Line, k)
		}
	}
	if err := n.Decode(&raw); err != nil {
		return err
	}
	c.Code, c.Display = raw.Code, raw.Display
	return nil
}

var (
	lineRE       = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundRE   = regexp.MustCompile(`field (\S+) not found in type \S+`)
	identRE      = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	contextRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	placeholdRE  = regexp.MustCompile(`\$(\d+)`)
	sqlCommentRE = regexp.MustCompile(`(?s)--[^\n]*|/\*.*?\*/`)
)

// Parse reads and validates a mapping file. name is used in messages. The
// error is a *ValidationError listing every problem with its line.
func Parse(name string, data []byte) (*Mapping, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlProblems(name, err)
	}
	if len(root.Content) == 0 {
		return nil, &ValidationError{File: name, Problems: []Problem{{Line: 1, Reason: "the file is empty"}}}
	}
	var raw rawFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, yamlProblems(name, err)
	}
	v := &validator{file: name, root: root.Content[0]}
	m := v.mapping(&raw)
	if len(v.problems) > 0 {
		sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
		return nil, &ValidationError{File: name, Problems: v.problems}
	}
	return m, nil
}

// yamlProblems turns yaml's errors ("line 7: field foo not found in type
// sqlmap.rawQuery") into problems that speak of the file, not of Go.
func yamlProblems(name string, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	ve := &ValidationError{File: name}
	for _, msg := range msgs {
		p := Problem{Reason: msg}
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Reason = m[2]
			if strings.HasPrefix(p.Reason, "did not find expected") {
				// yaml reports where the unclosed collection began, counting
				// from zero; point at that line and say so.
				p.Line++
				p.Reason += " (the collection opened on this line is not closed)"
			}
		}
		p.Reason = notFoundRE.ReplaceAllString(p.Reason, "unknown key $1")
		p.Reason = strings.ReplaceAll(p.Reason, "yaml: unmarshal errors:", "")
		ve.Problems = append(ve.Problems, p)
	}
	return ve
}
