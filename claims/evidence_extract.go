package claims

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	cipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	condpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/condition_go_proto"
	drpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/diagnostic_report_go_proto"
	docpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/document_reference_go_proto"
	encpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/encounter_go_proto"
	ispb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/imaging_study_go_proto"
	invpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/invoice_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/sources"
)

// Code systems the extraction recognises.
const (
	systemDiagnosisRole = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
	systemV20074        = "http://terminology.hl7.org/CodeSystem/v2-0074"
	systemDCM           = "http://dicom.nema.org/resources/ontology/DCM"
	loincDischarge      = "18842-5"
	dcmKeyImages        = "121180"
)

// extracted is the evidence one care context holds.
type extracted struct {
	encounters []Encounter
	diagnoses  []Diagnosis
	procedures []Procedure
	reports    []Report
	summaries  []Document
	bills      []Bill
	charges    []BillLine
}

// extract reads a care context's FHIR resources into evidence. It reads
// only the base R4 elements and resolves references between the
// context's own resources (sources give them as urn:uuid:<id>), so it
// works the same for every connector.
func extract(rec CareRecord) extracted {
	var out extracted
	byID := map[string]proto.Message{}
	for _, cr := range rec.Resources {
		if m := unwrap(cr); m != nil {
			if id := resourceID(m); id != "" {
				byID[id] = m
			}
		}
	}

	// Encounters first: their diagnosis lists rank the conditions.
	type ranking struct {
		role DiagnosisRole
		rank int
	}
	ranks := map[string]ranking{}
	for _, cr := range rec.Resources {
		e := cr.GetEncounter()
		if e == nil {
			continue
		}
		out.encounters = append(out.encounters, encounterOf(rec, e))
		for i, d := range e.GetDiagnosis() {
			rank := i + 1
			if r := d.GetRank().GetValue(); r > 0 {
				rank = int(r)
			}
			ranks[refID(d.GetCondition())] = ranking{role: roleOf(d.GetUse()), rank: rank}
		}
	}
	if len(out.encounters) == 0 && billable(rec.HIType) {
		// A visit or stay whose source sends no Encounter resource is
		// still an encounter: the care context says when.
		out.encounters = append(out.encounters, Encounter{
			Origin: rec.Origin, Class: classOfHIType(rec.HIType), Inpatient: rec.HIType == sources.DischargeSummary,
			Start: rec.Date, Display: rec.Display,
		})
	}

	usedStudies := map[string]bool{}
	usedCharges := map[string]bool{}
	for _, cr := range rec.Resources {
		for _, d := range cr.GetDiagnosticReport().GetImagingStudy() {
			usedStudies[refID(d)] = true
		}
		for _, li := range cr.GetInvoice().GetLineItem() {
			if r := li.GetChargeItem().GetReference(); r != nil {
				usedCharges[refID(r)] = true
			}
		}
	}

	var reportIdx []int // indexes into out.reports of DiagnosticReports
	order := 0
	for _, cr := range rec.Resources {
		switch {
		case cr.GetCondition() != nil:
			c := cr.GetCondition()
			order++
			d := diagnosisOf(rec, c)
			if r, ok := ranks[resourceID(c)]; ok {
				d.Role, d.Rank, d.Ranked = r.role, r.rank, true
			} else {
				d.Rank = order
			}
			out.diagnoses = append(out.diagnoses, d)
		case cr.GetProcedure() != nil:
			out.procedures = append(out.procedures, procedureOf(rec, cr.GetProcedure()))
		case cr.GetDiagnosticReport() != nil:
			reportIdx = append(reportIdx, len(out.reports))
			out.reports = append(out.reports, reportOf(rec, cr.GetDiagnosticReport(), byID))
		case cr.GetImagingStudy() != nil:
			if s := cr.GetImagingStudy(); !usedStudies[resourceID(s)] {
				out.reports = append(out.reports, studyOf(rec, s))
			}
		case cr.GetDocumentReference() != nil:
			doc := cr.GetDocumentReference()
			switch {
			case isDischargeSummary(rec, doc):
				out.summaries = append(out.summaries, documentOf(rec, doc))
			case isKeyImage(doc) && len(reportIdx) > 0:
				// The key image of the context's report: attach it there.
				r := &out.reports[reportIdx[len(reportIdx)-1]]
				r.Attachments = append(r.Attachments, attachmentsOf(doc)...)
			default:
				out.reports = append(out.reports, documentReportOf(rec, doc))
			}
		case cr.GetInvoice() != nil:
			out.bills = append(out.bills, billOf(rec, cr.GetInvoice(), byID))
		case cr.GetChargeItem() != nil:
			if ci := cr.GetChargeItem(); !usedCharges[resourceID(ci)] {
				out.charges = append(out.charges, chargeLine(rec, ci))
			}
		}
	}
	if len(out.encounters) > 0 {
		for i := range out.bills {
			e := out.encounters[0]
			out.bills[i].Encounter = &e
		}
	}
	return out
}

