package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/sources"
)

const sourcesUsage = `Usage: sangam sources <subcommand> [options]

Subcommands:
  token   issue or rotate a source system's event token
`

// runSources dispatches the source-system tools; "token" is the only one
// so far.
func runSources(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, sourcesUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "token":
		return runSourcesToken(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sangam sources: unknown subcommand %q\n\n%s", args[0], sourcesUsage)
	return errUsage
}

const sourcesTokenSynopsis = `Issue a new bearer token with which one source system pushes events to
Sangam, and print it once: the token on the first line of standard output,
the intake URL <public-url>/api/sources/<system-id>/events on the second.
Sangam keeps only the token's hash, so it cannot be shown again.

The source system is named by its tenant's slug, its facility's HFR id and
its code (e.g. --tenant kaveri --facility IN2910000231 --system lims). Tokens
it already has stay valid for --grace more, so the vendor can switch over
without losing events; --grace 0 revokes them now.`

type sourcesTokenConfig struct {
	databaseURL string
	publicURL   string
	tenant      string
	facility    string
	system      string
	grace       time.Duration
}

func runSourcesToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c sourcesTokenConfig
	o := newOptions("sources token", sourcesTokenSynopsis, stderr)
	o.String(&c.databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL (required)")
	o.String(&c.publicURL, "public-url", "SANGAM_PUBLIC_URL", "http://localhost:8080", "URL at which source systems reach Sangam")
	o.String(&c.tenant, "tenant", "SANGAM_TENANT", "", "slug of the source system's tenant (required)")
	o.String(&c.facility, "facility", "", "", "HFR id of the source system's facility (required)")
	o.String(&c.system, "system", "", "", "code of the source system, e.g. his or lims (required)")
	o.Duration(&c.grace, "grace", "", 24*time.Hour, "how long the source's earlier tokens stay valid; 0 revokes them now")
	if err := o.parse(args); err != nil {
		return err
	}
	base, err := c.validate()
	if err != nil {
		return err
	}

	pool, tenant, err := openTenantPool(ctx, c.databaseURL, c.tenant)
	if err != nil {
		return err
	}
	defer pool.Close()
	systemID, err := sourceSystemID(ctx, pool, tenant, c.facility, c.system)
	if err != nil {
		return err
	}
	token, err := sources.NewTokens(pool, nil).Rotate(ctx, tenant, systemID, c.grace)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintln(stdout, base+strings.Replace(sources.EventsPath, ":system", systemID, 1))
	// The explanation goes to stderr so that stdout holds only what a
	// script needs.
	if c.grace > 0 {
		fmt.Fprintf(stderr, "Issued a new event token for %s/%s. Earlier tokens stay valid until %s.\n",
			c.facility, c.system, time.Now().Add(c.grace).UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(stderr, "Issued a new event token for %s/%s. Earlier tokens are revoked.\n", c.facility, c.system)
	}
	fmt.Fprintln(stderr, "Give it to the system's administrator now: Sangam cannot show it again.")
	return nil
}

// validate checks the flags and returns the public URL without a
// trailing slash.
func (c sourcesTokenConfig) validate() (string, error) {
	var errs []error
	if c.databaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL (--database-url) is required"))
	}
	if c.tenant == "" {
		errs = append(errs, errors.New("SANGAM_TENANT (--tenant) is required"))
	}
	if c.facility == "" || c.system == "" {
		errs = append(errs, errors.New("--facility and --system are required"))
	}
	if c.grace < 0 {
		errs = append(errs, fmt.Errorf("--grace must not be negative, not %s", c.grace))
	}
	u, err := url.Parse(c.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SANGAM_PUBLIC_URL (--public-url) %q must be an absolute http(s) URL", c.publicURL))
	}
	return strings.TrimRight(c.publicURL, "/"), errors.Join(errs...)
}

// sourceSystemID finds a source system by its facility's HFR id and code,
// under the tenant's row-level security.
func sourceSystemID(ctx context.Context, pool *pgxpool.Pool, tenant, hfrID, code string) (string, error) {
	var id string
	err := database.InTenant(ctx, pool, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT s.id::text FROM source_systems s JOIN facilities f ON f.id = s.facility_id
			WHERE f.hfr_id = $1 AND s.code = $2`, hfrID, code).Scan(&id)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("no source system %q at facility %s in this tenant (see the source systems on /admin or /admin/sources)", code, hfrID)
	}
	if err != nil {
		return "", fmt.Errorf("looking up source system %s at %s: %w", code, hfrID, err)
	}
	return id, nil
}
