package patients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Outcome says what Ingest did with a record.
type Outcome string

const (
	// OutcomeUnchanged: the record was ingested before exactly as it is.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeUpdated: a known record changed; its link stays on its master.
	OutcomeUpdated Outcome = "updated"
	// OutcomeLinkedABHA: joined the master holding the same ABHA number
	// or address.
	OutcomeLinkedABHA Outcome = "linked_abha"
	// OutcomeAutoLinked: joined the one master whose demographics scored
	// above the auto-link threshold.
	OutcomeAutoLinked Outcome = "auto_linked"
	// OutcomeReview: got its own master, and review items ask a person
	// whether it is the same as one or more existing masters.
	OutcomeReview Outcome = "review"
	// OutcomeNew: got its own master; nothing came close.
	OutcomeNew Outcome = "new"
)

// Decision is the result of ingesting one source record.
type Decision struct {
	Outcome   Outcome
	PatientID string
	LinkID    string
	// MatchedLinkID is the existing record the new one was linked to or
	// compared with most closely; empty when there was none.
	MatchedLinkID string
	// Score is the best candidate's score; 0 when there was none.
	Score float64
	// Reviews are the review items opened.
	Reviews []int64
}

// maxReviewsPerRecord bounds the review items one record opens.
const maxReviewsPerRecord = 3

// Ingest files a source record in the index: it upserts the record's link
// and, for a record seen for the first time, finds its master patient. An
// ABHA number or address already in the index decides deterministically;
// otherwise the record is scored against the links that share a blocking
// key with it. One master at or above the auto-link threshold gets the
// link; several, or one between the thresholds, make a new master and
// review items; below, a new master. Ingesting the same record again
// changes nothing, and a changed record keeps its master (moving records
// between masters is for people: Merge and Unmerge).
func (ix *Index) Ingest(ctx context.Context, tenant string, rec SourceRecord) (Decision, error) {
	rec.LocalID = strings.TrimSpace(rec.LocalID)
	if rec.SourceSystemID == "" || rec.LocalID == "" {
		return Decision{}, fmt.Errorf("ingesting a patient record: %w: source system and local id are required", ErrInvalid)
	}
	if checkIDs(rec.SourceSystemID) != nil || rec.FacilityID != "" && checkIDs(rec.FacilityID) != nil {
		return Decision{}, fmt.Errorf("ingesting a patient record: %w: source system and facility are ids (UUIDs)", ErrInvalid)
	}
	p := personOf(rec)
	keys := blockingKeys(p)
	var d Decision
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		d, err = ix.ingest(ctx, tx, tenant, rec, p, keys)
		return err
	})
	if err != nil {
		return Decision{}, fmt.Errorf("ingesting record %s of source %s: %w", rec.LocalID, rec.SourceSystemID, err)
	}
	return d, nil
}

func (ix *Index) ingest(ctx context.Context, tx pgx.Tx, tenant string, rec SourceRecord, p person, keys []string) (Decision, error) {
	var facility string
	err := tx.QueryRow(ctx, "SELECT facility_id::text FROM source_systems WHERE id = $1", rec.SourceSystemID).Scan(&facility)
	if errors.Is(err, pgx.ErrNoRows) {
		return Decision{}, fmt.Errorf("%w: no source system %s in this tenant", ErrInvalid, rec.SourceSystemID)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("reading the source system: %w", err)
	}
	if rec.FacilityID != "" && rec.FacilityID != facility {
		return Decision{}, fmt.Errorf("%w: source system %s belongs to facility %s, not %s", ErrInvalid, rec.SourceSystemID, facility, rec.FacilityID)
	}
	rec.FacilityID = facility

	lockOn := append([]string{"link:" + rec.SourceSystemID + ":" + rec.LocalID}, keys...)
	if p.abhaNumber != "" {
		lockOn = append(lockOn, "abha_number:"+p.abhaNumber)
	}
	if p.abhaAddress != "" {
		lockOn = append(lockOn, "abha_address:"+p.abhaAddress)
	}
	if err := lockKeys(ctx, tx, tenant, lockOn); err != nil {
		return Decision{}, err
	}

	hash := recordHash(rec)
	var linkID, patientID string
	var oldHash []byte
	err = tx.QueryRow(ctx, `
		SELECT id::text, patient_id::text, record_sha256 FROM patient_links
		WHERE source_system_id = $1 AND local_id = $2 FOR UPDATE`, rec.SourceSystemID, rec.LocalID).Scan(&linkID, &patientID, &oldHash)
	switch {
	case err == nil && bytes.Equal(oldHash, hash):
		return Decision{Outcome: OutcomeUnchanged, PatientID: patientID, LinkID: linkID}, nil
	case err == nil:
		return ix.update(ctx, tx, tenant, linkID, patientID, rec, p, keys, hash)
	case !errors.Is(err, pgx.ErrNoRows):
		return Decision{}, fmt.Errorf("reading the link: %w", err)
	}
	return ix.insert(ctx, tx, tenant, rec, p, keys, hash)
}