// billable reports whether a care context of this type is an encounter a
// claim can be made for: an OPD consultation or an inpatient stay.
func billable(t sources.HIType) bool {
	return t == sources.OPConsultation || t == sources.DischargeSummary
}

func classOfHIType(t sources.HIType) string {
	if t == sources.DischargeSummary {
		return "IMP"
	}
	return "AMB"
}

// inpatientClasses are the v3 ActCodes of stays a hospital bills as
// inpatient or day care.
var inpatientClasses = map[string]bool{"IMP": true, "ACUTE": true, "NONAC": true, "SS": true}

func encounterOf(rec CareRecord, e *encpb.Encounter) Encounter {
	out := Encounter{
		Origin:               rec.Origin,
		Class:                e.GetClassValue().GetCode().GetValue(),
		Status:               enumCode(e.GetStatus()),
		Start:                dateTimeOf(e.GetPeriod().GetStart()),
		End:                  dateTimeOf(e.GetPeriod().GetEnd()),
		DischargeDisposition: conceptOf(e.GetHospitalization().GetDischargeDisposition()),
		Identifier:           firstIdentifier(e.GetIdentifier()),
		Display:              rec.Display,
		Resource:             e,
	}
	if out.Class == "" {
		out.Class = classOfHIType(rec.HIType)
	}
	out.Inpatient = inpatientClasses[out.Class]
	if out.Start.IsZero() {
		out.Start = rec.Date
	}
	if ts := e.GetType(); len(ts) > 0 {
		out.Type = conceptOf(ts[0])
	}
	if rs := e.GetReasonCode(); len(rs) > 0 {
		out.Reason = conceptOf(rs[0])
	}
	for _, p := range e.GetParticipant() {
		if n := p.GetIndividual().GetDisplay().GetValue(); n != "" {
			out.Practitioners = append(out.Practitioners, n)
		}
	}
	return out
}

func roleOf(use *d4pb.CodeableConcept) DiagnosisRole {
	for _, c := range use.GetCoding() {
		switch strings.ToUpper(c.GetCode().GetValue()) {
		case "AD":
			return RoleAdmitting
		case "DD":
			return RoleDischarge
		case "CC":
			return RoleChiefComplaint
		case "CM":
			return RoleComorbidity
		case "PRE-OP":
			return RolePreOp
		case "POST-OP":
			return RolePostOp
		case "BILLING":
			return RoleBilling
		}
	}
	return RoleUnstated
}

func diagnosisOf(rec CareRecord, c *condpb.Condition) Diagnosis {
	d := Diagnosis{
		Origin:             rec.Origin,
		Code:               conceptOf(c.GetCode()),
		ClinicalStatus:     firstCode(c.GetClinicalStatus()),
		VerificationStatus: firstCode(c.GetVerificationStatus()),
		Recorded:           dateTimeOf(c.GetRecordedDate()),
		Onset:              dateTimeOf(c.GetOnset().GetDateTime()),
		Resource:           c,
	}
	if cs := c.GetCategory(); len(cs) > 0 {
		d.Category = firstCode(cs[0])
	}
	for _, k := range d.Code.Codings {
		switch {
		case k.System == nrces.SystemICD10 && d.ICD10 == "":
			d.ICD10 = k.Code
		case k.System == nrces.SystemSNOMED && d.SNOMED == "":
			d.SNOMED = k.Code
		}
	}
	d.Display = conceptText(d.Code)
	return d
}

