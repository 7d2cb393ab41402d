package patients

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Query describes a person to find: what ABDM sends in a discovery
// request (ABHA address, name, gender, year of birth, verified mobile and
// ABHA number, unverified medical record numbers) or what a front desk
// types. Empty fields are unknown.
type Query struct {
	// ABHANumber and ABHAAddress are taken as verified: in discovery ABDM
	// has authenticated the patient who holds them.
	ABHANumber  string
	ABHAAddress string

	Name      string
	Gender    string // M, F, O; anything else is unknown
	BirthYear int
	BirthDate time.Time // optional; front-desk searches may know it
	Mobile    string

	// FacilityID scopes LocalIDs (ABDM's "MR" identifiers): record
	// numbers of that facility's source systems.
	FacilityID string
	LocalIDs   []string
}

func (q Query) person() person {
	return personOf(SourceRecord{
		Name: q.Name, Gender: q.Gender, BirthDate: q.BirthDate, BirthYear: q.BirthYear,
		Mobile: q.Mobile, ABHANumber: q.ABHANumber, ABHAAddress: q.ABHAAddress,
	})
}

// MatchStatus is the answer of Find.
type MatchStatus string

const (
	// MatchExact: exactly one master patient is this person.
	MatchExact MatchStatus = "exact"
	// MatchNone: no master patient is confidently this person.
	MatchNone MatchStatus = "none"
	// MatchAmbiguous: more than one master patient could be this person;
	// none of their records may be shown.
	MatchAmbiguous MatchStatus = "ambiguous"
)

// ABDM identifier types, as on-discover's matchedBy lists them.
const (
	MatchedByABHANumber  = "ABHA_NUMBER"
	MatchedByABHAAddress = "ABHA_ADDRESS"
	MatchedByMobile      = "MOBILE"
	MatchedByMR          = "MR"
)

// Match is the answer of Find.
type Match struct {
	Status MatchStatus
	// Patient is set only when Status is MatchExact.
	Patient Patient
	// MatchedBy lists the identifiers that agreed (ABDM's matchedBy).
	MatchedBy []string
	Score     float64
	// Candidates counts the masters that were close enough to consider;
	// for MatchAmbiguous, those that could not be told apart.
	Candidates int
}

// wLocalID is what a medical record number of the facility, given by the
// patient and found among that facility's records, adds to a score.
const wLocalID = 6.0

// Find answers "who is this patient?" conservatively, for discovery:
// verified identifiers first, then demographics, and a match only when
// exactly one master patient is confidently the person. An ABHA number or
// address verified through ABDM and held by one master decides. Otherwise
// every master sharing an identifier or blocking key is scored as Ingest
// would score a record, and must clear the auto-link threshold with
// nothing vetoing it and an identifier agreeing (the mobile, an ABHA typed
// into a source, a record number of the facility). One such master is
// MatchExact; several are MatchAmbiguous; none is MatchNone. A name with a
// year of birth alone never matches.
func (ix *Index) Find(ctx context.Context, tenant string, q Query) (Match, error) {
	p := q.person()
	var m Match
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		m, err = ix.find(ctx, tx, tenant, q, p)
		return err
	})
	if err != nil {
		return Match{}, fmt.Errorf("finding a patient: %w", err)
	}
	return m, nil
}

