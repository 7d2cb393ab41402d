package server

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/views"
)

// The unified record's view model. Entries from the group's own systems
// and from other hospitals are first made into recordItems, so that the
// timeline, the filters and the trends treat both alike.

const (
	recordPerPage   = 100
	recordMaxTrends = 12
	systemLOINC     = "http://loinc.org"
)

// recordItem is one entry of the whole record, whatever its origin.
type recordItem struct {
	At                           time.Time
	TimeText                     string
	Kind                         string
	CodeSystem, Code             string
	Title                        string
	Value, Unit                  string
	RangeLow, RangeHigh, RangeTx string
	Summary                      string
	// Facility and Source are what the filters offer.
	Facility, Source string
	Provenance       string
	External         bool
	Attachments      []views.AttachmentLink
}

// recordQuery is the record page's filter and page.
type recordQuery struct {
	Kind, Facility, Source string
	Page                   int
}

// externalItems turns records received through ABDM into items.
func externalItems(es []hiu.RecordEntry) []recordItem {
	out := make([]recordItem, 0, len(es))
	for _, e := range es {
		at := e.EffectiveAt
		if at.IsZero() {
			at = e.RecordDate
		}
		if at.IsZero() {
			at = e.ReceivedAt
		}
		// The HIP by name, as the consent artefact gave it; by its
		// service id when it gave none.
		hip := cmp.Or(e.HIPName, e.HIP)
		it := recordItem{
			At: at, TimeText: e.TimeText, Kind: e.Kind, CodeSystem: e.CodeSystem, Code: e.Code,
			Title: firstNonEmpty(e.Display, e.Summary, e.RecordTitle, e.Resource), Value: e.Value, Unit: e.Unit,
			RangeLow: e.RangeLow, RangeHigh: e.RangeHigh, RangeTx: e.RangeText,
			Facility: hip, Source: "ABDM", External: true,
			Provenance: fmt.Sprintf("From %s via ABDM · consent %s · received %s", hip, e.Consent, shortClock(e.ReceivedAt)),
		}
		if it.Summary = e.Summary; it.Summary == it.Title {
			it.Summary = ""
		}
		for i, a := range e.Attachments {
			it.Attachments = append(it.Attachments, views.AttachmentLink{
				Href:  recordAttachmentPath + "/" + strconv.FormatInt(a.ID, 10),
				Label: attachmentLabel(a.Title, a.ContentType, i),
			})
		}
		out = append(out, it)
	}
	return out
}

func attachmentLabel(title, contentType string, i int) string {
	if title != "" {
		return title
	}
	switch {
	case contentType == "application/pdf":
		return "PDF document"
	case strings.HasPrefix(contentType, "image/"):
		return "Image"
	}
	return "Document " + strconv.Itoa(i+1)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// recordPageModel filters, sorts newest first, pages and charts the items.
// Trends use every filtered entry, not just the page shown.
func recordPageModel(patientID, name string, items []recordItem, q recordQuery, notes []string) views.RecordPage {
	v := views.RecordPage{PatientID: patientID, PatientName: name, Notes: notes,
		Filter: views.RecordFilter{Kind: q.Kind, Facility: q.Facility, Source: q.Source}}
	kinds, facilities, sourcesSeen := map[string]bool{}, map[string]bool{}, map[string]bool{}
	kept := make([]recordItem, 0, len(items))
	for _, it := range items {
		kinds[it.Kind], facilities[it.Facility], sourcesSeen[it.Source] = true, true, true
		if (q.Kind == "" || it.Kind == q.Kind) && (q.Facility == "" || it.Facility == q.Facility) && (q.Source == "" || it.Source == q.Source) {
			kept = append(kept, it)
		}
	}
	v.Kinds, v.Facilities, v.Sources = choicesOf(kinds, q.Kind), choicesOf(facilities, q.Facility), choicesOf(sourcesSeen, q.Source)
	slices.SortStableFunc(kept, func(a, b recordItem) int { return b.At.Compare(a.At) })
	v.Total = len(kept)
	v.Trends = trendsOf(kept)

	page := max(q.Page, 1)
	start := min((page-1)*recordPerPage, len(kept))
	end := min(start+recordPerPage, len(kept))
	shown := kept[start:end]
	v.Shown = len(shown)
	if page > 1 {
		v.PrevURL = recordURL(patientID, q, page-1)
	}
	if end < len(kept) {
		v.NextURL = recordURL(patientID, q, page+1)
	}
	for _, it := range shown {
		day := "Date unknown"
		if !it.At.IsZero() {
			day = it.At.In(indiaTime).Format("Mon 2 Jan 2006")
		}
		if n := len(v.Groups); n == 0 || v.Groups[n-1].Date != day {
			v.Groups = append(v.Groups, views.RecordDay{Date: day})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Entries = append(g.Entries, entryView(it))
	}
	return v
}

func entryView(it recordItem) views.RecordEntry {
	e := views.RecordEntry{Kind: it.Kind, Title: it.Title, Summary: it.Summary, Provenance: it.Provenance,
		External: it.External, Attachments: it.Attachments, Time: it.TimeText}
	if !it.At.IsZero() {
		e.Time = it.At.In(indiaTime).Format("15:04")
	}
	if it.Value != "" {
		e.Value = strings.TrimSpace(it.Value + " " + it.Unit)
	}
	switch {
	case it.RangeLow != "" || it.RangeHigh != "":
		e.Range = strings.TrimSpace(it.RangeLow + "–" + it.RangeHigh + " " + it.Unit)
	default:
		e.Range = it.RangeTx
	}
	if v, ok := parseNumber(it.Value); ok {
		if lo, ok := parseNumber(it.RangeLow); ok && v < lo {
			e.Flag = "low"
		}
		if hi, ok := parseNumber(it.RangeHigh); ok && v > hi {
			e.Flag = "high"
		}
	}
	return e
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimLeft(s, "<>=~"), 64)
	return f, err == nil
}

func choicesOf(seen map[string]bool, selected string) []views.Choice {
	keys := make([]string, 0, len(seen))
	for k := range seen {
		if k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]views.Choice, len(keys))
	for i, k := range keys {
		out[i] = views.Choice{Value: k, Label: k, Checked: k == selected}
	}
	return out
}

