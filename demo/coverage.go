package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// The demo payers' NHCX participant codes.
const (
	// PMJAYPayerCode is the NHCX sandbox's dummy payer (the sandbox
	// registers it by default as nhcx.DefaultPayerCode); the demo bills
	// PM-JAY through it.
	PMJAYPayerCode = "1000003538@hcx"
	// InsurerPayerCode is the demo's private insurer. The sandbox must
	// register it as a payer too for claims to it to be answered.
	InsurerPayerCode = "1000003539@hcx"
)

// Payer is an insurer or scheme the demo group bills, and the facilities
// empanelled with it.
type Payer struct {
	Code       string
	Name       string
	SchemeKind string // pmjay, state_scheme, private_insurer or tpa
	SchemeName string
	SchemeCode string
	// Facilities are the HFR ids of the facilities empanelled with it.
	Facilities []string
	// Since is when the facilities were empanelled.
	Since time.Time
}

// Payers returns the demo group's payers: PM-JAY (co-branded in Karnataka
// as AB-ArK) at every facility, and a private insurer at the two
// hospitals.
func Payers() []Payer {
	return []Payer{
		{
			Code: PMJAYPayerCode, Name: "Ayushman Bharat PM-JAY (NHA)", SchemeKind: "pmjay",
			SchemeName: "AB PM-JAY – Arogya Karnataka", SchemeCode: "PMJAY-KA",
			Facilities: []string{"IN2910000231", "IN2910000587", "IN2910000944"},
			Since:      time.Date(2019, time.April, 1, 0, 0, 0, 0, time.UTC),
		},
		{
			Code: InsurerPayerCode, Name: "Kaveri Suraksha General Insurance (demo)", SchemeKind: "private_insurer",
			SchemeName: "Suraksha Family Health", SchemeCode: "KSG-FH",
			Facilities: []string{"IN2910000231", "IN2910000587"},
			Since:      time.Date(2021, time.July, 1, 0, 0, 0, 0, time.UTC),
		},
	}
}

// PersonCoverage is the insurance a demo person has on file.
type PersonCoverage struct {
	PayerCode    string
	PlanName     string
	PolicyNumber string
	MemberID     string
	Relationship string // self, spouse, child, parent or other
	ValidFrom    time.Time
}

// Coverage returns the coverage the demo gives a person: none without an
// ABHA; otherwise PM-JAY for most, the private insurer for some, and both
// for a few. The same person always gets the same. The claims case's
// person (ClaimsPersonID) has both, with fixed numbers: her stays can be
// claimed from either payer.
func Coverage(p Person) []PersonCoverage {
	if p.ABHANumber == "" {
		return nil
	}
	if p.ID == ClaimsPersonID {
		return []PersonCoverage{
			{
				PayerCode: InsurerPayerCode, PlanName: "Suraksha Family Health", PolicyNumber: "KSG/FH/2024/100217",
				MemberID: "KSG00482611", Relationship: "spouse", ValidFrom: time.Date(2024, time.April, 1, 0, 0, 0, 0, time.UTC),
			},
			{
				PayerCode: PMJAYPayerCode, PlanName: "AB PM-JAY – Arogya Karnataka", PolicyNumber: "PMJAY-KA-2025",
				MemberID: "PKS7Q4M2X", Relationship: "self", ValidFrom: time.Date(2019, time.January, 1, 0, 0, 0, 0, time.UTC),
			},
		}
	}
	h := fnv.New64a()
	h.Write([]byte("coverage/" + p.ID))
	n := h.Sum64()
	relationship := "self"
	if demoAnchor.Year()-p.BirthDate.Year() < 18 {
		relationship = "child"
	}
	var out []PersonCoverage
	if n%10 < 7 {
		out = append(out, PersonCoverage{
			PayerCode: PMJAYPayerCode, PlanName: "AB PM-JAY – Arogya Karnataka",
			PolicyNumber: "PMJAY-KA-2025", MemberID: pmjayID(n), Relationship: relationship,
			ValidFrom: time.Date(2019, time.January, 1, 0, 0, 0, 0, time.UTC),
		})
	}
	if n%10 >= 5 {
		out = append(out, PersonCoverage{
			PayerCode: InsurerPayerCode, PlanName: "Suraksha Family Health",
			PolicyNumber: fmt.Sprintf("KSG/FH/2023/%06d", n/10%1_000_000),
			MemberID:     fmt.Sprintf("KSG%08d", n/10_000_000%100_000_000), Relationship: relationship,
			ValidFrom: time.Date(2023, time.April, 1, 0, 0, 0, 0, time.UTC),
		})
	}
	return out
}

