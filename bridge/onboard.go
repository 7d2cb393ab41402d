package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/database"
)

// Registration is whether one facility's HIP id is a service under the
// tenant's bridge, as of the last check.
type Registration struct {
	FacilityID   string
	FacilityName string
	HIPID        string
	// Registered: listed by bridge-services as an HIP service.
	Registered bool
	// Active: the gateway lists the service as active.
	Active      bool
	ServiceName string
	Types       []string
	// CheckedAt is zero when the facility was never checked (or its HIP id
	// changed since).
	CheckedAt time.Time
}

// CanServeM2 reports whether the gateway will route discovery, linking and
// data requests for this facility to the bridge.
func (r Registration) CanServeM2() bool { return r.Registered && r.Active }

// Onboarding is the state of a tenant's bridge at the gateway.
type Onboarding struct {
	ClientID string
	// BridgeURL is the tenant's bridge URL as Sangam computes it.
	BridgeURL string
	// ReportedURL is what the gateway says the bridge URL is.
	ReportedURL string
	Facilities  []Registration
	// OtherServices are services under the bridge that are no facility of
	// the tenant: usually a facility still to be added to Sangam.
	OtherServices []abdm.BridgeServiceInfo
}

// URLMatches reports whether the gateway sends callbacks to this Sangam. A
// mismatch means another system registered with the same client id since.
func (o *Onboarding) URLMatches() bool { return o.ReportedURL == o.BridgeURL }

// SetCredentials stores the tenant's gateway client id and secret.
func (b *Bridge) SetCredentials(ctx context.Context, tenant, clientID string, secret []byte) error {
	return b.creds.Save(ctx, tenant, clientID, secret)
}

