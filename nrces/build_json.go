package nrces

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// pjWriter writes google/fhir R4 resources as FHIR JSON, byte for byte
// as jsonformat.Marshaller (pure FHIR JSON, no indent) writes them, for the
// shapes the builder makes. jsonformat builds a map per element, reads each
// descriptor's options on every field and resolves every date-time's zone
// with time.LoadLocation; this writes straight into one buffer from
// descriptor facts it learns once, in about a fifth of the time
// (BenchmarkBuildSteps).
//
// Anything it does not handle the same way (primitive ids and extensions,
// contained resources, typed and fragment references, malformed values
// jsonformat would refuse) gives an error wrapping errPJUnsupported, and
// Build falls back to jsonformat.
// TestJSONWriterMatchesJSONFormat holds the two equal on every record type
// and on the IG's examples.
type pjWriter struct {
	infos sync.Map // protoreflect.FullName -> *pjMsgInfo
	zones sync.Map // zone name -> *time.Location
}

var errPJUnsupported = errors.New("shape left to jsonformat")

func pjUnsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errPJUnsupported}, args...)...)
}

type pjKind uint8

const (
	pjMessage   pjKind = iota
	pjChoice           // a value[x]-style choice: written under the chosen type's name
	pjReference        // Reference: only the urn/url form (uri) is handled
	pjContained        // ContainedResource: the resource with its resourceType
	pjOther            // google.protobuf.Any and anything unexpected
	pjString           // primitives written as their string value
	pjRaw              // Boolean, Integer, PositiveInt, UnsignedInt
	pjDecimal
	pjBase64
	pjDate
	pjDateTime
	pjInstant
	pjTime
	pjEnumCode   // required-binding codes held as enums
	pjStringCode // codes held as strings
)

type pjMsgInfo struct {
	kind      pjKind
	value     protoreflect.FieldDescriptor // primitives
	id, ext   protoreflect.FieldDescriptor // primitives: set ones are left to jsonformat
	oneof     protoreflect.OneofDescriptor // choices, references, contained resources
	refURI    protoreflect.FieldDescriptor
	enumCodes map[protoreflect.EnumNumber]string
	fields    []atomic.Pointer[pjField] // by field index, learnt on first use
}

func (in *pjMsgInfo) primitive() bool { return in.kind >= pjString }

func (w *pjWriter) info(d protoreflect.MessageDescriptor) *pjMsgInfo {
	if v, ok := w.infos.Load(d.FullName()); ok {
		return v.(*pjMsgInfo)
	}
	v, _ := w.infos.LoadOrStore(d.FullName(), newPJMsgInfo(d))
	return v.(*pjMsgInfo)
}

// newPJMsgInfo classifies a message type as jsonformat's marshaller does
// on every value (a type is at most one of these): primitive, by name;
// choice; contained resource; Any; reference; else a plain element.
func newPJMsgInfo(d protoreflect.MessageDescriptor) *pjMsgInfo {
	fields := d.Fields()
	in := &pjMsgInfo{kind: pjMessage, fields: make([]atomic.Pointer[pjField], fields.Len())}
	opts := d.Options()
	switch {
	case d.FullName() == "google.protobuf.Any":
		in.kind = pjOther
	case proto.GetExtension(opts, apb.E_StructureDefinitionKind).(apb.StructureDefinitionKindValue) == apb.StructureDefinitionKindValue_KIND_PRIMITIVE_TYPE:
		in.value, in.id, in.ext = fields.ByName("value"), fields.ByName("id"), fields.ByName("extension")
		in.kind = pjPrimitiveKind(d, in.value)
		timeKind := in.kind == pjDate || in.kind == pjDateTime || in.kind == pjInstant || in.kind == pjTime
		if in.id == nil || in.ext == nil || (in.value == nil && !timeKind) {
			in.kind = pjOther // jsonformat would refuse or treat it apart
		}
		if in.kind == pjEnumCode {
			in.enumCodes = map[protoreflect.EnumNumber]string{}
			vals := in.value.Enum().Values()
			for i := 0; i < vals.Len(); i++ {
				v := vals.Get(i)
				code, _ := proto.GetExtension(v.Options(), apb.E_FhirOriginalCode).(string)
				if code == "" {
					code = strings.ReplaceAll(strings.ToLower(string(v.Name())), "_", "-")
				}
				in.enumCodes[v.Number()] = code
			}
		}
	case proto.GetExtension(opts, apb.E_IsChoiceType).(bool):
		in.kind = pjChoice
		if d.Oneofs().Len() != 1 {
			in.kind = pjOther
		} else {
			in.oneof = d.Oneofs().Get(0)
		}
	case d.Name() == "ContainedResource":
		in.kind = pjContained
		if d.Oneofs().Len() != 1 {
			in.kind = pjOther
		} else {
			in.oneof = d.Oneofs().Get(0)
		}
	case proto.HasExtension(opts, apb.E_FhirReferenceType):
		in.kind = pjReference
		in.oneof = d.Oneofs().ByName("reference")
		in.refURI = fields.ByName("uri")
		if in.oneof == nil || in.refURI == nil {
			in.kind = pjOther
		}
	}
	return in
}