func (ix *Index) find(ctx context.Context, tx pgx.Tx, tenant string, q Query, p person) (Match, error) {
	// Identifiers verified through ABDM on both sides decide alone.
	verifiedOwners := map[string][]string{}
	var unverifiedOwners []string
	for _, id := range []struct{ kind, value, by string }{
		{"abha_number", p.abhaNumber, MatchedByABHANumber},
		{"abha_address", p.abhaAddress, MatchedByABHAAddress},
	} {
		owners, verified, err := patientsByIdentifier(ctx, tx, tenant, id.kind, id.value)
		if err != nil {
			return Match{}, err
		}
		for _, o := range owners {
			if verified[o] {
				verifiedOwners[o] = append(verifiedOwners[o], id.by)
			} else {
				unverifiedOwners = append(unverifiedOwners, o)
			}
		}
	}
	switch len(verifiedOwners) {
	case 0:
	case 1:
		for id, by := range verifiedOwners {
			return exactMatch(ctx, tx, id, by, 0, 1)
		}
	default:
		return Match{Status: MatchAmbiguous, Candidates: len(verifiedOwners)}, nil
	}

	scores, err := ix.scoreQuery(ctx, tx, tenant, q, p, unverifiedOwners)
	if err != nil {
		return Match{}, err
	}
	var accepted []scored
	for _, s := range scores {
		// Besides clearing the auto-link bar, an identifier must agree:
		// a name and a year of birth are shared by too many people.
		if s.cmp.linkable(ix.autoLink) && len(matchedBy(s.cmp)) > 0 {
			accepted = append(accepted, s)
		}
	}
	switch len(accepted) {
	case 0:
		return Match{Status: MatchNone, Candidates: len(scores)}, nil
	case 1:
		return exactMatch(ctx, tx, accepted[0].patientID, matchedBy(accepted[0].cmp), accepted[0].cmp.score, len(scores))
	}
	return Match{Status: MatchAmbiguous, Candidates: len(accepted)}, nil
}

func exactMatch(ctx context.Context, tx pgx.Tx, id string, by []string, score float64, candidates int) (Match, error) {
	ps, err := readPatients(ctx, tx, `WHERE p.id = $1`, id)
	if err != nil {
		return Match{}, err
	}
	if len(ps) == 0 {
		return Match{}, fmt.Errorf("patient %s vanished: %w", id, ErrNotFound)
	}
	return Match{Status: MatchExact, Patient: ps[0], MatchedBy: by, Score: score, Candidates: candidates}, nil
}

