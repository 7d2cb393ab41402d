package cmtest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
)

// HIP is the behaviour of a well-behaved HIP bridge for one patient:
// scan-and-share tokens, discovery of its care contexts, link with an OTP,
// consent and health-information acknowledgements. Data is not pushed; a
// test that needs a push does it itself from the recorded HI request.
type HIP struct {
	HIPID       string
	ABHAAddress string
	// PatientRef and PatientDisplay name the patient at the HIP.
	PatientRef     string
	PatientDisplay string
	// CareContexts are what discovery finds, one HI type each.
	CareContexts []CareContext
	// OTP is what link confirm must carry.
	OTP string
	// TokenNumber is the queue token on-share issues.
	TokenNumber string

	mu      sync.Mutex
	pending map[string][]abdm.PatientCareContexts // link ref → chosen contexts
}

// CareContext is one record at the fake HIP.
type CareContext struct {
	Reference string
	Display   string
	HIType    abdm.HIType
}

func (h *HIP) groups(refs map[string]bool) []abdm.PatientCareContexts {
	var out []abdm.PatientCareContexts
	for _, cc := range h.CareContexts {
		if refs != nil && !refs[cc.Reference] {
			continue
		}
		out = append(out, abdm.NewPatientCareContexts(h.PatientRef, h.PatientDisplay, cc.HIType,
			abdm.CareContext{ReferenceNumber: cc.Reference, Display: cc.Display}))
	}
	return out
}

// ActAsHIP installs h's handlers on the bridge.
func (b *Bridge) ActAsHIP(h *HIP) {
	h.pending = make(map[string][]abdm.PatientCareContexts)
	b.On(abdm.CallbackPatientShare, func(ctx context.Context, cb Callback) {
		var req abdm.PatientShareRequest
		cb.Decode(b.t, &req)
		b.answer(ctx, abdm.Request{Path: abdm.PathPatientOnShare, HIPID: h.HIPID, Body: abdm.PatientOnShareRequest{
			Acknowledgement: abdm.ShareAcknowledgement{Status: abdm.AckSuccess, ABHAAddress: req.Profile.Patient.ABHAAddress,
				Profile: &abdm.ShareTokenProfile{Context: req.MetaData.Context, TokenNumber: abdm.FlexString(h.TokenNumber), Expiry: "1800"}},
			Response: abdm.ResponseRef{RequestID: cb.RequestID},
		}})
	})
	b.On(abdm.CallbackDiscover, func(ctx context.Context, cb Callback) {
		var req abdm.DiscoverRequest
		cb.Decode(b.t, &req)
		res := abdm.OnDiscoverRequest{TransactionID: req.TransactionID, Response: abdm.ResponseRef{RequestID: cb.RequestID}}
		if req.Patient.ID == h.ABHAAddress {
			res.Patient = h.groups(nil)
			res.MatchedBy = []abdm.IdentifierType{abdm.IdentifierABHAAddress}
		} else {
			res.Error = &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}
		}
		b.answer(ctx, abdm.Request{Path: abdm.PathOnDiscover, HIPID: h.HIPID, Body: res})
	})
	b.On(abdm.CallbackLinkInit, func(ctx context.Context, cb Callback) {
		var req abdm.LinkInitRequest
		cb.Decode(b.t, &req)
		refs := map[string]bool{}
		for _, g := range req.Patient {
			for _, cc := range g.CareContexts {
				refs[cc.ReferenceNumber] = true
			}
		}
		ref := uuid.NewString()
		h.mu.Lock()
		h.pending[ref] = h.groups(refs)
		h.mu.Unlock()
		b.answer(ctx, abdm.Request{Path: abdm.PathLinkOnInit, HIPID: h.HIPID, Body: abdm.LinkOnInitRequest{
			TransactionID: req.TransactionID,
			Link: &abdm.LinkReference{ReferenceNumber: ref, AuthenticationType: abdm.AuthenticationDirect, Meta: &abdm.LinkMeta{
				CommunicationMedium: abdm.CommunicationMobile, CommunicationHint: "OTP",
				CommunicationExpiry: abdm.NewTime(time.Now().Add(10 * time.Minute)),
			}},
			Response: abdm.ResponseRef{RequestID: cb.RequestID},
		}})
	})
	b.On(abdm.CallbackLinkConfirm, func(ctx context.Context, cb Callback) {
		var req abdm.LinkConfirmRequest
		cb.Decode(b.t, &req)
		res := abdm.LinkOnConfirmRequest{Response: abdm.ResponseRef{RequestID: cb.RequestID}}
		h.mu.Lock()
		groups, ok := h.pending[req.Confirmation.LinkRefNumber]
		if ok && string(req.Confirmation.Token) == h.OTP {
			delete(h.pending, req.Confirmation.LinkRefNumber)
			res.Patient = groups
		} else {
			res.Error = &abdm.ErrorDetail{Code: "ABDM-9999", Message: "Incorrect OTP"}
		}
		h.mu.Unlock()
		b.answer(ctx, abdm.Request{Path: abdm.PathLinkOnConfirm, HIPID: h.HIPID, Body: res})
	})
	b.On(abdm.CallbackHIPConsentNotify, func(ctx context.Context, cb Callback) {
		var req abdm.HIPConsentNotifyRequest
		cb.Decode(b.t, &req)
		b.answer(ctx, abdm.Request{Path: abdm.PathHIPConsentOnNotify, HIPID: h.HIPID, Body: abdm.HIPConsentOnNotifyRequest{
			Acknowledgement: abdm.HIPConsentAck{Status: abdm.AckOK, ConsentID: req.Notification.ConsentID},
			Response:        abdm.ResponseRef{RequestID: cb.RequestID},
		}})
	})
	b.On(abdm.CallbackHIPHealthInformationRequest, func(ctx context.Context, cb Callback) {
		var req abdm.HIPHealthInformationRequest
		cb.Decode(b.t, &req)
		b.answer(ctx, abdm.Request{Path: abdm.PathHIPHealthInformationOnRequest, HIPID: h.HIPID, Body: abdm.HealthInformationOnRequest{
			HIRequest: &abdm.HIRequestAck{TransactionID: req.TransactionID, SessionStatus: abdm.SessionAcknowledged},
			Response:  abdm.ResponseRef{RequestID: cb.RequestID},
		}})
	})
}

