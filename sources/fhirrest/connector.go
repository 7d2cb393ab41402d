package fhirrest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the parser resolves Asia/Kolkata without the host's zoneinfo

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// maxBody bounds one response; a page of search results is far smaller.
const maxBody = 32 << 20

// Connector reads a FHIR R4 server. It implements sources.Connector and
// sources.Poller.
type Connector struct {
	cfg     Config
	base    *url.URL
	token   string
	timeout time.Duration
	client  *http.Client
	sys     sources.System
	parser  *jsonformat.Unmarshaller
}

// Options configures Open beyond the source's config.
type Options struct {
	// Client is the HTTP client; nil means a new one. Tests pass the
	// httptest server's client.
	Client *http.Client
	// LookupEnvFunc reads the token_env variable (os.LookupEnv in serve).
	LookupEnvFunc func(string) (string, bool)
}

// Opener returns a sources.OpenFunc for the connector name "fhir".
func Opener(opts Options) sources.OpenFunc {
	return func(ctx context.Context, sys sources.System) (sources.Connector, error) {
		return Open(ctx, sys, opts)
	}
}

// Open returns a connector for sys from its config. Nothing is requested
// until the first call.
func Open(_ context.Context, sys sources.System, opts Options) (*Connector, error) {
	cfg, timeout, err := parseConfig(sys.Config)
	if err != nil {
		return nil, fmt.Errorf("source system %s: %w", sys.Code, err)
	}
	c := &Connector{cfg: cfg, timeout: timeout, client: opts.Client, sys: sys}
	c.base, _ = url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if c.client == nil {
		c.client = &http.Client{}
	}
	if cfg.TokenEnv != "" {
		if opts.LookupEnvFunc == nil {
			return nil, fmt.Errorf("source system %s: no environment lookup configured for token_env", sys.Code)
		}
		tok, ok := opts.LookupEnvFunc(cfg.TokenEnv)
		if !ok || tok == "" {
			return nil, fmt.Errorf("source system %s: environment variable %s (token_env) is not set", sys.Code, cfg.TokenEnv)
		}
		c.token = tok
	}
	// Without validation: a source's resources are taken as they are; one
	// missing a required element is still worth passing on.
	c.parser, err = jsonformat.NewUnmarshallerWithoutValidation("Asia/Kolkata", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("source system %s: FHIR parser: %w", sys.Code, err)
	}
	return c, nil
}

// Close implements sources.Connector.
func (c *Connector) Close() { c.client.CloseIdleConnections() }

// get reads one URL (relative to the base, or a next link on the same
// server) and parses the FHIR resource it returns.
func (c *Connector) get(ctx context.Context, u *url.URL) (*bcrpb.ContainedResource, error) {
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("%s: refusing to follow a link off the server (%s): %w", c.sys.Code, u.Host, sources.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", c.sys.Code, sources.ErrInvalidInput, err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s GET %s: %w: %w", c.sys.Code, u.Path, sources.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s GET %s: reading: %w: %w", c.sys.Code, u.Path, sources.ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// Wrong credentials fail every call: the source is unusable, not
		// the request wrong.
		return nil, fmt.Errorf("%s GET %s: %s (check token_env): %w", c.sys.Code, u.Path, resp.Status, sources.ErrUnavailable)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%s GET %s: %s: %w", c.sys.Code, u.Path, resp.Status, sources.ErrNotFound)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return nil, fmt.Errorf("%s GET %s: %s: %w", c.sys.Code, u.Path, resp.Status, sources.ErrInvalidInput)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s GET %s: %s: %w", c.sys.Code, u.Path, resp.Status, sources.ErrUnavailable)
	case len(body) > maxBody:
		return nil, fmt.Errorf("%s GET %s: response over %d bytes: %w", c.sys.Code, u.Path, maxBody, sources.ErrUnavailable)
	}
	msg, err := c.parser.Unmarshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s GET %s: not FHIR R4 JSON: %w: %w", c.sys.Code, u.Path, sources.ErrUnavailable, err)
	}
	cr, ok := msg.(*bcrpb.ContainedResource)
	if !ok {
		return nil, fmt.Errorf("%s GET %s: unexpected %T: %w", c.sys.Code, u.Path, msg, sources.ErrUnavailable)
	}
	return cr, nil
}