func procedureOf(rec CareRecord, p *procpb.Procedure) Procedure {
	out := Procedure{
		Origin:   rec.Origin,
		Code:     conceptOf(p.GetCode()),
		Status:   enumCode(p.GetStatus()),
		Outcome:  conceptOf(p.GetOutcome()),
		Resource: p,
	}
	switch pf := p.GetPerformed(); {
	case pf.GetDateTime() != nil:
		out.Performed = dateTimeOf(pf.GetDateTime())
	case pf.GetPeriod() != nil:
		out.Performed = dateTimeOf(pf.GetPeriod().GetStart())
		out.PerformedEnd = dateTimeOf(pf.GetPeriod().GetEnd())
	}
	if out.Performed.IsZero() {
		out.Performed = rec.Date
	}
	for _, b := range p.GetBodySite() {
		out.BodySites = append(out.BodySites, conceptOf(b))
	}
	for _, pf := range p.GetPerformer() {
		if n := pf.GetActor().GetDisplay().GetValue(); n != "" {
			out.Performers = append(out.Performers, n)
		}
	}
	if ns := p.GetNote(); len(ns) > 0 {
		out.Note = ns[0].GetText().GetValue()
	}
	return out
}

// labSections are the v2-0074 diagnostic service sections of laboratory
// work; RAD and its subsections are imaging.
var labSections = map[string]bool{
	"LAB": true, "HM": true, "CH": true, "MB": true, "PAT": true, "SP": true, "BLB": true, "CP": true,
	"HLA": true, "IMM": true, "MCB": true, "MYC": true, "SR": true, "TX": true, "URN": true, "VR": true, "CG": true,
}

var imagingSections = map[string]bool{
	"RAD": true, "CT": true, "RX": true, "NMR": true, "NMS": true, "RUS": true, "VUS": true, "OUS": true, "CUS": true,
}

func reportOf(rec CareRecord, d *drpb.DiagnosticReport, byID map[string]proto.Message) Report {
	out := Report{
		Origin:     rec.Origin,
		Kind:       ReportDocument,
		Code:       conceptOf(d.GetCode()),
		Status:     enumCode(d.GetStatus()),
		Issued:     instantOf(d.GetIssued()),
		Conclusion: d.GetConclusion().GetValue(),
		Report:     d,
	}
	out.Title = conceptText(out.Code)
	switch ef := d.GetEffective(); {
	case ef.GetDateTime() != nil:
		out.Effective = dateTimeOf(ef.GetDateTime())
	case ef.GetPeriod() != nil:
		out.Effective = dateTimeOf(ef.GetPeriod().GetStart())
	}
	for _, r := range d.GetResult() {
		if o, ok := byID[refID(r)].(*obspb.Observation); ok {
			out.Results = append(out.Results, o)
		}
	}
	for _, r := range d.GetImagingStudy() {
		if s, ok := byID[refID(r)].(*ispb.ImagingStudy); ok && out.Study == nil {
			out.Study = s
		}
	}
	for _, c := range d.GetCategory() {
		for _, k := range c.GetCoding() {
			code := k.GetCode().GetValue()
			switch {
			case k.GetSystem().GetValue() != systemV20074:
			case labSections[code]:
				out.Kind = ReportLab
			case imagingSections[code]:
				out.Kind = ReportImaging
			}
		}
	}
	if out.Kind == ReportDocument {
		switch {
		case out.Study != nil:
			out.Kind = ReportImaging
		case len(out.Results) > 0:
			out.Kind = ReportLab
		}
	}
	for _, p := range d.GetResultsInterpreter() {
		if n := p.GetDisplay().GetValue(); n != "" {
			out.Interpreters = append(out.Interpreters, n)
		}
	}
	for _, a := range d.GetPresentedForm() {
		out.Attachments = append(out.Attachments, attachmentOf(a))
	}
	return out
}

func studyOf(rec CareRecord, s *ispb.ImagingStudy) Report {
	out := Report{
		Origin:    rec.Origin,
		Kind:      ReportImaging,
		Title:     s.GetDescription().GetValue(),
		Status:    enumCode(s.GetStatus()),
		Effective: dateTimeOf(s.GetStarted()),
		Study:     s,
	}
	for _, m := range s.GetModality() {
		out.Code.Codings = append(out.Code.Codings, codingOf(m))
	}
	out.Code.Text = out.Title
	for _, p := range s.GetInterpreter() {
		if n := p.GetDisplay().GetValue(); n != "" {
			out.Interpreters = append(out.Interpreters, n)
		}
	}
	return out
}

