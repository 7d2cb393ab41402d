package server

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// problem is an error that carries what the user should see. The wrapped
// error, if any, is for the logs only.
type problem struct {
	status  int
	title   string
	message string
	err     error
}

func (p *problem) Error() string {
	if p.err != nil {
		return p.title + ": " + p.err.Error()
	}
	return p.title + ": " + p.message
}

func (p *problem) Unwrap() error { return p.err }

// servingOnlyIf guards the routes of a service this deployment may run
// without: while configured reports false, they answer 503 with title and
// message, saying what is missing, instead of running h.
func servingOnlyIf(configured func() bool, title, message string, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !configured() {
			return &problem{status: fiber.StatusServiceUnavailable, title: title, message: message}
		}
		return h(c)
	}
}

// forbidden is the 403 of a signed-in user without the role a route needs.
func forbidden(message string) *problem {
	return &problem{status: fiber.StatusForbidden, title: "You can't open this page", message: message}
}

const internalMessage = "Something went wrong on our side. The error has been logged; please try again."

// problemFor turns any error into what the user sees. Client errors carry
// their own message; anything else gets a generic one, so internal details
// never reach the browser.
func problemFor(err error) *problem {
	var p *problem
	if errors.As(err, &p) {
		if p.status >= 500 && p.message == "" {
			return &problem{status: p.status, title: p.title, message: internalMessage, err: p.err}
		}
		return p
	}
	var ferr *fiber.Error
	if errors.As(err, &ferr) && ferr.Code < 500 {
		msg := ferr.Message
		if ferr.Code == fiber.StatusNotFound {
			msg = "There is no page at this address. Check the link, or go back to your home page."
		}
		return &problem{status: ferr.Code, title: http.StatusText(ferr.Code), message: msg}
	}
	status := fiber.StatusInternalServerError
	if errors.As(err, &ferr) {
		status = ferr.Code
	}
	return &problem{status: status, title: "Something went wrong", message: internalMessage, err: err}
}

// handleError is the one place errors become responses: a full page for a
// browser, a fragment for htmx, JSON for API clients. Server errors are
// logged here, once.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	p := problemFor(err)
	ctx := c.UserContext()
	if p.status >= 500 {
		s.log.ErrorContext(ctx, "request failed", "request_id", RequestID(ctx), "route", c.Route().Path, "err", err)
	}
	// Whatever a handler began to write is discarded.
	c.Response().ResetBody()
	c.Status(p.status)
	if c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON {
		return c.JSON(fiber.Map{"error": p.message})
	}
	view := views.Problem{Status: p.status, Title: p.title, Message: p.message}
	if isHTMX(c) {
		return render(c, p.status, views.ErrorFragment(view))
	}
	st := staffFrom(ctx)
	if st != nil {
		view.Links = []views.NavLink{{Label: "Go to your home page", Href: homeOf(st.Roles)}}
	} else {
		view.Links = []views.NavLink{{Label: "Sign in", Href: loginPath}}
	}
	return render(c, p.status, views.ErrorPage(s.pageFor(c, p.title, ""), view))
}

// isHTMX reports whether htmx sent the request.
func isHTMX(c *fiber.Ctx) bool { return c.Get("HX-Request") == "true" }