func pjPrimitiveKind(d protoreflect.MessageDescriptor, value protoreflect.FieldDescriptor) pjKind {
	switch d.Name() {
	case "Base64Binary":
		return pjBase64
	case "Canonical", "Code", "Markdown", "Oid", "String", "Uri", "Url", "Uuid", "Xhtml", "ReferenceId", "Id":
		if value == nil || value.Kind() != protoreflect.StringKind {
			return pjOther
		}
		return pjString
	case "Boolean", "Integer", "PositiveInt", "UnsignedInt":
		return pjRaw
	case "Decimal":
		return pjDecimal
	case "Date":
		return pjDate
	case "DateTime":
		return pjDateTime
	case "Time":
		return pjTime
	case "Instant":
		return pjInstant
	}
	if !proto.HasExtension(d.Options(), apb.E_FhirValuesetUrl) || value == nil {
		return pjOther
	}
	switch value.Kind() {
	case protoreflect.StringKind:
		return pjStringCode
	case protoreflect.EnumKind:
		return pjEnumCode
	}
	return pjOther
}

func pjSnakeToLowerCamel(s string) string {
	var b strings.Builder
	upper := true
	for _, c := range s {
		switch {
		case c == '_':
			upper = true
		case upper:
			upper = false
			b.WriteRune(unicode.ToUpper(c))
		default:
			b.WriteRune(unicode.ToLower(c))
		}
	}
	out := b.String()
	if out == "" {
		return out
	}
	return strings.ToLower(out[:1]) + out[1:]
}

