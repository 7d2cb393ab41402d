package patients

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MergeEvent is one row of the merge history.
type MergeEvent struct {
	ID         int64
	Kind       string // "merge" or "unmerge"
	SurvivorID string
	MergedID   string
	Actor      string
	Reason     string
	At         time.Time
	// MatchID is the review item a merge decided, if any.
	MatchID int64
	// Reverses is, for an unmerge, the merge it undid.
	Reverses int64
	// UndoneBy is, for a merge that was undone, the unmerge's id.
	UndoneBy int64
	// Links are the records the event moved.
	Links []string
	// MergedName is the name on the first record moved, to show which
	// person was merged away.
	MergedName string
}

// moved is what a merge changed, stored with it so that the unmerge puts
// back exactly that and nothing else.
type moved struct {
	Links       []string    `json:"links"`
	Identifiers []int64     `json:"identifiers"`
	Closed      []int64     `json:"closed"`
	Repointed   []repointed `json:"repointed"`
	Superseded  []int64     `json:"superseded"`
}

type repointed struct {
	ID     int64  `json:"id"`
	Column string `json:"column"` // patient_id or candidate_id
}

// Merge declares that survivor and merged are the same person: every
// record and identifier of merged moves to survivor, merged points at
// survivor, open review items between the two close, and those with third
// patients move to survivor. The history row names actor and reason and
// lists what moved, for Unmerge.
func (ix *Index) Merge(ctx context.Context, tenant, survivorID, mergedID, actor, reason string) (MergeEvent, error) {
	if err := checkIDs(survivorID, mergedID); err != nil {
		return MergeEvent{}, fmt.Errorf("merging patients: %w", err)
	}
	var ev MergeEvent
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		ev, err = merge(ctx, tx, tenant, survivorID, mergedID, actor, reason, 0)
		return err
	})
	if err != nil {
		return MergeEvent{}, fmt.Errorf("merging patient %s into %s: %w", mergedID, survivorID, err)
	}
	return ev, nil
}

func checkActor(actor, reason string) error {
	if strings.TrimSpace(actor) == "" || strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: say who decides and why", ErrInvalid)
	}
	return nil
}

// lockPair locks two masters in id order and returns their merged_into.
func lockPair(ctx context.Context, tx pgx.Tx, a, b string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT id::text, coalesce(merged_into::text, '') FROM patients
		WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, []string{a, b})
	if err != nil {
		return nil, fmt.Errorf("locking patients: %w", err)
	}
	into := map[string]string{}
	var id, m string
	if _, err := pgx.ForEachRow(rows, []any{&id, &m}, func() error { into[id] = m; return nil }); err != nil {
		return nil, fmt.Errorf("locking patients: %w", err)
	}
	for _, x := range []string{a, b} {
		if _, ok := into[x]; !ok {
			return nil, fmt.Errorf("patient %s: %w", x, ErrNotFound)
		}
	}
	return into, nil
}

