package nrces

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reader reads FHIR documents received from other systems (an HIP's data
// push, a PHR upload) into Records. The zero Reader is ready to use.
//
// Reading is lenient by design: a clean-up pass repairs what strict
// parsers reject (see the cleanup*.go rules), the rest is decoded into
// plain Go values, and whatever cannot be read is kept raw as a document
// entry. Nothing is dropped, and every repair is reported as a Problem.
type Reader struct {
	// Location is the zone assumed for dateTimes that have a time but no
	// zone. Nil means India Standard Time.
	Location *time.Location
	// CheckR4 also runs the R4 clean-up pass and google/fhir/go's R4
	// parser over the document and adds what they report to the record's
	// problems (unknown properties, values the R4 types reject, …). The
	// normalised entries do not change. google/fhir/go parses structured
	// bundles at a tenth of the lenient read's speed; see the
	// BenchmarkReadCheckR4 and BenchmarkGoogleUnmarshal benchmarks.
	CheckR4 bool
}

// Read reads data with the zero Reader.
func Read(ctx context.Context, data []byte, prov Provenance) (*Record, error) {
	var r Reader
	return r.Read(ctx, data, prov)
}

// Read reads one FHIR document. prov is copied onto the record and every
// entry. The error is non-nil only when ctx is done: unreadable input
// gives a record whose one entry holds the input as it came.
func (r *Reader) Read(ctx context.Context, data []byte, prov Provenance) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	loc := r.Location
	if loc == nil {
		loc = indiaZone
	}
	n := newNormaliser(loc, prov)
	root, unreadable := n.decode(data)
	if root != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n.normalise(root)
	}
	n.rec.Entries = append(n.rec.Entries, unreadable...)
	if r.CheckR4 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, probs, err := parseR4(ctx, data, loc)
		if err != nil {
			return nil, fmt.Errorf("checking against R4: %w", err)
		}
		n.mergeR4(probs)
	}
	n.rec.Problems = n.probs.list
	if n.rec.Problems == nil {
		n.rec.Problems = []Problem{}
	}
	return n.rec, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decode decodes data in one pass. If a value has the wrong JSON type, it
// decodes again entry by entry, so the bad element is pinned to its
// resource and every other resource is still read. Resources that are not
// readable at all come back as entries holding their raw JSON.
func (n *normaliser) decode(data []byte) (*inResource, []Entry) {
	if rest, ok := bytes.CutPrefix(data, utf8BOM); ok {
		n.probs.add(severityInfo, "byte-order-mark", "", "the document starts with a UTF-8 byte-order mark; ignored")
		data = rest
	}
	skeleton, blobs := cutBlobs(data)
	var root inResource
	err := json.Unmarshal(skeleton, &root)
	n.blobs = blobs
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		if root.ResourceType == "" || !isR4ResourceType(root.ResourceType) {
			return nil, n.wholeUnreadable(data, root.ResourceType)
		}
		if !n.entriesReadable(&root) {
			return n.decodeCarefully(data)
		}
		return &root, nil
	case errors.As(err, &typeErr):
		return n.decodeCarefully(data)
	default:
		n.probs.add(severityError, "unreadable-json", "", fmt.Sprintf("the document is not valid JSON (%v); kept as it came", err))
		return nil, []Entry{n.unreadableEntry(data, "", "", "document")}
	}
}

// decodeCarefully decodes the document again, without cutting blobs so
// that raw bytes kept for unreadable parts are the input's.
func (n *normaliser) decodeCarefully(data []byte) (*inResource, []Entry) {
	n.blobs = nil
	var root inResource
	err := json.Unmarshal(data, &root)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return n.decodeEntries(data, &root)
	case errors.As(err, &typeErr):
		if root.ResourceType == "" || !isR4ResourceType(root.ResourceType) {
			return nil, n.wholeUnreadable(data, root.ResourceType)
		}
		if typeErr.Field != "entry" && !strings.HasPrefix(typeErr.Field, "entry.") {
			n.probs.add(severityWarning, "wrong-json-type", root.ResourceType+"."+typeErr.Field,
				fmt.Sprintf("a JSON %s where %s was expected; that element was skipped", typeErr.Value, jsonKind(typeErr.Type.Kind().String())))
		}
		if root.ResourceType != "Bundle" {
			return &root, nil
		}
		return n.decodeEntries(data, &root)
	default:
		n.probs.add(severityError, "unreadable-json", "", fmt.Sprintf("the document is not valid JSON (%v); kept as it came", err))
		return nil, []Entry{n.unreadableEntry(data, "", "", "document")}
	}
}

