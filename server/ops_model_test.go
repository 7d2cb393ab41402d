package server

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/views"
)

func TestParseOpsQuery(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  bridge.Filter
		polls int
		bad   bool
	}{
		{query: "", want: bridge.Filter{}},
		{query: "direction=inbound&state=failed&route=hip.discover&request_id=5f1c-ab&before=42&polls=3",
			want: bridge.Filter{Direction: bridge.Inbound, State: bridge.StateFailed, Route: "hip.discover", RequestID: "5f1c-ab", BeforeID: 42}, polls: 3},
		{query: "route=/v3/some/path", want: bridge.Filter{Route: "/v3/some/path"}},
		{query: "direction=outbound&state=dead_lettered", want: bridge.Filter{Direction: bridge.Outbound, State: bridge.StateDeadLettered}},
		{query: "direction=both", bad: true},
		{query: "state=DEAD_LETTERED", bad: true},
		{query: "route=a%20b", bad: true},
		{query: "route=" + strings.Repeat("r", 201), bad: true},
		{query: "request_id=%27%3B--", bad: true},
		{query: "before=0", bad: true},
		{query: "before=9223372036854775808", bad: true},
		{query: "polls=-1", bad: true},
		{query: "polls=121", bad: true},
	} {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseOpsQuery(v.Get)
		if tc.bad {
			var p *problem
			if !errors.As(err, &p) || p.status != 400 {
				t.Errorf("parseOpsQuery(%q) = %v, want a 400 problem", tc.query, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseOpsQuery(%q): %v", tc.query, err)
			continue
		}
		if diff := cmp.Diff(tc.want, q.filter); diff != "" || q.polls != tc.polls {
			t.Errorf("parseOpsQuery(%q) polls %d (-want +got):\n%s", tc.query, q.polls, diff)
		}
	}
}

func exchanges(ids ...int64) []bridge.Exchange {
	at := time.Date(2026, 3, 1, 4, 30, 0, 0, time.UTC)
	out := make([]bridge.Exchange, len(ids))
	for i, id := range ids {
		out[i] = bridge.Exchange{ID: id, Direction: bridge.Inbound, Route: "hip.discover", Method: "POST", Path: "/api/v3/hip/patient/care-context/discover",
			RequestID: "req", ServiceRole: "HIP", ServiceID: "HIP-1", FacilityID: "f1", State: bridge.StateProcessed,
			Attempts: 1, MaxAttempts: 8, CreatedAt: at, UpdatedAt: at}
	}
	return out
}

func TestOpsTableModel(t *testing.T) {
	names := map[string]facilityName{"f1": {Name: "City", HFRID: "IN1"}}
	ids := make([]int64, opsPageSize+1)
	for i := range ids {
		ids[i] = int64(1000 - i)
	}
	q := opsQuery{filter: bridge.Filter{State: bridge.StateProcessed}, polls: 7}

	full := opsTableModel(q, exchanges(ids...), names)
	if len(full.Rows) != opsPageSize {
		t.Fatalf("%d rows, want %d", len(full.Rows), opsPageSize)
	}
	if want := "/admin/ops?before=951&state=processed"; full.OlderURL != want {
		t.Errorf("older URL %q, want %q", full.OlderURL, want)
	}
	if want := "/admin/ops/live?polls=8&state=processed"; full.RefreshURL != want || full.NewestURL != "" {
		t.Errorf("refresh %q newest %q, want refresh %q", full.RefreshURL, full.NewestURL, want)
	}

	last := opsTableModel(opsQuery{polls: maxPolls}, exchanges(5), names)
	if last.RefreshURL != "" || !strings.Contains(last.RefreshNote, "stopped") || last.OlderURL != "" {
		t.Errorf("after the last poll: %+v", last)
	}

	older := opsTableModel(opsQuery{filter: bridge.Filter{BeforeID: 951}}, nil, names)
	if older.RefreshURL != "" || older.NewestURL != "/admin/ops" || older.Empty != "No older exchanges." {
		t.Errorf("an empty older page: %+v", older)
	}
	if got := opsTableModel(opsQuery{filter: bridge.Filter{Route: "x"}}, nil, names).Empty; got != "No exchange matches this filter." {
		t.Errorf("empty filtered page says %q", got)
	}
	if got := opsTableModel(opsQuery{}, nil, names).Empty; !strings.Contains(got, "No exchanges yet") {
		t.Errorf("empty console says %q", got)
	}
}

func TestExchangeRow(t *testing.T) {
	x := exchanges(7)[0]
	x.Direction, x.Route, x.Path, x.State = bridge.Outbound, "on_discover", "/user-initiated-linking/v3/patient/care-context/on-discover", bridge.StateDeadLettered
	x.Attempts, x.MaxAttempts, x.LastStatus, x.LastErrorCode = 1, 1, 400, "ABDM-1006"
	x.LastError = "abdm: HTTP 400: ABDM-1006: details refused"
	x.UpdatedAt = x.CreatedAt.Add(time.Minute)
	got := exchangeRow(x, map[string]facilityName{"f1": {Name: "City"}})
	want := views.OpsRow{ID: "7", Href: "/admin/ops/7", Direction: "To ABDM", Route: "on_discover",
		Path: "POST /user-initiated-linking/v3/patient/care-context/on-discover", Facility: "City", State: "Dead-lettered",
		Attention: true, Attempts: "1 of 1", ErrorCode: "ABDM-1006", ErrorText: exchangeProblem(x).Message, RequestID: "req",
		Created: "1 Mar, 10:00:00", Updated: "10:01:00"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exchangeRow (-want +got):\n%s", diff)
	}
	if !strings.Contains(got.ErrorText, "ABDM did not accept the details") {
		t.Errorf("error text %q is not the plain explanation of ABDM-1006", got.ErrorText)
	}
	x.UpdatedAt = x.CreatedAt.Add(20 * time.Hour)
	if got := exchangeRow(x, nil).Updated; got != "2 Mar, 06:00:00" {
		t.Errorf("a change on another day shows %q, want the date", got)
	}
	x.FacilityID = "gone"
	if got := exchangeRow(x, nil).Facility; got != "HIP HIP-1" {
		t.Errorf("facility of an unknown facility id: %q", got)
	}
}

func TestExchangeProblem(t *testing.T) {
	x := exchanges(1)[0]
	for _, tc := range []struct {
		change func(*bridge.Exchange)
		want   string
	}{
		{func(x *bridge.Exchange) { x.State = bridge.StateUnhandled }, "no processor"},
		{func(x *bridge.Exchange) { x.LastError = "sending: " + bridge.ErrNoCredentials.Error() }, "no ABDM credentials"},
		{func(x *bridge.Exchange) { x.LastStatus = 503 }, "not responding"},
		{func(x *bridge.Exchange) { x.State, x.LastError = bridge.StateFailed, "boom" }, "could not process this callback"},
		{func(x *bridge.Exchange) { x.Direction, x.LastError = bridge.Outbound, "timeout" }, "could not be sent"},
	} {
		y := x
		tc.change(&y)
		if p := exchangeProblem(y); !strings.Contains(p.Message, tc.want) || p.Detail != y.LastError {
			t.Errorf("exchangeProblem(%s %s %d %q) = %+v, want %q", y.Direction, y.State, y.LastStatus, y.LastError, p, tc.want)
		}
	}
}

func TestOpsExchangeModel(t *testing.T) {
	x := exchanges(9)[0]
	x.State, x.LastError = bridge.StateFailed, "processor: boom"
	d := &bridge.ExchangeDetail{
		Exchange: x,
		Body:     []byte(`{"patient":{"name":"Asha <b>Rao</b>"}}`),
		Events: []bridge.Event{
			{Kind: bridge.EventReceived}, {Kind: bridge.EventAcknowledged, HTTPStatus: 202},
			{Kind: bridge.EventProcessFailed, Attempt: 1, Detail: "boom"}, {Kind: bridge.EventFailed, Attempt: 8},
		},
		Related: append(exchanges(9), exchanges(12)...),
	}
	names := map[string]facilityName{"f1": {Name: "City"}}

	hidden := opsExchangeModel(d, names, false)
	if hidden.Body.ShowURL != "/admin/ops/9/body" || hidden.Body.Shown != "" {
		t.Errorf("body by default: %+v, want only the disclosure", hidden.Body)
	}
	if hidden.ReplayURL != "/admin/ops/9/replay" || hidden.Problem == nil || len(hidden.Related) != 1 || hidden.Related[0].ID != "12" {
		t.Errorf("replay %q, problem %+v, related %+v", hidden.ReplayURL, hidden.Problem, hidden.Related)
	}
	gotEvents := []string{}
	for _, e := range hidden.Events {
		gotEvents = append(gotEvents, e.What+"|"+e.Attempt+"|"+e.Status)
	}
	wantEvents := []string{"Received from ABDM||", "Acknowledged to ABDM||202", "Processing attempt failed|1|", "Processing failed for good|8|"}
	if diff := cmp.Diff(wantEvents, gotEvents); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !hidden.Events[3].Attention || hidden.Events[1].Attention {
		t.Error("failures are not marked, or successes are")
	}
	page := renderHTML(t, views.OpsExchangePage(views.Page{Title: "x"}, hidden))
	if strings.Contains(page, "Asha") {
		t.Error("the page shows the body before it was asked for")
	}

	shown := opsExchangeModel(d, names, true)
	if !strings.Contains(shown.Body.Shown, "\n  \"patient\"") {
		t.Errorf("shown body is not indented: %q", shown.Body.Shown)
	}
	page = renderHTML(t, views.OpsExchangePage(views.Page{Title: "x"}, shown))
	if !strings.Contains(page, "Asha &lt;b&gt;Rao&lt;/b&gt;") || strings.Contains(page, "<b>Rao") {
		t.Error("the disclosed body is missing or not escaped")
	}

	purged := *d
	now := time.Now()
	purged.BodyPurgedAt, purged.Body = &now, nil
	v := opsExchangeModel(&purged, names, true)
	if v.Body.ShowURL != "" || v.Body.Shown != "" || !strings.Contains(v.Body.Missing, "dropped") || v.ReplayURL != "" {
		t.Errorf("purged exchange: body %+v, replay %q", v.Body, v.ReplayURL)
	}

	delivered := *d
	delivered.Direction, delivered.State, delivered.LastError = bridge.Outbound, bridge.StateDelivered, ""
	v = opsExchangeModel(&delivered, names, false)
	if v.ReplayURL != "" || !strings.Contains(v.ReplayNote, "delivered") || v.Problem != nil {
		t.Errorf("delivered exchange: replay %q note %q problem %+v", v.ReplayURL, v.ReplayNote, v.Problem)
	}
}

func TestOpsFilterModel(t *testing.T) {
	v := opsFilterModel(opsQuery{filter: bridge.Filter{Direction: bridge.Outbound, Route: "/v3/unlisted"}})
	selected := func(opts []views.Option) []string {
		var out []string
		for _, o := range opts {
			if o.Selected {
				out = append(out, o.Value)
			}
		}
		return out
	}
	if got := selected(v.Directions); !cmp.Equal(got, []string{"outbound"}) {
		t.Errorf("selected directions %v", got)
	}
	if got := selected(v.States); !cmp.Equal(got, []string{""}) {
		t.Errorf("selected states %v", got)
	}
	if got := selected(v.Routes); !cmp.Equal(got, []string{"/v3/unlisted"}) {
		t.Errorf("selected routes %v, want the unlisted route kept", got)
	}
	if !v.Active || opsFilterModel(opsQuery{}).Active {
		t.Error("Active does not follow the filter")
	}
}

func renderHTML(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
