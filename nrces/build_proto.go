package nrces

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Small constructors for google/fhir R4 datatypes. Each returns nil for an
// empty input, so optional elements stay absent instead of empty (R4 forbids
// empty values, and google/fhir would drop them anyway).

func pStr(s string) *d4.String {
	if s == "" {
		return nil
	}
	return &d4.String{Value: s}
}

func pURI(s string) *d4.Uri {
	if s == "" {
		return nil
	}
	return &d4.Uri{Value: s}
}

func pCode(s string) *d4.Code {
	if s == "" {
		return nil
	}
	return &d4.Code{Value: s}
}

func pID(s string) *d4.Id { return &d4.Id{Value: s} }

func pMarkdown(s string) *d4.Markdown {
	if s == "" {
		return nil
	}
	return &d4.Markdown{Value: s}
}

func pDecimal(s string) *d4.Decimal {
	if s == "" {
		return nil
	}
	return &d4.Decimal{Value: s}
}

func pPositiveInt(n int) *d4.PositiveInt {
	if n <= 0 {
		return nil
	}
	return &d4.PositiveInt{Value: uint32(n)}
}

func pUnsignedInt(n int) *d4.UnsignedInt {
	if n < 0 {
		return nil
	}
	return &d4.UnsignedInt{Value: uint32(n)}
}

// zoneOffset renders t's UTC offset as google/fhir wants it, "+05:30".
func zoneOffset(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// pDateTime is a dateTime to the second, in loc.
func pDateTime(t time.Time, loc *time.Location) *d4.DateTime {
	if t.IsZero() {
		return nil
	}
	t = t.In(loc).Truncate(time.Second)
	return &d4.DateTime{ValueUs: t.UnixMicro(), Timezone: zoneOffset(t), Precision: d4.DateTime_SECOND}
}

func pInstant(t time.Time, loc *time.Location) *d4.Instant {
	if t.IsZero() {
		return nil
	}
	t = t.In(loc).Truncate(time.Second)
	return &d4.Instant{ValueUs: t.UnixMicro(), Timezone: zoneOffset(t), Precision: d4.Instant_SECOND}
}

var partialDate = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

// pDate parses a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD).
func pDate(s string, loc *time.Location) (*d4.Date, error) {
	if s == "" {
		return nil, nil
	}
	if !partialDate.MatchString(s) {
		return nil, fmt.Errorf("date %q is not YYYY, YYYY-MM or YYYY-MM-DD", s)
	}
	layout, prec := "2006-01-02", d4.Date_DAY
	switch len(s) {
	case 4:
		layout, prec = "2006", d4.Date_YEAR
	case 7:
		layout, prec = "2006-01", d4.Date_MONTH
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return nil, fmt.Errorf("date %q: %w", s, err)
	}
	return &d4.Date{ValueUs: t.UnixMicro(), Timezone: zoneOffset(t), Precision: prec}, nil
}

func pCoding(c Coding) *d4.Coding {
	return &d4.Coding{System: pURI(c.System), Code: pCode(c.Code), Display: pStr(c.Display)}
}

func pConcept(c Concept) *d4.CodeableConcept {
	if c.IsZero() {
		return nil
	}
	cc := &d4.CodeableConcept{Text: pStr(c.Text)}
	for _, cd := range c.Codings {
		cc.Coding = append(cc.Coding, pCoding(cd))
	}
	return cc
}

func pConcepts(cs []Concept) []*d4.CodeableConcept {
	var out []*d4.CodeableConcept
	for _, c := range cs {
		if cc := pConcept(c); cc != nil {
			out = append(out, cc)
		}
	}
	return out
}

// pRef is a literal reference to a bundle entry by its urn:uuid fullUrl.
func pRef(url string) *d4.Reference {
	if url == "" {
		return nil
	}
	return &d4.Reference{Reference: &d4.Reference_Uri{Uri: &d4.String{Value: url}}}
}

// pTypedRef is a reference that also states the target type, as the closed
// section-entry slices of the record profiles require.
func pTypedRef(url, typ string) *d4.Reference {
	r := pRef(url)
	if r == nil {
		return nil
	}
	r.Type = pURI(typ)
	return r
}

// pDisplayRef is a reference by name only, for things the bundle does not
// hold (an immunization's manufacturer).
func pDisplayRef(display string) *d4.Reference {
	if display == "" {
		return nil
	}
	return &d4.Reference{Display: pStr(display)}
}

func pMeta(profile string) *d4.Meta {
	return &d4.Meta{Profile: []*d4.Canonical{{Value: profileBase + profile}}}
}

func pQuantity(q *Quantity) *d4.Quantity {
	if q == nil {
		return nil
	}
	out := &d4.Quantity{Value: pDecimal(q.Value), Unit: pStr(q.Unit), Code: pCode(q.Code)}
	if q.Code != "" {
		out.System = pURI(SystemUCUM)
	}
	return out
}

func pSimpleQuantity(q *Quantity) *d4.SimpleQuantity {
	if q == nil {
		return nil
	}
	out := &d4.SimpleQuantity{Value: pDecimal(q.Value), Unit: pStr(q.Unit), Code: pCode(q.Code)}
	if q.Code != "" {
		out.System = pURI(SystemUCUM)
	}
	return out
}

func pAnnotations(note string) []*d4.Annotation {
	if note == "" {
		return nil
	}
	return []*d4.Annotation{{Text: pMarkdown(note)}}
}

func pAttachment(f File, loc *time.Location) *d4.Attachment {
	a := &d4.Attachment{
		Language: pCode(f.Language),
		Data:     &d4.Base64Binary{Value: f.Data},
		Title:    pStr(f.Title),
		Creation: pDateTime(f.Created, loc),
	}
	if f.ContentType != "" {
		a.ContentType = &d4.Attachment_ContentTypeCode{Value: f.ContentType}
	}
	return a
}

func pIdentifier(typ Coding, system, value string) *d4.Identifier {
	id := &d4.Identifier{System: pURI(system), Value: pStr(value)}
	if typ.Code != "" {
		id.Type = &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(typ)}, Text: pStr(typ.Display)}
	}
	return id
}

// enumCode returns a google/fhir code message of type T (a required-binding
// code such as *MedicationRequest_StatusCode) set to a FHIR code string,
// matching the enum as jsonformat does: upper case with '-' as '_', else
// the value's original FHIR code.
func enumCode[T proto.Message](code string) (T, error) {
	var zero T
	m := zero.ProtoReflect().Type().New()
	f := m.Descriptor().Fields().ByName("value")
	if f == nil || f.Enum() == nil {
		return zero, fmt.Errorf("%s is not a code type", m.Descriptor().FullName())
	}
	values := f.Enum().Values()
	name := strings.ReplaceAll(strings.ToUpper(code), "-", "_")
	if v := values.ByName(protoreflect.Name(name)); v != nil && v.Number() != 0 {
		m.Set(f, protoreflect.ValueOfEnum(v.Number()))
		return m.Interface().(T), nil
	}
	for i := 0; i < values.Len(); i++ {
		v := values.Get(i)
		if orig, _ := proto.GetExtension(v.Options(), apb.E_FhirOriginalCode).(string); orig != "" && orig == code {
			m.Set(f, protoreflect.ValueOfEnum(v.Number()))
			return m.Interface().(T), nil
		}
	}
	return zero, fmt.Errorf("%q is not a valid %s", code, f.Enum().Parent().Name())
}
