package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/views"
)

// opsFilterModel fills the filter form with q's values selected.
func opsFilterModel(q opsQuery) views.OpsFilter {
	f := q.filter
	v := views.OpsFilter{
		RequestID: f.RequestID,
		Active:    len(q.values()) > 0,
		Directions: []views.Option{
			{Value: "", Label: "Both", Selected: f.Direction == ""},
			{Value: string(bridge.Inbound), Label: directionLabel(bridge.Inbound), Selected: f.Direction == bridge.Inbound},
			{Value: string(bridge.Outbound), Label: directionLabel(bridge.Outbound), Selected: f.Direction == bridge.Outbound},
		},
		States: []views.Option{{Value: "", Label: "Any", Selected: f.State == ""}},
		Routes: []views.Option{{Value: "", Label: "Any", Selected: f.Route == ""}},
	}
	for _, st := range allStates() {
		v.States = append(v.States, views.Option{Value: string(st), Label: stateLabel(st), Selected: f.State == st})
	}
	known := false
	for _, r := range abdm.CallbackRoutes() {
		known = known || r.Name == f.Route
		v.Routes = append(v.Routes, views.Option{Value: r.Name, Label: "from ABDM: " + r.Name, Selected: f.Route == r.Name})
	}
	for _, r := range abdm.GatewayRoutes() {
		known = known || r.Name == f.Route
		v.Routes = append(v.Routes, views.Option{Value: r.Name, Label: "to ABDM: " + r.Name, Selected: f.Route == r.Name})
	}
	if !known && f.Route != "" {
		// A path route (a call abdm does not list) arrives by link only.
		v.Routes = append(v.Routes, views.Option{Value: f.Route, Label: f.Route, Selected: true})
	}
	return v
}

// opsTableModel lists one page of exchanges. xs may hold one more than a
// page, which says that older ones exist.
func opsTableModel(q opsQuery, xs []bridge.Exchange, names map[string]facilityName) views.OpsTable {
	var t views.OpsTable
	if len(xs) > opsPageSize {
		xs = xs[:opsPageSize]
		t.OlderURL = q.opsURL(map[string]string{"before": strconv.FormatInt(xs[len(xs)-1].ID, 10)})
	}
	for _, x := range xs {
		t.Rows = append(t.Rows, exchangeRow(x, names))
	}
	switch {
	case len(xs) > 0:
	case q.filter.BeforeID > 0:
		t.Empty = "No older exchanges."
	case len(q.values()) > 0:
		t.Empty = "No exchange matches this filter."
	default:
		t.Empty = "No exchanges yet: nothing has been received from or sent to the ABDM gateway."
	}
	switch {
	case q.filter.BeforeID > 0:
		t.NewestURL = q.opsURL(nil)
		t.RefreshNote = "Older exchanges do not refresh on their own; go to the newest to follow new ones."
	case q.polls >= maxPolls:
		t.RefreshNote = "Automatic refresh stopped after 10 minutes. Reload the page to start it again."
	default:
		t.RefreshURL = q.liveURL(map[string]string{"polls": strconv.Itoa(q.polls + 1)})
	}
	return t
}

// exchangeRow is one exchange in a list.
func exchangeRow(x bridge.Exchange, names map[string]facilityName) views.OpsRow {
	r := views.OpsRow{
		ID:        strconv.FormatInt(x.ID, 10),
		Href:      opsPath + "/" + strconv.FormatInt(x.ID, 10),
		Direction: directionShort(x.Direction),
		Route:     x.Route,
		Path:      x.Method + " " + x.Path,
		Facility:  facilityLabel(x, names),
		State:     stateLabel(x.State),
		Attention: needsAttention(x.State),
		Attempts:  attemptsLabel(x),
		ErrorCode: x.LastErrorCode,
		RequestID: x.RequestID,
		Created:   shortClock(x.CreatedAt),
	}
	if x.LastError != "" {
		r.ErrorText = exchangeProblem(x).Message
	}
	if shortClock(x.UpdatedAt) != r.Created {
		r.Updated = shortClock(x.UpdatedAt)
		if sameDay(x.CreatedAt, x.UpdatedAt) {
			r.Updated = x.UpdatedAt.In(indiaTime).Format("15:04:05")
		}
	}
	return r
}

// shortClock is a list's time: the table header names the zone.
func shortClock(t time.Time) string {
	return t.In(indiaTime).Format("2 Jan, 15:04:05")
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(indiaTime).Date()
	by, bm, bd := b.In(indiaTime).Date()
	return ay == by && am == bm && ad == bd
}

func facilityLabel(x bridge.Exchange, names map[string]facilityName) string {
	f, ok := names[x.FacilityID]
	switch {
	case ok:
		return f.Name
	case x.ServiceID != "":
		return x.ServiceRole + " " + x.ServiceID
	}
	return "—"
}

