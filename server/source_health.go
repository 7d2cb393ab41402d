package server

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/views"
)

// The source systems page: for each of the tenant's systems, how Sangam
// reaches it and the health the running connectors recorded
// (sources.ListStates).

const sourcesPath = "/admin/sources"

// sourceHealth is one source's state with what the page adds to it.
type sourceHealth struct {
	sources.State
	FacilityName string
	// Connector is the "connector" member of the source's config, "" when
	// it is reached only through events.
	Connector string
}

func (s *Server) showSourceHealth(c *fiber.Ctx) error {
	return s.renderSourceHealth(c, nil)
}

func (s *Server) renderSourceHealth(c *fiber.Ctx, issued *views.IssuedToken) error {
	ctx := c.UserContext()
	states, err := s.sourceStates(ctx, staffFrom(ctx).TenantID)
	if err != nil {
		return err
	}
	v := sourceHealthModel(states)
	v.Issued = issued
	return render(c, fiber.StatusOK, views.SourceHealthPage(s.pageFor(c, "Source systems", roleAdmin.home()), v))
}

// sourceStates reads the recorded states with each source's facility name
// and connector, which ListStates does not carry.
func (s *Server) sourceStates(ctx context.Context, tenant string) ([]sourceHealth, error) {
	var out []sourceHealth
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		states, err := sources.ListStates(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT s.id::text, f.name, coalesce(s.config->>'connector', '')
			FROM source_systems s JOIN facilities f ON f.id = s.facility_id`)
		if err != nil {
			return fmt.Errorf("reading source connectors: %w", err)
		}
		type extra struct{ facility, connector string }
		extras := map[string]extra{}
		var id string
		var e extra
		if _, err := pgx.ForEachRow(rows, []any{&id, &e.facility, &e.connector}, func() error {
			extras[id] = e
			return nil
		}); err != nil {
			return fmt.Errorf("reading source connectors: %w", err)
		}
		for _, st := range states {
			x := extras[st.SourceSystemID]
			out = append(out, sourceHealth{State: st, FacilityName: x.facility, Connector: x.connector})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading source health: %w", err)
	}
	return out, nil
}

func sourceHealthModel(states []sourceHealth) views.SourceHealth {
	var v views.SourceHealth
	for _, st := range states {
		r := views.SourceHealthRow{
			Facility: st.FacilityName, HFRID: st.FacilityHFRID, Code: st.Code, Name: st.Name,
			Kind: st.Kind, Vendor: st.Vendor, Connector: st.Connector, Breaker: breakerLabel(st.Breaker),
			LastSuccess: clock(st.LastSuccess), LastFailure: clock(st.LastFailure), LastError: st.LastError,
			Calls: strconv.FormatInt(st.Calls, 10), Failures: strconv.FormatInt(st.Failures, 10),
			TokenURL: sourcesPath + "/" + st.SourceSystemID + "/token",
		}
		if r.Connector == "" {
			r.Connector = "none"
		}
		r.Status, r.Healthy = sourceStatus(st)
		v.Sources = append(v.Sources, r)
	}
	return v
}

// sourceStatus sums up a source's health in a word or two and says
// whether that is good.
func sourceStatus(st sourceHealth) (string, bool) {
	switch {
	case st.Connector == "":
		return "Events only", true
	case st.Breaker == sources.BreakerOpen:
		return "Failing: calls paused", false
	case st.Breaker == sources.BreakerHalfOpen:
		return "Recovering", false
	case st.CheckedAt.IsZero() && st.LastSuccess.IsZero() && st.LastFailure.IsZero():
		return "Not checked yet", true
	case !st.LastFailure.IsZero() && st.LastFailure.After(st.LastSuccess):
		return "Failing", false
	}
	return "Healthy", true
}

func breakerLabel(b sources.BreakerState) string {
	switch b {
	case sources.BreakerClosed:
		return "Closed (calls go through)"
	case sources.BreakerOpen:
		return "Open (calls refused)"
	case sources.BreakerHalfOpen:
		return "Half-open (trying one call)"
	}
	return string(b)
}
