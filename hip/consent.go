package hip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
)

// Callback route names (abdm.CallbackRoutes) this file and transfer.go
// process.
const (
	routeConsentNotify = "hip.consent_notify"
	routeHIRequest     = "hip.health_information_request"
)

// consentNotify stores a consent notification and answers on-notify. A
// REVOKED or EXPIRED consent is never brought back by a later (replayed)
// GRANTED for the same id.
func (m *M2) consentNotify(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var req abdm.HIPConsentNotifyRequest
	if err := cb.Decode(&req); err != nil {
		return river.JobCancel(err)
	}
	n := req.Notification
	status := abdm.ConsentStatus(n.Status)
	consentID := n.ConsentID
	if consentID == "" && n.ConsentDetail != nil {
		consentID = n.ConsentDetail.ConsentID
	}
	reply := abdm.HIPConsentOnNotifyRequest{
		Acknowledgement: abdm.HIPConsentAck{Status: abdm.AckOK, ConsentID: consentID},
		Response:        abdm.ResponseRef{RequestID: cb.RequestID},
	}
	switch {
	case consentID == "":
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1006", Message: "consentId is missing"}
	case status != abdm.ConsentGranted && status != abdm.ConsentRevoked && status != abdm.ConsentExpired:
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1006", Message: "unknown consent status " + string(status)}
	case status == abdm.ConsentGranted && n.ConsentDetail == nil:
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1006", Message: "a granted consent needs consentDetail"}
	default:
		if err := consentStore(ctx, tx, cb.Tenant, cb.FacilityID, consentID, status, n.ConsentDetail); err != nil {
			return err
		}
	}
	if reply.Error != nil {
		reply.Acknowledgement.Status = abdm.AckErrored
	}
	_, err := m.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: cb.Tenant, Path: abdm.PathHIPConsentOnNotify, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
	})
	if err != nil {
		return fmt.Errorf("queueing consent on-notify: %w", err)
	}
	return nil
}

// consentStore upserts one artefact.
func consentStore(ctx context.Context, tx pgx.Tx, tenant, facilityID, consentID string, status abdm.ConsentStatus, d *abdm.ConsentDetail) error {
	if d == nil {
		// REVOKED/EXPIRED may come without detail: only the status changes.
		_, err := tx.Exec(ctx, `
			INSERT INTO hip_consents (tenant_id, consent_id, facility_id, status) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, consent_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()`,
			tenant, consentID, facilityID, string(status))
		if err != nil {
			return fmt.Errorf("storing consent status: %w", err)
		}
		return nil
	}
	hiTypes := make([]string, len(d.HITypes))
	for i, t := range d.HITypes {
		hiTypes[i] = string(t)
	}
	contexts, err := json.Marshal(d.CareContexts)
	if err != nil {
		return fmt.Errorf("encoding care contexts: %w", err)
	}
	artefact, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding consent artefact: %w", err)
	}
	// A granted notification only updates a row that is still granted:
	// revocation and expiry are final.
	_, err = tx.Exec(ctx, `
		INSERT INTO hip_consents (tenant_id, consent_id, facility_id, status, patient_id, hiu_id, purpose_code,
			hi_types, care_contexts, date_from, date_to, data_erase_at, artefact)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (tenant_id, consent_id) DO UPDATE SET
			status = EXCLUDED.status, patient_id = EXCLUDED.patient_id, hiu_id = EXCLUDED.hiu_id,
			purpose_code = EXCLUDED.purpose_code, hi_types = EXCLUDED.hi_types, care_contexts = EXCLUDED.care_contexts,
			date_from = EXCLUDED.date_from, date_to = EXCLUDED.date_to, data_erase_at = EXCLUDED.data_erase_at,
			artefact = EXCLUDED.artefact, updated_at = now()
		WHERE hip_consents.status = 'GRANTED' OR EXCLUDED.status <> 'GRANTED'`,
		tenant, consentID, facilityID, string(status), d.Patient.ID, d.HIU.ID, d.Purpose.Code,
		hiTypes, contexts, consentTime(d.Permission.DateRange.From), consentTime(d.Permission.DateRange.To),
		consentTime(d.Permission.DataEraseAt), artefact)
	if err != nil {
		return fmt.Errorf("storing consent artefact: %w", err)
	}
	return nil
}

func consentTime(t abdm.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t.Time
}

