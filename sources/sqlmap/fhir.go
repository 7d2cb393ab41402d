package sqlmap

import (
	"fmt"
	"strings"
	"time"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	condpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/condition_go_proto"
	drpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/diagnostic_report_go_proto"
	docpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/document_reference_go_proto"
	encpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/encounter_go_proto"
	ispb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/imaging_study_go_proto"
	mrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/medication_request_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	practpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/practitioner_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sangamhealth/sangam/sources"
)

// Code systems the builders write.
const (
	systemActCode        = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	systemConditionCat   = "http://terminology.hl7.org/CodeSystem/condition-category"
	systemConditionClin  = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	systemObsCategory    = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	systemV20074         = "http://terminology.hl7.org/CodeSystem/v2-0074"
	systemV20203         = "http://terminology.hl7.org/CodeSystem/v2-0203"
	systemUCUM           = "http://unitsofmeasure.org"
	systemDICOMUID       = "urn:dicom:uid"
)

// builder turns one care context's rows into FHIR resources. Resources are
// emitted in the mapping's order, rows in the query's order, then the
// practitioners they name; references are linked once everything is built.
type builder struct {
	m       *Mapping
	seed    []string // facility, system, context type, local id
	patient *d4pb.Reference

	out           []*bcrpb.ContainedResource
	encounters    []string
	linkEncounter []func(*d4pb.Reference)
	reports       []*report
	observations  []*observation
	studies       map[string]string // key -> id
	practitioners []*practpb.Practitioner
	practByName   map[string]string
	invoices      []*invoice
	charges       []*charge
}

type report struct {
	key, study string
	r          *drpb.DiagnosticReport
}

type observation struct {
	id, report string
}

func newBuilder(m *Mapping, seed []string, patientID string) *builder {
	return &builder{m: m, seed: seed, patient: ref(patientID), studies: map[string]string{}, practByName: map[string]string{}}
}

func (b *builder) id(resource, key string) string {
	return sources.ResourceID(append(append([]string{}, b.seed...), resource, key)...)
}

// add builds one resource from a row.
func (b *builder) add(res *Resource, rw row) error {
	r := resolver{m: b.m, row: rw}
	fs, defs := res.Fields, resourceFields[res.Type]
	key := r.text(fs, "key")
	if key == "" {
		return fmt.Errorf("%s: a row has no key", res.Query.Name)
	}
	id := b.id(res.Type, key)
	var cr *bcrpb.ContainedResource
	switch res.Type {
	case "Encounter":
		cr = b.encounter(r, fs, defs, id)
	case "Condition":
		cr = b.condition(r, fs, defs, id)
	case "Observation":
		cr = b.observation(r, fs, defs, id)
	case "DiagnosticReport":
		cr = b.diagnosticReport(r, fs, defs, id, key)
	case "ImagingStudy":
		cr = b.imagingStudy(r, fs, defs, id, key)
	case "MedicationRequest":
		cr = b.medicationRequest(r, fs, defs, id)
	case "DocumentReference":
		cr = b.documentReference(r, fs, defs, id)
	case "Procedure":
		cr = b.procedure(r, fs, defs, id)
	case "Invoice":
		var err error
		if cr, err = b.invoice(r, fs, defs, id, key); err != nil {
			return fmt.Errorf("%s: %w", res.Query.Name, err)
		}
	case "ChargeItem":
		cr = b.chargeItem(r, fs, defs, id)
	default:
		return fmt.Errorf("%s: no builder for %s", res.Query.Name, res.Type)
	}
	b.out = append(b.out, cr)
	return nil
}

// finish links references between the built resources and returns them.
func (b *builder) finish() []*bcrpb.ContainedResource {
	// Everything in a care context happened in its encounter when there is
	// exactly one; with none or several, nothing is guessed.
	if len(b.encounters) == 1 {
		for _, set := range b.linkEncounter {
			set(ref(b.encounters[0]))
		}
	}
	for _, rep := range b.reports {
		for _, o := range b.observations {
			// An observation names its report; one that names none belongs
			// to the only report, if there is exactly one.
			if o.report == rep.key || o.report == "" && len(b.reports) == 1 {
				rep.r.Result = append(rep.r.Result, ref(o.id))
			}
		}
		if id, ok := b.studies[rep.study]; ok && rep.study != "" {
			rep.r.ImagingStudy = append(rep.r.ImagingStudy, ref(id))
		}
	}
	b.linkCharges()
	for _, p := range b.practitioners {
		b.out = append(b.out, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Practitioner{Practitioner: p}})
	}
	return b.out
}

