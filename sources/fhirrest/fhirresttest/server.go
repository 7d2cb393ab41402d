// Package fhirresttest is a small FHIR R4 REST server over resources held
// in memory, for tests of the fhirrest connector and for the sandbox's
// stand-in hospital systems. It answers the searches fhirrest makes (by
// identifier, phone, name and birth date, patient and date, _id with
// _include and _revinclude, _lastUpdated) with paged searchset Bundles, and
// refuses requests without its bearer token.
package fhirresttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves resources. Its fields may be changed between requests.
type Server struct {
	// Token is the bearer token requests must carry; "" accepts any.
	Token string
	// PageSize caps entries per page (the client's _count may lower it);
	// 0 means 50.
	PageSize int

	mu        sync.Mutex
	resources []map[string]any
	// failing, when set, answers every request with 503.
	failing atomic.Bool
	// Requests counts requests served.
	Requests atomic.Int64
}

// New returns a server holding resources (each a JSON object with
// resourceType and id).
func New(token string, resources []map[string]any) *Server {
	return &Server{Token: token, resources: resources}
}

// LoadBundle reads the resources of a Bundle's entries.
func LoadBundle(data []byte) ([]map[string]any, error) {
	var b struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	out := make([]map[string]any, 0, len(b.Entry))
	for _, e := range b.Entry {
		out = append(out, e.Resource)
	}
	return out, nil
}

// SetFailing makes the server answer 503 to everything (or stop doing so).
func (s *Server) SetFailing(failing bool) { s.failing.Store(failing) }

// Add adds or replaces a resource.
func (s *Server) Add(r map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = slices.DeleteFunc(s.resources, func(x map[string]any) bool {
		return x["resourceType"] == r["resourceType"] && x["id"] == r["id"]
	})
	s.resources = append(s.resources, r)
}

// ServeHTTP implements http.Handler. Paths are /metadata and /<Type>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Requests.Add(1)
	if s.failing.Load() {
		outcome(w, http.StatusServiceUnavailable, "transient", "server is down for maintenance")
		return
	}
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		outcome(w, http.StatusUnauthorized, "login", "bearer token required")
		return
	}
	if r.Method != http.MethodGet {
		outcome(w, http.StatusMethodNotAllowed, "not-supported", "read-only server")
		return
	}
	typ := strings.Trim(r.URL.Path, "/")
	if i := strings.LastIndex(typ, "/"); i >= 0 {
		typ = typ[i+1:]
	}
	if typ == "metadata" {
		writeJSON(w, http.StatusOK, map[string]any{
			"resourceType": "CapabilityStatement", "status": "active", "date": "2025-01-01",
			"kind": "instance", "fhirVersion": "4.0.1", "format": []string{"json"},
		})
		return
	}
	s.search(w, r, typ)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, typ string) {
	q := r.URL.Query()
	s.mu.Lock()
	all := slices.Clone(s.resources)
	s.mu.Unlock()

	var matches []map[string]any
	for _, res := range all {
		if res["resourceType"] == typ && matchesAll(res, q) {
			matches = append(matches, res)
		}
	}
	if q.Get("_sort") == "_lastUpdated" {
		sort.SliceStable(matches, func(i, j int) bool { return lastUpdated(matches[i]) < lastUpdated(matches[j]) })
	}
	size := s.PageSize
	if size <= 0 {
		size = 50
	}
	if n, err := strconv.Atoi(q.Get("_count")); err == nil && n > 0 && n < size {
		size = n
	}
	offset, _ := strconv.Atoi(q.Get("_offset"))
	page := matches[min(offset, len(matches)):min(offset+size, len(matches))]

	var entries []map[string]any
	for _, m := range page {
		entries = append(entries, entry(m, "match"))
	}
	if offset == 0 {
		for _, inc := range includes(all, page, q["_include"], q["_revinclude"]) {
			entries = append(entries, entry(inc, "include"))
		}
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(matches)}
	if len(entries) > 0 {
		bundle["entry"] = entries
	}
	if offset+size < len(matches) {
		next := *r.URL
		nq := next.Query()
		nq.Set("_offset", strconv.Itoa(offset+size))
		next.RawQuery = nq.Encode()
		next.Scheme, next.Host = "http", r.Host
		bundle["link"] = []map[string]any{{"relation": "next", "url": next.String()}}
	}
	writeJSON(w, http.StatusOK, bundle)
}

func entry(r map[string]any, mode string) map[string]any {
	return map[string]any{"fullUrl": fmt.Sprintf("%s/%s", r["resourceType"], r["id"]), "resource": r, "search": map[string]any{"mode": mode}}
}

// matchesAll applies the search parameters the connector uses.
func matchesAll(res map[string]any, q url.Values) bool {
	for name, values := range q {
		if strings.HasPrefix(name, "_") && name != "_id" && name != "_lastUpdated" {
			continue
		}
		for _, v := range values {
			if !matches(res, name, v) {
				return false
			}
		}
	}
	return true
}

