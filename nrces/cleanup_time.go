package nrces

import (
	"strings"
	"time"
)

// Clean-up rule: dates and times. FHIR dateTime with a time must carry a
// zone, and google/fhir/go rejects it without one; HIS exports often leave
// it out, use a space instead of "T", or write "+0530". India has one zone
// and no daylight saving, so a missing zone is read as IST (or the
// reader's configured zone) and reported.

// indiaZone is IST. A fixed zone needs no tzdata on the host, and India
// has had no offset change since 1945.
var indiaZone = time.FixedZone("IST", 5*3600+30*60)

// timeLayoutsZoned are accepted as they are (fractional seconds are
// accepted by time.Parse after the seconds field without being in the
// layout).
var timeLayoutsZoned = []string{time.RFC3339}

// timeLayoutsRepaired parse values FHIR does not allow but that are clear.
var timeLayoutsRepaired = []struct {
	layout string
	zoned  bool
	note   string
}{
	{"2006-01-02T15:04Z07:00", true, "time without seconds"},
	{"2006-01-02T15:04:05Z0700", true, "zone offset without colon"},
	{"2006-01-02 15:04:05Z07:00", true, "space instead of T"},
	{"2006-01-02 15:04:05Z0700", true, "space instead of T"},
	{"2006-01-02T15:04:05", false, ""},
	{"2006-01-02T15:04", false, "time without seconds"},
	{"2006-01-02 15:04:05", false, "space instead of T"},
	{"2006-01-02 15:04", false, "space instead of T"},
}

// fhirTime is a parsed FHIR date, dateTime or instant.
type fhirTime struct {
	t time.Time
	// zoneAssumed is set when the value had a time but no zone.
	zoneAssumed bool
	// repaired describes any other non-standard form that was accepted.
	repaired string
}

// parseFHIRTime reads s leniently. Partial dates ("2019", "2019-12") give
// the start of the period in loc. ok is false when nothing fits.
func parseFHIRTime(s string, loc *time.Location) (ft fhirTime, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ft, false
	}
	switch len(s) {
	case 4:
		if t, err := time.ParseInLocation("2006", s, loc); err == nil {
			return fhirTime{t: t}, true
		}
	case 7:
		if t, err := time.ParseInLocation("2006-01", s, loc); err == nil {
			return fhirTime{t: t}, true
		}
	case 10:
		if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
			return fhirTime{t: t}, true
		}
	}
	for _, layout := range timeLayoutsZoned {
		if t, err := time.Parse(layout, s); err == nil {
			return fhirTime{t: t}, true
		}
	}
	for _, l := range timeLayoutsRepaired {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, s)
		} else {
			t, err = time.ParseInLocation(l.layout, s, loc)
		}
		if err == nil {
			return fhirTime{t: t, zoneAssumed: !l.zoned, repaired: l.note}, true
		}
	}
	return ft, false
}

// cleanDateTimeString is the rule for the R4 clean-up pass: it returns s in
// a form FHIR (and google/fhir/go) accepts for kind "DateTime", "Instant"
// or "Date", and what was changed ("" when nothing was). ok is false when
// s cannot be read as a time at all.
func cleanDateTimeString(s, kind string, loc *time.Location) (clean, changed string, ok bool) {
	ft, ok := parseFHIRTime(s, loc)
	if !ok {
		return s, "", false
	}
	trimmed := strings.TrimSpace(s)
	switch kind {
	case "Date":
		if len(trimmed) <= 10 {
			return trimmed, changedIf(trimmed != s, "trimmed spaces"), true
		}
		return ft.t.In(loc).Format("2006-01-02"), "dropped the time from a date", true
	case "Instant":
		if len(trimmed) <= 10 {
			return ft.t.Format(time.RFC3339), "completed a date to an instant at midnight " + zoneName(loc), true
		}
	default:
		if len(trimmed) <= 10 {
			return trimmed, changedIf(trimmed != s, "trimmed spaces"), true
		}
	}
	if !ft.zoneAssumed && ft.repaired == "" {
		return trimmed, changedIf(trimmed != s, "trimmed spaces"), true
	}
	var did []string
	if ft.repaired != "" {
		did = append(did, "fixed "+ft.repaired)
	}
	if ft.zoneAssumed {
		did = append(did, "added the missing time zone ("+zoneName(loc)+")")
	}
	layout := "2006-01-02T15:04:05Z07:00"
	if ft.t.Nanosecond() != 0 {
		layout = "2006-01-02T15:04:05.999999999Z07:00"
	}
	return ft.t.Format(layout), strings.Join(did, ", "), true
}

func changedIf(cond bool, what string) string {
	if cond {
		return what
	}
	return ""
}

// zoneName writes loc's offset now, e.g. "+05:30".
func zoneName(loc *time.Location) string {
	return time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Format("-07:00")
}
