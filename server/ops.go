package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// showOpsConsole lists the tenant's exchanges, newest first. An htmx poll
// gets only the table.
func (s *Server) showOpsConsole(c *fiber.Ctx) error {
	q, err := parseOpsQuery(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	f := q.filter
	f.Limit = opsPageSize + 1 // one more says whether there are older ones
	xs, err := s.abdm.Timeline(ctx, tenant, f)
	if err != nil {
		return err
	}
	names, err := s.facilityNames(ctx, tenant)
	if err != nil {
		return err
	}
	table := opsTableModel(q, xs, names)
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.OpsExchanges(table))
	}
	v := views.OpsConsole{Filter: opsFilterModel(q), Table: table}
	return render(c, fiber.StatusOK, views.OpsPage(s.pageFor(c, "Operations console", roleAdmin.home()), v))
}