// practitioner returns a reference to the Practitioner named name, adding
// it on first use. Sources name people, not ids, so a name is the key.
func (b *builder) practitioner(name string) *d4pb.Reference {
	if id, ok := b.practByName[name]; ok {
		return refDisplay(id, name)
	}
	id := sources.ResourceID(b.seed[0], b.seed[1], "Practitioner", name)
	b.practByName[name] = id
	b.practitioners = append(b.practitioners, &practpb.Practitioner{
		Id:   &d4pb.Id{Value: id},
		Name: []*d4pb.HumanName{{Text: str(name)}},
	})
	return refDisplay(id, name)
}

func (b *builder) encounter(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	e := &encpb.Encounter{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &encpb.Encounter_StatusCode{}}
	setEnum(e.Status, r.code(fs, "status", defs["status"]))
	class := r.code(fs, "class", defs["class"])
	e.ClassValue = &d4pb.Coding{System: uri(systemActCode), Code: code(class), Display: str(actDisplay[class])}
	if c, ok := r.coding(fs, "type"); ok {
		e.Type = []*d4pb.CodeableConcept{cc(c)}
	}
	if c, ok := r.coding(fs, "reason"); ok {
		e.ReasonCode = []*d4pb.CodeableConcept{cc(c)}
	}
	e.Period = &d4pb.Period{}
	if s, ok := r.time(fs, "start"); ok {
		e.Period.Start = dateTime(s)
	}
	if s, ok := r.time(fs, "end"); ok {
		e.Period.End = dateTime(s)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		e.Participant = []*encpb.Encounter_Participant{{Individual: b.practitioner(name)}}
	}
	if v := r.text(fs, "identifier"); v != "" {
		ident := &d4pb.Identifier{Value: str(v)}
		if sys := r.text(fs, "identifier_system"); sys != "" {
			ident.System = uri(sys)
		}
		e.Identifier = []*d4pb.Identifier{ident}
	}
	b.encounters = append(b.encounters, id)
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Encounter{Encounter: e}}
}

var actDisplay = map[string]string{"AMB": "ambulatory", "IMP": "inpatient encounter", "EMER": "emergency", "HH": "home health", "VR": "virtual", "SS": "short stay", "ACUTE": "inpatient acute", "NONAC": "inpatient non-acute", "OBSENC": "observation encounter", "PRENC": "pre-admission", "FLD": "field"}

func (b *builder) condition(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	c := &condpb.Condition{Id: &d4pb.Id{Value: id}, Subject: b.patient}
	if k, ok := r.coding(fs, "code"); ok {
		c.Code = cc(k)
	}
	cat := r.code(fs, "category", defs["category"])
	c.Category = []*d4pb.CodeableConcept{cc(concept{codings: []coding{{systemConditionCat, cat, map[string]string{"encounter-diagnosis": "Encounter Diagnosis", "problem-list-item": "Problem List Item"}[cat]}}})}
	clin := r.code(fs, "clinical_status", defs["clinical_status"])
	c.ClinicalStatus = cc(concept{codings: []coding{{system: systemConditionClin, code: clin}}})
	if s, ok := r.time(fs, "recorded"); ok {
		c.RecordedDate = dateTime(s)
	}
	if s, ok := r.time(fs, "onset"); ok {
		c.Onset = &condpb.Condition_OnsetX{Choice: &condpb.Condition_OnsetX_DateTime{DateTime: dateTime(s)}}
	}
	if n := r.text(fs, "note"); n != "" {
		c.Note = []*d4pb.Annotation{{Text: &d4pb.Markdown{Value: n}}}
	}
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { c.Encounter = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Condition{Condition: c}}
}

