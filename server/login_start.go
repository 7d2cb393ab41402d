package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// startLogin sends the browser to the identity provider. The state, nonce
// and PKCE verifier it will need on return go into an encrypted cookie.
func (s *Server) startLogin(c *fiber.Ctx) error {
	p := newPendingLogin(safeNext(c.Query("next")), time.Now())
	sealed, err := s.loginSealer.seal(loginCookie, p)
	if err != nil {
		return err
	}
	s.cookies.set(c, loginCookie, sealed, loginTTL)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(s.rp.authCodeURL(p), fiber.StatusSeeOther)
}