func attemptsLabel(x bridge.Exchange) string {
	if x.MaxAttempts > 0 {
		return fmt.Sprintf("%d of %d", x.Attempts, x.MaxAttempts)
	}
	return strconv.Itoa(x.Attempts)
}

func directionShort(d bridge.Direction) string {
	switch d {
	case bridge.Inbound:
		return "From ABDM"
	case bridge.Outbound:
		return "To ABDM"
	}
	return string(d)
}

func directionLabel(d bridge.Direction) string {
	switch d {
	case bridge.Inbound:
		return "From ABDM (callback)"
	case bridge.Outbound:
		return "To ABDM (call)"
	}
	return string(d)
}

func stateLabel(s bridge.State) string {
	switch s {
	case bridge.StateRefused:
		return "Refused"
	case bridge.StateAcknowledged:
		return "Acknowledged"
	case bridge.StateProcessed:
		return "Processed"
	case bridge.StateUnhandled:
		return "Unhandled"
	case bridge.StateFailed:
		return "Failed"
	case bridge.StateReplied:
		return "Replied"
	case bridge.StateQueued:
		return "Queued"
	case bridge.StateDelivered:
		return "Delivered"
	case bridge.StateDeadLettered:
		return "Dead-lettered"
	}
	return string(s)
}

// needsAttention reports whether an exchange in state s waits for a person.
func needsAttention(s bridge.State) bool {
	switch s {
	case bridge.StateFailed, bridge.StateDeadLettered, bridge.StateUnhandled, bridge.StateRefused:
		return true
	}
	return false
}

// exchangeProblem says in plain language why an exchange is stuck.
func exchangeProblem(x bridge.Exchange) *views.ABDMProblem {
	p := &views.ABDMProblem{Detail: x.LastError}
	switch {
	case x.State == bridge.StateUnhandled:
		p.Message = "Sangam has no processor for this kind of callback yet, so it was kept without being acted on."
		p.Advice = "Replay it once a Sangam version that handles " + x.Route + " is running."
	case strings.Contains(x.LastError, bridge.ErrNoCredentials.Error()):
		p.Message = "This organisation had no ABDM credentials stored when Sangam tried to send this."
		p.Advice = "Store them on the ABDM connection page, then replay."
	case x.LastStatus != 0 || x.LastErrorCode != "":
		p.Message, _ = gatewayText(x.LastStatus, x.LastErrorCode)
	case x.Direction == bridge.Inbound:
		p.Message = "Sangam could not process this callback."
	default:
		p.Message = "The call could not be sent to the gateway."
	}
	if p.Advice == "" {
		p.Advice = nextStep(x.State)
	}
	return p
}

// nextStep is what an operator can do about an exchange in state s.
func nextStep(s bridge.State) string {
	switch s {
	case bridge.StateDeadLettered, bridge.StateFailed:
		return "Sangam has stopped trying. The technical detail says why; replay it once the cause is fixed."
	case bridge.StateQueued, bridge.StateAcknowledged:
		return "Sangam tries again on its own while attempts remain."
	}
	return "The technical detail says why."
}

// opsExchangeModel fills the detail page. body is shown only when the
// viewer has asked for it (and the asking was recorded).
func opsExchangeModel(d *bridge.ExchangeDetail, names map[string]facilityName, showBody bool) views.OpsExchange {
	x := d.Exchange
	id := strconv.FormatInt(x.ID, 10)
	v := views.OpsExchange{
		ID:      id,
		Heading: fmt.Sprintf("Exchange %d: %s", x.ID, x.Route),
		Facts:   exchangeFacts(x, names),
		Body:    bodyModel(d, id, showBody),
	}
	if x.LastError != "" && x.State != bridge.StateDelivered && x.State != bridge.StateProcessed && x.State != bridge.StateReplied {
		v.Problem = exchangeProblem(x)
	}
	for _, e := range d.Events {
		v.Events = append(v.Events, eventRow(e))
	}
	for _, r := range d.Related {
		if r.ID != x.ID {
			v.Related = append(v.Related, exchangeRow(r, names))
		}
	}
	switch {
	case x.IsReplayable():
		v.ReplayURL = opsPath + "/" + id + "/replay"
		v.ReplayNote = replayNote(x)
	case x.BodyPurgedAt != nil && needsAttention(x.State):
		v.ReplayNote = "It cannot be replayed: its body was dropped after the retention period."
	default:
		v.ReplayNote = "Only dead-lettered calls and failed or unhandled callbacks can be replayed; this one is " + strings.ToLower(stateLabel(x.State)) + "."
	}
	return v
}