func (b *builder) observation(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	o := &obspb.Observation{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &obspb.Observation_StatusCode{}}
	setEnum(o.Status, r.code(fs, "status", defs["status"]))
	if k, ok := r.coding(fs, "code"); ok {
		o.Code = cc(k)
	}
	if fs["category"] != nil {
		cat := r.code(fs, "category", defs["category"])
		o.Category = []*d4pb.CodeableConcept{cc(concept{codings: []coding{{systemObsCategory, cat, categoryDisplay[cat]}}})}
	}
	unit, hasUnit := r.coding(fs, "unit")
	quantity := func(v string) *d4pb.Quantity {
		q := &d4pb.Quantity{Value: &d4pb.Decimal{Value: v}}
		if hasUnit {
			q.Unit = str(unit.text)
			for _, c := range unit.codings {
				if c.system == systemUCUM {
					q.System, q.Code, q.Unit = uri(systemUCUM), code(c.code), str(c.code)
				}
			}
		}
		return q
	}
	simple := func(v string) *d4pb.SimpleQuantity {
		q := quantity(v)
		return &d4pb.SimpleQuantity{Value: q.Value, Unit: q.Unit, System: q.System, Code: q.Code}
	}
	if v, ok := r.decimal(fs, "value"); ok {
		o.Value = &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Quantity{Quantity: quantity(v)}}
	} else if t := r.text(fs, "value_text"); t != "" {
		o.Value = &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_StringValue{StringValue: str(t)}}
	}
	var rr obspb.Observation_ReferenceRange
	if v, ok := r.decimal(fs, "ref_low"); ok {
		rr.Low = simple(v)
	}
	if v, ok := r.decimal(fs, "ref_high"); ok {
		rr.High = simple(v)
	}
	if t := r.text(fs, "ref_text"); t != "" {
		rr.Text = str(t)
	}
	if rr.Low != nil || rr.High != nil || rr.Text != nil {
		o.ReferenceRange = []*obspb.Observation_ReferenceRange{&rr}
	}
	if in := r.code(fs, "interpretation", defs["interpretation"]); in != "" {
		o.Interpretation = []*d4pb.CodeableConcept{cc(concept{codings: []coding{{systemInterpretation, in, interpretationDisplay[in]}}})}
	}
	if s, ok := r.time(fs, "effective"); ok {
		o.Effective = &obspb.Observation_EffectiveX{Choice: &obspb.Observation_EffectiveX_DateTime{DateTime: dateTime(s)}}
	}
	if s, ok := r.time(fs, "issued"); ok {
		o.Issued = instant(s)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		o.Performer = []*d4pb.Reference{b.practitioner(name)}
	}
	b.observations = append(b.observations, &observation{id: id, report: r.text(fs, "report")})
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { o.Encounter = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Observation{Observation: o}}
}

var categoryDisplay = map[string]string{"laboratory": "Laboratory", "vital-signs": "Vital Signs", "exam": "Exam", "imaging": "Imaging", "social-history": "Social History", "survey": "Survey", "procedure": "Procedure", "therapy": "Therapy", "activity": "Activity"}

var interpretationDisplay = map[string]string{"N": "Normal", "L": "Low", "H": "High", "LL": "Critical low", "HH": "Critical high", "A": "Abnormal", "AA": "Critical abnormal", "POS": "Positive", "NEG": "Negative"}

func (b *builder) diagnosticReport(r resolver, fs Fields, defs map[string]fieldDef, id, key string) *bcrpb.ContainedResource {
	d := &drpb.DiagnosticReport{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &drpb.DiagnosticReport_StatusCode{}}
	setEnum(d.Status, r.code(fs, "status", defs["status"]))
	if k, ok := r.coding(fs, "code"); ok {
		d.Code = cc(k)
	}
	if fs["category"] != nil {
		cat := r.code(fs, "category", defs["category"])
		d.Category = []*d4pb.CodeableConcept{cc(concept{codings: []coding{{systemV20074, cat, v20074Display[cat]}}})}
	}
	if s, ok := r.time(fs, "effective"); ok {
		d.Effective = &drpb.DiagnosticReport_EffectiveX{Choice: &drpb.DiagnosticReport_EffectiveX_DateTime{DateTime: dateTime(s)}}
	}
	if s, ok := r.time(fs, "issued"); ok {
		d.Issued = instant(s)
	}
	if t := r.text(fs, "conclusion"); t != "" {
		d.Conclusion = str(t)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		d.ResultsInterpreter = []*d4pb.Reference{b.practitioner(name)}
	}
	b.reports = append(b.reports, &report{key: key, study: r.text(fs, "study"), r: d})
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { d.Encounter = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_DiagnosticReport{DiagnosticReport: d}}
}

var v20074Display = map[string]string{"LAB": "Laboratory", "RAD": "Radiology", "HM": "Hematology", "CH": "Chemistry", "MB": "Microbiology", "PAT": "Pathology (gross & histopath, not surgical)", "SP": "Surgical Pathology", "OTH": "Other"}

