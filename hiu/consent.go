package hiu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
)

// Consent request statuses as stored. Sending means queued to the gateway
// with no consent request id yet; failed means the gateway refused it.
const (
	StatusSending   = "sending"
	StatusRequested = "requested"
	StatusGranted   = "granted"
	StatusDenied    = "denied"
	StatusExpired   = "expired"
	StatusRevoked   = "revoked"
	StatusFailed    = "failed"
)

// ErrNotFound reports a consent request, facility or data request that
// does not exist for the tenant.
var ErrNotFound = errors.New("hiu: not found")

// Request is a consent request to make.
type Request struct {
	// PatientABHAAddress is the patient's ABHA address, e.g. from the
	// master patient index; PatientID optionally ties the request (and the
	// records received under it) to that master patient.
	PatientABHAAddress string
	PatientID          string
	// Purpose is an abdm.Purpose* code, e.g. abdm.PurposeCareManagement.
	Purpose string
	HITypes []abdm.HIType
	// From and To bound the records asked for; Expiry is when the consent
	// (and everything received under it) ends: the artefact's dataEraseAt.
	From, To, Expiry time.Time
	// HIP optionally narrows the request to one HIP service id.
	HIP string
	// RequesterName is the clinician's name; RequesterID their HPR id or
	// registration number (optional).
	RequesterName string
	RequesterID   string
}

func (r *Request) validate(now time.Time) error {
	var errs []error
	if !strings.Contains(r.PatientABHAAddress, "@") {
		errs = append(errs, errors.New("patient ABHA address must look like name@cm"))
	}
	if _, ok := abdm.PurposeOf(r.Purpose); !ok {
		errs = append(errs, fmt.Errorf("unknown purpose %q", r.Purpose))
	}
	if len(r.HITypes) == 0 {
		errs = append(errs, errors.New("at least one HI type is required"))
	}
	if r.From.IsZero() || r.To.IsZero() || r.To.Before(r.From) {
		errs = append(errs, errors.New("from and to must be set, from not after to"))
	}
	if r.To.After(now) {
		// The consent manager refuses future dates (ABDM-9999).
		errs = append(errs, errors.New("to cannot be in the future"))
	}
	if !r.Expiry.After(now) {
		errs = append(errs, errors.New("expiry must be in the future"))
	}
	if strings.TrimSpace(r.RequesterName) == "" {
		errs = append(errs, errors.New("requester name is required"))
	}
	return errors.Join(errs...)
}

