package main

import (
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/fhirrest"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// openSources builds the registry of source-system connectors: SQL sources
// read through their vendor's mapping file, FHIR sources over REST. A
// source's database URL comes from an environment variable named in its
// config; DATABASE_URL is this process's own setting. The returned close
// function releases every connection.
func openSources(pool *pgxpool.Pool, databaseURL string, reg *prometheus.Registry, log *slog.Logger) (*sources.Registry, func(), error) {
	lookupEnv := func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return databaseURL, true
		}
		return os.LookupEnv(k)
	}
	metrics, err := sources.NewMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	sqlOpener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: lookupEnv, Logger: log})
	registry, err := sources.NewRegistry(sources.RegistryConfig{
		Pool: pool, Metrics: metrics, Logger: log,
		Openers: map[string]sources.OpenFunc{
			"sql":  sqlOpener.Open,
			"fhir": fhirrest.Opener(fhirrest.Options{LookupEnvFunc: lookupEnv}),
		},
	})
	if err != nil {
		sqlOpener.Close()
		return nil, nil, err
	}
	return registry, func() { registry.Close(); sqlOpener.Close() }, nil
}
