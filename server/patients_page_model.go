package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// patientRow is a patient as the list shows it; now dates the age.
func patientRow(p patients.Patient, now time.Time) views.PatientRow {
	r := views.PatientRow{
		URL:    patientURL(p.ID),
		Name:   p.Summary.Name,
		Gender: genderLabel(p.Summary.Gender),
		Birth:  birthWithAge(p.Summary, now),
	}
	for _, id := range p.Identifiers {
		r.ABHA = append(r.ABHA, abhaText(id))
	}
	for _, l := range p.Links {
		r.Records = append(r.Records, l.FacilityName+" · "+l.SourceName+" · "+l.LocalID)
	}
	return r
}

func abhaText(id patients.Identifier) string {
	v := id.Value
	if id.Kind == "abha_number" {
		v = patients.FormatABHANumber(v)
	}
	return v
}

// birthWithAge is "1968-03-12 (58 years)", "1968 (about 58 years)" or "".
func birthWithAge(d patients.Demographics, now time.Time) string {
	switch {
	case !d.BirthDate.IsZero():
		age := now.Year() - d.BirthDate.Year()
		if now.Month() < d.BirthDate.Month() || now.Month() == d.BirthDate.Month() && now.Day() < d.BirthDate.Day() {
			age--
		}
		return d.Birth() + " (" + yearsText(age) + ")"
	case d.BirthYear != 0:
		return d.Birth() + " (about " + yearsText(now.Year()-d.BirthYear) + ")"
	}
	return ""
}

func yearsText(n int) string {
	if n == 1 {
		return "1 year"
	}
	return strconv.Itoa(n) + " years"
}

var matchedByLabels = map[string]string{
	patients.MatchedByABHANumber:  "ABHA number",
	patients.MatchedByABHAAddress: "ABHA address",
	patients.MatchedByMobile:      "Mobile",
	patients.MatchedByMR:          "Record number",
}

var nameMatchLabels = map[string]string{
	"same": "Name", "spelling_variant": "Name (spelling variant)", "typo": "Name (typing error)",
	"initials": "Name (initials)", "partial": "Part of the name",
}

// matchedByText says what made a search result a candidate.
func matchedByText(r patients.SearchResult) string {
	var parts []string
	for _, m := range r.MatchedBy {
		parts = append(parts, labelOr(matchedByLabels, m))
	}
	if l, ok := nameMatchLabels[r.NameMatch]; ok {
		parts = append(parts, l)
	}
	return strings.Join(parts, ", ")
}

var identifierKinds = map[string]string{"abha_number": "ABHA number", "abha_address": "ABHA address"}

var linkedByLabels = map[string]string{
	"new": "First record", "abha_number": "Same ABHA number", "abha_address": "Same ABHA address", "score": "Matching details",
}

// patientDetailModel fills the patient page. canUnmerge offers the undo
// of merges that still stand.
func patientDetailModel(p patients.Patient, hist []patients.MergeEvent, canUnmerge bool, now time.Time) views.PatientDetail {
	v := views.PatientDetail{
		Name:    p.Summary.Name,
		Gender:  genderLabel(p.Summary.Gender),
		Birth:   birthWithAge(p.Summary, now),
		Mobile:  p.Summary.Mobile,
		PIN:     p.Summary.PinCode,
		Address: p.Summary.Address,
	}
	if v.Name == "" {
		v.Name = "Patient " + p.ID
	}
	if p.MergedInto != "" {
		v.MergedIntoURL = patientURL(p.MergedInto)
	}
	for _, id := range p.Identifiers {
		v.Identifiers = append(v.Identifiers, views.ABHAIdentifier{Kind: labelOr(identifierKinds, id.Kind), Value: abhaText(id), Verified: id.Verified})
	}
	for _, l := range p.Links {
		abha := l.ABHAAddress
		if l.ABHANumber != "" {
			abha = patients.FormatABHANumber(l.ABHANumber)
		}
		v.Links = append(v.Links, views.PatientLink{
			Facility: l.FacilityName, HFRID: l.HFRID, System: l.SourceName, Kind: l.SourceKind, LocalID: l.LocalID,
			Name: l.Name, Gender: genderLabel(l.Gender), Birth: l.Birth(), Mobile: l.Mobile, ABHA: abha,
			LinkedBy: labelOr(linkedByLabels, l.LinkedBy), Updated: clock(l.UpdatedAt),
		})
	}
	for _, ev := range hist {
		v.History = append(v.History, historyRow(p.ID, ev, canUnmerge))
	}
	return v
}

func historyRow(patientID string, ev patients.MergeEvent, canUnmerge bool) views.HistoryRow {
	h := views.HistoryRow{When: clock(ev.At), Who: ev.Actor, Why: ev.Reason}
	other, name := ev.SurvivorID, ev.MergedName
	if name == "" {
		name = "another patient"
	}
	switch {
	case ev.Kind == "merge" && ev.SurvivorID == patientID:
		h.What = "Merged " + name + " into this patient (" + recordsText(len(ev.Links)) + ")"
	case ev.Kind == "merge":
		h.What = "Merged into patient " + other + " (" + recordsText(len(ev.Links)) + ")"
	case ev.SurvivorID == patientID:
		h.What = "Undid the merge of " + name + " (" + recordsText(len(ev.Links)) + " returned)"
	default:
		h.What = "Merge into patient " + other + " undone (" + recordsText(len(ev.Links)) + " returned)"
	}
	if ev.Kind == "merge" {
		if ev.UndoneBy != 0 {
			h.What += "; since undone"
		} else if canUnmerge {
			h.UnmergeURL = patientURL(ev.MergedID) + "/unmerge"
		}
	}
	return h
}

func recordsText(n int) string {
	if n == 1 {
		return "1 record"
	}
	return strconv.Itoa(n) + " records"
}
