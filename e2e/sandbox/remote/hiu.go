package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// ConsentRequest is a consent request the remote HIU made.
type ConsentRequest struct {
	InitRequestID string `json:"init_request_id"`
	// ID is the consent request id from on-init; empty until it arrives.
	ID          string `json:"id,omitempty"`
	ABHAAddress string `json:"abha_address"`
	HIPID       string `json:"hip_id,omitempty"`
	// Status: "sent" until on-init, then REQUESTED, GRANTED, DENIED,
	// EXPIRED or REVOKED as notified; "failed" when on-init was an error.
	Status      string              `json:"status"`
	Error       *abdm.ErrorDetail   `json:"error,omitempty"`
	ArtefactIDs []string            `json:"artefact_ids"`
	Request     abdm.ConsentRequest `json:"request"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

// Artefact is a consent artefact granted to the remote HIU.
type Artefact struct {
	ID               string             `json:"id"`
	ConsentRequestID string             `json:"consent_request_id"`
	Status           abdm.ConsentStatus `json:"status"`
	// Detail is filled by on-fetch.
	Detail     *abdm.ConsentDetail `json:"detail,omitempty"`
	FetchError *abdm.ErrorDetail   `json:"fetch_error,omitempty"`
	// Purged: the data received under it was deleted when it was revoked
	// or expired.
	Purged bool `json:"purged,omitempty"`
}

// DataRequest is one health-information request of the remote HIU, with
// the key pair its data is encrypted for.
type DataRequest struct {
	Key           string `json:"key"` // the last segment of the data push URL
	ConsentID     string `json:"consent_id"`
	HIPID         string `json:"hip_id"`
	RequestID     string `json:"request_id"`
	DataPushURL   string `json:"data_push_url"`
	TransactionID string `json:"transaction_id,omitempty"`
	// Status: "sent", "requested" (on-request), "failed" (on-request
	// error), "received" (every page arrived).
	Status    string            `json:"status"`
	Error     *abdm.ErrorDetail `json:"error,omitempty"`
	PageCount int               `json:"page_count"`
	Pages     []int             `json:"pages"`
	// Notified is the session status the HIU reported with its notify.
	Notified  string    `json:"notified,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	key   *fidelius.PrivateKey
	nonce fidelius.Nonce
}

// Received is one entry of a pushed page, decrypted.
type Received struct {
	Seq                  int    `json:"seq"`
	TransactionID        string `json:"transaction_id"`
	ConsentID            string `json:"consent_id"`
	HIPID                string `json:"hip_id"`
	CareContextReference string `json:"care_context_reference"`
	PageNumber           int    `json:"page_number"`
	PageCount            int    `json:"page_count"`
	Media                string `json:"media"`
	// Data is the decrypted entry byte for byte; Bundle shows it as JSON
	// when it is JSON, SHA256 identifies it.
	Data       []byte          `json:"-"`
	Bundle     json.RawMessage `json:"bundle,omitempty"`
	SHA256     string          `json:"sha256,omitempty"`
	Error      string          `json:"error,omitempty"`
	ReceivedAt time.Time       `json:"received_at"`
}

// ConsentInput is what the remote HIU asks for. Empty fields take
// defaults: purpose CAREMGT, every HI type, the last ten years, data kept
// 30 days, any HIP.
type ConsentInput struct {
	ABHAAddress  string                `json:"abha_address"`
	HIPID        string                `json:"hip_id,omitempty"`
	CareContexts []abdm.CareContextRef `json:"care_contexts,omitempty"`
	HITypes      []abdm.HIType         `json:"hi_types,omitempty"`
	Purpose      string                `json:"purpose,omitempty"`
	From         time.Time             `json:"from,omitzero"`
	To           time.Time             `json:"to,omitzero"`
	DataEraseAt  time.Time             `json:"data_erase_at,omitzero"`
	Requester    string                `json:"requester,omitempty"`
}

