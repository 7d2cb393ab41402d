package hip

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/keys"
)

// linkTokenFallbackTTL is the validity assumed for a token whose exp claim
// cannot be read (the reference: "valid 6 months").
const linkTokenFallbackTTL = 182 * 24 * time.Hour

// Link-token request states (hip_link_token_requests.state).
const (
	linkTokenPending  = "pending"
	linkTokenReceived = "received"
	linkTokenFailed   = "failed"
	linkTokenBlocked  = "blocked"
)

// LinkTokens resolves the link-token names the outbox carries
// (OutboundCall.LinkTokenName) to tokens in the key store; it implements
// bridge.LinkTokens. It needs only the store, so the bridge can be built
// before the Service that sends through it.
type LinkTokens struct {
	Keys keys.Store
}

var _ bridge.LinkTokens = LinkTokens{}

// LinkToken returns the stored token a name from linkTokenName denotes.
func (l LinkTokens) LinkToken(ctx context.Context, tenant, name string) (string, error) {
	facility, address, err := linkTokenParseName(name)
	if err != nil {
		return "", err
	}
	sec, err := l.Keys.Get(ctx, linkTokenRef(tenant, facility, address))
	if err != nil {
		return "", fmt.Errorf("link token of a patient at facility %s: %w", facility, err)
	}
	return string(sec.Value), nil
}

// linkTokenName is the outbox's name for the token of address at facility:
// "<facility uuid>:<abha address>".
func linkTokenName(facility, address string) string {
	return facility + ":" + linkTokenAddress(address)
}

func linkTokenParseName(name string) (facility, address string, err error) {
	facility, address, ok := strings.Cut(name, ":")
	if _, perr := uuid.Parse(facility); !ok || perr != nil || address == "" {
		return "", "", fmt.Errorf("%w: link token name %q is not <facility>:<abha address>", ErrInvalid, name)
	}
	return facility, address, nil
}

// linkTokenAddress normalises an ABHA address for keys and lookups.
func linkTokenAddress(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

func linkTokenRef(tenant, facility, address string) keys.Ref {
	return keys.Ref{Tenant: tenant, Facility: facility, Purpose: keys.PurposeLinkToken, Name: linkTokenAddress(address)}
}

// linkTokenExpiry reads the exp claim of a JWT without verifying it: the
// token is the gateway's to check, Sangam only needs to know when to stop
// using it.
func linkTokenExpiry(token string, now time.Time) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				Exp json.Number `json:"exp"`
			}
			if json.Unmarshal(raw, &claims) == nil {
				if f, err := claims.Exp.Float64(); err == nil && f > 0 {
					return time.Unix(int64(f), 0).UTC()
				}
			}
		}
	}
	return now.Add(linkTokenFallbackTTL)
}

// linkPatient is who a link token is for, with the demographics
// generate-token needs.
type linkPatient struct {
	FacilityID  string
	HIPID       string
	PatientID   string
	ABHAAddress string
	ABHANumber  string // digits only, or ""
	Name        string
	Gender      string
	BirthYear   int
}

// HasLinkToken reports whether a valid link token is stored for address at
// facility.
func (s *Service) HasLinkToken(ctx context.Context, tenant, facility, address string) (bool, error) {
	_, err := s.cfg.Keys.Get(ctx, linkTokenRef(tenant, facility, address))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, keys.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("reading link token: %w", err)
}

