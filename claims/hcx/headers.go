package hcx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Protocol header names, exactly as they appear in the JWE protected header
// (reference §5). Note the hyphens in ben-abha-id and entity-type.
const (
	HeaderSenderCode    = "x-hcx-sender_code"
	HeaderRecipientCode = "x-hcx-recipient_code"
	HeaderAPICallID     = "x-hcx-api_call_id"
	HeaderCorrelationID = "x-hcx-correlation_id"
	HeaderRequestID     = "x-hcx-request_id"
	HeaderWorkflowID    = "x-hcx-workflow_id"
	HeaderTimestamp     = "x-hcx-timestamp"
	HeaderStatus        = "x-hcx-status"
	HeaderBenABHAID     = "x-hcx-ben-abha-id"
	HeaderErrorDetails  = "x-hcx-error_details"
	HeaderDebugFlag     = "x-hcx-debug_flag"
	HeaderDebugDetails  = "x-hcx-debug_details"
	HeaderRedirectTo    = "x-hcx-redirect_to"
	HeaderEntityType    = "x-hcx-entity-type"
)

// headerPrefix starts every protocol header; other protected-header keys
// (alg, enc) belong to the JWE itself.
const headerPrefix = "x-hcx-"

// Status is the x-hcx-status of a message.
type Status string

// The statuses of the protocol. Senders of NHCX requests set
// request.initiated; the gateway reports queued, dispatched and stopped.
// Callbacks use response.complete (NHCX refuses other values with
// NHCX-1011; the rest exist in HCX).
const (
	StatusRequestInitiated  Status = "request.initiated"
	StatusRequestQueued     Status = "request.queued"
	StatusRequestDispatched Status = "request.dispatched"
	StatusRequestStopped    Status = "request.stopped"
	StatusResponseComplete  Status = "response.complete"
	StatusResponsePartial   Status = "response.partial"
	StatusResponseError     Status = "response.error"
	StatusResponseRedirect  Status = "response.redirect"
)

// Details is the {"code","message","trace"} object of x-hcx-error_details
// and x-hcx-debug_details, and the error object of acknowledgements.
type Details struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Trace   string `json:"trace,omitempty"`
}

// Headers are the protocol headers of one message. Empty fields are left
// out of the JWE. Extra holds any other x-hcx-* header (the HCX
// specification allows domain headers x-hcx-<usecase>-*) as raw JSON.
type Headers struct {
	SenderCode    string
	RecipientCode string
	// APICallID must be new on every call, retries included; the switch
	// rejects duplicates.
	APICallID string
	// CorrelationID is shared by all messages of one request/response
	// cycle; a callback repeats the request's.
	CorrelationID string
	// RequestID is an NHCX addition, a UUID.
	RequestID string
	// WorkflowID ties cycles of one case together: a UUID in HCX, a numeric
	// workflow code for PMJAY (reference §11).
	WorkflowID string
	// Timestamp is in NHCX's form, 2023-11-06T13:22:06+0530; see
	// FormatTimestamp.
	Timestamp    string
	Status       Status
	BenABHAID    string
	ErrorDetails *Details
	DebugFlag    string
	DebugDetails *Details
	RedirectTo   string
	// EntityType appears only in the plain /v1/error bodies NHCX sends.
	EntityType string
	Extra      map[string]json.RawMessage
}

// stringFields pairs each text header's name with the field that holds it,
// so that encoding and decoding share one table.
func (h *Headers) stringFields() []struct {
	name string
	ptr  *string
} {
	return []struct {
		name string
		ptr  *string
	}{
		{HeaderSenderCode, &h.SenderCode},
		{HeaderRecipientCode, &h.RecipientCode},
		{HeaderAPICallID, &h.APICallID},
		{HeaderCorrelationID, &h.CorrelationID},
		{HeaderRequestID, &h.RequestID},
		{HeaderWorkflowID, &h.WorkflowID},
		{HeaderTimestamp, &h.Timestamp},
		{HeaderStatus, (*string)(&h.Status)},
		{HeaderBenABHAID, &h.BenABHAID},
		{HeaderDebugFlag, &h.DebugFlag},
		{HeaderRedirectTo, &h.RedirectTo},
		{HeaderEntityType, &h.EntityType},
	}
}

