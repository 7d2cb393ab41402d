package claims

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Participant is one of our NHCX participant codes and who owns it.
type Participant struct {
	Tenant string
	// Facility is the facility id the code belongs to, or empty when one
	// code serves every facility of the tenant.
	Facility string
	// Code is the NHCX participant code, e.g. 1000004604@hcx; stored
	// lower-cased.
	Code string
	Name string
}

// SetParticipant records that the tenant (or one of its facilities) owns
// the participant code, so deliveries addressed to it are routed there.
// The private key must be stored separately with SavePrivateKey under
// PrivateKeyRef(p.Tenant, p.Facility, p.Code).
func (s *Service) SetParticipant(ctx context.Context, p Participant) error {
	p.Code = normalizeCode(p.Code)
	if p.Code == "" {
		return fmt.Errorf("%w: participant code is empty", ErrInvalid)
	}
	owner, err := s.routeParticipant(ctx, p.Code)
	switch {
	case err == nil && owner.Tenant != p.Tenant:
		return fmt.Errorf("setting participant %s: %w", p.Code, ErrParticipantTaken)
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	err = s.inTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO claims_participants (participant_code, tenant_id, facility_id, name)
			VALUES ($1, $2, nullif($3, '')::uuid, $4)
			ON CONFLICT (participant_code) DO UPDATE
			SET facility_id = excluded.facility_id, name = excluded.name, updated_at = now()`,
			p.Code, p.Tenant, p.Facility, p.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("setting participant %s: %w", p.Code, err)
	}
	s.forgetParticipant(p.Tenant, p.Code)
	return nil
}

// Participants lists the tenant's participant codes.
func (s *Service) Participants(ctx context.Context, tenant string) ([]Participant, error) {
	var out []Participant
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT tenant_id::text, coalesce(facility_id::text, ''), participant_code, name
			FROM claims_participants ORDER BY participant_code`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanParticipant)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing participants: %w", err)
	}
	return out, nil
}

func scanParticipant(row pgx.CollectableRow) (Participant, error) {
	var p Participant
	err := row.Scan(&p.Tenant, &p.Facility, &p.Code, &p.Name)
	return p, err
}

// routeParticipant finds the owner of a participant code before any
// tenant is known, through the participant_route policy: the transaction
// names the code and can read that row only.
func (s *Service) routeParticipant(ctx context.Context, code string) (Participant, error) {
	code = normalizeCode(code)
	if code == "" {
		return Participant{}, fmt.Errorf("participant code is empty: %w", ErrNotFound)
	}
	var p Participant
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('app.nhcx_participant', $1, true)", code); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT tenant_id::text, coalesce(facility_id::text, ''), participant_code, name
			FROM claims_participants WHERE participant_code = $1`, code)
		if err != nil {
			return err
		}
		p, err = pgx.CollectExactlyOneRow(rows, scanParticipant)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Participant{}, fmt.Errorf("participant %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return Participant{}, fmt.Errorf("looking up participant %s: %w", code, err)
	}
	return p, nil
}

// participantInTenant finds one of the tenant's participant codes inside
// a transaction already under that tenant.
func participantInTenant(ctx context.Context, tx pgx.Tx, code string) (Participant, error) {
	rows, err := tx.Query(ctx, `
		SELECT tenant_id::text, coalesce(facility_id::text, ''), participant_code, name
		FROM claims_participants WHERE participant_code = $1`, normalizeCode(code))
	if err != nil {
		return Participant{}, fmt.Errorf("looking up participant %s: %w", code, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanParticipant)
	if errors.Is(err, pgx.ErrNoRows) {
		return Participant{}, fmt.Errorf("participant %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return Participant{}, fmt.Errorf("looking up participant %s: %w", code, err)
	}
	return p, nil
}

// defaultParticipant picks the code a facility sends with: its own, else
// the tenant-wide one. More than one candidate is ambiguous.
func defaultParticipant(ctx context.Context, tx pgx.Tx, facility string) (Participant, error) {
	rows, err := tx.Query(ctx, `
		SELECT tenant_id::text, coalesce(facility_id::text, ''), participant_code, name
		FROM claims_participants
		WHERE facility_id = $1::uuid OR facility_id IS NULL
		ORDER BY facility_id IS NULL, participant_code`, facility)
	if err != nil {
		return Participant{}, fmt.Errorf("looking up the facility's participant code: %w", err)
	}
	ps, err := pgx.CollectRows(rows, scanParticipant)
	if err != nil {
		return Participant{}, fmt.Errorf("looking up the facility's participant code: %w", err)
	}
	switch {
	case len(ps) == 0:
		return Participant{}, fmt.Errorf("%w: the facility has no NHCX participant code", ErrInvalid)
	case len(ps) > 1 && ps[0].Facility == ps[1].Facility:
		return Participant{}, fmt.Errorf("%w: the facility has several NHCX participant codes; name one", ErrInvalid)
	}
	return ps[0], nil
}

func normalizeCode(code string) string { return strings.ToLower(strings.TrimSpace(code)) }