func merge(ctx context.Context, tx pgx.Tx, tenant, survivor, merged, actor, reason string, matchID int64) (MergeEvent, error) {
	if err := checkActor(actor, reason); err != nil {
		return MergeEvent{}, err
	}
	if survivor == merged {
		return MergeEvent{}, fmt.Errorf("%w: a patient cannot be merged with itself", ErrInvalid)
	}
	into, err := lockPair(ctx, tx, survivor, merged)
	if err != nil {
		return MergeEvent{}, err
	}
	for _, x := range []string{survivor, merged} {
		if into[x] != "" {
			return MergeEvent{}, fmt.Errorf("%w: patient %s is already merged into %s", ErrConflict, x, into[x])
		}
	}

	var mv moved
	rows, err := tx.Query(ctx, `UPDATE patient_links SET patient_id = $1, updated_at = now() WHERE patient_id = $2 RETURNING id::text`, survivor, merged)
	if err != nil {
		return MergeEvent{}, fmt.Errorf("moving links: %w", err)
	}
	if mv.Links, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return MergeEvent{}, fmt.Errorf("moving links: %w", err)
	}
	// A verified ABHA the survivor already holds stays behind: the merged
	// master is inactive, so it is invisible until an unmerge.
	rows, err = tx.Query(ctx, `
		UPDATE patient_identifiers i SET patient_id = $1 WHERE i.patient_id = $2
		  AND (i.link_id IS NOT NULL OR NOT EXISTS (
		      SELECT 1 FROM patient_identifiers s WHERE s.patient_id = $1 AND s.link_id IS NULL AND s.kind = i.kind AND s.value = i.value))
		RETURNING i.id`, survivor, merged)
	if err != nil {
		return MergeEvent{}, fmt.Errorf("moving identifiers: %w", err)
	}
	if mv.Identifiers, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return MergeEvent{}, fmt.Errorf("moving identifiers: %w", err)
	}
	if err := retargetMatches(ctx, tx, survivor, merged, actor, reason, &mv); err != nil {
		return MergeEvent{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE patients SET merged_into = $1, updated_at = now() WHERE id = $2`, survivor, merged); err != nil {
		return MergeEvent{}, fmt.Errorf("marking the merged patient: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE patients SET updated_at = now() WHERE id = $1`, survivor); err != nil {
		return MergeEvent{}, fmt.Errorf("touching the surviving patient: %w", err)
	}
	ev := MergeEvent{Kind: "merge", SurvivorID: survivor, MergedID: merged, Actor: actor, Reason: reason, MatchID: matchID, Links: mv.Links}
	var mid *int64
	if matchID != 0 {
		mid = &matchID
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO patient_merges (tenant_id, kind, survivor_id, merged_id, actor, reason, match_id, moved)
		VALUES ($1, 'merge', $2, $3, $4, $5, $6, $7) RETURNING id, occurred_at`,
		tenant, survivor, merged, actor, reason, mid, mv).Scan(&ev.ID, &ev.At); err != nil {
		return MergeEvent{}, fmt.Errorf("recording the merge: %w", err)
	}
	return ev, nil
}

// retargetMatches settles the open review items of a merge: those between
// the two close, those with a third patient move to the survivor (or are
// superseded by the survivor's own open item with that patient).
func retargetMatches(ctx context.Context, tx pgx.Tx, survivor, merged, actor, reason string, mv *moved) error {
	rows, err := tx.Query(ctx, `
		SELECT id, patient_id::text, candidate_id::text FROM patient_matches
		WHERE status = 'open' AND (patient_id = $1 OR candidate_id = $1) ORDER BY id FOR UPDATE`, merged)
	if err != nil {
		return fmt.Errorf("reading open review items: %w", err)
	}
	type item struct {
		id       int64
		pid, cid string
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (item, error) {
		var it item
		err := r.Scan(&it.id, &it.pid, &it.cid)
		return it, err
	})
	if err != nil {
		return fmt.Errorf("reading open review items: %w", err)
	}
	for _, it := range items {
		other, column := it.cid, "patient_id"
		if it.cid == merged {
			other, column = it.pid, "candidate_id"
		}
		if other == survivor {
			if _, err := tx.Exec(ctx, `UPDATE patient_matches SET status = 'merged', decided_by = $2, decided_at = now(), decision_reason = $3 WHERE id = $1`, it.id, actor, reason); err != nil {
				return fmt.Errorf("closing review item %d: %w", it.id, err)
			}
			mv.Closed = append(mv.Closed, it.id)
			continue
		}
		var clash bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM patient_matches WHERE status = 'open'
			  AND ((patient_id = $1 AND candidate_id = $2) OR (patient_id = $2 AND candidate_id = $1)))`,
			survivor, other).Scan(&clash); err != nil {
			return fmt.Errorf("checking review item %d: %w", it.id, err)
		}
		if clash {
			if _, err := tx.Exec(ctx, `UPDATE patient_matches SET status = 'superseded' WHERE id = $1`, it.id); err != nil {
				return fmt.Errorf("superseding review item %d: %w", it.id, err)
			}
			mv.Superseded = append(mv.Superseded, it.id)
			continue
		}
		// column is one of two constants, never input.
		if _, err := tx.Exec(ctx, `UPDATE patient_matches SET `+column+` = $2 WHERE id = $1`, it.id, survivor); err != nil {
			return fmt.Errorf("moving review item %d: %w", it.id, err)
		}
		mv.Repointed = append(mv.Repointed, repointed{ID: it.id, Column: column})
	}
	return nil
}