// search runs a search and follows its next links, returning the matches
// and, when includes is set, everything else the pages carried.
func (c *Connector) search(ctx context.Context, resource string, q url.Values) (matches, included []*bcrpb.ContainedResource, err error) {
	u := c.base.JoinPath(resource)
	u.RawQuery = q.Encode()
	for page := 0; page < c.cfg.MaxPages && u != nil; page++ {
		cr, err := c.get(ctx, u)
		if err != nil {
			return nil, nil, err
		}
		b := cr.GetBundle()
		if b == nil {
			return nil, nil, fmt.Errorf("%s search %s: answer is not a Bundle: %w", c.sys.Code, resource, sources.ErrUnavailable)
		}
		for _, e := range b.GetEntry() {
			if e.GetResource() == nil {
				continue
			}
			switch typ := typeOf(e.GetResource()); {
			case typ == "OperationOutcome":
			case typ == resource && e.GetSearch().GetMode().GetValue().String() != "INCLUDE":
				matches = append(matches, e.GetResource())
			default:
				included = append(included, e.GetResource())
			}
		}
		u = nil
		for _, l := range b.GetLink() {
			if l.GetRelation().GetValue() == "next" {
				next, err := c.base.Parse(l.GetUrl().GetValue())
				if err != nil {
					return nil, nil, fmt.Errorf("%s search %s: bad next link: %w", c.sys.Code, resource, sources.ErrUnavailable)
				}
				u = next
			}
		}
	}
	return matches, included, nil
}

