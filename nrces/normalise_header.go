package nrces

import (
	"fmt"
	"html"
	"strings"
)

// The record header: bundle envelope, Composition, patient, authors and
// organisation, and which section lists which entry.

// header reads the Bundle and its Composition into the record header and
// returns the Composition (nil when there is none).
func (n *normaliser) header(root *inResource) *inResource {
	rec := n.rec
	if root.ResourceType == "Bundle" {
		rec.BundleID = string(root.ID)
		if len(root.Type) > 0 {
			rec.BundleType = string(root.Type[0].Code)
		}
		if len(root.Identifier) > 0 {
			rec.Identifier = joinNonEmpty("|", root.Identifier[0].System, string(root.Identifier[0].Value))
		}
		if rec.BundleType != "document" {
			n.probs.add(severityWarning, "not-a-document", "Bundle.type",
				fmt.Sprintf("bundle type is %q, not \"document\"", rec.BundleType))
		}
	}
	var comp *inResource
	var compNode *bundleNode
	for i := range n.idx.nodes {
		if n.idx.nodes[i].res.ResourceType == "Composition" {
			compNode = &n.idx.nodes[i]
			comp = compNode.res
			if i != 0 {
				n.probs.add(severityInfo, "composition-not-first", compNode.path,
					"the Composition is not the first entry")
			}
			break
		}
	}
	rec.RecordType, rec.RecordTypeFrom = recordTypeOf(comp, n.idx)
	if comp != nil {
		n.codes(comp.Type, compNode.path+".type") // reports non-standard systems
	}
	if comp == nil {
		if root.ResourceType == "Bundle" {
			n.probs.add(severityWarning, "no-composition", "Bundle.entry",
				"the bundle has no Composition; record type guessed from its resources")
		}
		if rec.Date.IsZero() && root.Timestamp != "" {
			rec.Date, _ = n.time(root.Timestamp, "Bundle.timestamp")
		}
		n.fallbackPatient(nil)
		n.fallbackOrganisation()
		return nil
	}
	if rec.RecordType == "" {
		n.probs.add(severityWarning, "unknown-record-type", compNode.path+".type",
			fmt.Sprintf("Composition type %q is none of the eight NRCeS record types", conceptText(comp.Type)))
	} else if rec.RecordTypeFrom != "profile" && rec.RecordTypeFrom != "snomed" {
		from := map[string]string{"loinc": "LOINC type code", "text": "type text, display or title"}[rec.RecordTypeFrom]
		n.probs.add(severityInfo, "record-type-inferred", compNode.path+".type",
			fmt.Sprintf("record type %s read from the Composition's %s, not its NRCeS profile or SNOMED code", rec.RecordType, from))
	}
	rec.Title = comp.Title
	rec.Date, _ = n.time(comp.Date, compNode.path+".date")
	if rec.Date.IsZero() && root.Timestamp != "" {
		rec.Date, _ = n.time(root.Timestamp, "Bundle.timestamp")
	}

	// Patient
	if comp.Subject != nil {
		rec.Patient.Reference = comp.Subject.Reference
		if node, ok := n.idx.resolve(comp.Subject.Reference); ok && node.res.ResourceType == "Patient" {
			rec.Patient = n.subject(node)
			rec.Patient.Reference = comp.Subject.Reference
		} else {
			if comp.Subject.Reference != "" {
				n.probs.add(severityWarning, "unresolved-reference", compNode.path+".subject",
					fmt.Sprintf("subject %q is not a Patient in the bundle", comp.Subject.Reference))
			}
			n.fallbackPatient(comp.Subject)
		}
	} else {
		n.probs.add(severityWarning, "no-subject", compNode.path+".subject", "the Composition names no patient")
		n.fallbackPatient(nil)
	}

	// Authors, custodian, attesters
	for i, a := range comp.Author {
		if p, ok := n.party("author", &a, fmt.Sprintf("%s.author[%d]", compNode.path, i)); ok {
			rec.Authors = append(rec.Authors, p)
		}
	}
	if comp.Custodian != nil {
		if p, ok := n.party("custodian", comp.Custodian, compNode.path+".custodian"); ok {
			rec.Organisation = &p
		}
	}
	for i, a := range comp.Attester {
		if a.Party == nil {
			continue
		}
		p, ok := n.party("attester", a.Party, fmt.Sprintf("%s.attester[%d].party", compNode.path, i))
		if ok && rec.Organisation == nil && p.Resource == "Organization" {
			rec.Organisation = &p
		}
	}
	n.fallbackOrganisation()

	n.sections(comp.Section, compNode.path+".section")
	return comp
}