// insert files a record seen for the first time.
func (ix *Index) insert(ctx context.Context, tx pgx.Tx, tenant string, rec SourceRecord, p person, keys []string, hash []byte) (Decision, error) {
	plan, err := ix.plan(ctx, tx, tenant, p, keys)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Outcome: plan.outcome, Score: plan.best.cmp.score, MatchedLinkID: plan.best.linkID}
	if plan.target != "" {
		// The master may have been merged since its links were read.
		if d.PatientID, err = activePatient(ctx, tx, plan.target); err != nil {
			return Decision{}, err
		}
	} else if d.PatientID, err = insertPatient(ctx, tx, tenant); err != nil {
		return Decision{}, err
	}
	if d.LinkID, err = insertLink(ctx, tx, tenant, d.PatientID, rec, p, hash, plan.linkedBy); err != nil {
		return Decision{}, err
	}
	if err := writeKeys(ctx, tx, tenant, d.LinkID, keys, false); err != nil {
		return Decision{}, err
	}
	if err := writeLinkIdentifiers(ctx, tx, tenant, d.PatientID, d.LinkID, p, false); err != nil {
		return Decision{}, err
	}
	if plan.target != "" {
		if _, _, err := insertMatch(ctx, tx, tenant, match{
			linkID: d.LinkID, patientID: d.PatientID, candidateID: d.PatientID, candidateLinkID: plan.best.linkID,
			method: plan.linkedBy, cmp: plan.best.cmp, status: statusAutoLinked,
		}); err != nil {
			return Decision{}, err
		}
	}
	for _, r := range plan.reviews {
		id, ok, err := insertMatch(ctx, tx, tenant, match{
			linkID: d.LinkID, patientID: d.PatientID, candidateID: r.patientID, candidateLinkID: r.linkID,
			method: r.method, cmp: r.cmp, status: statusOpen,
		})
		if err != nil {
			return Decision{}, err
		}
		if ok {
			d.Reviews = append(d.Reviews, id)
		}
	}
	if d.Outcome == OutcomeReview && len(d.Reviews) == 0 {
		d.Outcome = OutcomeNew
	}
	return d, nil
}

// reviewCandidate is a master a new record should be reviewed against.
type reviewCandidate struct {
	scored
	method string
}

// matchPlan is what insert will do.
type matchPlan struct {
	outcome  Outcome
	target   string // master to link to; "" for a new master
	linkedBy string
	best     scored
	reviews  []reviewCandidate
}