// FindPatients implements sources.Connector.
func (c *Connector) FindPatients(ctx context.Context, q sources.PatientQuery) ([]patients.SourceRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	var searches []url.Values
	if id := strings.TrimSpace(q.LocalID); id != "" {
		searches = append(searches, url.Values{"_id": {id}})
	}
	if d := digits(q.ABHANumber); len(d) == 14 {
		dashed := d[:2] + "-" + d[2:6] + "-" + d[6:10] + "-" + d[10:]
		searches = append(searches, url.Values{"identifier": {c.cfg.ABHANumberSystem + "|" + d + "," + c.cfg.ABHANumberSystem + "|" + dashed}})
	}
	if a := strings.ToLower(strings.TrimSpace(q.ABHAAddress)); a != "" {
		searches = append(searches, url.Values{"identifier": {c.cfg.ABHAAddressSystem + "|" + a}})
	}
	if d := digits(q.Mobile); len(d) >= 10 {
		d = d[len(d)-10:]
		searches = append(searches, url.Values{"phone": {d + ",+91" + d + ",0" + d}})
	}
	if name := strings.Join(strings.Fields(q.Name), " "); name != "" && q.BirthYear > 0 {
		v := url.Values{"name": {name}, "birthdate": {fmt.Sprintf("ge%d-01-01", q.BirthYear), fmt.Sprintf("le%d-12-31", q.BirthYear)}}
		if g := genderParam[strings.ToUpper(q.Gender)]; g != "" {
			v.Set("gender", g)
		}
		searches = append(searches, v)
	}
	if len(searches) == 0 {
		return nil, fmt.Errorf("%s: no identifier or name with birth year to search on: %w", c.sys.Code, sources.ErrInvalidInput)
	}
	seen := map[string]bool{}
	var out []patients.SourceRecord
	for _, v := range searches {
		v.Set("_count", fmt.Sprint(limit))
		matches, _, err := c.search(ctx, "Patient", v)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			rec := c.patient(m)
			if rec.LocalID != "" && !seen[rec.LocalID] {
				seen[rec.LocalID] = true
				out = append(out, rec)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LocalID < out[j].LocalID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

var genderParam = map[string]string{"M": "male", "F": "female", "O": "other", "U": "unknown"}

// ListPatients implements sources.Connector. FHIR search pages by link, not
// by key, so a page after a given id is not something every server can
// answer: the connector reports ErrUnsupported.
func (c *Connector) ListPatients(context.Context, string, int) ([]patients.SourceRecord, error) {
	return nil, fmt.Errorf("%s: listing every patient of a FHIR server: %w", c.sys.Code, sources.ErrUnsupported)
}

// CareContexts implements sources.Connector.
func (c *Connector) CareContexts(ctx context.Context, patientID string, from, to time.Time) ([]sources.CareContext, error) {
	if patientID == "" {
		return nil, fmt.Errorf("%s: care contexts of an empty patient id: %w", c.sys.Code, sources.ErrInvalidInput)
	}
	if to.IsZero() {
		to = time.Now().AddDate(1, 0, 0)
	}
	var out []sources.CareContext
	for _, cc := range c.cfg.Contexts {
		v := url.Values{
			cc.PatientParam: {"Patient/" + patientID},
			cc.DateParam:    {"ge" + from.Format(time.RFC3339), "lt" + to.Format(time.RFC3339)},
			"_count":        {"100"},
		}
		for k, val := range cc.Search {
			v.Set(k, val)
		}
		matches, _, err := c.search(ctx, cc.Resource, v)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			if ctx, ok := c.careContext(cc, m, patientID); ok {
				out = append(out, ctx)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Date.Equal(out[j].Date) {
			return out[i].Date.After(out[j].Date)
		}
		return out[i].Reference < out[j].Reference
	})
	return out, nil
}

func (c *Connector) contextConfig(typ string) (ContextConfig, error) {
	for _, cc := range c.cfg.Contexts {
		if cc.Type == typ {
			return cc, nil
		}
	}
	return ContextConfig{}, fmt.Errorf("%s: no care-context type %q: %w", c.sys.Code, typ, sources.ErrNotFound)
}

// Fetch implements sources.Connector.
func (c *Connector) Fetch(ctx context.Context, ref sources.ContextRef) (*sources.Content, error) {
	cc, err := c.contextConfig(ref.Type)
	if err != nil {
		return nil, err
	}
	v := url.Values{"_id": {ref.LocalID}}
	if len(cc.Include) > 0 {
		v["_include"] = cc.Include
	}
	if len(cc.RevInclude) > 0 {
		v["_revinclude"] = cc.RevInclude
	}
	matches, included, err := c.search(ctx, cc.Resource, v)
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("%s: care context %s: %w", c.sys.Code, sources.Reference(c.sys.Code, ref), sources.ErrNotFound)
	}
	patientID := patientOf(matches[0])
	care, ok := c.careContext(cc, matches[0], patientID)
	if !ok {
		return nil, fmt.Errorf("%s: %s/%s names no patient: %w", c.sys.Code, cc.Resource, ref.LocalID, sources.ErrUnavailable)
	}
	content := &sources.Content{CareContext: care, PatientID: sources.ResourceID(c.sys.FacilityHFRID, c.sys.Code, "Patient/"+patientID)}
	content.Resources = c.rewrite(append(matches[:1:1], included...))
	return content, nil
}

// ChangedSince implements sources.Poller with _lastUpdated searches.
func (c *Connector) ChangedSince(ctx context.Context, since time.Time, limit int) ([]sources.CareContext, error) {
	if limit <= 0 {
		limit = 500
	}
	var out []sources.CareContext
	for _, cc := range c.cfg.Contexts {
		v := url.Values{"_lastUpdated": {"gt" + since.Format(time.RFC3339Nano)}, "_sort": {"_lastUpdated"}, "_count": {fmt.Sprint(min(limit, 500))}}
		for k, val := range cc.Search {
			v.Set(k, val)
		}
		matches, _, err := c.search(ctx, cc.Resource, v)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			if care, ok := c.careContext(cc, m, patientOf(m)); ok && !care.Updated.IsZero() {
				out = append(out, care)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated.Before(out[j].Updated) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Ping implements sources.Connector: the server's CapabilityStatement.
func (c *Connector) Ping(ctx context.Context) error {
	cr, err := c.get(ctx, c.base.JoinPath("metadata"))
	if err != nil {
		return err
	}
	if cr.GetCapabilityStatement() == nil {
		return fmt.Errorf("%s: /metadata is not a CapabilityStatement: %w", c.sys.Code, sources.ErrUnavailable)
	}
	return nil
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
