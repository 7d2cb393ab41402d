package cm

import (
	"cmp"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Transfer is one health-information request and what both sides reported
// about it (reference §3.4–3.6, §4.5–4.7). The data itself goes from the
// HIP straight to the HIU's dataPushUrl and is never seen here.
type Transfer struct {
	TransactionID    string    `json:"transaction_id"`
	ConsentID        string    `json:"consent_id"`
	ConsentRequestID string    `json:"consent_request_id"`
	HIUID            string    `json:"hiu_id"`
	HIPID            string    `json:"hip_id"`
	DataPushURL      string    `json:"data_push_url"`
	From             time.Time `json:"from"`
	To               time.Time `json:"to"`
	// HIURequestID is the REQUEST-ID of the HIU's request; HIPRequestID
	// that of the request delivered to the HIP.
	HIURequestID string    `json:"hiu_request_id"`
	HIPRequestID string    `json:"hip_request_id"`
	HIPDelivery  string    `json:"hip_delivery"`
	RequestedAt  time.Time `json:"requested_at"`
	// HIPAck is the session status of the HIP's on-request
	// ("ACKNOWLEDGED"), empty until it answers; HIPError its error.
	HIPAck   string            `json:"hip_ack,omitempty"`
	HIPError *abdm.ErrorDetail `json:"hip_error,omitempty"`
	// Notices are the health-information notifies of either side.
	Notices []TransferNotice `json:"notices"`
}

// TransferNotice is one health-information notify.
type TransferNotice struct {
	// Seq is the gateway's sequence number of the notify; notices are kept
	// in the order the gateway received them.
	Seq           int64                    `json:"seq"`
	At            time.Time                `json:"at"`
	RequestID     string                   `json:"request_id"`
	NotifierType  string                   `json:"notifier_type"` // HIP or HIU
	NotifierID    string                   `json:"notifier_id"`
	SessionStatus string                   `json:"session_status"`
	Statuses      []abdm.CareContextStatus `json:"statuses"`
}

func (t *Transfer) clone() Transfer {
	c := *t
	c.Notices = slices.Clone(t.Notices)
	return c
}

// hiRequestWire keeps the HIU's keyMaterial byte for byte, to pass it on
// to the HIP as the gateway does.
type hiRequestWire struct {
	HIRequest struct {
		Consent     abdm.Ref        `json:"consent"`
		DateRange   abdm.DateRange  `json:"dateRange"`
		DataPushURL string          `json:"dataPushUrl"`
		KeyMaterial json.RawMessage `json:"keyMaterial"`
	} `json:"hiRequest"`
}

// onHIRequest answers data-flow/v3/health-information/request: it checks
// the request against the artefact, answers the HIU with on-request and
// forwards the request, key material and dataPushUrl to the HIP.
func (c *CM) onHIRequest(ctx context.Context, m gateway.Message) {
	res := abdm.HealthInformationOnRequest{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	t, hipBody, refusal := c.acceptHIRequest(m)
	if refusal != nil {
		res.Error = refusal
		c.answer(ctx, m, gateway.CallbackOnHIRequest, res)
		return
	}
	res.HIRequest = &abdm.HIRequestAck{TransactionID: t.TransactionID, SessionStatus: abdm.SessionRequested}
	c.answer(ctx, m, gateway.CallbackOnHIRequest, res)

	state := c.deliver(ctx, gateway.Callback{Path: gateway.CallbackHIPHIRequest, HIPID: t.HIPID, Body: hipBody, RequestID: t.HIPRequestID})
	c.mu.Lock()
	t.HIPDelivery = state
	c.changedLocked()
	c.mu.Unlock()
}

func (c *CM) acceptHIRequest(m gateway.Message) (*Transfer, any, *abdm.ErrorDetail) {
	var req hiRequestWire
	if err := json.Unmarshal(m.Body, &req); err != nil {
		return nil, nil, errDetail("ABDM-1006", "Bad Request, invalid request Body")
	}
	hr := req.HIRequest
	var km fidelius.KeyMaterial
	if err := json.Unmarshal(hr.KeyMaterial, &km); err != nil {
		return nil, nil, errDetail("ABDM-1006", "Invalid keyMaterial")
	}
	if _, _, err := km.Parse(); err != nil {
		return nil, nil, errDetail("ABDM-1006", "Invalid keyMaterial")
	}
	if u, err := url.Parse(hr.DataPushURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, errDetail("ABDM-1006", "Invalid dataPushUrl")
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.consentByID[hr.Consent.ID]
	switch {
	case a == nil || a.HIUID != m.HIUID:
		return nil, nil, errDetail("ABDM-1112", "Consent artefact invalid or expired")
	case a.Status != abdm.ConsentGranted || !now.Before(a.Detail.Permission.DataEraseAt.Time):
		return nil, nil, errDetail("ABDM-1112", "Consent artefact invalid or expired")
	}
	granted := a.Detail.Permission.DateRange
	dr := hr.DateRange
	if dr.From.IsZero() || dr.To.IsZero() || dr.From.After(dr.To.Time) ||
		dr.From.Before(granted.From.Time) || dr.To.After(granted.To.Time) {
		// The patient may have narrowed the range; HIUs must ask within the
		// artefact's range, not the request's.
		return nil, nil, errDetail("ABDM-1063", "Invalid date range: outside the consent's permission")
	}
	dupKey := a.ID + "|" + km.Nonce
	if c.hiNonces[dupKey] {
		return nil, nil, errDetail("ABDM-1101", "Duplicate Health Information request")
	}
	c.hiNonces[dupKey] = true
	t := &Transfer{
		TransactionID: uuid.NewString(), ConsentID: a.ID, ConsentRequestID: a.ConsentRequestID,
		HIUID: a.HIUID, HIPID: a.HIPID, DataPushURL: hr.DataPushURL, From: dr.From.Time, To: dr.To.Time,
		HIURequestID: m.RequestID, HIPRequestID: uuid.NewString(), HIPDelivery: gateway.StatePending,
		RequestedAt: now, Notices: []TransferNotice{},
	}
	c.transfers = append(c.transfers, t)
	c.transferByT[t.TransactionID] = t
	c.transferReq[t.HIPRequestID] = t
	c.changedLocked()
	hipBody := map[string]any{
		// V0.5 leftovers, observed empty in V3.
		"requestId": "", "timestamp": "",
		"transactionId": t.TransactionID,
		"hiRequest": map[string]any{
			"consent": abdm.Ref{ID: a.ID}, "dateRange": dr, "dataPushUrl": hr.DataPushURL, "keyMaterial": hr.KeyMaterial,
		},
	}
	return t, hipBody, nil
}

// onHIRequestAnswer records the HIP's on-request.
func (c *CM) onHIRequestAnswer(ctx context.Context, m gateway.Message) {
	var body abdm.HealthInformationOnRequest
	if err := json.Unmarshal(m.Body, &body); err != nil {
		c.log.WarnContext(ctx, "cm: unreadable hip on-request", "request_id", m.RequestID, "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.transferReq[m.Answers]
	if t == nil {
		return
	}
	t.HIPError = body.Error
	if body.HIRequest != nil {
		t.HIPAck = body.HIRequest.SessionStatus
	}
	c.changedLocked()
}

// onHINotify records a health-information notify. The gateway does not
// check the status enums (observed), and neither does this.
func (c *CM) onHINotify(ctx context.Context, m gateway.Message) {
	if c.takePreflight(m.RequestID).refused {
		return
	}
	var body abdm.HealthInformationNotifyRequest
	if err := json.Unmarshal(m.Body, &body); err != nil {
		c.log.WarnContext(ctx, "cm: unreadable health-information notify", "request_id", m.RequestID, "error", err)
		return
	}
	n := body.Notification
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.transferByT[n.TransactionID]
	if t == nil {
		c.log.WarnContext(ctx, "cm: notify for an unknown transaction", "transaction_id", n.TransactionID)
		return
	}
	notice := TransferNotice{
		Seq: m.Seq, At: m.ReceivedAt, RequestID: m.RequestID, NotifierType: strings.ToUpper(string(n.Notifier.Type)), NotifierID: n.Notifier.ID,
		SessionStatus: n.StatusNotification.SessionStatus, Statuses: slices.Clone(n.StatusNotification.StatusResponses),
	}
	i, _ := slices.BinarySearchFunc(t.Notices, notice.Seq, func(x TransferNotice, seq int64) int { return cmp.Compare(x.Seq, seq) })
	t.Notices = slices.Insert(t.Notices, i, notice)
	c.changedLocked()
}

// Transfers lists data-flow transactions for one consent artefact (all
// when consentID is ""), oldest first.
func (c *CM) Transfers(consentID string) []Transfer {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []Transfer{}
	for _, t := range c.transfers {
		if consentID == "" || t.ConsentID == consentID {
			out = append(out, t.clone())
		}
	}
	return out
}

// Transfer returns one transaction.
func (c *CM) Transfer(transactionID string) (Transfer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.transferByT[transactionID]; t != nil {
		return t.clone(), true
	}
	return Transfer{}, false
}
