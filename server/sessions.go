package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/database"
)

// Session lookups fail with these; both send the user to sign in, the
// second with a word that their session ended.
var (
	errNoSession      = errors.New("no session")
	errSessionExpired = errors.New("session expired")
)

// sessionPolicy holds the timeouts. Times are compared in PostgreSQL with
// now(), so every replica agrees whatever its clock.
type sessionPolicy struct {
	idle time.Duration
	max  time.Duration
	// touchAfter limits writes: last_seen_at is only moved forward when it
	// is at least this old, which makes idle expiry that much less exact.
	touchAfter time.Duration
}

func newSessionPolicy(idle, max time.Duration) sessionPolicy {
	return sessionPolicy{idle: idle, max: max, touchAfter: min(time.Minute, idle/4)}
}

// staff is the signed-in user of a request.
type staff struct {
	TenantID   string
	TenantName string
	Subject    string
	Username   string
	Name       string
	Email      string
	Roles      []role
	// Facilities are HFR ids from the ID token.
	Facilities []string
	CSRFToken  string
	idHash     []byte
	// secret is the random part of the session cookie. Only the browser
	// holds it (the database has the value's SHA-256), so keys derived from
	// it seal what is kept for the session (abhaFlows) against a reader of
	// the database.
	secret []byte
}

// displayName is the best name the token gave.
func (s *staff) displayName() string {
	for _, n := range []string{s.Name, s.Username, s.Email} {
		if n != "" {
			return n
		}
	}
	return s.Subject
}

// newSessionValue returns a cookie value "<tenant-uuid>.<32 random bytes>".
// The tenant comes first so a lookup can enter the tenant's row-level
// security context before it searches; the random part is what makes the
// value unguessable.
func newSessionValue(tenantID string) string {
	return tenantID + "." + randomToken(32)
}

// parseSessionValue checks a cookie value's shape and returns its tenant and
// the hash under which its session is stored.
func parseSessionValue(v string) (tenantID string, idHash []byte, ok bool) {
	t, secret, found := strings.Cut(v, ".")
	if !found {
		return "", nil, false
	}
	id, err := uuid.Parse(t)
	if err != nil || id.String() != t {
		return "", nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		return "", nil, false
	}
	return t, hashSessionValue(v), true
}

// sessionSecret returns the random part of a cookie value that
// parseSessionValue accepted.
func sessionSecret(v string) []byte {
	_, secret, _ := strings.Cut(v, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(secret)
	return raw
}

// hashSessionValue is what staff_sessions.id_hash holds: a stolen database
// copy gives no usable cookie.
func hashSessionValue(v string) []byte {
	sum := sha256.Sum256([]byte(v))
	return sum[:]
}

// createSession stores a session for a verified sign-in, records the
// sign-in in the audit log and returns the cookie value. Expired sessions of
// the tenant are cleared on the way, so abandoned ones do not pile up.
func (s *Server) createSession(ctx context.Context, tenantID string, si *signedIn, roles []role) (string, error) {
	value := newSessionValue(tenantID)
	c := si.claims
	err := database.InTenant(ctx, s.pool, tenantID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			DELETE FROM staff_sessions
			WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)`,
			s.sessions.idle.Seconds()); err != nil {
			return fmt.Errorf("clearing expired sessions: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO staff_sessions
				(id_hash, tenant_id, subject, username, name, email, roles, facilities, csrf_token, id_token, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11))`,
			hashSessionValue(value), tenantID, c.Subject, c.PreferredUsername, c.Name, c.Email,
			roleNames(roles), nonNil(c.Facilities), randomToken(32), si.rawID, s.sessions.max.Seconds()); err != nil {
			return fmt.Errorf("storing the session: %w", err)
		}
		return recordAudit(ctx, tx, tenantID, c.Subject, "staff.signed_in", map[string]any{
			"username": c.PreferredUsername, "roles": roleNames(roles), "facilities": nonNil(c.Facilities),
		})
	})
	if err != nil {
		return "", fmt.Errorf("creating a staff session: %w", err)
	}
	return value, nil
}

// lookupSession finds the live session of a cookie value. A session past
// its idle or absolute timeout is deleted (and the sign-out audited) and
// reported as errSessionExpired; an unknown value as errNoSession. Use
// counts as activity, except a background poll's (isBackground).
func (s *Server) lookupSession(ctx context.Context, value string) (*staff, error) {
	tenantID, idHash, ok := parseSessionValue(value)
	if !ok {
		return nil, errNoSession
	}
	st := &staff{TenantID: tenantID, idHash: idHash, secret: sessionSecret(value)}
	var lookupErr error
	err := database.InTenant(ctx, s.pool, tenantID, func(tx pgx.Tx) error {
		var roles []string
		var pastMax, idle, stale bool
		err := tx.QueryRow(ctx, `
			SELECT t.name, s.subject, s.username, s.name, s.email, s.roles, s.facilities, s.csrf_token,
			       s.expires_at <= now(),
			       s.last_seen_at <= now() - make_interval(secs => $2),
			       s.last_seen_at <= now() - make_interval(secs => $3)
			FROM staff_sessions s JOIN tenants t ON t.id = s.tenant_id
			WHERE s.id_hash = $1`,
			idHash, s.sessions.idle.Seconds(), s.sessions.touchAfter.Seconds()).Scan(
			&st.TenantName, &st.Subject, &st.Username, &st.Name, &st.Email, &roles, &st.Facilities, &st.CSRFToken,
			&pastMax, &idle, &stale)
		if errors.Is(err, pgx.ErrNoRows) {
			lookupErr = errNoSession
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the session: %w", err)
		}
		st.Roles = parseRoles(roles)
		switch {
		case pastMax || idle:
			lookupErr = errSessionExpired
			reason := "idle timeout"
			if pastMax {
				reason = "maximum session age"
			}
			return endSession(ctx, tx, st, reason)
		case stale && !isBackground(ctx):
			if _, err := tx.Exec(ctx, "UPDATE staff_sessions SET last_seen_at = now() WHERE id_hash = $1", idHash); err != nil {
				return fmt.Errorf("touching the session: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up a staff session: %w", err)
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	return st, nil
}

// deleteSession signs st out: it deletes the session, audits it, and
// returns the ID token the session was created with, for the provider's
// logout.
func (s *Server) deleteSession(ctx context.Context, st *staff) (idToken string, err error) {
	err = database.InTenant(ctx, s.pool, st.TenantID, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "SELECT id_token FROM staff_sessions WHERE id_hash = $1", st.idHash).Scan(&idToken)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("reading the session: %w", err)
		}
		return endSession(ctx, tx, st, "signed out")
	})
	if err != nil {
		return "", fmt.Errorf("deleting a staff session: %w", err)
	}
	return idToken, nil
}

// endSession deletes a session inside tx and records why.
func endSession(ctx context.Context, tx pgx.Tx, st *staff, reason string) error {
	tag, err := tx.Exec(ctx, "DELETE FROM staff_sessions WHERE id_hash = $1", st.idHash)
	if err != nil {
		return fmt.Errorf("deleting the session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // another request ended it first; audit once
	}
	return recordAudit(ctx, tx, st.TenantID, st.Subject, "staff.signed_out", map[string]any{
		"username": st.Username, "reason": reason,
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