// sections records each entry's section title and reports section entries
// that are not in the bundle.
func (n *normaliser) sections(secs []inSection, path string) {
	for i, s := range secs {
		spath := fmt.Sprintf("%s[%d]", path, i)
		title := s.Title
		if title == "" {
			title = conceptText(s.Code.list())
		}
		n.codes(s.Code.list(), spath+".code")
		if len(s.Entry) == 0 && s.Text != nil {
			// Some producers write a section only as narrative; it is the
			// only copy of that text, so it becomes an entry.
			if txt := narrativeText(s.Text.Div); txt != "" {
				n.sectionNotes = append(n.sectionNotes, Entry{
					Kind: KindOther, Resource: "Composition.section", Path: spath, Section: title,
					Text: firstNonEmpty(title, "Section"), Notes: []string{txt}, Provenance: n.prov,
				})
			}
		}
		for j, e := range s.Entry {
			node, ok := n.idx.resolve(e.Reference)
			if !ok {
				if e.Reference != "" {
					n.probs.fold(severityWarning, "unresolved-reference", "section", fmt.Sprintf("%s.entry[%d]", spath, j),
						fmt.Sprintf("section %q lists %q, which is not in the bundle", title, e.Reference))
				}
				continue
			}
			n.checkRefType(e.Reference, node, fmt.Sprintf("%s.entry[%d]", spath, j))
			if node.section == "" {
				node.section = title
			}
		}
		n.sections(s.Section, spath+".section")
	}
}

// checkRefType reports a reference whose "Type/" part names another type
// than the resource it found (the NHA wrapper sample lists MedicationRequests
// as "MedicationRequestFamilyHistory/…").
func (n *normaliser) checkRefType(ref string, node *bundleNode, path string) {
	if ref == node.fullURL {
		return
	}
	tid := typeAndID(ref)
	if tid == "" {
		return
	}
	if typ := tid[:strings.IndexByte(tid, '/')]; typ != node.res.ResourceType {
		n.probs.fold(severityWarning, "reference-type-mismatch", typ+"\x00"+node.res.ResourceType, path,
			fmt.Sprintf("reference %q names type %s but resolves (by id) to a %s", ref, typ, node.res.ResourceType))
	}
}

// fallbackPatient fills the patient when the Composition's subject did not
// resolve: the bundle's only Patient, else a display name seen on a
// subject reference.
func (n *normaliser) fallbackPatient(subject *inReference) {
	for i := range n.idx.nodes {
		if n.idx.nodes[i].res.ResourceType == "Patient" {
			ref := n.rec.Patient.Reference
			n.rec.Patient = n.subject(&n.idx.nodes[i])
			n.rec.Patient.Reference = ref
			return
		}
	}
	if subject != nil && subject.Display != "" {
		n.rec.Patient.Name = subject.Display
		return
	}
	for _, node := range n.idx.nodes {
		for _, r := range []*inReference{node.res.Subject, node.res.Patient} {
			if r != nil && r.Display != "" {
				n.rec.Patient.Name = r.Display
				return
			}
		}
	}
	// Only a reference to a Patient that is not in the bundle: keep it,
	// the HIU can still match it against the care context.
	for _, node := range n.idx.nodes {
		for _, r := range []*inReference{node.res.Subject, node.res.Patient} {
			if r != nil && r.Reference != "" && n.rec.Patient.Reference == "" {
				n.rec.Patient.Reference = r.Reference
				n.probs.add(severityWarning, "unresolved-reference", node.path+".subject",
					fmt.Sprintf("the patient %q is not in the bundle", r.Reference))
				return
			}
		}
	}
}

func (n *normaliser) fallbackOrganisation() {
	if n.rec.Organisation != nil {
		return
	}
	for i := range n.idx.nodes {
		node := &n.idx.nodes[i]
		if node.res.ResourceType == "Organization" {
			p := n.partyFrom("custodian", node)
			n.rec.Organisation = &p
			return
		}
	}
}

// subject reads a Patient resource.
func (n *normaliser) subject(node *bundleNode) Subject {
	node.consumed = true
	r := node.res
	s := Subject{Name: personName(r.Name), Gender: r.Gender, BirthDate: r.BirthDate}
	for i, id := range r.Identifier {
		s.Identities = append(s.Identities, n.identity(id, "Patient", fmt.Sprintf("%s.identifier[%d]", node.path, i)))
	}
	if len(r.Identifier) == 0 {
		n.probs.add(severityWarning, "patient-without-identifier", node.path+".identifier",
			"the Patient has no identifier (no ABHA number, ABHA address or MRN)")
	}
	return s
}

// party reads a reference to a practitioner or organisation.
func (n *normaliser) party(role string, ref *inReference, path string) (Party, bool) {
	if node, ok := n.idx.resolve(ref.Reference); ok {
		return n.partyFrom(role, node), true
	}
	if ref.Reference != "" {
		n.probs.add(severityWarning, "unresolved-reference", path,
			fmt.Sprintf("%s %q is not in the bundle", role, ref.Reference))
	}
	if ref.Display == "" {
		return Party{}, false
	}
	return Party{Role: role, Name: ref.Display}, true
}

func (n *normaliser) partyFrom(role string, node *bundleNode) Party {
	r := node.res
	switch r.ResourceType {
	case "Practitioner", "Organization", "PractitionerRole", "Patient", "RelatedPerson", "Device":
		node.consumed = true
	}
	p := Party{Role: role, Resource: r.ResourceType, Name: personName(r.Name)}
	if r.ResourceType == "PractitionerRole" {
		p.Name = conceptText(r.Code)
	}
	for i, id := range r.Identifier {
		p.Identities = append(p.Identities, n.identity(id, r.ResourceType, fmt.Sprintf("%s.identifier[%d]", node.path, i)))
	}
	return p
}

// narrativeText is the plain text of an XHTML narrative: tags dropped,
// entities decoded, whitespace collapsed.
func narrativeText(div string) string {
	var b strings.Builder
	inTag := false
	for _, r := range div {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>':
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}
