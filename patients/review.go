package patients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReviewItem is a question for a person: are these two master patients
// the same person? Existing is the master the index already had; Incoming
// is the master of the record whose arrival raised the question.
type ReviewItem struct {
	ID        int64
	Status    string // open, merged, distinct or superseded
	Method    string // score, abha_number or abha_address
	Score     float64
	CreatedAt time.Time
	// Evidence compares the two records that were scored, field by field;
	// Left is Existing's record, Right Incoming's.
	Evidence []Evidence
	Existing Patient
	Incoming Patient
	// ExistingLinkID and IncomingLinkID are those two records.
	ExistingLinkID string
	IncomingLinkID string

	DecidedBy string
	DecidedAt time.Time
	Reason    string
}

// ReviewQueue returns the open review items, highest score first (the
// likeliest duplicates at the top), with both patients in full.
func (ix *Index) ReviewQueue(ctx context.Context, tenant string, limit int) ([]ReviewItem, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []ReviewItem
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		out, err = readReviews(ctx, tx, `WHERE m.status = 'open' ORDER BY m.score DESC, m.id LIMIT $1`, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the review queue: %w", err)
	}
	return out, nil
}

// Review returns one review item, whatever its status.
func (ix *Index) Review(ctx context.Context, tenant string, id int64) (ReviewItem, error) {
	var out ReviewItem
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		items, err := readReviews(ctx, tx, `WHERE m.id = $1 AND m.status <> 'auto_linked'`, id)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return ErrNotFound
		}
		out = items[0]
		return nil
	})
	if err != nil {
		return ReviewItem{}, fmt.Errorf("reading review item %d: %w", id, err)
	}
	return out, nil
}

// ReviewDecision is a person's answer to a review item.
type ReviewDecision struct {
	// Same merges the incoming patient into the existing one; otherwise
	// the two are recorded as different people and not asked about again.
	Same   bool
	Actor  string
	Reason string
}

// DecideReview records a person's answer to an open review item. "Same"
// merges Incoming into Existing (Merge, with the item noted in the
// history); "different" closes the item as distinct. Either way the item
// keeps who decided, when and why.
func (ix *Index) DecideReview(ctx context.Context, tenant string, id int64, d ReviewDecision) (ReviewItem, error) {
	if err := checkActor(d.Actor, d.Reason); err != nil {
		return ReviewItem{}, fmt.Errorf("deciding review item %d: %w", id, err)
	}
	var out ReviewItem
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var status, incoming, existing string
		err := tx.QueryRow(ctx, `
			SELECT status, patient_id::text, candidate_id::text FROM patient_matches
			WHERE id = $1 AND status <> 'auto_linked' FOR UPDATE`, id).Scan(&status, &incoming, &existing)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading the item: %w", err)
		}
		if status != statusOpen {
			return fmt.Errorf("%w: the item was already decided (%s)", ErrConflict, status)
		}
		if d.Same {
			// merge closes this item (and any other between the two).
			if _, err := merge(ctx, tx, tenant, existing, incoming, d.Actor, d.Reason, id); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `
			UPDATE patient_matches SET status = 'distinct', decided_by = $2, decided_at = now(), decision_reason = $3
			WHERE id = $1`, id, d.Actor, d.Reason); err != nil {
			return fmt.Errorf("closing the item: %w", err)
		}
		items, err := readReviews(ctx, tx, `WHERE m.id = $1`, id)
		if err != nil {
			return err
		}
		out = items[0]
		return nil
	})
	if err != nil {
		return ReviewItem{}, fmt.Errorf("deciding review item %d: %w", id, err)
	}
	return out, nil
}

// readReviews reads review items selected by a clause over
// patient_matches m, with both patients.
func readReviews(ctx context.Context, tx pgx.Tx, clause string, args ...any) ([]ReviewItem, error) {
	rows, err := tx.Query(ctx, `
		SELECT m.id, m.status, m.method, m.score, m.created_at, m.evidence,
			m.candidate_id::text, m.patient_id::text, m.candidate_link_id::text, m.link_id::text,
			m.decided_by, m.decided_at, m.decision_reason
		FROM patient_matches m `+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("reading review items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReviewItem, error) {
		var it ReviewItem
		var decidedAt *time.Time
		err := r.Scan(&it.ID, &it.Status, &it.Method, &it.Score, &it.CreatedAt, &it.Evidence,
			&it.Existing.ID, &it.Incoming.ID, &it.ExistingLinkID, &it.IncomingLinkID,
			&it.DecidedBy, &decidedAt, &it.Reason)
		if decidedAt != nil {
			it.DecidedAt = *decidedAt
		}
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading review items: %w", err)
	}
	if len(items) == 0 {
		return items, nil
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Existing.ID, it.Incoming.ID)
	}
	ps, err := readPatients(ctx, tx, `WHERE p.id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Patient, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	for i := range items {
		items[i].Existing = byID[items[i].Existing.ID]
		items[i].Incoming = byID[items[i].Incoming.ID]
	}
	return items, nil
}