// linkTokenEnsure reports whether a token is stored for p; when none is,
// it queues generate-token in tx unless a request is inside the ABDM-1092
// window or ABDM-1027 holds the address back.
func (s *Service) linkTokenEnsure(ctx context.Context, tx pgx.Tx, tenant string, p linkPatient) (bool, error) {
	have, err := s.HasLinkToken(ctx, tenant, p.FacilityID, p.ABHAAddress)
	if err != nil || have {
		return have, err
	}
	addr := linkTokenAddress(p.ABHAAddress)
	// Serialises requests for one address at one facility, so that two
	// shares at once make one call.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('hip-link-token:' || $1 || ':' || $2, 0))`, p.FacilityID, addr); err != nil {
		return false, fmt.Errorf("locking link-token request: %w", err)
	}
	var (
		last    time.Time
		blocked *time.Time
	)
	err = tx.QueryRow(ctx, `SELECT last_requested_at, blocked_until FROM hip_link_token_requests
		WHERE facility_id = $1 AND abha_address = $2`, p.FacilityID, addr).Scan(&last, &blocked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return false, fmt.Errorf("reading link-token request: %w", err)
	default:
		now := s.now()
		if blocked != nil && now.Before(*blocked) {
			s.cfg.Logger.InfoContext(ctx, "hip: link token not requested, address blocked (ABDM-1027)", "facility", p.FacilityID, "until", *blocked)
			return false, nil
		}
		if now.Sub(last) < s.cfg.LinkTokenWindow {
			return false, nil
		}
	}
	if p.Name == "" || p.Gender == "" || p.BirthYear == 0 {
		s.cfg.Logger.WarnContext(ctx, "hip: cannot request a link token without name, gender and year of birth", "facility", p.FacilityID, "patient", p.PatientID)
		return false, nil
	}
	body := abdm.GenerateTokenRequest{
		ABHAAddress: p.ABHAAddress, Name: p.Name, Gender: abdm.Gender(p.Gender), YearOfBirth: p.BirthYear,
	}
	if p.ABHANumber != "" {
		n := abdm.NumericID(p.ABHANumber)
		body.ABHANumber = &n
	}
	sent, err := s.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{Tenant: tenant, Path: abdm.PathGenerateToken, HIPID: p.HIPID, Body: body})
	if err != nil {
		return false, fmt.Errorf("queueing generate-token: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO hip_link_token_requests (tenant_id, facility_id, abha_address, abha_number, name, gender, birth_year,
			state, exchange_id, last_requested_at, blocked_until, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, NULL, '')
		ON CONFLICT (facility_id, abha_address) DO UPDATE SET
			abha_number = EXCLUDED.abha_number, name = EXCLUDED.name, gender = EXCLUDED.gender,
			birth_year = EXCLUDED.birth_year, state = 'pending', exchange_id = EXCLUDED.exchange_id,
			last_requested_at = EXCLUDED.last_requested_at, blocked_until = NULL, last_error = '', updated_at = now()`,
		tenant, p.FacilityID, addr, p.ABHANumber, p.Name, p.Gender, p.BirthYear, sent.ExchangeID, s.now())
	if err != nil {
		return false, fmt.Errorf("recording link-token request: %w", err)
	}
	return false, nil
}

// processOnGenerateToken stores the token of on-generate-token and links
// the care contexts that waited for it, or records the refusal.
func (s *Service) processOnGenerateToken(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.OnGenerateTokenRequest
	if err := cb.Decode(&msg); err != nil {
		return err
	}
	facility, addr := cb.FacilityID, linkTokenAddress(msg.ABHAAddress)
	if cb.RelatedID != 0 {
		err := tx.QueryRow(ctx, `SELECT facility_id::text, abha_address FROM hip_link_token_requests WHERE exchange_id = $1`,
			cb.RelatedID).Scan(&facility, &addr)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("finding link-token request: %w", err)
		}
	}
	if facility == "" || addr == "" {
		s.cfg.Logger.WarnContext(ctx, "hip: on-generate-token for no known request", "exchange", cb.ExchangeID)
		return nil
	}
	if msg.Error != nil {
		code := msg.Error.Err().Code
		state, until := linkTokenFailed, (*time.Time)(nil)
		if code == "ABDM-1027" {
			t := s.now().Add(s.cfg.BlockFor)
			state, until = linkTokenBlocked, &t
		}
		_, err := tx.Exec(ctx, `UPDATE hip_link_token_requests SET state = $3, blocked_until = $4, last_error = $5, updated_at = now()
			WHERE facility_id = $1 AND abha_address = $2`, facility, addr, state, until, code)
		if err != nil {
			return fmt.Errorf("recording link-token refusal: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE hip_care_context_links SET last_error = $3, updated_at = now()
			WHERE facility_id = $1 AND abha_address = $2 AND state = 'waiting_token'`, facility, addr, "link token refused: "+code)
		if err != nil {
			return fmt.Errorf("recording link-token refusal: %w", err)
		}
		return nil
	}
	if msg.LinkToken == "" {
		return errors.New("on-generate-token has neither a link token nor an error")
	}
	err := s.cfg.Keys.Put(ctx, keys.Secret{
		Ref: linkTokenRef(cb.Tenant, facility, addr), Value: []byte(msg.LinkToken),
		ExpiresAt: linkTokenExpiry(msg.LinkToken, s.now()),
	})
	if err != nil {
		return fmt.Errorf("storing link token: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE hip_link_token_requests SET state = 'received', last_error = '', updated_at = now()
		WHERE facility_id = $1 AND abha_address = $2`, facility, addr); err != nil {
		return fmt.Errorf("recording link token: %w", err)
	}
	return s.linkingSendWaiting(ctx, tx, cb.Tenant, facility, addr)
}
