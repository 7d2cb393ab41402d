package hcx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Body types (reference §6).
const (
	// TypeJWEPayload marks the body of an on_* callback. NHCX refuses it
	// on initiating calls ("Failed to read request").
	TypeJWEPayload = "JWEPayload"
	// TypeProtocolResponse marks a plain, unencrypted body whose x-hcx-*
	// members are at the top level: error reports, and what NHCX posts to
	// /v1/error.
	TypeProtocolResponse = "ProtocolResponse"
)

// ErrProtocolResponse is returned by ParseBody's callers that need a JWE
// but were given a plain ProtocolResponse.
var ErrProtocolResponse = errors.New("nhcx: body is a plain protocol response, not an encrypted message")

// Body is the JSON body of a use-case call: {"payload":"<compact JWE>"} for
// requests, with "type":"JWEPayload" first for callbacks.
type Body struct {
	Type    string `json:"type,omitempty"`
	Payload string `json:"payload"`
}

// NewBody wraps a compact JWE in the body form for kind.
func NewBody(kind Kind, compact string) Body {
	if kind == KindCallback {
		return Body{Type: TypeJWEPayload, Payload: compact}
	}
	return Body{Payload: compact}
}

// Received is a parsed incoming body: either an encrypted message (Payload
// set) or a plain ProtocolResponse (Protocol set).
type Received struct {
	Type string
	// Payload is the compact JWE; empty for a ProtocolResponse.
	Payload string
	// Protocol holds a ProtocolResponse's top-level x-hcx-* members.
	Protocol *Headers
}

// ParseBody reads an incoming body. It is lenient in what it accepts,
// because strict parsing of callbacks is what lost answers in other
// integrations: unknown members are ignored, "type" may be missing, and a
// body with x-hcx-* members but no payload is read as a ProtocolResponse
// even when its type is missing.
func ParseBody(data []byte) (Received, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(data), &members); err != nil || members == nil {
		return Received{}, errors.New("nhcx body is not a JSON object")
	}
	var r Received
	if raw, ok := members["type"]; ok {
		t, err := scalarText(raw)
		if err != nil {
			return Received{}, fmt.Errorf("nhcx body type: %w", err)
		}
		r.Type = t
	}
	if raw, ok := members["payload"]; ok && !isNull(raw) && r.Type != TypeProtocolResponse {
		if err := json.Unmarshal(raw, &r.Payload); err != nil {
			return Received{}, errors.New("nhcx body payload is not a string (want the compact JWE)")
		}
		if strings.TrimSpace(r.Payload) == "" {
			return Received{}, errors.New("nhcx body payload is empty")
		}
		return r, nil
	}
	var h Headers
	if err := h.fromMap(members); err != nil {
		return Received{}, fmt.Errorf("nhcx protocol response: %w", err)
	}
	if r.Type != TypeProtocolResponse && h.Status == "" && h.ErrorDetails == nil && h.CorrelationID == "" {
		return Received{}, errors.New("nhcx body has neither a payload nor protocol headers")
	}
	r.Protocol = &h
	return r, nil
}

// MarshalProtocolResponse writes a plain ProtocolResponse body: "type" and
// the x-hcx-* members of h at the top level. It is how a participant
// reports an error in processing a message on the on_* path.
func MarshalProtocolResponse(h Headers) ([]byte, error) {
	members, err := h.Map()
	if err != nil {
		return nil, fmt.Errorf("encoding protocol response: %w", err)
	}
	members["type"] = json.RawMessage(`"` + TypeProtocolResponse + `"`)
	return json.Marshal(members)
}

// Ack is the body of the synchronous acknowledgement (HTTP 202) to every
// call, in both directions (reference §8):
//
//	{"timestamp":"06/11/2023 13:22:06:123","api_call_id":"…","correlation_id":"…",
//	 "result":{"sender_code":"…","recipient_code":"…","entity_type":"preauth","protocol_status":"request.queued"},
//	 "error":null}
type Ack struct {
	// Timestamp is DD/MM/YYYY hh:mm:ss:sss in NHCX; the HCX specification
	// says Unix time, so numbers are read as their text.
	Timestamp     string     `json:"timestamp"`
	APICallID     string     `json:"api_call_id"`
	CorrelationID string     `json:"correlation_id"`
	Result        *AckResult `json:"result,omitempty"`
	Error         *Details   `json:"error"`
}

// AckResult is the result member of an acknowledgement.
type AckResult struct {
	SenderCode     string `json:"sender_code"`
	RecipientCode  string `json:"recipient_code"`
	EntityType     string `json:"entity_type"`
	ProtocolStatus Status `json:"protocol_status"`
}

// UnmarshalJSON reads an acknowledgement leniently: numeric timestamps and
// string-wrapped error objects are accepted.
func (a *Ack) UnmarshalJSON(data []byte) error {
	var raw struct {
		Timestamp     json.RawMessage `json:"timestamp"`
		APICallID     json.RawMessage `json:"api_call_id"`
		CorrelationID json.RawMessage `json:"correlation_id"`
		Result        *AckResult      `json:"result"`
		Error         json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("nhcx acknowledgement: %w", err)
	}
	*a = Ack{Result: raw.Result}
	for _, f := range []struct {
		raw json.RawMessage
		dst *string
	}{{raw.Timestamp, &a.Timestamp}, {raw.APICallID, &a.APICallID}, {raw.CorrelationID, &a.CorrelationID}} {
		if len(f.raw) == 0 {
			continue
		}
		s, err := scalarText(f.raw)
		if err != nil {
			return fmt.Errorf("nhcx acknowledgement: %w", err)
		}
		*f.dst = s
	}
	if len(raw.Error) > 0 && !isNull(raw.Error) {
		d, err := decodeDetails(raw.Error)
		if err != nil {
			return fmt.Errorf("nhcx acknowledgement error: %w", err)
		}
		a.Error = d
	}
	return nil
}

// NewReceipt is our acknowledgement of a message NHCX delivered to us
// (callbacks, payer-initiated requests): it echoes the message's
// api_call_id and correlation_id, reports request.queued and an empty
// error, as NHCX expects within 30 seconds.
func NewReceipt(h Headers, entityType string, now time.Time) Ack {
	return Ack{
		Timestamp:     FormatAckTimestamp(now),
		APICallID:     h.APICallID,
		CorrelationID: h.CorrelationID,
		Result: &AckResult{
			SenderCode:     h.SenderCode,
			RecipientCode:  h.RecipientCode,
			EntityType:     entityType,
			ProtocolStatus: StatusRequestQueued,
		},
		Error: &Details{},
	}
}

// FormatAckTimestamp writes t in IST as acknowledgements carry it,
// DD/MM/YYYY hh:mm:ss:sss (a colon before the milliseconds, which Go's
// layouts cannot express).
func FormatAckTimestamp(t time.Time) string {
	t = t.In(ist)
	return fmt.Sprintf("%s:%03d", t.Format("02/01/2006 15:04:05"), t.Nanosecond()/int(time.Millisecond))
}
