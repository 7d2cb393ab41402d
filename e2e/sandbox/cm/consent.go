package cm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// ConsentRequest is an HIU's consent request and the patient's decision
// (reference §4.1–4.3).
type ConsentRequest struct {
	ID          string             `json:"id"`
	Status      abdm.ConsentStatus `json:"status"`
	ABHAAddress string             `json:"abha_address"`
	HIUID       string             `json:"hiu_id"`
	HIUName     string             `json:"hiu_name,omitempty"`
	// ClientID is the bridge that asked; its callbacks go there.
	ClientID string `json:"client_id"`
	// InitRequestID is the REQUEST-ID of consent/v3/request/init.
	InitRequestID string `json:"init_request_id"`
	// Request is the consent object as the HIU sent it (wire names).
	Request     abdm.ConsentRequest `json:"request"`
	ArtefactIDs []string            `json:"artefact_ids"`
	Reason      string              `json:"reason,omitempty"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	// ExpiresAt is when an unanswered request expires.
	ExpiresAt time.Time `json:"expires_at"`
	// Notices are the consent notifications sent to the HIU.
	Notices []Notice `json:"notices"`
}

// Consent is a consent artefact: the patient's grant to one HIU for the
// care contexts of one HIP.
type Consent struct {
	ID               string             `json:"id"`
	ConsentRequestID string             `json:"consent_request_id"`
	Status           abdm.ConsentStatus `json:"status"`
	ABHAAddress      string             `json:"abha_address"`
	HIPID            string             `json:"hip_id"`
	HIUID            string             `json:"hiu_id"`
	// Detail is the artefact as notified and fetched (wire names).
	Detail    abdm.ConsentDetail `json:"detail"`
	Signature string             `json:"signature"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	// Notices are the consent notifications sent to the HIP.
	Notices []Notice `json:"notices"`
}

// Notice is one consent notification and the bridge's acknowledgement.
type Notice struct {
	To        string             `json:"to"` // "HIP" or "HIU"
	Status    abdm.ConsentStatus `json:"status"`
	RequestID string             `json:"request_id"`
	Delivery  string             `json:"delivery"`
	// Ack is the acknowledgement status of the on-notify ("OK"), empty
	// until one arrives.
	Ack string `json:"ack,omitempty"`
}

// consentNotice ties a notify delivery to what it was about.
type consentNotice struct {
	request  *ConsentRequest
	consents []*Consent
}

func (r *ConsentRequest) clone() ConsentRequest {
	c := *r
	c.ArtefactIDs = slices.Clone(r.ArtefactIDs)
	c.Notices = slices.Clone(r.Notices)
	return c
}

func (a *Consent) clone() Consent {
	c := *a
	c.Notices = slices.Clone(a.Notices)
	c.Detail.CareContexts = slices.Clone(a.Detail.CareContexts)
	c.Detail.HITypes = slices.Clone(a.Detail.HITypes)
	return c
}

