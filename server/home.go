package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"
)

// showHome sends "/" to the signed-in user's role home, or to sign in.
func (s *Server) showHome(c *fiber.Ctx) error {
	st, err := s.identify(c)
	switch {
	case errors.Is(err, errNoSession), errors.Is(err, errSessionExpired):
		return s.toSignIn(c, errors.Is(err, errSessionExpired))
	case err != nil:
		return err
	}
	return c.Redirect(homeOf(st.Roles), fiber.StatusSeeOther)
}
