package cm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// CareContext is one care context as the PHR app shows it.
type CareContext struct {
	PatientReference     string `json:"patient_reference"`
	PatientDisplay       string `json:"patient_display,omitempty"`
	CareContextReference string `json:"care_context_reference"`
	Display              string `json:"display,omitempty"`
	HIType               string `json:"hi_type,omitempty"`
}

// LinkedCareContext is a care context linked to a patient's ABHA address.
type LinkedCareContext struct {
	ABHAAddress string `json:"abha_address"`
	HIPID       string `json:"hip_id"`
	HIPName     string `json:"hip_name,omitempty"`
	CareContext
	// Via is "hip-initiated" (link/carecontext) or "user-initiated"
	// (discover, link init and confirm).
	Via      string    `json:"via"`
	LinkedAt time.Time `json:"linked_at"`
	// NotifiedAt is the last accepted context notify (new data).
	NotifiedAt time.Time `json:"notified_at,omitzero"`
}

// Ways a care context gets linked.
const (
	ViaHIP  = "hip-initiated"
	ViaUser = "user-initiated"
)

// Links lists the care contexts linked to a patient (all when abhaAddress
// is ""), at one HIP when hipID is set, oldest first.
func (c *CM) Links(abhaAddress, hipID string) []LinkedCareContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []LinkedCareContext{}
	for _, l := range c.links {
		if (abhaAddress == "" || normAddress(l.ABHAAddress) == normAddress(abhaAddress)) && (hipID == "" || l.HIPID == hipID) {
			out = append(out, *l)
		}
	}
	return out
}

// findLinkLocked finds a linked care context. patientRef "" matches any
// patient reference. The caller holds c.mu.
func (c *CM) findLinkLocked(abhaAddress, hipID, patientRef, careContextRef string) *LinkedCareContext {
	for _, l := range c.links {
		if l.HIPID == hipID && normAddress(l.ABHAAddress) == normAddress(abhaAddress) &&
			l.CareContextReference == careContextRef && (patientRef == "" || l.PatientReference == patientRef) {
			return l
		}
	}
	return nil
}

// addLinksLocked links care contexts that are not linked yet and returns
// how many were new. The caller holds c.mu.
func (c *CM) addLinksLocked(abhaAddress, hipID, via string, contexts []CareContext) int {
	n := 0
	now := c.now()
	for _, cc := range contexts {
		if c.findLinkLocked(abhaAddress, hipID, cc.PatientReference, cc.CareContextReference) != nil {
			continue
		}
		c.links = append(c.links, &LinkedCareContext{
			ABHAAddress: abhaAddress, HIPID: hipID, HIPName: c.serviceName(hipID),
			CareContext: cc, Via: via, LinkedAt: now,
		})
		n++
	}
	if n > 0 {
		c.changedLocked()
	}
	return n
}

// flatten turns the patient[] arrays of linking and discovery into care
// contexts, one per reference.
func flatten(groups []abdm.PatientCareContexts) []CareContext {
	var out []CareContext
	for _, g := range groups {
		for _, cc := range g.CareContexts {
			out = append(out, CareContext{
				PatientReference: g.ReferenceNumber, PatientDisplay: g.Display,
				CareContextReference: cc.ReferenceNumber, Display: cc.Display, HIType: string(g.HIType),
			})
		}
	}
	return out
}

// group is the inverse of flatten: one patient[] element per patient
// reference and HI type, displays left out when withDisplay is false.
func group(contexts []CareContext, withDisplay bool) []abdm.PatientCareContexts {
	var out []abdm.PatientCareContexts
	index := map[string]int{}
	for _, cc := range contexts {
		k := cc.PatientReference + "|" + cc.HIType
		i, ok := index[k]
		if !ok {
			g := abdm.PatientCareContexts{ReferenceNumber: cc.PatientReference, HIType: abdm.HIType(cc.HIType)}
			if withDisplay {
				g.Display = cc.PatientDisplay
			}
			out = append(out, g)
			i = len(out) - 1
			index[k] = i
		}
		ref := abdm.CareContext{ReferenceNumber: cc.CareContextReference}
		if withDisplay {
			ref.Display = cc.Display
		}
		out[i].CareContexts = append(out[i].CareContexts, ref)
		out[i].Count = len(out[i].CareContexts)
	}
	return out
}

var hiTypes = []abdm.HIType{
	abdm.HITypeDiagnosticReport, abdm.HITypeDischargeSummary, abdm.HITypeHealthDocumentRecord, abdm.HITypeImmunizationRecord,
	abdm.HITypeOPConsultation, abdm.HITypePrescription, abdm.HITypeWellnessRecord, abdm.HITypeInvoice,
}

func validHIType(t abdm.HIType) bool { return slices.Contains(hiTypes, t) }

