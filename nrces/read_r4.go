package nrces

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// ParseR4 parses a received document into google/fhir/go's R4 protos
// after the R4 clean-up pass (CleanR4). Base-spec violations the
// validating parser finds (a required element missing, a reference to the
// wrong type) are returned as warnings with the message. If the cleaned
// bundle still fails to parse, each entry is parsed on its own and the ones
// that fail are left out of the result and reported as errors, so one bad
// resource does not cost the rest; Read keeps such resources readable.
// The error is non-nil only when data is not a JSON FHIR resource or ctx
// is done.
func ParseR4(ctx context.Context, data []byte, loc *time.Location) (*bcrpb.ContainedResource, []Problem, error) {
	if loc == nil {
		loc = indiaZone
	}
	return parseR4(ctx, data, loc)
}

func parseR4(ctx context.Context, data []byte, loc *time.Location) (*bcrpb.ContainedResource, []Problem, error) {
	var c r4Cleaner
	cleaned, err := c.clean(data, loc)
	if err != nil {
		// Read has reported it already; there is nothing to parse.
		c.probs.add(severityError, "r4-unparsable", "", fmt.Sprintf("not checked against R4: %v", err))
		return nil, c.probs.list, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	u, err := newR4Unmarshaller(loc)
	if err != nil {
		return nil, nil, err
	}
	msg, err := u.Unmarshal(cleaned)
	if cr, ok := msg.(*bcrpb.ContainedResource); ok && cr != nil {
		// Parsed; err, if any, lists base-spec validation findings.
		if err != nil {
			c.r4Errors(err, severityWarning, "r4-invalid")
		}
		return cr, c.probs.list, nil
	}
	if err == nil {
		return nil, nil, fmt.Errorf("google/fhir/go returned %T", msg)
	}
	c.r4Errors(err, severityError, "r4-rejected")
	cr, err := c.salvageEntries(ctx, u, cleaned)
	if err != nil {
		return nil, nil, err
	}
	return cr, c.probs.list, nil
}

// newR4Unmarshaller returns a validating R4 unmarshaller using loc for
// dates. It takes a zone name; loc is set afterwards so that a fixed zone
// works without tzdata on the host.
func newR4Unmarshaller(loc *time.Location) (*jsonformat.Unmarshaller, error) {
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("making the R4 unmarshaller: %w", err)
	}
	u.TimeZone = loc
	return u, nil
}

// r4Errors turns google/fhir/go's error list (one `error at "path":
// details` per line) into problems.
func (c *r4Cleaner) r4Errors(err error, severity, code string) {
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		path := ""
		if rest, ok := strings.CutPrefix(line, `error at "`); ok {
			if i := strings.Index(rest, `": `); i >= 0 {
				path, line = rest[:i], rest[i+3:]
			}
		}
		c.probs.fold(severity, code, path+"\x00"+line, path, "google/fhir/go: "+line)
	}
}

// salvageEntries parses a bundle whose whole parse failed, leaving out the
// entries that fail on their own.
func (c *r4Cleaner) salvageEntries(ctx context.Context, u *jsonformat.Unmarshaller, cleaned []byte) (*bcrpb.ContainedResource, error) {
	var bundle map[string]json.RawMessage
	if err := json.Unmarshal(cleaned, &bundle); err != nil {
		return nil, fmt.Errorf("re-reading the cleaned document: %w", err)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(bundle["entry"], &entries); err != nil || len(entries) == 0 {
		return nil, nil
	}
	kept := entries[:0]
	for i, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var entry struct {
			Resource json.RawMessage `json:"resource"`
		}
		if err := json.Unmarshal(e, &entry); err != nil || entry.Resource == nil {
			kept = append(kept, e)
			continue
		}
		if msg, err := u.Unmarshal(entry.Resource); msg == nil && err != nil {
			c.probs.add(severityError, "r4-rejected-resource", fmt.Sprintf("Bundle.entry[%d].resource", i),
				"google/fhir/go cannot parse this resource even after clean-up; left out of the R4 parse (the lenient read keeps it)")
			continue
		}
		kept = append(kept, e)
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		return nil, fmt.Errorf("re-writing entries: %w", err)
	}
	bundle["entry"] = raw
	partial, err := json.Marshal(bundle)
	if err != nil {
		return nil, fmt.Errorf("re-writing the bundle: %w", err)
	}
	msg, _ := u.Unmarshal(partial)
	cr, _ := msg.(*bcrpb.ContainedResource)
	return cr, nil
}

// mergeR4 adds the R4 pass's findings to the record's problems, leaving
// out what the lenient read already reported under the same code.
func (n *normaliser) mergeR4(probs []Problem) {
	have := map[string]bool{}
	for _, p := range n.probs.list {
		have[p.Code] = true
	}
	for _, p := range probs {
		if have[p.Code] {
			continue
		}
		n.probs.list = append(n.probs.list, p)
	}
}