// Map returns the headers as the JSON members of a protected header, keyed
// by header name.
func (h Headers) Map() (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, 16)
	for k, v := range h.Extra {
		if !strings.HasPrefix(k, headerPrefix) {
			return nil, fmt.Errorf("extra header %q: only x-hcx-* headers may be added", k)
		}
		if !json.Valid(v) {
			return nil, fmt.Errorf("extra header %q: value is not JSON", k)
		}
		out[k] = v
	}
	for _, f := range h.stringFields() {
		if *f.ptr == "" {
			continue
		}
		b, err := json.Marshal(*f.ptr)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", f.name, err)
		}
		out[f.name] = b
	}
	for name, d := range map[string]*Details{HeaderErrorDetails: h.ErrorDetails, HeaderDebugDetails: h.DebugDetails} {
		if d == nil {
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

// MarshalJSON encodes the headers as one JSON object, keys sorted.
func (h Headers) MarshalJSON() ([]byte, error) {
	m, err := h.Map()
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the x-hcx-* members of a JSON object (a protected
// header, or a plain ProtocolResponse body) and ignores the others. Senders
// differ in small ways, so it is lenient: a number is read as its decimal
// text (some send numeric workflow ids) and null as absent.
func (h *Headers) UnmarshalJSON(data []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("protocol headers: %w", err)
	}
	if obj == nil {
		return fmt.Errorf("protocol headers: not a JSON object")
	}
	*h = Headers{}
	return h.fromMap(obj)
}

func (h *Headers) fromMap(obj map[string]json.RawMessage) error {
	known := map[string]bool{}
	for _, f := range h.stringFields() {
		known[f.name] = true
		raw, ok := obj[f.name]
		if !ok {
			continue
		}
		s, err := scalarText(raw)
		if err != nil {
			return fmt.Errorf("header %s: %w", f.name, err)
		}
		*f.ptr = s
	}
	for name, dst := range map[string]**Details{HeaderErrorDetails: &h.ErrorDetails, HeaderDebugDetails: &h.DebugDetails} {
		known[name] = true
		raw, ok := obj[name]
		if !ok || isNull(raw) {
			continue
		}
		d, err := decodeDetails(raw)
		if err != nil {
			return fmt.Errorf("header %s: %w", name, err)
		}
		*dst = d
	}
	for k, v := range obj {
		if known[k] || !strings.HasPrefix(k, headerPrefix) {
			continue
		}
		if h.Extra == nil {
			h.Extra = make(map[string]json.RawMessage)
		}
		h.Extra[k] = append(json.RawMessage(nil), v...)
	}
	return nil
}

// decodeDetails reads an error_details object. Some senders put the object
// in a string, so that is accepted too.
func decodeDetails(raw json.RawMessage) (*Details, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		raw = json.RawMessage(s)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("not a {\"code\",\"message\"} object")
	}
	var d Details
	for name, dst := range map[string]*string{"code": &d.Code, "message": &d.Message, "trace": &d.Trace} {
		if v, ok := obj[name]; ok {
			text, err := scalarText(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			*dst = text
		}
	}
	return &d, nil
}

// scalarText reads a JSON string, number or boolean as text; null is "".
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return strconv.FormatBool(b), nil
	}
	return "", fmt.Errorf("want a string, got %s", clip(string(raw)))
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// Clone returns a deep copy, so that filling in one message's headers never
// changes another's.
func (h Headers) Clone() Headers {
	c := h
	if h.ErrorDetails != nil {
		d := *h.ErrorDetails
		c.ErrorDetails = &d
	}
	if h.DebugDetails != nil {
		d := *h.DebugDetails
		c.DebugDetails = &d
	}
	c.Extra = maps.Clone(h.Extra)
	return c
}

// NewRequest returns the headers of the first message of a new
// request/response cycle from sender to recipient: fresh api_call_id,
// correlation_id and request_id, status request.initiated and the current
// time. workflowID is the case's workflow id, kept across its cycles; it
// may be empty.
func NewRequest(sender, recipient, workflowID string, now time.Time) Headers {
	return Headers{
		SenderCode:    sender,
		RecipientCode: recipient,
		APICallID:     uuid.NewString(),
		CorrelationID: uuid.NewString(),
		RequestID:     uuid.NewString(),
		WorkflowID:    workflowID,
		Timestamp:     FormatTimestamp(now),
		Status:        StatusRequestInitiated,
	}
}

// Reply returns the headers of the on_* answer to a message with headers h:
// sender and recipient swapped, the same correlation_id, request_id and
// workflow_id, a fresh api_call_id, status response.complete and the
// current time.
func (h Headers) Reply(now time.Time) Headers {
	return Headers{
		SenderCode:    h.RecipientCode,
		RecipientCode: h.SenderCode,
		APICallID:     uuid.NewString(),
		CorrelationID: h.CorrelationID,
		RequestID:     h.RequestID,
		WorkflowID:    h.WorkflowID,
		Timestamp:     FormatTimestamp(now),
		Status:        StatusResponseComplete,
	}
}

// ist is India Standard Time, the zone NHCX timestamps are written in.
var ist = time.FixedZone("IST", 5*60*60+30*60)

// timestampLayout is NHCX's x-hcx-timestamp: ISO-8601 with a colon-free
// offset, 2023-11-06T13:22:06+0530.
const timestampLayout = "2006-01-02T15:04:05-0700"

// FormatTimestamp writes t as an x-hcx-timestamp, in IST.
func FormatTimestamp(t time.Time) string { return t.In(ist).Format(timestampLayout) }

// ParseTimestamp reads an x-hcx-timestamp. Besides NHCX's form it accepts
// RFC 3339 (offset with a colon, or Z), fractional seconds and, from older
// HCX senders, Unix milliseconds.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 12 {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not like 2023-11-06T13:22:06+0530", clip(s))
}

// Time returns the message's timestamp.
func (h Headers) Time() (time.Time, error) { return ParseTimestamp(h.Timestamp) }
