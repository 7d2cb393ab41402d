package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/jobs"
)

// healthz says the process is alive; it touches nothing external so that a
// slow database never gets a healthy process restarted.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.version})
}

// readyz says whether this process can do useful work: the database and the
// job queue answer.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{"database": "ok", "queue": "ok"}
	ready := true
	if err := s.pool.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		ready = false
	}
	if err := jobs.Ping(ctx, s.pool); err != nil {
		checks["queue"] = "unreachable"
		ready = false
	}
	if !ready {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}