func pjCamelToSnake(s string) string {
	var b strings.Builder
	for _, c := range s {
		if !unicode.IsLower(c) && b.Len() > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// resource writes a resource with its resourceType.
func (w *pjWriter) resource(m protoreflect.Message) ([]byte, error) {
	st := &pjState{w: w}
	d := m.Descriptor()
	return st.object(make([]byte, 0, 16<<10), m, w.info(d), string(d.Name()))
}

// pjField is what the writer knows of one field of a message type.
type pjField struct {
	key     string     // its JSON name
	info    *pjMsgInfo // its type
	choices []string   // for a choice: the JSON name of each type, by field index
}

// field returns what the writer knows of fd, a field of the type in
// describes, learning it on first use.
func (w *pjWriter) field(in *pjMsgInfo, fd protoreflect.FieldDescriptor) *pjField {
	slot := &in.fields[fd.Index()]
	if f := slot.Load(); f != nil {
		return f
	}
	f := &pjField{key: fd.JSONName()}
	if fd.Message() != nil {
		f.info = w.info(fd.Message())
		if f.info.kind == pjChoice {
			cs := fd.Message().Fields()
			f.choices = make([]string, cs.Len())
			for i := range f.choices {
				// jsonformat's name for a chosen type, e.g. valueQuantity.
				f.choices[i] = pjSnakeToLowerCamel(string(fd.Name()) + "_" + pjCamelToSnake(cs.Get(i).JSONName()))
			}
		}
	}
	slot.Store(f)
	return f
}

// pjState is one resource being written.
type pjState struct {
	w       *pjWriter
	members []pjMember // a stack: each object's members above its parent's
}

// pjMember is one member of an object being written.
type pjMember struct {
	key  string
	fd   protoreflect.FieldDescriptor // nil for resourceType
	info *pjMsgInfo
	v    protoreflect.Value
}

// object writes m's set fields as an object with its keys sorted, as
// encoding/json writes jsonformat's maps.
func (st *pjState) object(buf []byte, m protoreflect.Message, in *pjMsgInfo, resourceType string) ([]byte, error) {
	w := st.w
	base := len(st.members)
	defer func() { st.members = st.members[:base] }()
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			err = pjUnsupported("field %s is not a message", fd.FullName())
			return false
		}
		f := w.field(in, fd)
		key, fin := f.key, f.info
		switch fd.Cardinality() {
		case protoreflect.Repeated:
			if fin.kind == pjEnumCode {
				set, perr := anyCode(fin, v.List())
				if perr != nil {
					err = perr
					return false
				}
				if !set {
					return true // jsonformat drops a list of unset codes
				}
			}
		case protoreflect.Optional:
			if fin.kind == pjChoice {
				chosen := v.Message().WhichOneof(fin.oneof)
				if chosen == nil || chosen.Message() == nil {
					err = pjUnsupported("choice %s has nothing chosen", fd.FullName())
					return false
				}
				key = f.choices[chosen.Index()]
				v = v.Message().Get(chosen)
				fd, fin = chosen, w.field(fin, chosen).info
			}
			if fin.kind == pjEnumCode && v.Message().Get(fin.value).Enum() == 0 {
				if err = plainPrimitive(fin, v.Message()); err != nil {
					return false
				}
				return true // an unset code is left out
			}
		default:
			err = pjUnsupported("field %s is required", fd.FullName())
			return false
		}
		st.members = append(st.members, pjMember{key: key, fd: fd, info: fin, v: v})
		return true
	})
	if err != nil {
		return buf, err
	}
	if resourceType != "" {
		st.members = append(st.members, pjMember{key: "resourceType"})
	}
	slices.SortFunc(st.members[base:], func(a, b pjMember) int { return strings.Compare(a.key, b.key) })
	buf = append(buf, '{')
	// Indexed, not ranged: writing a member pushes its own members, which
	// may move the stack.
	for i := base; i < len(st.members); i++ {
		mb := st.members[i]
		if i > base {
			buf = append(buf, ',')
		}
		buf = pjAppendString(buf, mb.key)
		buf = append(buf, ':')
		switch {
		case mb.fd == nil:
			buf = pjAppendString(buf, resourceType)
		case mb.fd.Cardinality() == protoreflect.Repeated:
			list := mb.v.List()
			buf = append(buf, '[')
			for j := 0; j < list.Len(); j++ {
				if j > 0 {
					buf = append(buf, ',')
				}
				if buf, err = st.value(buf, list.Get(j).Message(), mb.info); err != nil {
					return buf, err
				}
			}
			buf = append(buf, ']')
		default:
			if buf, err = st.value(buf, mb.v.Message(), mb.info); err != nil {
				return buf, err
			}
		}
	}
	return append(buf, '}'), nil
}

// anyCode reports whether a list of codes has one set; a code with an id
// or extensions is left to jsonformat, set or not.
func anyCode(in *pjMsgInfo, list protoreflect.List) (bool, error) {
	set := false
	for i := 0; i < list.Len(); i++ {
		m := list.Get(i).Message()
		if err := plainPrimitive(in, m); err != nil {
			return false, err
		}
		if m.Get(in.value).Enum() != 0 {
			set = true
		}
	}
	return set, nil
}

// plainPrimitive refuses a primitive with an id or extensions: jsonformat
// writes those as a "_name" sibling (and treats some extensions specially).
func plainPrimitive(in *pjMsgInfo, m protoreflect.Message) error {
	if m.Has(in.id) || m.Get(in.ext).List().Len() > 0 {
		return pjUnsupported("%s has an id or extensions", m.Descriptor().FullName())
	}
	return nil
}

