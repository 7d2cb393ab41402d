package nrces

import (
	"slices"
	"strings"
)

// compositionInfo is what the Composition check learned for the resource
// checks: the record type and which section each entry sits in.
type compositionInfo struct {
	rule      *recordRule
	sectionOf map[*gateEntry]*sectionRule
}

// checkComposition applies the record-type Composition profile
// (profiles/<Record>.fsh, tabled in profiles.go).
func checkComposition(fs *findingList, b *gateIndex) *compositionInfo {
	var comp *gateEntry
	for _, e := range b.entries {
		if e != nil && e.typ == "Composition" {
			comp = e
			break
		}
	}
	info := &compositionInfo{sectionOf: map[*gateEntry]*sectionRule{}}
	if comp == nil {
		if len(b.entries) > 0 {
			fs.errorf("Bundle.entry", "nrces-composition-first", "the bundle has no Composition")
		}
		return info
	}
	loc, res := comp.loc, comp.resource

	for _, p := range jprofiles(res) {
		if t, ok := RecordTypeOfProfile(p); ok {
			info.rule = recordRuleFor(t)
			if !strings.HasPrefix(p, "https://") {
				fs.warnf(loc+".meta.profile", "nrces-profile", "profile %q uses http://; the canonical URL is %s", p, t.Profile())
			}
			break
		}
	}
	if info.rule == nil {
		if r := inferRecordType(res); r != nil {
			fs.errorf(loc+".meta.profile", "nrces-composition-profile",
				"Composition.meta.profile names no NRCeS record profile; its type says %s, so claim %s", r.name, r.typ.Profile())
			info.rule = r
		} else {
			fs.errorf(loc+".meta.profile", "nrces-composition-profile",
				"Composition.meta.profile names none of the eight NRCeS record profiles and its type matches none either")
		}
	}
	rule := info.rule
	if rule != nil {
		checkCompositionType(fs, loc, res, rule)
	}
	checkCompositionParticipants(fs, b, loc, res, rule)
	checkSections(fs, b, jnode{loc, res}, rule, info)
	return info
}

// inferRecordType guesses the record type of a Composition without a
// profile claim, from its type code or its fixed type text.
func inferRecordType(res jobj) *recordRule {
	typ := jobject(res, "type")
	for _, c := range jarray(typ, "coding") {
		co, _ := c.(jobj)
		code := jstr(co, "code")
		for i := range recordRules {
			if r := &recordRules[i]; r.typeCoding.Code != "" && r.typeCoding.Code == code {
				return r
			}
		}
	}
	text := strings.TrimSpace(jstr(typ, "text"))
	for i := range recordRules {
		if r := &recordRules[i]; r.typeText != "" && strings.EqualFold(r.typeText, text) {
			return r
		}
	}
	return nil
}

func checkCompositionType(fs *findingList, loc string, res jobj, rule *recordRule) {
	typ := jobject(res, "type")
	if rule.typeText != "" {
		if got := jstr(typ, "text"); got != rule.typeText {
			fs.errorf(loc+".type.text", "nrces-composition-type", "Composition.type.text is %q; %s fixes it to %q", got, rule.name, rule.typeText)
		}
		return
	}
	codings := jarray(typ, "coding")
	if len(codings) != 1 {
		fs.errorf(loc+".type.coding", "nrces-composition-type", "Composition.type has %d codings; %s allows exactly one (SNOMED CT %s %q)",
			len(codings), rule.name, rule.typeCoding.Code, rule.typeCoding.Display)
	}
	if len(codings) == 0 {
		return
	}
	c, _ := codings[0].(jobj)
	l := loc + ".type.coding[0]"
	if got := jstr(c, "system"); got != SystemSNOMED {
		fs.errorf(l+".system", "nrces-composition-type", "Composition.type system is %q; %s fixes it to %s", got, rule.name, SystemSNOMED)
	}
	if rule.typeSystemOnly {
		if !jpresent(c["code"]) {
			fs.errorf(l+".code", "nrces-composition-type", "Composition.type.coding.code is missing")
		}
		if !jpresent(c["display"]) {
			fs.errorf(l+".display", "nrces-composition-type", "Composition.type.coding.display is missing")
		}
		return
	}
	if got := jstr(c, "code"); got != rule.typeCoding.Code {
		fs.errorf(l+".code", "nrces-composition-type", "Composition.type code is %q; %s fixes it to %s %q",
			got, rule.name, rule.typeCoding.Code, rule.typeCoding.Display)
	} else if got := jstr(c, "display"); got != rule.typeCoding.Display {
		fs.errorf(l+".display", "nrces-composition-type", "Composition.type display is %q; %s fixes it to %q (exact match)",
			got, rule.name, rule.typeCoding.Display)
	}
}