// Onboard registers the tenant's bridge URL with the gateway (PATCH
// /gateway/v3/bridge/url) and then checks its facilities' registrations
// (see CheckRegistrations).
func (b *Bridge) Onboard(ctx context.Context, tenant string) (*Onboarding, error) {
	slug, err := b.tenantSlug(ctx, tenant)
	if err != nil {
		return nil, err
	}
	bridgeURL := b.BridgeURL(slug)
	if err := b.gw.PatchBridgeURL(ctx, tenant, bridgeURL); err != nil {
		return nil, b.onboardFailed(ctx, tenant, err) // abdm names the URL and the call
	}
	err = b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE bridge_tenants SET bridge_url = $1, registered_at = now(), updated_at = now()`, bridgeURL)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recording bridge URL: %w", err)
	}
	return b.CheckRegistrations(ctx, tenant)
}

// CheckRegistrations reads the tenant's bridge and services from the
// gateway (GET /gateway/v3/bridge-services), records for each facility
// whether its HIP id is registered under the bridge, and returns the
// result.
func (b *Bridge) CheckRegistrations(ctx context.Context, tenant string) (*Onboarding, error) {
	slug, err := b.tenantSlug(ctx, tenant)
	if err != nil {
		return nil, err
	}
	clientID, err := b.creds.ClientID(ctx, tenant)
	if err != nil {
		return nil, err
	}
	services, err := b.gw.BridgeServices(ctx, tenant)
	if err != nil {
		return nil, b.onboardFailed(ctx, tenant, err)
	}
	o := &Onboarding{ClientID: clientID, BridgeURL: b.BridgeURL(slug), ReportedURL: services.Bridge.URL}
	err = b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		facilities, err := b.facilities(ctx, tx)
		if err != nil {
			return err
		}
		now := time.Now()
		known := make(map[string]bool, len(facilities))
		for _, f := range facilities {
			known[f.HIPID] = true
			r := Registration{FacilityID: f.FacilityID, FacilityName: f.FacilityName, HIPID: f.HIPID, CheckedAt: now}
			for _, s := range services.Services {
				if s.ID == f.HIPID && s.HasType(abdm.ServiceTypeHIP) {
					r.Registered, r.Active, r.ServiceName, r.Types = true, s.Active, s.Name, slices.Clone(s.Types)
				}
			}
			if r.Types == nil {
				r.Types = []string{}
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO bridge_registrations (facility_id, tenant_id, service_id, registered, active,
					service_name, service_types, checked_at)
				VALUES ($1, app_tenant_id(), $2, $3, $4, $5, $6, $7)
				ON CONFLICT (facility_id) DO UPDATE SET service_id = EXCLUDED.service_id,
					registered = EXCLUDED.registered, active = EXCLUDED.active,
					service_name = EXCLUDED.service_name, service_types = EXCLUDED.service_types,
					checked_at = EXCLUDED.checked_at`,
				r.FacilityID, r.HIPID, r.Registered, r.Active, r.ServiceName, r.Types, now); err != nil {
				return fmt.Errorf("recording registration of %s: %w", r.HIPID, err)
			}
			o.Facilities = append(o.Facilities, r)
		}
		for _, s := range services.Services {
			if !known[s.ID] {
				o.OtherServices = append(o.OtherServices, s)
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE bridge_tenants SET reported_url = $1, checked_at = $2, last_error = '', last_error_at = NULL,
				updated_at = now()`, o.ReportedURL, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recording bridge registrations: %w", err)
	}
	return o, nil
}

// onboardFailed keeps the failure on the tenant's onboarding record for the
// admin page, and returns err.
func (b *Bridge) onboardFailed(ctx context.Context, tenant string, err error) error {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	rerr := b.inTenant(bctx, tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(bctx, `
			UPDATE bridge_tenants SET last_error = $1, last_error_at = now(), updated_at = now()`, err.Error())
		return err
	})
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("recording onboarding failure: %w", rerr))
	}
	return err
}

// facilities lists the tenant's facilities with their last registration
// check. A check made under a different HIP id does not count.
func (b *Bridge) facilities(ctx context.Context, tx pgx.Tx) ([]Registration, error) {
	rows, err := tx.Query(ctx, `
		SELECT f.id::text, f.name, f.hip_id,
		       coalesce(r.registered, false), coalesce(r.active, false),
		       coalesce(r.service_name, ''), coalesce(r.service_types, '{}'), r.checked_at
		FROM facilities f
		LEFT JOIN bridge_registrations r ON r.facility_id = f.id AND r.service_id = f.hip_id
		ORDER BY f.name, f.hip_id`)
	if err != nil {
		return nil, fmt.Errorf("listing facilities: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Registration, error) {
		var (
			r  Registration
			at *time.Time
		)
		err := row.Scan(&r.FacilityID, &r.FacilityName, &r.HIPID, &r.Registered, &r.Active, &r.ServiceName, &r.Types, &at)
		if at != nil {
			r.CheckedAt = *at
		}
		return r, err
	})
}

// FacilityRegistrations returns every facility of the tenant with the
// result of the last registration check.
func (b *Bridge) FacilityRegistrations(ctx context.Context, tenant string) ([]Registration, error) {
	var out []Registration
	err := b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		out, err = b.facilities(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading facility registrations: %w", err)
	}
	return out, nil
}

// CanServeM2 reports whether the tenant's facility with this HIP id was,
// at the last check, an active HIP service under the bridge. An unknown HIP
// id returns an error matching ErrNotFound.
func (b *Bridge) CanServeM2(ctx context.Context, tenant, hipID string) (bool, error) {
	regs, err := b.FacilityRegistrations(ctx, tenant)
	if err != nil {
		return false, err
	}
	for _, r := range regs {
		if r.HIPID == hipID {
			return r.CanServeM2(), nil
		}
	}
	return false, fmt.Errorf("facility with HIP id %q: %w", hipID, ErrNotFound)
}

// TenantStatus is a tenant's onboarding record, for the admin page.
type TenantStatus struct {
	ClientID     string
	BridgeURL    string // last registered; "" if never
	RegisteredAt time.Time
	ReportedURL  string
	CheckedAt    time.Time
	LastError    string
	LastErrorAt  time.Time
}

// OnboardingStatus returns the tenant's onboarding record, or an error
// matching ErrNoCredentials when the tenant has none.
func (b *Bridge) OnboardingStatus(ctx context.Context, tenant string) (*TenantStatus, error) {
	var (
		s                       TenantStatus
		registered, checked, le *time.Time
	)
	err := b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT client_id, bridge_url, registered_at, reported_url, checked_at, last_error, last_error_at
			FROM bridge_tenants`).Scan(&s.ClientID, &s.BridgeURL, &registered, &s.ReportedURL, &checked, &s.LastError, &le)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("reading onboarding status: %w", err)
	}
	for _, p := range []struct {
		from *time.Time
		to   *time.Time
	}{{registered, &s.RegisteredAt}, {checked, &s.CheckedAt}, {le, &s.LastErrorAt}} {
		if p.from != nil {
			*p.to = *p.from
		}
	}
	return &s, nil
}

// QueueOnboarding queues an onboarding job for every tenant with stored
// credentials; with register set the jobs also register the bridge URL.
// The jobs retry, with backoff, until the gateway answers.
func (b *Bridge) QueueOnboarding(ctx context.Context, register bool) error {
	return b.queueOnboarding(ctx, register)
}

func (b *Bridge) queueOnboarding(ctx context.Context, register bool) error {
	tenants, err := database.TenantIDs(ctx, b.pool)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if _, err := b.creds.ClientID(ctx, t); errors.Is(err, ErrNoCredentials) {
			continue
		} else if err != nil {
			return err
		}
		_, err := b.inserter.Insert(ctx, OnboardArgs{Tenant: t, Register: register},
			&river.InsertOpts{Queue: b.cfg.Queue, MaxAttempts: b.cfg.OnboardMaxAttempts})
		if err != nil {
			return fmt.Errorf("queueing onboarding of tenant %s: %w", t, err)
		}
	}
	return nil
}
