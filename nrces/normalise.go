package nrces

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// normaliser turns a decoded bundle into a Record. It never fails: what it
// cannot use it reports.
type normaliser struct {
	loc   *time.Location
	prov  Provenance
	rec   *Record
	probs problemList
	idx   *bundleIndex
	blobs [][]byte // long base64 values cut out before decoding
	// sectionNotes are Composition sections that hold only narrative.
	sectionNotes []Entry
}

func newNormaliser(loc *time.Location, prov Provenance) *normaliser {
	return &normaliser{loc: loc, prov: prov, rec: &Record{Provenance: prov, Entries: []Entry{}}}
}

// normalise fills n.rec from the decoded root (a Bundle, or a single
// resource treated as a bundle of one).
func (n *normaliser) normalise(root *inResource) {
	n.index(root)
	comp := n.header(root)
	n.markConsumed()
	for i := range n.idx.nodes {
		node := &n.idx.nodes[i]
		if node.consumed || node.res == comp {
			continue
		}
		n.rec.Entries = append(n.rec.Entries, n.entry(node))
		n.contained(node)
	}
	n.rec.Entries = append(n.rec.Entries, n.sectionNotes...)
}

// contained lists a resource's contained resources as entries of their
// own (a DiagnosticReport carrying its Observations, say), except the
// Medication its request names and participants.
func (n *normaliser) contained(node *bundleNode) {
	r := node.res
	for i := range r.Contained {
		c := &r.Contained[i]
		if !isR4ResourceType(c.ResourceType) {
			n.probs.add(severityWarning, "unreadable-resource", fmt.Sprintf("%s.contained[%d]", node.path, i),
				fmt.Sprintf("contained resourceType %q is not a FHIR R4 resource; skipped", c.ResourceType))
			continue
		}
		switch c.ResourceType {
		case "Practitioner", "PractitionerRole", "Organization", "Patient":
			continue
		case "Medication":
			if r.MedicationReference != nil && r.MedicationReference.Reference == "#"+string(c.ID) {
				continue
			}
		}
		cn := bundleNode{res: c, path: fmt.Sprintf("%s.contained[%d]", node.path, i), section: node.section}
		n.rec.Entries = append(n.rec.Entries, n.entry(&cn))
	}
}

// index builds the reference index and reports fullUrl habits.
func (n *normaliser) index(root *inResource) {
	if root.ResourceType != "Bundle" {
		n.probs.add(severityWarning, "not-a-bundle", root.ResourceType,
			fmt.Sprintf("the document is a single %s, not a Bundle; read as a bundle of one", orUnknown(root.ResourceType)))
		n.idx = newBundleIndex(1)
		n.addNode(bundleNode{res: root, path: root.ResourceType})
		return
	}
	n.idx = newBundleIndex(len(root.Entry))
	for i, e := range root.Entry {
		path := "Bundle.entry[" + strconv.Itoa(i) + "]"
		if e.Resource == nil {
			// normaliser.decode kept these raw as unreadable entries.
			continue
		}
		full := strings.TrimSpace(e.FullURL)
		switch {
		case full == "":
			n.probs.fold(severityInfo, "missing-fullurl", "", path+".fullUrl",
				"entry has no fullUrl; references are resolved by Type/id")
		case !strings.HasPrefix(full, "urn:") && !strings.Contains(full, "://"):
			n.probs.fold(severityInfo, "relative-fullurl", "", path+".fullUrl",
				fmt.Sprintf("fullUrl %q is relative (Type/id), not absolute or urn:uuid; resolved as Type/id", full))
		}
		if tid := typeAndID(full); tid != "" {
			if typ := tid[:strings.IndexByte(tid, '/')]; typ != e.Resource.ResourceType {
				n.probs.fold(severityWarning, "fullurl-type-mismatch", "", path+".fullUrl",
					fmt.Sprintf("fullUrl %q names type %s for a %s", full, typ, e.Resource.ResourceType))
			}
		}
		n.addNode(bundleNode{res: e.Resource, fullURL: full, path: path + ".resource"})
	}
	if len(root.Entry) == 0 {
		n.probs.add(severityWarning, "empty-bundle", "Bundle.entry", "the bundle has no entries")
	}
}