// pmjayID makes a PM-JAY beneficiary id: nine letters and digits.
func pmjayID(n uint64) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	b.WriteByte('P')
	for range 8 {
		b.WriteByte(alphabet[n%uint64(len(alphabet))])
		n /= uint64(len(alphabet))
	}
	return b.String()
}

// CoverageResult counts what LoadCoverage added.
type CoverageResult struct {
	Payers       int
	Empanelments int
	Coverages    int
	// NotIndexed counts people with coverage whose master patient the
	// index does not hold (or holds more than one of); they got none.
	NotIndexed int
}

// LoadCoverage writes the demo payers, the facilities' empanelments and
// the coverage of People() who have an ABHA, through an owner pool.
// Coverage belongs to master patients, found by ABHA number, so call it
// after the demo's patients are indexed (sources.IndexAll). It only adds:
// a payer, an empanelment of a facility with a payer, or a patient's
// coverage with a payer that already exists is left as it is, so a second
// run keeps whatever staff changed.
func LoadCoverage(ctx context.Context, owner *pgxpool.Pool, g Group) (CoverageResult, error) {
	var res CoverageResult
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		var tenantID string
		if err := tx.QueryRow(ctx, "SELECT id::text FROM tenants WHERE slug = $1", g.Slug).Scan(&tenantID); err != nil {
			return fmt.Errorf("reading tenant %s (run Load first): %w", g.Slug, err)
		}
		if err := database.SetTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		for _, p := range Payers() {
			tag, err := tx.Exec(ctx, `
				INSERT INTO claims_payers (tenant_id, payer_code, name, scheme_kind) VALUES ($1, $2, $3, $4)
				ON CONFLICT (tenant_id, payer_code) DO NOTHING`, tenantID, p.Code, p.Name, p.SchemeKind)
			if err != nil {
				return fmt.Errorf("adding payer %s: %w", p.Code, err)
			}
			res.Payers += int(tag.RowsAffected())
			for _, hfr := range p.Facilities {
				tag, err := tx.Exec(ctx, `
					INSERT INTO claims_empanelments (tenant_id, facility_id, payer_code, scheme_name, scheme_code, valid_from)
					SELECT $1, f.id, $3, $4, $5, $6 FROM facilities f
					WHERE f.tenant_id = $1 AND f.hfr_id = $2
					  AND NOT EXISTS (SELECT 1 FROM claims_empanelments e WHERE e.facility_id = f.id AND e.payer_code = $3)`,
					tenantID, hfr, p.Code, p.SchemeName, p.SchemeCode, p.Since)
				if err != nil {
					return fmt.Errorf("empanelling %s with %s: %w", hfr, p.Code, err)
				}
				res.Empanelments += int(tag.RowsAffected())
			}
		}
		for _, person := range People() {
			covs := Coverage(person)
			if len(covs) == 0 {
				continue
			}
			rows, err := tx.Query(ctx, `
				SELECT DISTINCT p.id::text FROM patient_identifiers i JOIN patients p ON p.id = i.patient_id
				WHERE i.kind = 'abha_number' AND i.value = $1 AND p.merged_into IS NULL AND p.tenant_id = $2`,
				strings.ReplaceAll(person.ABHANumber, "-", ""), tenantID)
			if err != nil {
				return fmt.Errorf("finding %s in the patient index: %w", person.ID, err)
			}
			masters, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("finding %s in the patient index: %w", person.ID, err)
			}
			if len(masters) != 1 {
				res.NotIndexed++
				continue
			}
			for _, c := range covs {
				tag, err := tx.Exec(ctx, `
					INSERT INTO claims_coverages (tenant_id, patient_id, payer_code, plan_name, policy_number, member_id,
						relationship, valid_from, updated_by)
					SELECT $1, $2::uuid, $3, $4, $5, $6, $7, $8, 'demo'
					WHERE NOT EXISTS (SELECT 1 FROM claims_coverages WHERE patient_id = $2::uuid AND payer_code = $3)`,
					tenantID, masters[0], c.PayerCode, c.PlanName, c.PolicyNumber, c.MemberID, c.Relationship, c.ValidFrom)
				if err != nil {
					return fmt.Errorf("adding coverage of %s: %w", person.ID, err)
				}
				res.Coverages += int(tag.RowsAffected())
			}
		}
		return nil
	})
	if err != nil {
		return CoverageResult{}, fmt.Errorf("loading demo coverage: %w", err)
	}
	return res, nil
}
