package patients

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// VerifyABHA records that ABDM has verified that a master patient holds an
// ABHA number and/or address: after scan and share, or after the patient
// confirmed a link with an OTP. Verified identifiers decide Find on their
// own. An identifier verified for another active master is refused with
// ErrConflict: that is one person in two masters, for a person to merge.
func (ix *Index) VerifyABHA(ctx context.Context, tenant, patientID, abhaNumber, abhaAddress string) error {
	if err := checkIDs(patientID); err != nil {
		return fmt.Errorf("verifying ABHA: %w", err)
	}
	ids := []struct{ kind, raw, value string }{
		{"abha_number", abhaNumber, normABHANumber(abhaNumber)},
		{"abha_address", abhaAddress, normABHAAddress(abhaAddress)},
	}
	for _, id := range ids {
		if id.raw != "" && id.value == "" {
			return fmt.Errorf("verifying ABHA of patient %s: %w: %s is not a valid %s", patientID, ErrInvalid, id.raw, id.kind)
		}
	}
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		active, err := activePatient(ctx, tx, patientID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id.value == "" {
				continue
			}
			var other string
			err := tx.QueryRow(ctx, `
				SELECT coalesce(min(i.patient_id::text), '') FROM patient_identifiers i
				JOIN patients p ON p.id = i.patient_id AND p.merged_into IS NULL
				WHERE i.kind = $1 AND i.value = $2 AND i.verified AND i.patient_id <> $3`, id.kind, id.value, active).Scan(&other)
			if err != nil {
				return fmt.Errorf("checking %s: %w", id.kind, err)
			}
			if other != "" {
				return fmt.Errorf("%w: %s is verified for patient %s already", ErrConflict, id.kind, other)
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO patient_identifiers (tenant_id, patient_id, kind, value, verified)
				VALUES ($1, $2, $3, $4, true)
				ON CONFLICT (patient_id, kind, value) WHERE link_id IS NULL DO NOTHING`, tenant, active, id.kind, id.value); err != nil {
				return fmt.Errorf("writing %s: %w", id.kind, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verifying ABHA of patient %s: %w", patientID, err)
	}
	return nil
}