func (n *normaliser) addNode(node bundleNode) {
	if id := string(node.res.ID); id != "" && !isValidFHIRID(id) {
		n.probs.fold(severityInfo, "invalid-id", "", node.path+".id",
			fmt.Sprintf("id %q is not a valid FHIR id ([A-Za-z0-9-.]{1,64}); strict parsers reject it, kept as sent", id))
	}
	if n.idx.addNode(node) {
		n.probs.add(severityInfo, "duplicate-fullurl", node.path,
			fmt.Sprintf("fullUrl %q appears more than once", node.fullURL))
	}
}

// markConsumed folds Medication and Endpoint resources into the entries
// that reference them, so they are not listed twice.
func (n *normaliser) markConsumed() {
	for _, node := range n.idx.nodes {
		r := node.res
		if r.MedicationReference != nil {
			if m, ok := n.idx.resolve(r.MedicationReference.Reference); ok && m.res.ResourceType == "Medication" {
				m.consumed = true
			}
		}
		if r.ResourceType == "ImagingStudy" {
			for _, e := range r.Endpoint {
				if ep, ok := n.idx.resolve(e.Reference); ok && ep.res.ResourceType == "Endpoint" {
					ep.consumed = true
				}
			}
		}
	}
	// A report names the media it links to ("NCCT Thorax"); the Media
	// itself often carries no title.
	for _, node := range n.idx.nodes {
		for _, m := range node.res.Media {
			if m.Link == nil {
				continue
			}
			if target, ok := n.idx.resolve(m.Link.Reference); ok && target.label == "" {
				target.label = firstNonEmpty(m.Link.Display, m.Comment, conceptText(node.res.Code))
			}
		}
	}
	// Participants are header material, not clinical entries.
	for i := range n.idx.nodes {
		switch n.idx.nodes[i].res.ResourceType {
		case "Practitioner", "PractitionerRole", "Organization", "Patient":
			n.idx.nodes[i].consumed = true
		}
	}
}

// entry turns one resource into an Entry.
func (n *normaliser) entry(node *bundleNode) Entry {
	r := node.res
	e := Entry{
		Resource:   r.ResourceType,
		ID:         string(r.ID),
		FullURL:    node.fullURL,
		Path:       node.path,
		Section:    node.section,
		Status:     string(r.Status),
		Provenance: n.prov,
	}
	for _, note := range r.Note {
		if note.Text != "" {
			e.Notes = append(e.Notes, note.Text)
		}
	}
	switch r.ResourceType {
	case "Encounter":
		n.encounter(&e, r)
	case "Condition":
		n.condition(&e, r)
	case "Observation":
		n.observation(&e, r, node.path)
	case "DiagnosticReport":
		n.report(&e, r, node.path)
	case "MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense":
		n.medication(&e, r, node.path)
	case "Immunization":
		n.immunization(&e, r, node.path)
	case "Procedure":
		e.Kind = KindProcedure
		e.Text = conceptText(r.Code)
		e.Codes = n.codes(r.Code, node.path+".code")
		n.setTime(&e, node.path, timeChoice{"performedDateTime", r.PerformedDateTime}, timeChoice{"performedPeriod", r.PerformedPeriod}, timeChoice{"performedString", r.PerformedString})
		if o := conceptText(r.Outcome); o != "" {
			e.Notes = append(e.Notes, "outcome: "+o)
		}
	case "AllergyIntolerance":
		n.allergy(&e, r, node.path)
	case "DocumentReference", "Binary", "Media":
		n.document(&e, r, node.path, node.label)
	case "ImagingStudy":
		n.imagingStudy(&e, r, node.path)
	default:
		n.other(&e, r, node.path)
	}
	if e.Text == "" {
		e.Text = r.ResourceType
	}
	return e
}

func (n *normaliser) encounter(e *Entry, r *inResource) {
	e.Kind = KindEncounter
	d := &EncounterDetail{Class: conceptText(r.Class.list())}
	for _, t := range r.Type {
		if s := conceptText(inConcepts{t}); s != "" {
			d.Types = append(d.Types, s)
		}
	}
	d.Reasons = conceptTexts(r.ReasonCode)
	if r.ServiceProvider != nil {
		d.ServiceProvider = n.refName(r.ServiceProvider)
	}
	e.Encounter = d
	e.Codes = n.codes(r.Type, e.Path+".type")
	e.Text = firstNonEmpty(strings.Join(d.Types, ", "), d.Class, "Encounter")
	n.setTime(e, e.Path, timeChoice{"period", r.Period})
}

