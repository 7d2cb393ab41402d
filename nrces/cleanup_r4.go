package nrces

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The R4 clean-up pass rewrites a document so that google/fhir/go's R4
// unmarshaller accepts it. It walks the JSON against the same proto
// descriptors google/fhir/go parses into, so "unknown property" means
// exactly what the parser would reject, and applies the rules of the other
// cleanup*.go files to every primitive by its R4 type. The lenient reader
// does not need it; Reader.CheckR4 and ParseR4 do.

// CleanR4 returns data rewritten so that google/fhir/go's R4 unmarshaller
// accepts it, and what was changed. It fails only when data is not JSON.
// dateTimes without a zone are given loc's (IST when nil).
func CleanR4(data []byte, loc *time.Location) ([]byte, []Problem, error) {
	if loc == nil {
		loc = indiaZone
	}
	var c r4Cleaner
	out, err := c.clean(data, loc)
	return out, c.probs.list, err
}

type r4Cleaner struct {
	loc        *time.Location
	blobs      [][]byte // long base64 values cut out, as sent
	cleanBlobs [][]byte // the same, cleaned, by index
	probs      problemList
	fields     map[protoreflect.FullName]map[string]r4Field
	renamed    map[string]string // "Type/old-id" → "Type/new-id"
}

// r4Field is what a JSON property maps to: a field, or a choice field and
// the type chosen ("valueQuantity" → value, quantity).
type r4Field struct {
	fd     protoreflect.FieldDescriptor
	choice protoreflect.FieldDescriptor // nil unless fd is a choice type
}