// RequestConsent sends consent/v3/request/init for a patient. The id
// arrives with on-init; follow ConsentRequests or Wait.
func (h *Hospital) RequestConsent(ctx context.Context, in ConsentInput) (ConsentRequest, error) {
	p, ok := h.cfg.Patients.Patient(in.ABHAAddress)
	if !ok {
		return ConsentRequest{}, fmt.Errorf("requesting consent: %w: no patient %q", cm.ErrNotFound, in.ABHAAddress)
	}
	if in.Purpose == "" {
		in.Purpose = abdm.PurposeCareManagement
	}
	purpose, ok := abdm.PurposeOf(in.Purpose)
	if !ok {
		return ConsentRequest{}, fmt.Errorf("requesting consent: %w: unknown purpose %q", cm.ErrInvalid, in.Purpose)
	}
	now := h.now().Truncate(time.Millisecond)
	if len(in.HITypes) == 0 {
		in.HITypes = slices.Clone(hiTypeOrder)
	}
	if in.To.IsZero() {
		in.To = now
	}
	if in.From.IsZero() {
		in.From = in.To.AddDate(-10, 0, 0)
	}
	if in.DataEraseAt.IsZero() {
		in.DataEraseAt = now.AddDate(0, 0, 30)
	}
	if in.Requester == "" {
		in.Requester = "Dr. Kavya Menon (City Hospital)"
	}
	cr := abdm.ConsentRequest{
		Purpose: purpose, Patient: abdm.Ref{ID: p.ABHAAddress}, CareContexts: in.CareContexts,
		HIU: abdm.Party{ID: h.cfg.HIUID, Name: h.cfg.HIUName},
		Requester: abdm.Requester{Name: in.Requester, Identifier: &abdm.RequesterIdentifier{
			Type: "REGNO", Value: "KL-2044", System: "https://www.mciindia.org"}},
		HITypes: in.HITypes,
		Permission: abdm.Permission{
			AccessMode: abdm.AccessView, DateRange: abdm.DateRange{From: abdm.NewTime(in.From), To: abdm.NewTime(in.To)},
			DataEraseAt: abdm.NewTime(in.DataEraseAt), Frequency: abdm.Frequency{Unit: abdm.FrequencyHour, Value: 1},
		},
	}
	if in.HIPID != "" {
		cr.HIP = &abdm.Party{ID: in.HIPID}
	}
	r := &ConsentRequest{
		InitRequestID: uuid.NewString(), ABHAAddress: p.ABHAAddress, HIPID: in.HIPID, Status: "sent",
		ArtefactIDs: []string{}, Request: cr, CreatedAt: h.now(), UpdatedAt: h.now(),
	}
	h.mu.Lock()
	h.requests = append(h.requests, r)
	h.reqByCall[r.InitRequestID] = r
	h.changedLocked()
	h.mu.Unlock()
	if _, err := h.call(ctx, abdm.Request{Path: abdm.PathConsentRequestInit, HIUID: h.cfg.HIUID, RequestID: r.InitRequestID,
		Body: abdm.ConsentRequestInitRequest{Consent: cr}}); err != nil {
		h.mu.Lock()
		r.Status, r.Error = "failed", &abdm.ErrorDetail{Code: "ABDM-9999", Message: err.Error()}
		h.changedLocked()
		h.mu.Unlock()
	}
	return h.requestSnapshot(r), nil
}

func (h *Hospital) requestSnapshot(r *ConsentRequest) ConsentRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := *r
	c.ArtefactIDs = slices.Clone(r.ArtefactIDs)
	return c
}

func (h *Hospital) onConsentInit(ctx context.Context, in inbound) {
	var res abdm.ConsentRequestOnInitRequest
	if err := decode(in, &res); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.reqByCall[res.Response.RequestID]
	if r == nil {
		return
	}
	r.UpdatedAt = h.now()
	if res.Error != nil || res.ConsentRequest == nil {
		r.Status, r.Error = "failed", res.Error
	} else {
		r.ID, r.Status = res.ConsentRequest.ID, string(abdm.ConsentRequested)
		h.reqByID[r.ID] = r
	}
	h.changedLocked()
}

