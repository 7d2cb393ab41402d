package abdm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
)

var categories = []struct {
	name string
	err  error
}{
	{"ErrBadRequest", abdm.ErrBadRequest},
	{"ErrUnauthorized", abdm.ErrUnauthorized},
	{"ErrNotFound", abdm.ErrNotFound},
	{"ErrDuplicate", abdm.ErrDuplicate},
	{"ErrRateLimited", abdm.ErrRateLimited},
	{"ErrBlocked", abdm.ErrBlocked},
	{"ErrGatewayUnavailable", abdm.ErrGatewayUnavailable},
}

// matched lists the sentinel categories err matches, for readable diffs.
func matched(err error) []string {
	var out []string
	for _, c := range categories {
		if errors.Is(err, c.err) {
			out = append(out, c.name)
		}
	}
	return out
}

// TestParseErrorShapes covers every body shape of reference §5.1.
func TestParseErrorShapes(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		code     string
		message  string
		category string
	}{
		{"documented", 400, `{"error":{"code":"ABDM-1006","message":"Bad Request, invalid request Body"}}`,
			"ABDM-1006", "Bad Request, invalid request Body", "ErrBadRequest"},
		{"trailing colon", 400, `{"error":{"code":"ABDM-1006: ","message":"Invalid mobile number"}}`,
			"ABDM-1006", "Invalid mobile number", "ErrBadRequest"},
		{"415 without content type", 400, `{"error":{"code":"ABDM-9999: ","message":"415 UNSUPPORTED_MEDIA_TYPE \"Content type '' not supported\""}}`,
			"ABDM-9999", `415 UNSUPPORTED_MEDIA_TYPE "Content type '' not supported"`, "ErrBadRequest"},
		{"array of error objects", 400, `[{"error":{"code":"ABDM-9999","message":"Invalid ConsentId, Please provide a valid ConsentId"}}]`,
			"ABDM-9999", "Invalid ConsentId, Please provide a valid ConsentId", "ErrBadRequest"},
		{"array of two", 400, `[{"error":{"code":"ABDM-9999","message":"Invalid from/to date"}},{"error":{"code":"ABDM-9999","message":"Invalid purpose"}}]`,
			"ABDM-9999", "Invalid from/to date; Invalid purpose", "ErrBadRequest"},
		{"array of flat items", 400, `[{"code":"ABDM-9999: ","message":"Invalid Login Hint"}]`,
			"ABDM-9999", "Invalid Login Hint", "ErrBadRequest"},
		{"flat", 404, `{"code":"ABDM-9999","message":"User not found"}`,
			"ABDM-9999", "User not found", "ErrNotFound"},
		{"api manager 401", 401, `{"code":"900901","message":"Invalid Credentials","description":"Access failure for API: /api/hiecm, version: v3 with key: ..."}`,
			"900901", "Invalid Credentials: Access failure for API: /api/hiecm, version: v3 with key: ...", "ErrUnauthorized"},
		{"numeric api manager code", 401, `{"code":900901,"message":"Invalid Credentials"}`,
			"900901", "Invalid Credentials", "ErrUnauthorized"},
		{"abha message", 400, `{"message":"Invalid X-token","timestamp":"2026-09-16 14:34:55"}`,
			"", "Invalid X-token", "ErrBadRequest"},
		{"abha field keyed", 400, `{"loginId":"Invalid LoginId","timestamp":"2026-09-17 16:52:48"}`,
			"", "loginId: Invalid LoginId", "ErrBadRequest"},
		{"abha two fields", 400, `{"otpValue":"Invalid OTP value","loginId":"Invalid LoginId","timestamp":"2026-09-17 16:52:48"}`,
			"", "loginId: Invalid LoginId; otpValue: Invalid OTP value", "ErrBadRequest"},
		{"spring", 500, `{"timestamp":1731557446506,"path":"/api/hiecm/consent/v3/fetch","status":500,"error":"Internal Server Error","requestId":"8d1b2c3e-1"}`,
			"", "Internal Server Error", "ErrGatewayUnavailable"},
		{"no route", 404, `{"code":"404","type":"Status report","message":"Runtime Error","description":"No matching resource found for given API Request"}`,
			"404", "Runtime Error: No matching resource found for given API Request", "ErrNotFound"},
		{"404 with abdm code means refused, not no route", 404, `{"error":{"code":"ABDM-1016","message":"Invalid timestamp"}}`,
			"ABDM-1016", "Invalid timestamp", "ErrBadRequest"},
		{"text access denied", 403, "Access Denied", "", "Access Denied", "ErrUnauthorized"},
		{"text forbidden", 403, "Forbidden\n", "", "Forbidden", "ErrUnauthorized"},
		{"json string", 403, `"Access Denied"`, "", "Access Denied", "ErrUnauthorized"},
		{"empty 400", 400, "", "", "", "ErrBadRequest"},
		{"whitespace 400", 400, " \n", "", "", "ErrBadRequest"},
		{"empty 401", 401, "", "", "", "ErrUnauthorized"},
		{"nha facade", 400, `{"errors":[{"error":{"code":"ABDM-1051","message":"Invalid ABHA Number or ABHA Address"}}]}`,
			"ABDM-1051", "Invalid ABHA Number or ABHA Address", "ErrNotFound"},
		{"code glued to message", 400, `{"error":{"code":"ABDM-1092: duplicate link token request"}}`,
			"ABDM-1092", "duplicate link token request", "ErrDuplicate"},
		{"error null with message", 400, `{"error":null,"message":"bad"}`, "", "bad", "ErrBadRequest"},
		{"html 502", 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
			"", "502 Bad Gateway", "ErrGatewayUnavailable"},
		{"broken json", 500, `{"error":`, "", `{"error":`, "ErrGatewayUnavailable"},
		{"429", 429, "", "", "", "ErrRateLimited"},
		{"408", 408, "", "", "", "ErrGatewayUnavailable"},
		{"422 unknown code", 422, `{"code":"ABDM-7777","message":"something new"}`, "ABDM-7777", "something new", "ErrBadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := abdm.ParseError(tt.status, []byte(tt.body))
			if e.HTTPStatus != tt.status || e.Code != tt.code || e.Message != tt.message {
				t.Errorf("got status %d code %q message %q; want %d %q %q", e.HTTPStatus, e.Code, e.Message, tt.status, tt.code, tt.message)
			}
			if got := matched(e); len(got) == 0 || !contains(got, tt.category) {
				t.Errorf("categories %v, want %s", got, tt.category)
			}
			if string(e.Raw) != tt.body {
				t.Errorf("Raw = %q, want the body as received", e.Raw)
			}
			if e.Explanation == "" || e.Advice == "" {
				t.Errorf("no explanation/advice for the user: %+v", e)
			}
			if !strings.HasPrefix(e.Error(), fmt.Sprintf("abdm: HTTP %d", tt.status)) {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, have := range list {
		if have == s {
			return true
		}
	}
	return false
}

// TestErrorCodes covers the codes of reference §5.2: each normalises, gets
// its own plain-language text, and lands in the category callers branch on.
func TestErrorCodes(t *testing.T) {
	tests := []struct {
		code       string
		status     int
		categories []string
		retryable  bool
		advice     string // a phrase the advice must contain
	}{
		{"ABDM-1001", 404, []string{"ErrNotFound"}, false, "Check the ABHA"},
		{"ABDM-1006", 400, []string{"ErrBadRequest"}, false, "few minutes"},
		{"ABDM-1007", 408, []string{"ErrGatewayUnavailable"}, true, "retries automatically"},
		{"ABDM-1013", 400, []string{"ErrBadRequest"}, false, "ABHA number"},
		{"ABDM-1015", 400, []string{"ErrGatewayUnavailable"}, true, "retries automatically"},
		{"ABDM-1016", 400, []string{"ErrBadRequest"}, false, "clock"},
		{"ABDM-2402", 400, []string{"ErrBadRequest"}, false, "clock"},
		{"ABDM-1021", 401, []string{"ErrUnauthorized"}, false, "administrator"},
		{"ABDM-1022", 429, []string{"ErrRateLimited"}, true, "Wait a minute"},
		{"ABDM-1024", 503, []string{"ErrGatewayUnavailable"}, true, "retries automatically"},
		{"ABDM-1026", 400, []string{"ErrBadRequest"}, false, "scan the facility's QR"},
		{"ABDM-1027", 400, []string{"ErrBlocked"}, false, "24 hours"},
		{"ABDM-1030", 404, []string{"ErrBadRequest"}, false, "once more"},
		{"ABDM-1032", 400, []string{"ErrBadRequest"}, false, "administrator"},
		{"ABDM-1035", 400, []string{"ErrBadRequest"}, false, "HIP id"},
		{"ABDM-1037", 400, []string{"ErrBadRequest"}, false, "administrator"},
		{"ABDM-1038", 400, []string{"ErrBadRequest"}, false, "ABHA address"},
		{"ABDM-1040", 400, []string{"ErrBadRequest"}, false, "HIU id"},
		{"ABDM-1051", 400, []string{"ErrNotFound"}, false, "year of birth"},
		{"ABDM-1056", 400, []string{"ErrBadRequest"}, false, "linked records"},
		{"ABDM-1062", 400, []string{"ErrBadRequest"}, false, "dates the patient approved"},
		{"ABDM-1063", 400, []string{"ErrBadRequest"}, false, "dates the patient approved"},
		{"ABDM-1064", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "No need to send"},
		{"ABDM-1092", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "after a few minutes"},
		{"ABDM-1101", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "No need to send"},
		{"ABDM-1103", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "No need to send"},
		{"ABDM-1104", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "No need to send"},
		{"ABDM-1105", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "No need to send"},
		{"ABDM-1106", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "first answer counts"},
		{"ABDM-1107", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "first answer counts"},
		{"ABDM-1108", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "first answer counts"},
		{"ABDM-1112", 400, []string{"ErrBadRequest"}, false, "grant consent again"},
		{"ABDM-1170", 400, []string{"ErrBadRequest"}, false, "@sbx"},
		{"ABDM-1211", 400, []string{"ErrNotFound"}, false, "create a new ABHA"},
		{"ABDM-1407", 400, []string{"ErrBadRequest"}, false, "reactivate"},
		{"ABDM-2401", 401, []string{"ErrUnauthorized"}, false, "log in again"},
		{"ABDM-2403", 400, []string{"ErrBadRequest"}, false, "administrator"},
		{"ABDM-2404", 400, []string{"ErrBadRequest", "ErrDuplicate"}, false, "No need to send"},
		{"ABDM-2406", 400, []string{"ErrBadRequest"}, false, "beginning"},
		{"ABDM-2500", 400, []string{"ErrBadRequest"}, false, "repeat the step"},
		{"ABDM-9999", 400, []string{"ErrBadRequest"}, false, "ABDM's message"},
		{"ABDM-9999", 500, []string{"ErrGatewayUnavailable"}, true, "ABDM's message"},
		{"900900", 500, []string{"ErrUnauthorized"}, false, "few minutes"},
		{"900901", 401, []string{"ErrUnauthorized"}, false, "client id and secret"},
		{"900902", 401, []string{"ErrUnauthorized"}, false, "administrator"},
	}
	explanations := map[string]string{}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d", tt.code, tt.status)
		t.Run(name, func(t *testing.T) {
			for _, wire := range []string{tt.code, tt.code + ": "} {
				body := fmt.Sprintf(`{"error":{"code":%q,"message":"from gateway"}}`, wire)
				e := abdm.ParseError(tt.status, []byte(body))
				if e.Code != tt.code {
					t.Errorf("%q: Code = %q, want %q", wire, e.Code, tt.code)
				}
				if got := matched(e); !equalSets(got, tt.categories) {
					t.Errorf("%q: categories %v, want %v", wire, got, tt.categories)
				}
				if got := abdm.Retryable(fmt.Errorf("wrapped: %w", e)); got != tt.retryable {
					t.Errorf("%q: Retryable = %v, want %v", wire, got, tt.retryable)
				}
				if !strings.Contains(e.Advice, tt.advice) {
					t.Errorf("%q: Advice %q does not contain %q", wire, e.Advice, tt.advice)
				}
			}
			explanations[tt.code] = abdm.ParseError(tt.status, []byte(fmt.Sprintf(`{"code":%q}`, tt.code))).Explanation
		})
	}
	// Codes with different meanings must not share a generic text.
	if explanations["ABDM-1027"] == explanations["ABDM-1092"] || explanations["ABDM-1026"] == explanations["ABDM-1038"] {
		t.Errorf("distinct codes share an explanation: %v", explanations)
	}
}

func equalSets(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

func TestErrorDetailErr(t *testing.T) {
	e := abdm.ErrorDetail{Code: "ABDM-1027: ", Message: "Blocked, retry after 24 hours"}.Err()
	if e.HTTPStatus != 0 || e.Code != "ABDM-1027" || !errors.Is(e, abdm.ErrBlocked) || abdm.Retryable(e) {
		t.Errorf("callback error = %+v, categories %v", e, matched(e))
	}
	if got, want := e.Error(), "abdm: ABDM-1027: Blocked, retry after 24 hours"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	unknown := abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}.Err()
	if !errors.Is(unknown, abdm.ErrBadRequest) || unknown.Explanation == "" {
		t.Errorf("unknown callback code: %+v", unknown)
	}
}

func TestRetryableOnPlainErrors(t *testing.T) {
	if abdm.Retryable(errors.New("x")) || abdm.Retryable(nil) {
		t.Error("unrelated errors reported retryable")
	}
	if !abdm.Retryable(fmt.Errorf("a: %w", abdm.ErrGatewayUnavailable)) {
		t.Error("wrapped ErrGatewayUnavailable not retryable")
	}
}

func TestParseErrorClipsLongBodies(t *testing.T) {
	e := abdm.ParseError(500, []byte(strings.Repeat("x", 5000)))
	if n := len([]rune(e.Message)); n > 301 {
		t.Errorf("message has %d runes, want it clipped", n)
	}
	if len(e.Raw) != 5000 {
		t.Errorf("Raw truncated to %d bytes; keep it whole", len(e.Raw))
	}
}
