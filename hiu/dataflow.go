package hiu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/keys"
)

// Data request statuses.
const (
	dataRequested    = "requested"
	dataAcknowledged = "acknowledged"
	dataCompleted    = "completed"
	dataFailed       = "failed"
	dataExpired      = "expired"
)

// onFetch stores an artefact and, while it is granted, asks for its data.
func (s *Service) onFetch(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.ConsentOnFetchRequest
	if err := cb.Decode(&msg); err != nil {
		return river.JobCancel(err)
	}
	if msg.Error != nil || msg.Consent == nil {
		s.log.WarnContext(ctx, "consent fetch failed", "tenant", cb.Tenant, "exchange", cb.RelatedID)
		return nil
	}
	d := msg.Consent.ConsentDetail
	var consentID, status string
	err := tx.QueryRow(ctx, `SELECT id::text, status FROM hiu_consents
		WHERE artefact_id = $1 OR (fetch_exchange_id = $2 AND $2 <> 0) FOR UPDATE`, d.ConsentID, cb.RelatedID).Scan(&consentID, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(errors.New("on-fetch for an unknown artefact"))
	}
	if err != nil {
		return fmt.Errorf("reading artefact: %w", err)
	}
	var hip, hipName string
	if d.HIP != nil {
		hip, hipName = d.HIP.ID, strings.TrimSpace(d.HIP.Name)
	}
	contexts, err := json.Marshal(d.CareContexts)
	if err != nil {
		return fmt.Errorf("encoding care contexts: %w", err)
	}
	types := make([]string, len(d.HITypes))
	for i, t := range d.HITypes {
		types[i] = string(t)
	}
	erase := d.Permission.DataEraseAt.Time
	var eraseAt *time.Time
	if !erase.IsZero() {
		eraseAt = &erase
	}
	if _, err := tx.Exec(ctx, `UPDATE hiu_consents SET fetched_at = $2, hip_id = $3, hip_name = $4, care_contexts = $5, hi_types = $6,
		date_from = $7, date_to = $8, data_erase_at = $9, updated_at = now() WHERE id = $1`,
		consentID, s.now(), hip, hipName, contexts, types, d.Permission.DateRange.From.Time, d.Permission.DateRange.To.Time, eraseAt); err != nil {
		return fmt.Errorf("storing artefact: %w", err)
	}
	if status != StatusGranted || msg.Consent.Status != abdm.ConsentGranted {
		return nil
	}
	// The key pair is made and stored by a job, outside this transaction:
	// the key store needs a connection of its own, and a processor holding
	// one while waiting for another can starve the pool.
	if _, err := s.inserter.InsertTx(ctx, tx, DataRequestArgs{Tenant: cb.Tenant, Consent: consentID, HIUID: cb.ServiceID},
		&river.InsertOpts{Queue: s.cfg.Queue}); err != nil {
		return fmt.Errorf("queueing data request: %w", err)
	}
	return nil
}

