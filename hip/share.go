package hip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/patients"
)

// ShareSourceCode is the code of each facility's pseudo source system
// under which scan-and-share profiles are filed in the master index (local
// id: the ABHA address). It has no connector, so nothing polls it.
const ShareSourceCode = "abdm-share"

// processShare answers a scan-and-share profile with the counter's next
// queue token, and asks for a link token for the patient unless one is
// stored.
func (s *Service) processShare(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.PatientShareRequest
	if err := cb.Decode(&msg); err != nil {
		return err
	}
	sp := msg.Profile.Patient
	counterCode := strings.TrimSpace(msg.MetaData.Context)
	if sp.ABHAAddress == "" || counterCode == "" || cb.FacilityID == "" {
		return s.shareRefuse(ctx, tx, cb, sp.ABHAAddress, "ABDM-9999", "abhaAddress and metaData.context (the counter) are required")
	}
	abhaNumber := shareDigits(sharePtr(sp.ABHANumber))

	patientID, err := s.shareFilePatient(ctx, cb.Tenant, cb.FacilityID, sp, abhaNumber)
	if err != nil {
		return err
	}
	counterID, err := shareCounter(ctx, tx, cb.Tenant, cb.FacilityID, counterCode)
	if err != nil {
		return err
	}
	tok, err := s.shareIssueToken(ctx, tx, cb, counterID, patientID, sp, abhaNumber)
	if err != nil {
		return err
	}
	expiry := int(tok.expiresAt.Sub(s.now()).Seconds())
	reply := abdm.PatientOnShareRequest{
		Acknowledgement: abdm.ShareAcknowledgement{
			Status: abdm.AckSuccess, ABHAAddress: sp.ABHAAddress,
			Profile: &abdm.ShareTokenProfile{
				Context: counterCode, TokenNumber: abdm.FlexString(strconv.Itoa(tok.number)),
				Expiry: abdm.FlexString(strconv.Itoa(max(expiry, 0))),
			},
		},
		Response: abdm.ResponseRef{RequestID: cb.RequestID},
	}
	if _, err := s.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: cb.Tenant, Path: abdm.PathPatientOnShare, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
	}); err != nil {
		return fmt.Errorf("queueing on-share: %w", err)
	}
	year, _ := strconv.Atoi(string(sp.YearOfBirth))
	_, err = s.linkTokenEnsure(ctx, tx, cb.Tenant, linkPatient{
		FacilityID: cb.FacilityID, HIPID: cb.ServiceID, PatientID: patientID, ABHAAddress: sp.ABHAAddress,
		ABHANumber: abhaNumber, Name: sp.Name, Gender: string(sp.Gender), BirthYear: year,
	})
	return err
}

// shareRefuse answers on-share with FAILED; the share is not retried.
func (s *Service) shareRefuse(ctx context.Context, tx pgx.Tx, cb *bridge.Callback, address, code, message string) error {
	reply := abdm.PatientOnShareRequest{
		Acknowledgement: abdm.ShareAcknowledgement{Status: abdm.AckFailed, ABHAAddress: address},
		Error:           &abdm.ErrorDetail{Code: code, Message: message},
		Response:        abdm.ResponseRef{RequestID: cb.RequestID},
	}
	if _, err := s.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: cb.Tenant, Path: abdm.PathPatientOnShare, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
	}); err != nil {
		return fmt.Errorf("queueing on-share: %w", err)
	}
	return nil
}