func hasCoding(cc *d4pb.CodeableConcept, system, code string) bool {
	for _, c := range cc.GetCoding() {
		if c.GetSystem().GetValue() == system && c.GetCode().GetValue() == code {
			return true
		}
	}
	return false
}

// isDischargeSummary reports whether a document is a discharge summary:
// typed so (LOINC 18842-5), or an untyped document of a discharge-summary
// care context.
func isDischargeSummary(rec CareRecord, d *docpb.DocumentReference) bool {
	if hasCoding(d.GetType(), nrces.SystemLOINC, loincDischarge) {
		return true
	}
	return rec.HIType == sources.DischargeSummary && len(d.GetType().GetCoding()) == 0 &&
		strings.Contains(strings.ToLower(d.GetType().GetText().GetValue()), "discharge")
}

func isKeyImage(d *docpb.DocumentReference) bool {
	return hasCoding(d.GetType(), systemDCM, dcmKeyImages)
}

func documentOf(rec CareRecord, d *docpb.DocumentReference) Document {
	out := Document{
		Origin:      rec.Origin,
		Type:        conceptOf(d.GetType()),
		Date:        instantOf(d.GetDate()),
		Attachments: attachmentsOf(d),
		Resource:    d,
	}
	out.Title = d.GetDescription().GetValue()
	for _, a := range out.Attachments {
		if out.Title == "" {
			out.Title = a.Title
		}
	}
	if out.Title == "" {
		out.Title = conceptText(out.Type)
	}
	if out.Date.IsZero() {
		out.Date = rec.Date
	}
	for _, a := range d.GetAuthor() {
		if n := a.GetDisplay().GetValue(); n != "" {
			out.Authors = append(out.Authors, n)
		}
	}
	return out
}

func documentReportOf(rec CareRecord, d *docpb.DocumentReference) Report {
	doc := documentOf(rec, d)
	return Report{
		Origin: rec.Origin, Kind: ReportDocument, Code: doc.Type, Title: doc.Title, Status: enumCode(d.GetStatus()),
		Effective: doc.Date, Interpreters: doc.Authors, Attachments: doc.Attachments, Document: d,
	}
}

func attachmentsOf(d *docpb.DocumentReference) []Attachment {
	var out []Attachment
	for _, c := range d.GetContent() {
		if a := c.GetAttachment(); a != nil {
			out = append(out, attachmentOf(a))
		}
	}
	return out
}

// attachmentOf copies an attachment. Mapped sources carry text only, so an
// image may arrive as an RFC 2397 data URL in a text/plain attachment: it
// is decoded into the image it is.
func attachmentOf(a *d4pb.Attachment) Attachment {
	out := Attachment{
		ContentType: a.GetContentType().GetValue(),
		Language:    a.GetLanguage().GetValue(),
		Title:       a.GetTitle().GetValue(),
		Data:        a.GetData().GetValue(),
		URL:         a.GetUrl().GetValue(),
		Created:     dateTimeOf(a.GetCreation()),
	}
	if out.ContentType == "text/plain" && len(out.Data) > 5 && string(out.Data[:5]) == "data:" {
		meta, data, ok := strings.Cut(string(out.Data), ",")
		mediaType, isBase64 := strings.CutSuffix(strings.TrimPrefix(meta, "data:"), ";base64")
		if raw, err := base64.StdEncoding.DecodeString(data); ok && isBase64 && mediaType != "" && err == nil && len(raw) > 0 {
			out.ContentType, out.Data = mediaType, raw
		}
	}
	return out
}