func recordURL(patientID string, q recordQuery, page int) string {
	vals := url.Values{}
	for k, v := range map[string]string{"kind": q.Kind, "facility": q.Facility, "source": q.Source} {
		if v != "" {
			vals.Set(k, v)
		}
	}
	vals.Set("page", strconv.Itoa(page))
	return patientURL(patientID) + "/record?" + vals.Encode()
}

// trendsOf charts each LOINC code that has at least two numeric values
// with a time, the codes with most values first.
func trendsOf(items []recordItem) []views.Trend {
	type series struct {
		code, title, unit string
		lo, hi            string
		pts               []recordItem
	}
	byCode := map[string]*series{}
	for _, it := range items {
		if it.CodeSystem != systemLOINC || it.Code == "" || it.At.IsZero() {
			continue
		}
		if _, ok := parseNumber(it.Value); !ok {
			continue
		}
		s := byCode[it.Code]
		if s == nil {
			s = &series{code: it.Code, title: it.Title, unit: it.Unit, lo: it.RangeLow, hi: it.RangeHigh}
			byCode[it.Code] = s
		}
		s.pts = append(s.pts, it)
	}
	all := make([]*series, 0, len(byCode))
	for _, s := range byCode {
		if len(s.pts) >= 2 {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(a, b *series) int {
		return cmp.Or(cmp.Compare(len(b.pts), len(a.pts)), cmp.Compare(a.code, b.code))
	})
	if len(all) > recordMaxTrends {
		all = all[:recordMaxTrends]
	}
	out := make([]views.Trend, 0, len(all))
	for _, s := range all {
		out = append(out, trendChart(s.code, s.title, s.unit, s.lo, s.hi, s.pts))
	}
	return out
}

// trendChart scales the values (oldest left) and the reference range into
// the chart, with a margin so points do not sit on the edge.
func trendChart(code, title, unit, lo, hi string, pts []recordItem) views.Trend {
	slices.SortFunc(pts, func(a, b recordItem) int { return a.At.Compare(b.At) })
	vals := make([]float64, len(pts))
	minV, maxV := 0.0, 0.0
	for i, p := range pts {
		vals[i], _ = parseNumber(p.Value)
		if i == 0 || vals[i] < minV {
			minV = vals[i]
		}
		if i == 0 || vals[i] > maxV {
			maxV = vals[i]
		}
	}
	low, hasLow := parseNumber(lo)
	high, hasHigh := parseNumber(hi)
	if hasLow {
		minV = min(minV, low)
	}
	if hasHigh {
		maxV = max(maxV, high)
	}
	if maxV == minV {
		maxV, minV = maxV+1, minV-1
	}
	pad := (maxV - minV) * 0.1
	minV, maxV = minV-pad, maxV+pad
	y := func(v float64) float64 { return float64(views.TrendHeight) * (maxV - v) / (maxV - minV) }
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	span := t1.Sub(t0).Seconds()
	t := views.Trend{Code: code, Title: title, Unit: unit,
		MinLabel: strconv.FormatFloat(minV, 'g', 4, 64), MaxLabel: strconv.FormatFloat(maxV, 'g', 4, 64),
		FirstDate: t0.In(indiaTime).Format("2 Jan 2006"), LastDate: t1.In(indiaTime).Format("2 Jan 2006")}
	const margin = 8.0
	for i, p := range pts {
		x := margin
		if span > 0 {
			x += (float64(views.TrendWidth) - 2*margin) * p.At.Sub(t0).Seconds() / span
		}
		t.Points = append(t.Points, views.TrendPoint{X: x, Y: y(vals[i]),
			Label: p.At.In(indiaTime).Format("2 Jan 2006") + ": " + strings.TrimSpace(p.Value+" "+p.Unit)})
	}
	if hasLow || hasHigh {
		top, bottom := 0.0, float64(views.TrendHeight)
		if hasHigh {
			top = y(high)
		}
		if hasLow {
			bottom = y(low)
		}
		t.BandTop, t.BandHeight = top, bottom-top
	}
	return t
}
