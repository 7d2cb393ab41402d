package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/views"
)

// The counter queue: scan-and-share tokens of one counter for today, for
// the front desk to take in and finish. The table is also served alone for
// htmx to poll every 3 seconds.

const queuePath = "/frontdesk/queue"

// counterQueues is what the queue page needs from package hip.
type counterQueues interface {
	Counters(ctx context.Context, tenant string) ([]hip.Counter, error)
	Queue(ctx context.Context, tenant, counterID string, day time.Time) (hip.QueueView, error)
	AcceptToken(ctx context.Context, tenant string, id int64) error
	CompleteToken(ctx context.Context, tenant string, id int64) error
	Today() time.Time
}

// queues reads the queues on the application pool; like patientIndex it
// holds nothing else, so one per request is fine.
func (s *Server) queues() counterQueues { return hip.NewQueues(s.pool, nil) }

func (s *Server) showCounterQueue(c *fiber.Ctx) error {
	return s.renderCounterQueue(c, fiber.StatusOK, queueNotice(c.Query("notice")), "")
}

func (s *Server) renderCounterQueue(c *fiber.Ctx, status int, notice, errMsg string) error {
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	q := s.queues()
	counters, err := q.Counters(ctx, tenant)
	if err != nil {
		return err
	}
	v := views.CounterQueue{Action: queuePath, Notice: notice, Error: errMsg}
	chosen := strings.Clone(c.Query("counter", c.FormValue("counter")))
	if len(counters) > 0 && !queueHasCounter(counters, chosen) {
		chosen = counters[0].ID
	}
	for _, ct := range counters {
		v.Counters = append(v.Counters, views.Option{Value: ct.ID, Label: ct.Code + " · " + ct.FacilityName, Selected: ct.ID == chosen})
	}
	if chosen != "" {
		qv, err := q.Queue(ctx, tenant, chosen, q.Today())
		if err != nil {
			return queueError(err)
		}
		v.Table = queueTableModel(qv, time.Now())
	}
	return render(c, status, views.CounterQueuePage(s.pageFor(c, "Counter queue", roleFrontDesk.home()), v))
}

// showCounterQueueTable is the fragment htmx polls.
func (s *Server) showCounterQueueTable(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q := s.queues()
	qv, err := q.Queue(ctx, staffFrom(ctx).TenantID, strings.Clone(c.Query("counter")), q.Today())
	if err != nil {
		return queueError(err)
	}
	return render(c, fiber.StatusOK, views.CounterQueueTable(s.pageFor(c, "Counter queue", roleFrontDesk.home()), queueTableModel(qv, time.Now())))
}

func (s *Server) acceptQueueToken(c *fiber.Ctx) error {
	return s.moveQueueToken(c, "accepted", s.queues().AcceptToken)
}

func (s *Server) completeQueueToken(c *fiber.Ctx) error {
	return s.moveQueueToken(c, "completed", s.queues().CompleteToken)
}

func (s *Server) moveQueueToken(c *fiber.Ctx, notice string, move func(context.Context, string, int64) error) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "There is no such token.")
	}
	ctx := c.UserContext()
	if err := move(ctx, staffFrom(ctx).TenantID, id); err != nil {
		if errors.Is(err, hip.ErrConflict) {
			return s.renderCounterQueue(c, fiber.StatusConflict, "", "Nothing was changed: someone has already moved this token on. The list below is current.")
		}
		return queueError(err)
	}
	if err := s.audit(c, "queue.token_"+notice, map[string]any{"token_id": id}); err != nil {
		return err
	}
	return c.Redirect(queuePath+"?counter="+url.QueryEscape(c.FormValue("counter"))+"&notice="+notice, fiber.StatusSeeOther)
}

func queueHasCounter(cs []hip.Counter, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// queueTableModel turns a queue into the rows the front desk reads.
func queueTableModel(qv hip.QueueView, now time.Time) views.QueueTable {
	t := views.QueueTable{
		Heading:    qv.Counter.Code + " · " + qv.Counter.FacilityName,
		Day:        qv.Day.Format("2 Jan 2006"),
		RefreshURL: queuePath + "/table?counter=" + url.QueryEscape(qv.Counter.ID),
		CounterID:  qv.Counter.ID,
		Empty:      "No tokens yet today. Tokens appear here as patients scan the counter's QR code.",
	}
	for _, e := range qv.Entries {
		r := views.QueueRow{
			Token: strconv.Itoa(e.TokenNumber), Name: e.Name, Age: "—", Gender: queueGender(e.Gender),
			ABHA: e.ABHAAddress, Time: e.SharedAt.In(qv.Location).Format("15:04"), Status: e.Status,
		}
		if e.Age >= 0 {
			r.Age = fmt.Sprintf("%d y", e.Age)
		}
		base := fmt.Sprintf("%s/%d/", queuePath, e.ID)
		switch e.Status {
		case hip.TokenWaiting:
			r.StatusLabel = "Waiting"
			if e.Expired(now) {
				r.StatusLabel = "Waiting (token expired)"
			}
			r.AcceptURL, r.CompleteURL = base+"accept", base+"complete"
		case hip.TokenAccepted:
			r.StatusLabel = "With staff"
			r.CompleteURL = base + "complete"
		default:
			r.StatusLabel = "Done"
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

func queueGender(g string) string {
	switch g {
	case "M":
		return "Male"
	case "F":
		return "Female"
	case "O":
		return "Other"
	case "T":
		return "Transgender"
	}
	return "Not stated"
}

func queueNotice(code string) string {
	switch code {
	case "accepted":
		return "Taken in. The token is now with staff."
	case "completed":
		return "Done. The token is closed."
	}
	return ""
}

func queueError(err error) error {
	if errors.Is(err, hip.ErrNotFound) {
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "That counter or token does not exist. Reload the queue page.", err: err}
	}
	return err
}
