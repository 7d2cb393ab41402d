package nrces

import "strconv"

// checkReferences resolves every Reference.reference in the bundle. A
// reference that cannot resolve inside a document is an error: urn:uuid and
// relative references have nowhere else to point, and receivers show "NA"
// for what they cannot find (fhir-profiles.md §4.5). An absolute URL to
// another server is legal and only a warning.
func checkReferences(fs *findingList, b *gateIndex) {
	for _, e := range b.entries {
		if e != nil {
			walkReferences(fs, b, e.loc, e.resource)
		}
	}
	if sig := jobject(b.root, "signature"); sig != nil {
		walkReferences(fs, b, "Bundle.signature", sig)
	}
}

func walkReferences(fs *findingList, b *gateIndex, loc string, v any) {
	switch x := v.(type) {
	case jobj:
		for _, k := range jkeys(x) {
			child := x[k]
			if k == "contained" {
				continue // contained resources resolve inside their container
			}
			if k == "reference" {
				if ref, ok := child.(string); ok {
					checkReference(fs, b, loc+".reference", ref)
				}
				continue
			}
			walkReferences(fs, b, loc+"."+k, child)
		}
	case []any:
		for i, item := range x {
			walkReferences(fs, b, loc+"["+strconv.Itoa(i)+"]", item)
		}
	}
}

func checkReference(fs *findingList, b *gateIndex, loc, ref string) {
	switch _, st := b.resolve(ref); st {
	case refDangling:
		fs.errorf(loc, "nrces-reference-resolve", "reference %q does not resolve to any entry of the bundle", ref)
	case refExternal:
		fs.warnf(loc, "nrces-reference-external", "reference %q points outside the bundle", ref)
	}
}
