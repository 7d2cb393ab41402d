package claims

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// FieldError names the field of a request that is wrong and why. It wraps
// ErrInvalid, so errors.Is(err, ErrInvalid) holds; a form can use Field to
// put the message beside the right input. Several are joined with
// errors.Join when several fields are wrong.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%v: %s %s", ErrInvalid, e.Field, e.Problem) }

// Unwrap makes a FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// fieldErrors collects FieldErrors in the order fields are checked.
type fieldErrors []error

func (fe *fieldErrors) add(field, problem string, args ...any) {
	*fe = append(*fe, &FieldError{Field: field, Problem: fmt.Sprintf(problem, args...)})
}

func (fe fieldErrors) err() error { return errors.Join(fe...) }

// SchemeKind says what kind of payer a payer is.
type SchemeKind string

// Scheme kinds.
const (
	// SchemePMJAY is Ayushman Bharat PM-JAY, claimed through the NHA.
	SchemePMJAY SchemeKind = "pmjay"
	// SchemeState is a state government health scheme.
	SchemeState SchemeKind = "state_scheme"
	// SchemePrivateInsurer is a private or public-sector insurance company.
	SchemePrivateInsurer SchemeKind = "private_insurer"
	// SchemeTPA is a third-party administrator acting for insurers.
	SchemeTPA SchemeKind = "tpa"
)

// IsKnown reports whether k is one of the scheme kinds.
func (k SchemeKind) IsKnown() bool {
	switch k {
	case SchemePMJAY, SchemeState, SchemePrivateInsurer, SchemeTPA:
		return true
	}
	return false
}

// Relationship is the patient's relationship to the policy holder.
type Relationship string

// Relationships to the subscriber.
const (
	RelationshipSelf   Relationship = "self"
	RelationshipSpouse Relationship = "spouse"
	RelationshipChild  Relationship = "child"
	RelationshipParent Relationship = "parent"
	RelationshipOther  Relationship = "other"
)

// IsKnown reports whether r is one of the relationships.
func (r Relationship) IsKnown() bool {
	switch r {
	case RelationshipSelf, RelationshipSpouse, RelationshipChild, RelationshipParent, RelationshipOther:
		return true
	}
	return false
}

