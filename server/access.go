package server

import (
	"context"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// Every staff route is registered through page or action, which is what
// guarantees that it checks the session, the role and (for changes) the
// CSRF token. Bridge callbacks from the ABDM gateway authenticate with the
// gateway's JWT instead and are registered elsewhere.

// page registers a staff page (GET) that users with one of a's roles may see.
func (s *Server) page(path string, a access, h fiber.Handler) {
	s.app.Get(path, s.requireStaff(a), h)
}

// action registers a state-changing staff request (POST); it also requires
// the session's CSRF token.
func (s *Server) action(path string, a access, h fiber.Handler) {
	s.app.Post(path, s.requireStaff(a), s.checkCSRF, h)
}

// poll registers a fragment that a page fetches by itself on a timer (htmx
// "every Ns"). It needs a session like a page, but does not count as the
// user doing something: a screen left open must still reach its idle
// timeout and sign out.
func (s *Server) poll(path string, a access, h fiber.Handler) {
	s.app.Get(path, func(c *fiber.Ctx) error {
		c.SetUserContext(context.WithValue(c.UserContext(), backgroundKey{}, true))
		return c.Next()
	}, s.requireStaff(a), h)
}

// backgroundKey marks a request the browser made by itself (see poll).
type backgroundKey struct{}

// isBackground reports whether ctx is a poll's, which must not keep the
// session alive.
func isBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

type staffKey struct{}

// staffFrom returns the signed-in user of a request, or nil.
func staffFrom(ctx context.Context) *staff {
	st, _ := ctx.Value(staffKey{}).(*staff)
	return st
}

// identify finds the request's session and puts its user into the request
// context. It returns errNoSession or errSessionExpired when there is none.
func (s *Server) identify(c *fiber.Ctx) (*staff, error) {
	value := s.cookies.get(c, sessionCookie)
	if value == "" {
		return nil, errNoSession
	}
	st, err := s.lookupSession(c.UserContext(), value)
	if err != nil {
		if errors.Is(err, errNoSession) || errors.Is(err, errSessionExpired) {
			s.cookies.clear(c, sessionCookie)
		}
		return nil, err
	}
	c.SetUserContext(context.WithValue(c.UserContext(), staffKey{}, st))
	return st, nil
}

// requireStaff lets a request through when it has a live session with one
// of a's roles. Without a session it sends the browser to sign in; with the
// wrong role it answers 403 naming the role needed.
func (s *Server) requireStaff(a access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, err := s.identify(c)
		switch {
		case errors.Is(err, errNoSession), errors.Is(err, errSessionExpired):
			return s.toSignIn(c, errors.Is(err, errSessionExpired))
		case err != nil:
			return err
		}
		// Pages behind sign-in hold staff and patient data: never cache them.
		c.Set(fiber.HeaderCacheControl, "no-store")
		if !a.permits(st.Roles) {
			return forbidden(a.refusal(st.Roles))
		}
		return c.Next()
	}
}

// toSignIn sends a request without a session to the sign-in page,
// remembering where a GET was going. htmx follows HX-Redirect with a full
// page load instead of swapping the sign-in page into a fragment.
func (s *Server) toSignIn(c *fiber.Ctx, expired bool) error {
	q := url.Values{}
	if c.Method() == fiber.MethodGet && !isHTMX(c) {
		if next := safeNext(c.OriginalURL()); next != "" {
			q.Set("next", next)
		}
	}
	if expired {
		q.Set("expired", "1")
	}
	target := loginPath
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	if isHTMX(c) {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// checkCSRF refuses a state-changing request whose token (X-CSRF-Token
// header from htmx, or the csrf_token form field) is not its session's.
// SameSite=Lax already keeps the session cookie off cross-site POSTs; the
// token also covers same-site attackers and older browsers.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	st := staffFrom(c.UserContext())
	token := c.Get("X-CSRF-Token")
	if token == "" {
		token = c.FormValue(views.CSRFField)
	}
	if st == nil || token == "" || !equalSecret(token, st.CSRFToken) {
		return &problem{
			status:  fiber.StatusForbidden,
			title:   "This request was refused",
			message: "The form did not carry a valid security token, so nothing was changed. Reload the page and try again.",
		}
	}
	return c.Next()
}

// safeNext accepts a return address only if it is a path on this site, so
// the sign-in cannot be used to send users to another site.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	if len(next) > 1024 {
		return ""
	}
	return next
}
