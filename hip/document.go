package hip

import (
	"encoding/base64"
	"errors"
	"fmt"
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
	mrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/medication_request_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	practpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/practitioner_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"

	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/sources"
)

// Identifier systems for what sources name without a registry id. They are
// Sangam's namespaces, scoped by the facility's HFR id in the value, so an
// HIU can tell them apart from HPR and ABHA identifiers.
const (
	documentPractitionerSystem = "urn:sangam:practitioner"
	documentMRSystem           = "urn:sangam:mrn"
	systemV2IdentifierType     = "http://terminology.hl7.org/CodeSystem/v2-0203"
	systemDICOM                = "http://dicom.nema.org/resources/ontology/DCM"
)

// DocumentInput is what, besides the care context's content, a document
// needs: the patient (as the source and the consent know them) and the
// facility.
type DocumentInput struct {
	Content      *sources.Content
	Patient      nrces.Patient
	Organization nrces.Organization
}

// ErrDocumentUnsupported: the care context's hiType has no adapter.
var ErrDocumentUnsupported = errors.New("hip: no document adapter for this hiType")

// NewDocument turns one care context's FHIR resources into the NRCeS
// document of its hiType (OPConsultation, DischargeSummary,
// DiagnosticReport, Prescription, Invoice: what the demo sources emit). It copies
// what the source holds and invents no clinical content; what the profile
// requires and the source lacks is left for the builder's gate to refuse.
func NewDocument(in DocumentInput) (*nrces.Document, error) {
	c := in.Content
	if c == nil {
		return nil, errors.New("hip: no content")
	}
	rt, ok := nrces.RecordTypeOfHIType(string(c.CareContext.HIType))
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrDocumentUnsupported, c.CareContext.HIType)
	}
	doc := &nrces.Document{
		Type: rt, Title: c.CareContext.Display, Date: c.CareContext.Date,
		Patient: in.Patient, Organization: in.Organization,
	}
	r := documentIndex(c.Resources)
	doc.Author = documentAuthor(r.practitioners, in.Organization.HFRID)
	if r.encounter != nil {
		e := documentEncounter(r.encounter)
		doc.Encounter = &e
		if doc.Date.IsZero() {
			doc.Date = e.Start
		}
	}
	switch rt {
	case nrces.OPConsultRecord, nrces.DischargeSummaryRecord:
		for _, cd := range r.conditions {
			doc.ChiefComplaints = append(doc.ChiefComplaints, documentCondition(cd))
		}
		for _, o := range r.observations {
			doc.PhysicalExamination = append(doc.PhysicalExamination, documentObservation(o))
		}
		for _, m := range r.medications {
			doc.Medications = append(doc.Medications, documentMedication(m))
		}
		for _, d := range r.documents {
			doc.Attachments = append(doc.Attachments, documentAttachment(d))
		}
		for _, p := range r.procedures {
			doc.Procedures = append(doc.Procedures, documentProcedure(p))
		}
	case nrces.InvoiceRecord:
		// The profile holds one Invoice; a care context is one bill.
		if len(r.invoices) > 0 {
			inv := documentInvoice(r.invoices[0], r.charges)
			doc.Invoice = &inv
		}
	case nrces.PrescriptionRecord:
		for _, m := range r.medications {
			doc.Medications = append(doc.Medications, documentMedication(m))
		}
	case nrces.DiagnosticReportRecord:
		imaging := -1
		for _, dr := range r.reports {
			rep := documentReport(dr, r)
			if rep.Imaging && imaging < 0 {
				imaging = len(doc.DiagnosticReports)
			}
			doc.DiagnosticReports = append(doc.DiagnosticReports, rep)
		}
		for _, d := range r.documents {
			if img, ok := documentKeyImage(d); ok && imaging >= 0 {
				rep := &doc.DiagnosticReports[imaging]
				rep.Images = append(rep.Images, img)
				continue
			}
			doc.Attachments = append(doc.Attachments, documentAttachment(d))
		}
	default:
		return nil, fmt.Errorf("%w: %s", ErrDocumentUnsupported, rt)
	}
	return doc, nil
}

