package server

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/database"
)

// flowBundle is the session store plus the ABHA journey store on it.
type flowBundle struct {
	*sessionBundle
	flows *abhaFlows
}

func setupFlows(t *testing.T) *flowBundle {
	t.Helper()
	return &flowBundle{sessionBundle: setupSessions(t), flows: newABHAFlows()}
}

// frontDesk signs a front-desk user in and returns the session as a request
// would see it, with its cookie value.
func (b *flowBundle) frontDesk(t *testing.T, tenantID string) (*staff, string) {
	t.Helper()
	value, _ := b.signIn(t, tenantID, []role{roleFrontDesk}, nil)
	st, err := b.srv.lookupSession(context.Background(), value)
	if err != nil {
		t.Fatal(err)
	}
	return st, value
}

// stored reads a journey's row as a database reader would: through the
// owner pool, which row-level security does not limit.
func (b *flowBundle) stored(t *testing.T, st *staff, kind string) []byte {
	t.Helper()
	var sealed []byte
	err := b.db.Owner.QueryRow(context.Background(),
		"SELECT sealed FROM abha_flows WHERE session_id_hash = $1 AND kind = $2", st.idHash, kind).Scan(&sealed)
	if err != nil {
		t.Fatalf("reading the %s row: %v", kind, err)
	}
	return sealed
}

func (b *flowBundle) rows(t *testing.T, st *staff) int {
	t.Helper()
	var n int
	if err := b.db.Owner.QueryRow(context.Background(),
		"SELECT count(*) FROM abha_flows WHERE session_id_hash = $1", st.idHash).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// journey is an enrolment at its last step, with everything secret in it
// recognisable.
func journey() enrolState {
	return enrolState{
		Step: enrolStepDone, TxnID: "txn-7f3c2a91-secret-transaction", MaskedMobile: "******0012",
		Mobile: "9000000012", OTPSentAt: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC),
		Token: abha.UserToken{Value: "x-token-eyJhbGciOiJSUzUxMiJ9.patient", RefreshValue: "refresh-0d9e8f7a6b5c",
			ExpiresAt: time.Date(2026, 1, 2, 10, 30, 0, 0, time.UTC), Address: "ravi.k@sbx"},
		Profile: abha.Profile{ABHANumber: "91-1234-5678-9012", Name: "Ravi Kumar"},
	}
}

func TestABHAFlowRoundTrip(t *testing.T) {
	b := setupFlows(t)
	ctx := context.Background()
	st, _ := b.frontDesk(t, b.tenantID)

	var got enrolState
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); !errors.Is(err, errNoFlow) {
		t.Fatalf("load before any save: %v, want errNoFlow", err)
	}
	want := journey()
	if err := b.flows.save(ctx, b.db.App, st, enrolFlow, &want); err != nil {
		t.Fatal(err)
	}
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); err != nil {
		t.Fatal(err)
	}
	if got.TxnID != want.TxnID || got.Token.Value != want.Token.Value || got.Token.RefreshValue != want.Token.RefreshValue || got.Profile.ABHANumber != want.Profile.ABHANumber || !got.OTPSentAt.Equal(want.OTPSentAt) {
		t.Errorf("loaded %+v, want %+v", got, want)
	}

	// The same session's other journey is separate.
	var vs verifyState
	if err := b.flows.load(ctx, b.db.App, st, verifyFlow, &vs); !errors.Is(err, errNoFlow) {
		t.Errorf("verify journey after saving an enrolment: %v, want errNoFlow", err)
	}

	// A second save replaces the first.
	want.Step, want.Attached = enrolStepDone, "patient-1"
	if err := b.flows.save(ctx, b.db.App, st, enrolFlow, &want); err != nil {
		t.Fatal(err)
	}
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); err != nil || got.Attached != "patient-1" {
		t.Errorf("after a second save: %v, attached %q", err, got.Attached)
	}
	if n := b.rows(t, st); n != 1 {
		t.Errorf("%d rows after two saves, want 1", n)
	}

	if err := b.flows.drop(ctx, b.db.App, st, enrolFlow); err != nil {
		t.Fatal(err)
	}
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); !errors.Is(err, errNoFlow) {
		t.Errorf("load after drop: %v, want errNoFlow", err)
	}
}

