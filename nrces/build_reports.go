package nrces

import (
	"regexp"
	"strconv"
	"time"

	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	binpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/binary_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	drpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/diagnostic_report_go_proto"
	docpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/document_reference_go_proto"
	eppb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/endpoint_go_proto"
	ispb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/imaging_study_go_proto"
	medpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/media_go_proto"
	specpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/specimen_go_proto"
)

// Reports and documents: DiagnosticReportLab/Imaging with their results,
// specimen, key images (Media) and DICOM study (ImagingStudy, Endpoint);
// DocumentReference; Binary.

func (s *buildState) requireFile(where string, f File) {
	if f.ContentType == "" || len(f.Data) == 0 {
		s.fail("%s needs ContentType and Data (the NRCeS profiles embed documents, contentType and data 1..1)", where)
	}
}

func (s *buildState) diagnosticReport(r DiagnosticReport, where string) string {
	s.requireCode(where+".Code", r.Code)
	s.checkCodings(where+".Category", r.Category)
	for _, c := range r.Code.Codings {
		if c.System != SystemLOINC {
			s.fail("%s.Code: %s codes a DiagnosticReport in LOINC only, not %s", where, profileName(r.Imaging), c.System)
		}
	}
	for _, c := range r.Category.Codings {
		if c.System != SystemSNOMED {
			s.fail("%s.Category: %s takes SNOMED CT categories only, not %s", where, profileName(r.Imaging), c.System)
		}
	}
	if r.Conclusion == "" {
		s.fail("%s.Conclusion is required (%s conclusion 1..1)", where, profileName(r.Imaging))
	}
	if r.Imaging && len(r.Images) == 0 {
		s.fail("%s.Images: an imaging report needs at least one image (DiagnosticReportImaging media 1..*)", where)
	}
	if !r.Imaging && len(r.Results) == 0 {
		s.fail("%s.Results: a lab report needs at least one result (DiagnosticReportLab result 1..*)", where)
	}
	if r.ReportType != nil && (r.ReportType.System != SystemSNOMED || r.ReportType.Code == "" || r.ReportType.Display == "") {
		s.fail("%s.ReportType must be a SNOMED CT coding with code and display", where)
	}
	st, err := enumCode[*drpb.DiagnosticReport_StatusCode](orDefault(r.Status, "final"))
	if err != nil {
		s.fail("%s.Status: %w", where, err)
	}

	var results []*d4.Reference
	for i, o := range r.Results {
		if o.Category == "" {
			o.Category = "laboratory"
		}
		results = append(results, pRef(s.observation(o, where+".Results["+strconv.Itoa(i)+"]")))
	}
	var specimens []*d4.Reference
	if r.Specimen != nil {
		specimens = []*d4.Reference{pRef(s.specimen(*r.Specimen, where+".Specimen"))}
	}
	var media []*drpb.DiagnosticReport_Media
	for i, img := range r.Images {
		media = append(media, &drpb.DiagnosticReport_Media{Link: pRef(s.media(img, where+".Images["+strconv.Itoa(i)+"]"))})
	}
	var studies []*d4.Reference
	if r.Study != nil {
		studies = []*d4.Reference{pRef(s.imagingStudy(*r.Study, where+".Study"))}
	}

	id := s.newID()
	dr := &drpb.DiagnosticReport{
		Id:                 pID(id),
		Meta:               pMeta(profileName(r.Imaging)),
		Status:             st,
		Code:               pConcept(r.Code),
		Subject:            pRef(s.patientURL),
		Encounter:          pRef(s.encounterURL),
		Issued:             pInstant(r.Issued, s.loc()),
		Performer:          []*d4.Reference{pRef(s.orgURL)},
		ResultsInterpreter: []*d4.Reference{pRef(s.authorURL)},
		Specimen:           specimens,
		Result:             results,
		ImagingStudy:       studies,
		Media:              media,
		Conclusion:         pStr(r.Conclusion),
		ConclusionCode:     pConcepts(r.ConclusionCodes),
	}
	if cat := pConcept(r.Category); cat != nil {
		dr.Category = []*d4.CodeableConcept{cat}
	}
	if !r.Effective.IsZero() {
		dr.Effective = &drpb.DiagnosticReport_EffectiveX{Choice: &drpb.DiagnosticReport_EffectiveX_DateTime{DateTime: pDateTime(r.Effective, s.loc())}}
	}
	if r.PresentedForm != nil {
		s.requireFile(where+".PresentedForm", *r.PresentedForm)
		dr.PresentedForm = []*d4.Attachment{pAttachment(*r.PresentedForm, s.loc())}
	}
	for i, c := range r.ConclusionCodes {
		s.checkCodings(where+".ConclusionCodes["+strconv.Itoa(i)+"]", c)
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_DiagnosticReport{DiagnosticReport: dr}})
}