// scoreQuery scores every master that shares an identifier or a blocking
// key with the query, best first, one entry per master.
func (ix *Index) scoreQuery(ctx context.Context, tx pgx.Tx, tenant string, q Query, p person, extraOwners []string) ([]scored, error) {
	cands, err := candidatesByKeys(ctx, tx, tenant, blockingKeys(p), ix.maxCandidates)
	if err != nil {
		return nil, err
	}
	byLocalID, err := localIDOwners(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	var more []string
	for _, o := range append(slices.Clone(extraOwners), byLocalID...) {
		if !slices.ContainsFunc(cands, func(c candidate) bool { return c.patientID == o }) {
			more = append(more, o)
		}
	}
	extra, err := linksOfPatients(ctx, tx, more)
	if err != nil {
		return nil, err
	}
	scores := bestPerPatient(p, append(cands, extra...))
	for i := range scores {
		if slices.Contains(byLocalID, scores[i].patientID) {
			s := &scores[i]
			s.cmp.score += wLocalID
			s.cmp.corroborated = true
			s.cmp.evidence = append(s.cmp.evidence, Evidence{Field: "local_id", Right: strings.Join(q.LocalIDs, ", "), Outcome: "same", Weight: wLocalID})
		}
	}
	slices.SortStableFunc(scores, func(a, b scored) int {
		switch {
		case a.cmp.score > b.cmp.score:
			return -1
		case a.cmp.score < b.cmp.score:
			return 1
		}
		return 0
	})
	return scores, nil
}

// localIDOwners returns the masters holding one of the query's record
// numbers in its facility.
func localIDOwners(ctx context.Context, tx pgx.Tx, q Query) ([]string, error) {
	if q.FacilityID == "" || len(q.LocalIDs) == 0 || checkIDs(q.FacilityID) != nil {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT patient_id::text FROM patient_links
		WHERE facility_id = $1 AND local_id = ANY($2)`, q.FacilityID, q.LocalIDs)
	if err != nil {
		return nil, fmt.Errorf("looking up record numbers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("looking up record numbers: %w", err)
	}
	return ids, nil
}

// matchedBy lists the ABDM identifier types that agreed in a comparison.
func matchedBy(c comparison) []string {
	var by []string
	for _, e := range c.evidence {
		if e.Outcome != "same" {
			continue
		}
		switch e.Field {
		case FieldABHANumber:
			by = append(by, MatchedByABHANumber)
		case FieldABHAAddress:
			by = append(by, MatchedByABHAAddress)
		case FieldMobile:
			by = append(by, MatchedByMobile)
		case "local_id":
			by = append(by, MatchedByMR)
		}
	}
	return by
}

// SearchResult is one patient a front-desk search found.
type SearchResult struct {
	Patient Patient
	Score   float64
	// MatchedBy lists the identifiers that agreed, as in Match.
	MatchedBy []string
	// NameMatch grades the name: same, spelling_variant, typo, initials,
	// partial, conflict, none or missing.
	NameMatch string
}

// Search finds the patients a front desk may mean, best first: those
// holding the ABHA number or address, the mobile number or a record
// number, and those whose names sound alike (with the same birth year, or
// sharing two name words). Unlike Find it returns every plausible person,
// for a person to choose from. A query needs an identifier, or a name with
// a birth year, or a name of two words.
func (ix *Index) Search(ctx context.Context, tenant string, q Query, limit int) ([]SearchResult, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	p := q.person()
	if p.abhaNumber == "" && p.abhaAddress == "" && p.mobile == "" && len(q.LocalIDs) == 0 && len(blockingKeys(p)) == 0 {
		return nil, fmt.Errorf("%w: give an ABHA number or address, a mobile number, or a name with the year of birth", ErrInvalid)
	}
	var out []SearchResult
	err := ix.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		var owners []string
		for _, id := range []struct{ kind, value string }{{"abha_number", p.abhaNumber}, {"abha_address", p.abhaAddress}} {
			o, _, err := patientsByIdentifier(ctx, tx, tenant, id.kind, id.value)
			if err != nil {
				return err
			}
			owners = append(owners, o...)
		}
		scores, err := ix.scoreQuery(ctx, tx, tenant, q, p, owners)
		if err != nil {
			return err
		}
		var ids []string
		byID := map[string]scored{}
		for _, s := range scores {
			if slices.Contains(owners, s.patientID) || s.cmp.name >= namePartial || len(matchedBy(s.cmp)) > 0 {
				ids = append(ids, s.patientID)
				byID[s.patientID] = s
			}
			if len(ids) == limit {
				break
			}
		}
		ps, err := readPatients(ctx, tx, `WHERE p.id = ANY($1::uuid[])`, ids)
		if err != nil {
			return err
		}
		for _, pt := range ps {
			s := byID[pt.ID]
			by := matchedBy(s.cmp)
			if slices.Contains(owners, pt.ID) {
				by = identifierMatches(pt, p, by)
			}
			out = append(out, SearchResult{Patient: pt, Score: s.cmp.score, MatchedBy: by, NameMatch: s.cmp.name.String()})
		}
		slices.SortStableFunc(out, func(a, b SearchResult) int {
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return strings.Compare(a.Patient.ID, b.Patient.ID)
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("searching patients: %w", err)
	}
	return out, nil
}

// identifierMatches adds the ABHA identifiers of pt that the query names.
func identifierMatches(pt Patient, p person, by []string) []string {
	for _, id := range pt.Identifiers {
		switch {
		case id.Kind == "abha_number" && id.Value == p.abhaNumber && !slices.Contains(by, MatchedByABHANumber):
			by = append(by, MatchedByABHANumber)
		case id.Kind == "abha_address" && id.Value == p.abhaAddress && !slices.Contains(by, MatchedByABHAAddress):
			by = append(by, MatchedByABHAAddress)
		}
	}
	return by
}

// ParseSearch reads a front desk's one search box: 14 digits are an ABHA
// number, text with @ an ABHA address, 10 digits (optionally +91) a
// mobile, a four-digit number a birth year, anything else the name.
func ParseSearch(text string) Query {
	var q Query
	var name []string
	for _, f := range strings.Fields(text) {
		d := digits(f)
		switch {
		case strings.Contains(f, "@"):
			q.ABHAAddress = f
		case normABHANumber(f) != "" && len(d) == len(strings.ReplaceAll(f, "-", "")):
			q.ABHANumber = f
		case normMobile(f) != "" && len(d) >= 10:
			q.Mobile = f
		case len(f) == 4 && len(d) == 4:
			q.BirthYear, _ = strconv.Atoi(d)
		default:
			name = append(name, f)
		}
	}
	q.Name = strings.Join(name, " ")
	return q
}
