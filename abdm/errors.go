package abdm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// Sentinel categories of gateway failures, for errors.Is. An *Error matches
// one or more of them; transport failures match ErrGatewayUnavailable.
var (
	// ErrBadRequest: the gateway refused the request as sent (4xx, or an
	// error object in an on-* callback). Sending it again unchanged fails
	// again.
	ErrBadRequest = errors.New("abdm: request refused")
	// ErrUnauthorized: credentials, session token or privilege refused (401/403).
	ErrUnauthorized = errors.New("abdm: not authorised")
	// ErrNotFound: no such route, record or account (404, ABDM-1001, ...).
	ErrNotFound = errors.New("abdm: not found")
	// ErrDuplicate: the gateway has already seen this request id or this
	// request (ABDM-1064, -1092, -1101, -1103..-1108, -2404). For a retried
	// outbox call it usually means the first attempt got through.
	ErrDuplicate = errors.New("abdm: duplicate request")
	// ErrRateLimited: too many requests (429, ABDM-1022); retry with backoff.
	ErrRateLimited = errors.New("abdm: rate limited")
	// ErrBlocked: refused for a long period (ABDM-1027, 24 hours). Retrying
	// sooner only repeats the refusal.
	ErrBlocked = errors.New("abdm: temporarily blocked")
	// ErrGatewayUnavailable: 5xx, 408, timeouts and connection failures.
	ErrGatewayUnavailable = errors.New("abdm: gateway unavailable")
)

// Retryable reports whether sending the same request again later may
// succeed: the gateway was unavailable or rate limiting. Everything else
// (refusals, duplicates, blocks, auth failures after the built-in token
// retry) should be dead-lettered and shown to a person.
func Retryable(err error) bool {
	return errors.Is(err, ErrGatewayUnavailable) || errors.Is(err, ErrRateLimited)
}

// Error is a failure reported by the gateway, either as an HTTP error
// response or as the error object of an on-* callback (HTTPStatus 0).
//
// Code and Message are what the gateway said; Explanation and Advice are
// plain-language text a front-desk user can act on. Raw is the body as
// received: it may echo request fields, so do not log it wholesale.
type Error struct {
	HTTPStatus  int
	Code        string // normalised, e.g. "ABDM-1092" (trailing ": " removed); "" when absent
	Message     string
	Explanation string
	Advice      string
	Raw         []byte

	categories []error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("abdm")
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

// ErrorDetail is the {"code","message"} object of on-* callbacks and of
// most error bodies.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Err turns a callback's error object into an *Error with explanation and
// advice, and with the categories its code implies (ErrBadRequest when the
// code is not known).
func (d ErrorDetail) Err() *Error {
	raw, _ := json.Marshal(d)
	e := &Error{Raw: raw}
	e.Code, e.Message = normaliseCode(d.Code, strings.TrimSpace(d.Message))
	classify(e)
	return e
}

// ParseError builds an *Error from an HTTP error response. It understands
// every body shape the gateway and ABHA service were seen to return:
// {"error":{code,message}}, a top-level array of those or of flat
// {code,message} items, flat {code,message[,description]}, the API
// manager's {code,type,message,description}, ABHA's {message,timestamp}
// and field-keyed {"loginId":"..."} bodies, Spring's
// {status,error,path,...}, NHA's {"errors":[...]}, plain text, HTML and an
// empty body. Codes with a trailing ": " are normalised.
func ParseError(status int, body []byte) *Error {
	code, msg := extractError(body)
	e := &Error{HTTPStatus: status, Raw: body}
	e.Code, e.Message = normaliseCode(code, msg)
	classify(e)
	return e
}

const maxMessageRunes = 300

func extractError(body []byte) (code, msg string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", ""
	}
	switch trimmed[0] {
	case '{', '[', '"':
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil {
			if s, ok := v.(string); ok {
				return "", clip(s)
			}
			code, msg := fromJSON(v)
			return code, clip(msg)
		}
	case '<':
		return "", clip(htmlTitle(string(trimmed)))
	}
	return "", clip(string(trimmed))
}