func (n *normaliser) condition(e *Entry, r *inResource) {
	e.Kind = KindCondition
	e.Text = conceptText(r.Code)
	e.Codes = n.codes(r.Code, e.Path+".code")
	e.Condition = &ConditionDetail{
		Clinical:     conceptText(r.ClinicalStatus.list()),
		Verification: conceptText(r.VerificationStatus.list()),
		Severity:     conceptText(r.Severity),
		Category:     conceptTexts(r.Category),
		BodySite:     conceptTexts(r.BodySite),
	}
	e.Status = firstNonEmpty(e.Condition.Clinical, e.Status)
	n.setTime(e, e.Path, timeChoice{"onsetDateTime", r.OnsetDateTime}, timeChoice{"onsetPeriod", r.OnsetPeriod},
		timeChoice{"onsetString", r.OnsetString}, timeChoice{"recordedDate", r.RecordedDate})
}

func (n *normaliser) allergy(e *Entry, r *inResource, path string) {
	e.Kind = KindAllergy
	e.Text = conceptText(r.Code)
	e.Codes = n.codes(r.Code, path+".code")
	d := &AllergyDetail{
		Clinical:     conceptText(r.ClinicalStatus.list()),
		Verification: conceptText(r.VerificationStatus.list()),
		Criticality:  r.Criticality,
		Category:     conceptTexts(r.Category),
	}
	for _, re := range r.Reaction {
		s := strings.Join(conceptTexts(re.Manifestation), ", ")
		s = joinNonEmpty(" ", s, parenthesise(re.Severity))
		if s == "" {
			s = re.Description
		}
		if s != "" {
			d.Reactions = append(d.Reactions, s)
		}
	}
	e.Allergy = d
	e.Status = firstNonEmpty(d.Clinical, e.Status)
	n.setTime(e, path, timeChoice{"onsetDateTime", r.OnsetDateTime}, timeChoice{"onsetPeriod", r.OnsetPeriod},
		timeChoice{"onsetString", r.OnsetString}, timeChoice{"recordedDate", r.RecordedDate})
}

func (n *normaliser) report(e *Entry, r *inResource, path string) {
	e.Kind = KindReport
	e.Text = conceptText(r.Code)
	e.Codes = n.codes(r.Code, path+".code")
	d := &ReportDetail{Category: conceptTexts(r.Category), Conclusion: r.Conclusion}
	if d.Conclusion == "" {
		d.Conclusion = strings.Join(conceptTexts(r.ConclusionCode), "; ")
	}
	for _, ref := range r.Result {
		d.Results = append(d.Results, refLabel(&ref))
	}
	for _, m := range r.Media {
		if m.Link != nil {
			d.Media = append(d.Media, refLabel(m.Link))
		}
	}
	for _, ref := range r.ImagingStudy {
		d.ImagingStudies = append(d.ImagingStudies, refLabel(&ref))
	}
	for _, p := range r.Performer {
		d.Performers = append(d.Performers, n.performerName(p))
	}
	for _, p := range r.ResultsInterpreter {
		d.Performers = append(d.Performers, n.refName(&p))
	}
	e.Report = d
	for i, a := range r.PresentedForm {
		e.Attachments = append(e.Attachments, n.attachment(&a, fmt.Sprintf("%s.presentedForm[%d]", path, i)))
	}
	n.setTime(e, path, timeChoice{"effectiveDateTime", r.EffectiveDateTime}, timeChoice{"effectivePeriod", r.EffectivePeriod},
		timeChoice{"issued", r.Issued})
}