// documentResources is a care context's resources by type.
type documentResources struct {
	encounter     *encpb.Encounter
	conditions    []*condpb.Condition
	observations  []*obspb.Observation
	medications   []*mrpb.MedicationRequest
	reports       []*drpb.DiagnosticReport
	studies       []*ispb.ImagingStudy
	documents     []*docpb.DocumentReference
	practitioners []*practpb.Practitioner
	obsByID       map[string]*obspb.Observation
	procedures    []*procpb.Procedure
	invoices      []*invpb.Invoice
	charges       map[string]*cipb.ChargeItem // by id
}

func documentIndex(rs []*bcrpb.ContainedResource) *documentResources {
	out := &documentResources{obsByID: map[string]*obspb.Observation{}, charges: map[string]*cipb.ChargeItem{}}
	for _, r := range rs {
		switch {
		case r.GetEncounter() != nil:
			if out.encounter == nil {
				out.encounter = r.GetEncounter()
			}
		case r.GetCondition() != nil:
			out.conditions = append(out.conditions, r.GetCondition())
		case r.GetObservation() != nil:
			o := r.GetObservation()
			out.obsByID[o.GetId().GetValue()] = o
			out.observations = append(out.observations, o)
		case r.GetMedicationRequest() != nil:
			out.medications = append(out.medications, r.GetMedicationRequest())
		case r.GetDiagnosticReport() != nil:
			out.reports = append(out.reports, r.GetDiagnosticReport())
		case r.GetImagingStudy() != nil:
			out.studies = append(out.studies, r.GetImagingStudy())
		case r.GetDocumentReference() != nil:
			out.documents = append(out.documents, r.GetDocumentReference())
		case r.GetPractitioner() != nil:
			out.practitioners = append(out.practitioners, r.GetPractitioner())
		case r.GetProcedure() != nil:
			out.procedures = append(out.procedures, r.GetProcedure())
		case r.GetInvoice() != nil:
			out.invoices = append(out.invoices, r.GetInvoice())
		case r.GetChargeItem() != nil:
			out.charges[r.GetChargeItem().GetId().GetValue()] = r.GetChargeItem()
		}
	}
	return out
}

// documentAuthor is the first practitioner the source names. Sources know
// people by name only, so the identifier the profile requires is the
// source-derived resource id in Sangam's namespace, scoped by facility.
func documentAuthor(ps []*practpb.Practitioner, hfrID string) nrces.Practitioner {
	if len(ps) == 0 {
		return nrces.Practitioner{}
	}
	p := ps[0]
	name := ""
	if len(p.GetName()) > 0 {
		name = p.GetName()[0].GetText().GetValue()
	}
	return nrces.Practitioner{Name: name, Identifiers: []nrces.Identifier{{
		Type:   nrces.Coding{System: systemV2IdentifierType, Code: "PRN", Display: "Provider number"},
		System: documentPractitionerSystem,
		Value:  hfrID + "/" + p.GetId().GetValue(),
	}}}
}

func documentEncounter(e *encpb.Encounter) nrces.Encounter {
	out := nrces.Encounter{Class: e.GetClassValue().GetCode().GetValue()}
	out.Start = documentDateTime(e.GetPeriod().GetStart())
	out.End = documentDateTime(e.GetPeriod().GetEnd())
	if len(e.GetType()) > 0 {
		out.Type = documentConcept(e.GetType()[0])
	}
	return out
}

func documentCondition(c *condpb.Condition) nrces.Condition {
	out := nrces.Condition{Code: documentConcept(c.GetCode()), Recorded: documentDateTime(c.GetRecordedDate())}
	if cs := c.GetClinicalStatus().GetCoding(); len(cs) > 0 {
		out.ClinicalStatus = cs[0].GetCode().GetValue()
	}
	if cat := c.GetCategory(); len(cat) > 0 && len(cat[0].GetCoding()) > 0 {
		out.Category = cat[0].GetCoding()[0].GetCode().GetValue()
	}
	if dt := c.GetOnset().GetDateTime(); dt != nil {
		out.Onset = documentDateTime(dt)
	}
	if n := c.GetNote(); len(n) > 0 {
		out.Note = n[0].GetText().GetValue()
	}
	return out
}

