package nrces

import (
	"net/url"
	"slices"
	"strings"
)

// checkEntries applies the resource profiles (profiles_resources.go) and the
// identifier rules to every entry but the Composition.
func checkEntries(fs *findingList, b *gateIndex, info *compositionInfo) {
	for _, e := range b.entries {
		if e == nil || e.typ == "Composition" {
			continue
		}
		start := jnode{e.loc, e.resource}
		claimed := jprofiles(e.resource)
		key := resourceRuleKey(e.typ, claimed, e.resource["media"] != nil || e.resource["imagingStudy"] != nil)
		rr, ok := resourceRules[key]
		if !ok {
			continue
		}
		checkProfileClaim(fs, e, claimed, rr)
		for _, r := range rr.required {
			checkRequired(fs, start, e.typ, rr.profile, r)
		}
		for _, c := range rr.coded {
			checkCoded(fs, start, rr.profile, c)
		}
		for _, f := range rr.forbidden {
			parentPath, name := splitLastSeg(f)
			parents := []jnode{start}
			if parentPath != "" {
				parents = jwalk(start, parentPath)
			}
			for _, p := range parents {
				if jpresent(p.obj[name]) {
					fs.errorf(p.loc+"."+name, "nrces-choice-type", "%s is not allowed by the NRCeS %s profile", name, rr.profile)
				}
			}
		}
		if sr := info.sectionOf[e]; sr != nil && sr.valueTypes != nil && e.typ == "Observation" {
			if vt := jchoiceType(e.resource, "value"); vt != "" && !slices.Contains(sr.valueTypes, vt) {
				fs.errorf(e.loc+".value"+vt, "nrces-value-type", "an Observation in the %q section may have value%s only, not value%s",
					sr.title, strings.Join(sr.valueTypes, " or value"), vt)
			}
		}
		checkIdentifiers(fs, e)
	}
}

// checkProfileClaim warns when a resource claims no NRCeS profile: FHIR does
// not require the claim, but validators run with the IG only check what
// claims a profile, and every IG example carries one.
func checkProfileClaim(fs *findingList, e *gateEntry, claimed []string, rr resourceRule) {
	for _, c := range claimed {
		if _, ok := nrcesProfileName(c); ok {
			if !strings.HasPrefix(c, "https://") {
				fs.warnf(e.loc+".meta.profile", "nrces-profile", "profile %q uses http://; the canonical URL starts https://", c)
			}
			return
		}
	}
	fs.warnf(e.loc+".meta.profile", "nrces-profile", "%s claims no NRCeS profile; expected %s", e.typ, profileBase+rr.profile)
}

func splitLastSeg(path string) (parent, name string) {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// checkRequired reports r.path missing wherever its parent element exists.
func checkRequired(fs *findingList, start jnode, typ, profile string, r requiredRule) {
	parentPath, name := splitLastSeg(r.path)
	parents := []jnode{start}
	if parentPath != "" {
		parents = jwalk(start, parentPath)
	}
	rule := r.rule
	if rule == "" {
		rule = "nrces-required"
	}
	for _, p := range parents {
		if !jhas(p.obj, name) {
			fs.errorf(p.loc+"."+strings.TrimSuffix(name, "[x]"), rule, "%s.%s is missing; the NRCeS %s profile requires it", typ, r.path, profile)
		}
	}
}

// checkCoded checks every coding of a CodeableConcept element: system, code
// and display present, system allowed, coding count.
func checkCoded(fs *findingList, start jnode, profile string, c codedRule) {
	for _, cc := range jwalk(start, c.path) {
		codings := jchildren(cc, "coding")
		if c.maxCodings > 0 && len(codings) > c.maxCodings {
			fs.errorf(cc.loc+".coding", "nrces-coding", "%d codings; the NRCeS %s profile allows %d", len(codings), profile, c.maxCodings)
		}
		for _, cd := range codings {
			var missing []string
			for _, f := range []string{"system", "code", "display"} {
				if !jpresent(cd.obj[f]) {
					missing = append(missing, f)
				}
			}
			if len(missing) > 0 {
				fs.errorf(cd.loc, "nrces-coding", "coding lacks %s; the NRCeS %s profile requires system, code and display", strings.Join(missing, " and "), profile)
			}
			if sys := jstr(cd.obj, "system"); sys != "" && c.systems != nil && !slices.Contains(c.systems, sys) {
				fs.errorf(cd.loc+".system", "nrces-code-system", "code system %q is not allowed here; the NRCeS %s profile takes %s",
					sys, profile, strings.Join(c.systems, " or "))
			}
		}
	}
}

// expectedRegistry is the ABDM registry whose ids each participant carries.
var expectedRegistry = map[string]registry{
	"Patient":      registryABHA,
	"Practitioner": registryHPR,
	"Organization": registryHFR,
}

// checkIdentifiers checks identifier systems of patients, practitioners and
// organisations. No profile fixes the system strings, and real bundles spell
// them many ways (fhir-profiles.md §3), so only what is certainly wrong is an
// error: a system that is not an absolute URI, or another registry's
// namespace (an HFR id on a Patient). Sandbox hosts and malformed ABHA
// numbers are warnings.
func checkIdentifiers(fs *findingList, e *gateEntry) {
	want, ok := expectedRegistry[e.typ]
	if !ok {
		return
	}
	for _, id := range jchildren(jnode{e.loc, e.resource}, "identifier") {
		sys := jstr(id.obj, "system")
		if sys == "" {
			continue // Organization's 1..1 is a profile rule; others may omit it
		}
		if !isAbsURI(sys) {
			fs.errorf(id.loc+".system", "nrces-identifier-system", "identifier.system %q is not an absolute URI (for example %s)", sys, defaultSystemFor(want))
			continue
		}
		reg, sandbox := registryOfSystem(sys)
		if reg != registryNone && reg != want {
			fs.errorf(id.loc+".system", "nrces-identifier-system", "a %s identifier uses %s, the %s namespace; %s ids belong to %s",
				e.typ, sys, reg, e.typ, want)
			continue
		}
		if sandbox {
			fs.warnf(id.loc+".system", "nrces-identifier-sandbox", "identifier.system %q is an ABDM sandbox namespace", sys)
		}
		if reg == registryABHA {
			v := jstr(id.obj, "value")
			if !abhaNumberPattern.MatchString(v) && !abhaAddressPattern.MatchString(v) {
				fs.warnf(id.loc+".value", "nrces-abha-format", "%q is neither a 14-digit ABHA number (12-3456-7890-1234) nor an ABHA address (name@abdm)", v)
			}
		}
	}
}

func defaultSystemFor(r registry) string {
	switch r {
	case registryABHA:
		return DefaultABHASystem
	case registryHPR:
		return DefaultHPRSystem
	}
	return DefaultHFRSystem
}

// isAbsURI reports whether s has a scheme and a body: a URL with a
// host, or an opaque URI such as urn:oid:….
func isAbsURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	return u.Host != "" || u.Opaque != ""
}
