package nrces

import (
	"fmt"
	"strings"
)

// Summary is the entry on one line, for lists such as `sangam fhir read`:
// the display text with the value, dosage, status or attachment that
// matters for its kind. It is clinical content: never log it.
func (e Entry) Summary() string {
	parts := []string{e.Text}
	switch {
	case e.Observation != nil:
		if v := valueText(e.Observation.ObservationValue); v != "" {
			parts[0] += ": " + v
		}
		for _, c := range e.Observation.Components {
			if v := valueText(c.ObservationValue); v != "" {
				parts = append(parts, c.Text+" "+v)
			}
		}
	case e.Medication != nil:
		parts = append(parts, e.Medication.Dosage...)
	case e.Condition != nil:
		parts = append(parts, e.Condition.Clinical)
	case e.Immunization != nil:
		parts = append(parts, e.Immunization.Brand, doseText(e.Immunization.Dose))
	case e.Report != nil:
		if len(e.Report.Results) > 0 {
			parts = append(parts, fmt.Sprintf("%d results", len(e.Report.Results)))
		}
		parts = append(parts, e.Report.Conclusion)
	case e.Imaging != nil:
		parts = append(parts, strings.Join(e.Imaging.Modalities, ", "))
		if e.Imaging.StudyUID != "" {
			parts = append(parts, "study "+e.Imaging.StudyUID)
		}
	case e.Allergy != nil:
		parts = append(parts, strings.Join(e.Allergy.Reactions, ", "))
	}
	for _, a := range e.Attachments {
		parts = append(parts, attachmentText(a))
	}
	if !e.Time.IsZero() {
		parts = append(parts, e.Time.Format("2006-01-02"))
	} else if e.TimeText != "" {
		parts = append(parts, e.TimeText)
	}
	return strings.Join(strings.Fields(joinNonEmpty("; ", parts...)), " ")
}

func doseText(d string) string {
	if d == "" {
		return ""
	}
	return "dose " + d
}

// valueText writes a value with its unit and reference range.
func valueText(v ObservationValue) string {
	var s string
	switch {
	case v.Quantity != nil:
		s = measureText(v.Quantity)
	case v.Range != nil:
		s = measureText(v.Range.Low) + " – " + measureText(v.Range.High)
	case v.Boolean != nil:
		s = fmt.Sprint(*v.Boolean)
	default:
		s = v.Text
	}
	if s == "" && v.Absent != "" {
		s = "(" + v.Absent + ")"
	}
	if len(v.Interpretation) > 0 && s != "" {
		s += " [" + strings.Join(v.Interpretation, ", ") + "]"
	}
	for _, r := range v.ReferenceRange {
		if rt := rangeText(r); rt != "" && s != "" {
			s += " (ref " + rt + ")"
			break
		}
	}
	return s
}

func rangeText(r RefRange) string {
	switch {
	case r.Low != nil && r.High != nil:
		return measureText(r.Low) + " – " + measureText(r.High)
	case r.Low != nil:
		return "≥ " + measureText(r.Low)
	case r.High != nil:
		return "≤ " + measureText(r.High)
	}
	return r.Text
}

// measureText writes a quantity as "<comparator><value> <unit>".
func measureText(m *Measure) string {
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m.Comparator + string(m.Value) + " " + firstNonEmpty(m.Unit, m.Code))
}

func attachmentText(a Attachment) string {
	what := firstNonEmpty(a.ContentType, "attachment")
	switch {
	case a.Size > 0:
		return fmt.Sprintf("%s %s", what, byteSize(a.Size))
	case a.URL != "":
		return what + " at " + a.URL
	case a.Undecoded != "":
		return what + " (undecodable)"
	}
	return what + " (empty)"
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