func matches(res map[string]any, name, value string) bool {
	anyOf := func(f func(string) bool) bool {
		for _, v := range strings.Split(value, ",") {
			if f(v) {
				return true
			}
		}
		return false
	}
	switch name {
	case "_id":
		return anyOf(func(v string) bool { return res["id"] == v })
	case "identifier":
		return anyOf(func(v string) bool {
			sys, val, _ := strings.Cut(v, "|")
			for _, id := range list(res["identifier"]) {
				if str(id, "system") == sys && str(id, "value") == val {
					return true
				}
			}
			return false
		})
	case "phone":
		return anyOf(func(v string) bool {
			for _, t := range list(res["telecom"]) {
				if str(t, "system") == "phone" && str(t, "value") == v {
					return true
				}
			}
			return false
		})
	case "name":
		for _, n := range list(res["name"]) {
			text := str(n, "text") + " " + str(n, "family")
			for _, g := range list(n.(map[string]any)["given"]) {
				text += " " + fmt.Sprint(g)
			}
			if strings.Contains(strings.ToLower(text), strings.ToLower(value)) {
				return true
			}
		}
		return false
	case "gender":
		return res["gender"] == value
	case "birthdate":
		return compareDate(fmt.Sprint(res["birthDate"]), value)
	case "patient", "subject":
		for _, f := range []string{"subject", "patient"} {
			if ref, ok := res[f].(map[string]any); ok && strings.HasSuffix(str(ref, "reference"), value) {
				return true
			}
		}
		return false
	case "class":
		return str(res["class"], "code") == value
	case "date", "authoredon":
		return compareDate(resourceDate(res), value)
	case "_lastUpdated":
		return compareDate(lastUpdated(res), value)
	}
	// Unknown parameters match nothing, as a strict server would refuse
	// them.
	return false
}

func resourceDate(res map[string]any) string {
	if p, ok := res["period"].(map[string]any); ok {
		return str(p, "start")
	}
	for _, f := range []string{"effectiveDateTime", "authoredOn", "date", "issued"} {
		if v, ok := res[f].(string); ok {
			return v
		}
	}
	return ""
}

func lastUpdated(res map[string]any) string { return str(res["meta"], "lastUpdated") }

// compareDate applies a FHIR date prefix (ge, gt, le, lt, eq) to
// lexically comparable ISO dates: enough for whole-second timestamps in
// one zone, which is what the test data holds.
func compareDate(have, query string) bool {
	if have == "" {
		return false
	}
	op, want := "eq", query
	if len(query) > 2 && query[0] >= 'a' && query[0] <= 'z' {
		op, want = query[:2], query[2:]
	}
	have = normalise(have)
	want = normalise(want)
	n := min(len(have), len(want))
	switch op {
	case "ge":
		return have[:n] >= want[:n]
	case "gt":
		return have > want
	case "le":
		return have[:n] <= want[:n]
	case "lt":
		return have < want
	}
	return strings.HasPrefix(have, want)
}

// normalise turns "2025-03-01T10:30:00+05:30" and "...Z" into UTC text so
// they compare as strings.
func normalise(s string) string {
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00"} {
		if t, err := parseTime(layout, s); err == nil {
			return t
		}
	}
	return s
}

func includes(all, page []map[string]any, include, revinclude []string) []map[string]any {
	var out []map[string]any
	seen := map[string]bool{}
	add := func(r map[string]any) {
		k := fmt.Sprintf("%s/%s", r["resourceType"], r["id"])
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, spec := range include {
		_, field, _ := strings.Cut(spec, ":")
		field = strings.ReplaceAll(field, "-", "")
		for _, m := range page {
			for _, ref := range refsIn(m, field) {
				for _, r := range all {
					if fmt.Sprintf("%s/%s", r["resourceType"], r["id"]) == ref {
						add(r)
					}
				}
			}
		}
	}
	for _, spec := range revinclude {
		typ, field, _ := strings.Cut(spec, ":")
		for _, r := range all {
			if r["resourceType"] != typ {
				continue
			}
			for _, ref := range refsIn(r, field) {
				for _, m := range page {
					if fmt.Sprintf("%s/%s", m["resourceType"], m["id"]) == ref {
						add(r)
					}
				}
			}
		}
	}
	return out
}

// refsIn lists the relative references in a field (a Reference, a list of
// them, or participants with an individual).
func refsIn(r map[string]any, field string) []string {
	var out []string
	for k, v := range r {
		if !strings.EqualFold(k, field) {
			continue
		}
		for _, item := range append(list(v), v) {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			if ind, ok := m["individual"].(map[string]any); ok {
				m = ind
			}
			if ref := str(m, "reference"); ref != "" {
				if i := strings.Index(ref, "/fhir/"); i >= 0 {
					ref = ref[i+len("/fhir/"):]
				}
				out = append(out, ref)
			}
		}
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func outcome(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []map[string]any{{"severity": "error", "code": code, "diagnostics": msg}},
	})
}

func parseTime(layout, s string) (string, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return "", err
	}
	return t.UTC().Format("2006-01-02T15:04:05Z"), nil
}
