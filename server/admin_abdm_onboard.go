package server

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/bridge"
)

// onboardTimeout bounds a registration or check run while the
// administrator waits: a session, a PATCH and a GET at the gateway.
const onboardTimeout = 45 * time.Second

// registerBridge registers the tenant's bridge URL with the gateway and
// checks its facilities.
func (s *Server) registerBridge(c *fiber.Ctx) error {
	return s.onboardAction(c, "abdm.bridge_register", "registered", s.abdm.Onboard)
}

// checkRegistrations asks the gateway which facilities are registered
// under the bridge, changing nothing there.
func (s *Server) checkRegistrations(c *fiber.Ctx) error {
	return s.onboardAction(c, "abdm.registrations_check", "checked", s.abdm.CheckRegistrations)
}

// onboardAction runs fn now, rather than queueing it, so the page can say
// how it went; the bridge records the outcome for later visits either way.
func (s *Server) onboardAction(c *fiber.Ctx, action, notice string, fn func(context.Context, string) (*bridge.Onboarding, error)) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), onboardTimeout)
	defer cancel()
	st := staffFrom(ctx)
	o, err := fn(ctx, st.TenantID)
	if err != nil {
		p := onboardProblem(err)
		if p == nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		if aerr := s.audit(c, action, map[string]any{"outcome": "failed", "error": p.Detail}); aerr != nil {
			return aerr
		}
		return s.showABDMProblem(c, statusForGateway(err), p, nil)
	}
	ready := 0
	for _, r := range o.Facilities {
		if r.CanServeM2() {
			ready++
		}
	}
	if err := s.audit(c, action, map[string]any{
		"outcome": "ok", "bridge_url": o.BridgeURL, "reported_url": o.ReportedURL, "facilities": len(o.Facilities), "can_serve_m2": ready,
	}); err != nil {
		return err
	}
	return c.Redirect(abdmPagePath+"?notice="+notice, fiber.StatusSeeOther)
}
