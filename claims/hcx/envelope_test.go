package hcx_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestBodyForms(t *testing.T) {
	for _, tt := range []struct {
		kind hcx.Kind
		want string
	}{
		{hcx.KindRequest, `{"payload":"a.b.c.d.e"}`},
		{hcx.KindCallback, `{"type":"JWEPayload","payload":"a.b.c.d.e"}`},
	} {
		b, err := json.Marshal(hcx.NewBody(tt.kind, "a.b.c.d.e"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%v body: got %s, want %s", tt.kind, b, tt.want)
		}
	}
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want hcx.Received
	}{
		{"request", `{"payload":"a.b.c.d.e"}`, hcx.Received{Payload: "a.b.c.d.e"}},
		{"callback", `{"type":"JWEPayload","payload":"a.b.c.d.e","extra":1}`, hcx.Received{Type: "JWEPayload", Payload: "a.b.c.d.e"}},
		{"protocol response", `{"type":"ProtocolResponse","x-hcx-status":"response.error",
			"x-hcx-correlation_id":"c","x-hcx-error_details":{"code":"NHCX-1001","message":"unreachable"},"x-hcx-entity-type":"preauth"}`,
			hcx.Received{Type: "ProtocolResponse", Protocol: &hcx.Headers{Status: hcx.StatusResponseError, CorrelationID: "c",
				EntityType: "preauth", ErrorDetails: &hcx.Details{Code: "NHCX-1001", Message: "unreachable"}}}},
		{"protocol response without type", `{"x-hcx-status":"response.error","x-hcx-correlation_id":"c"}`,
			hcx.Received{Protocol: &hcx.Headers{Status: hcx.StatusResponseError, CorrelationID: "c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hcx.ParseBody([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"payload":1}`, `{"payload":""}`, `{"hello":"world"}`, `{"type":["x"]}`} {
		if got, err := hcx.ParseBody([]byte(bad)); err == nil {
			t.Errorf("ParseBody(%s) = %+v, want an error", bad, got)
		}
	}
}

func TestMarshalProtocolResponse(t *testing.T) {
	b, err := hcx.MarshalProtocolResponse(hcx.Headers{Status: hcx.StatusResponseError, CorrelationID: "c",
		ErrorDetails: &hcx.Details{Code: "ERR_INVALID_ENCRYPTION", Message: "cannot decrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"ProtocolResponse","x-hcx-correlation_id":"c","x-hcx-error_details":{"code":"ERR_INVALID_ENCRYPTION","message":"cannot decrypt"},"x-hcx-status":"response.error"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	r, err := hcx.ParseBody(b)
	if err != nil || r.Protocol == nil || r.Protocol.ErrorDetails.Code != "ERR_INVALID_ENCRYPTION" {
		t.Errorf("does not read back: %+v, %v", r, err)
	}
}

func TestReceipt(t *testing.T) {
	h := hcx.Headers{SenderCode: "1000003538@hcx", RecipientCode: "1000004604@hcx", APICallID: "a", CorrelationID: "c"}
	ack := hcx.NewReceipt(h, "preauth", time.Date(2023, 11, 6, 7, 52, 6, 123e6, time.UTC))
	b, err := json.Marshal(ack)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"timestamp":"06/11/2023 13:22:06:123","api_call_id":"a","correlation_id":"c",` +
		`"result":{"sender_code":"1000003538@hcx","recipient_code":"1000004604@hcx","entity_type":"preauth","protocol_status":"request.queued"},` +
		`"error":{"code":"","message":""}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestAckDecoding(t *testing.T) {
	var ack hcx.Ack
	in := `{"timestamp":1699257126123,"api_call_id":"a","correlation_id":"c",
		"result":{"sender_code":"s","recipient_code":"r","entity_type":"claim","protocol_status":"request.queued"},"error":null}`
	if err := json.Unmarshal([]byte(in), &ack); err != nil {
		t.Fatal(err)
	}
	want := hcx.Ack{Timestamp: "1699257126123", APICallID: "a", CorrelationID: "c",
		Result: &hcx.AckResult{SenderCode: "s", RecipientCode: "r", EntityType: "claim", ProtocolStatus: hcx.StatusRequestQueued}}
	if diff := cmp.Diff(want, ack); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !ack.Error.IsZero() {
		t.Error("null error should be zero")
	}

	var refused hcx.Ack
	if err := json.Unmarshal([]byte(`{"api_call_id":"a","error":{"code":"NHCX-1006","message":"duplicate"}}`), &refused); err != nil {
		t.Fatal(err)
	}
	e := refused.Error.Err()
	if e.Code != "NHCX-1006" || !errors.Is(e, hcx.ErrDuplicate) {
		t.Errorf("got %+v", e)
	}
}
