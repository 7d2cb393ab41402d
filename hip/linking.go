package hip

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/sources"
)

// Care-context link states (hip_care_context_links.state).
const (
	linkingWaitingToken = "waiting_token"
	linkingSent         = "sent"
	linkingLinked       = "linked"
	linkingFailed       = "failed"
)

// LinkState is how far HIP-initiated linking of one care context got.
type LinkState struct {
	Reference   string
	ABHAAddress string
	// State is waiting_token, sent, linked or failed.
	State string
	// NotifyState is "", sent, notified or failed.
	NotifyState string
	LastError   string
}

// OnNewCareContext is the sources.CareContextFunc hook: it starts linking a
// newly registered care context in the transaction that registered it.
func (s *Service) OnNewCareContext(ctx context.Context, tx pgx.Tx, tenantID string, reg sources.Registered) error {
	return s.linkingStart(ctx, tx, tenantID, reg)
}

var _ sources.CareContextFunc = (*Service)(nil).OnNewCareContext

// LinkCareContext links the care context (facility, reference) to its
// patient's ABHA, e.g. when staff ask for it; one already linked or on its
// way is left alone. It wraps ErrNotFound for an unknown care context and
// ErrInvalid when its patient has no ABHA address.
func (s *Service) LinkCareContext(ctx context.Context, tenant, facility, reference string) error {
	err := database.InTenant(ctx, s.cfg.Pool, tenant, func(tx pgx.Tx) error {
		reg, err := sources.LookupCareContext(ctx, tx, facility, reference)
		if errors.Is(err, sources.ErrNotFound) {
			return fmt.Errorf("%w: care context %s", ErrNotFound, reference)
		}
		if err != nil {
			return err
		}
		p, ok, err := linkingPatientOf(ctx, tx, reg)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: the patient of care context %s has no ABHA address", ErrInvalid, reference)
		}
		return s.linkingQueue(ctx, tx, tenant, reg, p)
	})
	if err != nil {
		return fmt.Errorf("linking care context %s: %w", reference, err)
	}
	return nil
}