// CreateConsentRequest stores a consent request and queues its
// consent/v3/request/init call. facility is the id of the tenant's facility
// making the request; its service id is sent as the HIU id. It returns the
// new request's id.
func (s *Service) CreateConsentRequest(ctx context.Context, tenant, facility string, req Request) (string, error) {
	now := s.now()
	if err := req.validate(now); err != nil {
		return "", fmt.Errorf("invalid consent request: %w", err)
	}
	purpose, _ := abdm.PurposeOf(req.Purpose)
	types := make([]string, len(req.HITypes))
	for i, t := range req.HITypes {
		types[i] = string(t)
	}
	var id string
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		var hiuID string
		err := tx.QueryRow(ctx, "SELECT hip_id FROM facilities WHERE id::text = $1", facility).Scan(&hiuID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("facility %s: %w", facility, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("reading facility: %w", err)
		}
		body := abdm.ConsentRequestInitRequest{Consent: abdm.ConsentRequest{
			Purpose:   purpose,
			Patient:   abdm.Ref{ID: strings.ToLower(strings.TrimSpace(req.PatientABHAAddress))},
			HIU:       abdm.Party{ID: hiuID},
			Requester: abdm.Requester{Name: req.RequesterName},
			HITypes:   req.HITypes,
			Permission: abdm.Permission{
				AccessMode:  abdm.AccessView,
				DateRange:   abdm.DateRange{From: abdm.NewTime(req.From.UTC()), To: abdm.NewTime(req.To.UTC())},
				DataEraseAt: abdm.NewTime(req.Expiry.UTC()),
				Frequency:   abdm.Frequency{Unit: abdm.FrequencyHour, Value: 1, Repeats: 0},
			},
		}}
		if req.HIP != "" {
			body.Consent.HIP = &abdm.Party{ID: req.HIP}
		}
		if req.RequesterID != "" {
			body.Consent.Requester.Identifier = &abdm.RequesterIdentifier{Type: "REGNO", Value: req.RequesterID}
		}
		sent, err := s.bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: tenant, Path: abdm.PathConsentRequestInit, HIUID: hiuID, Body: body,
		})
		if err != nil {
			return fmt.Errorf("queueing consent request init: %w", err)
		}
		var patientID *string
		if req.PatientID != "" {
			patientID = &req.PatientID
		}
		err = tx.QueryRow(ctx, `INSERT INTO hiu_consent_requests
			(tenant_id, facility_id, hiu_id, patient_abha_address, patient_id, purpose, hi_types,
			 date_from, date_to, expires_at, hip_id, requester_name, requester_id, status, init_exchange_id)
			VALUES (app_tenant_id(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			RETURNING id::text`,
			facility, hiuID, body.Consent.Patient.ID, patientID, req.Purpose, types,
			req.From.UTC(), req.To.UTC(), req.Expiry.UTC(), req.HIP, req.RequesterName, req.RequesterID,
			StatusSending, sent.ExchangeID).Scan(&id)
		if err != nil {
			return fmt.Errorf("storing consent request: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// onInit stores the consent manager's id for our request.
func (s *Service) onInit(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.ConsentRequestOnInitRequest
	if err := cb.Decode(&msg); err != nil {
		return river.JobCancel(err)
	}
	if cb.RelatedID == 0 {
		return river.JobCancel(errors.New("on-init answers no request of ours"))
	}
	if msg.Error != nil || msg.ConsentRequest == nil || msg.ConsentRequest.ID == "" {
		detail := "no consent request id"
		if msg.Error != nil {
			detail = msg.Error.Code + " " + msg.Error.Message
		}
		_, err := tx.Exec(ctx, `UPDATE hiu_consent_requests SET status = $2, last_error = $3, updated_at = now()
			WHERE init_exchange_id = $1 AND status = 'sending'`, cb.RelatedID, StatusFailed, detail)
		if err != nil {
			return fmt.Errorf("marking consent request failed: %w", err)
		}
		return nil
	}
	now := s.now()
	tag, err := tx.Exec(ctx, `UPDATE hiu_consent_requests
		SET gateway_id = $2, status = CASE WHEN status = 'sending' THEN 'requested' ELSE status END,
		    requested_at = coalesce(requested_at, $3), next_poll_at = $4, updated_at = now()
		WHERE init_exchange_id = $1`, cb.RelatedID, msg.ConsentRequest.ID, now, now.Add(s.cfg.PollBase))
	if err != nil {
		return fmt.Errorf("storing consent request id: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return river.JobCancel(errors.New("on-init for an unknown consent request"))
	}
	return nil
}

// onStatus applies a polled status.
func (s *Service) onStatus(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.ConsentRequestOnStatusRequest
	if err := cb.Decode(&msg); err != nil {
		return river.JobCancel(err)
	}
	if msg.Error != nil || msg.ConsentRequest == nil {
		return nil // the next poll asks again
	}
	_, err := s.applyStatus(ctx, tx, cb.Tenant, msg.ConsentRequest.ID, msg.ConsentRequest.Status, msg.ConsentRequest.ConsentArtefacts)
	return err
}

// onNotify applies the patient's decision and acknowledges it.
func (s *Service) onNotify(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.HIUConsentNotifyRequest
	if err := cb.Decode(&msg); err != nil {
		return river.JobCancel(err)
	}
	n := msg.Notification
	known, err := s.applyStatus(ctx, tx, cb.Tenant, n.ConsentRequestID, n.Status, n.ConsentArtefacts)
	if err != nil {
		return err
	}
	acks := make([]abdm.HIUConsentAck, 0, len(n.ConsentArtefacts))
	for _, a := range n.ConsentArtefacts {
		acks = append(acks, abdm.HIUConsentAck{ConsentID: a.ID, Status: abdm.AckOK})
	}
	reply := abdm.HIUConsentOnNotifyRequest{Acknowledgement: acks, Response: abdm.ResponseRef{RequestID: cb.RequestID}}
	if !known {
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1001", Message: "unknown consent request"}
	}
	if _, err := s.bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: cb.Tenant, Path: abdm.PathHIUConsentOnNotify, HIUID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
	}); err != nil {
		return fmt.Errorf("queueing consent on-notify: %w", err)
	}
	return nil
}

// applyStatus moves a consent request (by the consent manager's id) to
// status. GRANTED queues a fetch of each new artefact; REVOKED and EXPIRED
// with artefacts mark them and queue their purge at once. It reports
// whether the request is ours.
func (s *Service) applyStatus(ctx context.Context, tx pgx.Tx, tenant, gatewayID string, status abdm.ConsentStatus, artefacts []abdm.Ref) (bool, error) {
	var id, hiuID, current string
	err := tx.QueryRow(ctx, `SELECT id::text, hiu_id, status FROM hiu_consent_requests
		WHERE gateway_id = $1 FOR UPDATE`, gatewayID).Scan(&id, &hiuID, &current)
	if errors.Is(err, pgx.ErrNoRows) {
		s.log.WarnContext(ctx, "consent status for an unknown consent request", "tenant", tenant)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading consent request: %w", err)
	}
	now := s.now()
	var column string
	switch status {
	case abdm.ConsentRequested:
		return true, nil
	case abdm.ConsentGranted:
		column = "granted_at"
	case abdm.ConsentDenied:
		column = "denied_at"
	case abdm.ConsentExpired:
		column = "expired_at"
	case abdm.ConsentRevoked:
		column = "revoked_at"
	default:
		return true, river.JobCancel(fmt.Errorf("unknown consent status %q", status))
	}
	next := strings.ToLower(string(status))
	// A revocation or expiry of artefacts after a grant is recorded as
	// such; a late poll answer never undoes a later decision.
	if _, err := tx.Exec(ctx, `UPDATE hiu_consent_requests SET status = $2, `+column+` = coalesce(`+column+`, $3),
		next_poll_at = NULL, updated_at = now() WHERE id = $1`, id, next, now); err != nil {
		return true, fmt.Errorf("updating consent request status: %w", err)
	}
	switch status {
	case abdm.ConsentGranted:
		for _, a := range artefacts {
			if err := s.addArtefact(ctx, tx, tenant, id, hiuID, a.ID); err != nil {
				return true, err
			}
		}
	case abdm.ConsentRevoked, abdm.ConsentExpired:
		ids := make([]string, len(artefacts))
		for i, a := range artefacts {
			ids[i] = a.ID
		}
		// EXPIRED without artefacts is the request itself expiring: end
		// every artefact granted under it.
		rows, err := tx.Query(ctx, `UPDATE hiu_consents SET status = $3, updated_at = now()
			WHERE consent_request_id = $1 AND (coalesce(cardinality($2::text[]), 0) = 0 OR artefact_id = ANY($2))
			RETURNING id::text`, id, ids, next)
		if err != nil {
			return true, fmt.Errorf("ending artefacts: %w", err)
		}
		ended, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return true, fmt.Errorf("ending artefacts: %w", err)
		}
		for _, c := range ended {
			if _, err := s.inserter.InsertTx(ctx, tx, PurgeArgs{Tenant: tenant, Consent: c, Reason: next},
				&river.InsertOpts{Queue: s.cfg.Queue}); err != nil {
				return true, fmt.Errorf("queueing purge: %w", err)
			}
		}
	}
	return true, nil
}