func documentObservation(o *obspb.Observation) nrces.Observation {
	out := nrces.Observation{Code: documentConcept(o.GetCode()), Status: documentEnum(o.GetStatus().GetValue().String())}
	if cat := o.GetCategory(); len(cat) > 0 && len(cat[0].GetCoding()) > 0 {
		out.Category = cat[0].GetCoding()[0].GetCode().GetValue()
	}
	out.Effective = documentDateTime(o.GetEffective().GetDateTime())
	switch {
	case o.GetValue().GetQuantity() != nil:
		q := o.GetValue().GetQuantity()
		out.Quantity = &nrces.Quantity{Value: q.GetValue().GetValue(), Unit: q.GetUnit().GetValue(), Code: q.GetCode().GetValue()}
	case o.GetValue().GetStringValue() != nil:
		out.ValueText = o.GetValue().GetStringValue().GetValue()
	}
	if rr := o.GetReferenceRange(); len(rr) > 0 {
		r := &nrces.ReferenceRange{Text: rr[0].GetText().GetValue()}
		if l := rr[0].GetLow(); l != nil {
			r.Low = &nrces.Quantity{Value: l.GetValue().GetValue(), Unit: l.GetUnit().GetValue(), Code: l.GetCode().GetValue()}
		}
		if h := rr[0].GetHigh(); h != nil {
			r.High = &nrces.Quantity{Value: h.GetValue().GetValue(), Unit: h.GetUnit().GetValue(), Code: h.GetCode().GetValue()}
		}
		out.ReferenceRange = r
	}
	if in := o.GetInterpretation(); len(in) > 0 {
		c := documentConcept(in[0])
		out.Interpretation = &c
	}
	return out
}

func documentMedication(m *mrpb.MedicationRequest) nrces.MedicationRequest {
	out := nrces.MedicationRequest{
		Medication: documentConcept(m.GetMedication().GetCodeableConcept()),
		AuthoredOn: documentDateTime(m.GetAuthoredOn()),
	}
	for _, d := range m.GetDosageInstruction() {
		ds := nrces.Dosage{Text: d.GetText().GetValue()}
		if d.GetRoute() != nil {
			ds.Route = documentConcept(d.GetRoute())
		}
		out.Dosage = append(out.Dosage, ds)
	}
	if n := m.GetNote(); len(n) > 0 {
		out.Note = n[0].GetText().GetValue()
	}
	return out
}

func documentAttachment(d *docpb.DocumentReference) nrces.AttachedDocument {
	out := nrces.AttachedDocument{Type: documentConcept(d.GetType()), Description: d.GetDescription().GetValue()}
	if d.GetDate() != nil {
		out.Date = time.UnixMicro(d.GetDate().GetValueUs())
	}
	if cs := d.GetContent(); len(cs) > 0 {
		a := cs[0].GetAttachment()
		out.File = nrces.File{
			ContentType: a.GetContentType().GetValue(), Data: a.GetData().GetValue(),
			Title: a.GetTitle().GetValue(), Language: a.GetLanguage().GetValue(), Created: out.Date,
		}
	}
	return out
}

