package hcx_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestHeadersJSONNames(t *testing.T) {
	h := hcx.Headers{
		SenderCode: "a@hcx", RecipientCode: "b@hcx", APICallID: "1", CorrelationID: "2", RequestID: "3",
		WorkflowID: "12", Timestamp: "2023-11-06T13:22:06+0530", Status: hcx.StatusResponseRedirect,
		BenABHAID: "91123456789012", ErrorDetails: &hcx.Details{Code: "c", Message: "m"}, DebugFlag: "Debug",
		DebugDetails: &hcx.Details{Code: "d", Message: "n", Trace: "t"}, RedirectTo: "c@hcx", EntityType: "preauth",
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"x-hcx-api_call_id":"1","x-hcx-ben-abha-id":"91123456789012","x-hcx-correlation_id":"2",` +
		`"x-hcx-debug_details":{"code":"d","message":"n","trace":"t"},"x-hcx-debug_flag":"Debug",` +
		`"x-hcx-entity-type":"preauth","x-hcx-error_details":{"code":"c","message":"m"},` +
		`"x-hcx-recipient_code":"b@hcx","x-hcx-redirect_to":"c@hcx","x-hcx-request_id":"3",` +
		`"x-hcx-sender_code":"a@hcx","x-hcx-status":"response.redirect","x-hcx-timestamp":"2023-11-06T13:22:06+0530",` +
		`"x-hcx-workflow_id":"12"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back hcx.Headers
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	empty, err := json.Marshal(hcx.Headers{})
	if err != nil || string(empty) != "{}" {
		t.Errorf("empty headers: got %s, %v; want {}", empty, err)
	}
}

func TestHeadersDecodeLeniently(t *testing.T) {
	in := `{"alg":"RSA-OAEP-256","type":"ProtocolResponse","x-hcx-workflow_id":1,"x-hcx-sender_code":"a@hcx",
		"x-hcx-recipient_code":null,"x-hcx-error_details":"{\"code\":\"PAYR-1001\",\"message\":\"cannot decrypt\"}",
		"x-hcx-claim-priority":{"p":1}}`
	var h hcx.Headers
	if err := json.Unmarshal([]byte(in), &h); err != nil {
		t.Fatal(err)
	}
	want := hcx.Headers{
		SenderCode: "a@hcx", WorkflowID: "1",
		ErrorDetails: &hcx.Details{Code: "PAYR-1001", Message: "cannot decrypt"},
		Extra:        map[string]json.RawMessage{"x-hcx-claim-priority": json.RawMessage(`{"p":1}`)},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"x-hcx-sender_code":{"a":1}}`, `{"x-hcx-error_details":[1]}`} {
		var h hcx.Headers
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("%s: decoded without error to %+v", bad, h)
		}
	}
}

func TestTimestamps(t *testing.T) {
	utc := time.Date(2023, 11, 6, 7, 52, 6, 123e6, time.UTC)
	if got := hcx.FormatTimestamp(utc); got != "2023-11-06T13:22:06+0530" {
		t.Errorf("FormatTimestamp: got %q", got)
	}
	if got := hcx.FormatAckTimestamp(utc); got != "06/11/2023 13:22:06:123" {
		t.Errorf("FormatAckTimestamp: got %q", got)
	}
	for in, want := range map[string]time.Time{
		"2023-11-06T13:22:06+0530":      utc.Truncate(time.Second),
		"2023-11-06T13:22:06+05:30":     utc.Truncate(time.Second),
		"2023-11-06T07:52:06Z":          utc.Truncate(time.Second),
		"2023-11-06T13:22:06.123+05:30": utc,
		"1699257126123":                 utc,
	} {
		got, err := hcx.ParseTimestamp(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTimestamp(%q): got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "06/11/2023 13:22:06", "2023-11-06 13:22:06", "12345"} {
		if _, err := hcx.ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) succeeded", bad)
		}
	}
}

func TestNewRequestAndReply(t *testing.T) {
	now := time.Date(2026, 1, 5, 4, 30, 0, 0, time.UTC)
	req := hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "12", now)
	if err := req.Validate(hcx.KindRequest); err != nil {
		t.Errorf("NewRequest headers do not validate: %v", err)
	}
	if req.Timestamp != "2026-01-05T10:00:00+0530" || req.Status != hcx.StatusRequestInitiated || req.WorkflowID != "12" {
		t.Errorf("NewRequest: %+v", req)
	}
	ids := map[string]bool{req.APICallID: true, req.CorrelationID: true, req.RequestID: true}
	if len(ids) != 3 {
		t.Errorf("ids should be distinct: %+v", req)
	}
	other := hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "12", now)
	if other.APICallID == req.APICallID || other.CorrelationID == req.CorrelationID {
		t.Error("two requests share ids")
	}

	reply := req.Reply(now.Add(time.Minute))
	if err := reply.Validate(hcx.KindCallback); err != nil {
		t.Errorf("Reply headers do not validate: %v", err)
	}
	if reply.SenderCode != req.RecipientCode || reply.RecipientCode != req.SenderCode ||
		reply.CorrelationID != req.CorrelationID || reply.WorkflowID != req.WorkflowID || reply.RequestID != req.RequestID {
		t.Errorf("Reply must swap codes and keep the case's ids: %+v from %+v", reply, req)
	}
	if reply.APICallID == req.APICallID || uuid.Validate(reply.APICallID) != nil {
		t.Errorf("Reply needs a fresh api_call_id, got %q", reply.APICallID)
	}
	if reply.Status != hcx.StatusResponseComplete || !strings.HasSuffix(reply.Timestamp, "10:01:00+0530") {
		t.Errorf("Reply: %+v", reply)
	}
}

func TestCloneIsDeep(t *testing.T) {
	h := fullHeaders()
	c := h.Clone()
	c.ErrorDetails.Code = "changed"
	c.Extra["x-hcx-new"] = json.RawMessage(`1`)
	if h.ErrorDetails.Code == "changed" || len(h.Extra) != 1 {
		t.Error("Clone shares state with the original")
	}
}
