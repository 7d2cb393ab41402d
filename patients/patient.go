package patients

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Patient is a master patient with every record linked to it.
type Patient struct {
	ID string
	// MergedInto is set while this master is merged into another; its
	// links and identifiers are then that one's, and Links is empty.
	MergedInto string
	CreatedAt  time.Time
	// Summary is the most complete of the linked records' demographics.
	Summary     Demographics
	Identifiers []Identifier
	// Links are ordered by facility, source system kind and code, local id.
	Links []Link
}

// Demographics are a person's details as one source holds them, after
// normalisation (mobile as 10 digits, gender as M/F/O or empty).
type Demographics struct {
	Name      string
	Gender    string
	BirthDate time.Time // zero when only the year is known
	BirthYear int
	Mobile    string
	PinCode   string
	Address   string
}

// Birth is the date of birth as shown to staff: 2006-01-02, a year, or "".
func (d Demographics) Birth() string {
	switch {
	case !d.BirthDate.IsZero():
		return d.BirthDate.Format("2006-01-02")
	case d.BirthYear != 0:
		return fmt.Sprint(d.BirthYear)
	}
	return ""
}

// completeness counts the fields a record fills, to pick a summary.
func (d Demographics) completeness() int {
	n := 0
	for _, f := range []bool{d.Name != "", d.Gender != "", d.BirthYear != 0, !d.BirthDate.IsZero(), d.Mobile != "", d.PinCode != "", d.Address != ""} {
		if f {
			n++
		}
	}
	return n
}

// Identifier is an ABHA number (14 digits) or address of a master.
type Identifier struct {
	Kind  string // "abha_number" or "abha_address"
	Value string
	// Verified identifiers were confirmed through ABDM; the others were
	// typed into a source system.
	Verified bool
	// LinkID is the record the identifier came from; empty when verified.
	LinkID string
}

// Link is one source system's record of a patient: where it lives
// (facility, source system, local id) and what it says.
type Link struct {
	ID        string
	PatientID string

	FacilityID   string
	FacilityName string
	HFRID        string

	SourceSystemID string
	SourceCode     string
	SourceName     string
	SourceKind     string // HIS, LIMS, RIS, pharmacy, billing

	LocalID string
	Demographics
	ABHANumber  string
	ABHAAddress string
	// LinkedBy is how the record first reached a master: new,
	// abha_number, abha_address or score.
	LinkedBy  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Patient returns a master patient with its links and identifiers.
func (ix *Index) Patient(ctx context.Context, tenant, id string) (Patient, error) {
	if err := checkIDs(id); err != nil {
		return Patient{}, err
	}
	var out Patient
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		ps, err := readPatients(ctx, tx, `WHERE p.id = $1`, id)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return ErrNotFound
		}
		out = ps[0]
		return nil
	})
	if err != nil {
		return Patient{}, fmt.Errorf("reading patient %s: %w", id, err)
	}
	return out, nil
}

// List returns active master patients, oldest first, with their links:
// the patients with their ids in every system.
func (ix *Index) List(ctx context.Context, tenant string, limit, offset int) ([]Patient, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []Patient
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		out, err = readPatients(ctx, tx, `WHERE p.merged_into IS NULL ORDER BY p.created_at, p.id LIMIT $1 OFFSET $2`, limit, max(offset, 0))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing patients: %w", err)
	}
	return out, nil
}

// LinkFor finds the link of a source system's local patient id: the way
// back from a care context, which names its source and local patient id,
// to the master patient.
func (ix *Index) LinkFor(ctx context.Context, tenant, sourceSystemID, localID string) (Link, error) {
	var out Link
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		ls, err := readLinks(ctx, tx, `WHERE l.source_system_id = $1 AND l.local_id = $2`, sourceSystemID, localID)
		if err != nil {
			return err
		}
		if len(ls) == 0 {
			return ErrNotFound
		}
		out = ls[0]
		return nil
	})
	if err != nil {
		return Link{}, fmt.Errorf("finding the patient of %s in source %s: %w", localID, sourceSystemID, err)
	}
	return out, nil
}