// consentArtefact is a stored consent as the transfer reads it.
type consentArtefact struct {
	ID, FacilityID, Status, PatientID, HIUID string
	HITypes                                  []string
	CareContexts                             []abdm.CareContextRef
	From, To, EraseAt                        time.Time
}

// errConsentUnknown: no artefact with that id for the facility.
var errConsentUnknown = errors.New("consent artefact not found")

// consentLoad reads an artefact, locking its row so that a revocation
// processed concurrently waits for (or is seen by) the transfer.
func consentLoad(ctx context.Context, tx pgx.Tx, consentID string) (consentArtefact, error) {
	var a consentArtefact
	var contexts []byte
	var from, to, erase *time.Time
	err := tx.QueryRow(ctx, `
		SELECT consent_id, facility_id::text, status, patient_id, hiu_id, hi_types, care_contexts, date_from, date_to, data_erase_at
		FROM hip_consents WHERE consent_id = $1 FOR SHARE`, consentID,
	).Scan(&a.ID, &a.FacilityID, &a.Status, &a.PatientID, &a.HIUID, &a.HITypes, &contexts, &from, &to, &erase)
	if errors.Is(err, pgx.ErrNoRows) {
		return consentArtefact{}, errConsentUnknown
	}
	if err != nil {
		return consentArtefact{}, fmt.Errorf("loading consent: %w", err)
	}
	if err := json.Unmarshal(contexts, &a.CareContexts); err != nil {
		return consentArtefact{}, fmt.Errorf("decoding consent care contexts: %w", err)
	}
	for _, p := range []struct {
		dst *time.Time
		src *time.Time
	}{{&a.From, from}, {&a.To, to}, {&a.EraseAt, erase}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return a, nil
}

// consentRefusal is why a request may not be served, with the code sent in
// on-request.
type consentRefusal struct {
	Code, Message string
}

func (r *consentRefusal) Error() string { return r.Code + ": " + r.Message }

// consentGrant is the permission to serve one request: a granted,
// unexpired artefact and the part of it the request asks for. Only
// consentValidate makes one (sealed is set nowhere else), and the fetch
// refuses any other, so nothing can be served without validation.
type consentGrant struct {
	sealed    bool
	consentID string
	patientID string
	hiuID     string
	from, to  time.Time
	hiTypes   []string
	contexts  []abdm.CareContextRef
}

// consentValidate checks a request against its artefact at now. The
// requested range must lie within the consent's; hiTypes and care contexts
// are the consent's (a request cannot widen them).
func consentValidate(a consentArtefact, facilityID string, requested abdm.DateRange, now time.Time) (*consentGrant, error) {
	invalid := func(msg string) error {
		return &consentRefusal{Code: "ABDM-1112", Message: "Consent artefact invalid or expired: " + msg}
	}
	switch {
	case a.ID == "":
		return nil, invalid("unknown consent")
	case a.FacilityID != facilityID:
		return nil, invalid("consent is for another HIP")
	case a.Status != string(abdm.ConsentGranted):
		return nil, invalid("consent is " + a.Status)
	case a.EraseAt.IsZero() || !now.Before(a.EraseAt):
		return nil, invalid("consent has expired")
	case a.From.IsZero() || a.To.IsZero():
		return nil, invalid("consent has no date range")
	case len(a.CareContexts) == 0 || len(a.HITypes) == 0:
		return nil, invalid("consent names no care contexts or hiTypes")
	}
	from, to := requested.From.Time, requested.To.Time
	if from.IsZero() {
		from = a.From
	}
	if to.IsZero() {
		to = a.To
	}
	if from.Before(a.From) || to.After(a.To) || to.Before(from) {
		return nil, &consentRefusal{Code: "ABDM-1063", Message: "requested date range is outside the consent's"}
	}
	return &consentGrant{
		sealed: true, consentID: a.ID, patientID: a.PatientID, hiuID: a.HIUID,
		from: from, to: to, hiTypes: slices.Clone(a.HITypes), contexts: slices.Clone(a.CareContexts),
	}, nil
}

// errNotValidated: a grant that consentValidate did not make.
var errNotValidated = errors.New("hip: consent grant was not produced by validation")

func (g *consentGrant) check() error {
	if g == nil || !g.sealed {
		return errNotValidated
	}
	return nil
}

func (g *consentGrant) allowsHIType(t string) bool { return slices.Contains(g.hiTypes, t) }

func (g *consentGrant) allowsDate(t time.Time) bool { return !t.Before(g.from) && !t.After(g.to) }