func replayNote(x bridge.Exchange) string {
	if x.Direction == bridge.Inbound {
		return "Replaying processes this callback again, as if it had just arrived. Do it once the cause of the failure is fixed."
	}
	if x.LastStatus >= 400 && x.LastStatus < 500 {
		return "Replaying sends this call again with a new request id, because the gateway refused this one. Do it once the cause of the refusal is fixed."
	}
	return "Replaying sends this call again with the same request id, so the gateway can recognise it if an earlier send got through."
}

func exchangeFacts(x bridge.Exchange, names map[string]facilityName) []views.Fact {
	facts := []views.Fact{
		{Label: "Direction", Value: directionLabel(x.Direction)},
		{Label: "Route", Value: x.Route, Code: true},
		{Label: "Path", Value: x.Method + " " + x.Path, Code: true},
		{Label: "Facility", Value: facilityLabel(x, names)},
		{Label: "State", Value: stateLabel(x.State)},
		{Label: "Attempts", Value: attemptsLabel(x)},
		{Label: "Request id", Value: x.RequestID, Code: true},
	}
	if x.CorrelationID != "" {
		facts = append(facts, views.Fact{Label: "Answers request id", Value: x.CorrelationID, Code: true})
	}
	if x.AckStatus != 0 {
		facts = append(facts, views.Fact{Label: "Acknowledged with", Value: "HTTP " + strconv.Itoa(x.AckStatus)})
	}
	facts = append(facts, views.Fact{Label: "Created", Value: clock(x.CreatedAt)}, views.Fact{Label: "Last change", Value: clock(x.UpdatedAt)})
	return facts
}

func eventRow(e bridge.Event) views.OpsEvent {
	r := views.OpsEvent{At: clock(e.At), What: eventLabel(e.Kind), Detail: e.Detail}
	if e.Attempt > 0 {
		r.Attempt = strconv.Itoa(e.Attempt)
	}
	if e.HTTPStatus > 0 {
		r.Status = strconv.Itoa(e.HTTPStatus)
	}
	switch e.Kind {
	case bridge.EventRefused, bridge.EventConflict, bridge.EventFailed, bridge.EventUnhandled,
		bridge.EventDeadLettered, bridge.EventProcessFailed:
		r.Attention = true
	case bridge.EventAttempt:
		r.Attention = e.HTTPStatus == 0 || e.HTTPStatus >= 300
	}
	return r
}

func eventLabel(kind string) string {
	switch kind {
	case bridge.EventReceived:
		return "Received from ABDM"
	case bridge.EventAcknowledged:
		return "Acknowledged to ABDM"
	case bridge.EventRefused:
		return "Refused"
	case bridge.EventDuplicate:
		return "Delivered again (not processed twice)"
	case bridge.EventConflict:
		return "Same request id with a different body: refused"
	case bridge.EventProcessed:
		return "Processed"
	case bridge.EventUnhandled:
		return "Unhandled: no processor for this route"
	case bridge.EventFailed:
		return "Processing failed for good"
	case bridge.EventProcessFailed:
		return "Processing attempt failed"
	case bridge.EventReplied:
		return "Replied to ABDM"
	case bridge.EventQueued:
		return "Queued to send"
	case bridge.EventAttempt:
		return "Send attempt"
	case bridge.EventDelivered:
		return "Delivered to ABDM"
	case bridge.EventDeadLettered:
		return "Dead-lettered: no more attempts"
	case bridge.EventReplayed:
		return "Replayed by an operator"
	case bridge.EventAnswered:
		return "Answered by a callback"
	case bridge.EventBodyPurged:
		return "Body dropped after the retention period"
	}
	return kind
}

// bodyModel offers the body behind a disclosure, or shows it.
func bodyModel(d *bridge.ExchangeDetail, id string, show bool) views.OpsBody {
	switch {
	case d.BodyPurgedAt != nil:
		return views.OpsBody{Missing: "The body was dropped on " + clock(*d.BodyPurgedAt) + ", at the end of the retention period."}
	case len(d.Body) == 0:
		return views.OpsBody{Missing: "No body was kept for this exchange: refused callbacks and calls without a body have none."}
	case !show:
		return views.OpsBody{ShowURL: opsPath + "/" + id + "/body"}
	}
	return views.OpsBody{Shown: prettyJSON(d.Body)}
}

// prettyJSON indents a JSON body for reading; anything else is shown as it is.
func prettyJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// exchangeError maps the bridge's errors about one exchange to what the
// operator sees.
func exchangeError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrNotFound):
		return &problem{status: fiber.StatusNotFound, title: "No such exchange", message: "This organisation has no exchange with this number. It may belong to another organisation, or the address is wrong.", err: err}
	case errors.Is(err, bridge.ErrNotReplayable):
		return &problem{status: fiber.StatusConflict, title: "This exchange cannot be replayed", message: "Only dead-lettered calls and failed or unhandled callbacks can be replayed, and only while their body is kept. Someone may have replayed it already: reload its page.", err: err}
	}
	return err
}
