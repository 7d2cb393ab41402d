package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// Paths of the sign-in flow.
const (
	loginPath     = "/login"
	loginStart    = "/auth/login"
	callbackPath  = "/auth/callback"
	logoutPath    = "/logout"
	signedOutPath = "/signed-out"
)

// showLoginPage offers the Sign in button. A user who is already signed in
// goes to their home page instead.
func (s *Server) showLoginPage(c *fiber.Ctx) error {
	st, err := s.identify(c)
	if err == nil {
		return c.Redirect(homeOf(st.Roles), fiber.StatusSeeOther)
	}
	if !errors.Is(err, errNoSession) && !errors.Is(err, errSessionExpired) {
		return err
	}
	l := views.Login{Next: safeNext(c.Query("next"))}
	if c.Query("expired") == "1" || errors.Is(err, errSessionExpired) {
		l.Notice = "Your session has ended. Please sign in again."
	}
	return render(c, fiber.StatusOK, views.LoginPage(s.pageFor(c, "Sign in", ""), l))
}

// showSignedOut is where the provider sends the browser back after logout.
func (s *Server) showSignedOut(c *fiber.Ctx) error {
	l := views.Login{Notice: "You have signed out."}
	return render(c, fiber.StatusOK, views.LoginPage(s.pageFor(c, "Signed out", ""), l))
}

// showLoginError re-renders the sign-in page with why the last attempt
// failed, with the problem's status.
func (s *Server) showLoginError(c *fiber.Ctx, p *problem) error {
	l := views.Login{Error: p.message}
	return render(c, p.status, views.LoginPage(s.pageFor(c, "Sign-in failed", ""), l))
}