// checkCompositionParticipants checks subject, encounter, author, custodian
// and attester: presence where the profile requires it and the type of what
// they point to. Dangling references are reported by checkReferences.
func checkCompositionParticipants(fs *findingList, b *gateIndex, loc string, res jobj, rule *recordRule) {
	name := "the record profile"
	if rule != nil {
		name = rule.name
	}
	target := func(l, rule string, ref jobj, allowed ...string) {
		r := jstr(ref, "reference")
		if r == "" {
			return
		}
		if e, st := b.resolve(r); st == refResolved && !slices.Contains(allowed, e.typ) {
			fs.errorf(l+".reference", rule, "points to a %s; %s allows %s", e.typ, name, strings.Join(allowed, " or "))
		}
	}

	if subj := jobject(res, "subject"); !jpresent(subj["reference"]) {
		fs.errorf(loc+".subject.reference", "nrces-composition-subject", "Composition.subject.reference is missing; %s requires the Patient", name)
	} else {
		target(loc+".subject", "nrces-composition-subject", subj, "Patient")
	}

	enc := jobject(res, "encounter")
	if rule != nil && rule.encounterRequired && !jpresent(enc["reference"]) {
		fs.errorf(loc+".encounter.reference", "nrces-composition-encounter", "Composition.encounter is missing; %s requires it (1..1)", name)
	}
	target(loc+".encounter", "nrces-composition-encounter", enc, "Encounter")

	for _, a := range jchildren(jnode{loc, res}, "author") {
		if rule != nil && rule.authorReferenceRequired && !jpresent(a.obj["reference"]) {
			fs.errorf(a.loc+".reference", "nrces-composition-author", "Composition.author.reference is missing; %s requires it", name)
		}
		target(a.loc, "nrces-composition-author", a.obj, compositionAuthorTargets...)
	}
	target(loc+".custodian", "nrces-composition-custodian", jobject(res, "custodian"), "Organization")
	for _, a := range jchildren(jnode{loc, res}, "attester") {
		target(a.loc+".party", "nrces-composition-attester", jobject(a.obj, "party"),
			"RelatedPerson", "Patient", "Practitioner", "PractitionerRole", "Organization")
	}
}

func checkSections(fs *findingList, b *gateIndex, comp jnode, rule *recordRule, info *compositionInfo) {
	sections := jchildren(comp, "section")
	if rule != nil {
		switch {
		case rule.slicing == sliceSingle && len(sections) != 1:
			fs.errorf(comp.loc+".section", "nrces-section-count", "the Composition has %d sections; %s has exactly one", len(sections), rule.name)
		case len(sections) == 0:
			fs.errorf(comp.loc+".section", "nrces-section-count", "the Composition has no sections; %s needs at least one", rule.name)
		}
	}
	seen := map[*sectionRule]string{}
	for _, s := range sections {
		var sr *sectionRule
		if rule != nil {
			switch rule.slicing {
			case sliceSingle:
				sr = &rule.sections[0]
				checkSingleSectionCode(fs, s, sr, rule)
			case sliceByCode:
				sr = matchSectionByCode(fs, s, rule)
			case sliceByTitle:
				sr = matchSectionByTitle(fs, s, rule)
			}
		}
		if sr != nil && rule.slicing != sliceSingle {
			if first, dup := seen[sr]; dup {
				fs.errorf(s.loc, "nrces-section-count", "section %s appears again (first at %s); %s allows it once", sr.slice, first, rule.name)
			} else {
				seen[sr] = s.loc
			}
		}
		checkSectionEntries(fs, b, s, sr, rule, info)
	}
}