func (n *normaliser) wholeUnreadable(data []byte, resourceType string) []Entry {
	n.probs.add(severityError, "unreadable-resource", "",
		fmt.Sprintf("the document is a JSON object but not a FHIR R4 resource (resourceType %q); kept as it came", resourceType))
	return []Entry{n.unreadableEntry(data, "", resourceType, "document")}
}

// entriesReadable reports whether every entry decoded to a known resource.
func (n *normaliser) entriesReadable(root *inResource) bool {
	for _, e := range root.Entry {
		if e.Resource == nil || !isR4ResourceType(e.Resource.ResourceType) {
			return false
		}
	}
	return true
}

// decodeEntries is the slow, careful path: each entry is decoded on its
// own from its raw bytes.
func (n *normaliser) decodeEntries(data []byte, root *inResource) (*inResource, []Entry) {
	var shell struct {
		Entry []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(data, &shell); err != nil {
		// The entry array itself is malformed: keep what decoded and the
		// whole document raw, so nothing is lost.
		n.probs.add(severityError, "unreadable-resource", "Bundle.entry",
			fmt.Sprintf("Bundle.entry could not be read (%v); the whole document is kept as it came", err))
		root.Entry = nil
		return root, []Entry{n.unreadableEntry(data, "Bundle.entry", "Bundle", "bundle")}
	}
	var unreadable []Entry
	root.Entry = root.Entry[:0]
	for i, raw := range shell.Entry {
		path := "Bundle.entry[" + strconv.Itoa(i) + "]"
		var e inEntry
		err := json.Unmarshal(raw, &e)
		var typeErr *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &typeErr) {
			n.probs.add(severityError, "unreadable-resource", path, fmt.Sprintf("entry could not be read (%v); kept as it came", err))
			unreadable = append(unreadable, n.unreadableEntry(raw, path, "", "entry"))
			root.Entry = append(root.Entry, inEntry{}) // keeps later entries' positions
			continue
		}
		if e.Resource == nil || e.Resource.ResourceType == "" || !isR4ResourceType(e.Resource.ResourceType) {
			rt := ""
			if e.Resource != nil {
				rt = e.Resource.ResourceType
			}
			msg := "entry has no resource"
			if e.Resource != nil {
				msg = fmt.Sprintf("resourceType %q is not a FHIR R4 resource", rt)
			}
			n.probs.add(severityError, "unreadable-resource", path, msg+"; kept as it came")
			unreadable = append(unreadable, n.unreadableEntry(raw, path, rt, "entry"))
			root.Entry = append(root.Entry, inEntry{})
			continue
		}
		if typeErr != nil {
			field := typeErr.Field
			if field == "" {
				field = "resource"
			}
			n.probs.add(severityWarning, "wrong-json-type", path+"."+field,
				fmt.Sprintf("a JSON %s where %s was expected; that element was skipped, the rest of the %s read",
					typeErr.Value, jsonKind(typeErr.Type.Kind().String()), e.Resource.ResourceType))
		}
		root.Entry = append(root.Entry, e)
	}
	return root, unreadable
}

// unreadableEntry keeps raw bytes as a document the clinician can open.
func (n *normaliser) unreadableEntry(raw []byte, path, resourceType, what string) Entry {
	kept := make([]byte, len(raw))
	copy(kept, raw)
	if path == "" {
		path = "Bundle"
	}
	return Entry{
		Kind:       KindDocument,
		Resource:   resourceType,
		Path:       path,
		Text:       "unreadable " + what + " kept as-is",
		Unreadable: true,
		Attachments: []Attachment{{
			ContentType: "application/fhir+json",
			Title:       "unreadable " + what,
			Size:        int64(len(kept)),
			Data:        kept,
		}},
		Provenance: n.prov,
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "struct":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "a boolean"
	}
	return "a " + k
}