// shareFilePatient files the shared profile in the master index and marks
// its ABHA verified (ABDM authenticated the patient who shared it). It runs
// in transactions of its own: Ingest owns its transaction, and filing the
// same profile again changes nothing, so a rolled-back callback is safe to
// repeat.
func (s *Service) shareFilePatient(ctx context.Context, tenant, facility string, sp abdm.SharePatient, abhaNumber string) (string, error) {
	var source string
	err := database.InTenant(ctx, s.cfg.Pool, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			INSERT INTO source_systems (tenant_id, facility_id, code, name, kind, vendor)
			VALUES ($1, $2, $3, 'ABDM scan and share', 'HIS', 'ABDM')
			ON CONFLICT (facility_id, code) DO UPDATE SET code = EXCLUDED.code
			RETURNING id::text`, tenant, facility, ShareSourceCode).Scan(&source)
	})
	if err != nil {
		return "", fmt.Errorf("preparing the scan-and-share source: %w", err)
	}
	rec := patients.SourceRecord{
		FacilityID: facility, SourceSystemID: source, LocalID: linkTokenAddress(sp.ABHAAddress),
		Name: sp.Name, Gender: string(sp.Gender), Mobile: sp.PhoneNumber,
		ABHANumber: abhaNumber, ABHAAddress: sp.ABHAAddress,
	}
	rec.BirthDate, rec.BirthYear = shareBirth(sp)
	if a := sp.Address; a != nil {
		rec.Address = strings.Join(shareNonEmpty(a.Line, a.District, a.State), ", ")
		rec.PinCode = a.Pincode
	}
	d, err := s.cfg.Patients.Ingest(ctx, tenant, rec)
	if err != nil {
		return "", fmt.Errorf("filing the shared profile: %w", err)
	}
	if err := s.cfg.Patients.VerifyABHA(ctx, tenant, d.PatientID, abhaNumber, sp.ABHAAddress); err != nil {
		if !errors.Is(err, patients.ErrConflict) && !errors.Is(err, patients.ErrInvalid) {
			return "", fmt.Errorf("recording the shared ABHA: %w", err)
		}
		// Two masters for one ABHA is for a person to merge; the queue
		// token must not wait for that.
		s.cfg.Logger.WarnContext(ctx, "hip: shared ABHA not marked verified", "patient", d.PatientID, "error", err)
	}
	return d.PatientID, nil
}

// shareCounter returns the id of the facility's counter with this code,
// creating it the first time its QR is scanned.
func shareCounter(ctx context.Context, tx pgx.Tx, tenant, facility, code string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `
		INSERT INTO counters (tenant_id, facility_id, code, name) VALUES ($1, $2, $3, $3)
		ON CONFLICT (facility_id, code) DO UPDATE SET code = EXCLUDED.code
		RETURNING id::text`, tenant, facility, code).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("finding counter %q: %w", code, err)
	}
	return id, nil
}

type shareToken struct {
	number    int
	expiresAt time.Time
}

// shareIssueToken gives the patient the counter's next token of the day,
// or the one they already hold there if it is still valid and waiting.
func (s *Service) shareIssueToken(ctx context.Context, tx pgx.Tx, cb *bridge.Callback, counterID, patientID string, sp abdm.SharePatient, abhaNumber string) (shareToken, error) {
	now := s.now()
	day := shareDay(now, s.cfg.Location)
	addr := linkTokenAddress(sp.ABHAAddress)
	var tok shareToken
	err := tx.QueryRow(ctx, `
		SELECT token_number, expires_at FROM hip_share_tokens
		WHERE counter_id = $1 AND day = $2 AND abha_address = $3 AND status = 'waiting' AND expires_at > $4
		ORDER BY token_number DESC LIMIT 1`, counterID, day, addr, now).Scan(&tok.number, &tok.expiresAt)
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return tok, fmt.Errorf("looking for a valid token: %w", err)
	}
	// The row lock of the upsert hands out each number once.
	if err := tx.QueryRow(ctx, `
		INSERT INTO hip_counter_days (counter_id, day, tenant_id, last_token) VALUES ($1, $2, $3, 1)
		ON CONFLICT (counter_id, day) DO UPDATE SET last_token = hip_counter_days.last_token + 1
		RETURNING last_token`, counterID, day, cb.Tenant).Scan(&tok.number); err != nil {
		return tok, fmt.Errorf("taking the next token number: %w", err)
	}
	tok.expiresAt = now.Add(s.cfg.ShareTokenTTL)
	birthDate, birthYear := shareBirth(sp)
	var pid, bdate, byear any
	if patientID != "" {
		pid = patientID
	}
	if !birthDate.IsZero() {
		bdate = birthDate
	}
	if birthYear != 0 {
		byear = birthYear
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO hip_share_tokens (tenant_id, facility_id, counter_id, day, token_number, request_id, patient_id,
			abha_address, abha_number, name, gender, birth_year, birth_date, shared_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		cb.Tenant, cb.FacilityID, counterID, day, tok.number, cb.RequestID, pid,
		addr, abhaNumber, sp.Name, string(sp.Gender), byear, bdate, now, tok.expiresAt)
	if err != nil {
		return tok, fmt.Errorf("recording token %d: %w", tok.number, err)
	}
	return tok, nil
}

// shareDay is the facility-local calendar day of t, as a UTC midnight
// (how pgx hands a date column back).
func shareDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// shareBirth reads the birth-date parts of a shared profile.
func shareBirth(sp abdm.SharePatient) (time.Time, int) {
	y, _ := strconv.Atoi(strings.TrimSpace(string(sp.YearOfBirth)))
	m, _ := strconv.Atoi(strings.TrimSpace(string(sp.MonthOfBirth)))
	d, _ := strconv.Atoi(strings.TrimSpace(string(sp.DayOfBirth)))
	if y < 1850 || y > 2200 {
		return time.Time{}, 0
	}
	if m >= 1 && m <= 12 && d >= 1 && d <= 31 {
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if t.Day() == d {
			return t, y
		}
	}
	return time.Time{}, y
}

// shareDigits strips an ABHA number to its digits ("91-1234-..." is
// refused by the gateway in linking calls).
func shareDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sharePtr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func shareNonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