// matchSectionByCode finds the slice of an OP/DS section by its code, as the
// profiles' discriminator (code.coding.code) does, then checks the rest of
// the fixed coding.
func matchSectionByCode(fs *findingList, s jnode, rule *recordRule) *sectionRule {
	codings := jchildren(jnode{s.loc + ".code", jobject(s.obj, "code")}, "coding")
	for _, c := range codings {
		code := jstr(c.obj, "code")
		for i := range rule.sections {
			sr := &rule.sections[i]
			if sr.code.Code != code {
				continue
			}
			if len(codings) > 1 {
				fs.errorf(s.loc+".code.coding", "nrces-section-code", "section %s has %d codings; the profile allows one", sr.slice, len(codings))
			}
			if got := jstr(c.obj, "system"); got != sr.code.System {
				fs.errorf(c.loc+".system", "nrces-section-code", "section %s code system is %q; %s fixes it to %s", sr.slice, got, rule.name, sr.code.System)
			}
			if got := jstr(c.obj, "display"); got != sr.code.Display {
				fs.errorf(c.loc+".display", "nrces-section-code", "section %s display is %q; %s fixes it to %q (exact match)", sr.slice, got, rule.name, sr.code.Display)
			}
			return sr
		}
	}
	// Open slicing: other sections are legal but mean nothing to an
	// IG-driven receiver. Say so, and name the usual cause (OP codes in DS
	// and the reverse).
	desc := "no code"
	if len(codings) > 0 {
		desc = "code " + jstr(codings[0].obj, "system") + "|" + jstr(codings[0].obj, "code")
	}
	hint := ""
	for i := range recordRules {
		other := &recordRules[i]
		if other == rule {
			continue
		}
		for _, osr := range other.sections {
			if len(codings) > 0 && osr.code.Code != "" && osr.code.Code == jstr(codings[0].obj, "code") {
				hint = "; that is the " + other.name + " code for " + osr.slice
			}
		}
	}
	fs.warnf(s.loc+".code", "nrces-section-unknown", "section %q has %s, which matches no %s section slice%s",
		jstr(s.obj, "title"), desc, rule.name, hint)
	return nil
}

// matchSectionByTitle finds a WellnessRecord section by its exact title.
func matchSectionByTitle(fs *findingList, s jnode, rule *recordRule) *sectionRule {
	title := jstr(s.obj, "title")
	for i := range rule.sections {
		if rule.sections[i].title == title {
			return &rule.sections[i]
		}
	}
	hint := ""
	for _, sr := range rule.sections {
		if strings.EqualFold(strings.ReplaceAll(sr.title, " ", ""), strings.ReplaceAll(title, " ", "")) {
			hint = "; the slice is titled exactly " + `"` + sr.title + `"`
		}
	}
	fs.warnf(s.loc+".title", "nrces-section-unknown", "section title %q matches no %s section slice (sliced by exact title)%s", title, rule.name, hint)
	return nil
}

