package hcx_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestValidate(t *testing.T) {
	now := time.Date(2026, 1, 5, 4, 30, 0, 0, time.UTC)
	request := func() hcx.Headers { return hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "", now) }
	callback := func() hcx.Headers { return request().Reply(now) }

	tests := []struct {
		name   string
		kind   hcx.Kind
		edit   func(*hcx.Headers)
		header string // "" when valid
		code   string
	}{
		{"request ok", hcx.KindRequest, func(*hcx.Headers) {}, "", ""},
		{"callback ok", hcx.KindCallback, nil, "", ""},
		{"numeric workflow", hcx.KindRequest, func(h *hcx.Headers) { h.WorkflowID = "121" }, "", ""},
		{"missing sender", hcx.KindRequest, func(h *hcx.Headers) { h.SenderCode = "" }, hcx.HeaderSenderCode, "ERR_MANDATORY_HEADER_MISSING"},
		{"missing recipient", hcx.KindRequest, func(h *hcx.Headers) { h.RecipientCode = " " }, hcx.HeaderRecipientCode, "ERR_MANDATORY_HEADER_MISSING"},
		{"missing api_call_id", hcx.KindRequest, func(h *hcx.Headers) { h.APICallID = "" }, hcx.HeaderAPICallID, "ERR_MANDATORY_HEADER_MISSING"},
		{"missing correlation_id", hcx.KindCallback, func(h *hcx.Headers) { h.CorrelationID = "" }, hcx.HeaderCorrelationID, "ERR_MANDATORY_HEADER_MISSING"},
		{"missing request_id", hcx.KindRequest, func(h *hcx.Headers) { h.RequestID = "" }, hcx.HeaderRequestID, "ERR_MANDATORY_HEADER_MISSING"},
		{"missing timestamp", hcx.KindRequest, func(h *hcx.Headers) { h.Timestamp = "" }, hcx.HeaderTimestamp, "ERR_MANDATORY_HEADER_MISSING"},
		{"missing status", hcx.KindCallback, func(h *hcx.Headers) { h.Status = "" }, hcx.HeaderStatus, "ERR_MANDATORY_HEADER_MISSING"},
		{"to ourselves", hcx.KindRequest, func(h *hcx.Headers) { h.RecipientCode = "1000004604@HCX" }, hcx.HeaderRecipientCode, "ERR_INVALID_SENDER_AND_RECIPIENT"},
		{"api_call_id not uuid", hcx.KindRequest, func(h *hcx.Headers) { h.APICallID = "call-1" }, hcx.HeaderAPICallID, "ERR_INVALID_API_CALL_ID"},
		{"braced uuid", hcx.KindRequest, func(h *hcx.Headers) { h.CorrelationID = "{" + h.CorrelationID + "}" }, hcx.HeaderCorrelationID, "ERR_INVALID_CORRELATION_ID"},
		{"request_id not uuid", hcx.KindRequest, func(h *hcx.Headers) { h.RequestID = "42" }, hcx.HeaderRequestID, ""},
		{"workflow spaces", hcx.KindRequest, func(h *hcx.Headers) { h.WorkflowID = " 12" }, hcx.HeaderWorkflowID, "ERR_INVALID_WORKFLOW_ID"},
		{"timestamp with colon", hcx.KindRequest, func(h *hcx.Headers) { h.Timestamp = "2026-01-05T10:00:00+05:30" }, hcx.HeaderTimestamp, "ERR_INVALID_TIMESTAMP"},
		{"timestamp unix", hcx.KindRequest, func(h *hcx.Headers) { h.Timestamp = "1767587400000" }, hcx.HeaderTimestamp, "ERR_INVALID_TIMESTAMP"},
		{"timestamp impossible", hcx.KindRequest, func(h *hcx.Headers) { h.Timestamp = "2026-02-30T10:00:00+0530" }, hcx.HeaderTimestamp, "ERR_INVALID_TIMESTAMP"},
		{"request with response status", hcx.KindRequest, func(h *hcx.Headers) { h.Status = hcx.StatusResponseComplete }, hcx.HeaderStatus, "ERR_INVALID_STATUS"},
		{"request queued by us", hcx.KindRequest, func(h *hcx.Headers) { h.Status = hcx.StatusRequestQueued }, hcx.HeaderStatus, "ERR_INVALID_STATUS"},
		{"callback with request status", hcx.KindCallback, func(h *hcx.Headers) { h.Status = hcx.StatusRequestInitiated }, hcx.HeaderStatus, "ERR_INVALID_STATUS"},
		{"callback error without details", hcx.KindCallback, func(h *hcx.Headers) { h.Status = hcx.StatusResponseError }, hcx.HeaderErrorDetails, "ERR_INVALID_ERROR_DETAILS"},
		{"callback error with details", hcx.KindCallback, func(h *hcx.Headers) {
			h.Status = hcx.StatusResponseError
			h.ErrorDetails = &hcx.Details{Code: "ERR_DOMAIN_PROCESSING", Message: "failed"}
		}, "", ""},
		{"redirect without target", hcx.KindCallback, func(h *hcx.Headers) { h.Status = hcx.StatusResponseRedirect }, hcx.HeaderRedirectTo, "ERR_INVALID_REDIRECT_TO"},
		{"redirect to sender", hcx.KindCallback, func(h *hcx.Headers) {
			h.Status = hcx.StatusResponseRedirect
			h.RedirectTo = h.SenderCode
		}, hcx.HeaderRedirectTo, "ERR_INVALID_REDIRECT_TO"},
		{"error details without message", hcx.KindRequest, func(h *hcx.Headers) { h.ErrorDetails = &hcx.Details{Code: "X"} }, hcx.HeaderErrorDetails, "ERR_INVALID_ERROR_DETAILS"},
		{"debug flag", hcx.KindRequest, func(h *hcx.Headers) { h.DebugFlag = "Verbose" }, hcx.HeaderDebugFlag, "ERR_INVALID_DEBUG_FLAG"},
		{"debug details", hcx.KindRequest, func(h *hcx.Headers) { h.DebugDetails = &hcx.Details{Message: "m"} }, hcx.HeaderDebugDetails, "ERR_INVALID_DEBUG_DETAILS"},
		{"abha with hyphens", hcx.KindRequest, func(h *hcx.Headers) { h.BenABHAID = "91-1234-5678-9012" }, hcx.HeaderBenABHAID, ""},
		{"abha ok", hcx.KindRequest, func(h *hcx.Headers) { h.BenABHAID = "91123456789012" }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := request()
			if tt.kind == hcx.KindCallback {
				h = callback()
			}
			if tt.edit != nil {
				tt.edit(&h)
			}
			err := h.Validate(tt.kind)
			if tt.header == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var he *hcx.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want a *HeaderError for %s", err, tt.header)
			}
			if he.Header != tt.header || he.Code != tt.code {
				t.Errorf("got header %q code %q, want %q %q (%v)", he.Header, he.Code, tt.header, tt.code, err)
			}
			if !errors.Is(err, hcx.ErrInvalidHeaders) {
				t.Error("a HeaderError should match ErrInvalidHeaders")
			}
			if he.Explanation == "" || he.Advice == "" {
				t.Errorf("no explanation or advice for staff: %+v", he)
			}
		})
	}
	if err := request().Validate(0); err == nil {
		t.Error("Validate accepted an unknown kind")
	}
}