// value writes one element of type in.
func (st *pjState) value(buf []byte, m protoreflect.Message, in *pjMsgInfo) ([]byte, error) {
	// The commonest primitives, read without reflection.
	switch p := m.Interface().(type) {
	case *d4.String:
		if p.Id != nil || len(p.Extension) > 0 {
			return buf, pjUnsupported("string with an id or extensions")
		}
		return pjAppendString(buf, p.Value), nil
	case *d4.Uri:
		if p.Id != nil || len(p.Extension) > 0 {
			return buf, pjUnsupported("uri with an id or extensions")
		}
		return pjAppendString(buf, p.Value), nil
	case *d4.Code:
		if p.Id != nil || len(p.Extension) > 0 {
			return buf, pjUnsupported("code with an id or extensions")
		}
		return pjAppendString(buf, p.Value), nil
	}
	if in.primitive() {
		if err := plainPrimitive(in, m); err != nil {
			return buf, err
		}
	}
	switch in.kind {
	case pjMessage, pjChoice:
		// A choice inside a list is written as a plain element, as
		// jsonformat does; FHIR has no such lists.
		return st.object(buf, m, in, "")
	case pjReference:
		if chosen := m.WhichOneof(in.oneof); chosen != nil && chosen != in.refURI {
			return buf, pjUnsupported("reference by %s", chosen.Name())
		}
		return st.object(buf, m, in, "")
	case pjContained:
		chosen := m.WhichOneof(in.oneof)
		if chosen == nil || chosen.Message() == nil {
			return buf, pjUnsupported("empty contained resource")
		}
		r := m.Get(chosen).Message()
		return st.object(buf, r, st.w.field(in, chosen).info, string(r.Descriptor().Name()))
	case pjString, pjStringCode:
		return pjAppendString(buf, m.Get(in.value).String()), nil
	case pjEnumCode:
		n := m.Get(in.value).Enum()
		if n == 0 {
			return append(buf, "null"...), nil // in a list; jsonformat writes null
		}
		code, ok := in.enumCodes[n]
		if !ok {
			return buf, pjUnsupported("%s has no code %d", m.Descriptor().FullName(), n)
		}
		return pjAppendString(buf, code), nil
	case pjRaw:
		v := m.Get(in.value)
		switch in.value.Kind() {
		case protoreflect.BoolKind:
			return strconv.AppendBool(buf, v.Bool()), nil
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind, protoreflect.Int64Kind:
			return strconv.AppendInt(buf, v.Int(), 10), nil
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind:
			return strconv.AppendUint(buf, v.Uint(), 10), nil
		}
		return buf, pjUnsupported("%s value of kind %s", m.Descriptor().FullName(), in.value.Kind())
	case pjDecimal:
		s := m.Get(in.value).String()
		if !pjNumber(s) {
			return buf, pjUnsupported("decimal %q is not a JSON number", s)
		}
		return append(buf, s...), nil
	case pjBase64:
		data := m.Get(in.value).Bytes()
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, data)
		return append(buf, '"'), nil
	case pjDate, pjDateTime, pjInstant, pjTime:
		return st.w.appendTime(buf, m.Interface())
	}
	return buf, pjUnsupported("%s", m.Descriptor().FullName())
}

