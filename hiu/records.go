package hiu

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
)

// RecordEntry is one received clinical item with its provenance, a row of
// the unified record page.
type RecordEntry struct {
	EntryID  int64
	RecordID string
	// Record is the document it came from.
	RecordType  string
	RecordTitle string
	RecordDate  time.Time
	// Provenance. HIPName is the HIP's name as the consent artefact gave
	// it; empty when it gave none.
	HIP         string
	HIPName     string
	CareContext string
	Consent     string // artefact id
	ReceivedAt  time.Time
	// The entry.
	Kind        string
	Resource    string
	CodeSystem  string
	Code        string
	Display     string
	Summary     string
	Value       string
	Unit        string
	RangeLow    string
	RangeHigh   string
	RangeText   string
	Status      string
	EffectiveAt time.Time
	TimeText    string
	// Detail is the whole nrces.Entry as JSON (attachments left out).
	Detail json.RawMessage
	// Attachments lists the entry's files without their bytes; fetch them
	// with Attachment.
	Attachments []AttachmentInfo
}

// AttachmentInfo describes a stored attachment.
type AttachmentInfo struct {
	ID          int64
	ContentType string
	Title       string
	URL         string
	Size        int64
}

// RecordFilter narrows PatientRecords. Empty fields match everything.
type RecordFilter struct {
	Kinds    []string // nrces.EntryKind values
	From, To time.Time
	HIP      string
	// Limit defaults to 500.
	Limit int
}

// PatientRecords returns the entries received for a patient, newest
// first. patient is an ABHA address or a master patient id; a master
// patient matches the records of each of its ABHA addresses and those
// received under consent requests made for it.
func (s *Service) PatientRecords(ctx context.Context, tenant, patient string, f RecordFilter) ([]RecordEntry, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 500
	}
	var out []RecordEntry
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		addresses := []string{strings.ToLower(strings.TrimSpace(patient))}
		var patientID *string
		if _, err := uuid.Parse(patient); err == nil {
			patientID = &patient
			rows, err := tx.Query(ctx, `SELECT DISTINCT lower(value) FROM patient_identifiers
				WHERE patient_id = $1 AND kind = 'abha_address'`, patient)
			if err != nil {
				return fmt.Errorf("reading patient's ABHA addresses: %w", err)
			}
			if addresses, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return fmt.Errorf("reading patient's ABHA addresses: %w", err)
			}
		}
		var from, to *time.Time
		if !f.From.IsZero() {
			from = &f.From
		}
		if !f.To.IsZero() {
			to = &f.To
		}
		rows, err := tx.Query(ctx, `SELECT e.id, r.id::text, r.record_type, r.title, r.record_date, r.hip_id, c.hip_name, r.care_context,
				r.artefact_id, r.received_at, e.kind, e.resource, e.code_system, e.code, e.display, e.summary, e.value,
				e.unit, e.range_low, e.range_high, e.range_text, e.status, e.effective_at, e.time_text, e.detail
			FROM hiu_entries e JOIN hiu_records r ON r.id = e.record_id JOIN hiu_consents c ON c.id = r.consent_id
			WHERE (r.patient_abha_address = ANY($1) OR ($2::uuid IS NOT NULL AND r.patient_id = $2::uuid))
			  AND (coalesce(cardinality($3::text[]), 0) = 0 OR e.kind = ANY($3))
			  AND ($4::timestamptz IS NULL OR coalesce(e.effective_at, r.record_date, r.received_at) >= $4)
			  AND ($5::timestamptz IS NULL OR coalesce(e.effective_at, r.record_date, r.received_at) <= $5)
			  AND ($6 = '' OR r.hip_id = $6)
			ORDER BY coalesce(e.effective_at, r.record_date, r.received_at) DESC, e.id
			LIMIT $7`, addresses, patientID, f.Kinds, from, to, f.HIP, f.Limit)
		if err != nil {
			return fmt.Errorf("listing patient records: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RecordEntry, error) {
			var e RecordEntry
			var date, eff *time.Time
			err := r.Scan(&e.EntryID, &e.RecordID, &e.RecordType, &e.RecordTitle, &date, &e.HIP, &e.HIPName, &e.CareContext,
				&e.Consent, &e.ReceivedAt, &e.Kind, &e.Resource, &e.CodeSystem, &e.Code, &e.Display, &e.Summary, &e.Value,
				&e.Unit, &e.RangeLow, &e.RangeHigh, &e.RangeText, &e.Status, &eff, &e.TimeText, &e.Detail)
			e.RecordDate, e.EffectiveAt = deref(date), deref(eff)
			return e, err
		})
		if err != nil {
			return fmt.Errorf("reading patient records: %w", err)
		}
		if len(out) == 0 {
			return nil
		}
		ids := make([]int64, len(out))
		byID := make(map[int64]int, len(out))
		for i, e := range out {
			ids[i], byID[e.EntryID] = e.EntryID, i
		}
		rows, err = tx.Query(ctx, `SELECT entry_id, id, content_type, title, url, size FROM hiu_attachments
			WHERE entry_id = ANY($1) ORDER BY id`, ids)
		if err != nil {
			return fmt.Errorf("listing attachments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var entry int64
			var a AttachmentInfo
			if err := rows.Scan(&entry, &a.ID, &a.ContentType, &a.Title, &a.URL, &a.Size); err != nil {
				return fmt.Errorf("reading attachments: %w", err)
			}
			out[byID[entry]].Attachments = append(out[byID[entry]].Attachments, a)
		}
		return rows.Err()
	})
	return out, err
}

// Attachment returns a stored attachment's content type and bytes.
func (s *Service) Attachment(ctx context.Context, tenant string, id int64) (contentType string, data []byte, err error) {
	err = database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "SELECT content_type, coalesce(data, '') FROM hiu_attachments WHERE id = $1", id).Scan(&contentType, &data)
		if err == pgx.ErrNoRows {
			return fmt.Errorf("attachment %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("reading attachment: %w", err)
		}
		return nil
	})
	return contentType, data, err
}