// onHIUConsentNotify follows the patient's decision: it acknowledges,
// then (unless ManualDataRequests) fetches each granted artefact; revoked
// and expired artefacts have their data purged.
func (h *Hospital) onHIUConsentNotify(ctx context.Context, in inbound) {
	var req abdm.HIUConsentNotifyRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	n := req.Notification
	acks := []abdm.HIUConsentAck{}
	var fetch []string
	h.mu.Lock()
	r := h.reqByID[n.ConsentRequestID]
	for _, ref := range n.ConsentArtefacts {
		acks = append(acks, abdm.HIUConsentAck{ConsentID: ref.ID, Status: abdm.AckOK})
		a := h.artefacts[ref.ID]
		if a == nil {
			a = &Artefact{ID: ref.ID, ConsentRequestID: n.ConsentRequestID}
			h.artefacts[ref.ID] = a
			if r != nil {
				r.ArtefactIDs = append(r.ArtefactIDs, ref.ID)
			}
		}
		a.Status = n.Status
		switch n.Status {
		case abdm.ConsentGranted:
			fetch = append(fetch, ref.ID)
		case abdm.ConsentRevoked, abdm.ConsentExpired:
			h.purgeLocked(ref.ID)
		}
	}
	if r != nil {
		r.Status, r.UpdatedAt = string(n.Status), h.now()
	}
	h.changedLocked()
	h.mu.Unlock()
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathHIUConsentOnNotify, HIUID: h.cfg.HIUID, Body: abdm.HIUConsentOnNotifyRequest{
		Acknowledgement: acks, Response: abdm.ResponseRef{RequestID: in.requestID},
	}})
	if h.cfg.ManualDataRequests {
		return
	}
	for _, id := range fetch {
		_ = h.Fetch(ctx, id)
	}
}

// purgeLocked deletes the data received under an artefact, as an HIU must
// when consent ends. The caller holds h.mu.
func (h *Hospital) purgeLocked(consentID string) {
	h.received = slices.DeleteFunc(h.received, func(r Received) bool { return r.ConsentID == consentID })
	if a := h.artefacts[consentID]; a != nil {
		a.Purged = true
	}
}

// Fetch sends consent/v3/fetch for an artefact; on-fetch stores it and,
// unless ManualDataRequests, asks for its data.
func (h *Hospital) Fetch(ctx context.Context, consentID string) error {
	id := uuid.NewString()
	h.mu.Lock()
	h.fetchCalls[id] = consentID
	h.mu.Unlock()
	if _, err := h.call(ctx, abdm.Request{Path: abdm.PathConsentFetch, HIUID: h.cfg.HIUID, RequestID: id,
		Body: abdm.ConsentFetchRequest{ConsentID: consentID}}); err != nil {
		return err
	}
	return nil
}

func (h *Hospital) onConsentFetch(ctx context.Context, in inbound) {
	var res abdm.ConsentOnFetchRequest
	if err := decode(in, &res); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	h.mu.Lock()
	id := h.fetchCalls[res.Response.RequestID]
	a := h.artefacts[id]
	if a == nil {
		h.mu.Unlock()
		return
	}
	if res.Error != nil || res.Consent == nil {
		a.FetchError = res.Error
	} else {
		d := res.Consent.ConsentDetail
		a.Detail, a.Status, a.FetchError = &d, res.Consent.Status, nil
	}
	granted := a.Detail != nil && a.Status == abdm.ConsentGranted
	h.changedLocked()
	h.mu.Unlock()
	if granted && !h.cfg.ManualDataRequests {
		if _, err := h.RequestData(ctx, id); err != nil {
			h.log.WarnContext(ctx, "remote hospital: requesting data", "consent_id", id, "error", err)
		}
	}
}

