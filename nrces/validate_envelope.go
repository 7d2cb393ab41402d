package nrces

import (
	"regexp"
	"strconv"
	"strings"
)

// urnUUIDPattern is R4's uuid type: lower-case hex, RFC 4122 layout.
var urnUUIDPattern = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkNRCeS runs every IG rule on a decoded bundle.
func checkNRCeS(root jobj) []Finding {
	var fs findingList
	if rt := jstr(root, "resourceType"); rt != "Bundle" {
		fs.errorf("Bundle.resourceType", "nrces-bundle-type", "resourceType is %q; an ABDM health record is a Bundle", rt)
		return fs
	}
	b := newGateIndex(root)
	checkEnvelope(&fs, b)
	rec := checkComposition(&fs, b)
	checkEntries(&fs, b, rec)
	checkReferences(&fs, b)
	return fs
}

// checkEnvelope applies DocumentBundle (profiles/DocumentBundle.fsh) and the
// R4 document invariants bdl-7, bdl-9, bdl-10 and bdl-11.
func checkEnvelope(fs *findingList, b *gateIndex) {
	root := b.root
	if t := jstr(root, "type"); t != "document" {
		fs.errorf("Bundle.type", "nrces-bundle-type", "Bundle.type is %q; DocumentBundle fixes it to \"document\"", t)
	}
	meta := jobject(root, "meta")
	switch {
	case meta == nil:
		fs.errorf("Bundle.meta", "nrces-bundle-meta", "Bundle.meta is missing; DocumentBundle requires meta with versionId")
	case !jpresent(meta["versionId"]):
		fs.errorf("Bundle.meta.versionId", "nrces-bundle-meta", "Bundle.meta.versionId is missing; DocumentBundle makes it 1..1")
	}
	profiles := jprofiles(root)
	hasProfile := false
	for _, p := range profiles {
		if p == profileDocumentBundle {
			hasProfile = true
		} else if name, ok := nrcesProfileName(p); ok && name == "DocumentBundle" {
			fs.warnf("Bundle.meta.profile", "nrces-profile", "profile %q uses http://; the canonical URL is %s", p, profileDocumentBundle)
			hasProfile = true
		}
	}
	if !hasProfile {
		fs.warnf("Bundle.meta.profile", "nrces-profile", "Bundle.meta.profile does not claim %s; validators and PHR apps expect it", profileDocumentBundle)
	}

	id := jobject(root, "identifier")
	switch {
	case id == nil:
		fs.errorf("Bundle.identifier", "nrces-bundle-identifier", "Bundle.identifier is missing (DocumentBundle 1..1, bdl-9)")
	default:
		if sys := jstr(id, "system"); sys == "" {
			fs.errorf("Bundle.identifier.system", "nrces-bundle-identifier", "Bundle.identifier.system is missing (DocumentBundle 1..1, bdl-9)")
		} else if !isAbsURI(sys) {
			fs.errorf("Bundle.identifier.system", "nrces-bundle-identifier", "Bundle.identifier.system %q is not an absolute URI", sys)
		}
		if !jpresent(id["value"]) {
			fs.errorf("Bundle.identifier.value", "nrces-bundle-identifier", "Bundle.identifier.value is missing (DocumentBundle 1..1, bdl-9)")
		}
	}
	if !jpresent(root["timestamp"]) {
		fs.errorf("Bundle.timestamp", "nrces-bundle-timestamp", "Bundle.timestamp is missing (DocumentBundle 1..1, bdl-10)")
	}

	entries := jarray(root, "entry")
	if len(entries) == 0 {
		fs.errorf("Bundle.entry", "nrces-composition-first", "the bundle has no entries; a document starts with its Composition (bdl-11)")
		return
	}
	if e := b.entries[0]; e == nil || e.typ != "Composition" {
		got := "no resource"
		if e != nil {
			got = e.typ
		}
		fs.errorf("Bundle.entry[0].resource", "nrces-composition-first", "the first entry is %s; a document bundle starts with its Composition (bdl-11)", got)
	}

	checkFullURLs(fs, entries, "a document", "IG 6.x bundles use")
}

// checkFullURLs checks that every entry has a resource and a unique fullUrl
// (bdl-7), urn:uuid ones well formed; others are warned about, since the
// IG's bundles use urn:uuid. what names the bundle kind in messages and
// convention whose practice the warning cites.
func checkFullURLs(fs *findingList, entries []any, what, convention string) {
	seen := map[string]int{}
	for i, raw := range entries {
		loc := "Bundle.entry[" + strconv.Itoa(i) + "]"
		eo, _ := raw.(jobj)
		if jobject(eo, "resource") == nil {
			fs.errorf(loc, "nrces-entry", "entry has no resource; every entry of %s carries one", what)
			continue
		}
		u := jstr(eo, "fullUrl")
		if u == "" {
			fs.errorf(loc+".fullUrl", "nrces-fullurl", "entry has no fullUrl, so nothing can reference it")
			continue
		}
		if j, dup := seen[u]; dup {
			fs.errorf(loc+".fullUrl", "nrces-fullurl", "fullUrl %q repeats entry[%d] (bdl-7)", u, j)
			continue
		}
		seen[u] = i
		switch {
		case strings.HasPrefix(u, "urn:uuid:"):
			if !urnUUIDPattern.MatchString(u) {
				fs.errorf(loc+".fullUrl", "nrces-fullurl", "fullUrl %q is not a valid lower-case urn:uuid", u)
			}
		case strings.HasPrefix(u, "urn:oid:"), strings.Contains(u, "://"):
			fs.warnf(loc+".fullUrl", "nrces-fullurl-style", "fullUrl %q: %s urn:uuid fullUrls", u, convention)
		default:
			fs.warnf(loc+".fullUrl", "nrces-fullurl-style", "fullUrl %q is relative; R4 asks for an absolute URL or urn:uuid, and %s urn:uuid", u, convention)
		}
	}
}