func profileName(imaging bool) string {
	if imaging {
		return "DiagnosticReportImaging"
	}
	return "DiagnosticReportLab"
}

func (s *buildState) specimen(sp Specimen, where string) string {
	s.checkCodings(where+".Type", sp.Type)
	if sp.Received.IsZero() || sp.Collected.IsZero() {
		s.fail("%s needs Collected and Received (the NRCeS Specimen profile makes both 1..1)", where)
	}
	id := s.newID()
	spec := &specpb.Specimen{
		Id:           pID(id),
		Meta:         pMeta("Specimen"),
		Status:       &specpb.Specimen_StatusCode{Value: c4.SpecimenStatusCode_AVAILABLE},
		Type:         pConcept(sp.Type),
		Subject:      pRef(s.patientURL),
		ReceivedTime: pDateTime(sp.Received, s.loc()),
		Collection: &specpb.Specimen_Collection{Collected: &specpb.Specimen_Collection_CollectedX{
			Choice: &specpb.Specimen_Collection_CollectedX_DateTime{DateTime: pDateTime(sp.Collected, s.loc())},
		}},
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Specimen{Specimen: spec}})
}

func (s *buildState) media(f File, where string) string {
	s.requireFile(where, f)
	id := s.newID()
	m := &medpb.Media{
		Id:      pID(id),
		Meta:    pMeta("Media"),
		Status:  &medpb.Media_StatusCode{Value: c4.EventStatusCode_COMPLETED},
		Subject: pRef(s.patientURL),
		Content: pAttachment(f, s.loc()),
	}
	if !f.Created.IsZero() {
		m.Created = &medpb.Media_CreatedX{Choice: &medpb.Media_CreatedX_DateTime{DateTime: pDateTime(f.Created, s.loc())}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Media{Media: m}})
}

// dicomUID is a DICOM UID: dotted numbers, at most 64 characters (which
// also makes it a valid FHIR id, the type of series and instance uids).
var dicomUID = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

func (s *buildState) checkUID(where, uid string) {
	if len(uid) > 64 || !dicomUID.MatchString(uid) {
		s.fail("%s %q is not a DICOM UID (dotted digits, at most 64 characters)", where, uid)
	}
}

// imagingStudy records the DICOM study the report reads, so a receiver can
// fetch the images: study, series and instance UIDs, SOP classes, and the
// DICOMweb endpoint when there is one.
func (s *buildState) imagingStudy(st ImagingStudy, where string) string {
	s.checkUID(where+".UID", st.UID)
	var endpoints []*d4.Reference
	if st.Endpoint != "" {
		endpoints = []*d4.Reference{pRef(s.endpoint(st.Endpoint, where+".Endpoint"))}
	}
	id := s.newID()
	is := &ispb.ImagingStudy{
		Id:   pID(id),
		Meta: pMeta("ImagingStudy"),
		// R4's convention for the Study Instance UID.
		Identifier:     []*d4.Identifier{{System: pURI(systemDICOMUID), Value: pStr("urn:oid:" + st.UID)}},
		Status:         &ispb.ImagingStudy_StatusCode{Value: c4.ImagingStudyStatusCode_AVAILABLE},
		Subject:        pRef(s.patientURL),
		Encounter:      pRef(s.encounterURL),
		Started:        pDateTime(st.Started, s.loc()),
		Interpreter:    []*d4.Reference{pRef(s.authorURL)},
		Endpoint:       endpoints,
		NumberOfSeries: pUnsignedInt(len(st.Series)),
		Description:    pStr(st.Description),
	}
	instances := 0
	seen := map[string]bool{}
	for i, se := range st.Series {
		sw := where + ".Series[" + strconv.Itoa(i) + "]"
		s.checkUID(sw+".UID", se.UID)
		if se.Modality.Code == "" {
			s.fail("%s.Modality is required (ImagingStudy.series.modality 1..1)", sw)
		}
		if !seen[se.Modality.Code] {
			seen[se.Modality.Code] = true
			is.Modality = append(is.Modality, pCoding(se.Modality))
		}
		series := &ispb.ImagingStudy_Series{
			Uid:               pID(se.UID),
			Number:            pUnsignedInt(se.Number),
			Modality:          pCoding(se.Modality),
			Description:       pStr(se.Description),
			NumberOfInstances: pUnsignedInt(len(se.Instances)),
			Endpoint:          endpoints,
		}
		if se.BodySite != nil {
			series.BodySite = pCoding(*se.BodySite)
		}
		for j, in := range se.Instances {
			iw := sw + ".Instances[" + strconv.Itoa(j) + "]"
			s.checkUID(iw+".UID", in.UID)
			s.checkUID(iw+".SOPClass", in.SOPClass)
			series.Instance = append(series.Instance, &ispb.ImagingStudy_Series_Instance{
				Uid:      pID(in.UID),
				SopClass: pCoding(Coding{System: systemRFC3986, Code: "urn:oid:" + in.SOPClass}),
				Number:   pUnsignedInt(in.Number),
				Title:    pStr(in.Title),
			})
		}
		instances += len(se.Instances)
		is.Series = append(is.Series, series)
	}
	is.NumberOfInstances = pUnsignedInt(instances)
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_ImagingStudy{ImagingStudy: is}})
}