// Unmerge undoes the merge that merged mergedID away: exactly the records,
// identifiers and review items that merge moved go back, the patient is
// active again, and the review items that merge closed are marked
// distinct, since undoing a merge says the two are different people.
// Records that joined the survivor after the merge stay with it. When the
// survivor has itself been merged since, that merge must be undone first.
func (ix *Index) Unmerge(ctx context.Context, tenant, mergedID, actor, reason string) (MergeEvent, error) {
	if err := checkIDs(mergedID); err != nil {
		return MergeEvent{}, fmt.Errorf("unmerging: %w", err)
	}
	var ev MergeEvent
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		ev, err = unmerge(ctx, tx, tenant, mergedID, actor, reason)
		return err
	})
	if err != nil {
		return MergeEvent{}, fmt.Errorf("unmerging patient %s: %w", mergedID, err)
	}
	return ev, nil
}

func unmerge(ctx context.Context, tx pgx.Tx, tenant, mergedID, actor, reason string) (MergeEvent, error) {
	if err := checkActor(actor, reason); err != nil {
		return MergeEvent{}, err
	}
	var mergeID int64
	var survivor string
	var mv moved
	err := tx.QueryRow(ctx, `
		SELECT m.id, m.survivor_id::text, m.moved FROM patient_merges m
		WHERE m.merged_id = $1 AND m.kind = 'merge'
		  AND NOT EXISTS (SELECT 1 FROM patient_merges u WHERE u.reverses = m.id)
		ORDER BY m.id DESC LIMIT 1`, mergedID).Scan(&mergeID, &survivor, &mv)
	if errors.Is(err, pgx.ErrNoRows) {
		return MergeEvent{}, fmt.Errorf("%w: patient %s is not merged", ErrConflict, mergedID)
	}
	if err != nil {
		return MergeEvent{}, fmt.Errorf("reading the merge: %w", err)
	}
	into, err := lockPair(ctx, tx, survivor, mergedID)
	if err != nil {
		return MergeEvent{}, err
	}
	if into[mergedID] != survivor {
		return MergeEvent{}, fmt.Errorf("%w: patient %s is merged into %q, not %s", ErrConflict, mergedID, into[mergedID], survivor)
	}
	if into[survivor] != "" {
		return MergeEvent{}, fmt.Errorf("%w: patient %s has since been merged into %s; unmerge that first", ErrConflict, survivor, into[survivor])
	}

	tag, err := tx.Exec(ctx, `UPDATE patient_links SET patient_id = $1, updated_at = now() WHERE id = ANY($2::uuid[]) AND patient_id = $3`, mergedID, nonNilStrings(mv.Links), survivor)
	if err != nil {
		return MergeEvent{}, fmt.Errorf("moving links back: %w", err)
	}
	if int(tag.RowsAffected()) != len(mv.Links) {
		return MergeEvent{}, fmt.Errorf("%w: %d of the %d records moved by the merge are no longer with patient %s", ErrConflict, len(mv.Links)-int(tag.RowsAffected()), len(mv.Links), survivor)
	}
	if _, err := tx.Exec(ctx, `UPDATE patient_identifiers SET patient_id = $1 WHERE id = ANY($2::bigint[])`, mergedID, nonNilInts(mv.Identifiers)); err != nil {
		return MergeEvent{}, fmt.Errorf("moving identifiers back: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE patient_matches SET status = 'distinct', decided_by = $2, decided_at = now(), decision_reason = $3
		WHERE id = ANY($1::bigint[])`, nonNilInts(mv.Closed), actor, "unmerged: "+reason); err != nil {
		return MergeEvent{}, fmt.Errorf("reopening review items: %w", err)
	}
	for _, r := range mv.Repointed {
		if r.Column != "patient_id" && r.Column != "candidate_id" {
			return MergeEvent{}, fmt.Errorf("merge %d records an unknown column %q", mergeID, r.Column)
		}
		if _, err := tx.Exec(ctx, `UPDATE patient_matches SET `+r.Column+` = $2 WHERE id = $1 AND status = 'open'`, r.ID, mergedID); err != nil {
			return MergeEvent{}, fmt.Errorf("moving review item %d back: %w", r.ID, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE patient_matches SET status = 'open' WHERE id = ANY($1::bigint[]) AND status = 'superseded'`, nonNilInts(mv.Superseded)); err != nil {
		return MergeEvent{}, fmt.Errorf("reopening superseded review items: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE patients SET merged_into = NULL, updated_at = now() WHERE id = $1`, mergedID); err != nil {
		return MergeEvent{}, fmt.Errorf("reactivating the patient: %w", err)
	}
	ev := MergeEvent{Kind: "unmerge", SurvivorID: survivor, MergedID: mergedID, Actor: actor, Reason: reason, Reverses: mergeID, Links: mv.Links}
	if err := tx.QueryRow(ctx, `
		INSERT INTO patient_merges (tenant_id, kind, survivor_id, merged_id, actor, reason, reverses, moved)
		VALUES ($1, 'unmerge', $2, $3, $4, $5, $6, $7) RETURNING id, occurred_at`,
		tenant, survivor, mergedID, actor, reason, mergeID, mv).Scan(&ev.ID, &ev.At); err != nil {
		return MergeEvent{}, fmt.Errorf("recording the unmerge: %w", err)
	}
	return ev, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInts(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

// History returns the merges and unmerges a patient took part in, newest
// first.
func (ix *Index) History(ctx context.Context, tenant, patientID string) ([]MergeEvent, error) {
	if err := checkIDs(patientID); err != nil {
		return nil, err
	}
	var out []MergeEvent
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		out, err = readMerges(ctx, tx, `WHERE m.survivor_id = $1 OR m.merged_id = $1 ORDER BY m.id DESC`, patientID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the merge history of %s: %w", patientID, err)
	}
	return out, nil
}

// Merges returns the tenant's most recent merges that have not been
// undone, newest first, for the review page's "undo" list.
func (ix *Index) Merges(ctx context.Context, tenant string, limit int) ([]MergeEvent, error) {
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	var out []MergeEvent
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		out, err = readMerges(ctx, tx, `
			WHERE m.kind = 'merge' AND NOT EXISTS (SELECT 1 FROM patient_merges u WHERE u.reverses = m.id)
			ORDER BY m.id DESC LIMIT $1`, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing merges: %w", err)
	}
	return out, nil
}

func readMerges(ctx context.Context, tx pgx.Tx, clause string, args ...any) ([]MergeEvent, error) {
	rows, err := tx.Query(ctx, `
		SELECT m.id, m.kind, m.survivor_id::text, m.merged_id::text, m.actor, m.reason, m.occurred_at,
			coalesce(m.match_id, 0), coalesce(m.reverses, 0),
			coalesce((SELECT u.id FROM patient_merges u WHERE u.reverses = m.id), 0),
			m.moved,
			coalesce((SELECT l.name FROM patient_links l WHERE l.id::text = m.moved->'links'->>0), '')
		FROM patient_merges m `+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("reading merges: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MergeEvent, error) {
		var ev MergeEvent
		var mv moved
		err := r.Scan(&ev.ID, &ev.Kind, &ev.SurvivorID, &ev.MergedID, &ev.Actor, &ev.Reason, &ev.At,
			&ev.MatchID, &ev.Reverses, &ev.UndoneBy, &mv, &ev.MergedName)
		ev.Links = slices.Clone(mv.Links)
		return ev, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading merges: %w", err)
	}
	return evs, nil
}
