package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

func runDemo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var databaseURL string
	o := newOptions("demo", "Load the demo hospital group (one tenant, three facilities with their counters\nand source systems) and the demo vendors' own databases (one schema per vendor,\nabout 200 patients). Group rows that already exist are kept, so it is safe to\nrun again; the vendor schemas are generated data and are rebuilt.", stderr)
	o.String(&databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL of a migrated database (required)")
	if err := o.parse(args); err != nil {
		return err
	}
	if databaseURL == "" {
		return errors.New("DATABASE_URL (--database-url) is required")
	}
	pool, err := database.OpenOwner(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := database.CheckSchema(ctx, pool); err != nil {
		return err
	}
	g := demo.KaveriHealth()
	res, err := demo.Load(ctx, pool, g)
	if err != nil {
		return fmt.Errorf("loading the demo group: %w", err)
	}
	src, err := demo.LoadSources(ctx, pool, g, "DATABASE_URL")
	if err != nil {
		return fmt.Errorf("loading the demo source systems: %w", err)
	}
	counts, err := indexDemoPatients(ctx, databaseURL, res.TenantID)
	if err != nil {
		return fmt.Errorf("indexing the demo patients: %w", err)
	}
	// Coverage belongs to master patients, which exist only once indexed.
	cov, err := demo.LoadCoverage(ctx, pool, g)
	if err != nil {
		return fmt.Errorf("loading the demo coverage: %w", err)
	}
	state := "already present, kept as is"
	if res.Created {
		state = "created"
	}
	fmt.Fprintf(stdout, "demo group %q (tenant %s): %s; %d facilities, %d counters, %d source systems\n",
		g.Name, g.Slug, state, res.Facilities, res.Counters, res.Sources)
	fmt.Fprintf(stdout, "demo source systems: %d people across %d vendor databases; %d source systems newly connected\n",
		src.People, len(src.Rows), src.Configured)
	fmt.Fprintf(stdout, "patient master index: %d source records; %s\n", counts.Records, outcomeSummary(counts.Outcomes))
	for name, reason := range counts.Failed {
		fmt.Fprintf(stdout, "  source %s could not be read: %s\n", name, reason)
	}
	fmt.Fprintf(stdout, "insurance: %d payers, %d empanelments, %d coverages newly added\n", cov.Payers, cov.Empanelments, cov.Coverages)
	return nil
}

// indexDemoPatients takes every demo source's patients into the master
// index through the same connectors serve uses, as the application role.
func indexDemoPatients(ctx context.Context, databaseURL, tenantID string) (sources.IndexCounts, error) {
	app, err := database.Open(ctx, databaseURL)
	if err != nil {
		return sources.IndexCounts{}, err
	}
	defer app.Close()
	quiet := slog.New(slog.DiscardHandler)
	registry, closeSources, err := openSources(app, databaseURL, prometheus.NewRegistry(), quiet)
	if err != nil {
		return sources.IndexCounts{}, err
	}
	defer closeSources()
	return sources.IndexAll(ctx, registry, tenantID, patients.New(app, patients.Config{}))
}

func outcomeSummary(outcomes map[patients.Outcome]int) string {
	names := make([]string, 0, len(outcomes))
	for o := range outcomes {
		names = append(names, string(o))
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%d %s", outcomes[patients.Outcome(n)], strings.ReplaceAll(n, "_", " "))
	}
	return strings.Join(parts, ", ")
}
