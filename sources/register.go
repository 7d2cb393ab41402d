package sources

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// How Sangam first learned of a care context (care_contexts.found_via).
const (
	FoundViaEvent     = "event"
	FoundViaPoll      = "poll"
	FoundViaDiscovery = "discovery"
)

// Registered is a care context in the register: where ABDM knows it
// (facility, reference) and where it lives (source system, type, local id).
type Registered struct {
	ID             int64
	FacilityID     string
	SourceSystemID string
	CareContext
	FoundVia  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UpsertCareContext records c, found in source system sourceSystemID, in
// the register of the tenant whose context tx carries. An existing row
// (same facility and reference) takes the new display, date and hiType. It
// reports whether the row is new, so callers start linking only once.
func UpsertCareContext(ctx context.Context, tx pgx.Tx, sourceSystemID string, c CareContext, foundVia string) (reg Registered, created bool, err error) {
	if c.Reference == "" || c.Type == "" || c.LocalID == "" || c.PatientID == "" {
		return Registered{}, false, fmt.Errorf("%w: care context needs a reference, type, local id and patient id", ErrInvalidInput)
	}
	if !c.HIType.IsKnown() {
		return Registered{}, false, fmt.Errorf("%w: hiType %q", ErrInvalidInput, c.HIType)
	}
	var updated *time.Time
	if !c.Updated.IsZero() {
		updated = &c.Updated
	}
	// xmax = 0 only for a row this statement inserted.
	err = tx.QueryRow(ctx, `
		INSERT INTO care_contexts (tenant_id, facility_id, source_system_id, reference, context_type, local_id,
			patient_local_id, hi_type, display, occurred_at, source_updated_at, found_via)
		SELECT s.tenant_id, s.facility_id, s.id, $2, $3, $4, $5, $6, $7, $8, $9, $10
		FROM source_systems s WHERE s.id::text = $1 AND starts_with($2, s.code || ':')
		ON CONFLICT (facility_id, reference) DO UPDATE SET
			display = EXCLUDED.display, occurred_at = EXCLUDED.occurred_at, hi_type = EXCLUDED.hi_type,
			patient_local_id = EXCLUDED.patient_local_id,
			source_updated_at = coalesce(EXCLUDED.source_updated_at, care_contexts.source_updated_at),
			updated_at = now()
		RETURNING id, facility_id::text, source_system_id::text, found_via, created_at, updated_at, xmax = 0`,
		sourceSystemID, c.Reference, c.Type, c.LocalID, c.PatientID, string(c.HIType), c.Display, c.Date, updated, foundVia,
	).Scan(&reg.ID, &reg.FacilityID, &reg.SourceSystemID, &reg.FoundVia, &reg.CreatedAt, &reg.UpdatedAt, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return Registered{}, false, fmt.Errorf("registering care context %s: no source system %s whose code starts the reference: %w", c.Reference, sourceSystemID, ErrNotFound)
	}
	if err != nil {
		return Registered{}, false, fmt.Errorf("registering care context %s: %w", c.Reference, err)
	}
	reg.CareContext = c
	return reg, created, nil
}

const registeredColumns = `id, facility_id::text, source_system_id::text, reference, context_type, local_id, patient_local_id,
	hi_type, display, occurred_at, source_updated_at, found_via, created_at, updated_at FROM care_contexts`

func scanRegistered(row pgx.CollectableRow) (Registered, error) {
	var r Registered
	var hi string
	var updated *time.Time
	err := row.Scan(&r.ID, &r.FacilityID, &r.SourceSystemID, &r.Reference, &r.Type, &r.LocalID, &r.PatientID,
		&hi, &r.Display, &r.Date, &updated, &r.FoundVia, &r.CreatedAt, &r.UpdatedAt)
	r.HIType = HIType(hi)
	if updated != nil {
		r.Updated = *updated
	}
	return r, err
}

// LookupCareContext finds a care context by the key ABDM uses. It wraps
// ErrNotFound when the facility has no such reference.
func LookupCareContext(ctx context.Context, tx pgx.Tx, facilityID, reference string) (Registered, error) {
	if uuid.Validate(facilityID) != nil {
		return Registered{}, fmt.Errorf("care context %s: facility %q: %w", reference, facilityID, ErrNotFound)
	}
	// Compared as a uuid, so that the (facility_id, reference) index serves
	// the lookup: a transfer makes one per care context.
	rows, err := tx.Query(ctx, `SELECT `+registeredColumns+` WHERE facility_id = $1::uuid AND reference = $2`, facilityID, reference)
	if err != nil {
		return Registered{}, fmt.Errorf("looking up care context %s: %w", reference, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRegistered)
	if errors.Is(err, pgx.ErrNoRows) {
		return Registered{}, fmt.Errorf("care context %s: %w", reference, ErrNotFound)
	}
	if err != nil {
		return Registered{}, fmt.Errorf("looking up care context %s: %w", reference, err)
	}
	return r, nil
}

// ListRegistered lists the registered care contexts of one patient in one
// source system, newest first.
func ListRegistered(ctx context.Context, tx pgx.Tx, sourceSystemID, patientLocalID string) ([]Registered, error) {
	rows, err := tx.Query(ctx, `SELECT `+registeredColumns+`
		WHERE source_system_id::text = $1 AND patient_local_id = $2 ORDER BY occurred_at DESC, reference`,
		sourceSystemID, patientLocalID)
	if err != nil {
		return nil, fmt.Errorf("listing care contexts: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanRegistered)
	if err != nil {
		return nil, fmt.Errorf("listing care contexts: %w", err)
	}
	return out, nil
}
