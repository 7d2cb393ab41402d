package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
)

// sessionBundle is a Server with just what the session store needs.
type sessionBundle struct {
	db       *databasetest.DB
	srv      *Server
	tenantID string
}

func setupSessions(t *testing.T) *sessionBundle {
	t.Helper()
	db := databasetest.New(t)
	res, err := demo.Load(context.Background(), db.Owner, demo.KaveriHealth())
	if err != nil {
		t.Fatal(err)
	}
	return &sessionBundle{
		db:       db,
		tenantID: res.TenantID,
		srv: &Server{
			pool:          db.App,
			log:           slog.New(slog.DiscardHandler),
			sessions:      newSessionPolicy(30*time.Minute, 12*time.Hour),
			defaultTenant: "kaveri",
		},
	}
}

// signIn stores a session as the callback would, for a unique subject.
func (b *sessionBundle) signIn(t *testing.T, tenantID string, roles []role, facilities []string) (string, string) {
	t.Helper()
	subject := "test-" + randomToken(6)
	si := &signedIn{rawID: "id-token-of-" + subject, claims: staffClaims{
		Subject: subject, PreferredUsername: "user-" + subject, Name: "Test User", Email: "t@example.org",
		Roles: roleNames(roles), Facilities: facilities,
	}}
	value, err := b.srv.createSession(context.Background(), tenantID, si, roles)
	if err != nil {
		t.Fatal(err)
	}
	return value, subject
}