func (n *normaliser) medication(e *Entry, r *inResource, path string) {
	e.Kind = KindMedication
	e.Text = conceptText(r.MedicationCodeableConcept.list())
	e.Codes = n.codes(r.MedicationCodeableConcept.list(), path+".medicationCodeableConcept")
	if ref := r.MedicationReference; ref != nil {
		med := n.medicationResource(r, ref.Reference)
		if med != nil {
			e.Codes = append(e.Codes, n.codes(med.Code, path+".medicationReference")...)
			e.Text = firstNonEmpty(e.Text, conceptText(med.Code))
		} else if ref.Reference != "" && !strings.HasPrefix(ref.Reference, "#") {
			n.probs.fold(severityWarning, "unresolved-reference", "medication", path+".medicationReference",
				fmt.Sprintf("medication %q is not in the bundle; its display is used", ref.Reference))
		}
		e.Text = firstNonEmpty(e.Text, ref.Display)
	}
	d := &MedicationDetail{Intent: r.Intent, Reasons: conceptTexts(r.ReasonCode)}
	for _, ds := range append(append(inDosages{}, r.DosageInstruction...), r.Dosage...) {
		if s := dosageText(ds); s != "" {
			d.Dosage = append(d.Dosage, s)
		}
	}
	e.Medication = d
	n.setTime(e, path, timeChoice{"authoredOn", r.AuthoredOn}, timeChoice{"effectiveDateTime", r.EffectiveDateTime},
		timeChoice{"effectivePeriod", r.EffectivePeriod}, timeChoice{"dateAsserted", r.DateAsserted})
}

// medicationResource finds a Medication referenced from r: contained
// ("#id") or in the bundle.
func (n *normaliser) medicationResource(r *inResource, ref string) *inResource {
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		for i := range r.Contained {
			if string(r.Contained[i].ID) == id {
				return &r.Contained[i]
			}
		}
		return nil
	}
	if node, ok := n.idx.resolve(ref); ok && node.res.ResourceType == "Medication" {
		return node.res
	}
	return nil
}

func (n *normaliser) immunization(e *Entry, r *inResource, path string) {
	e.Kind = KindImmunization
	e.Text = conceptText(r.VaccineCode.list())
	e.Codes = n.codes(r.VaccineCode.list(), path+".vaccineCode")
	d := &ImmunizationDetail{LotNumber: r.LotNumber, Route: conceptText(r.Route.list())}
	for _, x := range r.Extension {
		if strings.HasSuffix(x.URL, "/BrandName") || strings.HasSuffix(x.URL, "BrandName") {
			d.Brand = firstNonEmpty(x.ValueString, conceptText(x.ValueCodeableConcept.list()), conceptText(x.ValueCoding.list()))
		}
	}
	if len(r.Manufacturer) > 0 {
		d.Manufacturer = n.refName(&r.Manufacturer[0])
	}
	for _, p := range r.ProtocolApplied {
		dose := firstNonEmpty(string(p.DoseNumberPositiveInt), p.DoseNumberString)
		if dose != "" && p.SeriesDosesPositiveInt != "" {
			dose += " of " + string(p.SeriesDosesPositiveInt)
		}
		d.Dose = joinNonEmpty(", ", d.Dose, joinNonEmpty(" ", dose, parenthesise(p.Series)))
	}
	e.Immunization = d
	e.Text = firstNonEmpty(e.Text, d.Brand)
	n.setTime(e, path, timeChoice{"occurrenceDateTime", r.OccurrenceDateTime}, timeChoice{"occurrenceString", r.OccurrenceString},
		timeChoice{"recorded", r.Recorded})
}

// other covers resources without a kind of their own, with whatever names
// them best.
func (n *normaliser) other(e *Entry, r *inResource, path string) {
	e.Kind = KindOther
	e.Text = firstNonEmpty(conceptText(r.Code), r.Title, r.Description, conceptText(r.Type),
		conceptText(r.ServiceType), conceptText(r.Category), activityText(r.Activity), personName(r.Name))
	e.Codes = n.codes(r.Code, path+".code")
	switch r.ResourceType {
	case "FamilyMemberHistory":
		var conds []inFamilyCondition
		_ = jsonUnmarshalLenient(r.Condition, &conds)
		var names []string
		for _, c := range conds {
			names = append(names, conceptText(c.Code.list()))
		}
		e.Text = joinNonEmpty(": ", conceptText(r.Relationship), strings.Join(names, ", "))
	case "AdverseEvent":
		var ev inConcepts
		_ = jsonUnmarshalLenient(r.Event, &ev)
		e.Text = firstNonEmpty(conceptText(ev), e.Text)
	case "ImmunizationRecommendation":
		var vs []string
		for _, rec := range r.Recommendation {
			vs = append(vs, joinNonEmpty(" ", conceptText(rec.VaccineCode), parenthesise(conceptText(rec.ForecastStatus.list()))))
		}
		e.Text = firstNonEmpty(strings.Join(vs, ", "), e.Text)
	case "Invoice":
		if r.TotalGross != nil && r.TotalGross.Value != "" {
			e.Text = joinNonEmpty(" ", firstNonEmpty(e.Text, "Invoice"), "total", string(r.TotalGross.Value), r.TotalGross.Currency)
		}
	case "Bundle":
		e.Text = fmt.Sprintf("nested Bundle with %d entries (not read)", len(r.Entry))
		n.probs.add(severityWarning, "nested-bundle", path, "a Bundle inside the bundle was not read")
	}
	n.setTime(e, path, timeChoice{"date", r.Date}, timeChoice{"start", r.Start}, timeChoice{"occurrenceDateTime", r.OccurrenceDateTime},
		timeChoice{"authoredOn", r.AuthoredOn}, timeChoice{"period", r.Period}, timeChoice{"receivedTime", r.ReceivedTime},
		timeChoice{"effectiveDateTime", r.EffectiveDateTime}, timeChoice{"recordedDate", r.RecordedDate})
}

