package hcx

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// HeaderError is a protocol header the switch would refuse. Code is the
// HCX error code the gateway answers such a header with (empty for NHCX
// additions the HCX table has no code for); Explanation and Advice are for
// billing staff, since a message Sangam built wrongly is a setup or
// software problem, not something to retry.
type HeaderError struct {
	Header      string // e.g. "x-hcx-api_call_id"
	Problem     string // e.g. "is missing"
	Code        string // e.g. "ERR_MANDATORY_HEADER_MISSING"
	Explanation string
	Advice      string
}

// Error implements error.
func (e *HeaderError) Error() string {
	s := "nhcx header " + e.Header + " " + e.Problem
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

// Is makes every HeaderError match ErrInvalidHeaders.
func (e *HeaderError) Is(target error) bool { return target == ErrInvalidHeaders }

func headerError(header, code, format string, args ...any) *HeaderError {
	e := &HeaderError{Header: header, Problem: fmt.Sprintf(format, args...), Code: code}
	if info, ok := lookupCode(code); ok {
		e.Explanation, e.Advice = info.explanation, info.advice
	} else {
		e.Explanation, e.Advice = "Sangam prepared an insurance message that the claims exchange would refuse.", adviceTellAdmin
	}
	return e
}

var (
	// nhcxTimestamp is the exact form NHCX expects on what we send.
	nhcxTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$`)
	abhaNumber    = regexp.MustCompile(`^\d{14}$`)
)

// Validate checks headers we are about to send as a message of the given
// kind, with the switch's own rules (reference §5): every mandatory header
// present, ids that are UUIDs, sender not the recipient, NHCX's timestamp
// form, a status that fits the kind, and error or redirect details where
// the status calls for them. It returns the first problem as a
// *HeaderError.
//
// Received messages should not be held to this: the switch has already
// checked them, and refusing a slightly different sender loses the answer.
func (h Headers) Validate(kind Kind) error {
	if kind != KindRequest && kind != KindCallback {
		return fmt.Errorf("validating nhcx headers: unknown message kind %v", kind)
	}
	const missing = "ERR_MANDATORY_HEADER_MISSING"
	for _, m := range []struct{ name, value string }{
		{HeaderSenderCode, h.SenderCode},
		{HeaderRecipientCode, h.RecipientCode},
		{HeaderAPICallID, h.APICallID},
		{HeaderCorrelationID, h.CorrelationID},
		{HeaderRequestID, h.RequestID},
		{HeaderTimestamp, h.Timestamp},
		{HeaderStatus, string(h.Status)},
	} {
		if strings.TrimSpace(m.value) == "" {
			return headerError(m.name, missing, "is missing")
		}
	}
	if strings.EqualFold(strings.TrimSpace(h.SenderCode), strings.TrimSpace(h.RecipientCode)) {
		return headerError(HeaderRecipientCode, "ERR_INVALID_SENDER_AND_RECIPIENT", "is the sender itself (%q)", h.RecipientCode)
	}
	for _, id := range []struct{ name, value, code string }{
		{HeaderAPICallID, h.APICallID, "ERR_INVALID_API_CALL_ID"},
		{HeaderCorrelationID, h.CorrelationID, "ERR_INVALID_CORRELATION_ID"},
		{HeaderRequestID, h.RequestID, ""},
	} {
		if !isUUID(id.value) {
			return headerError(id.name, id.code, "is not a UUID: %q", clip(id.value))
		}
	}
	if h.WorkflowID != "" && strings.TrimSpace(h.WorkflowID) != h.WorkflowID {
		return headerError(HeaderWorkflowID, "ERR_INVALID_WORKFLOW_ID", "has spaces around it: %q", clip(h.WorkflowID))
	}
	if !nhcxTimestamp.MatchString(h.Timestamp) {
		return headerError(HeaderTimestamp, "ERR_INVALID_TIMESTAMP", "is not like 2023-11-06T13:22:06+0530: %q", clip(h.Timestamp))
	}
	if _, err := ParseTimestamp(h.Timestamp); err != nil {
		return headerError(HeaderTimestamp, "ERR_INVALID_TIMESTAMP", "is not a valid time: %q", clip(h.Timestamp))
	}
	if err := h.validateStatus(kind); err != nil {
		return err
	}
	if h.BenABHAID != "" && !abhaNumber.MatchString(h.BenABHAID) {
		return headerError(HeaderBenABHAID, "", "must be the 14-digit ABHA number without hyphens")
	}
	switch h.DebugFlag {
	case "", "Error", "Info", "Debug":
	default:
		return headerError(HeaderDebugFlag, "ERR_INVALID_DEBUG_FLAG", "must be Error, Info or Debug, not %q", clip(h.DebugFlag))
	}
	for _, d := range []struct {
		name, code string
		details    *Details
	}{
		{HeaderErrorDetails, "ERR_INVALID_ERROR_DETAILS", h.ErrorDetails},
		{HeaderDebugDetails, "ERR_INVALID_DEBUG_DETAILS", h.DebugDetails},
	} {
		if d.details != nil && (d.details.Code == "" || d.details.Message == "") {
			return headerError(d.name, d.code, "needs both a code and a message")
		}
	}
	for k := range h.Extra {
		if !strings.HasPrefix(k, headerPrefix) {
			return headerError(k, "", "is not an x-hcx-* header")
		}
	}
	return nil
}

func (h Headers) validateStatus(kind Kind) error {
	const code = "ERR_INVALID_STATUS"
	if kind == KindRequest {
		if h.Status != StatusRequestInitiated {
			return headerError(HeaderStatus, code, "must be %s on a request, not %q", StatusRequestInitiated, clip(string(h.Status)))
		}
		return nil
	}
	switch h.Status {
	case StatusResponseComplete, StatusResponsePartial:
	case StatusResponseError:
		if h.ErrorDetails == nil {
			return headerError(HeaderErrorDetails, "ERR_INVALID_ERROR_DETAILS", "is required with status %s", h.Status)
		}
	case StatusResponseRedirect:
		if strings.TrimSpace(h.RedirectTo) == "" {
			return headerError(HeaderRedirectTo, "ERR_INVALID_REDIRECT_TO", "is required with status %s", h.Status)
		}
		if strings.EqualFold(h.RedirectTo, h.SenderCode) {
			return headerError(HeaderRedirectTo, "ERR_INVALID_REDIRECT_TO", "cannot be the sender itself")
		}
	default:
		return headerError(HeaderStatus, code, "must be a response.* status on a callback (NHCX expects %s), not %q",
			StatusResponseComplete, clip(string(h.Status)))
	}
	return nil
}

// isUUID reports whether s is a UUID in its usual 36-character form; the
// uuid package alone also accepts braces and urn: prefixes.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