// RequestData asks for the data of a fetched artefact with a fresh key
// pair, over the artefact's whole date range, to be pushed to the
// hospital's data push URL.
func (h *Hospital) RequestData(ctx context.Context, consentID string) (DataRequest, error) {
	h.mu.Lock()
	a := h.artefacts[consentID]
	if a == nil || a.Detail == nil {
		h.mu.Unlock()
		return DataRequest{}, fmt.Errorf("requesting data: %w: artefact %q not fetched", cm.ErrNotFound, consentID)
	}
	d := *a.Detail
	h.mu.Unlock()
	key, err := fidelius.GenerateKey()
	if err != nil {
		return DataRequest{}, fmt.Errorf("requesting data: %w", err)
	}
	dr := &DataRequest{
		Key: uuid.NewString(), ConsentID: consentID, RequestID: uuid.NewString(), Status: "sent", Pages: []int{},
		CreatedAt: h.now(), key: key, nonce: fidelius.NewNonce(),
	}
	if d.HIP != nil {
		dr.HIPID = d.HIP.ID
	}
	dr.DataPushURL = strings.TrimSuffix(h.cfg.PublicURL, "/") + Prefix + "/hiu/push/" + dr.Key
	km := fidelius.NewKeyMaterial(key.PublicKey().Raw(), dr.nonce, d.Permission.DataEraseAt.Time)
	h.mu.Lock()
	h.dataReqs[dr.Key] = dr
	h.dataByCall[dr.RequestID] = dr
	h.changedLocked()
	h.mu.Unlock()
	body := map[string]any{"hiRequest": map[string]any{
		"consent": abdm.Ref{ID: consentID}, "dateRange": d.Permission.DateRange, "dataPushUrl": dr.DataPushURL, "keyMaterial": km,
	}}
	if _, err := h.call(ctx, abdm.Request{Path: abdm.PathHealthInformationRequest, HIUID: h.cfg.HIUID, RequestID: dr.RequestID, Body: body}); err != nil {
		h.mu.Lock()
		dr.Status, dr.Error = "failed", &abdm.ErrorDetail{Code: "ABDM-9999", Message: err.Error()}
		h.changedLocked()
		h.mu.Unlock()
	}
	return h.dataSnapshot(dr), nil
}

func (h *Hospital) dataSnapshot(dr *DataRequest) DataRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := *dr
	c.Pages = slices.Clone(dr.Pages)
	return c
}

func (h *Hospital) onHIURequestAnswer(ctx context.Context, in inbound) {
	var res abdm.HealthInformationOnRequest
	if err := decode(in, &res); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dr := h.dataByCall[res.Response.RequestID]
	if dr == nil {
		return
	}
	switch {
	case res.Error != nil:
		dr.Status, dr.Error = "failed", res.Error
	case res.HIRequest != nil:
		dr.TransactionID = res.HIRequest.TransactionID
		if dr.Status == "sent" {
			dr.Status = "requested"
		}
	}
	h.changedLocked()
}

// pushBody is a data push page as received; keyMaterial is kept as sent.
type pushBody struct {
	PageNumber    int                  `json:"pageNumber"`
	PageCount     int                  `json:"pageCount"`
	TransactionID string               `json:"transactionId"`
	Entries       []abdm.DataEntry     `json:"entries"`
	KeyMaterial   fidelius.KeyMaterial `json:"keyMaterial"`
}

// receivePush is the HIU's data push URL: it decrypts each entry with the
// request's private key and keeps it, and once every page is in it
// notifies RECEIVED (or FAILED) per care context.
func (h *Hospital) receivePush(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	dr := h.dataReqs[r.PathValue("key")]
	h.mu.Unlock()
	if dr == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown data push URL"})
		return
	}
	var page pushBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&page); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decoding page: " + err.Error()})
		return
	}
	senderKey, senderNonce, err := page.KeyMaterial.Parse()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	session, err := fidelius.NewSession(dr.key, senderKey, senderNonce, dr.nonce)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	now := h.now()
	var got []Received
	for _, e := range page.Entries {
		rec := Received{
			TransactionID: page.TransactionID, ConsentID: dr.ConsentID, HIPID: dr.HIPID, CareContextReference: e.CareContextReference,
			PageNumber: page.PageNumber, PageCount: page.PageCount, Media: e.Media, ReceivedAt: now,
		}
		switch {
		case e.Content == "":
			rec.Error = "entry has no content (link entries are not fetched)"
		default:
			data, err := session.Open(e.Content)
			if err != nil {
				rec.Error = "decrypting: " + err.Error()
				break
			}
			sum := sha256.Sum256(data)
			rec.Data, rec.SHA256 = data, hex.EncodeToString(sum[:])
			if json.Valid(data) {
				rec.Bundle = json.RawMessage(data)
			}
		}
		got = append(got, rec)
	}
	h.mu.Lock()
	for i := range got {
		h.receivedSeq++
		got[i].Seq = h.receivedSeq
	}
	h.received = append(h.received, got...)
	if !slices.Contains(dr.Pages, page.PageNumber) {
		dr.Pages = append(dr.Pages, page.PageNumber)
	}
	dr.PageCount = page.PageCount
	if dr.TransactionID == "" {
		dr.TransactionID = page.TransactionID // the push may overtake on-request
	}
	complete := dr.Status != "received" && len(dr.Pages) >= page.PageCount
	if complete {
		dr.Status = "received"
	}
	h.changedLocked()
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	if complete {
		h.spawn(func(ctx context.Context) { h.notifyReceived(ctx, dr) })
	}
}