// plan decides where a new record goes: ABHA first, then demographics.
func (ix *Index) plan(ctx context.Context, tx pgx.Tx, tenant string, p person, keys []string) (matchPlan, error) {
	for _, id := range []struct{ kind, value string }{{"abha_number", p.abhaNumber}, {"abha_address", p.abhaAddress}} {
		owners, _, err := patientsByIdentifier(ctx, tx, tenant, id.kind, id.value)
		if err != nil {
			return matchPlan{}, err
		}
		if len(owners) == 0 {
			continue
		}
		links, err := linksOfPatients(ctx, tx, owners)
		if err != nil {
			return matchPlan{}, err
		}
		best := bestPerPatient(p, links)
		// One owner whose records do not contradict the new one is a
		// deterministic match. An ABHA typed into the wrong record (a
		// different gender, or neither name nor birth agreeing) or held
		// by several masters goes to a person instead.
		if len(best) == 1 && !contradicts(best[0].cmp) {
			return matchPlan{outcome: OutcomeLinkedABHA, target: best[0].patientID, linkedBy: id.kind, best: best[0]}, nil
		}
		plan := matchPlan{outcome: OutcomeReview}
		if len(best) > 0 {
			plan.best = best[0]
		}
		for _, b := range best[:min(len(best), maxReviewsPerRecord)] {
			plan.reviews = append(plan.reviews, reviewCandidate{scored: b, method: id.kind})
		}
		return plan, nil
	}

	cands, err := candidatesByKeys(ctx, tx, tenant, keys, ix.maxCandidates)
	if err != nil {
		return matchPlan{}, err
	}
	best := bestPerPatient(p, cands)
	if len(best) == 0 {
		return matchPlan{outcome: OutcomeNew}, nil
	}
	uniqueNameInArea(p, best)
	var linkable []scored
	for _, b := range best {
		if b.cmp.linkable(ix.autoLink) {
			linkable = append(linkable, b)
		}
	}
	if len(linkable) > 0 && !namesake(linkable[0], best) &&
		(len(linkable) == 1 || linkable[0].cmp.better(linkable[1].cmp)) {
		// The best master gets the record. Others good enough to link
		// are most likely the same person filed twice earlier: a person
		// is asked to merge them.
		plan := matchPlan{outcome: OutcomeAutoLinked, target: linkable[0].patientID, linkedBy: "score", best: linkable[0]}
		for _, b := range linkable[1:min(len(linkable), 1+maxReviewsPerRecord)] {
			plan.reviews = append(plan.reviews, reviewCandidate{scored: b, method: "score"})
		}
		return plan, nil
	}
	plan := matchPlan{outcome: OutcomeNew, best: best[0]}
	// Masters that cannot be told apart, or pairs between the thresholds:
	// a person decides.
	for _, b := range best {
		if len(plan.reviews) == maxReviewsPerRecord || b.cmp.score < ix.review {
			break
		}
		plan.reviews = append(plan.reviews, reviewCandidate{scored: b, method: "score"})
		plan.outcome = OutcomeReview
	}
	return plan, nil
}

// contradicts reports whether demographics rule out the person an ABHA
// points at: a different gender, or neither the name nor the birth date
// agreeing. Names alone often disagree through typing errors.
func contradicts(c comparison) bool {
	for _, e := range c.evidence {
		if e.Field == FieldGender && e.Outcome == "differs" || e.Field == FieldABHANumber && e.Outcome == "differs" {
			return true
		}
	}
	nameOK := c.name >= namePartial || c.name == nameMissing
	birthOK := c.birth != "differs" && c.birth != "same_year_other_date"
	return !nameOK && !birthOK
}

// uniqueNameInArea lets a shared PIN code corroborate the best candidate
// when nothing else can (one record has no birth date, the other no
// mobile) but the name, of two words at least, is a close match and no
// other master in the index has a name like it: the candidates include
// every master sharing two name words (the nn: keys), so a namesake would
// be among them.
func uniqueNameInArea(p person, best []scored) {
	top := &best[0]
	if top.cmp.corroborated || !top.cmp.pinSame || top.cmp.name < namePhonetic || top.cmp.birth != "missing" {
		return
	}
	words := 0
	for _, t := range p.tokens {
		if !t.initial && !t.weak {
			words++
		}
	}
	if words < 2 {
		return
	}
	for _, o := range best[1:] {
		if o.cmp.name >= nameTypo {
			return
		}
	}
	top.cmp.corroborated = true
}

