package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is what a source system pushes when something happens to a care
// context:
//
//	{"event_id": "evt-000123", "type": "report.finalised",
//	 "occurred_at": "2025-03-01T10:15:00+05:30", "patient_id": "LAB-67890",
//	 "care_context": {"type": "order", "id": "ORD-5521", "date": "2025-03-01",
//	                  "display": "Lipid profile", "hi_type": "DiagnosticReport"}}
//
// care_context.type is the care-context type of the source's mapping, so
// that the reference an event makes is the one discovery finds.
type Event struct {
	// EventID is the sender's id of the event; a resent event with the
	// same id is acknowledged and ignored.
	EventID    string       `json:"event_id"`
	Type       string       `json:"type"`
	OccurredAt *time.Time   `json:"occurred_at,omitempty"`
	PatientID  string       `json:"patient_id"`
	Context    EventContext `json:"care_context"`
}

// EventContext is the care context an event is about.
type EventContext struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	HIType  HIType `json:"hi_type,omitempty"`
	Display string `json:"display,omitempty"`
	// Date is an RFC 3339 date-time or a plain date (2025-03-01).
	Date string `json:"date"`
}

// Event types and the hiType each implies when the event names none.
var eventTypes = map[string]HIType{
	"visit.created":        OPConsultation,
	"admission.discharged": DischargeSummary,
	"report.finalised":     DiagnosticReport,
	"study.completed":      DiagnosticReport,
	"prescription.issued":  Prescription,
	"document.created":     HealthDocumentRecord,
	"care_context.updated": "",
}

var (
	eventIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)
	ctxTypeRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	localIDMax = 128
)

// maxEventBytes bounds an event body; events name ids, they carry no
// clinical content.
const maxEventBytes = 16 << 10

// ParseEvent decodes and validates an event body. Unknown members are
// refused, so a misspelt field fails loudly instead of being dropped.
func ParseEvent(body []byte) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("%w: body is not an event: %v", ErrInvalidInput, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: body holds more than one JSON value", ErrInvalidInput)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !eventIDRE.MatchString(ev.EventID) {
		bad("event_id must be 1-128 letters, digits or ._:/- (starting with a letter or digit)")
	}
	implied, ok := eventTypes[ev.Type]
	if !ok {
		bad("type %q is not one of visit.created, admission.discharged, report.finalised, study.completed, prescription.issued, document.created, care_context.updated", ev.Type)
	}
	if !validLocalID(ev.PatientID) {
		bad("patient_id must be 1-%d printable characters", localIDMax)
	}
	c := &ev.Context
	if !ctxTypeRE.MatchString(c.Type) {
		bad("care_context.type must be the mapping's care-context type (lower case, e.g. visit)")
	}
	if !validLocalID(c.ID) {
		bad("care_context.id must be 1-%d printable characters", localIDMax)
	}
	if c.HIType == "" {
		c.HIType = implied
	}
	if !c.HIType.IsKnown() {
		bad("care_context.hi_type %q is not an ABDM hiType (and type %q implies none)", c.HIType, ev.Type)
	}
	if _, err := parseEventDate(c.Date); err != nil {
		bad("care_context.date %q is neither an RFC 3339 date-time nor a date (2006-01-02)", c.Date)
	}
	c.Display = strings.TrimSpace(c.Display)
	if utf8.RuneCountInString(c.Display) > 300 {
		bad("care_context.display is longer than 300 characters")
	}
	if len(problems) > 0 {
		return Event{}, fmt.Errorf("%w: %s", ErrInvalidInput, strings.Join(problems, "; "))
	}
	return ev, nil
}

func validLocalID(s string) bool {
	if s == "" || len(s) > localIDMax || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func parseEventDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.FixedZone("+05:30", 5*3600+1800))
	if err != nil {
		return time.Time{}, errors.New("bad date")
	}
	return t, nil
}

// CareContext is the care context the event announces, in source system
// systemCode.
func (ev Event) CareContext(systemCode string) CareContext {
	date, _ := parseEventDate(ev.Context.Date)
	display := ev.Context.Display
	if display == "" {
		display = fmt.Sprintf("%s %s (%s)", ev.Context.HIType, ev.Context.ID, date.Format(time.DateOnly))
	}
	c := CareContext{
		Type: ev.Context.Type, LocalID: ev.Context.ID, PatientID: ev.PatientID,
		Display: display, HIType: ev.Context.HIType, Date: date,
	}
	if ev.OccurredAt != nil {
		c.Updated = *ev.OccurredAt
	}
	c.Reference = Reference(systemCode, c.Ref())
	return c
}
