package server

import (
	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// render writes a templ component as the HTML response.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return comp.Render(c.UserContext(), c.Response().BodyWriter())
}

// pageFor fills the layout's model for the request's user: nil staff bar
// before sign-in, else their name, roles, tenant, navigation (with current
// marked) and CSRF token.
func (s *Server) pageFor(c *fiber.Ctx, title, current string) views.Page {
	return pageModel(staffFrom(c.UserContext()), title, current)
}

func pageModel(st *staff, title, current string) views.Page {
	p := views.Page{Title: title}
	if st == nil {
		return p
	}
	p.Staff = &views.StaffBar{
		Name:       st.displayName(),
		Roles:      roleLabels(st.Roles),
		TenantName: st.TenantName,
		CSRFToken:  st.CSRFToken,
		Nav:        navFor(st.Roles, current),
	}
	return p
}