// Payer is an insurer, TPA or scheme the tenant bills through NHCX.
type Payer struct {
	// Code is the payer's NHCX participant code, e.g. 1000003538@hcx;
	// stored lower-cased.
	Code       string
	Name       string
	SchemeKind SchemeKind
	Active     bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Empanelment records that a facility may bill a payer (under one of its
// schemes) between ValidFrom and ValidTo.
type Empanelment struct {
	ID         string
	FacilityID string
	// FacilityName and FacilityHFRID are the facility's, filled on reads.
	FacilityName  string
	FacilityHFRID string
	PayerCode     string
	// PayerName and SchemeKind are the payer's, filled on reads.
	PayerName  string
	SchemeKind SchemeKind
	SchemeName string
	// SchemeCode is the payer's code of the scheme; empty when the payer
	// has one. (Facility, payer, scheme code) is unique.
	SchemeCode string
	// ValidFrom and ValidTo are dates (midnight UTC); zero means not
	// recorded and no end date.
	ValidFrom time.Time
	ValidTo   time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// InForce reports whether the empanelment holds on day (compared by date).
func (e Empanelment) InForce(day time.Time) bool { return inForce(e.ValidFrom, e.ValidTo, day) }

// Coverage is insurance on file for a master patient.
type Coverage struct {
	// ID is empty to add a coverage, set to change one.
	ID        string
	PatientID string
	PayerCode string
	// PayerName and SchemeKind are the payer's, filled on reads.
	PayerName  string
	SchemeKind SchemeKind
	// PlanName is the scheme or plan, e.g. "AB PM-JAY" or "Family Floater".
	PlanName     string
	PolicyNumber string
	// MemberID is the beneficiary's id with the payer: the PM-JAY id, a
	// member or card number. PM-JAY coverage needs it; any coverage
	// needs it or a policy number.
	MemberID     string
	Relationship Relationship // default self
	// ValidFrom and ValidTo are dates (midnight UTC); zero means open.
	ValidFrom time.Time
	ValidTo   time.Time
	// UpdatedBy is who entered or last changed it; required on Set.
	UpdatedBy string
	UpdatedAt time.Time
	CreatedAt time.Time
}

// InForce reports whether the coverage is valid on day (compared by date).
func (c Coverage) InForce(day time.Time) bool { return inForce(c.ValidFrom, c.ValidTo, day) }

func inForce(from, to, day time.Time) bool {
	d := dateOnly(day)
	return (from.IsZero() || !d.Before(dateOnly(from))) && (to.IsZero() || !d.After(dateOnly(to)))
}

// dateOnly is t's calendar date (in t's own zone) at midnight UTC, the
// way PostgreSQL dates scan.
func dateOnly(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// nullDate is a date column's value: NULL for the zero time.
func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dateOnly(t)
}

// payerCodePattern is an NHCX participant code: digits or letters, "@",
// and the registry's domain (1000003538@hcx; sandbox codes vary).
var payerCodePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*@[a-z0-9][a-z0-9.-]*$`)

// checkText trims *s and records a problem when it is longer than max
// characters or, if required, empty.
func (fe *fieldErrors) checkText(field string, s *string, required bool, max int) {
	*s = strings.TrimSpace(*s)
	switch {
	case required && *s == "":
		fe.add(field, "is required")
	case utf8.RuneCountInString(*s) > max:
		fe.add(field, "is longer than %d characters", max)
	}
}

func (fe *fieldErrors) checkPayerCode(field string, code *string) {
	*code = normalizeCode(*code)
	switch {
	case *code == "":
		fe.add(field, "is required (the payer's NHCX participant code, e.g. 1000003538@hcx)")
	case len(*code) > 100 || !payerCodePattern.MatchString(*code):
		fe.add(field, "%q is not an NHCX participant code (like 1000003538@hcx)", *code)
	}
}

func (fe *fieldErrors) checkDates(from, to time.Time) {
	if !from.IsZero() && !to.IsZero() && dateOnly(to).Before(dateOnly(from)) {
		fe.add("ValidTo", "is before ValidFrom")
	}
}

// SetPayer adds a payer to the tenant or changes its name, kind or
// whether it is active. A payer cannot be one of the tenant's own
// participant codes.
func (s *Service) SetPayer(ctx context.Context, tenant string, p Payer) (Payer, error) {
	var fe fieldErrors
	fe.checkPayerCode("Code", &p.Code)
	fe.checkText("Name", &p.Name, true, 200)
	if !p.SchemeKind.IsKnown() {
		fe.add("SchemeKind", "%q is not one of pmjay, state_scheme, private_insurer, tpa", p.SchemeKind)
	}
	if err := fe.err(); err != nil {
		return Payer{}, fmt.Errorf("setting payer: %w", err)
	}
	var out Payer
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		_, err := participantInTenant(ctx, tx, p.Code)
		switch {
		case err == nil:
			return &FieldError{Field: "Code", Problem: fmt.Sprintf("%s is one of our own participant codes, not a payer", p.Code)}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		rows, err := tx.Query(ctx, `
			INSERT INTO claims_payers (tenant_id, payer_code, name, scheme_kind, active)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, payer_code) DO UPDATE
			SET name = excluded.name, scheme_kind = excluded.scheme_kind, active = excluded.active, updated_at = now()
			RETURNING `+payerColumns, tenant, p.Code, p.Name, string(p.SchemeKind), p.Active)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, scanPayer)
		return err
	})
	if err != nil {
		return Payer{}, fmt.Errorf("setting payer %s: %w", p.Code, err)
	}
	return out, nil
}

const payerColumns = `payer_code, name, scheme_kind, active, created_at, updated_at`

func scanPayer(row pgx.CollectableRow) (Payer, error) {
	var p Payer
	err := row.Scan(&p.Code, &p.Name, &p.SchemeKind, &p.Active, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// Payers lists the tenant's payers by name.
func (s *Service) Payers(ctx context.Context, tenant string) ([]Payer, error) {
	var out []Payer
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+payerColumns+` FROM claims_payers ORDER BY name, payer_code`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanPayer)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing payers: %w", err)
	}
	return out, nil
}

// payerInTenant reads one payer inside a transaction under its tenant;
// field names the request field that named it, for the error.
func payerInTenant(ctx context.Context, tx pgx.Tx, code, field string) (Payer, error) {
	rows, err := tx.Query(ctx, `SELECT `+payerColumns+` FROM claims_payers WHERE payer_code = $1`, code)
	if err != nil {
		return Payer{}, fmt.Errorf("reading payer %s: %w", code, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPayer)
	if errors.Is(err, pgx.ErrNoRows) {
		return Payer{}, &FieldError{Field: field, Problem: fmt.Sprintf("%s is not one of the tenant's payers (add it first)", code)}
	}
	if err != nil {
		return Payer{}, fmt.Errorf("reading payer %s: %w", code, err)
	}
	return p, nil
}

// SetEmpanelment records a facility's empanelment with a payer, or
// changes the one with the same facility, payer and scheme code.
func (s *Service) SetEmpanelment(ctx context.Context, tenant string, e Empanelment) (Empanelment, error) {
	var fe fieldErrors
	e.FacilityID = strings.TrimSpace(e.FacilityID)
	if _, err := uuid.Parse(e.FacilityID); err != nil {
		fe.add("FacilityID", "%q is not a facility id", e.FacilityID)
	}
	fe.checkPayerCode("PayerCode", &e.PayerCode)
	fe.checkText("SchemeName", &e.SchemeName, false, 200)
	fe.checkText("SchemeCode", &e.SchemeCode, false, 100)
	fe.checkDates(e.ValidFrom, e.ValidTo)
	if err := fe.err(); err != nil {
		return Empanelment{}, fmt.Errorf("setting empanelment: %w", err)
	}
	var out Empanelment
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		// Row-level security hides other tenants' facilities, so this
		// also refuses them (the foreign key alone would not).
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM facilities WHERE id = $1::uuid`, e.FacilityID).Scan(&n); err != nil {
			return fmt.Errorf("reading facility: %w", err)
		}
		if n == 0 {
			return &FieldError{Field: "FacilityID", Problem: fmt.Sprintf("%s is not one of the tenant's facilities", e.FacilityID)}
		}
		if _, err := payerInTenant(ctx, tx, e.PayerCode, "PayerCode"); err != nil {
			return err
		}
		var id string
		err := tx.QueryRow(ctx, `
			INSERT INTO claims_empanelments (tenant_id, facility_id, payer_code, scheme_name, scheme_code, valid_from, valid_to)
			VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, facility_id, payer_code, scheme_code) DO UPDATE
			SET scheme_name = excluded.scheme_name, valid_from = excluded.valid_from, valid_to = excluded.valid_to, updated_at = now()
			RETURNING id::text`,
			tenant, e.FacilityID, e.PayerCode, e.SchemeName, e.SchemeCode, nullDate(e.ValidFrom), nullDate(e.ValidTo)).Scan(&id)
		if err != nil {
			return err
		}
		es, err := readEmpanelments(ctx, tx, `WHERE e.id = $1::uuid`, id)
		if err != nil {
			return err
		}
		if len(es) != 1 {
			return fmt.Errorf("empanelment %s cannot be read back", id)
		}
		out = es[0]
		return nil
	})
	if err != nil {
		return Empanelment{}, fmt.Errorf("setting empanelment of facility %s with %s: %w", e.FacilityID, e.PayerCode, err)
	}
	return out, nil
}

