package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/database"
)

// ABHAService is what the front desk's ABHA pages need from the ABHA
// service client (*abha.Client).
type ABHAService interface {
	RequestAadhaarOTP(ctx context.Context, tenant, aadhaar string, consent abha.Consent) (*abha.OTPSent, error)
	EnrolByAadhaar(ctx context.Context, tenant string, r abha.EnrolRequest) (*abha.Enrolment, error)
	RequestMobileOTP(ctx context.Context, tenant, txnID, mobile string) (*abha.OTPSent, error)
	VerifyMobileOTP(ctx context.Context, tenant, txnID, otp string) (*abha.MobileVerified, error)
	AddressSuggestions(ctx context.Context, tenant, txnID string) ([]string, error)
	CreateAddress(ctx context.Context, tenant, txnID, name string) (*abha.AddressCreated, error)
	Card(ctx context.Context, tenant string, tok abha.UserToken) (*abha.Card, error)
	RequestLoginOTP(ctx context.Context, tenant string, r abha.LoginRequest) (*abha.LoginOTP, error)
	VerifyLoginOTP(ctx context.Context, tenant string, l *abha.LoginOTP, otp string) (*abha.Login, error)
	SelectAccount(ctx context.Context, tenant string, login *abha.Login, abhaNumber string) (abha.UserToken, error)
	Profile(ctx context.Context, tenant string, tok abha.UserToken) (*abha.Profile, error)
}

// abhaFlowTTL bounds an ABHA journey: ABDM's transactions and X-tokens
// live for minutes, and a half-finished journey must not linger.
const abhaFlowTTL = 15 * time.Minute

// Steps of the Aadhaar-OTP enrolment.
const (
	enrolStepAadhaarOTP = "aadhaar-otp"
	enrolStepMobileOTP  = "mobile-otp"
	enrolStepAddress    = "address"
	enrolStepDone       = "done"
)

// enrolState is one staff session's enrolment in progress. It holds the
// ABDM transaction id and the patient's X-token, and so is only ever
// stored sealed (abhaFlows). The Aadhaar number and OTPs are never part of
// it.
type enrolState struct {
	Step         string
	Consent      abha.Consent
	TxnID        string
	MaskedMobile string
	OTPSentAt    time.Time
	Resends      int // of the mobile OTP
	Mobile       string
	Existing     bool // the Aadhaar already had an ABHA
	Token        abha.UserToken
	Profile      abha.Profile
	Suggestions  []string
	Attached     string // patient id, once attached
}

// abhaFlows keeps each staff session's ABHA journey in PostgreSQL
// (abha_flows, one row per session and kind), so that any replica can take
// the next step and a restart loses none. A journey holds ABDM transaction
// ids and the patient's X-token, so its row is sealed with AES-256-GCM under
// a key derived from the session cookie's secret part: only the browser
// holds that secret (the database keeps the cookie's SHA-256), so whoever
// reads the database, or a backup, cannot open a journey, while every
// replica the browser reaches can. The row's identity (tenant, session,
// kind) is the additional data, so a journey copied into another row does
// not open there either.
//
// Methods take the pool as River's queries take their DBTX: abhaFlows holds
// the policy, not the connection.
type abhaFlows struct {
	// ttl is how long a journey lasts after its last step.
	ttl time.Duration
}

// newABHAFlows returns the journey store.
func newABHAFlows() *abhaFlows {
	return &abhaFlows{ttl: abhaFlowTTL}
}

var errNoFlow = errors.New("no ABHA journey in progress")

// abhaFlowKeyInfo is the HKDF context of the journey key; a new sealing
// scheme gets a new one, so an old row fails to open instead of misreading.
const abhaFlowKeyInfo = "sangam abha_flows v1 aes-256-gcm"

// flowAEAD returns the cipher of st's journeys, keyed from its session
// cookie's secret.
func flowAEAD(st *staff) (cipher.AEAD, error) {
	if len(st.secret) != 32 {
		// A zero or short secret would make a guessable key.
		return nil, errors.New("the staff session has no cookie secret")
	}
	key, err := hkdf.Key(sha256.New, st.secret, nil, abhaFlowKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the ABHA journey key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ABHA journey key: %w", err)
	}
	return cipher.NewGCM(block)
}

// flowAAD names the row a journey is sealed for.
func flowAAD(st *staff, kind string) []byte {
	return fmt.Appendf(nil, "abha_flows\x00%s\x00%x\x00%s", st.TenantID, st.idHash, kind)
}