// endpoint is a DICOMweb (WADO-RS) service holding a study.
func (s *buildState) endpoint(address, where string) string {
	if !isAbsURI(address) {
		s.fail("%s %q is not an absolute URL", where, address)
	}
	id := s.newID()
	ep := &eppb.Endpoint{
		Id:             pID(id),
		Status:         &eppb.Endpoint_StatusCode{Value: c4.EndpointStatusCode_ACTIVE},
		ConnectionType: pCoding(Coding{systemEndpointConnType, "dicom-wado-rs", "DICOM WADO-RS"}),
		PayloadType:    []*d4.CodeableConcept{{Text: pStr("DICOM")}},
		PayloadMimeType: []*eppb.Endpoint_PayloadMimeTypeCode{
			{Value: "application/dicom"},
		},
		Address: &d4.Url{Value: address},
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Endpoint{Endpoint: ep}})
}

func (s *buildState) documentReference(a AttachedDocument, where string) string {
	s.requireFile(where+".File", a.File)
	s.checkCodings(where+".Type", a.Type)
	id, dr := s.newDocumentReference(a.Type, a.Date, []*d4.Reference{pRef(s.authorURL)}, s.orgURL, a.Description, a.File)
	if s.encounterURL != "" {
		dr.Context = &docpb.DocumentReference_Context{Encounter: []*d4.Reference{pRef(s.encounterURL)}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_DocumentReference{DocumentReference: dr}})
}

// newDocumentReference is a current, final DocumentReference about the
// patient embedding f, for the document builder and the NHCX one alike;
// the caller adds any context and the entry.
func (s *buildState) newDocumentReference(typ Concept, date time.Time, authors []*d4.Reference, custodianURL, description string, f File) (string, *docpb.DocumentReference) {
	id := s.newID()
	return id, &docpb.DocumentReference{
		Id:          pID(id),
		Meta:        pMeta("DocumentReference"),
		Status:      &docpb.DocumentReference_StatusCode{Value: c4.DocumentReferenceStatusCode_CURRENT},
		DocStatus:   &docpb.DocumentReference_DocStatusCode{Value: c4.CompositionStatusCode_FINAL},
		Type:        pConcept(typ),
		Subject:     pRef(s.patientURL),
		Date:        pInstant(date, s.loc()),
		Author:      authors,
		Custodian:   pRef(custodianURL),
		Description: pStr(description),
		Content:     []*docpb.DocumentReference_Content{{Attachment: pAttachment(f, s.loc())}},
	}
}

func (s *buildState) binary(f File) string {
	s.requireFile("ScannedPrescription", f)
	id := s.newID()
	b := &binpb.Binary{
		Id:          pID(id),
		Meta:        pMeta("Binary"),
		ContentType: &binpb.Binary_ContentTypeCode{Value: f.ContentType},
		Data:        &d4.Base64Binary{Value: f.Data},
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Binary{Binary: b}})
}