// Empanelments lists the empanelments of one facility, or of every
// facility of the tenant when facilityID is empty, by facility and payer.
func (s *Service) Empanelments(ctx context.Context, tenant, facilityID string) ([]Empanelment, error) {
	if facilityID != "" {
		if _, err := uuid.Parse(facilityID); err != nil {
			return nil, fmt.Errorf("listing empanelments: %w", &FieldError{Field: "FacilityID", Problem: fmt.Sprintf("%q is not a facility id", facilityID)})
		}
	}
	var out []Empanelment
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		out, err = readEmpanelments(ctx, tx, `WHERE $1 = '' OR e.facility_id::text = $1`, facilityID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing empanelments: %w", err)
	}
	return out, nil
}

func readEmpanelments(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]Empanelment, error) {
	rows, err := tx.Query(ctx, `
		SELECT e.id::text, e.facility_id::text, f.name, f.hfr_id, e.payer_code, p.name, p.scheme_kind, e.scheme_name,
			e.scheme_code, e.valid_from, e.valid_to, e.created_at, e.updated_at
		FROM claims_empanelments e
		JOIN claims_payers p USING (tenant_id, payer_code)
		JOIN facilities f ON f.id = e.facility_id
		`+where+` ORDER BY f.name, p.name, e.payer_code, e.scheme_code`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading empanelments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Empanelment, error) {
		var e Empanelment
		var from, to *time.Time
		err := r.Scan(&e.ID, &e.FacilityID, &e.FacilityName, &e.FacilityHFRID, &e.PayerCode, &e.PayerName, &e.SchemeKind,
			&e.SchemeName, &e.SchemeCode, &from, &to, &e.CreatedAt, &e.UpdatedAt)
		e.ValidFrom, e.ValidTo = orZero(from), orZero(to)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading empanelments: %w", err)
	}
	return out, nil
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// SetCoverage adds a coverage to a master patient (c.ID empty) or changes
// one (c.ID set). A patient merged into another gets it on the master
// they were merged into. The payer must be one of the tenant's, and
// active for a new coverage.
func (s *Service) SetCoverage(ctx context.Context, tenant string, c Coverage) (Coverage, error) {
	var fe fieldErrors
	c.ID, c.PatientID = strings.TrimSpace(c.ID), strings.TrimSpace(c.PatientID)
	if c.ID != "" {
		if _, err := uuid.Parse(c.ID); err != nil {
			fe.add("ID", "%q is not a coverage id", c.ID)
		}
	}
	if _, err := uuid.Parse(c.PatientID); err != nil {
		fe.add("PatientID", "%q is not a patient id", c.PatientID)
	}
	fe.checkPayerCode("PayerCode", &c.PayerCode)
	fe.checkText("PlanName", &c.PlanName, false, 200)
	fe.checkText("PolicyNumber", &c.PolicyNumber, false, 100)
	fe.checkText("MemberID", &c.MemberID, false, 100)
	if c.PolicyNumber == "" && c.MemberID == "" {
		fe.add("PolicyNumber", "or MemberID is required")
	}
	if c.Relationship == "" {
		c.Relationship = RelationshipSelf
	}
	if !c.Relationship.IsKnown() {
		fe.add("Relationship", "%q is not one of self, spouse, child, parent, other", c.Relationship)
	}
	fe.checkDates(c.ValidFrom, c.ValidTo)
	fe.checkText("UpdatedBy", &c.UpdatedBy, true, 200)
	if err := fe.err(); err != nil {
		return Coverage{}, fmt.Errorf("setting coverage: %w", err)
	}
	var out Coverage
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		master, err := activeMaster(ctx, tx, c.PatientID)
		if errors.Is(err, ErrNotFound) {
			return &FieldError{Field: "PatientID", Problem: fmt.Sprintf("%s is not one of the tenant's patients", c.PatientID)}
		}
		if err != nil {
			return err
		}
		payer, err := payerInTenant(ctx, tx, c.PayerCode, "PayerCode")
		if err != nil {
			return err
		}
		switch {
		case payer.SchemeKind == SchemePMJAY && c.MemberID == "":
			return &FieldError{Field: "MemberID", Problem: "is required for PM-JAY coverage (the beneficiary's PM-JAY id)"}
		case !payer.Active && c.ID == "":
			return &FieldError{Field: "PayerCode", Problem: fmt.Sprintf("%s is inactive and takes no new coverage", payer.Code)}
		}
		duplicate := &FieldError{Field: "PolicyNumber", Problem: "and MemberID are already on file for this patient and payer"}
		var id string
		if c.ID == "" {
			err = tx.QueryRow(ctx, `
				INSERT INTO claims_coverages (tenant_id, patient_id, payer_code, plan_name, policy_number, member_id,
					relationship, valid_from, valid_to, updated_by)
				VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (tenant_id, patient_id, payer_code, policy_number, member_id) DO NOTHING
				RETURNING id::text`,
				tenant, master, c.PayerCode, c.PlanName, c.PolicyNumber, c.MemberID,
				string(c.Relationship), nullDate(c.ValidFrom), nullDate(c.ValidTo), c.UpdatedBy).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return duplicate
			}
		} else {
			// The patient stays the one the coverage was entered for (or
			// a master merged into this one): moving coverage to another
			// person is a new coverage, not an edit.
			err = tx.QueryRow(ctx, familyCTE(10)+`
				UPDATE claims_coverages SET payer_code = $2, plan_name = $3, policy_number = $4, member_id = $5,
					relationship = $6, valid_from = $7, valid_to = $8, updated_by = $9, updated_at = now()
				WHERE id = $1::uuid AND patient_id IN (SELECT id FROM family)
				RETURNING id::text`,
				c.ID, c.PayerCode, c.PlanName, c.PolicyNumber, c.MemberID,
				string(c.Relationship), nullDate(c.ValidFrom), nullDate(c.ValidTo), c.UpdatedBy, master).Scan(&id)
			var pgErr *pgconn.PgError
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("coverage %s: %w", c.ID, ErrNotFound)
			case errors.As(err, &pgErr) && pgErr.Code == "23505":
				return duplicate
			}
		}
		if err != nil {
			return err
		}
		out, err = coverageByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Coverage{}, fmt.Errorf("setting coverage of patient %s: %w", c.PatientID, err)
	}
	return out, nil
}

