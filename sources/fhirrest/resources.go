package fhirrest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/fhir/go/jsonformat"
	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// resourceOf unwraps a ContainedResource.
func resourceOf(cr *bcrpb.ContainedResource) protoreflect.Message {
	m := cr.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("oneof_resource"))
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message()
}

func typeOf(cr *bcrpb.ContainedResource) string {
	if r := resourceOf(cr); r != nil {
		return string(r.Descriptor().Name())
	}
	return ""
}

// get returns the message in field name of m, or nil when it is unset or
// not a message. Repeated fields give their first element.
func get(m protoreflect.Message, name string) protoreflect.Message {
	if m == nil {
		return nil
	}
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil || fd.Message() == nil || !m.Has(fd) {
		return nil
	}
	if fd.IsList() {
		l := m.Get(fd).List()
		if l.Len() == 0 {
			return nil
		}
		return l.Get(0).Message()
	}
	return m.Get(fd).Message()
}

// choice unwraps a choice-type container (e.g. Observation_EffectiveX).
func choice(m protoreflect.Message) protoreflect.Message {
	if m == nil {
		return nil
	}
	if od := m.Descriptor().Oneofs().ByName("choice"); od != nil {
		if fd := m.WhichOneof(od); fd != nil && fd.Message() != nil {
			return m.Get(fd).Message()
		}
		return nil
	}
	return m
}

func idOf(r protoreflect.Message) string {
	if id := get(r, "id"); id != nil {
		return id.Get(id.Descriptor().Fields().ByName("value")).String()
	}
	return ""
}

// timeOf reads a DateTime, Instant, Date or a Period's start.
func timeOf(m protoreflect.Message) (time.Time, bool) {
	m = choice(m)
	if m == nil {
		return time.Time{}, false
	}
	switch m.Descriptor().Name() {
	case "Period":
		return timeOf(get(m, "start"))
	case "DateTime", "Instant", "Date":
		f := m.Descriptor().Fields()
		us := m.Get(f.ByName("value_us")).Int()
		return time.UnixMicro(us).In(location(m.Get(f.ByName("timezone")).String())), true
	}
	return time.Time{}, false
}

// location reads jsonformat's time zone strings: "Z", "+05:30" or a name.
func location(tz string) *time.Location {
	if tz == "" || tz == "Z" || tz == "UTC" {
		return time.UTC
	}
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') {
		h, _ := strconv.Atoi(tz[1:3])
		m, _ := strconv.Atoi(tz[4:6])
		off := h*3600 + m*60
		if tz[0] == '-' {
			off = -off
		}
		return time.FixedZone(tz, off)
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// textOf reads a human label from a CodeableConcept (text, else the first
// coding's display or code), a String, or a choice holding one.
func textOf(m protoreflect.Message) string {
	m = choice(m)
	if m == nil {
		return ""
	}
	switch m.Descriptor().Name() {
	case "CodeableConcept":
		if t := stringOf(get(m, "text")); t != "" {
			return t
		}
		if c := get(m, "coding"); c != nil {
			if d := stringOf(get(c, "display")); d != "" {
				return d
			}
			return stringOf(get(c, "code"))
		}
	case "Coding":
		if d := stringOf(get(m, "display")); d != "" {
			return d
		}
		return stringOf(get(m, "code"))
	case "String", "Markdown":
		return stringOf(m)
	}
	return ""
}

func stringOf(m protoreflect.Message) string {
	if m == nil {
		return ""
	}
	if fd := m.Descriptor().Fields().ByName("value"); fd != nil && fd.Kind() == protoreflect.StringKind {
		return m.Get(fd).String()
	}
	return ""
}

// Where a care context's date and label are, by the first field a resource
// has.
var (
	dateFields    = []string{"period", "effective", "authored_on", "occurrence", "date", "issued", "started", "recorded_date"}
	displayFields = []string{"type", "code", "medication", "vaccine_code", "description", "service_type", "class_value"}
)

func (c *Connector) careContext(cc ContextConfig, cr *bcrpb.ContainedResource, patientID string) (sources.CareContext, bool) {
	r := resourceOf(cr)
	id := idOf(r)
	if r == nil || id == "" || patientID == "" {
		return sources.CareContext{}, false
	}
	out := sources.CareContext{Type: cc.Type, LocalID: id, PatientID: patientID, HIType: cc.HIType}
	out.Reference = sources.Reference(c.sys.Code, out.Ref())
	for _, f := range dateFields {
		if t, ok := timeOf(get(r, f)); ok {
			out.Date = t
			break
		}
	}
	for _, f := range displayFields {
		if t := textOf(get(r, f)); t != "" {
			out.Display = t
			break
		}
	}
	if out.Display == "" {
		out.Display = cc.Resource
	}
	if !out.Date.IsZero() {
		out.Display += ", " + out.Date.Format("2 Jan 2006")
	}
	if t, ok := timeOf(get(get(r, "meta"), "last_updated")); ok {
		out.Updated = t
	}
	return out, true
}

// patientOf is the server id of the patient a resource is about.
func patientOf(cr *bcrpb.ContainedResource) string {
	r := resourceOf(cr)
	for _, f := range []string{"subject", "patient"} {
		if ref := get(r, f); ref != nil {
			if typ, id := refTarget(ref.Interface().(*d4pb.Reference), ""); typ == "Patient" {
				return id
			}
		}
	}
	return ""
}

var relativeRE = regexp.MustCompile(`^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/.*)?$`)

// refTarget reads "Type/id" out of a reference, typed or literal, relative
// or absolute on base.
func refTarget(ref *d4pb.Reference, base string) (typ, id string) {
	_ = jsonformat.DenormalizeReference(ref)
	u := ref.GetUri().GetValue()
	if base != "" {
		u = strings.TrimPrefix(u, base+"/")
	}
	if m := relativeRE.FindStringSubmatch(u); m != nil {
		return m[1], m[2]
	}
	return "", ""
}

// rewrite gives every resource its name-based UUID, points references
// between server resources at those UUIDs, and drops Patient resources.
func (c *Connector) rewrite(in []*bcrpb.ContainedResource) []*bcrpb.ContainedResource {
	base := c.base.String()
	newID := func(typ, id string) string { return sources.ResourceID(c.sys.FacilityHFRID, c.sys.Code, typ+"/"+id) }
	var out []*bcrpb.ContainedResource
	seen := map[string]bool{}
	for _, cr := range in {
		r := resourceOf(cr)
		typ, id := string(r.Descriptor().Name()), idOf(r)
		if typ == "Patient" || id == "" || seen[typ+"/"+id] {
			continue
		}
		seen[typ+"/"+id] = true
		idField := r.Descriptor().Fields().ByName("id")
		idMsg := r.Mutable(idField).Message()
		idMsg.Set(idMsg.Descriptor().Fields().ByName("value"), protoreflect.ValueOfString(newID(typ, id)))
		walkReferences(r, func(ref *d4pb.Reference) {
			if t, rid := refTarget(ref, base); t != "" {
				ref.Reference = &d4pb.Reference_Uri{Uri: &d4pb.String{Value: "urn:uuid:" + newID(t, rid)}}
			}
		})
		out = append(out, cr)
	}
	return out
}

const referenceName = "google.fhir.r4.core.Reference"

// walkReferences calls fn on every Reference inside m.
func walkReferences(m protoreflect.Message, fn func(*d4pb.Reference)) {
	if m.Descriptor().FullName() == referenceName {
		if ref, ok := m.Interface().(*d4pb.Reference); ok {
			fn(ref)
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkReferences(l.Get(i).Message(), fn)
			}
		default:
			walkReferences(v.Message(), fn)
		}
		return true
	})
}