// LinkStates reports the linking state of care contexts of a facility
// (all of them when references is empty).
func (s *Service) LinkStates(ctx context.Context, tenant, facility string, references ...string) ([]LinkState, error) {
	var out []LinkState
	err := database.InTenant(ctx, s.cfg.Pool, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT reference, abha_address, state, notify_state, last_error
			FROM hip_care_context_links WHERE facility_id::text = $1 AND (cardinality($2::text[]) = 0 OR reference = ANY($2))
			ORDER BY reference`, facility, references)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (LinkState, error) {
			var l LinkState
			err := r.Scan(&l.Reference, &l.ABHAAddress, &l.State, &l.NotifyState, &l.LastError)
			return l, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading link states: %w", err)
	}
	return out, nil
}

func (s *Service) linkingStart(ctx context.Context, tx pgx.Tx, tenant string, reg sources.Registered) error {
	p, ok, err := linkingPatientOf(ctx, tx, reg)
	if err != nil || !ok {
		// No ABHA yet: linking starts when staff ask (LinkCareContext).
		return err
	}
	return s.linkingQueue(ctx, tx, tenant, reg, p)
}

// linkingQueue records that reg is to be linked to p's ABHA and sends the
// link now if a token is stored, otherwise asks for one.
func (s *Service) linkingQueue(ctx context.Context, tx pgx.Tx, tenant string, reg sources.Registered, p linkPatient) error {
	addr := linkTokenAddress(p.ABHAAddress)
	_, err := tx.Exec(ctx, `
		INSERT INTO hip_care_context_links (tenant_id, facility_id, reference, abha_address, patient_reference, state)
		VALUES ($1, $2, $3, $4, $5, 'waiting_token')
		ON CONFLICT (facility_id, reference) DO UPDATE SET
			abha_address = EXCLUDED.abha_address, patient_reference = EXCLUDED.patient_reference,
			state = 'waiting_token', last_error = '', updated_at = now()
		WHERE hip_care_context_links.state IN ('waiting_token', 'failed')`,
		tenant, reg.FacilityID, reg.Reference, addr, p.PatientID)
	if err != nil {
		return fmt.Errorf("recording care context %s for linking: %w", reg.Reference, err)
	}
	have, err := s.linkTokenEnsure(ctx, tx, tenant, p)
	if err != nil || !have {
		return err
	}
	return s.linkingSendWaiting(ctx, tx, tenant, reg.FacilityID, addr)
}

// linkingPatientOf finds the master patient of a care context's source
// record and the ABHA and demographics generate-token needs. ok is false
// when the record is not in the index or its patient has no ABHA address.
func linkingPatientOf(ctx context.Context, tx pgx.Tx, reg sources.Registered) (linkPatient, bool, error) {
	p := linkPatient{FacilityID: reg.FacilityID}
	err := tx.QueryRow(ctx, `
		SELECT coalesce(pt.merged_into, pt.id)::text, f.hip_id
		FROM patient_links l JOIN patients pt ON pt.id = l.patient_id JOIN facilities f ON f.id = $3::uuid
		WHERE l.source_system_id::text = $1 AND l.local_id = $2`,
		reg.SourceSystemID, reg.PatientID, reg.FacilityID).Scan(&p.PatientID, &p.HIPID)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("finding the patient of care context %s: %w", reg.Reference, err)
	}
	if err := linkingDemographics(ctx, tx, &p); err != nil {
		return p, false, err
	}
	return p, p.ABHAAddress != "", nil
}

// linkingDemographics fills p's ABHA (verified identifiers first) and the
// most complete name, gender and birth year among its records.
func linkingDemographics(ctx context.Context, tx pgx.Tx, p *linkPatient) error {
	err := tx.QueryRow(ctx, `
		SELECT
			coalesce((SELECT value FROM patient_identifiers WHERE patient_id = $1::uuid AND kind = 'abha_address'
				ORDER BY verified DESC, id LIMIT 1), ''),
			coalesce((SELECT value FROM patient_identifiers WHERE patient_id = $1::uuid AND kind = 'abha_number'
				ORDER BY verified DESC, id LIMIT 1), ''),
			coalesce((SELECT name FROM patient_links WHERE patient_id = $1::uuid AND name <> ''
				ORDER BY (gender <> '')::int + (coalesce(birth_year, extract(year FROM birth_date)::int) IS NOT NULL)::int DESC, updated_at DESC LIMIT 1), ''),
			coalesce((SELECT gender FROM patient_links WHERE patient_id = $1::uuid AND gender <> '' ORDER BY updated_at DESC LIMIT 1), ''),
			coalesce((SELECT coalesce(birth_year, extract(year FROM birth_date)::int) FROM patient_links
				WHERE patient_id = $1::uuid AND coalesce(birth_year, extract(year FROM birth_date)::int) IS NOT NULL
				ORDER BY updated_at DESC LIMIT 1), 0)`,
		p.PatientID).Scan(&p.ABHAAddress, &p.ABHANumber, &p.Name, &p.Gender, &p.BirthYear)
	if err != nil {
		return fmt.Errorf("reading the demographics of patient %s: %w", p.PatientID, err)
	}
	return nil
}

// linkingSendWaiting sends one link/carecontext with every care context
// of addr at facility that waits for a token, grouped per patient
// reference and HI type.
func (s *Service) linkingSendWaiting(ctx context.Context, tx pgx.Tx, tenant, facility, addr string) error {
	rows, err := tx.Query(ctx, `
		SELECT l.reference, l.patient_reference, c.hi_type, c.display
		FROM hip_care_context_links l JOIN care_contexts c USING (facility_id, reference)
		WHERE l.facility_id = $1::uuid AND l.abha_address = $2 AND l.state = 'waiting_token'
		ORDER BY l.patient_reference, c.hi_type, c.occurred_at, l.reference
		FOR UPDATE OF l`, facility, addr)
	if err != nil {
		return fmt.Errorf("reading care contexts waiting for a link token: %w", err)
	}
	type waiting struct{ ref, patientRef, hiType, display string }
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (waiting, error) {
		var w waiting
		err := r.Scan(&w.ref, &w.patientRef, &w.hiType, &w.display)
		return w, err
	})
	if err != nil {
		return fmt.Errorf("reading care contexts waiting for a link token: %w", err)
	}
	if len(ws) == 0 {
		return nil
	}
	p := linkPatient{FacilityID: facility, PatientID: ws[0].patientRef}
	if err := tx.QueryRow(ctx, `SELECT hip_id FROM facilities WHERE id = $1::uuid`, facility).Scan(&p.HIPID); err != nil {
		return fmt.Errorf("reading the facility's HIP id: %w", err)
	}
	if err := linkingDemographics(ctx, tx, &p); err != nil {
		return err
	}
	body := abdm.LinkCareContextRequest{ABHANumber: p.ABHANumber, ABHAAddress: addr}
	var refs []string
	for _, w := range ws {
		refs = append(refs, w.ref)
		cc := abdm.CareContext{ReferenceNumber: w.ref, Display: w.display}
		n := len(body.Patient)
		if n > 0 && body.Patient[n-1].ReferenceNumber == w.patientRef && string(body.Patient[n-1].HIType) == w.hiType {
			g := &body.Patient[n-1]
			g.CareContexts = append(g.CareContexts, cc)
			g.Count = len(g.CareContexts)
			continue
		}
		body.Patient = append(body.Patient, abdm.NewPatientCareContexts(w.patientRef, p.Name, abdm.HIType(w.hiType), cc))
	}
	sent, err := s.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: tenant, Path: abdm.PathLinkCareContext, HIPID: p.HIPID,
		LinkTokenName: linkTokenName(facility, addr), Body: body,
	})
	if err != nil {
		return fmt.Errorf("queueing link/carecontext: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE hip_care_context_links SET state = 'sent', exchange_id = $3, last_error = '', updated_at = now()
		WHERE facility_id = $1::uuid AND reference = ANY($2)`, facility, refs, sent.ExchangeID)
	if err != nil {
		return fmt.Errorf("recording link/carecontext: %w", err)
	}
	return nil
}

