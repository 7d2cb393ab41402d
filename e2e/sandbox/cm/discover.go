package cm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Discovery is one user-initiated discovery at an HIP and the link that
// may follow it (reference §3.1–3.2). The whole exchange is asynchronous:
// every step is a callback to the HIP and an on-* answer from it.
type Discovery struct {
	TransactionID string `json:"transaction_id"`
	RequestID     string `json:"request_id"` // of the discover callback
	ABHAAddress   string `json:"abha_address"`
	HIPID         string `json:"hip_id"`
	HIPName       string `json:"hip_name,omitempty"`
	// Status: "discovering" until on-discover, then "discovered" or
	// "failed".
	Status   string `json:"status"`
	Delivery string `json:"delivery"`
	// UnverifiedIdentifiers are what the patient typed in (e.g. an MR
	// number).
	UnverifiedIdentifiers []abdm.Identifier `json:"unverified_identifiers,omitempty"`
	// CareContexts are the unlinked care contexts the HIP found.
	CareContexts []CareContext     `json:"care_contexts"`
	MatchedBy    []string          `json:"matched_by,omitempty"`
	Error        *abdm.ErrorDetail `json:"error,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	AnsweredAt   time.Time         `json:"answered_at,omitzero"`
	Link         *LinkAttempt      `json:"link,omitempty"`
}

// LinkAttempt is the link init/confirm that follows a discovery.
type LinkAttempt struct {
	// Status: "initiating" until on-init, then "awaiting_otp" or "failed";
	// "confirming" until on-confirm, then "linked". A refused OTP returns
	// to "awaiting_otp" with Error set, so the patient can try again.
	Status              string            `json:"status"`
	InitRequestID       string            `json:"init_request_id"`
	ConfirmRequestID    string            `json:"confirm_request_id,omitempty"`
	Selected            []CareContext     `json:"selected"`
	ReferenceNumber     string            `json:"reference_number,omitempty"`
	AuthenticationType  string            `json:"authentication_type,omitempty"`
	CommunicationMedium string            `json:"communication_medium,omitempty"`
	CommunicationHint   string            `json:"communication_hint,omitempty"`
	CommunicationExpiry time.Time         `json:"communication_expiry,omitzero"`
	Linked              []CareContext     `json:"linked,omitempty"`
	Error               *abdm.ErrorDetail `json:"error,omitempty"`
	Delivery            string            `json:"delivery"`
}

// Discovery and link statuses.
const (
	DiscoveryPending = "discovering"
	DiscoveryDone    = "discovered"
	DiscoveryFailed  = "failed"

	LinkInitiating  = "initiating"
	LinkAwaitingOTP = "awaiting_otp"
	LinkConfirming  = "confirming"
	LinkLinked      = "linked"
	LinkFailed      = "failed"
)

func (d *Discovery) clone() Discovery {
	c := *d
	c.CareContexts = slices.Clone(d.CareContexts)
	if d.Link != nil {
		l := *d.Link
		l.Selected = slices.Clone(l.Selected)
		l.Linked = slices.Clone(l.Linked)
		c.Link = &l
	}
	return c
}

// Discover asks an HIP for the patient's unlinked care contexts, as the
// PHR app does when the patient picks a facility. The HIP answers later
// with on-discover.
func (c *CM) Discover(ctx context.Context, abhaAddress, hipID string, unverified []abdm.Identifier) (Discovery, error) {
	p, ok := c.Patient(abhaAddress)
	if !ok {
		return Discovery{}, fmt.Errorf("discovering: %w: no patient %q", ErrNotFound, abhaAddress)
	}
	if !c.isService(hipID, gateway.TypeHIP) {
		return Discovery{}, fmt.Errorf("discovering: %w: %q is not an active HIP", ErrNotFound, hipID)
	}
	d := &Discovery{
		TransactionID: uuid.NewString(), RequestID: uuid.NewString(), ABHAAddress: p.ABHAAddress,
		HIPID: hipID, HIPName: c.serviceName(hipID), Status: DiscoveryPending, Delivery: gateway.StatePending,
		UnverifiedIdentifiers: slices.Clone(unverified), CareContexts: []CareContext{}, CreatedAt: c.now(),
	}
	body := abdm.DiscoverRequest{TransactionID: d.TransactionID, Patient: abdm.DiscoverPatient{
		ID: p.ABHAAddress, Name: p.Name, Gender: abdm.Gender(p.Gender), YearOfBirth: p.YearOfBirth,
		VerifiedIdentifiers: p.verifiedIdentifiers(), UnverifiedIdentifiers: unverified,
	}}
	c.mu.Lock()
	c.discoveries = append(c.discoveries, d)
	c.discoveryByTx[d.TransactionID] = d
	c.discoveryReq[d.RequestID] = d
	c.changedLocked()
	c.mu.Unlock()

	state := c.deliver(ctx, gateway.Callback{Path: gateway.CallbackDiscover, HIPID: hipID, Body: body, RequestID: d.RequestID})
	c.mu.Lock()
	defer c.mu.Unlock()
	d.Delivery = state
	if state != gateway.StateDelivered && d.Status == DiscoveryPending {
		d.Status = DiscoveryFailed
		d.Error = errDetail("ABDM-1007", "The HIP could not be reached")
	}
	c.changedLocked()
	return d.clone(), nil
}

// onDiscoverAnswer records an HIP's on-discover.
func (c *CM) onDiscoverAnswer(ctx context.Context, m gateway.Message) {
	var body abdm.OnDiscoverRequest
	if err := json.Unmarshal(m.Body, &body); err != nil {
		c.log.WarnContext(ctx, "cm: unreadable on-discover", "request_id", m.RequestID, "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.discoveryReq[m.Answers]
	if d == nil || d.RequestID != m.Answers {
		return
	}
	d.AnsweredAt = c.now()
	switch {
	case body.Error != nil:
		d.Status, d.Error = DiscoveryFailed, body.Error
	case body.TransactionID != d.TransactionID:
		d.Status, d.Error = DiscoveryFailed, errDetail("ABDM-9999", "on-discover transactionId does not match the discovery")
	default:
		d.Status = DiscoveryDone
		d.CareContexts = flatten(body.Patient)
		d.MatchedBy = d.MatchedBy[:0]
		for _, mb := range body.MatchedBy {
			d.MatchedBy = append(d.MatchedBy, string(mb))
		}
	}
	c.changedLocked()
}

// CareContextRef selects a care context of a discovery result.
type CareContextRef struct {
	PatientReference     string `json:"patient_reference"`
	CareContextReference string `json:"care_context_reference"`
}

// LinkInit asks the HIP to link care contexts found by a discovery (all of
// them when selected is empty). The HIP sends the patient an OTP and
// answers with on-init.
func (c *CM) LinkInit(ctx context.Context, abhaAddress, transactionID string, selected []CareContextRef) (Discovery, error) {
	c.mu.Lock()
	d, err := c.ownDiscoveryLocked(abhaAddress, transactionID)
	if err != nil {
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link init: %w", err)
	}
	if d.Status != DiscoveryDone {
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link init: %w: discovery is %s", ErrConflict, d.Status)
	}
	if d.Link != nil {
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link init: %w: ABDM-1104 duplicate link init for transaction %s", ErrConflict, transactionID)
	}
	chosen, err := pick(d.CareContexts, selected)
	if err != nil {
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link init: %w", err)
	}
	d.Link = &LinkAttempt{Status: LinkInitiating, InitRequestID: uuid.NewString(), Selected: chosen, Delivery: gateway.StatePending}
	c.discoveryReq[d.Link.InitRequestID] = d
	body := abdm.LinkInitRequest{TransactionID: d.TransactionID, ABHAAddress: d.ABHAAddress, Patient: group(chosen, false)}
	cb := gateway.Callback{Path: gateway.CallbackLinkInit, HIPID: d.HIPID, Body: body, RequestID: d.Link.InitRequestID}
	c.changedLocked()
	c.mu.Unlock()

	state := c.deliver(ctx, cb)
	c.mu.Lock()
	defer c.mu.Unlock()
	d.Link.Delivery = state
	if state != gateway.StateDelivered && d.Link.Status == LinkInitiating {
		d.Link.Status, d.Link.Error = LinkFailed, errDetail("ABDM-1007", "The HIP could not be reached")
	}
	c.changedLocked()
	return d.clone(), nil
}

// pick returns the selected care contexts of a result; all of them when
// nothing is selected.
func pick(found []CareContext, selected []CareContextRef) ([]CareContext, error) {
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: the discovery found no care contexts", ErrConflict)
	}
	if len(selected) == 0 {
		return slices.Clone(found), nil
	}
	var out []CareContext
	for _, s := range selected {
		i := slices.IndexFunc(found, func(cc CareContext) bool {
			return cc.CareContextReference == s.CareContextReference &&
				(s.PatientReference == "" || cc.PatientReference == s.PatientReference)
		})
		if i < 0 {
			return nil, fmt.Errorf("%w: care context %q was not found by this discovery", ErrInvalid, s.CareContextReference)
		}
		out = append(out, found[i])
	}
	return out, nil
}

func (c *CM) ownDiscoveryLocked(abhaAddress, transactionID string) (*Discovery, error) {
	d := c.discoveryByTx[transactionID]
	if d == nil || normAddress(d.ABHAAddress) != normAddress(abhaAddress) {
		return nil, fmt.Errorf("%w: no discovery %q for %q", ErrNotFound, transactionID, abhaAddress)
	}
	return d, nil
}

// onLinkInitAnswer records an HIP's on-init: the link reference the OTP
// belongs to.
func (c *CM) onLinkInitAnswer(ctx context.Context, m gateway.Message) {
	var body abdm.LinkOnInitRequest
	if err := json.Unmarshal(m.Body, &body); err != nil {
		c.log.WarnContext(ctx, "cm: unreadable link on-init", "request_id", m.RequestID, "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.discoveryReq[m.Answers]
	if d == nil || d.Link == nil || d.Link.InitRequestID != m.Answers {
		return
	}
	l := d.Link
	switch {
	case body.Error != nil:
		l.Status, l.Error = LinkFailed, body.Error
	case body.Link == nil || body.Link.ReferenceNumber == "":
		l.Status, l.Error = LinkFailed, errDetail("ABDM-1006", "on-init carries no link reference")
	default:
		l.Status, l.Error = LinkAwaitingOTP, nil
		l.ReferenceNumber = body.Link.ReferenceNumber
		l.AuthenticationType = body.Link.AuthenticationType
		if meta := body.Link.Meta; meta != nil {
			l.CommunicationMedium, l.CommunicationHint = meta.CommunicationMedium, meta.CommunicationHint
			l.CommunicationExpiry = meta.CommunicationExpiry.Time
		}
	}
	c.changedLocked()
}

// LinkConfirm sends the OTP the patient received to the HIP, which answers
// with on-confirm and the linked care contexts.
func (c *CM) LinkConfirm(ctx context.Context, abhaAddress, transactionID, otp string) (Discovery, error) {
	c.mu.Lock()
	d, err := c.ownDiscoveryLocked(abhaAddress, transactionID)
	if err != nil {
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link confirm: %w", err)
	}
	l := d.Link
	switch {
	case l == nil:
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link confirm: %w: no link was initiated for transaction %s", ErrConflict, transactionID)
	case l.Status == LinkConfirming || l.Status == LinkLinked:
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link confirm: %w: ABDM-1105 duplicate link confirm (link is %s)", ErrConflict, l.Status)
	case l.Status != LinkAwaitingOTP:
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link confirm: %w: link is %s", ErrConflict, l.Status)
	case otp == "":
		c.mu.Unlock()
		return Discovery{}, fmt.Errorf("link confirm: %w: the OTP is empty", ErrInvalid)
	}
	l.Status, l.Error = LinkConfirming, nil
	l.ConfirmRequestID = uuid.NewString()
	c.discoveryReq[l.ConfirmRequestID] = d
	body := abdm.LinkConfirmRequest{Confirmation: abdm.LinkConfirmation{LinkRefNumber: l.ReferenceNumber, Token: abdm.FlexString(otp)}}
	cb := gateway.Callback{Path: gateway.CallbackLinkConfirm, HIPID: d.HIPID, Body: body, RequestID: l.ConfirmRequestID}
	c.changedLocked()
	c.mu.Unlock()

	state := c.deliver(ctx, cb)
	c.mu.Lock()
	defer c.mu.Unlock()
	l.Delivery = state
	if state != gateway.StateDelivered && l.Status == LinkConfirming {
		l.Status, l.Error = LinkAwaitingOTP, errDetail("ABDM-1007", "The HIP could not be reached")
	}
	c.changedLocked()
	return d.clone(), nil
}

// onLinkConfirmAnswer records an HIP's on-confirm and links what it lists.
func (c *CM) onLinkConfirmAnswer(ctx context.Context, m gateway.Message) {
	var body abdm.LinkOnConfirmRequest
	if err := json.Unmarshal(m.Body, &body); err != nil {
		c.log.WarnContext(ctx, "cm: unreadable link on-confirm", "request_id", m.RequestID, "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.discoveryReq[m.Answers]
	if d == nil || d.Link == nil || d.Link.ConfirmRequestID != m.Answers {
		return
	}
	l := d.Link
	linked := flatten(body.Patient)
	switch {
	case body.Error != nil:
		l.Status, l.Error = LinkAwaitingOTP, body.Error
	case len(linked) == 0:
		l.Status, l.Error = LinkAwaitingOTP, errDetail("ABDM-1006", "on-confirm lists no care contexts")
	default:
		l.Status, l.Error, l.Linked = LinkLinked, nil, linked
		c.addLinksLocked(d.ABHAAddress, d.HIPID, ViaUser, linked)
	}
	c.changedLocked()
}

// Discovery returns one discovery by transaction id.
func (c *CM) Discovery(transactionID string) (Discovery, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.discoveryByTx[transactionID]; d != nil {
		return d.clone(), true
	}
	return Discovery{}, false
}

// Discoveries lists a patient's discoveries (all when abhaAddress is ""),
// oldest first.
func (c *CM) Discoveries(abhaAddress string) []Discovery {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []Discovery{}
	for _, d := range c.discoveries {
		if abhaAddress == "" || normAddress(d.ABHAAddress) == normAddress(abhaAddress) {
			out = append(out, d.clone())
		}
	}
	return out
}
