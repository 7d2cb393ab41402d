package hip

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

const (
	routeLinkInit    = "hip.link_init"
	routeLinkConfirm = "hip.link_confirm"
)

// Defaults for user-initiated linking.
const (
	DefaultLinkOTPExpiry   = 10 * time.Minute
	DefaultLinkMaxAttempts = 3
)

// OTPSender delivers a linking OTP to the patient's mobile (the one the
// HIP holds, as the reference says). Implementations must not log the OTP.
type OTPSender interface {
	SendLinkOTP(ctx context.Context, tenant, mobile, otp string, expires time.Time) error
}

// userlinkOTP is a fresh 6-digit OTP.
func userlinkOTP() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("generating OTP: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// userlinkRefusal is an error answered in on-init / on-confirm.
func userlinkRefusal(code, msg string) *abdm.ErrorDetail {
	return &abdm.ErrorDetail{Code: code, Message: msg}
}

// linkInit checks that the chosen care contexts are this patient's and not
// yet linked, sends an OTP to the mobile we hold and answers on-init with
// the link reference.
func (m *M2) linkInit(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var req abdm.LinkInitRequest
	if err := cb.Decode(&req); err != nil {
		return river.JobCancel(err)
	}
	reply := abdm.LinkOnInitRequest{TransactionID: req.TransactionID, Response: abdm.ResponseRef{RequestID: cb.RequestID}}
	send := func() error {
		_, err := m.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: cb.Tenant, Path: abdm.PathLinkOnInit, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
		})
		if err != nil {
			return fmt.Errorf("queueing link on-init: %w", err)
		}
		return nil
	}
	if len(req.Patient) == 0 || req.ABHAAddress == "" {
		reply.Error = userlinkRefusal("ABDM-1006", "abhaAddress and at least one care context are required")
		return send()
	}
	patientRef := req.Patient[0].ReferenceNumber
	master, err := m.cfg.Patients.Patient(ctx, cb.Tenant, patientRef)
	if err != nil {
		reply.Error = userlinkRefusal("ABDM-1010", "Patient not found")
		return send()
	}
	linked, err := discoverLinked(ctx, tx, cb.FacilityID)
	if err != nil {
		return err
	}
	var refs []string
	for _, p := range req.Patient {
		if p.ReferenceNumber != patientRef {
			reply.Error = userlinkRefusal("ABDM-1006", "care contexts of more than one patient")
			return send()
		}
		for _, c := range p.CareContexts {
			reg, err := sources.LookupCareContext(ctx, tx, cb.FacilityID, c.ReferenceNumber)
			if errors.Is(err, sources.ErrNotFound) || (err == nil && !userlinkOwns(master, cb.FacilityID, reg)) {
				reply.Error = userlinkRefusal("ABDM-9999", "Care context not found for this patient")
				return send()
			}
			if err != nil {
				return err
			}
			if linked[c.ReferenceNumber] {
				reply.Error = userlinkRefusal("ABDM-1056", "Care context already linked")
				return send()
			}
			refs = append(refs, c.ReferenceNumber)
		}
	}
	if len(refs) == 0 {
		reply.Error = userlinkRefusal("ABDM-1006", "no care contexts to link")
		return send()
	}
	if master.Summary.Mobile == "" {
		reply.Error = userlinkRefusal("ABDM-9999", "No mobile number on record to send the OTP to")
		return send()
	}
	otp, err := userlinkOTP()
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(otp), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hashing OTP: %w", err)
	}
	ref := uuid.NewString()
	expires := m.cfg.Now().Add(m.cfg.LinkOTPExpiry).UTC()
	if _, err := tx.Exec(ctx, `
		INSERT INTO hip_user_links (link_ref, tenant_id, facility_id, transaction_id, abha_address, patient_reference, care_contexts, otp_hash, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ref, cb.Tenant, cb.FacilityID, req.TransactionID, req.ABHAAddress, patientRef, refs, hash, expires); err != nil {
		return fmt.Errorf("storing link request: %w", err)
	}
	// Sent before commit: a failure rolls back and the callback is retried
	// with a new OTP, never leaving a link the patient cannot confirm.
	if err := m.cfg.OTPSender.SendLinkOTP(ctx, cb.Tenant, master.Summary.Mobile, otp, expires); err != nil {
		return fmt.Errorf("sending link OTP: %w", err)
	}
	reply.Link = &abdm.LinkReference{
		ReferenceNumber: ref, AuthenticationType: abdm.AuthenticationDirect,
		Meta: &abdm.LinkMeta{CommunicationMedium: abdm.CommunicationMobile, CommunicationHint: "OTP", CommunicationExpiry: abdm.NewTime(expires)},
	}
	return send()
}

// userlinkOwns reports whether reg is one of master's records at the
// facility.
func userlinkOwns(master patients.Patient, facilityID string, reg sources.Registered) bool {
	for _, l := range master.Links {
		if l.FacilityID == facilityID && l.SourceSystemID == reg.SourceSystemID && l.LocalID == reg.PatientID {
			return true
		}
	}
	return false
}

// linkConfirm verifies the OTP and links the care contexts. Wrong OTPs
// count against the link; after the last attempt or the expiry the link
// fails and a new init is needed.
func (m *M2) linkConfirm(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var req abdm.LinkConfirmRequest
	if err := cb.Decode(&req); err != nil {
		return river.JobCancel(err)
	}
	reply := abdm.LinkOnConfirmRequest{Response: abdm.ResponseRef{RequestID: cb.RequestID}}
	send := func() error {
		_, err := m.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: cb.Tenant, Path: abdm.PathLinkOnConfirm, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
		})
		if err != nil {
			return fmt.Errorf("queueing link on-confirm: %w", err)
		}
		return nil
	}
	var (
		state, abha, patientRef string
		refs                    []string
		hash                    []byte
		expires                 time.Time
		attempts                int
	)
	_, perr := uuid.Parse(req.Confirmation.LinkRefNumber)
	err := tx.QueryRow(ctx, `
		SELECT state, abha_address, patient_reference, care_contexts, otp_hash, expires_at, attempts
		FROM hip_user_links WHERE link_ref::text = $1 AND facility_id::text = $2 FOR UPDATE`,
		req.Confirmation.LinkRefNumber, cb.FacilityID).Scan(&state, &abha, &patientRef, &refs, &hash, &expires, &attempts)
	if perr != nil || errors.Is(err, pgx.ErrNoRows) || (err == nil && state != "pending") {
		reply.Error = userlinkRefusal("ABDM-1056", "Invalid or already used link reference")
		return send()
	}
	if err != nil {
		return fmt.Errorf("loading link request: %w", err)
	}
	fail := func(msg string) error {
		if _, err := tx.Exec(ctx, `UPDATE hip_user_links SET state = 'failed' WHERE link_ref::text = $1`, req.Confirmation.LinkRefNumber); err != nil {
			return fmt.Errorf("failing link request: %w", err)
		}
		reply.Error = userlinkRefusal("ABDM-9999", msg)
		return send()
	}
	if !m.cfg.Now().Before(expires) {
		return fail("OTP expired")
	}
	if attempts >= m.cfg.LinkMaxAttempts {
		return fail("Too many incorrect OTP attempts")
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Confirmation.Token)) != nil {
		attempts++
		if attempts >= m.cfg.LinkMaxAttempts {
			return fail("Incorrect OTP; no attempts left")
		}
		if _, err := tx.Exec(ctx, `UPDATE hip_user_links SET attempts = $2 WHERE link_ref::text = $1`, req.Confirmation.LinkRefNumber, attempts); err != nil {
			return fmt.Errorf("counting OTP attempt: %w", err)
		}
		reply.Error = userlinkRefusal("ABDM-9999", "Incorrect OTP")
		return send()
	}
	if _, err := tx.Exec(ctx, `UPDATE hip_user_links SET state = 'linked', linked_at = now() WHERE link_ref::text = $1`, req.Confirmation.LinkRefNumber); err != nil {
		return fmt.Errorf("marking link: %w", err)
	}
	byType := map[abdm.HIType][]abdm.CareContext{}
	for _, r := range refs {
		if _, err := tx.Exec(ctx, `INSERT INTO hip_user_linked (tenant_id, facility_id, reference, abha_address, link_ref)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (facility_id, reference) DO NOTHING`,
			cb.Tenant, cb.FacilityID, r, abha, req.Confirmation.LinkRefNumber); err != nil {
			return fmt.Errorf("recording linked care context: %w", err)
		}
		reg, err := sources.LookupCareContext(ctx, tx, cb.FacilityID, r)
		if err != nil {
			return err
		}
		byType[abdm.HIType(reg.HIType)] = append(byType[abdm.HIType(reg.HIType)], abdm.CareContext{ReferenceNumber: r, Display: reg.Display})
	}
	display := ""
	if master, err := m.cfg.Patients.Patient(ctx, cb.Tenant, patientRef); err == nil {
		display = master.Summary.Name
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, string(t))
	}
	sort.Strings(types)
	for _, t := range types {
		reply.Patient = append(reply.Patient, abdm.NewPatientCareContexts(patientRef, display, abdm.HIType(t), byType[abdm.HIType(t)]...))
	}
	return send()
}