// onLinkCareContext answers /hip/v3/link/carecontext with on_carecontext.
func (c *CM) onLinkCareContext(ctx context.Context, m gateway.Message) {
	pf := c.takePreflight(m.RequestID)
	if pf.refused {
		return
	}
	var req abdm.LinkCareContextRequest
	res := abdm.OnCareContextRequest{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	if err := json.Unmarshal(m.Body, &req); err != nil {
		res.Error = errDetail("ABDM-1006", "Bad Request, invalid request Body")
	} else {
		res.ABHAAddress = req.ABHAAddress
		res.Error = c.linkCareContexts(m.HIPID, pf.linkToken, req)
	}
	if res.Error == nil {
		res.Status = "Successfully Linked care context"
	}
	c.answer(ctx, m, gateway.CallbackOnCareContext, res)
}

// linkCareContexts checks a HIP-initiated link against its link token and
// links the care contexts.
func (c *CM) linkCareContexts(hipID, token string, req abdm.LinkCareContextRequest) *abdm.ErrorDetail {
	claims, err := c.verifyLinkToken(token)
	switch {
	case err != nil:
		return errDetail("ABDM-1026", "Invalid link token")
	case claims.HIPID != hipID:
		return errDetail("ABDM-1063", "HIP id does not match the link token")
	case normAddress(claims.ABHAAddress) != normAddress(req.ABHAAddress):
		return errDetail("ABDM-1038", "ABHA address and Link token mismatch")
	case req.ABHANumber != "" && req.ABHANumber != claims.ABHANumber:
		return errDetail("ABDM-1062", "ABHA number does not match the link token")
	case len(req.Patient) == 0:
		return errDetail("ABDM-1006", "patient must list at least one care context")
	}
	for _, g := range req.Patient {
		switch {
		case g.Count != len(g.CareContexts):
			return errDetail("ABDM-1037", fmt.Sprintf("count %d does not match %d care contexts", g.Count, len(g.CareContexts)))
		case g.ReferenceNumber == "" || len(g.CareContexts) == 0:
			return errDetail("ABDM-1006", "patient referenceNumber and careContexts are required")
		case !validHIType(g.HIType):
			return errDetail("ABDM-1006", fmt.Sprintf("invalid hiType %q", g.HIType))
		}
		for _, cc := range g.CareContexts {
			if strings.TrimSpace(cc.ReferenceNumber) == "" {
				return errDetail("ABDM-1006", "care context referenceNumber is required")
			}
		}
	}
	contexts := flatten(req.Patient)
	c.mu.Lock()
	defer c.mu.Unlock()
	// Re-sending with the same token is fine for new contexts; a request
	// whose contexts are all linked already is refused.
	if c.addLinksLocked(claims.ABHAAddress, hipID, ViaHIP, contexts) == 0 {
		return errDetail("ABDM-1056", "Care contexts are already linked")
	}
	return nil
}

// onContextNotify answers /hip/v3/link/context/notify: success for a linked
// care context, ABDM-1006 for an unknown one or one linked less than
// Config.ContextNotifyLag ago.
func (c *CM) onContextNotify(ctx context.Context, m gateway.Message) {
	var req abdm.ContextNotifyRequest
	res := abdm.AcknowledgementResult{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	if err := json.Unmarshal(m.Body, &req); err != nil {
		res.Acknowledgement = &abdm.Acknowledgement{Status: abdm.AckErrored}
		res.Error = errDetail("ABDM-1006", "Bad Request, invalid request Body")
		c.answer(ctx, m, gateway.CallbackOnContextNotify, res)
		return
	}
	n := req.Notification
	hipID := m.HIPID
	if n.HIP.ID != "" && n.HIP.ID != hipID {
		res.Acknowledgement = &abdm.Acknowledgement{Status: abdm.AckErrored}
		res.Error = errDetail("ABDM-1035", "Invalid HIP ID")
		c.answer(ctx, m, gateway.CallbackOnContextNotify, res)
		return
	}
	c.mu.Lock()
	l := c.findLinkLocked(n.Patient.ID, hipID, n.CareContext.PatientReference, n.CareContext.CareContextReference)
	if l == nil || c.now().Sub(l.LinkedAt) < c.cfg.ContextNotifyLag {
		res.Acknowledgement = &abdm.Acknowledgement{Status: abdm.AckErrored}
		res.Error = errDetail("ABDM-1006", "No care context linked with given reference number")
	} else {
		l.NotifiedAt = c.now()
		res.Acknowledgement = &abdm.Acknowledgement{Status: abdm.AckSuccess}
		c.changedLocked()
	}
	c.mu.Unlock()
	c.answer(ctx, m, gateway.CallbackOnContextNotify, res)
}

// onSMSNotify answers sms/notify2 and puts the deep link on the patient's
// phone.
func (c *CM) onSMSNotify(ctx context.Context, m gateway.Message) {
	var req abdm.SMSNotifyRequest
	res := abdm.AcknowledgementResult{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	phone := ""
	if err := json.Unmarshal(m.Body, &req); err == nil {
		phone = strings.TrimPrefix(strings.TrimSpace(req.Notification.PhoneNo), "+91")
	}
	if len(phone) != 10 || strings.Trim(phone, "0123456789") != "" {
		res.Acknowledgement = &abdm.Acknowledgement{Status: abdm.AckErrored}
		res.Error = errDetail("ABDM-1006", "Invalid mobile number")
	} else {
		res.Acknowledgement = &abdm.Acknowledgement{Status: abdm.AckSuccess}
		if c.cfg.SMS != nil {
			name := req.Notification.HIP.Name
			if name == "" {
				name = c.serviceName(req.Notification.HIP.ID)
			}
			c.cfg.SMS.SendSMS(phone, "ABDM", fmt.Sprintf(
				"%s has health records for you. Open your ABHA app and link them: https://phrsbx.abdm.gov.in/link?hip-id=%s",
				name, req.Notification.HIP.ID))
		}
	}
	// sms/notify2 needs no X-HIP-ID; answer the HIP named in the body then.
	if m.HIPID == "" {
		m.HIPID = req.Notification.HIP.ID
	}
	if m.HIPID == "" {
		c.log.WarnContext(ctx, "cm: sms/notify2 without an HIP id; no callback", "request_id", m.RequestID)
		return
	}
	c.answer(ctx, m, gateway.CallbackOnSMSNotify, res)
}