// notifyReceived reports the transfer from the HIU's side.
func (h *Hospital) notifyReceived(ctx context.Context, dr *DataRequest) {
	h.mu.Lock()
	var statuses []abdm.CareContextStatus
	session := abdm.SessionReceived
	for _, rec := range h.received {
		if rec.TransactionID != dr.TransactionID {
			continue
		}
		st := abdm.CareContextStatus{CareContextReference: rec.CareContextReference, HIStatus: abdm.HIStatusOK}
		if rec.Error != "" {
			st.HIStatus, st.Description, session = abdm.HIStatusErrored, rec.Error, abdm.SessionFailed
		}
		statuses = append(statuses, st)
	}
	txn, consent, hip := dr.TransactionID, dr.ConsentID, dr.HIPID
	h.mu.Unlock()
	if _, err := h.call(ctx, abdm.Request{Path: abdm.PathHealthInformationNotify, HIUID: h.cfg.HIUID, Body: abdm.HealthInformationNotifyRequest{
		Notification: abdm.HealthInformationNotification{
			ConsentID: consent, TransactionID: txn, DoneAt: abdm.NewTime(h.now()),
			Notifier:           abdm.Notifier{Type: abdm.RoleHIU, ID: h.cfg.HIUID},
			StatusNotification: abdm.StatusNotification{SessionStatus: session, HIPID: hip, StatusResponses: statuses},
		},
	}}); err == nil {
		h.mu.Lock()
		dr.Notified = session
		h.changedLocked()
		h.mu.Unlock()
	}
}

// ConsentRequests lists the remote HIU's consent requests, oldest first.
func (h *Hospital) ConsentRequests() []ConsentRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []ConsentRequest{}
	for _, r := range h.requests {
		c := *r
		c.ArtefactIDs = slices.Clone(r.ArtefactIDs)
		out = append(out, c)
	}
	return out
}

// ConsentRequestByCall returns a consent request by its init REQUEST-ID.
func (h *Hospital) ConsentRequestByCall(initRequestID string) (ConsentRequest, bool) {
	h.mu.Lock()
	r := h.reqByCall[initRequestID]
	h.mu.Unlock()
	if r == nil {
		return ConsentRequest{}, false
	}
	return h.requestSnapshot(r), true
}

// Artefacts lists the artefacts granted to the remote HIU.
func (h *Hospital) Artefacts() []Artefact {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []Artefact{}
	for _, a := range h.artefacts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Artefact) int { return strings.Compare(a.ConsentRequestID+a.ID, b.ConsentRequestID+b.ID) })
	return out
}

// DataRequests lists the HI requests the remote HIU made, oldest first.
func (h *Hospital) DataRequests() []DataRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []DataRequest{}
	for _, dr := range h.dataReqs {
		c := *dr
		c.Pages = slices.Clone(dr.Pages)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b DataRequest) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// ReceivedFilter selects received entries; empty fields match all.
type ReceivedFilter struct {
	ConsentID            string
	CareContextReference string
	TransactionID        string
}

// Received lists the decrypted entries received, oldest first.
func (h *Hospital) Received(f ReceivedFilter) []Received {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []Received{}
	for _, r := range h.received {
		if (f.ConsentID == "" || f.ConsentID == r.ConsentID) &&
			(f.CareContextReference == "" || f.CareContextReference == r.CareContextReference) &&
			(f.TransactionID == "" || f.TransactionID == r.TransactionID) {
			out = append(out, r)
		}
	}
	return out
}
