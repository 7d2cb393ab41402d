package claims_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/keys"
)

// newBillingService returns a claims Service for set-up work only (payers,
// empanelments, coverage): its switch and registry point at a closed
// port, since nothing here talks to NHCX.
func newBillingService(t testing.TB, db *databasetest.DB) *claims.Service {
	t.Helper()
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	ring, err := keys.NewMasterKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := claims.New(claims.Config{
		Pool: db.App, Keys: keys.NewPostgresStore(db.App, ring), Tokens: &gatewayTokens{url: "http://127.0.0.1:1"},
		SwitchURL: "http://127.0.0.1:1/hcx", RegistryURL: "http://127.0.0.1:1/registry", Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// billingTenant is a tenant with one facility and two master patients.
type billingTenant struct {
	id                 string
	facility           string
	patient, secondary string
}

func newBillingTenant(t testing.TB, db *databasetest.DB, name string) billingTenant {
	t.Helper()
	ctx := context.Background()
	bt := billingTenant{id: db.Tenant(t, name)}
	err := database.InTenant(ctx, db.App, bt.id, func(tx pgx.Tx) error {
		hip := "BILL-" + randomHex(4)
		if err := tx.QueryRow(ctx, `INSERT INTO facilities (tenant_id, hfr_id, hip_id, name) VALUES ($1, $2, $2, 'Billing test')
			RETURNING id::text`, bt.id, hip).Scan(&bt.facility); err != nil {
			return err
		}
		for _, p := range []*string{&bt.patient, &bt.secondary} {
			if err := tx.QueryRow(ctx, `INSERT INTO patients (tenant_id) VALUES ($1) RETURNING id::text`, bt.id).Scan(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return bt
}

func fieldOf(err error) string {
	var fe *claims.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestBillingSetupRefusesBadInput(t *testing.T) {
	db := databasetest.New(t)
	svc := newBillingService(t, db)
	bt := newBillingTenant(t, db, "Billing validation")
	ctx := context.Background()
	if err := svc.SetParticipant(ctx, claims.Participant{Tenant: bt.id, Code: "10ours" + randomHex(3) + "@sbx"}); err != nil {
		t.Fatal(err)
	}
	parts, err := svc.Participants(ctx, bt.id)
	if err != nil || len(parts) != 1 {
		t.Fatalf("participants: %v %v", parts, err)
	}
	ours := parts[0].Code
	pmjay, err := svc.SetPayer(ctx, bt.id, claims.Payer{Code: "1000003538@HCX ", Name: "PM-JAY", SchemeKind: claims.SchemePMJAY, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if pmjay.Code != "1000003538@hcx" {
		t.Errorf("payer code stored as %q, want it trimmed and lower-cased", pmjay.Code)
	}
	if _, err := svc.SetPayer(ctx, bt.id, claims.Payer{Code: "1000009999@hcx", Name: "Closed", SchemeKind: claims.SchemeTPA}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"payer without code", func() error {
			_, err := svc.SetPayer(ctx, bt.id, claims.Payer{Name: "X", SchemeKind: claims.SchemeTPA})
			return err
		}, "Code"},
		{"payer code with spaces", func() error {
			_, err := svc.SetPayer(ctx, bt.id, claims.Payer{Code: "1000 3538@hcx", Name: "X", SchemeKind: claims.SchemeTPA})
			return err
		}, "Code"},
		{"payer without name", func() error {
			_, err := svc.SetPayer(ctx, bt.id, claims.Payer{Code: "1000003540@hcx", SchemeKind: claims.SchemeTPA})
			return err
		}, "Name"},
		{"payer of unknown kind", func() error {
			_, err := svc.SetPayer(ctx, bt.id, claims.Payer{Code: "1000003540@hcx", Name: "X", SchemeKind: "charity"})
			return err
		}, "SchemeKind"},
		{"our own code as a payer", func() error {
			_, err := svc.SetPayer(ctx, bt.id, claims.Payer{Code: ours, Name: "Us", SchemeKind: claims.SchemeTPA})
			return err
		}, "Code"},
		{"empanelment of no facility", func() error {
			_, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: "main", PayerCode: pmjay.Code})
			return err
		}, "FacilityID"},
		{"empanelment of an unknown facility", func() error {
			_, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: bt.patient, PayerCode: pmjay.Code})
			return err
		}, "FacilityID"},
		{"empanelment with an unknown payer", func() error {
			_, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: bt.facility, PayerCode: "1000000001@hcx"})
			return err
		}, "PayerCode"},
		{"empanelment ending before it starts", func() error {
			_, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: bt.facility, PayerCode: pmjay.Code,
				ValidFrom: day(2025, 4, 1), ValidTo: day(2024, 3, 31)})
			return err
		}, "ValidTo"},
		{"coverage without policy or member id", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, UpdatedBy: "t"})
			return err
		}, "PolicyNumber"},
		{"PM-JAY coverage without the PM-JAY id", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, PolicyNumber: "P1", UpdatedBy: "t"})
			return err
		}, "MemberID"},
		{"coverage for no patient", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: "MRN-1", PayerCode: pmjay.Code, MemberID: "PABC12345", UpdatedBy: "t"})
			return err
		}, "PatientID"},
		{"coverage for an unknown patient", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.facility, PayerCode: pmjay.Code, MemberID: "PABC12345", UpdatedBy: "t"})
			return err
		}, "PatientID"},
		{"coverage with an unknown relationship", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, MemberID: "PABC12345",
				Relationship: "cousin", UpdatedBy: "t"})
			return err
		}, "Relationship"},
		{"coverage by nobody", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, MemberID: "PABC12345"})
			return err
		}, "UpdatedBy"},
		{"coverage with an inactive payer", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: "1000009999@hcx", PolicyNumber: "T-1", UpdatedBy: "t"})
			return err
		}, "PayerCode"},
		{"coverage ending before it starts", func() error {
			_, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, MemberID: "PABC12345",
				ValidFrom: day(2025, 1, 2), ValidTo: day(2025, 1, 1), UpdatedBy: "t"})
			return err
		}, "ValidTo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, claims.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if got := fieldOf(err); got != tc.field {
				t.Errorf("field %q, want %q (%v)", got, tc.field, err)
			}
		})
	}
	if cs, err := svc.Coverages(ctx, bt.id, bt.patient); err != nil || len(cs) != 0 {
		t.Errorf("after refusals the patient has coverage %v (%v)", cs, err)
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestBillingSetupRoundTrip(t *testing.T) {
	db := databasetest.New(t)
	svc := newBillingService(t, db)
	bt := newBillingTenant(t, db, "Billing round trip")
	ctx := context.Background()

	mustPayer := func(p claims.Payer) claims.Payer {
		t.Helper()
		out, err := svc.SetPayer(ctx, bt.id, p)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	pmjay := mustPayer(claims.Payer{Code: "1000003538@hcx", Name: "PM-JAY", SchemeKind: claims.SchemePMJAY, Active: true})
	insurer := mustPayer(claims.Payer{Code: "1000003539@hcx", Name: "Acme Insurance", SchemeKind: claims.SchemePrivateInsurer, Active: true})
	// Setting again changes it in place.
	insurer = mustPayer(claims.Payer{Code: insurer.Code, Name: "Acme General Insurance", SchemeKind: claims.SchemePrivateInsurer, Active: true})
	payers, err := svc.Payers(ctx, bt.id)
	if err != nil {
		t.Fatal(err)
	}
	ignoreTimes := cmpopts.IgnoreFields(claims.Payer{}, "CreatedAt", "UpdatedAt")
	want := []claims.Payer{
		{Code: "1000003539@hcx", Name: "Acme General Insurance", SchemeKind: claims.SchemePrivateInsurer, Active: true},
		{Code: "1000003538@hcx", Name: "PM-JAY", SchemeKind: claims.SchemePMJAY, Active: true},
	}
	if diff := cmp.Diff(want, payers, ignoreTimes); diff != "" {
		t.Errorf("payers (-want +got):\n%s", diff)
	}

	e, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: bt.facility, PayerCode: pmjay.Code,
		SchemeName: "AB PM-JAY", SchemeCode: "PMJAY-KA", ValidFrom: day(2019, 4, 1)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: bt.facility, PayerCode: pmjay.Code,
		SchemeName: "AB PM-JAY (AB-ArK)", SchemeCode: "PMJAY-KA", ValidFrom: day(2019, 4, 1), ValidTo: day(2030, 3, 31)})
	if err != nil || again.ID != e.ID {
		t.Fatalf("setting the same empanelment again: id %s (first %s), %v", again.ID, e.ID, err)
	}
	if _, err := svc.SetEmpanelment(ctx, bt.id, claims.Empanelment{FacilityID: bt.facility, PayerCode: insurer.Code}); err != nil {
		t.Fatal(err)
	}
	es, err := svc.Empanelments(ctx, bt.id, bt.facility)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[1].SchemeName != "AB PM-JAY (AB-ArK)" || es[1].PayerName != "PM-JAY" || !es[1].ValidTo.Equal(day(2030, 3, 31)) ||
		es[1].FacilityName != "Billing test" || es[1].SchemeKind != claims.SchemePMJAY {
		t.Errorf("empanelments: %+v", es)
	}
	if !es[1].InForce(day(2025, 6, 1)) || es[1].InForce(day(2019, 3, 31)) || es[1].InForce(day(2030, 4, 1)) {
		t.Errorf("empanelment %s–%s in force on the wrong days", es[1].ValidFrom, es[1].ValidTo)
	}

	c, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, PlanName: "AB PM-JAY",
		MemberID: " PABC12345 ", ValidFrom: day(2024, 4, 1), UpdatedBy: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MemberID != "PABC12345" || c.Relationship != claims.RelationshipSelf || c.SchemeKind != claims.SchemePMJAY || c.PayerName != "PM-JAY" {
		t.Errorf("coverage as stored: %+v", c)
	}
	if _, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.patient, PayerCode: pmjay.Code, MemberID: "PABC12345",
		UpdatedBy: "billing"}); fieldOf(err) != "PolicyNumber" {
		t.Errorf("the same coverage twice: %v, want a PolicyNumber field error", err)
	}
	// The secondary patient has its own coverage and is then merged into
	// the first: the survivor lists both, and so does the merged id.
	other, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.secondary, PayerCode: insurer.Code,
		PolicyNumber: "ACME/2024/77", MemberID: "ACME-9", Relationship: claims.RelationshipSpouse, UpdatedBy: "frontdesk"})
	if err != nil {
		t.Fatal(err)
	}
	err = database.InTenant(ctx, db.App, bt.id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE patients SET merged_into = $1 WHERE id = $2`, bt.patient, bt.secondary)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{bt.patient, bt.secondary} {
		cs, err := svc.Coverages(ctx, bt.id, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].ID != other.ID || cs[1].ID != c.ID {
			t.Errorf("coverages of %s: %+v, want the insurer's then PM-JAY's", id, cs)
		}
	}
	// An edit through the merged id changes the row in place; entering
	// new coverage there lands on the survivor.
	edited, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{ID: other.ID, PatientID: bt.secondary, PayerCode: insurer.Code,
		PolicyNumber: "ACME/2025/77", MemberID: "ACME-9", Relationship: claims.RelationshipSpouse,
		ValidTo: day(2026, 3, 31), UpdatedBy: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != other.ID || edited.PolicyNumber != "ACME/2025/77" || edited.UpdatedBy != "billing" || !edited.ValidTo.Equal(day(2026, 3, 31)) {
		t.Errorf("edited coverage: %+v", edited)
	}
	if edited.InForce(day(2026, 4, 1)) || !edited.InForce(day(2026, 3, 31)) {
		t.Errorf("coverage to %s in force on the wrong days", edited.ValidTo)
	}
	fresh, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{PatientID: bt.secondary, PayerCode: insurer.Code,
		PolicyNumber: "ACME/2025/78", UpdatedBy: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.PatientID != bt.patient {
		t.Errorf("coverage for a merged patient stored on %s, want the survivor %s", fresh.PatientID, bt.patient)
	}
	if _, err := svc.SetCoverage(ctx, bt.id, claims.Coverage{ID: "00000000-0000-4000-8000-000000000001", PatientID: bt.patient,
		PayerCode: insurer.Code, PolicyNumber: "X", UpdatedBy: "billing"}); !errors.Is(err, claims.ErrNotFound) {
		t.Errorf("editing an unknown coverage: %v, want ErrNotFound", err)
	}
}

// TestBillingSetupIsTenantScoped shows another tenant sees none of a
// tenant's payers, empanelments or coverage and cannot reach its
// facilities or patients, while listing the same payer code as its own.
func TestBillingSetupIsTenantScoped(t *testing.T) {
	db := databasetest.New(t)
	svc := newBillingService(t, db)
	a := newBillingTenant(t, db, "Billing Alpha")
	b := newBillingTenant(t, db, "Billing Beta")
	ctx := context.Background()
	payer := claims.Payer{Code: "1000003538@hcx", Name: "PM-JAY", SchemeKind: claims.SchemePMJAY, Active: true}
	if _, err := svc.SetPayer(ctx, a.id, payer); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetEmpanelment(ctx, a.id, claims.Empanelment{FacilityID: a.facility, PayerCode: payer.Code}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetCoverage(ctx, a.id, claims.Coverage{PatientID: a.patient, PayerCode: payer.Code, MemberID: "PAAA11111", UpdatedBy: "t"}); err != nil {
		t.Fatal(err)
	}

	if ps, err := svc.Payers(ctx, b.id); err != nil || len(ps) != 0 {
		t.Errorf("tenant B sees payers %v (%v)", ps, err)
	}
	if es, err := svc.Empanelments(ctx, b.id, ""); err != nil || len(es) != 0 {
		t.Errorf("tenant B sees empanelments %v (%v)", es, err)
	}
	if cs, err := svc.Coverages(ctx, b.id, a.patient); !errors.Is(err, claims.ErrNotFound) || len(cs) != 0 {
		t.Errorf("tenant B lists A's patient's coverage: %v (%v), want ErrNotFound", cs, err)
	}
	// B has no such payer yet, and cannot use A's facility or patient
	// once it has.
	if _, err := svc.SetCoverage(ctx, b.id, claims.Coverage{PatientID: b.patient, PayerCode: payer.Code, MemberID: "PBBB22222", UpdatedBy: "t"}); fieldOf(err) != "PayerCode" {
		t.Errorf("B uses A's payer: %v", err)
	}
	if _, err := svc.SetPayer(ctx, b.id, payer); err != nil {
		t.Fatalf("B lists the same payer code: %v", err)
	}
	if _, err := svc.SetEmpanelment(ctx, b.id, claims.Empanelment{FacilityID: a.facility, PayerCode: payer.Code}); fieldOf(err) != "FacilityID" {
		t.Errorf("B empanels A's facility: %v", err)
	}
	if _, err := svc.SetCoverage(ctx, b.id, claims.Coverage{PatientID: a.patient, PayerCode: payer.Code, MemberID: "PBBB22222", UpdatedBy: "t"}); fieldOf(err) != "PatientID" {
		t.Errorf("B covers A's patient: %v", err)
	}
	cs, err := svc.Coverages(ctx, a.id, a.patient)
	if err != nil || len(cs) != 1 || cs[0].MemberID != "PAAA11111" {
		t.Errorf("A's coverage after B's attempts: %v (%v)", cs, err)
	}
	if _, err := svc.Payers(ctx, ""); !errors.Is(err, claims.ErrInvalid) {
		t.Errorf("no tenant: %v", err)
	}
}