// namesake reports whether top agrees with the record only on name and
// birth year (no full date, no mobile) while another master has a like
// name and a birth date that fits too: the record could be either person,
// and a year is not enough to choose.
func namesake(top scored, all []scored) bool {
	if top.cmp.birth != "same_year" && top.cmp.birth != "missing" || top.cmp.mobile == "same" {
		return false
	}
	for _, o := range all {
		if o.patientID == top.patientID || o.cmp.name < nameTypo {
			continue
		}
		switch o.cmp.birth {
		case "differs", "same_year_other_date":
		default:
			return true
		}
	}
	return false
}

func insertLink(ctx context.Context, tx pgx.Tx, tenant, patientID string, rec SourceRecord, p person, hash []byte, linkedBy string) (string, error) {
	if linkedBy == "" {
		linkedBy = "new"
	}
	var id string
	err := tx.QueryRow(ctx, `
		INSERT INTO patient_links (tenant_id, patient_id, facility_id, source_system_id, local_id,
			name, gender, birth_date, birth_year, mobile, address, pin_code, abha_number, abha_address,
			name_canonical, record_sha256, linked_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		RETURNING id::text`,
		tenant, patientID, rec.FacilityID, rec.SourceSystemID, rec.LocalID,
		strings.TrimSpace(rec.Name), p.gender, nullableDate(p), nullableYear(p), p.mobile, strings.TrimSpace(rec.Address), p.pin,
		p.abhaNumber, p.abhaAddress, canonicalName(rec.Name), hash, linkedBy).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("writing the link: %w", err)
	}
	return id, nil
}

// update rewrites a known record that changed. Its link stays where it
// is; an ABHA number that now points at another master opens a review.
func (ix *Index) update(ctx context.Context, tx pgx.Tx, tenant, linkID, patientID string, rec SourceRecord, p person, keys []string, hash []byte) (Decision, error) {
	_, err := tx.Exec(ctx, `
		UPDATE patient_links SET name = $2, gender = $3, birth_date = $4, birth_year = $5, mobile = $6,
			address = $7, pin_code = $8, abha_number = $9, abha_address = $10, name_canonical = $11,
			record_sha256 = $12, updated_at = now()
		WHERE id = $1`,
		linkID, strings.TrimSpace(rec.Name), p.gender, nullableDate(p), nullableYear(p), p.mobile,
		strings.TrimSpace(rec.Address), p.pin, p.abhaNumber, p.abhaAddress, canonicalName(rec.Name), hash)
	if err != nil {
		return Decision{}, fmt.Errorf("updating the link: %w", err)
	}
	if err := writeKeys(ctx, tx, tenant, linkID, keys, true); err != nil {
		return Decision{}, err
	}
	if err := writeLinkIdentifiers(ctx, tx, tenant, patientID, linkID, p, true); err != nil {
		return Decision{}, err
	}
	d := Decision{Outcome: OutcomeUpdated, PatientID: patientID, LinkID: linkID}
	for _, id := range []struct{ kind, value string }{{"abha_number", p.abhaNumber}, {"abha_address", p.abhaAddress}} {
		owners, _, err := patientsByIdentifier(ctx, tx, tenant, id.kind, id.value)
		if err != nil {
			return Decision{}, err
		}
		var others []string
		for _, o := range owners {
			if o != patientID {
				others = append(others, o)
			}
		}
		links, err := linksOfPatients(ctx, tx, others)
		if err != nil {
			return Decision{}, err
		}
		for _, b := range bestPerPatient(p, links) {
			rid, ok, err := insertMatch(ctx, tx, tenant, match{
				linkID: linkID, patientID: patientID, candidateID: b.patientID, candidateLinkID: b.linkID,
				method: id.kind, cmp: b.cmp, status: statusOpen,
			})
			if err != nil {
				return Decision{}, err
			}
			if ok {
				d.Reviews = append(d.Reviews, rid)
			}
		}
	}
	return d, nil
}