// Coverages lists the coverage on file for a master patient, including
// coverage entered for masters since merged into it, newest first. A
// merged patient's id gives its survivor's list.
func (s *Service) Coverages(ctx context.Context, tenant, patientID string) ([]Coverage, error) {
	if _, err := uuid.Parse(patientID); err != nil {
		return nil, fmt.Errorf("listing coverage: patient %q: %w", patientID, ErrNotFound)
	}
	var out []Coverage
	err := s.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		master, err := activeMaster(ctx, tx, patientID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, familyCTE(1)+`SELECT `+coverageColumns+`
			WHERE c.patient_id IN (SELECT id FROM family) ORDER BY c.created_at DESC, p.name, c.id`, master)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanCoverage)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing coverage of patient %s: %w", patientID, err)
	}
	return out, nil
}

// familyCTE names, as "family", the master patient given as parameter $n
// and every patient merged into it, however deep the merges go.
func familyCTE(n int) string {
	return fmt.Sprintf(`WITH RECURSIVE family (id, depth) AS (
			SELECT id, 0 FROM patients WHERE id = $%d::uuid
			UNION ALL
			SELECT p.id, f.depth + 1 FROM patients p JOIN family f ON p.merged_into = f.id WHERE f.depth < 100
		) `, n)
}

// activeMaster follows merged_into from a master patient to the one it
// now belongs to. An id that is no patient of the tenant is ErrNotFound.
func activeMaster(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	var master string
	err := tx.QueryRow(ctx, `
		WITH RECURSIVE chain (id, merged_into, depth) AS (
			SELECT id, merged_into, 0 FROM patients WHERE id = $1::uuid
			UNION ALL
			SELECT p.id, p.merged_into, c.depth + 1 FROM patients p JOIN chain c ON p.id = c.merged_into WHERE c.depth < 100
		)
		SELECT id::text FROM chain WHERE merged_into IS NULL`, id).Scan(&master)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("patient %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("reading patient %s: %w", id, err)
	}
	return master, nil
}