// appendTime writes a date, dateTime, instant or time as jsonformat
// does: the instant in the value's zone, to its precision.
func (w *pjWriter) appendTime(buf []byte, m proto.Message) ([]byte, error) {
	var (
		us     int64
		tz     string
		layout string
	)
	const (
		secs, millis, micros    = "2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05.000-07:00", "2006-01-02T15:04:05.000000-07:00"
		secsZ, millisZ, microsZ = "2006-01-02T15:04:05Z", "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05.000000Z"
		year, month, day        = "2006", "2006-01", "2006-01-02"
		tsecs, tmillis, tmicros = "15:04:05", "15:04:05.000", "15:04:05.000000"
	)
	// jsonformat writes "Z" rather than "+00:00" only for the zone "Z".
	pick := func(utc bool, s, sz string) string {
		if utc {
			return sz
		}
		return s
	}
	switch v := m.(type) {
	case *d4.Date:
		us, tz = v.GetValueUs(), v.GetTimezone()
		switch v.GetPrecision() {
		case d4.Date_YEAR:
			layout = year
		case d4.Date_MONTH:
			layout = month
		case d4.Date_DAY:
			layout = day
		}
	case *d4.DateTime:
		us, tz = v.GetValueUs(), v.GetTimezone()
		switch v.GetPrecision() {
		case d4.DateTime_YEAR:
			layout = year
		case d4.DateTime_MONTH:
			layout = month
		case d4.DateTime_DAY:
			layout = day
		case d4.DateTime_SECOND:
			layout = pick(tz == "Z", secs, secsZ)
		case d4.DateTime_MILLISECOND:
			layout = pick(tz == "Z", millis, millisZ)
		case d4.DateTime_MICROSECOND:
			layout = pick(tz == "Z", micros, microsZ)
		}
	case *d4.Instant:
		us, tz = v.GetValueUs(), v.GetTimezone()
		switch v.GetPrecision() {
		case d4.Instant_SECOND:
			layout = pick(tz == "Z", secs, secsZ)
		case d4.Instant_MILLISECOND:
			layout = pick(tz == "Z", millis, millisZ)
		case d4.Instant_MICROSECOND:
			layout = pick(tz == "Z", micros, microsZ)
		}
	case *d4.Time:
		us, tz = v.GetValueUs(), "Z"
		switch v.GetPrecision() {
		case d4.Time_SECOND:
			layout = tsecs
		case d4.Time_MILLISECOND:
			layout = tmillis
		case d4.Time_MICROSECOND:
			layout = tmicros
		}
	default:
		return buf, pjUnsupported("time type %T", m)
	}
	if layout == "" {
		return buf, pjUnsupported("%T without a valid precision", m)
	}
	loc, err := w.zone(tz)
	if err != nil {
		return buf, err
	}
	buf = append(buf, '"')
	buf = time.UnixMicro(us).In(loc).AppendFormat(buf, layout)
	return append(buf, '"'), nil
}

// zone is the location jsonformat resolves a timezone string to: UTC for
// "Z", a fixed zone for an offset such as "+05:30" (no zone file has that
// name, so jsonformat's LoadLocation fails and it falls back to the
// offset), else what time.LoadLocation gives for the name, kept for the
// next value instead of read again.
func (w *pjWriter) zone(tz string) (*time.Location, error) {
	switch tz {
	case "Z", "UTC", "":
		return time.UTC, nil
	}
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' && pjDigits(tz[1:3]) && pjDigits(tz[4:6]) {
		h, _ := strconv.Atoi(tz[1:3])
		m, _ := strconv.Atoi(tz[4:6])
		off := h*3600 + m*60
		if tz[0] == '-' {
			off = -off
		}
		return time.FixedZone(tz, off), nil
	}
	if tz[0] == '+' || tz[0] == '-' {
		return nil, pjUnsupported("timezone offset %q", tz) // jsonformat's lenient reading of offsets
	}
	if loc, ok := w.zones.Load(tz); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, pjUnsupported("timezone %q", tz)
	}
	w.zones.Store(tz, loc)
	return loc, nil
}

func pjDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// pjNumber reports whether s is exactly one JSON number token, which
// encoding/json copies through unchanged.
func pjNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// pjAppendString writes s as encoding/json does with HTML escaping off
// (jsonformat's setting). Text needing no escapes is copied; the rest goes
// through encoding/json itself.
func pjAppendString(buf []byte, s string) []byte {
	plain := true
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			plain = false
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if plain && !ascii && (!utf8.ValidString(s) || strings.ContainsRune(s, '\u2028') || strings.ContainsRune(s, '\u2029')) {
		plain = false
	}
	if plain {
		buf = append(buf, '"')
		buf = append(buf, s...)
		return append(buf, '"')
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}
