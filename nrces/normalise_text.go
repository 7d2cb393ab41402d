package nrces

import (
	"fmt"
	"strings"
)

// Display text: how concepts, names and dosages read in one line.

func activityText(acts []inActivity) string {
	var out []string
	for _, a := range acts {
		if a.Detail != nil {
			out = append(out, firstNonEmpty(a.Detail.Description, conceptText(a.Detail.Code.list())))
		}
	}
	return joinNonEmpty("; ", out...)
}

// conceptText is a concept's best display: its text, else the first
// coding's display, else its code.
func conceptText(cs inConcepts) string {
	for _, c := range cs {
		if t := strings.TrimSpace(c.Text); t != "" {
			return t
		}
	}
	for _, c := range cs {
		for _, cd := range codingsOf(c) {
			if d := strings.TrimSpace(cd.Display); d != "" {
				return d
			}
		}
	}
	for _, c := range cs {
		for _, cd := range codingsOf(c) {
			if code := strings.TrimSpace(string(cd.Code)); code != "" {
				return code
			}
		}
	}
	return ""
}

// conceptTexts is conceptText of each concept, without empties.
func conceptTexts(cs inConcepts) []string {
	var out []string
	for _, c := range cs {
		if t := conceptText(inConcepts{c}); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// personName is a human name's text, else its parts; or an
// organisation's name.
func personName(names inNames) string {
	for _, nm := range names {
		if t := strings.TrimSpace(nm.Text); t != "" {
			return strings.Join(strings.Fields(t), " ")
		}
		parts := append(append(append([]string{}, nm.Prefix...), nm.Given...), nm.Family)
		parts = append(parts, nm.Suffix...)
		if s := strings.Join(strings.Fields(strings.Join(parts, " ")), " "); s != "" {
			return s
		}
	}
	return ""
}

func dosageText(d inDosage) string {
	if t := strings.TrimSpace(d.Text); t != "" {
		return t
	}
	var parts []string
	for _, dr := range d.DoseAndRate {
		if q := dr.DoseQuantity; q != nil {
			parts = append(parts, joinNonEmpty(" ", string(q.Value), firstNonEmpty(q.Unit, string(q.Code))))
		}
	}
	if q := d.Dose; q != nil {
		parts = append(parts, joinNonEmpty(" ", string(q.Value), firstNonEmpty(q.Unit, string(q.Code))))
	}
	if t := d.Timing; t != nil {
		if s := conceptText(t.Code.list()); s != "" {
			parts = append(parts, s)
		} else if rp := t.Repeat; rp != nil && rp.Frequency != "" {
			parts = append(parts, fmt.Sprintf("%s per %s %s", rp.Frequency, firstNonEmpty(string(rp.Period), "1"), rp.PeriodUnit))
		}
	}
	parts = append(parts, conceptText(d.Route.list()), conceptText(d.Method.list()), conceptText(d.AdditionalInstr), d.PatientInstruction)
	if d.AsNeededBoolean != nil && *d.AsNeededBoolean {
		parts = append(parts, "as needed")
	}
	return joinNonEmpty(", ", parts...)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func joinNonEmpty(sep string, ss ...string) string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}

func parenthesise(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func orUnknown(s string) string {
	if s == "" {
		return "resource without resourceType"
	}
	return s
}