// refName names the target of a reference: the resolved resource's name,
// else the display, else the reference.
func (n *normaliser) refName(ref *inReference) string {
	if ref == nil {
		return ""
	}
	if ref.Display != "" {
		return ref.Display
	}
	if node, ok := n.idx.resolve(ref.Reference); ok {
		if name := firstNonEmpty(personName(node.res.Name), conceptText(node.res.Code)); name != "" {
			return name
		}
	}
	return refLabel(ref)
}

func (n *normaliser) performerName(p inPerformer) string {
	if p.Actor != nil {
		return n.refName(p.Actor)
	}
	return n.refName(&inReference{Reference: p.Reference, Display: p.Display})
}

// timeChoice is one candidate source of an entry's time: a string, a
// *inPeriod or nothing.
type timeChoice struct {
	field string
	value any
}

// setTime sets e's time from the first non-empty choice.
func (n *normaliser) setTime(e *Entry, path string, choices ...timeChoice) {
	for _, c := range choices {
		switch v := c.value.(type) {
		case string:
			if v == "" {
				continue
			}
			e.TimeText = v
			e.Time, _ = n.time(v, path+"."+c.field)
			return
		case *inPeriod:
			if v == nil || (v.Start == "" && v.End == "") {
				continue
			}
			e.TimeText = joinNonEmpty(" – ", v.Start, v.End)
			e.Time, _ = n.time(v.Start, path+"."+c.field+".start")
			e.EndTime, _ = n.time(v.End, path+"."+c.field+".end")
			return
		}
	}
}

// time parses a FHIR time and reports what the clean-up rule changed.
func (n *normaliser) time(s, path string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	ft, ok := parseFHIRTime(s, n.loc)
	if !ok {
		if !strings.HasSuffix(path, "String") {
			n.probs.fold(severityWarning, "datetime-unreadable", "", path,
				fmt.Sprintf("%q is not a FHIR date or dateTime; kept as text", s))
		}
		return time.Time{}, false
	}
	if ft.zoneAssumed {
		n.probs.fold(severityInfo, "datetime-without-zone", "", path,
			fmt.Sprintf("dateTime %q has a time but no time zone; read as %s", s, zoneName(n.loc)))
	} else if ft.repaired != "" {
		n.probs.fold(severityInfo, "datetime-nonstandard", ft.repaired, path,
			fmt.Sprintf("dateTime %q: %s; accepted", s, ft.repaired))
	}
	return ft.t, true
}

// codes normalises a concept's codings, reporting system aliases.
func (n *normaliser) codes(cs inConcepts, path string) []Coded {
	var out []Coded
	for _, c := range cs {
		for _, cd := range codingsOf(c) {
			sys, changed := canonicalSystem(cd.System)
			if changed {
				n.probs.fold(severityWarning, "code-system-alias", cd.System, path,
					fmt.Sprintf("code system %q read as %s", cd.System, sys))
			}
			code := strings.TrimSpace(string(cd.Code))
			if sys == systemLOINC && looksLikeSNOMEDCode(code) {
				n.probs.fold(severityWarning, "code-system-mismatch", code, path,
					fmt.Sprintf("code %q is in the LOINC system but has SNOMED's form", code))
			}
			if sys == "" && code == "" && cd.Display == "" {
				continue
			}
			out = append(out, Coded{System: sys, Code: code, Display: strings.TrimSpace(cd.Display)})
		}
	}
	return out
}