// sealFlow encodes v and seals it for st's row of kind: nonce, then
// ciphertext.
func sealFlow(st *staff, kind string, v any) ([]byte, error) {
	aead, err := flowAEAD(st)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the ABHA journey: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return aead.Seal(nonce, nonce, plain, flowAAD(st, kind)), nil
}

// openFlow reverses sealFlow; it fails for another session's cookie and
// for a row moved to another session, tenant or kind.
func openFlow(st *staff, kind string, sealed []byte, v any) error {
	aead, err := flowAEAD(st)
	if err != nil {
		return err
	}
	n := aead.NonceSize()
	if len(sealed) < n {
		return errors.New("sealed ABHA journey too short")
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], flowAAD(st, kind))
	if err != nil {
		return fmt.Errorf("unsealing the ABHA journey: %w", err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("decoding the ABHA journey: %w", err)
	}
	return nil
}

// load reads st's journey of kind into v; errNoFlow when there is none
// or it has expired.
func (f *abhaFlows) load(ctx context.Context, pool *pgxpool.Pool, st *staff, kind string, v any) error {
	var sealed []byte
	err := database.InTenant(ctx, pool, st.TenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT sealed FROM abha_flows
			WHERE session_id_hash = $1 AND kind = $2 AND expires_at > now()`,
			st.idHash, kind).Scan(&sealed)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoFlow
	}
	if err != nil {
		return fmt.Errorf("reading the ABHA journey: %w", err)
	}
	if err := openFlow(st, kind, sealed, v); err != nil {
		return fmt.Errorf("opening the ABHA journey: %w", err)
	}
	return nil
}

// save stores v as st's journey of kind, for another ttl.
func (f *abhaFlows) save(ctx context.Context, pool *pgxpool.Pool, st *staff, kind string, v any) error {
	sealed, err := sealFlow(st, kind, v)
	if err != nil {
		return fmt.Errorf("sealing the ABHA journey: %w", err)
	}
	err = database.InTenant(ctx, pool, st.TenantID, func(tx pgx.Tx) error {
		// The tenant's expired journeys go here rather than in a job: a
		// desk that walked away leaves one row, and the next save clears it.
		if _, err := tx.Exec(ctx, "DELETE FROM abha_flows WHERE expires_at <= now()"); err != nil {
			return fmt.Errorf("clearing expired ABHA journeys: %w", err)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO abha_flows (session_id_hash, kind, tenant_id, sealed, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
			ON CONFLICT (session_id_hash, kind) DO UPDATE
			SET sealed = excluded.sealed, expires_at = excluded.expires_at, updated_at = now()`,
			st.idHash, kind, st.TenantID, sealed, f.ttl.Seconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("storing the ABHA journey: %w", err)
	}
	return nil
}

// drop ends st's journey of kind, if any.
func (f *abhaFlows) drop(ctx context.Context, pool *pgxpool.Pool, st *staff, kind string) error {
	err := database.InTenant(ctx, pool, st.TenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM abha_flows WHERE session_id_hash = $1 AND kind = $2", st.idHash, kind)
		return err
	})
	if err != nil {
		return fmt.Errorf("ending the ABHA journey: %w", err)
	}
	return nil
}

// loadFlowAt reads the request's journey of kind for a step that continues
// it: the journey must be at step (stepOf reads it). A journey that is
// missing, expired or elsewhere answers ended, so the desk starts again.
func loadFlowAt[T any](s *Server, c *fiber.Ctx, kind, step string, stepOf func(*T) string, ended *problem) (*T, error) {
	v := new(T)
	err := s.abhaFlows.load(c.UserContext(), s.pool, staffFrom(c.UserContext()), kind, v)
	if err == nil && stepOf(v) == step {
		return v, nil
	}
	if err != nil && !errors.Is(err, errNoFlow) {
		return nil, err
	}
	return nil, ended
}

// saveFlowAndShow stores the request's journey of kind and sends the
// browser to the journey's page (path), which shows its next step.
func (s *Server) saveFlowAndShow(c *fiber.Ctx, kind string, v any, path string) error {
	if err := s.abhaFlows.save(c.UserContext(), s.pool, staffFrom(c.UserContext()), kind, v); err != nil {
		return err
	}
	return c.Redirect(path, fiber.StatusSeeOther)
}
