package cm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// Share is one scan of a counter QR (scan and share, reference §2.5).
type Share struct {
	// RequestID is the REQUEST-ID of the share callback; the HIP's
	// on-share echoes it.
	RequestID   string `json:"request_id"`
	ABHAAddress string `json:"abha_address"`
	HIPID       string `json:"hip_id"`
	HIPName     string `json:"hip_name,omitempty"`
	CounterID   string `json:"counter_id"`
	// Delivery is the gateway's delivery state of the share callback.
	Delivery string `json:"delivery"`
	// Status: "sent" until the HIP answers, then "token" (a queue token was
	// issued) or "failed" (the HIP answered with an error, or the callback
	// could not be delivered).
	Status      string            `json:"status"`
	TokenNumber string            `json:"token_number,omitempty"`
	Expiry      string            `json:"expiry,omitempty"`
	Error       *abdm.ErrorDetail `json:"error,omitempty"`
	SharedAt    time.Time         `json:"shared_at"`
	AnsweredAt  time.Time         `json:"answered_at,omitzero"`
}

// Share statuses.
const (
	ShareSent   = "sent"
	ShareToken  = "token"
	ShareFailed = "failed"
)

// counterPattern is the counter id rule observed on the sandbox: 1–20
// letters and digits.
var counterPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,20}$`)

// ParseShareQR reads the hip-id and counter-id of a scan-and-share QR,
// https://phrsbx.abdm.gov.in/share-profile?hip-id=<HIP>&counter-id=<COUNTER>.
func ParseShareQR(raw string) (hipID, counterID string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("%w: QR %q is not a URL: %w", ErrInvalid, raw, err)
	}
	q := u.Query()
	hipID, counterID = q.Get("hip-id"), q.Get("counter-id")
	if hipID == "" || counterID == "" {
		return "", "", fmt.Errorf("%w: QR %q has no hip-id or counter-id", ErrInvalid, raw)
	}
	return hipID, counterID, nil
}

// ShareQR is the QR text for a counter, as the sandbox PHR app reads it.
func ShareQR(hipID, counterID string) string {
	v := url.Values{"hip-id": {hipID}, "counter-id": {counterID}}
	return "https://phrsbx.abdm.gov.in/share-profile?" + v.Encode()
}

// Share sends the patient's profile to the HIP as if the PHR app had
// scanned the counter's QR. It returns once the callback was attempted; the
// HIP's queue token arrives with its on-share (see Wait).
func (c *CM) Share(ctx context.Context, abhaAddress, hipID, counterID string) (Share, error) {
	p, ok := c.Patient(abhaAddress)
	if !ok {
		return Share{}, fmt.Errorf("sharing profile: %w: no patient %q", ErrNotFound, abhaAddress)
	}
	if !counterPattern.MatchString(counterID) {
		return Share{}, fmt.Errorf("sharing profile: %w: counter id %q must be 1-20 letters or digits", ErrInvalid, counterID)
	}
	if !c.isService(hipID, gateway.TypeHIP) {
		return Share{}, fmt.Errorf("sharing profile: %w: %q is not an active HIP", ErrNotFound, hipID)
	}
	var number *string
	if p.ABHANumber != "" {
		n := p.ABHANumber // dashed, as the ABHA app shows it; an HIP must strip dashes for generate-token
		number = &n
	}
	body := abdm.PatientShareRequest{
		Intent: abdm.IntentProfileShare,
		MetaData: abdm.ShareMetaData{
			HIPID: hipID, Context: counterID,
			// Coordinates arrive as strings; the sandbox uses a fixed point in Bengaluru.
			Latitude: "12.97", Longitude: "77.59",
		},
		Profile: abdm.ShareProfile{Patient: abdm.SharePatient{
			ABHANumber: number, ABHAAddress: p.ABHAAddress, Name: p.Name, Gender: abdm.Gender(p.Gender),
			DayOfBirth: flex(p.DayOfBirth), MonthOfBirth: flex(p.MonthOfBirth), YearOfBirth: flex(p.YearOfBirth),
			Address:     &abdm.ShareAddress{Line: p.Address, District: p.District, State: p.State, Pincode: p.Pincode},
			PhoneNumber: p.Mobile,
		}},
	}
	s := &Share{
		RequestID: uuid.NewString(), ABHAAddress: p.ABHAAddress, HIPID: hipID, HIPName: c.serviceName(hipID),
		CounterID: counterID, Status: ShareSent, Delivery: gateway.StatePending, SharedAt: c.now(),
	}
	// Recorded before delivery: the HIP may answer before Deliver returns.
	c.mu.Lock()
	c.shares = append(c.shares, s)
	c.shareByReq[s.RequestID] = s
	c.changedLocked()
	c.mu.Unlock()

	state := c.deliver(ctx, gateway.Callback{Path: gateway.CallbackShare, HIPID: hipID, Body: body, RequestID: s.RequestID})
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Delivery = state
	if state != gateway.StateDelivered && state != gateway.StatePending && s.Status == ShareSent {
		s.Status = ShareFailed
	}
	c.changedLocked()
	return *s, nil
}

func flex(n int) abdm.FlexString {
	if n == 0 {
		return ""
	}
	return abdm.FlexString(strconv.Itoa(n))
}

// onShareAnswer records the HIP's on-share: the queue token or its error.
func (c *CM) onShareAnswer(ctx context.Context, m gateway.Message) {
	var body abdm.PatientOnShareRequest
	if err := json.Unmarshal(m.Body, &body); err != nil {
		c.log.WarnContext(ctx, "cm: unreadable on-share", "request_id", m.RequestID, "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.shareByReq[m.Answers]
	if s == nil {
		return // a share triggered through the gateway's control API, not the PHR app
	}
	s.AnsweredAt = c.now()
	s.Error = body.Error
	if body.Error == nil && strings.EqualFold(body.Acknowledgement.Status, abdm.AckSuccess) && body.Acknowledgement.Profile != nil {
		s.Status = ShareToken
		s.TokenNumber = string(body.Acknowledgement.Profile.TokenNumber)
		s.Expiry = string(body.Acknowledgement.Profile.Expiry)
	} else {
		s.Status = ShareFailed
		if s.Error == nil {
			s.Error = errDetail("ABDM-9999", "HIP acknowledged with status "+body.Acknowledgement.Status)
		}
	}
	c.changedLocked()
}

// Shares lists the shares of one patient (all when abhaAddress is ""),
// oldest first.
func (c *CM) Shares(abhaAddress string) []Share {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []Share{}
	for _, s := range c.shares {
		if abhaAddress == "" || normAddress(s.ABHAAddress) == normAddress(abhaAddress) {
			out = append(out, *s)
		}
	}
	return out
}

// ShareByRequestID returns one share.
func (c *CM) ShareByRequestID(requestID string) (Share, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.shareByReq[requestID]; s != nil {
		return *s, true
	}
	return Share{}, false
}