// checkSingleSectionCode checks the code of the one section of Prescription,
// Immunization, HealthDocument and DiagnosticReport records. Its codings are
// optional, but each one present must match the fixed values.
func checkSingleSectionCode(fs *findingList, s jnode, sr *sectionRule, rule *recordRule) {
	if sr.code.Code == "" {
		return
	}
	for _, c := range jchildren(jnode{s.loc + ".code", jobject(s.obj, "code")}, "coding") {
		if got := jstr(c.obj, "system"); got != sr.code.System {
			fs.errorf(c.loc+".system", "nrces-section-code", "section code system is %q; %s fixes it to %s", got, rule.name, sr.code.System)
		}
		if sr.codeSystemOnly {
			if !jpresent(c.obj["code"]) || !jpresent(c.obj["display"]) {
				fs.errorf(c.loc, "nrces-section-code", "section coding needs code and display (%s)", rule.name)
			}
			continue
		}
		if got := jstr(c.obj, "code"); got != sr.code.Code {
			fs.errorf(c.loc+".code", "nrces-section-code", "section code is %q; %s fixes it to %s %q", got, rule.name, sr.code.Code, sr.code.Display)
		} else if got := jstr(c.obj, "display"); got != sr.code.Display {
			fs.errorf(c.loc+".display", "nrces-section-code", "section display is %q; %s fixes it to %q (exact match)", got, rule.name, sr.code.Display)
		}
	}
}

// checkSectionEntries checks what a section's entries point to and, where
// the profile slices entries on Reference.type (closed), that each entry
// says its type.
func checkSectionEntries(fs *findingList, b *gateIndex, s jnode, sr *sectionRule, rule *recordRule, info *compositionInfo) {
	entries := jchildren(s, "entry")
	if sr != nil {
		if sr.minEntries > 0 && len(entries) < sr.minEntries {
			fs.errorf(s.loc+".entry", "nrces-section-entry-count", "the section has %d entries; %s requires at least %d", len(entries), rule.name, sr.minEntries)
		}
		if sr.maxEntries > 0 && len(entries) > sr.maxEntries {
			fs.errorf(s.loc+".entry", "nrces-section-entry-count", "the section has %d entries; %s allows at most %d", len(entries), rule.name, sr.maxEntries)
		}
	}
	counts := map[string]int{}
	for _, en := range entries {
		ref := jstr(en.obj, "reference")
		if ref == "" {
			fs.errorf(en.loc+".reference", "nrces-section-entry", "section entry has no reference (entry.reference 1..1)")
			continue
		}
		target, st := b.resolve(ref)
		if sr == nil {
			continue
		}
		if st == refResolved {
			if _, ok := info.sectionOf[target]; !ok {
				info.sectionOf[target] = sr
			}
			if !slices.Contains(sr.targets, target.typ) {
				fs.errorf(en.loc, "nrces-section-entry-type", "entry points to a %s; section %s of %s takes %s",
					target.typ, sr.slice, rule.name, strings.Join(sr.targets, " or "))
			}
		}
		if sr.entrySlices == nil {
			continue
		}
		et := jstr(en.obj, "type")
		var slice *entrySlice
		for i := range sr.entrySlices {
			if sr.entrySlices[i].typ == et {
				slice = &sr.entrySlices[i]
			}
		}
		switch {
		case et == "":
			fs.errorf(en.loc+".type", "nrces-section-entry-type", "entry.type is missing; %s slices section entries on it (closed), so each entry must say %s",
				rule.name, strings.Join(sliceTypes(sr), " or "))
		case slice == nil:
			fs.errorf(en.loc+".type", "nrces-section-entry-type", "entry.type %q is not allowed; %s takes %s", et, rule.name, strings.Join(sliceTypes(sr), " or "))
		case st == refResolved && target.typ != et:
			fs.errorf(en.loc+".type", "nrces-section-entry-type", "entry.type says %s but the entry points to a %s", et, target.typ)
		default:
			counts[et]++
		}
	}
	if sr == nil {
		return
	}
	for _, slice := range sr.entrySlices {
		if slice.max > 0 && counts[slice.typ] > slice.max {
			fs.errorf(s.loc+".entry", "nrces-section-entry-count", "the section has %d %s entries; %s allows at most %d",
				counts[slice.typ], slice.typ, rule.name, slice.max)
		}
	}
}

func sliceTypes(sr *sectionRule) []string {
	out := make([]string, len(sr.entrySlices))
	for i, s := range sr.entrySlices {
		out[i] = s.typ
	}
	return out
}
