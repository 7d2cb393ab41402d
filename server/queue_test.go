package server

import (
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/views"
)

func TestQueueTableModelAndFragment(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, ist)
	qv := hip.QueueView{
		Counter:  hip.Counter{ID: "c-1", Code: "OPD1", FacilityName: "City Clinic"},
		Day:      time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		Location: ist,
		Entries: []hip.QueueEntry{
			{ID: 7, TokenNumber: 1, Name: "Asha Rao", Gender: "F", Age: 38, ABHAAddress: "asha.rao@sbx",
				SharedAt: now.Add(-40 * time.Minute), ExpiresAt: now.Add(-10 * time.Minute), Status: hip.TokenWaiting},
			{ID: 8, TokenNumber: 2, Name: "Vikram Singh", Gender: "M", Age: -1, ABHAAddress: "vikram.s@sbx",
				SharedAt: now.Add(-5 * time.Minute), ExpiresAt: now.Add(25 * time.Minute), Status: hip.TokenAccepted},
			{ID: 9, TokenNumber: 3, Name: "Meera K", Gender: "F", Age: 27, ABHAAddress: "meera.k@sbx",
				SharedAt: now.Add(-2 * time.Minute), ExpiresAt: now.Add(28 * time.Minute), Status: hip.TokenCompleted},
		},
	}
	tab := queueTableModel(qv, now.UTC())
	if tab.Heading != "OPD1 · City Clinic" || tab.Day != "24 Nov 2026" || tab.RefreshURL != "/frontdesk/queue/table?counter=c-1" {
		t.Errorf("table header: %+v", tab)
	}
	want := []struct{ token, age, gender, time, label, accept, complete string }{
		{"1", "38 y", "Female", "09:20", "Waiting (token expired)", "/frontdesk/queue/7/accept", "/frontdesk/queue/7/complete"},
		{"2", "—", "Male", "09:55", "With staff", "", "/frontdesk/queue/8/complete"},
		{"3", "27 y", "Female", "09:58", "Done", "", ""},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("rows: %+v", tab.Rows)
	}
	for i, w := range want {
		r := tab.Rows[i]
		if r.Token != w.token || r.Age != w.age || r.Gender != w.gender || r.Time != w.time || r.StatusLabel != w.label ||
			r.AcceptURL != w.accept || r.CompleteURL != w.complete {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}

	page := views.Page{Staff: &views.StaffBar{CSRFToken: "tok-123"}}
	html := renderHTML(t, views.CounterQueueTable(page, tab))
	for _, s := range []string{
		`hx-get="/frontdesk/queue/table?counter=c-1"`, `hx-trigger="every 3s"`, "asha.rao@sbx", "Vikram Singh",
		`action="/frontdesk/queue/7/accept"`, `action="/frontdesk/queue/8/complete"`, `name="csrf_token" value="tok-123"`,
		`name="counter" value="c-1"`,
	} {
		if !strings.Contains(html, s) {
			t.Errorf("fragment lacks %s:\n%s", s, html)
		}
	}
	if strings.Contains(html, "/frontdesk/queue/9/") {
		t.Error("a completed token offers an action")
	}
}