// exec runs sql in tenantID's context through the owner pool, to move
// session clocks as time would.
func (b *sessionBundle) exec(t *testing.T, tenantID, sql string, args ...any) {
	t.Helper()
	err := database.InTenant(context.Background(), b.db.Owner, tenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), sql, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (b *sessionBundle) audit(t *testing.T, subject string) []string {
	t.Helper()
	var events []string
	err := database.InTenant(context.Background(), b.db.App, b.tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(),
			"SELECT action || ':' || coalesce(detail->>'reason', '') FROM audit_events WHERE actor = $1 ORDER BY id", subject)
		if err != nil {
			return err
		}
		events, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestSessionLookup(t *testing.T) {
	b := setupSessions(t)
	ctx := context.Background()
	value, subject := b.signIn(t, b.tenantID, []role{roleDoctor, roleBilling}, []string{"IN2910000231"})

	st, err := b.srv.lookupSession(ctx, value)
	if err != nil {
		t.Fatalf("lookupSession: %v", err)
	}
	if st.Subject != subject || st.TenantID != b.tenantID || st.TenantName != "Kaveri Health Group (demo)" ||
		!slices.Equal(st.Roles, []role{roleDoctor, roleBilling}) || !slices.Equal(st.Facilities, []string{"IN2910000231"}) ||
		len(st.CSRFToken) < 40 {
		t.Errorf("lookupSession: got %+v", st)
	}

	// The row holds the SHA-256 of the cookie and never the cookie itself.
	var hash []byte
	var row string
	err = database.InTenant(ctx, b.db.App, b.tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT id_hash, s::text FROM staff_sessions s WHERE subject = $1", subject).Scan(&hash, &row)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(value)); string(hash) != string(want[:]) {
		t.Errorf("id_hash is not the SHA-256 of the cookie value")
	}
	_, secret, _ := strings.Cut(value, ".")
	if strings.Contains(row, secret) {
		t.Errorf("the session row contains the cookie's secret")
	}

	for _, bad := range []string{"", "garbage", b.tenantID, b.tenantID + ".", "not-a-uuid." + secret, value + "x", strings.ToUpper(b.tenantID) + "." + secret} {
		if _, err := b.srv.lookupSession(ctx, bad); !errors.Is(err, errNoSession) {
			t.Errorf("lookupSession(%q): got %v, want errNoSession", bad, err)
		}
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	b := setupSessions(t)
	ctx := context.Background()
	value, subject := b.signIn(t, b.tenantID, []role{roleAdmin}, nil)

	quietFor := func() time.Duration {
		t.Helper()
		var quiet time.Duration
		err := database.InTenant(ctx, b.db.App, b.tenantID, func(tx pgx.Tx) error {
			var secs float64
			err := tx.QueryRow(ctx, "SELECT extract(epoch FROM now() - last_seen_at) FROM staff_sessions WHERE subject = $1", subject).Scan(&secs)
			quiet = time.Duration(secs * float64(time.Second))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return quiet
	}

	// Two minutes quiet: a page polling by itself (htmx "every 3s") is
	// let through but is not the user doing something.
	b.exec(t, b.tenantID, "UPDATE staff_sessions SET last_seen_at = now() - interval '2 minutes' WHERE subject = $1", subject)
	if _, err := b.srv.lookupSession(context.WithValue(ctx, backgroundKey{}, true), value); err != nil {
		t.Fatalf("poll after 2 quiet minutes: %v", err)
	}
	if q := quietFor(); q < 2*time.Minute-5*time.Second {
		t.Errorf("a poll moved last_seen_at on: %s ago", q)
	}

	// A request of the user's own moves last_seen_at on.
	if _, err := b.srv.lookupSession(ctx, value); err != nil {
		t.Fatalf("lookup after 2 quiet minutes: %v", err)
	}
	if q := quietFor(); q > 5*time.Second {
		t.Errorf("last_seen_at was not moved on by the request: %s ago", q)
	}

	// Past the idle timeout: gone, and the sign-out is audited.
	b.exec(t, b.tenantID, "UPDATE staff_sessions SET last_seen_at = now() - interval '31 minutes' WHERE subject = $1", subject)
	if _, err := b.srv.lookupSession(ctx, value); !errors.Is(err, errSessionExpired) {
		t.Fatalf("lookup after 31 idle minutes: got %v, want errSessionExpired", err)
	}
	if _, err := b.srv.lookupSession(ctx, value); !errors.Is(err, errNoSession) {
		t.Errorf("second lookup: got %v, want errNoSession (the row is deleted)", err)
	}
	if got, want := b.audit(t, subject), []string{"staff.signed_in:", "staff.signed_out:idle timeout"}; !slices.Equal(got, want) {
		t.Errorf("audit: got %q, want %q", got, want)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	b := setupSessions(t)
	ctx := context.Background()
	value, subject := b.signIn(t, b.tenantID, []role{roleAdmin}, nil)

	// The absolute limit is fixed at sign-in, SessionMax ahead.
	var left time.Duration
	err := database.InTenant(ctx, b.db.App, b.tenantID, func(tx pgx.Tx) error {
		var secs float64
		err := tx.QueryRow(ctx, "SELECT extract(epoch FROM expires_at - now()) FROM staff_sessions WHERE subject = $1", subject).Scan(&secs)
		left = time.Duration(secs * float64(time.Second))
		return err
	})
	if err != nil || left < 12*time.Hour-time.Minute || left > 12*time.Hour {
		t.Fatalf("expires_at is %s away, want about SessionMax (12h): %v", left, err)
	}

	// Active all along (last_seen_at now) but past expires_at: gone.
	b.exec(t, b.tenantID, "UPDATE staff_sessions SET expires_at = now() - interval '1 second', last_seen_at = now() WHERE subject = $1", subject)
	if _, err := b.srv.lookupSession(ctx, value); !errors.Is(err, errSessionExpired) {
		t.Fatalf("lookup past expires_at: got %v, want errSessionExpired", err)
	}
	if got, want := b.audit(t, subject), []string{"staff.signed_in:", "staff.signed_out:maximum session age"}; !slices.Equal(got, want) {
		t.Errorf("audit: got %q, want %q", got, want)
	}
}

func TestSessionLogout(t *testing.T) {
	b := setupSessions(t)
	ctx := context.Background()
	value, subject := b.signIn(t, b.tenantID, []role{roleFrontDesk}, nil)
	st, err := b.srv.lookupSession(ctx, value)
	if err != nil {
		t.Fatal(err)
	}
	idToken, err := b.srv.deleteSession(ctx, st)
	if err != nil {
		t.Fatalf("deleteSession: %v", err)
	}
	if idToken != "id-token-of-"+subject {
		t.Errorf("deleteSession returned ID token %q, want the one stored at sign-in", idToken)
	}
	if _, err := b.srv.lookupSession(ctx, value); !errors.Is(err, errNoSession) {
		t.Errorf("lookup after logout: got %v, want errNoSession", err)
	}
	// A second logout (another tab) is harmless and not audited twice.
	if _, err := b.srv.deleteSession(ctx, st); err != nil {
		t.Errorf("second deleteSession: %v", err)
	}
	if got, want := b.audit(t, subject), []string{"staff.signed_in:", "staff.signed_out:signed out"}; !slices.Equal(got, want) {
		t.Errorf("audit: got %q, want %q", got, want)
	}
}

func TestSessionSignInClearsExpired(t *testing.T) {
	b := setupSessions(t)
	_, stale := b.signIn(t, b.tenantID, []role{roleAdmin}, nil)
	b.exec(t, b.tenantID, "UPDATE staff_sessions SET last_seen_at = now() - interval '1 day' WHERE subject = $1", stale)
	b.signIn(t, b.tenantID, []role{roleAdmin}, nil)
	var n int
	err := database.InTenant(context.Background(), b.db.App, b.tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT count(*) FROM staff_sessions WHERE subject = $1", stale).Scan(&n)
	})
	if err != nil || n != 0 {
		t.Errorf("abandoned sessions after another sign-in: %d, %v; want 0", n, err)
	}
}

// TestSessionTenantIsolation: a session belongs to one tenant. Naming
// another tenant in the cookie finds nothing, and a user of another tenant
// sees none of Kaveri's facilities even when their token lists its ids.
func TestSessionTenantIsolation(t *testing.T) {
	b := setupSessions(t)
	ctx := context.Background()
	other := b.db.Tenant(t, "Other Group")
	value, subject := b.signIn(t, b.tenantID, []role{roleAdmin}, nil)

	_, secret, _ := strings.Cut(value, ".")
	if _, err := b.srv.lookupSession(ctx, other+"."+secret); !errors.Is(err, errNoSession) {
		t.Errorf("the Kaveri session with the other tenant's id: got %v, want errNoSession", err)
	}
	var visible int
	err := database.InTenant(ctx, b.db.App, other, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT count(*) FROM staff_sessions WHERE subject = $1 OR id_hash = $2", subject, hashSessionValue(value)).Scan(&visible)
	})
	if err != nil || visible != 0 {
		t.Errorf("Kaveri's session seen from the other tenant: %d rows, %v", visible, err)
	}

	otherValue, _ := b.signIn(t, other, []role{roleAdmin}, demo.KaveriHealth().HFRIDs())
	st, err := b.srv.lookupSession(ctx, otherValue)
	if err != nil {
		t.Fatal(err)
	}
	if st.TenantID != other || st.TenantName != "Other Group" {
		t.Errorf("other tenant's session: tenant %s %q", st.TenantID, st.TenantName)
	}
	fs, err := b.srv.facilitiesOf(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("a user of another tenant sees %d Kaveri facilities", len(fs))
	}

	// The same claims in Kaveri see all three, with counters and sources.
	st.TenantID = b.tenantID
	fs, err = b.srv.facilitiesOf(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || len(fs[0].Counters) == 0 || len(fs[0].Sources) == 0 {
		t.Errorf("Kaveri admin's facilities: %+v", fs)
	}
}

func TestResolveTenant(t *testing.T) {
	b := setupSessions(t)
	ctx := context.Background()
	b.db.Tenant(t, "Second Group") // more than one tenant from here on

	if id, err := b.srv.resolveTenant(ctx, "kaveri"); err != nil || id != b.tenantID {
		t.Errorf("tenant claim kaveri: got %q, %v", id, err)
	}
	if id, err := b.srv.resolveTenant(ctx, ""); err != nil || id != b.tenantID {
		t.Errorf("no claim, default kaveri: got %q, %v", id, err)
	}
	var p *problem
	if _, err := b.srv.resolveTenant(ctx, "no-such-group"); !errors.As(err, &p) || p.status != 403 || !strings.Contains(p.message, "no-such-group") {
		t.Errorf("unknown tenant claim: got %v, want a 403 naming it", err)
	}
	b.srv.defaultTenant = "no-such-default"
	if _, err := b.srv.resolveTenant(ctx, ""); !errors.As(err, &p) || p.status != 403 || !strings.Contains(p.message, "SANGAM_DEFAULT_TENANT") {
		t.Errorf("no claim, unknown default, several tenants: got %v, want a 403 pointing at SANGAM_DEFAULT_TENANT", err)
	}
	b.srv.defaultTenant = ""
	if _, err := b.srv.resolveTenant(ctx, ""); !errors.As(err, &p) || p.status != 403 {
		t.Errorf("no claim, no default, several tenants: got %v, want 403", err)
	}
}
