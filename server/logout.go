package server

import (
	"github.com/gofiber/fiber/v2"
)

// logout ends the Sangam session and, when the provider supports
// RP-initiated logout, sends the browser there to end the provider's
// session too; it comes back to /signed-out.
func (s *Server) logout(c *fiber.Ctx) error {
	st := staffFrom(c.UserContext())
	idToken, err := s.deleteSession(c.UserContext(), st)
	if err != nil {
		return err
	}
	s.cookies.clear(c, sessionCookie)
	s.log.InfoContext(c.UserContext(), "staff signed out", "request_id", RequestID(c.UserContext()), "tenant_id", st.TenantID, "subject", st.Subject)

	target := s.rp.endSessionURL(idToken, s.publicURL+signedOutPath)
	if target == "" {
		target = signedOutPath
	}
	if isHTMX(c) {
		c.Set("HX-Redirect", target)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}