func (b *builder) imagingStudy(r resolver, fs Fields, defs map[string]fieldDef, id, key string) *bcrpb.ContainedResource {
	s := &ispb.ImagingStudy{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &ispb.ImagingStudy_StatusCode{}}
	setEnum(s.Status, r.code(fs, "status", defs["status"]))
	if uid := r.text(fs, "uid"); uid != "" {
		s.Identifier = append(s.Identifier, &d4pb.Identifier{System: uri(systemDICOMUID), Value: str("urn:oid:" + uid)})
	}
	if acc := r.text(fs, "accession"); acc != "" {
		s.Identifier = append(s.Identifier, &d4pb.Identifier{
			Type:  cc(concept{codings: []coding{{systemV20203, "ACSN", "Accession ID"}}}),
			Value: str(acc),
		})
	}
	if m, ok := r.coding(fs, "modality"); ok {
		for _, c := range m.codings {
			s.Modality = append(s.Modality, codingPB(c))
		}
	}
	if d := r.text(fs, "description"); d != "" {
		s.Description = str(d)
	}
	if st, ok := r.time(fs, "started"); ok {
		s.Started = dateTime(st)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		s.Interpreter = []*d4pb.Reference{b.practitioner(name)}
	}
	b.studies[key] = id
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { s.Encounter = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_ImagingStudy{ImagingStudy: s}}
}

func (b *builder) medicationRequest(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	m := &mrpb.MedicationRequest{
		Id: &d4pb.Id{Value: id}, Subject: b.patient,
		Status: &mrpb.MedicationRequest_StatusCode{}, Intent: &mrpb.MedicationRequest_IntentCode{},
	}
	setEnum(m.Status, r.code(fs, "status", defs["status"]))
	setEnum(m.Intent, r.code(fs, "intent", defs["intent"]))
	if k, ok := r.coding(fs, "medication"); ok {
		m.Medication = &mrpb.MedicationRequest_MedicationX{Choice: &mrpb.MedicationRequest_MedicationX_CodeableConcept{CodeableConcept: cc(k)}}
	}
	if s, ok := r.time(fs, "authored"); ok {
		m.AuthoredOn = dateTime(s)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		m.Requester = b.practitioner(name)
	}
	var dosage d4pb.Dosage
	if t := r.text(fs, "dosage"); t != "" {
		dosage.Text = str(t)
	}
	if k, ok := r.coding(fs, "route"); ok {
		dosage.Route = cc(k)
	}
	if dosage.Text != nil || dosage.Route != nil {
		m.DosageInstruction = []*d4pb.Dosage{&dosage}
	}
	var disp mrpb.MedicationRequest_DispenseRequest
	if v, ok := r.decimal(fs, "duration_days"); ok {
		disp.ExpectedSupplyDuration = &d4pb.Duration{Value: &d4pb.Decimal{Value: v}, Unit: str("days"), System: uri(systemUCUM), Code: code("d")}
	}
	if v, ok := r.decimal(fs, "quantity"); ok {
		disp.Quantity = &d4pb.SimpleQuantity{Value: &d4pb.Decimal{Value: v}}
	}
	if disp.ExpectedSupplyDuration != nil || disp.Quantity != nil {
		m.DispenseRequest = &disp
	}
	if n := r.text(fs, "note"); n != "" {
		m.Note = []*d4pb.Annotation{{Text: &d4pb.Markdown{Value: n}}}
	}
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { m.Encounter = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_MedicationRequest{MedicationRequest: m}}
}

func (b *builder) procedure(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	p := &procpb.Procedure{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &procpb.Procedure_StatusCode{}}
	setEnum(p.Status, r.code(fs, "status", defs["status"]))
	if k, ok := r.coding(fs, "code"); ok {
		p.Code = cc(k)
	}
	if k, ok := r.coding(fs, "category"); ok {
		p.Category = cc(k)
	}
	start, hasStart := r.time(fs, "performed")
	end, hasEnd := r.time(fs, "performed_end")
	switch {
	case hasEnd:
		period := &d4pb.Period{End: dateTime(end)}
		if hasStart {
			period.Start = dateTime(start)
		}
		p.Performed = &procpb.Procedure_PerformedX{Choice: &procpb.Procedure_PerformedX_Period{Period: period}}
	case hasStart:
		p.Performed = &procpb.Procedure_PerformedX{Choice: &procpb.Procedure_PerformedX_DateTime{DateTime: dateTime(start)}}
	}
	if k, ok := r.coding(fs, "body_site"); ok {
		p.BodySite = []*d4pb.CodeableConcept{cc(k)}
	}
	if k, ok := r.coding(fs, "reason"); ok {
		p.ReasonCode = []*d4pb.CodeableConcept{cc(k)}
	}
	if k, ok := r.coding(fs, "outcome"); ok {
		p.Outcome = cc(k)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		p.Performer = []*procpb.Procedure_Performer{{Actor: b.practitioner(name)}}
	}
	if n := r.text(fs, "note"); n != "" {
		p.Note = []*d4pb.Annotation{{Text: &d4pb.Markdown{Value: n}}}
	}
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { p.Encounter = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Procedure{Procedure: p}}
}

