package remote

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// HIPLink is a HIP-initiated linking of a patient's records (link token,
// then link/carecontext), started from the control API.
type HIPLink struct {
	ID          string `json:"id"`
	ABHAAddress string `json:"abha_address"`
	// Status: "requesting_token", "linking", "linked" or "failed".
	Status         string            `json:"status"`
	Error          *abdm.ErrorDetail `json:"error,omitempty"`
	TokenRequestID string            `json:"token_request_id,omitempty"`
	LinkRequestID  string            `json:"link_request_id,omitempty"`
	Records        []Record          `json:"records"`
	StartedAt      time.Time         `json:"started_at"`
	// retry marks a failure that sending again later may cure: a gateway
	// call that did not get through (abdm.Retryable).
	retry bool
}

// HIP-initiated link statuses.
const (
	LinkRequestingToken = "requesting_token"
	LinkLinking         = "linking"
	LinkLinked          = "linked"
	LinkFailed          = "failed"
)

// linkInit is a user-initiated link waiting for its OTP.
type linkInit struct {
	address string
	records []Record
	otp     string
	expires time.Time
}

// HIPConsent is a consent artefact the HIP was notified of.
type HIPConsent struct {
	ID        string             `json:"id"`
	Status    abdm.ConsentStatus `json:"status"`
	Detail    abdm.ConsentDetail `json:"detail"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// HIPTransfer is one health-information request the HIP served.
type HIPTransfer struct {
	TransactionID string            `json:"transaction_id"`
	ConsentID     string            `json:"consent_id"`
	DataPushURL   string            `json:"data_push_url"`
	RequestedAt   time.Time         `json:"requested_at"`
	Error         *abdm.ErrorDetail `json:"error,omitempty"`
	Pages         []PushedPage      `json:"pages"`
	// SessionStatus is what the HIP notified: TRANSFERRED or FAILED.
	SessionStatus string `json:"session_status,omitempty"`
}

// PushedPage is one page POSTed to the HIU's dataPushUrl.
type PushedPage struct {
	PageNumber           int    `json:"page_number"`
	CareContextReference string `json:"care_context_reference"`
	Status               int    `json:"status"`
	Error                string `json:"error,omitempty"`
}

func decode(in inbound, v any) error {
	if err := json.Unmarshal(in.body, v); err != nil {
		return fmt.Errorf("decoding %s: %w", in.path, err)
	}
	return nil
}

// onShare issues a queue token for a counter scan.
func (h *Hospital) onShare(ctx context.Context, in inbound) {
	var req abdm.PatientShareRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	h.mu.Lock()
	h.shareSeq++
	token := strconv.Itoa(h.shareSeq)
	h.mu.Unlock()
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathPatientOnShare, HIPID: h.cfg.HIPID, Body: abdm.PatientOnShareRequest{
		Acknowledgement: abdm.ShareAcknowledgement{Status: abdm.AckSuccess, ABHAAddress: req.Profile.Patient.ABHAAddress,
			Profile: &abdm.ShareTokenProfile{Context: req.MetaData.Context, TokenNumber: abdm.FlexString(token), Expiry: "1800"}},
		Response: abdm.ResponseRef{RequestID: in.requestID},
	}})
}

// unlinked returns the patient's records not linked yet.
func (h *Hospital) unlinked(addr string) []Record {
	return slices.DeleteFunc(h.Records(addr), func(r Record) bool { return r.Linked })
}

func groups(recs []Record, withDisplay bool) []abdm.PatientCareContexts {
	var out []abdm.PatientCareContexts
	for _, r := range recs {
		cc := abdm.CareContext{ReferenceNumber: r.CareContextReference}
		display := ""
		if withDisplay {
			cc.Display, display = r.Display, "City Hospital patient "+r.PatientReference
		}
		out = append(out, abdm.NewPatientCareContexts(r.PatientReference, display, abdm.HIType(r.HIType), cc))
	}
	return out
}

// onDiscover answers with the patient's unlinked records, matched by ABHA
// address.
func (h *Hospital) onDiscover(ctx context.Context, in inbound) {
	var req abdm.DiscoverRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	res := abdm.OnDiscoverRequest{TransactionID: req.TransactionID, Response: abdm.ResponseRef{RequestID: in.requestID}}
	all := h.Records(req.Patient.ID)
	recs := h.unlinked(req.Patient.ID)
	switch {
	case len(all) == 0:
		res.Error = &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}
	case len(recs) == 0:
		res.Error = &abdm.ErrorDetail{Code: "ABDM-1001", Message: "No unlinked care contexts found"}
	default:
		res.Patient = groups(recs, true)
		res.MatchedBy = []abdm.IdentifierType{abdm.IdentifierABHAAddress}
	}
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathOnDiscover, HIPID: h.cfg.HIPID, Body: res})
}

// onLinkInit sends the patient an OTP and answers with a link reference.
func (h *Hospital) onLinkInit(ctx context.Context, in inbound) {
	var req abdm.LinkInitRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	res := abdm.LinkOnInitRequest{TransactionID: req.TransactionID, Response: abdm.ResponseRef{RequestID: in.requestID}}
	recs, errDetail := h.chosen(req.ABHAAddress, req.Patient)
	if errDetail != nil {
		res.Error = errDetail
		_, _ = h.call(ctx, abdm.Request{Path: abdm.PathLinkOnInit, HIPID: h.cfg.HIPID, Body: res})
		return
	}
	otp, err := newOTP()
	if err != nil {
		h.log.ErrorContext(ctx, "remote hospital: generating OTP", "error", err)
		return
	}
	ref := uuid.NewString()
	expires := h.now().Add(10 * time.Minute)
	h.mu.Lock()
	h.inits[ref] = &linkInit{address: req.ABHAAddress, records: recs, otp: otp, expires: expires}
	h.changedLocked()
	h.mu.Unlock()
	if p, ok := h.cfg.Patients.Patient(req.ABHAAddress); ok && p.Mobile != "" && h.cfg.SMS != nil {
		h.cfg.SMS.SendSMS(p.Mobile, "CITYHS", fmt.Sprintf("%s is your City Hospital OTP to link %d record(s) to your ABHA. Valid for 10 minutes.", otp, len(recs)))
	}
	res.Link = &abdm.LinkReference{ReferenceNumber: ref, AuthenticationType: abdm.AuthenticationDirect, Meta: &abdm.LinkMeta{
		CommunicationMedium: abdm.CommunicationMobile, CommunicationHint: "OTP", CommunicationExpiry: abdm.NewTime(expires),
	}}
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathLinkOnInit, HIPID: h.cfg.HIPID, Body: res})
}

// chosen resolves the care contexts of a link init to unlinked records.
func (h *Hospital) chosen(addr string, ps []abdm.PatientCareContexts) ([]Record, *abdm.ErrorDetail) {
	recs := h.Records(addr)
	var out []Record
	for _, g := range ps {
		for _, cc := range g.CareContexts {
			i := slices.IndexFunc(recs, func(r Record) bool { return r.CareContextReference == cc.ReferenceNumber })
			switch {
			case i < 0:
				return nil, &abdm.ErrorDetail{Code: "ABDM-9999", Message: fmt.Sprintf("Unknown care context %s", cc.ReferenceNumber)}
			case recs[i].Linked:
				return nil, &abdm.ErrorDetail{Code: "ABDM-1056", Message: "Care context already linked"}
			}
			out = append(out, recs[i])
		}
	}
	if len(out) == 0 {
		return nil, &abdm.ErrorDetail{Code: "ABDM-1006", Message: "No care contexts to link"}
	}
	return out, nil
}

func newOTP() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("random OTP: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// onLinkConfirm checks the OTP and links.
func (h *Hospital) onLinkConfirm(ctx context.Context, in inbound) {
	var req abdm.LinkConfirmRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	res := abdm.LinkOnConfirmRequest{Response: abdm.ResponseRef{RequestID: in.requestID}}
	h.mu.Lock()
	li := h.inits[req.Confirmation.LinkRefNumber]
	switch {
	case li == nil:
		res.Error = &abdm.ErrorDetail{Code: "ABDM-9999", Message: "Invalid link reference number"}
	case h.now().After(li.expires):
		delete(h.inits, req.Confirmation.LinkRefNumber)
		res.Error = &abdm.ErrorDetail{Code: "ABDM-9999", Message: "OTP expired"}
	case string(req.Confirmation.Token) != li.otp:
		res.Error = &abdm.ErrorDetail{Code: "ABDM-9999", Message: "Incorrect OTP"}
	default:
		delete(h.inits, req.Confirmation.LinkRefNumber)
		for _, r := range li.records {
			h.linked[linkKey(li.address, r.CareContextReference)] = true
		}
		res.Patient = groups(li.records, true)
	}
	h.changedLocked()
	h.mu.Unlock()
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathLinkOnConfirm, HIPID: h.cfg.HIPID, Body: res})
}

// PendingOTP returns the OTP of a pending user-initiated link for the
// patient, for tests and for people without the SMS inbox.
func (h *Hospital) PendingOTP(abhaAddress string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, li := range h.inits {
		if strings.EqualFold(li.address, abhaAddress) {
			return li.otp, true
		}
	}
	return "", false
}

// LinkPatient links every unlinked record of a patient the HIP-initiated
// way: a link token (reused when the HIP has one), then link/carecontext.
// It returns once the first call was accepted; follow Links or Wait.
func (h *Hospital) LinkPatient(ctx context.Context, abhaAddress string) (HIPLink, error) {
	p, ok := h.cfg.Patients.Patient(abhaAddress)
	if !ok {
		return HIPLink{}, fmt.Errorf("linking: %w: no patient %q", cm.ErrNotFound, abhaAddress)
	}
	recs := h.unlinked(p.ABHAAddress)
	if len(recs) == 0 {
		return HIPLink{}, fmt.Errorf("linking: %w: %s has no unlinked records at %s", cm.ErrConflict, p.ABHAAddress, h.cfg.HIPID)
	}
	l := &HIPLink{ID: uuid.NewString(), ABHAAddress: p.ABHAAddress, Status: LinkRequestingToken, Records: recs, StartedAt: h.now()}
	h.mu.Lock()
	token := h.tokens[strings.ToLower(p.ABHAAddress)]
	h.hipLinks = append(h.hipLinks, l)
	h.changedLocked()
	h.mu.Unlock()
	if token != "" {
		return h.linkWith(ctx, l, token)
	}
	l.TokenRequestID = uuid.NewString()
	h.mu.Lock()
	h.tokenCalls[l.TokenRequestID] = l
	h.mu.Unlock()
	var number *abdm.NumericID
	if p.ABHANumber != "" {
		n := abdm.NumericID(strings.ReplaceAll(p.ABHANumber, "-", ""))
		number = &n
	}
	_, err := h.call(ctx, abdm.Request{Path: abdm.PathGenerateToken, HIPID: h.cfg.HIPID, RequestID: l.TokenRequestID,
		Body: abdm.GenerateTokenRequest{ABHANumber: number, ABHAAddress: p.ABHAAddress, Name: p.Name, Gender: abdm.Gender(p.Gender), YearOfBirth: p.YearOfBirth}})
	if err != nil {
		h.failCall(l, err)
	}
	return h.linkSnapshot(l), nil
}

func (h *Hospital) linkWith(ctx context.Context, l *HIPLink, token string) (HIPLink, error) {
	h.mu.Lock()
	l.Status = LinkLinking
	l.LinkRequestID = uuid.NewString()
	h.tokenCalls[l.LinkRequestID] = l
	h.changedLocked()
	h.mu.Unlock()
	p, _ := h.cfg.Patients.Patient(l.ABHAAddress)
	_, err := h.call(ctx, abdm.Request{Path: abdm.PathLinkCareContext, HIPID: h.cfg.HIPID, LinkToken: token, RequestID: l.LinkRequestID,
		Body: abdm.LinkCareContextRequest{ABHANumber: strings.ReplaceAll(p.ABHANumber, "-", ""), ABHAAddress: l.ABHAAddress, Patient: groups(l.Records, true)}})
	if err != nil {
		h.failCall(l, err)
	}
	return h.linkSnapshot(l), nil
}

func (h *Hospital) failLink(l *HIPLink, e *abdm.ErrorDetail) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l.Status, l.Error = LinkFailed, e
	h.changedLocked()
}

// failCall fails a link whose gateway call failed, noting whether trying
// again later may succeed.
func (h *Hospital) failCall(l *HIPLink, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l.Status, l.Error, l.retry = LinkFailed, &abdm.ErrorDetail{Code: "ABDM-9999", Message: err.Error()}, abdm.Retryable(err)
	h.changedLocked()
}

func (h *Hospital) linkSnapshot(l *HIPLink) HIPLink {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := *l
	c.Records = slices.Clone(l.Records)
	return c
}

// HIPLinks lists the HIP-initiated links started, oldest first.
func (h *Hospital) HIPLinks() []HIPLink {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []HIPLink{}
	for _, l := range h.hipLinks {
		c := *l
		c.Records = slices.Clone(l.Records)
		out = append(out, c)
	}
	return out
}

// responseRef reads response.requestId of a result callback.
func responseRef(in inbound) string {
	var b struct {
		Response abdm.ResponseRef `json:"response"`
	}
	_ = json.Unmarshal(in.body, &b)
	return b.Response.RequestID
}

func (h *Hospital) onGenerateToken(ctx context.Context, in inbound) {
	var res abdm.OnGenerateTokenRequest
	if err := decode(in, &res); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	h.mu.Lock()
	l := h.tokenCalls[res.Response.RequestID]
	h.mu.Unlock()
	if l == nil {
		return
	}
	if res.Error != nil || res.LinkToken == "" {
		h.failLink(l, res.Error)
		return
	}
	h.mu.Lock()
	h.tokens[strings.ToLower(l.ABHAAddress)] = res.LinkToken
	h.mu.Unlock()
	_, _ = h.linkWith(ctx, l, res.LinkToken)
}

func (h *Hospital) onCareContext(ctx context.Context, in inbound) {
	var res abdm.OnCareContextRequest
	if err := decode(in, &res); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.tokenCalls[res.Response.RequestID]
	if l == nil {
		return
	}
	if res.Error != nil {
		l.Status, l.Error = LinkFailed, res.Error
	} else {
		l.Status = LinkLinked
		for _, r := range l.Records {
			h.linked[linkKey(l.ABHAAddress, r.CareContextReference)] = true
		}
	}
	h.changedLocked()
}

// onHIPConsentNotify records the artefact and acknowledges it.
func (h *Hospital) onHIPConsentNotify(ctx context.Context, in inbound) {
	var req abdm.HIPConsentNotifyRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	n := req.Notification
	h.mu.Lock()
	c := h.hipConsent[n.ConsentID]
	if c == nil {
		c = &HIPConsent{ID: n.ConsentID}
		h.hipConsent[n.ConsentID] = c
	}
	c.Status, c.UpdatedAt = n.Status, h.now()
	if n.ConsentDetail != nil {
		c.Detail = *n.ConsentDetail
	}
	h.changedLocked()
	h.mu.Unlock()
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathHIPConsentOnNotify, HIPID: h.cfg.HIPID, Body: abdm.HIPConsentOnNotifyRequest{
		Acknowledgement: abdm.HIPConsentAck{Status: abdm.AckOK, ConsentID: n.ConsentID},
		Response:        abdm.ResponseRef{RequestID: in.requestID},
	}})
}

// hiRequest is the HI request as received, the key material kept as sent.
type hiRequest struct {
	TransactionID string `json:"transactionId"`
	HIRequest     struct {
		Consent     abdm.Ref             `json:"consent"`
		DateRange   abdm.DateRange       `json:"dateRange"`
		DataPushURL string               `json:"dataPushUrl"`
		KeyMaterial fidelius.KeyMaterial `json:"keyMaterial"`
	} `json:"hiRequest"`
}

// onHIRequest acknowledges an HI request, encrypts each consented record
// for the HIU, pushes one page per record to its dataPushUrl and notifies
// the outcome (reference §3.4–3.6).
func (h *Hospital) onHIRequest(ctx context.Context, in inbound) {
	var req hiRequest
	if err := decode(in, &req); err != nil {
		h.log.WarnContext(ctx, "remote hospital", "error", err)
		return
	}
	hr := req.HIRequest
	t := &HIPTransfer{TransactionID: req.TransactionID, ConsentID: hr.Consent.ID, DataPushURL: hr.DataPushURL, RequestedAt: h.now(), Pages: []PushedPage{}}
	h.mu.Lock()
	h.hipXfers = append(h.hipXfers, t)
	c := h.hipConsent[hr.Consent.ID]
	var consent HIPConsent
	if c != nil {
		consent = *c
	}
	h.changedLocked()
	h.mu.Unlock()

	ack := abdm.HealthInformationOnRequest{Response: abdm.ResponseRef{RequestID: in.requestID}}
	peerKey, peerNonce, keyErr := hr.KeyMaterial.Parse()
	switch {
	case c == nil || consent.Status != abdm.ConsentGranted || !h.now().Before(consent.Detail.Permission.DataEraseAt.Time):
		ack.Error = &abdm.ErrorDetail{Code: "ABDM-1112", Message: "Consent artefact invalid or expired"}
	case keyErr != nil:
		ack.Error = &abdm.ErrorDetail{Code: "ABDM-1006", Message: "Invalid key material"}
	default:
		ack.HIRequest = &abdm.HIRequestAck{TransactionID: req.TransactionID, SessionStatus: abdm.SessionAcknowledged}
	}
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathHIPHealthInformationOnRequest, HIPID: h.cfg.HIPID, Body: ack})
	if ack.Error != nil {
		h.mu.Lock()
		t.Error = ack.Error
		h.changedLocked()
		h.mu.Unlock()
		return
	}

	recs := h.consentedRecords(consent.Detail)
	statuses := make([]abdm.CareContextStatus, 0, len(consent.Detail.CareContexts))
	for i, r := range recs {
		page := h.push(ctx, t, hr.DataPushURL, req.TransactionID, i+1, len(recs), r, peerKey, peerNonce, consent.Detail.Permission.DataEraseAt.Time)
		st := abdm.CareContextStatus{CareContextReference: r.CareContextReference, HIStatus: abdm.HIStatusDelivered, Description: "Delivered"}
		if page.Error != "" {
			st.HIStatus, st.Description = abdm.HIStatusErrored, page.Error
		}
		statuses = append(statuses, st)
	}
	// Consented care contexts the HIP has no record for are reported, not
	// silently left out.
	for _, cc := range consent.Detail.CareContexts {
		if !slices.ContainsFunc(recs, func(r Record) bool { return r.CareContextReference == cc.CareContextReference }) {
			statuses = append(statuses, abdm.CareContextStatus{CareContextReference: cc.CareContextReference, HIStatus: abdm.HIStatusErrored,
				Description: "No record of a consented type for this care context"})
		}
	}
	session := abdm.SessionTransferred
	if len(recs) == 0 || slices.ContainsFunc(statuses, func(s abdm.CareContextStatus) bool { return s.HIStatus != abdm.HIStatusDelivered }) {
		session = abdm.SessionFailed
	}
	h.mu.Lock()
	t.SessionStatus = session
	h.changedLocked()
	h.mu.Unlock()
	_, _ = h.call(ctx, abdm.Request{Path: abdm.PathHealthInformationNotify, HIPID: h.cfg.HIPID, Body: abdm.HealthInformationNotifyRequest{
		Notification: abdm.HealthInformationNotification{
			ConsentID: hr.Consent.ID, TransactionID: req.TransactionID, DoneAt: abdm.NewTime(h.now()),
			Notifier:           abdm.Notifier{Type: abdm.RoleHIP, ID: h.cfg.HIPID},
			StatusNotification: abdm.StatusNotification{SessionStatus: session, HIPID: h.cfg.HIPID, StatusResponses: statuses},
		},
	}})
}

// consentedRecords are the records an artefact covers: its care contexts
// at this HIP, of its HI types.
func (h *Hospital) consentedRecords(d abdm.ConsentDetail) []Record {
	var out []Record
	for _, r := range h.Records(d.Patient.ID) {
		inCC := slices.ContainsFunc(d.CareContexts, func(cc abdm.CareContextRef) bool {
			return cc.CareContextReference == r.CareContextReference
		})
		if inCC && slices.Contains(d.HITypes, abdm.HIType(r.HIType)) {
			out = append(out, r)
		}
	}
	return out
}

// push encrypts one record with a fresh key pair and nonce (Fidelius
// reuses its IV per key pair, so one plaintext per key) and POSTs it as
// one page.
func (h *Hospital) push(ctx context.Context, t *HIPTransfer, pushURL, txn string, page, pages int, r Record,
	peer *fidelius.PublicKey, peerNonce fidelius.Nonce, expiry time.Time) PushedPage {
	p := PushedPage{PageNumber: page, CareContextReference: r.CareContextReference}
	defer func() {
		h.mu.Lock()
		t.Pages = append(t.Pages, p)
		h.changedLocked()
		h.mu.Unlock()
	}()
	b := h.byFile[r.File]
	key, err := fidelius.GenerateKey()
	if err != nil {
		p.Error = "generating key: " + err.Error()
		return p
	}
	nonce := fidelius.NewNonce()
	content, err := fidelius.Encrypt(key, peer, nonce, peerNonce, b.data)
	if err != nil {
		p.Error = "encrypting: " + err.Error()
		return p
	}
	sum := md5.Sum(b.data)
	body := abdm.DataPushRequest{
		PageNumber: page, PageCount: pages, TransactionID: txn,
		Entries: []abdm.DataEntry{{Content: content, Media: abdm.MediaFHIRJSON, Checksum: hex.EncodeToString(sum[:]), CareContextReference: r.CareContextReference}},
		KeyMaterial: abdm.KeyMaterial{
			CryptoAlg: fidelius.CryptoAlg, Curve: fidelius.CurveName, Nonce: nonce.String(),
			DHPublicKey: abdm.DHPublicKey{Expiry: abdm.NewTime(expiry), Parameters: fidelius.Parameters, KeyValue: key.PublicKey().X509()},
		},
	}
	raw, err := json.Marshal(body)
	if err != nil {
		p.Error = "encoding page: " + err.Error()
		return p
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pushURL, bytes.NewReader(raw))
	if err != nil {
		p.Error = "building request: " + err.Error()
		return p
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.cfg.HTTPClient.Do(req)
	if err != nil {
		p.Error = "pushing: " + err.Error()
		return p
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	p.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		p.Error = fmt.Sprintf("data push URL answered %d", resp.StatusCode)
	}
	return p
}

// HIPTransfers lists the HI requests the HIP served, oldest first.
func (h *Hospital) HIPTransfers() []HIPTransfer {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []HIPTransfer{}
	for _, t := range h.hipXfers {
		c := *t
		c.Pages = slices.Clone(t.Pages)
		out = append(out, c)
	}
	return out
}

// HIPConsents lists the artefacts the HIP was notified of.
func (h *Hospital) HIPConsents() []HIPConsent {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []HIPConsent{}
	for _, c := range h.hipConsent {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b HIPConsent) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	return out
}