// onConsentInit answers consent/v3/request/init with on-init: a consent
// request id, or an error object for a request the consent manager cannot
// put to the patient.
func (c *CM) onConsentInit(ctx context.Context, m gateway.Message) {
	var req abdm.ConsentRequestInitRequest
	res := abdm.ConsentRequestOnInitRequest{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	hiuID := m.HIUID
	if err := json.Unmarshal(m.Body, &req); err != nil {
		res.Error = errDetail("ABDM-1006", "Bad Request, invalid request Body")
	} else {
		if hiuID == "" {
			hiuID = req.Consent.HIU.ID // the spec does not require X-HIU-ID on init
		}
		var id string
		id, res.Error = c.createConsentRequest(m, hiuID, req.Consent)
		if res.Error == nil {
			res.ConsentRequest = &abdm.Ref{ID: id}
		}
	}
	if hiuID == "" {
		c.log.WarnContext(ctx, "cm: consent init without an HIU id; no callback", "request_id", m.RequestID)
		return
	}
	c.deliver(ctx, gateway.Callback{ClientID: m.ClientID, Path: gateway.CallbackOnConsentInit, HIUID: hiuID, Body: res})
}

// timeSkew is how far ahead of the consent manager's clock a requested
// date may be (clients' clocks differ a little).
const timeSkew = time.Minute

func (c *CM) createConsentRequest(m gateway.Message, hiuID string, cr abdm.ConsentRequest) (string, *abdm.ErrorDetail) {
	now := c.now()
	p, known := c.Patient(cr.Patient.ID)
	_, owner, _ := c.service(cr.HIU.ID)
	switch {
	case cr.HIU.ID == "" || cr.HIU.ID != hiuID || owner != m.ClientID || !c.isService(cr.HIU.ID, gateway.TypeHIU):
		return "", errDetail("ABDM-1040", "Invalid HIU ID")
	case !known:
		return "", errDetail("ABDM-1170", "Invalid ABHA address")
	case cr.HIP != nil && cr.HIP.ID != "" && !c.isService(cr.HIP.ID, gateway.TypeHIP):
		return "", errDetail("ABDM-1035", "Invalid HIP ID")
	}
	if want, ok := abdm.PurposeOf(cr.Purpose.Code); !ok || (cr.Purpose.Text != "" && !strings.EqualFold(want.Text, cr.Purpose.Text)) {
		return "", errDetail("ABDM-1006", fmt.Sprintf("Invalid purpose %q", cr.Purpose.Code))
	}
	if len(cr.HITypes) == 0 || slices.ContainsFunc(cr.HITypes, func(t abdm.HIType) bool { return !validHIType(t) }) {
		return "", errDetail("ABDM-1006", "hiTypes must list valid HI types")
	}
	perm := cr.Permission
	switch {
	case perm.DateRange.From.IsZero() || perm.DateRange.To.IsZero() || perm.DateRange.From.After(perm.DateRange.To.Time) ||
		perm.DateRange.To.After(now.Add(timeSkew)):
		return "", errDetail("ABDM-9999", "Invalid from/to date. Date must be a present/before date")
	case !perm.DataEraseAt.After(now):
		return "", errDetail("ABDM-9999", "Invalid dataEraseAt. Date must be a future date")
	case !slices.Contains([]string{abdm.AccessView, abdm.AccessStore, abdm.AccessStream, abdm.AccessQuery}, perm.AccessMode):
		return "", errDetail("ABDM-1006", fmt.Sprintf("Invalid accessMode %q", perm.AccessMode))
	case cr.Requester.Name == "":
		return "", errDetail("ABDM-1006", "requester.name is required")
	}
	r := &ConsentRequest{
		ID: uuid.NewString(), Status: abdm.ConsentRequested, ABHAAddress: p.ABHAAddress,
		HIUID: cr.HIU.ID, HIUName: c.serviceName(cr.HIU.ID), ClientID: m.ClientID, InitRequestID: m.RequestID,
		Request: cr, ArtefactIDs: []string{}, Notices: []Notice{}, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(c.cfg.ConsentRequestTTL),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, r)
	c.requestByID[r.ID] = r
	c.changedLocked()
	return r.ID, nil
}

// Grant is the patient's choice when approving a consent request. Zero
// fields keep what the HIU asked for; the patient may narrow, not widen.
type Grant struct {
	// CareContexts to share; empty: every linked care context that fits the
	// request (its HIP, its care contexts, its HI types).
	CareContexts []GrantedCareContext `json:"care_contexts,omitempty"`
	HITypes      []abdm.HIType        `json:"hi_types,omitempty"`
	From         time.Time            `json:"from,omitzero"`
	To           time.Time            `json:"to,omitzero"`
	DataEraseAt  time.Time            `json:"data_erase_at,omitzero"`
}

// GrantedCareContext is one linked care context the patient shares.
type GrantedCareContext struct {
	HIPID                string `json:"hip_id"`
	PatientReference     string `json:"patient_reference,omitempty"`
	CareContextReference string `json:"care_context_reference"`
}

// Approve grants a consent request: one artefact per HIP, notified to each
// HIP and then to the HIU.
func (c *CM) Approve(ctx context.Context, abhaAddress, requestID string, g Grant) (ConsentRequest, error) {
	c.mu.Lock()
	r, err := c.ownRequestLocked(abhaAddress, requestID)
	if err == nil && r.Status != abdm.ConsentRequested {
		err = fmt.Errorf("%w: consent request is %s", ErrConflict, r.Status)
	}
	var consents []*Consent
	if err == nil {
		consents, err = c.grantLocked(r, g)
	}
	if err != nil {
		c.mu.Unlock()
		return ConsentRequest{}, fmt.Errorf("approving consent request: %w", err)
	}
	c.mu.Unlock()

	for _, a := range consents {
		c.notifyHIP(ctx, r, a, abdm.ConsentGranted)
	}
	c.notifyHIU(ctx, r, consents, abdm.ConsentGranted, "")
	return c.requestSnapshot(r), nil
}

// grantLocked builds the artefacts of an approval. The caller holds c.mu.
func (c *CM) grantLocked(r *ConsentRequest, g Grant) ([]*Consent, error) {
	cr := r.Request
	chosen, err := c.chooseLocked(r, g.CareContexts)
	if err != nil {
		return nil, err
	}
	types := cr.HITypes
	if len(g.HITypes) > 0 {
		for _, t := range g.HITypes {
			if !slices.Contains(cr.HITypes, t) {
				return nil, fmt.Errorf("%w: HI type %q was not requested", ErrInvalid, t)
			}
		}
		types = g.HITypes
	}
	perm := cr.Permission
	if !g.From.IsZero() {
		if g.From.Before(perm.DateRange.From.Time) {
			return nil, fmt.Errorf("%w: from %s is before the requested range", ErrInvalid, g.From.Format(time.DateOnly))
		}
		perm.DateRange.From = abdm.NewTime(g.From)
	}
	if !g.To.IsZero() {
		if g.To.After(perm.DateRange.To.Time) {
			return nil, fmt.Errorf("%w: to %s is after the requested range", ErrInvalid, g.To.Format(time.DateOnly))
		}
		perm.DateRange.To = abdm.NewTime(g.To)
	}
	if perm.DateRange.From.After(perm.DateRange.To.Time) {
		return nil, fmt.Errorf("%w: from is after to", ErrInvalid)
	}
	if !g.DataEraseAt.IsZero() {
		if g.DataEraseAt.After(perm.DataEraseAt.Time) || !g.DataEraseAt.After(c.now()) {
			return nil, fmt.Errorf("%w: data erase date must be in the future and not after the requested one", ErrInvalid)
		}
		perm.DataEraseAt = abdm.NewTime(g.DataEraseAt)
	}

	now := c.now()
	byHIP := map[string][]abdm.CareContextRef{}
	var hips []string
	for _, l := range chosen {
		if _, ok := byHIP[l.HIPID]; !ok {
			hips = append(hips, l.HIPID)
		}
		byHIP[l.HIPID] = append(byHIP[l.HIPID], abdm.CareContextRef{PatientReference: l.PatientReference, CareContextReference: l.CareContextReference})
	}
	var out []*Consent
	for _, hip := range hips {
		id := uuid.NewString()
		detail := abdm.ConsentDetail{
			SchemaVersion: "v3", ConsentID: id, CreatedAt: abdm.NewTime(now), LastUpdated: abdm.NewTime(now),
			Patient: abdm.Ref{ID: r.ABHAAddress}, CareContexts: byHIP[hip], Purpose: cr.Purpose,
			HIP: &abdm.Party{ID: hip, Name: c.serviceName(hip)}, HIU: abdm.Party{ID: r.HIUID, Name: r.HIUName},
			ConsentManager: abdm.Ref{ID: c.gw.CMID()}, Requester: cr.Requester, HITypes: slices.Clone(types), Permission: perm,
		}
		sig, err := c.sign(detail)
		if err != nil {
			return nil, err
		}
		a := &Consent{
			ID: id, ConsentRequestID: r.ID, Status: abdm.ConsentGranted, ABHAAddress: r.ABHAAddress,
			HIPID: hip, HIUID: r.HIUID, Detail: detail, Signature: sig, CreatedAt: now, UpdatedAt: now, Notices: []Notice{},
		}
		out = append(out, a)
	}
	for _, a := range out {
		c.consents = append(c.consents, a)
		c.consentByID[a.ID] = a
		r.ArtefactIDs = append(r.ArtefactIDs, a.ID)
	}
	r.Status, r.UpdatedAt = abdm.ConsentGranted, now
	c.changedLocked()
	return out, nil
}

// chooseLocked resolves the care contexts a grant shares. They must be
// linked to the patient and fit the request. The caller holds c.mu.
func (c *CM) chooseLocked(r *ConsentRequest, picked []GrantedCareContext) ([]*LinkedCareContext, error) {
	cr := r.Request
	hip := ""
	if cr.HIP != nil {
		hip = cr.HIP.ID
	}
	fits := func(l *LinkedCareContext) bool {
		if hip != "" && l.HIPID != hip {
			return false
		}
		if len(cr.CareContexts) > 0 {
			return slices.ContainsFunc(cr.CareContexts, func(ref abdm.CareContextRef) bool {
				return ref.CareContextReference == l.CareContextReference &&
					(ref.PatientReference == "" || ref.PatientReference == l.PatientReference)
			})
		}
		return l.HIType == "" || slices.Contains(cr.HITypes, abdm.HIType(l.HIType))
	}
	var out []*LinkedCareContext
	if len(picked) == 0 {
		for _, l := range c.links {
			if normAddress(l.ABHAAddress) == normAddress(r.ABHAAddress) && fits(l) {
				out = append(out, l)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: the patient has no linked care context that fits this request", ErrConflict)
		}
		return out, nil
	}
	for _, p := range picked {
		l := c.findLinkLocked(r.ABHAAddress, p.HIPID, p.PatientReference, p.CareContextReference)
		if l == nil {
			return nil, fmt.Errorf("%w: care context %q at %q is not linked to %s", ErrInvalid, p.CareContextReference, p.HIPID, r.ABHAAddress)
		}
		if hip != "" && l.HIPID != hip {
			return nil, fmt.Errorf("%w: the request is for HIP %q, not %q", ErrInvalid, hip, l.HIPID)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// sign is the consent manager's signature over an artefact: RSA-SHA256 of
// its JSON, base64. The real signature scheme is not documented; HIPs
// store it, nobody checks it.
func (c *CM) sign(detail abdm.ConsentDetail) (string, error) {
	raw, err := json.Marshal(detail)
	if err != nil {
		return "", fmt.Errorf("encoding artefact: %w", err)
	}
	sum := sha256.Sum256(raw)
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.cfg.LinkTokenKey, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing artefact: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Deny records the patient's refusal and tells the HIU.
func (c *CM) Deny(ctx context.Context, abhaAddress, requestID, reason string) (ConsentRequest, error) {
	c.mu.Lock()
	r, err := c.ownRequestLocked(abhaAddress, requestID)
	if err == nil && r.Status != abdm.ConsentRequested {
		err = fmt.Errorf("%w: consent request is %s", ErrConflict, r.Status)
	}
	if err != nil {
		c.mu.Unlock()
		return ConsentRequest{}, fmt.Errorf("denying consent request: %w", err)
	}
	r.Status, r.Reason, r.UpdatedAt = abdm.ConsentDenied, reason, c.now()
	c.changedLocked()
	c.mu.Unlock()
	c.notifyHIU(ctx, r, nil, abdm.ConsentDenied, reason)
	return c.requestSnapshot(r), nil
}

// Revoke withdraws granted consent. id is a consent request id (every
// artefact of it) or one artefact id. Each HIP and the HIU are notified.
func (c *CM) Revoke(ctx context.Context, abhaAddress, id string) (ConsentRequest, error) {
	r, revoked, err := c.end(abhaAddress, id, abdm.ConsentRevoked, false)
	if err != nil {
		return ConsentRequest{}, fmt.Errorf("revoking consent: %w", err)
	}
	for _, a := range revoked {
		c.notifyHIP(ctx, r, a, abdm.ConsentRevoked)
	}
	c.notifyHIU(ctx, r, revoked, abdm.ConsentRevoked, "")
	return c.requestSnapshot(r), nil
}

// Expire ends a consent request or artefact now, as its expiry would: a
// pending request becomes EXPIRED (the HIU is told), granted artefacts
// become EXPIRED (their HIPs and the HIU are told).
func (c *CM) Expire(ctx context.Context, id string) (ConsentRequest, error) {
	r, expired, err := c.end("", id, abdm.ConsentExpired, true)
	if err != nil {
		return ConsentRequest{}, fmt.Errorf("expiring consent: %w", err)
	}
	for _, a := range expired {
		c.notifyHIP(ctx, r, a, abdm.ConsentExpired)
	}
	c.notifyHIU(ctx, r, expired, abdm.ConsentExpired, "")
	return c.requestSnapshot(r), nil
}

// end moves a request or artefact to status (REVOKED or EXPIRED) and
// returns the artefacts that changed. A pending request can only expire.
func (c *CM) end(abhaAddress, id string, status abdm.ConsentStatus, pendingToo bool) (*ConsentRequest, []*Consent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.requestByID[id]
	var targets []*Consent
	if a := c.consentByID[id]; a != nil {
		r = c.requestByID[a.ConsentRequestID]
		targets = []*Consent{a}
	} else if r != nil {
		for _, aid := range r.ArtefactIDs {
			targets = append(targets, c.consentByID[aid])
		}
	}
	if r == nil || (abhaAddress != "" && normAddress(r.ABHAAddress) != normAddress(abhaAddress)) {
		return nil, nil, fmt.Errorf("%w: no consent %q", ErrNotFound, id)
	}
	now := c.now()
	if r.Status == abdm.ConsentRequested {
		if !pendingToo {
			return nil, nil, fmt.Errorf("%w: consent request %s is still pending", ErrConflict, r.ID)
		}
		r.Status, r.UpdatedAt = status, now
		c.changedLocked()
		return r, nil, nil
	}
	var changed []*Consent
	for _, a := range targets {
		if a.Status == abdm.ConsentGranted {
			a.Status, a.UpdatedAt = status, now
			a.Detail.LastUpdated = abdm.NewTime(now)
			changed = append(changed, a)
		}
	}
	if len(changed) == 0 {
		return nil, nil, fmt.Errorf("%w: nothing granted to end (request is %s)", ErrConflict, r.Status)
	}
	if !slices.ContainsFunc(r.ArtefactIDs, func(aid string) bool { return c.consentByID[aid].Status == abdm.ConsentGranted }) {
		r.Status = status
	}
	r.UpdatedAt = now
	c.changedLocked()
	return r, changed, nil
}

// ExpireDue expires pending requests past their ExpiresAt and artefacts
// past their dataEraseAt. The sweeper calls it; tests with a fake clock can
// too.
func (c *CM) ExpireDue(ctx context.Context) {
	now := c.now()
	var due []string
	c.mu.Lock()
	for _, r := range c.requests {
		if r.Status == abdm.ConsentRequested && !now.Before(r.ExpiresAt) {
			due = append(due, r.ID)
		}
	}
	for _, a := range c.consents {
		if a.Status == abdm.ConsentGranted && !now.Before(a.Detail.Permission.DataEraseAt.Time) {
			due = append(due, a.ID)
		}
	}
	c.mu.Unlock()
	for _, id := range due {
		if _, err := c.Expire(ctx, id); err != nil {
			c.log.WarnContext(ctx, "cm: expiring consent", "id", id, "error", err)
		}
	}
}

func (c *CM) ownRequestLocked(abhaAddress, id string) (*ConsentRequest, error) {
	r := c.requestByID[id]
	if r == nil || normAddress(r.ABHAAddress) != normAddress(abhaAddress) {
		return nil, fmt.Errorf("%w: no consent request %q for %q", ErrNotFound, id, abhaAddress)
	}
	return r, nil
}

func (c *CM) requestSnapshot(r *ConsentRequest) ConsentRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return r.clone()
}

// notifyHIP sends /api/v3/consent/request/hip/notify about one artefact.
// consentDetail goes with every status: the reference wrapper reads it on
// REVOKED and EXPIRED too.
func (c *CM) notifyHIP(ctx context.Context, r *ConsentRequest, a *Consent, status abdm.ConsentStatus) {
	c.mu.Lock()
	detail := a.Detail
	detail.CareContexts = slices.Clone(a.Detail.CareContexts)
	body := abdm.HIPConsentNotifyRequest{Notification: abdm.HIPConsentNotification{
		Status: status, ConsentID: a.ID, ConsentDetail: &detail, Signature: a.Signature,
	}}
	n := Notice{To: string(abdm.RoleHIP), Status: status, RequestID: uuid.NewString(), Delivery: gateway.StatePending}
	a.Notices = append(a.Notices, n)
	c.notifyReq[n.RequestID] = &consentNotice{request: r, consents: []*Consent{a}}
	c.mu.Unlock()
	state := c.deliver(ctx, gateway.Callback{Path: gateway.CallbackHIPConsentNotify, HIPID: a.HIPID, Body: body, RequestID: n.RequestID})
	c.setNoticeDelivery(n.RequestID, state)
}

// notifyHIU sends /api/v3/hiu/consent/request/notify.
func (c *CM) notifyHIU(ctx context.Context, r *ConsentRequest, consents []*Consent, status abdm.ConsentStatus, reason string) {
	n := Notice{To: string(abdm.RoleHIU), Status: status, RequestID: uuid.NewString(), Delivery: gateway.StatePending}
	note := abdm.HIUConsentNotification{ConsentRequestID: r.ID, Status: status}
	if reason != "" {
		note.Reason = &reason
	}
	c.mu.Lock()
	for _, a := range consents {
		note.ConsentArtefacts = append(note.ConsentArtefacts, abdm.Ref{ID: a.ID})
	}
	r.Notices = append(r.Notices, n)
	c.notifyReq[n.RequestID] = &consentNotice{request: r}
	clientID := r.ClientID
	c.mu.Unlock()
	state := c.deliver(ctx, gateway.Callback{
		ClientID: clientID, Path: gateway.CallbackHIUConsentNotify, HIUID: r.HIUID,
		Body: abdm.HIUConsentNotifyRequest{Notification: note}, RequestID: n.RequestID,
	})
	c.setNoticeDelivery(n.RequestID, state)
}

func (c *CM) setNoticeDelivery(requestID, state string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.noticesLocked(requestID) {
		n.Delivery = state
	}
	c.changedLocked()
}

// noticesLocked finds the notice records of a notify delivery. The caller
// holds c.mu.
func (c *CM) noticesLocked(requestID string) []*Notice {
	cn := c.notifyReq[requestID]
	if cn == nil {
		return nil
	}
	lists := [][]Notice{cn.request.Notices}
	for _, a := range cn.consents {
		lists = append(lists, a.Notices)
	}
	var out []*Notice
	for _, l := range lists {
		for i := range l {
			if l[i].RequestID == requestID {
				out = append(out, &l[i])
			}
		}
	}
	return out
}

// onConsentNotifyAnswer records an HIP's or HIU's on-notify.
func (c *CM) onConsentNotifyAnswer(ctx context.Context, m gateway.Message) {
	var statuses []string
	if m.Path == abdm.PathHIPConsentOnNotify {
		var body abdm.HIPConsentOnNotifyRequest
		if err := json.Unmarshal(m.Body, &body); err != nil {
			c.log.WarnContext(ctx, "cm: unreadable hip on-notify", "request_id", m.RequestID, "error", err)
			return
		}
		statuses = append(statuses, body.Acknowledgement.Status)
		if body.Error != nil {
			statuses = append(statuses, body.Error.Code)
		}
	} else {
		var body abdm.HIUConsentOnNotifyRequest
		if err := json.Unmarshal(m.Body, &body); err != nil {
			c.log.WarnContext(ctx, "cm: unreadable hiu on-notify", "request_id", m.RequestID, "error", err)
			return
		}
		for _, a := range body.Acknowledgement {
			if !slices.Contains(statuses, a.Status) {
				statuses = append(statuses, a.Status)
			}
		}
		if body.Error != nil {
			statuses = append(statuses, body.Error.Code)
		}
	}
	ack := strings.Join(slices.DeleteFunc(statuses, func(s string) bool { return s == "" }), ",")
	if ack == "" {
		ack = "received" // answered, without an acknowledgement status
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.noticesLocked(m.Answers) {
		n.Ack = ack
	}
	c.changedLocked()
}

// onConsentStatus answers consent/v3/request/status with on-status.
func (c *CM) onConsentStatus(ctx context.Context, m gateway.Message) {
	var req abdm.ConsentRequestStatusRequest
	res := abdm.ConsentRequestOnStatusRequest{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	if err := json.Unmarshal(m.Body, &req); err != nil {
		res.Error = errDetail("ABDM-1006", "Bad Request, invalid request Body")
	} else {
		c.mu.Lock()
		r := c.requestByID[req.ConsentRequestID]
		if r == nil || r.HIUID != m.HIUID {
			res.Error = errDetail("ABDM-9999", "Invalid consent request id")
		} else {
			st := &abdm.ConsentRequestStatus{ID: r.ID, Status: r.Status}
			for _, id := range r.ArtefactIDs {
				st.ConsentArtefacts = append(st.ConsentArtefacts, abdm.Ref{ID: id})
			}
			res.ConsentRequest = st
		}
		c.mu.Unlock()
	}
	c.answer(ctx, m, gateway.CallbackOnConsentStatus, res)
}

// onConsentFetch answers consent/v3/fetch with on-fetch and the artefact.
func (c *CM) onConsentFetch(ctx context.Context, m gateway.Message) {
	var req abdm.ConsentFetchRequest
	res := abdm.ConsentOnFetchRequest{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	if err := json.Unmarshal(m.Body, &req); err != nil {
		res.Error = errDetail("ABDM-1006", "Bad Request, invalid request Body")
	} else {
		c.mu.Lock()
		a := c.consentByID[req.ConsentID]
		if a == nil || a.HIUID != m.HIUID {
			res.Error = errDetail("ABDM-9999", "Invalid ConsentId, Please provide a valid ConsentId")
		} else {
			detail := a.Detail
			detail.CareContexts = slices.Clone(a.Detail.CareContexts)
			res.Consent = &abdm.FetchedConsent{Status: a.Status, ConsentDetail: detail, Signature: a.Signature}
		}
		c.mu.Unlock()
	}
	c.answer(ctx, m, gateway.CallbackOnConsentFetch, res)
}

// ConsentFilter selects consent requests and artefacts; empty fields
// match everything.
type ConsentFilter struct {
	ABHAAddress      string
	Status           abdm.ConsentStatus
	HIUID            string
	HIPID            string // artefacts only
	ConsentRequestID string // artefacts only
}

// ConsentRequests lists consent requests, oldest first.
func (c *CM) ConsentRequests(f ConsentFilter) []ConsentRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []ConsentRequest{}
	for _, r := range c.requests {
		if (f.ABHAAddress == "" || normAddress(f.ABHAAddress) == normAddress(r.ABHAAddress)) &&
			(f.Status == "" || f.Status == r.Status) && (f.HIUID == "" || f.HIUID == r.HIUID) {
			out = append(out, r.clone())
		}
	}
	return out
}

// ConsentRequest returns one consent request.
func (c *CM) ConsentRequest(id string) (ConsentRequest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.requestByID[id]; r != nil {
		return r.clone(), true
	}
	return ConsentRequest{}, false
}

// Consents lists consent artefacts, oldest first.
func (c *CM) Consents(f ConsentFilter) []Consent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []Consent{}
	for _, a := range c.consents {
		if (f.ABHAAddress == "" || normAddress(f.ABHAAddress) == normAddress(a.ABHAAddress)) &&
			(f.Status == "" || f.Status == a.Status) && (f.HIUID == "" || f.HIUID == a.HIUID) &&
			(f.HIPID == "" || f.HIPID == a.HIPID) && (f.ConsentRequestID == "" || f.ConsentRequestID == a.ConsentRequestID) {
			out = append(out, a.clone())
		}
	}
	return out
}

// Consent returns one artefact.
func (c *CM) Consent(id string) (Consent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.consentByID[id]; a != nil {
		return a.clone(), true
	}
	return Consent{}, false
}
