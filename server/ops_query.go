package server

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/bridge"
)

const opsPath = "/admin/ops"

// opsLivePath serves the same page to its htmx refresh (see Server.poll).
const opsLivePath = opsPath + "/live"

// opsPageSize is how many exchanges one page of the console lists.
const opsPageSize = 50

// maxPolls stops the console's auto-refresh after about 10 minutes (at
// one poll per 5 s): each poll counts as activity and would otherwise keep
// an unattended session alive past its idle timeout.
const maxPolls = 120

// opsQuery is the console's query string, parsed and checked.
type opsQuery struct {
	filter bridge.Filter
	// polls counts htmx refreshes since the page was loaded.
	polls int
}

var (
	routeName = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,200}$`)
	requestID = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

func allStates() []bridge.State {
	return []bridge.State{
		bridge.StateAcknowledged, bridge.StateProcessed, bridge.StateReplied, bridge.StateUnhandled,
		bridge.StateFailed, bridge.StateRefused, bridge.StateQueued, bridge.StateDelivered, bridge.StateDeadLettered,
	}
}

// parseOpsQuery checks every filter value against what it can be; a bad
// value is a 400 naming the field, never a silently ignored filter.
func parseOpsQuery(get func(key string) string) (opsQuery, error) {
	var q opsQuery
	switch d := bridge.Direction(get("direction")); d {
	case "", bridge.Inbound, bridge.Outbound:
		q.filter.Direction = d
	default:
		return q, badQuery("The direction must be “inbound” or “outbound”.")
	}
	if st := bridge.State(get("state")); st != "" {
		if !slices.Contains(allStates(), st) {
			return q, badQuery("The state is not one Sangam knows; choose one from the list.")
		}
		q.filter.State = st
	}
	if r := get("route"); r != "" {
		if !routeName.MatchString(r) {
			return q, badQuery("The route must be a route name such as “hip.discover” or a gateway path.")
		}
		q.filter.Route = r
	}
	if id := get("request_id"); id != "" {
		if !requestID.MatchString(id) {
			return q, badQuery("The request id may hold only letters, digits and “-”, at most 64 of them.")
		}
		q.filter.RequestID = id
	}
	if b := get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return q, badQuery("“before” must be a positive exchange number.")
		}
		q.filter.BeforeID = n
	}
	if p := get("polls"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > maxPolls {
			return q, badQuery("“polls” must be a number from 0 to " + strconv.Itoa(maxPolls) + ".")
		}
		q.polls = n
	}
	return q, nil
}

func badQuery(msg string) *problem {
	return &problem{status: fiber.StatusBadRequest, title: "This filter is not valid", message: msg + " Change the filter, or clear it."}
}

// values is the query string of the filter, without paging.
func (q opsQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"direction": string(q.filter.Direction), "state": string(q.filter.State),
		"route": q.filter.Route, "request_id": q.filter.RequestID,
	} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// opsURL is the console with the filter and extra parameters.
func (q opsQuery) opsURL(extra map[string]string) string { return q.urlAt(opsPath, extra) }

// liveURL is opsURL for the page's own refresh, which is served at
// opsLivePath so that it does not count as the user's activity.
func (q opsQuery) liveURL(extra map[string]string) string { return q.urlAt(opsLivePath, extra) }

func (q opsQuery) urlAt(base string, extra map[string]string) string {
	v := q.values()
	for k, s := range extra {
		v.Set(k, s)
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// parseExchangeID reads the :id of an exchange route.
func parseExchangeID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, &problem{status: fiber.StatusBadRequest, title: "This is not an exchange number",
			message: "Exchange addresses end in a positive number, such as /admin/ops/42. Go back to the operations console and pick one."}
	}
	return id, nil
}
