package server

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/views"
)

// tokenGrace is how long a source's earlier event tokens keep working
// after the administrator issues a new one, so the vendor can switch over
// without losing events.
const tokenGrace = 24 * time.Hour

// issueSourceToken rotates a source's event token and shows the new one
// on the page, once: it is not in a redirect's URL, and only its hash is
// stored.
func (s *Server) issueSourceToken(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.NewError(fiber.StatusNotFound, "There is no such source system.")
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	token, err := sources.NewTokens(s.pool, nil).Rotate(ctx, st.TenantID, id.String(), tokenGrace)
	if errors.Is(err, sources.ErrNotFound) {
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "There is no such source system in this organisation. Reload the source systems page.", err: err}
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, "sources.token_issued", map[string]any{"source_system_id": id.String()}); err != nil {
		return err
	}
	// The token exists now and cannot be shown again, so a failure to
	// read the source's name must not cost the page: the id will do.
	name := id.String()
	if states, err := s.sourceStates(ctx, st.TenantID); err == nil {
		for _, ss := range states {
			if ss.SourceSystemID == id.String() {
				name = ss.Name + " at " + ss.FacilityName
			}
		}
	}
	return s.renderSourceHealth(c, &views.IssuedToken{
		System:     name,
		Token:      token,
		IntakeURL:  s.publicURL + strings.Replace(sources.EventsPath, ":system", id.String(), 1),
		GraceUntil: clock(time.Now().Add(tokenGrace)),
	})
}
