package patients

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Storage helpers shared by ingest, find, review and merge. Every function
// runs inside the caller's tenant transaction.

// candidate is a stored link as the matcher sees it.
type candidate struct {
	linkID    string
	patientID string
	p         person
}

// linkColumns are the columns scanCandidate reads, from patient_links l.
const linkColumns = `l.id::text, l.patient_id::text, l.name, l.gender, l.birth_date, l.birth_year,
	l.mobile, l.pin_code, l.abha_number, l.abha_address`

func scanCandidate(row pgx.CollectableRow) (candidate, error) {
	var c candidate
	var r SourceRecord
	var bd *time.Time
	var by *int32
	if err := row.Scan(&c.linkID, &c.patientID, &r.Name, &r.Gender, &bd, &by,
		&r.Mobile, &r.PinCode, &r.ABHANumber, &r.ABHAAddress); err != nil {
		return c, err
	}
	if bd != nil {
		r.BirthDate = *bd
	}
	if by != nil {
		r.BirthYear = int(*by)
	}
	c.p = personOf(r)
	return c, nil
}

// candidatesByKeys reads up to limit links filed under any of keys.
func candidatesByKeys(ctx context.Context, tx pgx.Tx, tenant string, keys []string, limit int) ([]candidate, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	// Planned afresh each time (QueryExecModeExec): a plan cached while
	// the index was small (a sequential scan of the links) would stay
	// with the connection as the index grows.
	rows, err := tx.Query(ctx, `
		SELECT `+linkColumns+` FROM patient_links l
		WHERE l.id IN (SELECT DISTINCT k.link_id FROM patient_link_keys k
		               WHERE k.tenant_id = $1 AND k.key = ANY($2) LIMIT $3)`,
		pgx.QueryExecModeExec, tenant, keys, limit)
	if err != nil {
		return nil, fmt.Errorf("reading candidates: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCandidate)
	if err != nil {
		return nil, fmt.Errorf("reading candidates: %w", err)
	}
	return cs, nil
}

// linksOfPatients reads every link of the given masters.
func linksOfPatients(ctx context.Context, tx pgx.Tx, ids []string) ([]candidate, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+linkColumns+` FROM patient_links l WHERE l.patient_id = ANY($1::uuid[])`, pgx.QueryExecModeExec, ids)
	if err != nil {
		return nil, fmt.Errorf("reading links: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCandidate)
	if err != nil {
		return nil, fmt.Errorf("reading links: %w", err)
	}
	return cs, nil
}

// patientsByIdentifier returns the active masters holding an ABHA
// identifier, and whether any of those rows was verified through ABDM.
func patientsByIdentifier(ctx context.Context, tx pgx.Tx, tenant, kind, value string) (ids []string, verified map[string]bool, err error) {
	if value == "" {
		return nil, nil, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT i.patient_id::text, bool_or(i.verified) FROM patient_identifiers i
		JOIN patients p ON p.id = i.patient_id AND p.merged_into IS NULL
		WHERE i.tenant_id = $1 AND i.kind = $2 AND i.value = $3
		GROUP BY i.patient_id ORDER BY i.patient_id`, tenant, kind, value)
	if err != nil {
		return nil, nil, fmt.Errorf("looking up %s: %w", kind, err)
	}
	verified = map[string]bool{}
	var id string
	var v bool
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		ids = append(ids, id)
		verified[id] = v
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("looking up %s: %w", kind, err)
	}
	return ids, verified, nil
}

// scored is the best comparison of a record with one master's links.
type scored struct {
	patientID string
	linkID    string
	cmp       comparison
}

// bestPerPatient compares p with every candidate and keeps, per master,
// the best-scoring link. The result is ordered best first.
func bestPerPatient(p person, cs []candidate) []scored {
	best := map[string]scored{}
	for _, c := range cs {
		cmp := compare(c.p, p)
		if b, ok := best[c.patientID]; !ok || cmp.better(b.cmp) {
			best[c.patientID] = scored{patientID: c.patientID, linkID: c.linkID, cmp: cmp}
		}
	}
	out := make([]scored, 0, len(best))
	for _, s := range best {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b scored) int {
		switch {
		case a.cmp.better(b.cmp):
			return -1
		case b.cmp.better(a.cmp):
			return 1
		}
		return strings.Compare(a.patientID, b.patientID)
	})
	return out
}

// lockKeys takes transaction-scoped advisory locks on a record's keys, in
// one global order so two transactions never wait on each other in a
// circle. Two records that could match share a key, so their matching is
// serialised and neither misses the other; records that share none run in
// parallel.
func lockKeys(ctx context.Context, tx pgx.Tx, tenant string, keys []string) error {
	ids := make([]int64, 0, len(keys))
	for _, k := range keys {
		h := fnv.New64a()
		h.Write([]byte("patients\x00" + tenant + "\x00" + k))
		ids = append(ids, int64(h.Sum64()))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n`, ids); err != nil {
		return fmt.Errorf("locking match keys: %w", err)
	}
	return nil
}

// recordHash identifies a source record's content.
func recordHash(r SourceRecord) []byte {
	h := sha256.New()
	for _, f := range []string{r.FacilityID, r.SourceSystemID, r.LocalID, r.Name, r.Gender,
		dateText(r.BirthDate), strconv.Itoa(r.BirthYear), r.Mobile, r.Address, r.PinCode, r.ABHANumber, r.ABHAAddress} {
		h.Write([]byte(f))
		h.Write([]byte{0x1f})
	}
	return h.Sum(nil)
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// nullableDate is a person's birth date as a SQL value.
func nullableDate(p person) any {
	if p.birthDate.IsZero() {
		return nil
	}
	return p.birthDate
}

func nullableYear(p person) any {
	if p.birthYear == 0 {
		return nil
	}
	return p.birthYear
}

func insertPatient(ctx context.Context, tx pgx.Tx, tenant string) (string, error) {
	var id string
	if err := tx.QueryRow(ctx, "INSERT INTO patients (tenant_id) VALUES ($1) RETURNING id::text", tenant).Scan(&id); err != nil {
		return "", fmt.Errorf("creating master patient: %w", err)
	}
	return id, nil
}

// activePatient locks a master for the rest of the transaction and
// returns the master that now holds its links: itself, or the one it was
// merged into.
func activePatient(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	for range 32 { // merge chains are short; the bound only stops a cycle
		var into *string
		err := tx.QueryRow(ctx, "SELECT merged_into::text FROM patients WHERE id = $1 FOR SHARE", id).Scan(&into)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", fmt.Errorf("patient %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", fmt.Errorf("reading patient %s: %w", id, err)
		}
		if into == nil {
			return id, nil
		}
		id = *into
	}
	return "", fmt.Errorf("patient %s: merge chain too long", id)
}

// writeKeys writes a link's blocking keys, replacing those it had when
// replace is set (a new link has none to replace).
func writeKeys(ctx context.Context, tx pgx.Tx, tenant, linkID string, keys []string, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, "DELETE FROM patient_link_keys WHERE tenant_id = $1 AND link_id = $2", tenant, linkID); err != nil {
			return fmt.Errorf("replacing match keys: %w", err)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO patient_link_keys (tenant_id, key, link_id)
		SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING`, tenant, keys, linkID); err != nil {
		return fmt.Errorf("writing match keys: %w", err)
	}
	return nil
}

// writeLinkIdentifiers writes the ABHA identifiers a link carries,
// replacing those it had when replace is set.
func writeLinkIdentifiers(ctx context.Context, tx pgx.Tx, tenant, patientID, linkID string, p person, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, "DELETE FROM patient_identifiers WHERE link_id = $1", linkID); err != nil {
			return fmt.Errorf("replacing identifiers: %w", err)
		}
	}
	for _, id := range []struct{ kind, value string }{{"abha_number", p.abhaNumber}, {"abha_address", p.abhaAddress}} {
		if id.value == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO patient_identifiers (tenant_id, patient_id, link_id, kind, value)
			VALUES ($1, $2, $3, $4, $5)`, tenant, patientID, linkID, id.kind, id.value); err != nil {
			return fmt.Errorf("writing %s: %w", id.kind, err)
		}
	}
	return nil
}

// match is a row of patient_matches to write.
type match struct {
	linkID, patientID, candidateID, candidateLinkID string
	method                                          string
	cmp                                             comparison
	status                                          string
}

// insertMatch writes a match row. An open review item for a pair that is
// already open, or that a person already called distinct, is not written
// again: ok is false then.
func insertMatch(ctx context.Context, tx pgx.Tx, tenant string, m match) (id int64, ok bool, err error) {
	if m.status == statusOpen {
		var decided bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM patient_matches WHERE tenant_id = $3 AND status = 'distinct'
			  AND least(patient_id, candidate_id) = least($1::uuid, $2::uuid)
			  AND greatest(patient_id, candidate_id) = greatest($1::uuid, $2::uuid))`,
			m.patientID, m.candidateID, tenant).Scan(&decided); err != nil {
			return 0, false, fmt.Errorf("checking earlier decisions: %w", err)
		}
		if decided {
			return 0, false, nil
		}
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO patient_matches (tenant_id, link_id, patient_id, candidate_id, candidate_link_id, method, score, evidence, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, least(patient_id, candidate_id), greatest(patient_id, candidate_id)) WHERE status = 'open' DO NOTHING
		RETURNING id`,
		tenant, m.linkID, m.patientID, m.candidateID, m.candidateLinkID, m.method, m.cmp.score, m.cmp.evidence, m.status).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("recording match: %w", err)
	}
	return id, true, nil
}

// Statuses of patient_matches rows.
const (
	statusAutoLinked = "auto_linked"
	statusOpen       = "open"
	statusMerged     = "merged"
	statusDistinct   = "distinct"
	statusSuperseded = "superseded"
)