func (b *builder) documentReference(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	d := &docpb.DocumentReference{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &docpb.DocumentReference_StatusCode{}}
	setEnum(d.Status, r.code(fs, "status", defs["status"]))
	if k, ok := r.coding(fs, "type"); ok {
		d.Type = cc(k)
	}
	if s, ok := r.time(fs, "date"); ok {
		d.Date = instant(s)
	}
	if t := r.text(fs, "description"); t != "" {
		d.Description = str(t)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		d.Author = []*d4pb.Reference{b.practitioner(name)}
	}
	att := &d4pb.Attachment{
		ContentType: &d4pb.Attachment_ContentTypeCode{Value: "text/plain"},
		Language:    code("en-IN"),
		Data:        &d4pb.Base64Binary{Value: []byte(r.text(fs, "text"))},
	}
	if t := r.text(fs, "title"); t != "" {
		att.Title = str(t)
	}
	d.Content = []*docpb.DocumentReference_Content{{Attachment: att}}
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) {
		d.Context = &docpb.DocumentReference_Context{Encounter: []*d4pb.Reference{e}}
	})
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_DocumentReference{DocumentReference: d}}
}

// Small constructors for the datatypes.

func str(s string) *d4pb.String { return &d4pb.String{Value: s} }
func uri(s string) *d4pb.Uri    { return &d4pb.Uri{Value: s} }
func code(s string) *d4pb.Code  { return &d4pb.Code{Value: s} }

func ref(id string) *d4pb.Reference {
	return &d4pb.Reference{Reference: &d4pb.Reference_Uri{Uri: str("urn:uuid:" + id)}}
}

func refDisplay(id, display string) *d4pb.Reference {
	r := ref(id)
	r.Display = str(display)
	return r
}

func codingPB(c coding) *d4pb.Coding {
	out := &d4pb.Coding{Code: code(c.code)}
	if c.system != "" {
		out.System = uri(c.system)
	}
	if c.display != "" {
		out.Display = str(c.display)
	}
	return out
}

func cc(c concept) *d4pb.CodeableConcept {
	out := &d4pb.CodeableConcept{}
	for _, k := range c.codings {
		out.Coding = append(out.Coding, codingPB(k))
	}
	if c.text != "" {
		out.Text = str(c.text)
	}
	return out
}

// zone is a location's offset as jsonformat writes it (+05:30, Z).
func zone(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

func dateTime(s stamp) *d4pb.DateTime {
	if s.day {
		return &d4pb.DateTime{ValueUs: s.t.UnixMicro(), Timezone: zone(s.t), Precision: d4pb.DateTime_DAY}
	}
	return &d4pb.DateTime{ValueUs: s.t.Truncate(time.Second).UnixMicro(), Timezone: zone(s.t), Precision: d4pb.DateTime_SECOND}
}

func instant(s stamp) *d4pb.Instant {
	return &d4pb.Instant{ValueUs: s.t.Truncate(time.Second).UnixMicro(), Timezone: zone(s.t), Precision: d4pb.Instant_SECOND}
}

// setEnum sets a FHIR code message (e.g. Observation_StatusCode) from its
// code text ("entered-in-error" is the enum value ENTERED_IN_ERROR). The
// codes come from the field definitions, so a miss is a programming error
// in schema.go, caught by the tests.
func setEnum(m proto.Message, c string) {
	r := m.ProtoReflect()
	f := r.Descriptor().Fields().ByName("value")
	name := strings.ToUpper(strings.ReplaceAll(c, "-", "_"))
	if ev := f.Enum().Values().ByName(protoreflect.Name(name)); ev != nil {
		r.Set(f, protoreflect.ValueOfEnum(ev.Number()))
	}
}
