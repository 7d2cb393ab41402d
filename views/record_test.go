package views

import (
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// chartSVG is the part of a rendered trend chart the layout test reads.
// The points are in the plot group, moved by its transform, or (as charts
// were first drawn) straight in the SVG.
type chartSVG struct {
	ViewBox string `xml:"viewBox,attr"`
	Label   string `xml:"aria-label,attr"`
	Plot    struct {
		Transform string  `xml:"transform,attr"`
		Points    []point `xml:"circle"`
	} `xml:"g"`
	Points []point `xml:"circle"`
	Texts  []struct {
		Class    string  `xml:"class,attr"`
		X        float64 `xml:"x,attr"`
		Y        float64 `xml:"y,attr"`
		Anchor   string  `xml:"text-anchor,attr"`
		FontSize float64 `xml:"font-size,attr"`
		Text     string  `xml:",chardata"`
	} `xml:"text"`
}

type point struct {
	X float64 `xml:"cx,attr"`
	Y float64 `xml:"cy,attr"`
}

// box is a label's extent in the chart's coordinates, estimated from its
// anchor, font size and length (a digit or letter is at most 0.62 em wide
// in the sans-serif fonts browsers use; text rises about 0.8 em above its
// baseline and falls 0.25 em below).
type box struct{ left, right, top, bottom float64 }

func (b box) overlaps(o box) bool {
	return b.left < o.right && o.left < b.right && b.top < o.bottom && o.top < b.bottom
}

func renderChart(t *testing.T, tr Trend) chartSVG {
	t.Helper()
	html := renderString(t, trendChart(tr))
	start, end := strings.Index(html, "<svg"), strings.Index(html, "</svg>")
	if start < 0 || end < 0 {
		t.Fatalf("no SVG in %s", html)
	}
	var svg chartSVG
	if err := xml.Unmarshal([]byte(html[start:end+len("</svg>")]), &svg); err != nil {
		t.Fatalf("reading the chart: %v\n%s", err, html)
	}
	return svg
}

// TestRecordTrendLabelsStayClear draws values at the plot's very corners,
// where the labels used to sit, and checks that each label lies inside the
// chart, clear of every point and every other label.
func TestRecordTrendLabelsStayClear(t *testing.T) {
	inset := float64(trendInset)
	for _, tc := range []struct {
		name  string
		trend Trend
		dates []string
	}{
		{"over a year", Trend{Title: "Body weight", MaxLabel: "198.3", MinLabel: "38.37", FirstDate: "10 May 2023", LastDate: "12 Nov 2024",
			Points: []TrendPoint{{X: inset, Y: 0}, {X: 160, Y: 60}, {X: TrendWidth - inset, Y: TrendHeight}}}, []string{"10 May 2023", "12 Nov 2024"}},
		{"lowest first", Trend{Title: "Haemoglobin", MaxLabel: "1.235e+05", MinLabel: "9.877e+04", FirstDate: "28 Feb 2024", LastDate: "30 Sept 2025",
			Points: []TrendPoint{{X: inset, Y: TrendHeight}, {X: TrendWidth - inset, Y: 0}}}, []string{"28 Feb 2024", "30 Sept 2025"}},
		{"one day", Trend{Title: "Heart rate", MaxLabel: "90", MinLabel: "60", FirstDate: "1 Jan 2025", LastDate: "1 Jan 2025",
			Points: []TrendPoint{{X: inset, Y: 0}, {X: inset, Y: TrendHeight}}}, []string{"1 Jan 2025"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := renderChart(t, tc.trend)
			var w, h float64
			if f := strings.Fields(svg.ViewBox); len(f) == 4 {
				w, _ = strconv.ParseFloat(f[2], 64)
				h, _ = strconv.ParseFloat(f[3], 64)
			}
			if w < TrendWidth || h < TrendHeight {
				t.Fatalf("viewBox %q is smaller than the plot", svg.ViewBox)
			}
			var dx, dy float64
			if svg.Plot.Transform != "" {
				var err error
				if dx, dy, err = parseTranslate(svg.Plot.Transform); err != nil {
					t.Fatalf("plot transform %q: %v", svg.Plot.Transform, err)
				}
			}
			points := append(svg.Plot.Points, svg.Points...)
			if len(points) != len(tc.trend.Points) {
				t.Fatalf("%d points drawn, want %d", len(points), len(tc.trend.Points))
			}
			var boxes []box
			var labels, dates []string
			for _, tx := range svg.Texts {
				width := 0.62 * tx.FontSize * float64(len([]rune(tx.Text)))
				b := box{left: tx.X, top: tx.Y - 0.8*tx.FontSize, bottom: tx.Y + 0.25*tx.FontSize}
				switch tx.Anchor {
				case "end":
					b.left = tx.X - width
				case "middle":
					b.left = tx.X - width/2
				}
				b.right = b.left + width
				if b.left < 0 || b.right > w || b.top < 0 || b.bottom > h {
					t.Errorf("label %q (%+v) is cut off by the chart's edge (%gx%g)", tx.Text, b, w, h)
				}
				for i, o := range boxes {
					if b.overlaps(o) {
						t.Errorf("label %q overlaps label %q", tx.Text, labels[i])
					}
				}
				for _, p := range points {
					dot := box{left: dx + p.X - 3, right: dx + p.X + 3, top: dy + p.Y - 3, bottom: dy + p.Y + 3}
					if b.overlaps(dot) {
						t.Errorf("label %q covers the point at (%g, %g)", tx.Text, p.X, p.Y)
					}
				}
				boxes, labels = append(boxes, b), append(labels, tx.Text)
				if tx.Class == "date" {
					dates = append(dates, tx.Text)
					if b.top < dy+TrendHeight {
						t.Errorf("date %q reaches into the plot", tx.Text)
					}
				}
			}
			if strings.Join(dates, "|") != strings.Join(tc.dates, "|") {
				t.Errorf("date labels %q, want %q", dates, tc.dates)
			}
			for _, want := range []string{tc.trend.MaxLabel, tc.trend.MinLabel} {
				if !slices.Contains(labels, want) {
					t.Errorf("value label %q is missing from %q", want, labels)
				}
			}
			if !strings.HasPrefix(svg.Label, tc.trend.Title+" over time, "+tc.trend.FirstDate) {
				t.Errorf("aria-label %q does not name the test and its dates", svg.Label)
			}
		})
	}
}

// parseTranslate reads "translate(x,y)".
func parseTranslate(s string) (x, y float64, err error) {
	inner, ok := strings.CutPrefix(s, "translate(")
	inner, ok2 := strings.CutSuffix(inner, ")")
	a, b, ok3 := strings.Cut(inner, ",")
	if !ok || !ok2 || !ok3 {
		return 0, 0, strconv.ErrSyntax
	}
	if x, err = strconv.ParseFloat(strings.TrimSpace(a), 64); err != nil {
		return 0, 0, err
	}
	y, err = strconv.ParseFloat(strings.TrimSpace(b), 64)
	return x, y, err
}
