package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// securityHeaders sets the headers every response carries. Scripts and
// styles come only from /static/ (no inline code), and forms may post only
// here or to the identity provider, which sign-in and sign-out redirect to.
func (s *Server) securityHeaders() fiber.Handler {
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action 'self' " + strings.Join(s.rp.origins, " ") + "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	return func(c *fiber.Ctx) error {
		c.Set("Content-Security-Policy", csp)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
		return c.Next()
	}
}