// addArtefact records a granted artefact and queues its fetch, once.
func (s *Service) addArtefact(ctx context.Context, tx pgx.Tx, tenant, requestID, hiuID, artefactID string) error {
	var consentID string
	err := tx.QueryRow(ctx, `INSERT INTO hiu_consents (tenant_id, consent_request_id, artefact_id, status)
		VALUES (app_tenant_id(), $1, $2, 'granted') ON CONFLICT (tenant_id, artefact_id) DO NOTHING
		RETURNING id::text`, requestID, artefactID).Scan(&consentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // already known: notify and on-status both report grants
	}
	if err != nil {
		return fmt.Errorf("storing artefact: %w", err)
	}
	sent, err := s.bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: tenant, Path: abdm.PathConsentFetch, HIUID: hiuID, Body: abdm.ConsentFetchRequest{ConsentID: artefactID},
	})
	if err != nil {
		return fmt.Errorf("queueing consent fetch: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE hiu_consents SET fetch_exchange_id = $2 WHERE id = $1", consentID, sent.ExchangeID); err != nil {
		return fmt.Errorf("storing fetch exchange: %w", err)
	}
	return nil
}

// ConsentRequest is a stored consent request, for the consent page.
type ConsentRequest struct {
	ID                 string
	FacilityID         string
	HIUID              string
	PatientABHAAddress string
	PatientID          string
	Purpose            string
	HITypes            []string
	From, To, Expiry   time.Time
	HIP                string
	RequesterName      string
	Status             string
	GatewayID          string
	LastError          string
	CreatedAt          time.Time
	// Times of each status reached; zero when not reached.
	RequestedAt, GrantedAt, DeniedAt, ExpiredAt, RevokedAt time.Time
	// Artefacts are the consents granted under the request.
	Artefacts []Artefact
}

