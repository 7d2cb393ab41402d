package hcx_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		code     string
		message  string
		category error
	}{
		{"ack error", 400, `{"timestamp":"x","api_call_id":"a","error":{"code":"NHCX-1011","message":"Invalid x-hcx-status","trace":"t"}}`,
			"NHCX-1011", "Invalid x-hcx-status", hcx.ErrInvalidHeaders},
		{"protocol response", 400, `{"type":"ProtocolResponse","x-hcx-error_details":{"code":"PAYR-1001","message":"decrypt failed"}}`,
			"PAYR-1001", "decrypt failed", hcx.ErrStaleCertificate},
		{"flat", 400, `{"code":"PAYR-1002","message":"encryption failure"}`, "PAYR-1002", "encryption failure", hcx.ErrStaleCertificate},
		{"errors list", 400, `{"errors":[{"code":"NHCX-1002","message":"not enabled"}]}`, "NHCX-1002", "not enabled", hcx.ErrNotEnabled},
		{"token", 401, `{"error":{"code":"NHCX-401","message":"Sender is not authorized to execute the operation"}}`,
			"NHCX-401", "Sender is not authorized to execute the operation", hcx.ErrUnauthorized},
		{"plain 401", 401, ``, "", "", hcx.ErrUnauthorized},
		{"plain text", 200, "Invalid Certificate Found", "", "Invalid Certificate Found", hcx.ErrBadRequest},
		{"html 502", 502, "<html><title>502 Bad Gateway</title></html>", "", "502 Bad Gateway", hcx.ErrSwitchUnavailable},
		{"hcx recipient", 503, `{"error":{"code":"ERR_RECIPIENT_NOT_AVAILABLE","message":"down"}}`, "ERR_RECIPIENT_NOT_AVAILABLE", "down", hcx.ErrRecipientUnavailable},
		{"payer business code", 400, `{"error":{"code":"PAYR-1205","message":"document missing"}}`, "PAYR-1205", "document missing", hcx.ErrBadRequest},
		{"unknown code uses status", 500, `{"error":{"code":"X-1","message":"boom"}}`, "X-1", "boom", hcx.ErrSwitchUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := hcx.ParseError(tt.status, []byte(tt.body))
			if e.Code != tt.code || e.Message != tt.message {
				t.Errorf("got code %q message %q, want %q %q", e.Code, e.Message, tt.code, tt.message)
			}
			if !errors.Is(e, tt.category) {
				t.Errorf("%v should match %v", e, tt.category)
			}
			if !errors.Is(fmt.Errorf("wrapped: %w", e), tt.category) {
				t.Error("category lost when wrapped")
			}
			if e.Explanation == "" || e.Advice == "" {
				t.Errorf("no explanation or advice: %+v", e)
			}
			if strings.Contains(e.Error(), "\n") {
				t.Errorf("error text has a line break: %q", e.Error())
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[string]bool{
		"NHCX-1001": true, "NHCX-1015": true, "ERR_SERVICE_UNAVAILABLE": true, "PAYR-1001": true,
		"NHCX-1006": false, "NHCX-401": false, "ERR_INVALID_TIMESTAMP": false, "PAYR-1300": false,
	} {
		if got := hcx.Retryable(hcx.Details{Code: code, Message: "m"}.Err()); got != want {
			t.Errorf("Retryable(%s) = %v, want %v", code, got, want)
		}
	}
	if hcx.Retryable(errors.New("other")) {
		t.Error("an unrelated error is not retryable")
	}
}

func TestErrorMessageIsClipped(t *testing.T) {
	e := hcx.ParseError(400, []byte(strings.Repeat("x ", 1000)))
	if n := len([]rune(e.Message)); n > 301 {
		t.Errorf("message has %d runes", n)
	}
}