func billOf(rec CareRecord, in *invpb.Invoice, byID map[string]proto.Message) Bill {
	b := Bill{
		Origin:   rec.Origin,
		Status:   enumCode(in.GetStatus()),
		Type:     firstCoding(in.GetType()),
		Date:     dateTimeOf(in.GetDate()),
		Currency: in.GetTotalGross().GetCurrency().GetValue(),
		Resource: in,
	}
	if b.Currency == "" {
		b.Currency = in.GetTotalNet().GetCurrency().GetValue()
	}
	if ids := in.GetIdentifier(); len(ids) > 0 {
		b.Number = ids[0].GetValue().GetValue()
	}
	if b.Date.IsZero() {
		b.Date = rec.Date
	}
	if ns := in.GetNote(); len(ns) > 0 {
		b.Note = ns[0].GetText().GetValue()
	}
	for i, li := range in.GetLineItem() {
		var line BillLine
		switch ch := li.GetChargeItem(); {
		case ch.GetReference() != nil:
			if ci, ok := byID[refID(ch.GetReference())].(*cipb.ChargeItem); ok {
				line = chargeLine(rec, ci)
			} else {
				line = BillLine{Origin: rec.Origin, Product: nrces.TextConcept(ch.GetReference().GetDisplay().GetValue())}
			}
		case ch.GetCodeableConcept() != nil:
			line = BillLine{Origin: rec.Origin, ChargeCode: firstCoding(ch.GetCodeableConcept()), Product: conceptOf(ch.GetCodeableConcept())}
		}
		// The invoice prices its lines; a charge's own price (override)
		// stands only for charges no invoice lists.
		line.Prices = nil
		line.Sequence = i + 1
		if s := li.GetSequence().GetValue(); s > 0 {
			line.Sequence = int(s)
		}
		for _, pc := range li.GetPriceComponent() {
			line.Prices = append(line.Prices, nrces.PriceComponent{
				Type: enumCode(pc.GetType()), Code: firstCoding(pc.GetCode()), Amount: pc.GetAmount().GetValue().GetValue(),
			})
			if b.Currency == "" {
				b.Currency = pc.GetAmount().GetCurrency().GetValue()
			}
		}
		b.Lines = append(b.Lines, line)
	}
	if b.Currency == "" {
		b.Currency = "INR"
	}
	b.TotalNet = in.GetTotalNet().GetValue().GetValue()
	b.TotalGross = in.GetTotalGross().GetValue().GetValue()
	if b.TotalNet == "" || b.TotalGross == "" {
		net, gross := lineTotals(b.Lines)
		if b.TotalNet == "" {
			b.TotalNet = net
		}
		if b.TotalGross == "" {
			b.TotalGross = gross
		}
		b.TotalsComputed = true
	}
	return b
}

// lineTotals sums price components as FHIR defines Invoice totals: net
// is base and surcharges less discounts and deductions, gross adds tax;
// informational components count for neither.
func lineTotals(lines []BillLine) (net, gross string) {
	var plus, minus, tax []string
	for _, l := range lines {
		for _, p := range l.Prices {
			switch p.Type {
			case "base", "surcharge":
				plus = append(plus, p.Amount)
			case "discount", "deduction":
				minus = append(minus, "-"+strings.TrimPrefix(p.Amount, "-"))
			case "tax":
				tax = append(tax, p.Amount)
			}
		}
	}
	net = addDecimals(append(plus, minus...)...)
	gross = addDecimals(append([]string{net}, tax...)...)
	return net, gross
}

func chargeLine(rec CareRecord, ci *cipb.ChargeItem) BillLine {
	l := BillLine{
		Origin:     rec.Origin,
		ChargeCode: firstCoding(ci.GetCode()),
		Resource:   ci,
	}
	switch p := ci.GetProduct(); {
	case p.GetCodeableConcept() != nil:
		l.Product = conceptOf(p.GetCodeableConcept())
	case p.GetReference() != nil:
		l.Product = nrces.TextConcept(p.GetReference().GetDisplay().GetValue())
	}
	if q := ci.GetQuantity(); q != nil {
		l.Quantity = nrces.Quantity{Value: q.GetValue().GetValue(), Unit: q.GetUnit().GetValue(), Code: q.GetCode().GetValue()}
	}
	switch oc := ci.GetOccurrence(); {
	case oc.GetDateTime() != nil:
		l.Occurred = dateTimeOf(oc.GetDateTime())
	case oc.GetPeriod() != nil:
		l.Occurred = dateTimeOf(oc.GetPeriod().GetStart())
	}
	if po := ci.GetPriceOverride(); po != nil && po.GetValue().GetValue() != "" {
		// A charge no invoice prices carries its price here.
		l.Prices = []nrces.PriceComponent{{Type: "base", Amount: po.GetValue().GetValue()}}
	}
	return l
}