// TestABHAFlowSealedFromTheDatabase reads a journey's row as someone with
// the database (or a backup) would: the transaction id and X-token are not
// in it, and neither another session's cookie nor the row's own session
// hash opens it.
func TestABHAFlowSealedFromTheDatabase(t *testing.T) {
	b := setupFlows(t)
	ctx := context.Background()
	st, _ := b.frontDesk(t, b.tenantID)
	other, _ := b.frontDesk(t, b.tenantID)

	es := journey()
	if err := b.flows.save(ctx, b.db.App, st, enrolFlow, &es); err != nil {
		t.Fatal(err)
	}
	sealed := b.stored(t, st, enrolFlow)
	for _, secret := range []string{es.TxnID, es.Token.Value, es.Token.RefreshValue, es.Mobile, es.Profile.ABHANumber, es.Profile.Name, "TxnID", "Token"} {
		if bytes.Contains(sealed, []byte(secret)) {
			t.Errorf("the stored journey contains %q", secret)
		}
	}

	// The other session's row holding this journey's bytes does not open
	// with the other session's cookie.
	if err := b.flows.save(ctx, b.db.App, other, enrolFlow, &enrolState{Step: enrolStepAadhaarOTP}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Owner.Exec(ctx, "UPDATE abha_flows SET sealed = $1 WHERE session_id_hash = $2", sealed, other.idHash); err != nil {
		t.Fatal(err)
	}
	var got enrolState
	if err := b.flows.load(ctx, b.db.App, other, enrolFlow, &got); err == nil || errors.Is(err, errNoFlow) {
		t.Errorf("another session opened the journey: %v, %+v", err, got)
	}

	// Knowing the row's session hash (the database has it) is not enough:
	// the key comes from the cookie's secret, which the database lacks.
	forged := &staff{TenantID: st.TenantID, idHash: st.idHash, secret: other.secret}
	if err := b.flows.load(ctx, b.db.App, forged, enrolFlow, &got); err == nil || errors.Is(err, errNoFlow) {
		t.Errorf("the session hash with another cookie's secret opened the journey: %v", err)
	}
	noSecret := &staff{TenantID: st.TenantID, idHash: st.idHash}
	if err := b.flows.load(ctx, b.db.App, noSecret, enrolFlow, &got); err == nil || errors.Is(err, errNoFlow) {
		t.Errorf("a session without a cookie secret opened the journey: %v", err)
	}

	// The row's kind is sealed in: an enrolment moved to the verify row of
	// the same session does not open as a verification.
	if _, err := b.db.Owner.Exec(ctx, `INSERT INTO abha_flows (session_id_hash, kind, tenant_id, sealed, expires_at)
		VALUES ($1, 'verify', $2, $3, now() + interval '1 minute')`, st.idHash, st.TenantID, sealed); err != nil {
		t.Fatal(err)
	}
	var vs verifyState
	if err := b.flows.load(ctx, b.db.App, st, verifyFlow, &vs); err == nil || errors.Is(err, errNoFlow) {
		t.Errorf("an enrolment opened as a verification: %v", err)
	}

	// The owner, with the cookie, still opens it.
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); err != nil || got.Token.Value != es.Token.Value {
		t.Errorf("the session's own journey: %v, txn %q", err, got.TxnID)
	}
}

// TestABHAFlowExpiry: a journey past its time reads as none, and the next
// save in the tenant deletes its row.
func TestABHAFlowExpiry(t *testing.T) {
	b := setupFlows(t)
	ctx := context.Background()
	st, _ := b.frontDesk(t, b.tenantID)
	other, _ := b.frontDesk(t, b.tenantID)

	es := journey()
	if err := b.flows.save(ctx, b.db.App, st, enrolFlow, &es); err != nil {
		t.Fatal(err)
	}
	var left float64
	if err := b.db.Owner.QueryRow(ctx, "SELECT extract(epoch FROM expires_at - now()) FROM abha_flows WHERE session_id_hash = $1",
		st.idHash).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left <= 0 || left > abhaFlowTTL.Seconds() {
		t.Errorf("a fresh journey expires in %.0f s, want within %s", left, abhaFlowTTL)
	}

	b.exec(t, b.tenantID, "UPDATE abha_flows SET expires_at = now() - interval '1 second' WHERE session_id_hash = $1", st.idHash)
	var got enrolState
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); !errors.Is(err, errNoFlow) {
		t.Errorf("load of an expired journey: %v, want errNoFlow", err)
	}
	if n := b.rows(t, st); n != 1 {
		t.Fatalf("%d rows before the next save, want the expired one", n)
	}
	if err := b.flows.save(ctx, b.db.App, other, verifyFlow, &verifyState{Step: "otp"}); err != nil {
		t.Fatal(err)
	}
	if n := b.rows(t, st); n != 0 {
		t.Errorf("%d rows of the expired journey after another save in the tenant, want 0", n)
	}
	if n := b.rows(t, other); n != 1 {
		t.Errorf("%d rows of the saved journey, want 1", n)
	}
}