// fromJSON walks one decoded error body. Arrays contribute the first code
// and all distinct messages.
func fromJSON(v any) (code, msg string) {
	switch v := v.(type) {
	case []any:
		var msgs []string
		for _, item := range v {
			c, m := fromJSON(item)
			if code == "" {
				code = c
			}
			msgs = appendDistinct(msgs, m)
		}
		return code, strings.Join(msgs, "; ")
	case map[string]any:
		return fromObject(v)
	case string:
		return "", v
	}
	return "", ""
}

// isMetaKey reports whether an error-body field never carries the error
// text itself.
func isMetaKey(k string) bool {
	switch k {
	case "timestamp", "path", "status", "requestId", "type", "response", "error", "errors":
		return true
	}
	return false
}

func fromObject(obj map[string]any) (code, msg string) {
	if nested, ok := obj["errors"]; ok && nested != nil {
		if c, m := fromJSON(nested); c != "" || m != "" {
			return c, m
		}
	}
	var springError string
	switch inner := obj["error"].(type) {
	case map[string]any, []any:
		if c, m := fromJSON(inner); c != "" || m != "" {
			return c, m
		}
	case string:
		springError = inner // Spring: {"status":500,"error":"Internal Server Error",...}
	}

	code = scalarString(obj["code"])
	message := scalarString(obj["message"])
	description := scalarString(obj["description"])
	var msgs []string
	msgs = appendDistinct(msgs, message)
	msgs = appendDistinct(msgs, description)
	if len(msgs) == 0 {
		msgs = appendDistinct(msgs, springError)
	}
	if code != "" || len(msgs) > 0 {
		return code, strings.Join(msgs, ": ")
	}

	// ABHA validation errors key the message by the offending field:
	// {"loginId":"Invalid LoginId","timestamp":"..."}.
	var fields []string
	for k, v := range obj {
		if isMetaKey(k) {
			continue
		}
		if s, ok := v.(string); ok && s != "" {
			fields = append(fields, k+": "+s)
		}
	}
	sort.Strings(fields)
	return "", strings.Join(fields, "; ")
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

func appendDistinct(list []string, s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return list
	}
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// normaliseCode strips the ": " the sandbox sometimes appends to codes
// ("ABDM-1006: ") and, when a code arrives glued to its text
// ("ABDM-9999: Invalid Login Hint"), splits them.
func normaliseCode(code, msg string) (string, string) {
	code = strings.TrimSpace(code)
	if i := strings.Index(code, ":"); i >= 0 {
		rest := strings.TrimSpace(code[i+1:])
		code = strings.TrimSpace(code[:i])
		if msg == "" {
			msg = rest
		}
	}
	if code == "" && strings.HasPrefix(msg, "ABDM-") {
		if i := strings.Index(msg, ":"); i > 0 {
			code, msg = strings.TrimSpace(msg[:i]), strings.TrimSpace(msg[i+1:])
		}
	}
	return code, msg
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxMessageRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxMessageRunes]) + "…"
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
	info, known := lookupCode(e.Code)
	if known {
		e.Explanation, e.Advice = info.explanation, info.advice
		e.categories = info.categories
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
		return ErrBadRequest // error object in a callback
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusRequestTimeout || status >= 500:
		return ErrGatewayUnavailable
	default:
		return ErrBadRequest
	}
}

func defaultText(category error) (explanation, advice string) {
	switch category {
	case ErrUnauthorized:
		return "ABDM did not accept this hospital's login for this request.",
			"Ask your administrator to check the facility's ABDM client id and secret. Nothing was sent to the patient."
	case ErrNotFound:
		return "ABDM could not find what was asked for.",
			"Check the details with the patient and try again. If it keeps happening, tell your administrator."
	case ErrRateLimited:
		return "ABDM is receiving too many requests from this hospital right now.",
			"Wait a minute and try again. Queued requests are retried automatically."
	case ErrGatewayUnavailable:
		return "ABDM is not responding properly at the moment.",
			"Nothing to do at the desk: Sangam retries automatically. Continue the visit and check the status later."
	case ErrBlocked:
		return "ABDM has temporarily blocked this request.",
			"Do not retry today. Check the patient's details and try again tomorrow."
	case ErrDuplicate:
		return "ABDM has already received this request.",
			"No need to send it again; wait for the answer to the first one."
	default:
		return "ABDM refused the request because some details were not accepted.",
			"Check the patient's details and try again. If it keeps failing, tell your administrator and quote the error code."
	}
}
