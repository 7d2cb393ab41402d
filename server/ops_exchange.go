package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// showExchange is one exchange's timeline, without its body.
func (s *Server) showExchange(c *fiber.Ctx) error {
	return s.renderExchange(c, false, opsNotice(c.Query("notice")))
}

// showExchangeBody is the same page with the body disclosed. It is a POST
// so that the disclosure is deliberate (and CSRF-checked), and it is
// recorded before anything is shown.
func (s *Server) showExchangeBody(c *fiber.Ctx) error {
	return s.renderExchange(c, true, "")
}

func (s *Server) renderExchange(c *fiber.Ctx, showBody bool, notice string) error {
	id, err := parseExchangeID(c.Params("id"))
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	d, err := s.abdm.Exchange(ctx, tenant, id)
	if err != nil {
		return exchangeError(err)
	}
	names, err := s.facilityNames(ctx, tenant)
	if err != nil {
		return err
	}
	if showBody && len(d.Body) > 0 {
		if err := s.audit(c, "bridge.body_viewed", map[string]any{"exchange_id": id, "route": d.Route}); err != nil {
			return err
		}
	}
	v := opsExchangeModel(d, names, showBody)
	v.Notice = notice
	return render(c, fiber.StatusOK, views.OpsExchangePage(s.pageFor(c, "Exchange "+v.ID, roleAdmin.home()), v))
}

// replayExchange queues a dead-lettered call or a failed or unhandled
// callback again.
func (s *Server) replayExchange(c *fiber.Ctx) error {
	id, err := parseExchangeID(c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.abdm.Replay(c.UserContext(), staffFrom(c.UserContext()).TenantID, id); err != nil {
		return exchangeError(err)
	}
	if err := s.audit(c, "bridge.exchange_replayed", map[string]any{"exchange_id": id}); err != nil {
		return err
	}
	return c.Redirect(opsPath+"/"+strconv.FormatInt(id, 10)+"?notice=replayed", fiber.StatusSeeOther)
}

// opsNotice is the confirmation an exchange page shows after a redirect.
func opsNotice(code string) string {
	if code == "replayed" {
		return "Replay queued. The timeline below shows its progress; reload to follow it."
	}
	return ""
}