// Small readers of FHIR datatypes.

func unwrap(cr *bcrpb.ContainedResource) proto.Message {
	m := cr.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("oneof_resource"))
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message().Interface()
}

func resourceID(m proto.Message) string {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("id")
	if fd == nil || fd.Message() == nil || !r.Has(fd) {
		return ""
	}
	id := r.Get(fd).Message()
	return id.Get(id.Descriptor().Fields().ByName("value")).String()
}

// refID returns the id a reference points to: urn:uuid:<id>, Type/<id>,
// or a typed reference's id.
func refID(r *d4pb.Reference) string {
	if r == nil {
		return ""
	}
	if u := r.GetUri().GetValue(); u != "" {
		if id, ok := strings.CutPrefix(u, "urn:uuid:"); ok {
			return id
		}
		if i := strings.LastIndex(strings.TrimSuffix(u, "/"), "/"); i >= 0 {
			return u[i+1:]
		}
		return u
	}
	m := r.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("reference")
	if od == nil {
		return ""
	}
	fd := m.WhichOneof(od)
	if fd == nil || fd.Message() == nil {
		return ""
	}
	v := m.Get(fd).Message()
	if vf := v.Descriptor().Fields().ByName("value"); vf != nil && vf.Kind() == protoreflect.StringKind {
		return v.Get(vf).String()
	}
	return ""
}

// enumCode reads a FHIR code message (e.g. Encounter_StatusCode) as its
// code text: ENTERED_IN_ERROR is "entered-in-error".
func enumCode(m proto.Message) string {
	if m == nil {
		return ""
	}
	r := m.ProtoReflect()
	if !r.IsValid() {
		return ""
	}
	fd := r.Descriptor().Fields().ByName("value")
	if fd == nil || fd.Enum() == nil {
		return ""
	}
	ev := fd.Enum().Values().ByNumber(r.Get(fd).Enum())
	if ev == nil || r.Get(fd).Enum() == 0 {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(string(ev.Name()), "_", "-"))
}

func firstIdentifier(ids []*d4pb.Identifier) string {
	for _, id := range ids {
		if v := id.GetValue().GetValue(); v != "" {
			return v
		}
	}
	return ""
}

func codingOf(c *d4pb.Coding) nrces.Coding {
	return nrces.Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue(), Display: c.GetDisplay().GetValue()}
}

func conceptOf(cc *d4pb.CodeableConcept) nrces.Concept {
	out := nrces.Concept{Text: cc.GetText().GetValue()}
	for _, c := range cc.GetCoding() {
		out.Codings = append(out.Codings, codingOf(c))
	}
	return out
}

func firstCoding(cc *d4pb.CodeableConcept) nrces.Coding {
	if cs := cc.GetCoding(); len(cs) > 0 {
		return codingOf(cs[0])
	}
	return nrces.Coding{}
}

func firstCode(cc *d4pb.CodeableConcept) string { return firstCoding(cc).Code }

// conceptText is a concept's label: its text, else its first display,
// else its first code.
func conceptText(c nrces.Concept) string {
	if c.Text != "" {
		return c.Text
	}
	for _, k := range c.Codings {
		if k.Display != "" {
			return k.Display
		}
	}
	if len(c.Codings) > 0 {
		return c.Codings[0].Code
	}
	return ""
}

func dateTimeOf(d *d4pb.DateTime) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.UnixMicro(d.GetValueUs()).In(location(d.GetTimezone()))
}

func instantOf(d *d4pb.Instant) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.UnixMicro(d.GetValueUs()).In(location(d.GetTimezone()))
}

// location reads jsonformat's time zones: "Z", "+05:30" or a zone name.
func location(tz string) *time.Location {
	if tz == "" || tz == "Z" || tz == "UTC" {
		return time.UTC
	}
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		h, err1 := strconv.Atoi(tz[1:3])
		m, err2 := strconv.Atoi(tz[4:6])
		if err1 == nil && err2 == nil {
			off := h*3600 + m*60
			if tz[0] == '-' {
				off = -off
			}
			return time.FixedZone(tz, off)
		}
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}
