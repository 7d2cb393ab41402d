package server

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
)

// finishLogin is where the provider sends the browser back. It checks the
// state against this browser's sign-in cookie, exchanges the code, verifies
// the ID token and opens a session.
func (s *Server) finishLogin(c *fiber.Ctx) error {
	cookie := s.cookies.get(c, loginCookie)
	s.cookies.clear(c, loginCookie) // single use, whatever happens next
	c.Set(fiber.HeaderCacheControl, "no-store")

	if e := c.Query("error"); e != "" {
		return s.showLoginError(c, &problem{status: fiber.StatusUnauthorized, message: providerRefusal(e, c.Query("error_description"))})
	}
	pending, err := s.loginSealer.openPendingLogin(cookie, c.Query("state"), time.Now())
	if err != nil {
		return s.showLoginError(c, &problem{status: fiber.StatusBadRequest,
			message: "This sign-in could not be matched to one started in this browser, or it took too long. Please sign in again."})
	}
	value, roles, err := s.completeLogin(c.UserContext(), string([]byte(c.Query("code"))), pending)
	var p *problem
	if errors.As(err, &p) && p.status < 500 {
		return s.showLoginError(c, p)
	}
	if err != nil {
		return err
	}
	s.cookies.set(c, sessionCookie, value, s.sessions.max)
	next := pending.Next
	if next == "" {
		next = homeOf(roles)
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// completeLogin turns an authorization code into a stored session and
// returns the session cookie value and the user's roles.
func (s *Server) completeLogin(ctx context.Context, code string, pending pendingLogin) (string, []role, error) {
	if code == "" {
		return "", nil, &problem{status: fiber.StatusBadRequest, message: "The identity provider sent no authorization code. Please sign in again."}
	}
	si, err := s.rp.exchange(ctx, code, pending)
	if err != nil {
		return "", nil, &problem{status: fiber.StatusBadGateway, title: "Sign-in failed",
			message: "The identity provider's answer could not be verified, so you are not signed in. Please try again; if it keeps happening, tell your administrator.", err: err}
	}
	roles := parseRoles(si.claims.Roles)
	if len(roles) == 0 {
		return "", nil, signInRefused("Your account has none of Sangam's roles (front-desk, doctor, billing, admin). Ask your identity administrator to add the role you need.")
	}
	tenantID, err := s.resolveTenant(ctx, si.claims.Tenant)
	if err != nil {
		return "", nil, err
	}
	value, err := s.createSession(ctx, tenantID, si, roles)
	if err != nil {
		return "", nil, err
	}
	s.log.InfoContext(ctx, "staff signed in", "request_id", RequestID(ctx), "tenant_id", tenantID, "subject", si.claims.Subject, "roles", roleNames(roles))
	return value, roles, nil
}

// providerRefusal explains an error the provider sent back instead of a
// code. access_denied is the user pressing Cancel or lacking access.
func providerRefusal(code, description string) string {
	if code == "access_denied" {
		return "The identity provider did not let you sign in to Sangam. Please try again, or ask your administrator for access."
	}
	msg := "The identity provider could not sign you in (" + truncate(code, 64) + ")"
	if description != "" {
		msg += ": " + truncate(description, 200)
	}
	return msg + ". Please try again."
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