func (c *r4Cleaner) clean(data []byte, loc *time.Location) ([]byte, error) {
	c.loc = loc
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.Contains(data, []byte(`\/`)) {
		c.probs.add(severityInfo, "base64-escaped-slash", "",
			`the document has JSON-escaped slashes ("\/"), which google/fhir/go misreads in base64; re-encoded without them`)
	}
	// Long base64 values are cut out first (read_blobs.go), checked on
	// their own and put back at the end, so encoding/json's scanner only
	// walks the structured part.
	skeleton, blobs := cutBlobs(data)
	c.blobs, c.cleanBlobs = blobs, make([][]byte, len(blobs))
	dec := json.NewDecoder(bytes.NewReader(skeleton))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("reading JSON: %w", err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("reading JSON: the document is not a JSON object")
	}
	if !c.resource(obj, "") {
		return nil, fmt.Errorf("reading JSON: resourceType %q is not a FHIR R4 resource", obj["resourceType"])
	}
	if len(c.renamed) > 0 {
		c.fixReferences(obj)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, fmt.Errorf("writing JSON: %w", err)
	}
	return c.pasteBlobs(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// pasteBlobs puts the cleaned long values back in place of their
// placeholders. A placeholder whose value was removed is not in the
// output at all.
func (c *r4Cleaner) pasteBlobs(out []byte) []byte {
	if len(c.blobs) == 0 {
		return out
	}
	var b bytes.Buffer
	b.Grow(len(out) + len(c.blobs)*blobMinLen)
	for {
		i := bytes.Index(out, blobMark)
		if i < 0 {
			b.Write(out)
			return b.Bytes()
		}
		end := bytes.IndexByte(out[i+1:], '"') + i + 1
		n, ok := blobIndex(out[i : end+1])
		if !ok || n >= len(c.cleanBlobs) {
			b.Write(out[:end+1])
			out = out[end+1:]
			continue
		}
		b.Write(out[:i+1])
		if clean := c.cleanBlobs[n]; clean != nil {
			b.Write(clean)
		} else {
			// Not a base64Binary (SampledData.data is a string): as sent.
			b.Write(c.blobs[n])
		}
		b.WriteByte('"')
		out = out[end+1:]
	}
}

// r4ResourceTypes maps resource type names to their descriptors.
var r4ResourceTypes = func() map[string]protoreflect.MessageDescriptor {
	oneof := (&bcrpb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().Get(0)
	m := make(map[string]protoreflect.MessageDescriptor, oneof.Fields().Len())
	for i := 0; i < oneof.Fields().Len(); i++ {
		md := oneof.Fields().Get(i).Message()
		m[string(md.Name())] = md
	}
	return m
}()

// isR4ResourceType reports whether name is a FHIR R4 resource type.
func isR4ResourceType(name string) bool {
	_, ok := r4ResourceTypes[name]
	return ok
}

// resource cleans a resource object; false means it is not an R4 resource
// and must be removed.
func (c *r4Cleaner) resource(obj map[string]any, path string) bool {
	rt, _ := obj["resourceType"].(string)
	md, ok := r4ResourceTypes[rt]
	if !ok {
		return false
	}
	if path == "" {
		path = rt
	}
	c.message(obj, md, path)
	return true
}

// fieldMap mirrors google/fhir/go's: JSON names, choice types expanded
// ("valueQuantity"), and "_name" for primitives' extensions.
func (c *r4Cleaner) fieldMap(md protoreflect.MessageDescriptor) map[string]r4Field {
	if m, ok := c.fields[md.FullName()]; ok {
		return m
	}
	m := map[string]r4Field{}
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		fd := fs.Get(i)
		if isChoiceMessage(fd.Message()) {
			cs := fd.Message().Fields()
			for j := 0; j < cs.Len(); j++ {
				ch := cs.Get(j)
				name := fd.JSONName() + upperFirst(ch.JSONName())
				m[name] = r4Field{fd: fd, choice: ch}
				m["_"+name] = r4Field{fd: fd, choice: ch}
			}
			continue
		}
		m[fd.JSONName()] = r4Field{fd: fd}
		if fd.Message() != nil && isPrimitiveMessage(fd.Message()) {
			m["_"+fd.JSONName()] = r4Field{fd: fd}
		}
	}
	if c.fields == nil {
		c.fields = map[protoreflect.FullName]map[string]r4Field{}
	}
	c.fields[md.FullName()] = m
	return m
}

// message cleans obj in place as an instance of md.
func (c *r4Cleaner) message(obj map[string]any, md protoreflect.MessageDescriptor, path string) {
	fields := c.fieldMap(md)
	chosen := map[protoreflect.FieldDescriptor]string{}
	// Sorted, so that problems come out in the same order every time.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		val := obj[key]
		if key == "resourceType" && isResourceMessage(md) {
			continue
		}
		f, ok := fields[key]
		if !ok {
			// google/fhir/go also accepts an upper-case first letter.
			f, ok = fields[lowerFirstASCII(key)]
		}
		kpath := path + "." + key
		if !ok {
			delete(obj, key)
			sev := severityWarning
			if key == "fhir_comments" {
				sev = severityInfo
			}
			c.probs.fold(sev, "unknown-property", key, kpath,
				fmt.Sprintf("property %q is not in FHIR R4 %s; removed", key, md.Name()))
			continue
		}
		if f.choice != nil && !strings.HasPrefix(key, "_") {
			if prev, dup := chosen[f.fd]; dup {
				delete(obj, key)
				c.probs.add(severityWarning, "choice-repeated", kpath,
					fmt.Sprintf("%s already has %q; %q removed", f.fd.JSONName(), prev, key))
				continue
			}
			chosen[f.fd] = key
		}
		target := f.fd
		if f.choice != nil {
			target = f.choice
		}
		var keep bool
		if strings.HasPrefix(key, "_") {
			val, keep = c.primitiveElement(val, target, kpath)
		} else {
			val, keep = c.field(val, target, f.choice == nil && f.fd.Cardinality() == protoreflect.Repeated, kpath)
		}
		if keep {
			obj[key] = val
		} else {
			delete(obj, key)
		}
	}
}

// field cleans the value of one property.
func (c *r4Cleaner) field(val any, fd protoreflect.FieldDescriptor, repeated bool, path string) (any, bool) {
	if val == nil {
		return nil, false
	}
	arr, isArr := val.([]any)
	switch {
	case repeated && !isArr:
		c.probs.fold(severityInfo, "expected-array", "", path, "a single value where R4 has an array; wrapped")
		arr = []any{val}
	case !repeated && isArr:
		if len(arr) == 0 {
			return nil, false
		}
		if len(arr) > 1 {
			c.probs.add(severityWarning, "expected-single", path,
				fmt.Sprintf("an array of %d where R4 allows one value; the first was kept", len(arr)))
		} else {
			c.probs.fold(severityInfo, "expected-single", "", path, "an array of one where R4 has a single value; unwrapped")
		}
		return c.single(arr[0], fd.Message(), path)
	case !repeated:
		return c.single(val, fd.Message(), path)
	}
	out := arr[:0]
	for i, v := range arr {
		if v, ok := c.single(v, fd.Message(), path+"["+strconv.Itoa(i)+"]"); ok {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return out, true
}

// single cleans one value of message type md.
func (c *r4Cleaner) single(val any, md protoreflect.MessageDescriptor, path string) (any, bool) {
	if val == nil || md == nil {
		return nil, false
	}
	if isPrimitiveMessage(md) {
		return c.primitive(val, md, path)
	}
	obj, ok := val.(map[string]any)
	if !ok {
		// Two common slips have an obvious meaning.
		if s, isStr := val.(string); isStr {
			switch md.Name() {
			case "Reference":
				c.probs.fold(severityInfo, "string-for-object", "Reference", path, "a string where R4 has a Reference; read as its reference")
				return map[string]any{"reference": s}, true
			case "CodeableConcept":
				c.probs.fold(severityInfo, "string-for-object", "CodeableConcept", path, "a string where R4 has a CodeableConcept; read as its text")
				return map[string]any{"text": s}, true
			}
		}
		c.probs.add(severityWarning, "wrong-json-type", path,
			fmt.Sprintf("a JSON %s where R4 has a %s object; removed", jsonTypeName(val), md.Name()))
		return nil, false
	}
	switch md.Name() {
	case "ContainedResource", "Any":
		if !c.resource(obj, path) {
			rt, _ := obj["resourceType"].(string)
			c.probs.add(severityError, "unreadable-resource", path,
				fmt.Sprintf("resourceType %q is not a FHIR R4 resource; removed for the R4 parser", rt))
			return nil, false
		}
		return obj, true
	}
	c.message(obj, md, path)
	if len(obj) == 0 {
		return nil, false
	}
	return obj, true
}

// primitiveElement cleans a "_name" value: the id and extensions of a
// primitive (or an array of them, with nulls).
func (c *r4Cleaner) primitiveElement(val any, fd protoreflect.FieldDescriptor, path string) (any, bool) {
	md := fd.Message()
	if md == nil {
		return nil, false
	}
	switch v := val.(type) {
	case map[string]any:
		c.elementOf(v, md, path)
		return v, true
	case []any:
		for i, e := range v {
			if m, ok := e.(map[string]any); ok {
				c.elementOf(m, md, path+"["+strconv.Itoa(i)+"]")
			}
		}
		return v, true
	}
	c.probs.add(severityWarning, "wrong-json-type", path, "a primitive's extension element is not an object; removed")
	return nil, false
}

func (c *r4Cleaner) elementOf(obj map[string]any, md protoreflect.MessageDescriptor, path string) {
	for k := range obj {
		if k != "id" && k != "extension" {
			delete(obj, k)
			c.probs.fold(severityWarning, "unknown-property", k, path+"."+k,
				fmt.Sprintf("property %q is not allowed on a primitive's element; removed", k))
		}
	}
	if ext, ok := obj["extension"]; ok {
		if v, keep := c.field(ext, md.Fields().ByName("extension"), true, path+".extension"); keep {
			obj["extension"] = v
		} else {
			delete(obj, "extension")
		}
	}
}

// primitive applies the clean-up rules by R4 primitive type.
func (c *r4Cleaner) primitive(val any, md protoreflect.MessageDescriptor, path string) (any, bool) {
	name := string(md.Name())
	switch name {
	case "Boolean":
		switch v := val.(type) {
		case bool:
			return v, true
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
				c.probs.fold(severityInfo, "string-for-primitive", name, path, "a boolean written as a string; converted")
				return b, true
			}
		}
		return c.dropPrimitive(val, name, path)
	case "Integer", "PositiveInt", "UnsignedInt":
		num, ok := c.number(val, name, path)
		if !ok {
			return c.dropPrimitive(val, name, path)
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || f != float64(int64(f)) || (name == "PositiveInt" && f < 1) || (name == "UnsignedInt" && f < 0) {
			return c.dropPrimitive(val, name, path)
		}
		if !isIntegerText(string(num)) {
			c.probs.fold(severityInfo, "number-format", name, path, "an integer written with a fraction or exponent; rewritten")
			return json.Number(strconv.FormatInt(int64(f), 10)), true
		}
		return num, true
	case "Decimal":
		num, ok := c.number(val, name, path)
		if !ok {
			return c.dropPrimitive(val, name, path)
		}
		return num, true
	}
	s, ok := c.text(val, name, path)
	if !ok {
		return c.dropPrimitive(val, name, path)
	}
	switch name {
	case "Base64Binary":
		if rest, ok := strings.CutPrefix(s, "\x00blob:"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n < len(c.blobs) {
				return c.blob(n, s, path)
			}
		}
		clean, changed, ok := cleanBase64String(s)
		if !ok {
			c.probs.add(severityWarning, "base64-invalid", path, "not base64; removed for the R4 parser")
			return nil, false
		}
		if changed != "" {
			c.probs.fold(severityInfo, "base64-whitespace", changed, path, "base64: "+changed)
		}
		return clean, true
	case "Date", "DateTime", "Instant":
		clean, changed, ok := cleanDateTimeString(s, name, c.loc)
		if !ok {
			c.probs.fold(severityWarning, "datetime-unreadable", "", path,
				fmt.Sprintf("%q is not a FHIR %s; removed for the R4 parser", s, strings.ToLower(name)))
			return nil, false
		}
		if changed != "" {
			code := "datetime-nonstandard"
			if strings.Contains(changed, "time zone") {
				code = "datetime-without-zone"
			}
			c.probs.fold(severityInfo, code, changed, path, fmt.Sprintf("%s %q: %s", strings.ToLower(name), s, changed))
		}
		return clean, true
	case "Id":
		if isValidFHIRID(s) {
			return s, true
		}
		clean := validFHIRID(s)
		c.probs.fold(severityInfo, "invalid-id", "", path, fmt.Sprintf("id %q is not a valid FHIR id; rewritten as %q", s, clean))
		c.noteRename(path, s, clean)
		return clean, true
	case "Code":
		return c.code(s, path)
	case "Uri", "Url", "Canonical":
		return c.uri(s, path)
	case "String", "Markdown", "Xhtml", "Oid", "Uuid", "Time":
		if s == "" {
			return nil, false
		}
		return s, true
	}
	if proto.HasExtension(md.Options(), apb.E_FhirValuesetUrl) {
		return c.enumCode(s, md, path)
	}
	return s, true
}

// blob cleans a cut-out base64 value; the placeholder stays in the tree.
func (c *r4Cleaner) blob(n int, placeholder, path string) (any, bool) {
	v := decodeBase64Value(c.blobs[n])
	if v.bad != "" {
		c.probs.add(severityWarning, "base64-invalid", path, "not base64; removed for the R4 parser")
		return nil, false
	}
	var did []string
	if v.spaced {
		did = append(did, "removed whitespace")
	}
	if v.variant != "" {
		did = append(did, "re-encoded "+v.variant+" base64 as standard")
	}
	if v.escaped || v.spaced || v.variant != "" {
		c.cleanBlobs[n] = []byte(base64.StdEncoding.EncodeToString(v.data))
	} else {
		c.cleanBlobs[n] = c.blobs[n]
	}
	if len(did) > 0 {
		changed := strings.Join(did, ", ")
		c.probs.fold(severityInfo, "base64-whitespace", changed, path, "base64: "+changed)
	}
	return placeholder, true
}

// code applies FHIR's code pattern: no leading, trailing or double
// whitespace.
func (c *r4Cleaner) code(s, path string) (any, bool) {
	clean := strings.Join(strings.Fields(s), " ")
	if clean == "" {
		return nil, false
	}
	if clean != s {
		c.probs.fold(severityInfo, "code-whitespace", "", path, fmt.Sprintf("code %q had extra whitespace; trimmed", s))
	}
	return clean, true
}

// uri applies the rule google/fhir/go checks for URIs: they must parse.
// Spaces, the usual culprit ("http://x.in/my codes"), are percent-encoded.
func (c *r4Cleaner) uri(s, path string) (any, bool) {
	clean := strings.TrimSpace(s)
	if clean == "" {
		return nil, false
	}
	if _, err := url.Parse(clean); err == nil {
		if clean != s {
			c.probs.fold(severityInfo, "uri-whitespace", "", path, fmt.Sprintf("URI %q had surrounding spaces; trimmed", s))
		}
		return clean, true
	}
	escaped := strings.ReplaceAll(clean, " ", "%20")
	if _, err := url.Parse(escaped); err == nil {
		c.probs.fold(severityInfo, "uri-whitespace", "", path, fmt.Sprintf("URI %q had spaces; percent-encoded", s))
		return escaped, true
	}
	c.probs.add(severityWarning, "invalid-uri", path, fmt.Sprintf("%q is not a URI; removed for the R4 parser", s))
	return nil, false
}

// genderSynonyms are the administrative-gender codes HIS exports use
// instead of FHIR's.
var genderSynonyms = map[string]string{
	"m": "male", "f": "female", "o": "other", "u": "unknown",
	"t": "other", "tg": "other", "transgender": "other", "un": "unknown",
}

// enumCode checks a code bound to a required value set, which
// google/fhir/go parses into an enum.
func (c *r4Cleaner) enumCode(s string, md protoreflect.MessageDescriptor, path string) (any, bool) {
	clean := strings.TrimSpace(s)
	if validEnumCode(md, clean) {
		if clean != s {
			c.probs.fold(severityInfo, "code-whitespace", "", path, fmt.Sprintf("code %q had extra whitespace; trimmed", s))
		}
		return clean, true
	}
	lower := strings.ToLower(clean)
	if validEnumCode(md, lower) {
		c.probs.fold(severityInfo, "code-case", "", path, fmt.Sprintf("code %q is case-sensitive; read as %q", s, lower))
		return lower, true
	}
	if g, ok := genderSynonyms[lower]; ok && validEnumCode(md, g) {
		c.probs.fold(severityInfo, "code-synonym", s, path, fmt.Sprintf("code %q read as %q", s, g))
		return g, true
	}
	c.probs.add(severityWarning, "invalid-code", path,
		fmt.Sprintf("code %q is not in the required value set (%s); removed for the R4 parser", s, md.Name()))
	return nil, false
}

func validEnumCode(md protoreflect.MessageDescriptor, code string) bool {
	f := md.Fields().ByName("value")
	if f == nil || f.Enum() == nil {
		return code != ""
	}
	name := strings.ReplaceAll(strings.ToUpper(code), "-", "_")
	if v := f.Enum().Values().ByName(protoreflect.Name(name)); v != nil && v.Number() != 0 {
		return true
	}
	vals := f.Enum().Values()
	for i := 0; i < vals.Len(); i++ {
		if proto.GetExtension(vals.Get(i).Options(), apb.E_FhirOriginalCode).(string) == code {
			return true
		}
	}
	return false
}

// number reads a JSON number, accepting a numeric string.
func (c *r4Cleaner) number(val any, name, path string) (json.Number, bool) {
	switch v := val.(type) {
	case json.Number:
		return v, true
	case string:
		t := strings.TrimSpace(v)
		if _, err := strconv.ParseFloat(t, 64); err == nil && t != "" && !strings.ContainsAny(t, "xXpPnN_") {
			c.probs.fold(severityInfo, "string-for-primitive", name, path, fmt.Sprintf("a %s written as a string; converted", strings.ToLower(name)))
			return json.Number(t), true
		}
	}
	return "", false
}

// text reads a JSON string, accepting numbers and booleans.
func (c *r4Cleaner) text(val any, name, path string) (string, bool) {
	switch v := val.(type) {
	case string:
		return v, true
	case json.Number:
		c.probs.fold(severityInfo, "number-for-string", name, path, fmt.Sprintf("a number where R4 has a %s; converted to text", strings.ToLower(name)))
		return string(v), true
	case bool:
		c.probs.fold(severityInfo, "number-for-string", name, path, fmt.Sprintf("a boolean where R4 has a %s; converted to text", strings.ToLower(name)))
		return strconv.FormatBool(v), true
	}
	return "", false
}

func (c *r4Cleaner) dropPrimitive(val any, name, path string) (any, bool) {
	c.probs.add(severityWarning, "wrong-json-type", path,
		fmt.Sprintf("%s is not a valid %s; removed for the R4 parser", shortJSON(val), strings.ToLower(name)))
	return nil, false
}

// noteRename remembers a rewritten resource id so references follow it.
func (c *r4Cleaner) noteRename(path, old, clean string) {
	// Only resource ids (path ends in "<Type>.id" or ".resource.id").
	if !strings.HasSuffix(path, ".id") {
		return
	}
	if c.renamed == nil {
		c.renamed = map[string]string{}
	}
	c.renamed[old] = clean
}

// fixReferences rewrites "Type/old-id" references and fullUrls after ids
// were rewritten.
func (c *r4Cleaner) fixReferences(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && (k == "reference" || k == "fullUrl") {
				if i := strings.LastIndexByte(s, '/'); i >= 0 {
					if clean, ok := c.renamed[s[i+1:]]; ok {
						t[k] = s[:i+1] + clean
					}
				}
				continue
			}
			c.fixReferences(x)
		}
	case []any:
		for _, x := range t {
			c.fixReferences(x)
		}
	}
}

func isChoiceMessage(md protoreflect.MessageDescriptor) bool {
	return md != nil && proto.HasExtension(md.Options(), apb.E_IsChoiceType)
}

func isPrimitiveMessage(md protoreflect.MessageDescriptor) bool {
	return proto.GetExtension(md.Options(), apb.E_StructureDefinitionKind).(apb.StructureDefinitionKindValue) ==
		apb.StructureDefinitionKindValue_KIND_PRIMITIVE_TYPE
}

func isResourceMessage(md protoreflect.MessageDescriptor) bool {
	return proto.GetExtension(md.Options(), apb.E_StructureDefinitionKind).(apb.StructureDefinitionKindValue) ==
		apb.StructureDefinitionKindValue_KIND_RESOURCE
}

func isIntegerText(s string) bool {
	s = strings.TrimPrefix(s, "-")
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

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func lowerFirstASCII(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]-'A'+'a') + s[1:]
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonTypeName(v)
	}
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
