package server

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/views"
)

const abdmPagePath = "/admin/abdm"

func (s *Server) showABDMPage(c *fiber.Ctx) error {
	v, err := s.abdmConnection(c.UserContext(), staffFrom(c.UserContext()).TenantID)
	if err != nil {
		return err
	}
	v.Notice = abdmNotice(c.Query("notice"))
	return s.renderABDM(c, fiber.StatusOK, v)
}

// abdmConnection reads what the ABDM connection page shows.
func (s *Server) abdmConnection(ctx context.Context, tenant string) (views.ABDMConnection, error) {
	in := abdmState{canSave: s.checkCreds != nil}
	var err error
	in.status, err = s.abdm.OnboardingStatus(ctx, tenant)
	if errors.Is(err, bridge.ErrNoCredentials) {
		in.status, err = nil, nil
	}
	if err != nil {
		return views.ABDMConnection{}, err
	}
	if in.regs, err = s.abdm.FacilityRegistrations(ctx, tenant); err != nil {
		return views.ABDMConnection{}, err
	}
	if in.facilities, err = s.facilityNames(ctx, tenant); err != nil {
		return views.ABDMConnection{}, err
	}
	slug, err := s.tenantSlug(ctx, tenant)
	if err != nil {
		return views.ABDMConnection{}, err
	}
	in.bridgeURL = s.abdm.BridgeURL(slug)
	return abdmConnectionModel(in), nil
}

// showABDMProblem shows the page again with what went wrong: a refused
// action re-renders rather than redirects, so the message (and the typed
// client id) survive.
func (s *Server) showABDMProblem(c *fiber.Ctx, status int, p *views.ABDMProblem, form *views.CredentialsForm) error {
	v, err := s.abdmConnection(c.UserContext(), staffFrom(c.UserContext()).TenantID)
	if err != nil {
		return err
	}
	v.Problem = p
	if form != nil {
		v.Form = *form
	}
	return s.renderABDM(c, status, v)
}

func (s *Server) renderABDM(c *fiber.Ctx, status int, v views.ABDMConnection) error {
	return render(c, status, views.ABDMConnectionPage(s.pageFor(c, "ABDM connection", roleAdmin.home()), v))
}