// TestABHAFlowEndsWithSession: signing out, or the session timing out,
// deletes the session's journeys with it.
func TestABHAFlowEndsWithSession(t *testing.T) {
	b := setupFlows(t)
	ctx := context.Background()
	out, _ := b.frontDesk(t, b.tenantID)
	idle, idleValue := b.frontDesk(t, b.tenantID)
	stays, _ := b.frontDesk(t, b.tenantID)
	for _, st := range []*staff{out, idle, stays} {
		es := journey()
		if err := b.flows.save(ctx, b.db.App, st, enrolFlow, &es); err != nil {
			t.Fatal(err)
		}
		if err := b.flows.save(ctx, b.db.App, st, verifyFlow, &verifyState{Step: "otp"}); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := b.srv.deleteSession(ctx, out); err != nil {
		t.Fatal(err)
	}
	if n := b.rows(t, out); n != 0 {
		t.Errorf("%d journeys after signing out, want 0", n)
	}

	b.exec(t, b.tenantID, "UPDATE staff_sessions SET last_seen_at = now() - interval '2 hours' WHERE id_hash = $1", idle.idHash)
	if _, err := b.srv.lookupSession(ctx, idleValue); !errors.Is(err, errSessionExpired) {
		t.Fatalf("idle session: %v, want errSessionExpired", err)
	}
	if n := b.rows(t, idle); n != 0 {
		t.Errorf("%d journeys after the session's idle timeout, want 0", n)
	}

	if n := b.rows(t, stays); n != 2 {
		t.Errorf("%d journeys of the session still signed in, want 2", n)
	}
}

// TestABHAFlowTenantIsolation: another tenant's application queries see
// none of the journeys, even by the session's hash, and cannot read one
// through the store.
func TestABHAFlowTenantIsolation(t *testing.T) {
	b := setupFlows(t)
	ctx := context.Background()
	// Tenants of their own, so that their rows can be counted.
	mine, otherTenant := b.db.Tenant(t, "Journey Hospitals"), b.db.Tenant(t, "Other Hospitals")
	st, _ := b.frontDesk(t, mine)
	es := journey()
	if err := b.flows.save(ctx, b.db.App, st, enrolFlow, &es); err != nil {
		t.Fatal(err)
	}

	// count counts every row the tenant's queries see, and those of the
	// journey's session.
	count := func(tenantID string) (all, session int) {
		t.Helper()
		err := database.InTenant(ctx, b.db.App, tenantID, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE session_id_hash = $1) FROM abha_flows",
				st.idHash).Scan(&all, &session)
		})
		if err != nil {
			t.Fatal(err)
		}
		return all, session
	}
	if all, session := count(mine); all != 1 || session != 1 {
		t.Fatalf("the journey's tenant counts %d rows, %d of the session; want 1 and 1", all, session)
	}
	if all, session := count(otherTenant); all != 0 || session != 0 {
		t.Errorf("another tenant counts %d rows, %d of the session; want none", all, session)
	}
	var n int
	if err := b.db.App.QueryRow(ctx, "SELECT count(*) FROM abha_flows").Scan(&n); err != nil || n != 0 {
		t.Errorf("without a tenant: %d rows (%v), want 0", n, err)
	}

	// Even holding the session's cookie, a request in another tenant's
	// context finds no journey, and cannot overwrite or drop it.
	stranger := &staff{TenantID: otherTenant, idHash: st.idHash, secret: st.secret}
	var got enrolState
	if err := b.flows.load(ctx, b.db.App, stranger, enrolFlow, &got); !errors.Is(err, errNoFlow) {
		t.Errorf("load in another tenant: %v, want errNoFlow", err)
	}
	if err := b.flows.drop(ctx, b.db.App, stranger, enrolFlow); err != nil {
		t.Fatal(err)
	}
	if err := b.flows.save(ctx, b.db.App, stranger, enrolFlow, &enrolState{Step: enrolStepAadhaarOTP}); err == nil {
		t.Error("a save in another tenant's context replaced the journey")
	}
	if err := b.flows.load(ctx, b.db.App, st, enrolFlow, &got); err != nil || got.TxnID != es.TxnID {
		t.Errorf("the journey after another tenant's attempts: %v, txn %q", err, got.TxnID)
	}
}