const coverageColumns = `c.id::text, c.patient_id::text, c.payer_code, p.name, p.scheme_kind, c.plan_name, c.policy_number,
	c.member_id, c.relationship, c.valid_from, c.valid_to, c.updated_by, c.updated_at, c.created_at
	FROM claims_coverages c JOIN claims_payers p USING (tenant_id, payer_code)`

func scanCoverage(r pgx.CollectableRow) (Coverage, error) {
	var c Coverage
	var from, to *time.Time
	err := r.Scan(&c.ID, &c.PatientID, &c.PayerCode, &c.PayerName, &c.SchemeKind, &c.PlanName, &c.PolicyNumber,
		&c.MemberID, &c.Relationship, &from, &to, &c.UpdatedBy, &c.UpdatedAt, &c.CreatedAt)
	c.ValidFrom, c.ValidTo = orZero(from), orZero(to)
	return c, err
}

func coverageByID(ctx context.Context, tx pgx.Tx, id string) (Coverage, error) {
	rows, err := tx.Query(ctx, `SELECT `+coverageColumns+` WHERE c.id = $1::uuid`, id)
	if err != nil {
		return Coverage{}, fmt.Errorf("reading coverage %s: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCoverage)
	if err != nil {
		return Coverage{}, fmt.Errorf("reading coverage %s: %w", id, err)
	}
	return c, nil
}