// ActAsHIU installs the acknowledgements of a well-behaved HIU bridge:
// consent notifications are answered with on-notify. Results of its own
// calls (on-init, on-fetch, ...) are only recorded.
func (b *Bridge) ActAsHIU(hiuID string) {
	b.On(abdm.CallbackHIUConsentNotify, func(ctx context.Context, cb Callback) {
		var req abdm.HIUConsentNotifyRequest
		cb.Decode(b.t, &req)
		acks := []abdm.HIUConsentAck{}
		for _, a := range req.Notification.ConsentArtefacts {
			acks = append(acks, abdm.HIUConsentAck{ConsentID: a.ID, Status: abdm.AckOK})
		}
		b.answer(ctx, abdm.Request{Path: abdm.PathHIUConsentOnNotify, HIUID: hiuID, Body: abdm.HIUConsentOnNotifyRequest{
			Acknowledgement: acks, Response: abdm.ResponseRef{RequestID: cb.RequestID},
		}})
	})
}

// ResultOf waits for the result callback at path that answers the call
// with REQUEST-ID requestID.
func (b *Bridge) ResultOf(path, requestID string) Callback {
	b.t.Helper()
	return b.WaitFor(path, func(cb Callback) bool {
		var body struct {
			Response abdm.ResponseRef `json:"response"`
		}
		return json.Unmarshal(cb.Body, &body) == nil && body.Response.RequestID == requestID
	})
}

// Refs returns the care-context references of a patient[] array, for
// comparisons.
func Refs(groups []abdm.PatientCareContexts) []string {
	var out []string
	for _, g := range groups {
		for _, cc := range g.CareContexts {
			out = append(out, cc.ReferenceNumber)
		}
	}
	slices.Sort(out)
	return out
}
