package nrces

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// Gate is the quality gate every bundle passes before it leaves: the NRCeS
// IG 6.5.0 rules plus base FHIR R4 validation. It judges health-record
// documents and the NHCX insurance bundles (claims, eligibility, tasks) of
// the same IG, telling them apart by their profile claim or, failing that,
// their entries. A Gate is safe for concurrent use.
type Gate struct {
	r4 *jsonformat.Unmarshaller
}

// NewGate returns a gate.
func NewGate() (*Gate, error) {
	// The time zone only fills in dates without one; offsets in the data are
	// kept.
	u, err := jsonformat.NewUnmarshaller("Asia/Kolkata", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("creating the R4 unmarshaller: %w", err)
	}
	return &Gate{r4: u}, nil
}

// Check validates one bundle, given as JSON, and returns what it found, in
// bundle order with the base R4 findingList last. The bundle conforms when no
// finding is an error (see HasErrors). The error is only the context's.
func (g *Gate) Check(ctx context.Context, bundle []byte) ([]Finding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := decodeBundleJSON(bundle)
	if err != nil {
		return []Finding{{Location: "Bundle", Rule: "fhir-json", Severity: SeverityError,
			Message: "not a JSON object: " + err.Error()}}, nil
	}
	var fs []Finding
	if kind := nhcxKindOf(root); kind != nil {
		fs = checkNHCX(root, kind) // an NHCX insurance bundle (nhcx_gate.go)
	} else {
		fs = checkNRCeS(root)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fs = append(fs, g.checkR4(root, bundle)...)
	return fs, nil
}

// RejectedError is returned by Builder.Build when the built bundle fails the
// gate. The bundle must not go to the HIU; it belongs on a review list.
type RejectedError struct {
	Bundle   []byte
	Findings []Finding
}

func (e *RejectedError) Error() string {
	var first Finding
	n := 0
	for _, f := range e.Findings {
		if f.Severity == SeverityError {
			if n == 0 {
				first = f
			}
			n++
		}
	}
	return fmt.Sprintf("bundle failed the NRCeS quality gate with %d error(s), first: %s", n, first)
}

// ErrInvalidDocument marks a Document the builder cannot turn into a
// conformant bundle (missing mandatory data, content the record type cannot
// carry). Like a RejectedError, it is for review, not for retry.
var ErrInvalidDocument = errors.New("invalid document")

// findingList collects findingList.
type findingList []Finding

func (f *findingList) add(loc, rule string, sev Severity, format string, args ...any) {
	*f = append(*f, Finding{Location: loc, Rule: rule, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (f *findingList) errorf(loc, rule, format string, args ...any) {
	f.add(loc, rule, SeverityError, format, args...)
}

func (f *findingList) warnf(loc, rule, format string, args ...any) {
	f.add(loc, rule, SeverityWarning, format, args...)
}

// entry is one Bundle.entry with a resource.
type gateEntry struct {
	index    int
	loc      string // Bundle.entry[i].resource
	fullURL  string
	resource jobj
	typ      string
	id       string
}

// gateIndex is the bundle with its entries indexed for reference
// refStatus.
type gateIndex struct {
	root    jobj
	entries []*gateEntry // by entry position; nil where an entry has no resource
	byURL   map[string]*gateEntry
	byLocal map[string]*gateEntry // "Type/id"
}

func newGateIndex(root jobj) *gateIndex {
	b := &gateIndex{root: root, byURL: map[string]*gateEntry{}, byLocal: map[string]*gateEntry{}}
	for i, raw := range jarray(root, "entry") {
		eo, _ := raw.(jobj)
		res := jobject(eo, "resource")
		if res == nil {
			b.entries = append(b.entries, nil)
			continue
		}
		e := &gateEntry{
			index: i, loc: "Bundle.entry[" + strconv.Itoa(i) + "].resource",
			fullURL: jstr(eo, "fullUrl"), resource: res,
			typ: jstr(res, "resourceType"), id: jstr(res, "id"),
		}
		b.entries = append(b.entries, e)
		if e.fullURL != "" {
			if _, dup := b.byURL[e.fullURL]; !dup {
				b.byURL[e.fullURL] = e
			}
		}
		if e.typ != "" && e.id != "" {
			if _, dup := b.byLocal[e.typ+"/"+e.id]; !dup {
				b.byLocal[e.typ+"/"+e.id] = e
			}
		}
	}
	return b
}

// refStatus is how a reference resolved.
type refStatus int

const (
	refResolved  refStatus = iota
	refDangling            // a local reference (urn:uuid, Type/id, bare id) with no entry
	refExternal            // an absolute URL to somewhere else: legal, not checkable
	refContained           // "#id": points into the resource itself
)

// resolve finds the entry a Reference.reference points to, following R4's
// rules for references inside a bundle: match the fullUrl exactly; a
// relative Type/id matches an entry with that type and id (the base of the
// referring entry's fullUrl is not required, since producers mix styles).
func (b *gateIndex) resolve(ref string) (*gateEntry, refStatus) {
	if strings.HasPrefix(ref, "#") {
		return nil, refContained
	}
	if e, ok := b.byURL[ref]; ok {
		return e, refResolved
	}
	local := ref
	if i := strings.Index(local, "/_history/"); i >= 0 {
		local = local[:i]
	}
	if strings.HasPrefix(local, "urn:") {
		return nil, refDangling
	}
	if strings.Contains(local, "://") {
		// An absolute URL ending in Type/id may name an entry with a relative
		// fullUrl or an id only.
		parts := strings.Split(local, "/")
		if len(parts) >= 2 {
			if e, ok := b.byLocal[parts[len(parts)-2]+"/"+parts[len(parts)-1]]; ok {
				return e, refResolved
			}
		}
		return nil, refExternal
	}
	if e, ok := b.byLocal[local]; ok {
		return e, refResolved
	}
	// A relative fullUrl that is not Type/id-shaped still matches exactly
	// above; anything else is dangling.
	return nil, refDangling
}