// requestData makes a fresh key pair, keeps its private half in the key
// store and queues health-information/request for the artefact, once.
func (s *Service) requestData(ctx context.Context, tenant, hiuID, consentID string) error {
	type artefact struct {
		artefactID, status string
		from, to           time.Time
		erase              *time.Time
		requests           int
	}
	var a artefact
	read := func(tx pgx.Tx, lock bool) error {
		q := `SELECT artefact_id, status, coalesce(date_from, now()), coalesce(date_to, now()), data_erase_at,
			(SELECT count(*) FROM hiu_data_requests d WHERE d.consent_id = c.id)
			FROM hiu_consents c WHERE id = $1 AND purged_at IS NULL`
		if lock {
			q += " FOR UPDATE"
		}
		err := tx.QueryRow(ctx, q, consentID).Scan(&a.artefactID, &a.status, &a.from, &a.to, &a.erase, &a.requests)
		if errors.Is(err, pgx.ErrNoRows) {
			a.status = ""
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading artefact: %w", err)
		}
		return nil
	}
	if err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error { return read(tx, false) }); err != nil {
		return err
	}
	now := s.now()
	expires := now.Add(s.cfg.KeyLifetime)
	if a.erase != nil && a.erase.Before(expires) {
		expires = *a.erase
	}
	if a.status != StatusGranted || a.requests > 0 || !expires.After(now) {
		return nil
	}
	key, err := fidelius.GenerateKey()
	if err != nil {
		return fmt.Errorf("generating key pair: %w", err)
	}
	nonce := fidelius.NewNonce()
	id := uuid.NewString()
	keyName := "hiu-" + id
	// Stored first: if the transaction below fails, the key is nobody's
	// and expires on its own; the reverse would send a key we cannot use.
	if err := s.keys.Put(ctx, keys.Secret{
		Ref:       keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: keyName},
		Value:     []byte(key.Encode()),
		ExpiresAt: expires,
	}); err != nil {
		return fmt.Errorf("storing private key: %w", err)
	}
	sent := false
	err = database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		if err := read(tx, true); err != nil {
			return err
		}
		if a.status != StatusGranted || a.requests > 0 {
			return nil // revoked or requested meanwhile
		}
		slug, err := tenantSlug(ctx, tx, tenant)
		if err != nil {
			return err
		}
		km := fidelius.NewKeyMaterial(key.PublicKey().Raw(), nonce, expires)
		body := abdm.HealthInformationRequest{HIRequest: abdm.HIRequest{
			Consent:     abdm.Ref{ID: a.artefactID},
			DateRange:   abdm.DateRange{From: abdm.NewTime(a.from), To: abdm.NewTime(a.to)},
			DataPushURL: s.pushURL(slug, id),
			KeyMaterial: abdm.KeyMaterial{
				CryptoAlg: km.CryptoAlg, Curve: km.Curve, Nonce: km.Nonce,
				DHPublicKey: abdm.DHPublicKey{Expiry: abdm.NewTime(expires), Parameters: km.DHPublicKey.Parameters, KeyValue: km.DHPublicKey.KeyValue},
			},
		}}
		call, err := s.bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: tenant, Path: abdm.PathHealthInformationRequest, HIUID: hiuID, Body: body,
		})
		if err != nil {
			return fmt.Errorf("queueing health-information request: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hiu_data_requests
			(id, tenant_id, consent_id, key_name, nonce, hi_exchange_id, status, expires_at)
			VALUES ($1, app_tenant_id(), $2, $3, $4, $5, $6, $7)`,
			id, consentID, keyName, nonce.String(), call.ExchangeID, dataRequested, expires); err != nil {
			return fmt.Errorf("storing data request: %w", err)
		}
		sent = true
		return nil
	})
	if err != nil || !sent {
		return errors.Join(err, s.deleteKey(ctx, tenant, keyName))
	}
	return nil
}

// pushURL is where the HIP pushes the data of one request.
func (s *Service) pushURL(slug, dataRequest string) string {
	return s.cfg.PublicURL + "/bridge/" + slug + "/hiu/data-push/" + dataRequest
}

// onRequest stores the transaction id of our health-information request.
func (s *Service) onRequest(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.HealthInformationOnRequest
	if err := cb.Decode(&msg); err != nil {
		return river.JobCancel(err)
	}
	var id, keyName string
	err := tx.QueryRow(ctx, `SELECT id::text, key_name FROM hiu_data_requests WHERE hi_exchange_id = $1 FOR UPDATE`,
		cb.RelatedID).Scan(&id, &keyName)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(errors.New("on-request answers no data request of ours"))
	}
	if err != nil {
		return fmt.Errorf("reading data request: %w", err)
	}
	if msg.Error != nil || msg.HIRequest == nil || msg.HIRequest.TransactionID == "" {
		detail := "no transaction id"
		if msg.Error != nil {
			detail = msg.Error.Code + " " + msg.Error.Message
		}
		if _, err := tx.Exec(ctx, `UPDATE hiu_data_requests SET status = $2, last_error = $3, updated_at = now()
			WHERE id = $1 AND status IN ('requested', 'acknowledged')`, id, dataFailed, detail); err != nil {
			return fmt.Errorf("marking data request failed: %w", err)
		}
		// Deleted by a job: the key store needs a connection of its own.
		if _, err := s.inserter.InsertTx(ctx, tx, DeleteKeyArgs{Tenant: cb.Tenant, Name: keyName},
			&river.InsertOpts{Queue: s.cfg.Queue}); err != nil {
			return fmt.Errorf("queueing key deletion: %w", err)
		}
		return nil
	}
	// The push may have come first and set the transaction already.
	if _, err := tx.Exec(ctx, `UPDATE hiu_data_requests
		SET transaction_id = CASE WHEN transaction_id = '' THEN $2 ELSE transaction_id END,
		    status = CASE WHEN status = 'requested' THEN 'acknowledged' ELSE status END, updated_at = now()
		WHERE id = $1`, id, msg.HIRequest.TransactionID); err != nil {
		return fmt.Errorf("storing transaction id: %w", err)
	}
	return nil
}

func (s *Service) deleteKey(ctx context.Context, tenant, name string) error {
	err := s.keys.Delete(ctx, keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: name})
	if err != nil && !errors.Is(err, keys.ErrNotFound) {
		return fmt.Errorf("deleting private key: %w", err)
	}
	return nil
}
