package nrces

import "strings"

// Reference resolution inside a bundle. NRCeS 6.x bundles use urn:uuid
// fullUrls and references; 2.0.1 examples, ProjectEKA and the ABDM docs
// use relative "Type/id" fullUrls; others send bare ids, absolute server
// URLs or no fullUrl at all. Every resource is therefore findable by its
// fullUrl as sent, by Type/id, and by its id alone when that is unique.

// bundleNode is one resource of the bundle.
type bundleNode struct {
	res     *inResource
	fullURL string
	path    string // Bundle.entry[i].resource
	section string // first Composition section listing it
	label   string // name a referrer gives it (a report's media link display)
	// consumed is set when the resource is folded into another entry or
	// the record header (a Medication into its MedicationRequest, an
	// Endpoint into its ImagingStudy, the Patient into Record.Patient).
	consumed bool
}

type bundleIndex struct {
	nodes []bundleNode
	byKey map[string]int
	byID  map[string]int // -1 when ambiguous
}

func newBundleIndex(size int) *bundleIndex {
	return &bundleIndex{
		nodes: make([]bundleNode, 0, size),
		byKey: make(map[string]int, 2*size),
		byID:  make(map[string]int, size),
	}
}

// addNode indexes a resource and reports whether its fullUrl duplicated
// an earlier one (the later one wins for fullUrl lookups, as the earlier
// stays reachable by its position).
func (ix *bundleIndex) addNode(n bundleNode) (duplicate bool) {
	i := len(ix.nodes)
	ix.nodes = append(ix.nodes, n)
	if n.fullURL != "" {
		if _, dup := ix.byKey[n.fullURL]; dup {
			duplicate = true
		}
		ix.byKey[n.fullURL] = i
		if tid := typeAndID(n.fullURL); tid != "" {
			ix.setIfAbsent(tid, i)
		}
	}
	id := string(n.res.ID)
	if id != "" {
		if n.res.ResourceType != "" {
			ix.setIfAbsent(n.res.ResourceType+"/"+id, i)
		}
		if prev, seen := ix.byID[id]; seen && prev != i {
			ix.byID[id] = -1
		} else {
			ix.byID[id] = i
		}
	}
	return duplicate
}

func (ix *bundleIndex) setIfAbsent(key string, i int) {
	if _, ok := ix.byKey[key]; !ok {
		ix.byKey[key] = i
	}
}

// resolve finds the resource a reference points at.
func (ix *bundleIndex) resolve(ref string) (*bundleNode, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || ref[0] == '#' {
		return nil, false
	}
	if i, ok := ix.byKey[ref]; ok {
		return &ix.nodes[i], true
	}
	if k := strings.Index(ref, "/_history/"); k > 0 {
		return ix.resolve(ref[:k])
	}
	if tid := typeAndID(ref); tid != "" {
		if i, ok := ix.byKey[tid]; ok {
			return &ix.nodes[i], true
		}
	}
	id := ref
	if rest, ok := strings.CutPrefix(ref, "urn:uuid:"); ok {
		id = rest
	} else if k := strings.LastIndexByte(ref, '/'); k >= 0 {
		id = ref[k+1:]
	}
	if i, ok := ix.byID[id]; ok && i >= 0 {
		return &ix.nodes[i], true
	}
	return nil, false
}

// typeAndID returns "Type/id" from a relative or absolute literal
// reference ("Patient/1", "https://hip.example/fhir/Patient/1"), or "".
func typeAndID(ref string) string {
	if strings.HasPrefix(ref, "urn:") {
		return ""
	}
	k := strings.LastIndexByte(ref, '/')
	if k <= 0 || k == len(ref)-1 {
		return ""
	}
	j := strings.LastIndexByte(ref[:k], '/')
	typ := ref[j+1 : k]
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return ""
	}
	return ref[j+1:]
}

// refLabel is how a reference is shown: its display, else the reference.
func refLabel(r *inReference) string {
	if r == nil {
		return ""
	}
	if r.Display != "" {
		return r.Display
	}
	if r.Reference != "" {
		return r.Reference
	}
	if r.Identifier != nil {
		return string(r.Identifier.Value)
	}
	return ""
}