// readPatients reads masters selected by a clause over patients p, with
// their links and identifiers.
func readPatients(ctx context.Context, tx pgx.Tx, clause string, args ...any) ([]Patient, error) {
	rows, err := tx.Query(ctx, `SELECT p.id::text, coalesce(p.merged_into::text, ''), p.created_at FROM patients p `+clause,
		append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading patients: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Patient, error) {
		var p Patient
		err := r.Scan(&p.ID, &p.MergedInto, &p.CreatedAt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading patients: %w", err)
	}
	if len(ps) == 0 {
		return ps, nil
	}
	byID := make(map[string]*Patient, len(ps))
	ids := make([]string, len(ps))
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
		ids[i] = ps[i].ID
	}
	links, err := readLinks(ctx, tx, `WHERE l.patient_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		p := byID[l.PatientID]
		p.Links = append(p.Links, l)
		if c, s := l.completeness(), p.Summary.completeness(); c > s {
			p.Summary = l.Demographics
		}
	}
	rows, err = tx.Query(ctx, `
		SELECT patient_id::text, kind, value, verified, coalesce(link_id::text, '') FROM patient_identifiers
		WHERE patient_id = ANY($1::uuid[]) ORDER BY verified DESC, kind, value`, pgx.QueryExecModeExec, ids)
	if err != nil {
		return nil, fmt.Errorf("reading identifiers: %w", err)
	}
	var pid string
	var id Identifier
	_, err = pgx.ForEachRow(rows, []any{&pid, &id.Kind, &id.Value, &id.Verified, &id.LinkID}, func() error {
		p := byID[pid]
		for _, have := range p.Identifiers {
			if have.Kind == id.Kind && have.Value == id.Value {
				return nil // the same ABHA from several records is shown once
			}
		}
		p.Identifiers = append(p.Identifiers, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading identifiers: %w", err)
	}
	return ps, nil
}

// readLinks reads links selected by a clause over patient_links l, with
// their facility and source system. Like every query here whose best plan
// depends on the index's size, it is planned afresh each time rather than
// cached per connection (see candidatesByKeys).
func readLinks(ctx context.Context, tx pgx.Tx, clause string, args ...any) ([]Link, error) {
	rows, err := tx.Query(ctx, `
		SELECT l.id::text, l.patient_id::text, l.facility_id::text, f.name, f.hfr_id,
			l.source_system_id::text, s.code, s.name, s.kind, l.local_id,
			l.name, l.gender, l.birth_date, l.birth_year, l.mobile, l.pin_code, l.address,
			l.abha_number, l.abha_address, l.linked_by, l.created_at, l.updated_at
		FROM patient_links l
		JOIN facilities f ON f.id = l.facility_id
		JOIN source_systems s ON s.id = l.source_system_id
		`+clause+` ORDER BY f.name, s.kind, s.code, l.local_id`, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading links: %w", err)
	}
	links, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Link, error) {
		var l Link
		var bd *time.Time
		var by *int32
		err := r.Scan(&l.ID, &l.PatientID, &l.FacilityID, &l.FacilityName, &l.HFRID,
			&l.SourceSystemID, &l.SourceCode, &l.SourceName, &l.SourceKind, &l.LocalID,
			&l.Name, &l.Gender, &bd, &by, &l.Mobile, &l.PinCode, &l.Address,
			&l.ABHANumber, &l.ABHAAddress, &l.LinkedBy, &l.CreatedAt, &l.UpdatedAt)
		if bd != nil {
			l.BirthDate = *bd
		}
		if by != nil {
			l.BirthYear = int(*by)
		}
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading links: %w", err)
	}
	return links, nil
}

// checkIDs reports ErrNotFound for a patient id that is not a UUID: no
// patient has it, and the database would only answer with a syntax error.
func checkIDs(ids ...string) error {
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			return fmt.Errorf("patient %q: %w", id, ErrNotFound)
		}
	}
	return nil
}