// Artefact is a granted consent artefact as fetched.
type Artefact struct {
	ID          string
	ArtefactID  string
	Status      string
	HIP         string
	HIPName     string // empty when the artefact named none
	HITypes     []string
	From, To    time.Time
	DataEraseAt time.Time
	FetchedAt   time.Time
	PurgedAt    time.Time
}

// Filter narrows ConsentRequests. Empty fields match everything.
type Filter struct {
	PatientABHAAddress string
	PatientID          string
	Status             string
	// Limit defaults to 100.
	Limit int
}

// ConsentRequests lists a tenant's consent requests, newest first.
func (s *Service) ConsentRequests(ctx context.Context, tenant string, f Filter) ([]ConsentRequest, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var out []ConsentRequest
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id::text, facility_id::text, hiu_id, patient_abha_address,
			coalesce(patient_id::text, ''), purpose, hi_types, date_from, date_to, expires_at, hip_id,
			requester_name, status, gateway_id, last_error, created_at,
			requested_at, granted_at, denied_at, expired_at, revoked_at
			FROM hiu_consent_requests
			WHERE ($1 = '' OR patient_abha_address = lower($1)) AND ($2 = '' OR patient_id::text = $2)
			  AND ($3 = '' OR status = $3)
			ORDER BY created_at DESC, id LIMIT $4`, f.PatientABHAAddress, f.PatientID, f.Status, f.Limit)
		if err != nil {
			return fmt.Errorf("listing consent requests: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConsentRequest, error) {
			var c ConsentRequest
			var req, gr, de, ex, rv *time.Time
			err := r.Scan(&c.ID, &c.FacilityID, &c.HIUID, &c.PatientABHAAddress, &c.PatientID, &c.Purpose, &c.HITypes,
				&c.From, &c.To, &c.Expiry, &c.HIP, &c.RequesterName, &c.Status, &c.GatewayID, &c.LastError, &c.CreatedAt,
				&req, &gr, &de, &ex, &rv)
			c.RequestedAt, c.GrantedAt, c.DeniedAt, c.ExpiredAt, c.RevokedAt = deref(req), deref(gr), deref(de), deref(ex), deref(rv)
			return c, err
		})
		if err != nil {
			return fmt.Errorf("reading consent requests: %w", err)
		}
		for i := range out {
			rows, err := tx.Query(ctx, `SELECT id::text, artefact_id, status, hip_id, hip_name, hi_types,
				date_from, date_to, data_erase_at, fetched_at, purged_at
				FROM hiu_consents WHERE consent_request_id = $1 ORDER BY created_at, id`, out[i].ID)
			if err != nil {
				return fmt.Errorf("listing artefacts: %w", err)
			}
			out[i].Artefacts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Artefact, error) {
				var a Artefact
				var from, to, erase, fetched, purged *time.Time
				err := r.Scan(&a.ID, &a.ArtefactID, &a.Status, &a.HIP, &a.HIPName, &a.HITypes, &from, &to, &erase, &fetched, &purged)
				a.From, a.To, a.DataEraseAt, a.FetchedAt, a.PurgedAt = deref(from), deref(to), deref(erase), deref(fetched), deref(purged)
				return a, err
			})
			if err != nil {
				return fmt.Errorf("reading artefacts: %w", err)
			}
		}
		return nil
	})
	return out, err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