// documentKeyImage reads a DICOM "Key Images" (DCM 121180) document as the
// image it carries. Mapped sources hold text only, so the image arrives as
// an RFC 2397 data URL in a text/plain attachment; anything else is not a
// key image and stays a document.
func documentKeyImage(d *docpb.DocumentReference) (nrces.File, bool) {
	keyImages := false
	for _, c := range d.GetType().GetCoding() {
		if c.GetSystem().GetValue() == systemDICOM && c.GetCode().GetValue() == "121180" {
			keyImages = true
		}
	}
	cs := d.GetContent()
	if !keyImages || len(cs) == 0 {
		return nrces.File{}, false
	}
	a := cs[0].GetAttachment()
	meta, data, ok := strings.Cut(string(a.GetData().GetValue()), ",")
	mediaType, isBase64 := strings.CutSuffix(strings.TrimPrefix(meta, "data:"), ";base64")
	if !ok || !strings.HasPrefix(meta, "data:image/") || !isBase64 {
		return nrces.File{}, false
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(raw) == 0 {
		return nrces.File{}, false
	}
	f := nrces.File{ContentType: mediaType, Data: raw, Title: a.GetTitle().GetValue()}
	if d.GetDate() != nil {
		f.Created = time.UnixMicro(d.GetDate().GetValueUs())
	}
	return f, true
}

// documentReport maps a DiagnosticReport with its results. Sources rarely
// write a conclusion; one is stated from the result flags the source set
// (which results it marked high or low), never from interpretation of
// values.
func documentReport(d *drpb.DiagnosticReport, r *documentResources) nrces.DiagnosticReport {
	out := nrces.DiagnosticReport{
		Code:       documentConcept(d.GetCode()),
		Status:     documentEnum(d.GetStatus().GetValue().String()),
		Effective:  documentDateTime(d.GetEffective().GetDateTime()),
		Conclusion: d.GetConclusion().GetValue(),
	}
	if d.GetIssued() != nil {
		out.Issued = time.UnixMicro(d.GetIssued().GetValueUs())
	}
	// Only SNOMED CT categories are allowed; the sources' v2-0074 codes
	// are left out rather than mistranslated.
	for _, cat := range d.GetCategory() {
		c := documentConcept(cat)
		if len(c.Codings) > 0 && c.Codings[0].System == "http://snomed.info/sct" {
			out.Category = c
		}
	}
	results := d.GetResult()
	if len(results) == 0 && len(r.reports) == 1 {
		out.Results = make([]nrces.Observation, 0, len(r.observations))
		for _, o := range r.observations {
			out.Results = append(out.Results, documentObservation(o))
		}
	}
	for _, ref := range results {
		id := strings.TrimPrefix(ref.GetUri().GetValue(), "urn:uuid:")
		if o := r.obsByID[id]; o != nil {
			out.Results = append(out.Results, documentObservation(o))
		}
	}
	if len(r.studies) > 0 {
		out.Imaging = true
		s := r.studies[0]
		st := &nrces.ImagingStudy{Started: documentDateTime(s.GetStarted()), Description: s.GetDescription().GetValue()}
		for _, id := range s.GetIdentifier() {
			if v := id.GetValue().GetValue(); strings.HasPrefix(v, "urn:oid:") {
				st.UID = strings.TrimPrefix(v, "urn:oid:")
			}
		}
		out.Study = st
	}
	if out.Conclusion == "" && !out.Imaging {
		out.Conclusion = documentFlagSummary(out.Results)
	}
	return out
}

func documentFlagSummary(results []nrces.Observation) string {
	var flagged []string
	for _, o := range results {
		if o.Interpretation == nil || len(o.Interpretation.Codings) == 0 {
			continue
		}
		switch code := o.Interpretation.Codings[0].Code; code {
		case "H", "L", "HH", "LL", "A", "AA":
			name := o.Code.Text
			if name == "" && len(o.Code.Codings) > 0 {
				name = o.Code.Codings[0].Display
			}
			flagged = append(flagged, name+" ("+o.Interpretation.Codings[0].Display+")")
		}
	}
	if len(results) == 0 {
		return ""
	}
	if len(flagged) == 0 {
		return "No result flagged outside its reference range by the laboratory."
	}
	return "Flagged by the laboratory: " + strings.Join(flagged, "; ") + "."
}

// documentConcept keeps codings with system, code and display (what the
// profiles need) and the text, falling back to a coding's display.
func documentConcept(cc *d4pb.CodeableConcept) nrces.Concept {
	var out nrces.Concept
	if cc == nil {
		return out
	}
	out.Text = cc.GetText().GetValue()
	for _, c := range cc.GetCoding() {
		sys, code, disp := c.GetSystem().GetValue(), c.GetCode().GetValue(), c.GetDisplay().GetValue()
		if sys != "" && code != "" && disp != "" {
			out.Codings = append(out.Codings, nrces.Coding{System: sys, Code: code, Display: disp})
		} else if out.Text == "" && disp != "" {
			out.Text = disp
		}
	}
	if out.Text == "" && len(out.Codings) > 0 {
		out.Text = out.Codings[0].Display
	}
	return out
}

func documentDateTime(dt *d4pb.DateTime) time.Time {
	if dt == nil {
		return time.Time{}
	}
	return time.UnixMicro(dt.GetValueUs())
}

// documentEnum turns a proto enum name (ENTERED_IN_ERROR) into its FHIR
// code (entered-in-error); "" for unset.
func documentEnum(name string) string {
	if name == "" || name == "INVALID_UNINITIALIZED" {
		return ""
	}
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

func documentProcedure(p *procpb.Procedure) nrces.Procedure {
	out := nrces.Procedure{Code: documentConcept(p.GetCode()), Status: documentEnum(p.GetStatus().GetValue().String())}
	switch pf := p.GetPerformed(); {
	case pf.GetDateTime() != nil:
		out.Performed = documentDateTime(pf.GetDateTime())
	case pf.GetPeriod() != nil:
		out.Performed = documentDateTime(pf.GetPeriod().GetStart())
	}
	if p.GetOutcome() != nil {
		out.Outcome = documentConcept(p.GetOutcome())
	}
	if n := p.GetNote(); len(n) > 0 {
		out.Note = n[0].GetText().GetValue()
	}
	return out
}

// documentInvoice maps a bill: each line's ChargeItem gives its billing
// code (the ndhm-billing-codes coding), product and quantity, and the
// line's price components its prices.
func documentInvoice(inv *invpb.Invoice, charges map[string]*cipb.ChargeItem) nrces.Invoice {
	out := nrces.Invoice{
		Status: documentEnum(inv.GetStatus().GetValue().String()), Date: documentDateTime(inv.GetDate()),
		Currency: inv.GetTotalGross().GetCurrency().GetValue(),
		TotalNet: inv.GetTotalNet().GetValue().GetValue(), TotalGross: inv.GetTotalGross().GetValue().GetValue(),
	}
	if ids := inv.GetIdentifier(); len(ids) > 0 {
		out.Number = ids[0].GetValue().GetValue()
	}
	if cs := documentConcept(inv.GetType()).Codings; len(cs) > 0 {
		out.Type = cs[0]
	}
	if n := inv.GetNote(); len(n) > 0 {
		out.Note = n[0].GetText().GetValue()
	}
	for _, li := range inv.GetLineItem() {
		ci := charges[strings.TrimPrefix(li.GetChargeItem().GetReference().GetUri().GetValue(), "urn:uuid:")]
		var line nrces.InvoiceLine
		for _, c := range documentConcept(ci.GetCode()).Codings {
			if c.System == nrces.SystemBillingCodes {
				line.ChargeCode = c
			}
		}
		line.Product = documentConcept(ci.GetProduct().GetCodeableConcept())
		if q := ci.GetQuantity(); q != nil {
			line.Quantity = nrces.Quantity{Value: q.GetValue().GetValue(), Unit: q.GetUnit().GetValue(), Code: q.GetCode().GetValue()}
		}
		for _, pc := range li.GetPriceComponent() {
			p := nrces.PriceComponent{Type: documentEnum(pc.GetType().GetValue().String()), Amount: pc.GetAmount().GetValue().GetValue()}
			if cs := documentConcept(pc.GetCode()).Codings; len(cs) > 0 {
				p.Code = cs[0]
			}
			line.Prices = append(line.Prices, p)
		}
		out.Lines = append(out.Lines, line)
	}
	return out
}