// linkingTokenCodes are on_carecontext errors that say the stored token is
// no good: it is dropped and a new one asked for.
var linkingTokenCodes = []string{"ABDM-1026", "ABDM-1038", "ABDM-1062", "ABDM-1063"}

// processOnCareContext marks the care contexts of a link/carecontext
// linked (and sends context notify) or failed.
func (s *Service) processOnCareContext(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.OnCareContextRequest
	if err := cb.Decode(&msg); err != nil {
		return err
	}
	if cb.RelatedID == 0 {
		s.cfg.Logger.WarnContext(ctx, "hip: on_carecontext for no known link request", "exchange", cb.ExchangeID)
		return nil
	}
	var facility, addr, patientRef string
	err := tx.QueryRow(ctx, `SELECT facility_id::text, abha_address, patient_reference FROM hip_care_context_links
		WHERE exchange_id = $1 AND state = 'sent' LIMIT 1`, cb.RelatedID).Scan(&facility, &addr, &patientRef)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // answered already, or re-queued since
	}
	if err != nil {
		return fmt.Errorf("finding linked care contexts: %w", err)
	}
	code := ""
	if msg.Error != nil {
		code = msg.Error.Err().Code
	}
	switch {
	case code == "" || code == "ABDM-1056": // 1056: linked already
		return s.linkingLinked(ctx, tx, cb.Tenant, facility, addr, cb.RelatedID)
	case slices.Contains(linkingTokenCodes, code):
		if err := s.cfg.Keys.Delete(ctx, linkTokenRef(cb.Tenant, facility, addr)); err != nil {
			return fmt.Errorf("dropping a refused link token: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE hip_care_context_links SET state = 'waiting_token', last_error = $2, updated_at = now()
			WHERE exchange_id = $1 AND state = 'sent'`, cb.RelatedID, "link token refused: "+code); err != nil {
			return fmt.Errorf("re-queueing care contexts: %w", err)
		}
		p := linkPatient{FacilityID: facility, PatientID: patientRef}
		if err := tx.QueryRow(ctx, `SELECT hip_id FROM facilities WHERE id = $1::uuid`, facility).Scan(&p.HIPID); err != nil {
			return fmt.Errorf("reading the facility's HIP id: %w", err)
		}
		if err := linkingDemographics(ctx, tx, &p); err != nil {
			return err
		}
		p.ABHAAddress = addr
		_, err := s.linkTokenEnsure(ctx, tx, cb.Tenant, p)
		return err
	default:
		_, err := tx.Exec(ctx, `UPDATE hip_care_context_links SET state = 'failed', last_error = $2, updated_at = now()
			WHERE exchange_id = $1 AND state = 'sent'`, cb.RelatedID, code)
		if err != nil {
			return fmt.Errorf("recording failed link: %w", err)
		}
		return nil
	}
}

// linkingLinked marks the care contexts of one link request linked and
// sends a context notify for each.
func (s *Service) linkingLinked(ctx context.Context, tx pgx.Tx, tenant, facility, addr string, exchange int64) error {
	rows, err := tx.Query(ctx, `
		UPDATE hip_care_context_links l SET state = 'linked', linked_at = now(), last_error = '', updated_at = now()
		FROM care_contexts c
		WHERE l.exchange_id = $1 AND l.state = 'sent' AND c.facility_id = l.facility_id AND c.reference = l.reference
		RETURNING l.reference, l.patient_reference, c.hi_type`, exchange)
	if err != nil {
		return fmt.Errorf("marking care contexts linked: %w", err)
	}
	type linked struct{ ref, patientRef, hiType string }
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (linked, error) {
		var l linked
		err := r.Scan(&l.ref, &l.patientRef, &l.hiType)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("marking care contexts linked: %w", err)
	}
	var hipID string
	if err := tx.QueryRow(ctx, `SELECT hip_id FROM facilities WHERE id = $1::uuid`, facility).Scan(&hipID); err != nil {
		return fmt.Errorf("reading the facility's HIP id: %w", err)
	}
	for _, l := range ls {
		body := abdm.ContextNotifyRequest{Notification: abdm.ContextNotification{
			Patient:     abdm.Ref{ID: addr},
			CareContext: abdm.CareContextRef{PatientReference: l.patientRef, CareContextReference: l.ref},
			HITypes:     []abdm.HIType{abdm.HIType(l.hiType)},
			Date:        abdm.NewTime(s.now()),
			HIP:         abdm.Ref{ID: hipID},
		}}
		sent, err := s.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{Tenant: tenant, Path: abdm.PathLinkContextNotify, HIPID: hipID, Body: body})
		if err != nil {
			return fmt.Errorf("queueing context notify: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE hip_care_context_links SET notify_state = 'sent', notify_exchange_id = $3
			WHERE facility_id = $1::uuid AND reference = $2`, facility, l.ref, sent.ExchangeID); err != nil {
			return fmt.Errorf("recording context notify: %w", err)
		}
	}
	return nil
}

// processContextOnNotify records the outcome of a context notify.
func (s *Service) processContextOnNotify(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var msg abdm.ContextOnNotifyRequest
	if err := cb.Decode(&msg); err != nil {
		return err
	}
	state, lastErr := "notified", ""
	if msg.Error != nil || msg.Acknowledgement == nil || msg.Acknowledgement.Status != abdm.AckSuccess {
		state = "failed"
		if msg.Error != nil {
			lastErr = "context notify: " + msg.Error.Err().Code
		}
	}
	_, err := tx.Exec(ctx, `UPDATE hip_care_context_links SET notify_state = $2,
			last_error = CASE WHEN $3 = '' THEN last_error ELSE $3 END, updated_at = now()
		WHERE notify_exchange_id = $1`, cb.RelatedID, state, lastErr)
	if err != nil {
		return fmt.Errorf("recording context notify result: %w", err)
	}
	return nil
}