// patient maps a Patient resource to a source record.
func (c *Connector) patient(cr *bcrpb.ContainedResource) patients.SourceRecord {
	p := cr.GetPatient()
	if p == nil {
		return patients.SourceRecord{}
	}
	rec := patients.SourceRecord{FacilityID: c.sys.FacilityID, SourceSystemID: c.sys.ID, LocalID: p.GetId().GetValue()}
	if len(p.GetName()) > 0 {
		n := p.GetName()[0]
		rec.Name = n.GetText().GetValue()
		if rec.Name == "" {
			var parts []string
			for _, g := range n.GetGiven() {
				parts = append(parts, g.GetValue())
			}
			parts = append(parts, n.GetFamily().GetValue())
			rec.Name = strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
		}
	}
	switch p.GetGender().GetValue().String() {
	case "MALE":
		rec.Gender = "M"
	case "FEMALE":
		rec.Gender = "F"
	case "OTHER":
		rec.Gender = "O"
	default:
		rec.Gender = "U"
	}
	if bd := p.GetBirthDate(); bd != nil {
		t := time.UnixMicro(bd.GetValueUs()).In(location(bd.GetTimezone()))
		rec.BirthYear = t.Year()
		if bd.GetPrecision() == d4pb.Date_DAY {
			rec.BirthDate = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
	}
	for _, t := range p.GetTelecom() {
		if s := t.GetSystem().GetValue().String(); (s == "PHONE" || s == "SMS") && rec.Mobile == "" {
			rec.Mobile = t.GetValue().GetValue()
		}
	}
	if len(p.GetAddress()) > 0 {
		a := p.GetAddress()[0]
		rec.Address = a.GetText().GetValue()
		if rec.Address == "" {
			var parts []string
			for _, l := range a.GetLine() {
				parts = append(parts, l.GetValue())
			}
			if city := a.GetCity().GetValue(); city != "" {
				parts = append(parts, city)
			}
			rec.Address = strings.Join(parts, ", ")
		}
		rec.PinCode = a.GetPostalCode().GetValue()
	}
	for _, id := range p.GetIdentifier() {
		switch id.GetSystem().GetValue() {
		case c.cfg.ABHANumberSystem:
			rec.ABHANumber = id.GetValue().GetValue()
		case c.cfg.ABHAAddressSystem:
			rec.ABHAAddress = id.GetValue().GetValue()
		}
	}
	return rec
}

// String names the connector in logs.
func (c *Connector) String() string {
	return fmt.Sprintf("fhir source %s (%s)", c.sys.Code, c.base.Host)
}
