package hcx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinel categories of failures, for errors.Is. An *Error matches one or
// more of them; transport failures match ErrSwitchUnavailable.
var (
	// ErrBadRequest: the switch or the payer refused the message as sent.
	// Sending it again unchanged fails again.
	ErrBadRequest = errors.New("nhcx: message refused")
	// ErrInvalidHeaders: a protocol header is missing or malformed, found
	// before sending (a *HeaderError) or reported by the switch.
	ErrInvalidHeaders = errors.New("nhcx: invalid protocol headers")
	// ErrUnauthorized: the access token was refused, or the sender is not
	// allowed to do this (NHCX-401, ERR_ACCESS_DENIED, HTTP 401/403).
	ErrUnauthorized = errors.New("nhcx: not authorised")
	// ErrNotEnabled: the participant is not registered, or the use case is
	// not enabled for it (NHCX-1002).
	ErrNotEnabled = errors.New("nhcx: participant or use case not enabled")
	// ErrNotFound: no such participant, policy or path (NHCX-1016, 404).
	ErrNotFound = errors.New("nhcx: not found")
	// ErrDuplicate: the switch has already seen this correlation id or
	// api_call_id (NHCX-1006).
	ErrDuplicate = errors.New("nhcx: duplicate message")
	// ErrStaleCertificate: the payer could not decrypt what we sent
	// (PAYR-1001, PAYR-1002, ERR_INVALID_ENCRYPTION). The cached
	// certificate is probably outdated: fetch it again before resending.
	ErrStaleCertificate = errors.New("nhcx: recipient could not decrypt (stale certificate)")
	// ErrRecipientUnavailable: the switch could not reach the payer
	// (NHCX-1001, NHCX-1014, NHCX-1015, ERR_RECIPIENT_NOT_AVAILABLE).
	ErrRecipientUnavailable = errors.New("nhcx: recipient unavailable")
	// ErrSwitchUnavailable: 5xx, 408, timeouts and connection failures.
	ErrSwitchUnavailable = errors.New("nhcx: switch unavailable")
)

// Retryable reports whether sending the same message again later (with a
// fresh api_call_id) may succeed: the switch or the recipient was
// unavailable. A stale certificate is retryable too, once the certificate
// has been fetched again. Everything else should be shown to a person.
func Retryable(err error) bool {
	return errors.Is(err, ErrSwitchUnavailable) || errors.Is(err, ErrRecipientUnavailable) ||
		errors.Is(err, ErrStaleCertificate)
}

// Error is a failure reported by NHCX, the participant registry or a payer:
// an HTTP error response (HTTPStatus set) or the x-hcx-error_details of a
// callback (HTTPStatus 0).
//
// Code, Message and Trace are what the other side said; Explanation and
// Advice are plain-language text billing staff can act on. Raw is the body
// as received: it may echo message fields, so do not log it wholesale.
type Error struct {
	HTTPStatus  int
	Code        string // e.g. "NHCX-1006", "PAYR-1001", "ERR_INVALID_TIMESTAMP"; "" when absent
	Message     string
	Trace       string
	Explanation string
	Advice      string
	Raw         []byte

	categories []error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("nhcx")
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Code == "" && e.Message == "" {
		b.WriteString(": no error details in the response")
	}
	return b.String()
}

// Is reports whether target is one of the error's sentinel categories.
func (e *Error) Is(target error) bool {
	for _, c := range e.categories {
		if c == target {
			return true
		}
	}
	return false
}

// Err turns an x-hcx-error_details object (or an acknowledgement's error)
// into an *Error with explanation, advice and the categories its code
// implies (ErrBadRequest when the code is not known).
func (d Details) Err() *Error {
	raw, _ := json.Marshal(d)
	e := &Error{Code: strings.TrimSpace(d.Code), Message: clip(d.Message), Trace: clip(d.Trace), Raw: raw}
	classify(e)
	return e
}

// IsZero reports whether d carries no error: NHCX acknowledgements send
// {"code":"","message":""} on success.
func (d *Details) IsZero() bool {
	return d == nil || (strings.TrimSpace(d.Code) == "" && strings.TrimSpace(d.Message) == "")
}

// ParseError builds an *Error from an HTTP error response of the switch or
// the registry. It understands the acknowledgement shape
// {"error":{code,message,trace}}, a plain ProtocolResponse with
// x-hcx-error_details, flat {code,message}, {"errors":[...]}, plain text
// (the registry answers "Invalid Certificate Found"), HTML and an empty
// body.
func ParseError(status int, body []byte) *Error {
	d := extractError(body)
	e := &Error{HTTPStatus: status, Code: strings.TrimSpace(d.Code), Message: clip(d.Message), Trace: clip(d.Trace), Raw: body}
	classify(e)
	return e
}

const maxMessageRunes = 300

func extractError(body []byte) Details {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Details{}
	}
	switch trimmed[0] {
	case '{', '[', '"':
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil {
			return fromJSON(v)
		}
	case '<':
		return Details{Message: htmlTitle(string(trimmed))}
	}
	return Details{Message: string(trimmed)}
}

func fromJSON(v any) Details {
	switch v := v.(type) {
	case string:
		return Details{Message: v}
	case []any:
		for _, item := range v {
			if d := fromJSON(item); !d.IsZero() {
				return d
			}
		}
	case map[string]any:
		for _, key := range []string{"error", HeaderErrorDetails, "errors"} {
			if inner, ok := v[key]; ok && inner != nil {
				if d := fromJSON(inner); !d.IsZero() {
					return d
				}
			}
		}
		d := Details{Code: text(v["code"]), Message: text(v["message"]), Trace: text(v["trace"])}
		if d.Message == "" {
			d.Message = text(v["description"])
		}
		return d
	}
	return Details{}
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	}
	return ""
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxMessageRunes {
		return s
	}
	return string([]rune(s)[:maxMessageRunes]) + "…"
}

func htmlTitle(doc string) string {
	lower := strings.ToLower(doc)
	start := strings.Index(lower, "<title>")
	end := strings.Index(lower, "</title>")
	if start < 0 || end < start {
		return ""
	}
	return doc[start+len("<title>") : end]
}

// classify fills categories, explanation and advice: from the code when it
// is known, otherwise from the HTTP status.
func classify(e *Error) {
	if info, ok := lookupCode(e.Code); ok {
		e.Explanation, e.Advice, e.categories = info.explanation, info.advice, info.categories
	}
	if len(e.categories) == 0 {
		e.categories = []error{categoryForStatus(e.HTTPStatus)}
	}
	if e.Explanation == "" {
		e.Explanation, e.Advice = defaultText(e.categories[0])
	}
}

func categoryForStatus(status int) error {
	switch {
	case status == 0:
		return ErrBadRequest // error details in a callback
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return ErrSwitchUnavailable
	default:
		return ErrBadRequest
	}
}

func defaultText(category error) (explanation, advice string) {
	switch category {
	case ErrUnauthorized:
		return "The claims exchange (NHCX) did not accept this hospital's login.",
			"Tell your administrator to check the hospital's ABDM client id and secret and its NHCX registration."
	case ErrNotFound:
		return "The claims exchange could not find what was asked for.",
			"Check the insurer and policy details and try again. If it keeps happening, tell your administrator."
	case ErrSwitchUnavailable:
		return "The claims exchange (NHCX) is not responding properly at the moment.", adviceAutoRetry
	default:
		return "The claims exchange or the insurer refused the message.",
			"Check the patient, policy and claim details and try again. If it keeps failing, tell your administrator and quote the error code."
	}
}
