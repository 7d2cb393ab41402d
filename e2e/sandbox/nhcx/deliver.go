package nhcx

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// switchCode names the switch itself as the sender of /v1/error reports
// in the message log.
const switchCode = "nhcx"

// sendToProvider seals payload to the provider's registered certificate
// and delivers it to path at the provider's endpoint.
func (s *Switch) sendToProvider(ctx context.Context, to Participant, path string, h headerMap, payload []byte) {
	duplicate, corrupt := s.takeDeliveryFaults()
	msg := &Message{
		Direction: DirectionDelivered, Path: path, From: normalize(h.str(hSender)), To: to.Code,
		APICallID: h.str(hAPICallID), CorrelationID: h.str(hCorrelation), WorkflowID: h.str(hWorkflow),
		Status: h.str(hStatus), Headers: map[string]any(h), State: StatePending, Payload: payload,
	}
	pub, err := parsePublicKey(to.EncryptionCert)
	if err != nil {
		s.record(msg)
		s.fail(msg, "the provider has no usable encryption certificate registered: "+err.Error())
		return
	}
	if corrupt {
		// A key the provider cannot have: it must refuse the delivery.
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.record(msg)
			s.fail(msg, "generating the corrupting key: "+err.Error())
			return
		}
		pub = &other.PublicKey
		msg.Outcome = "encrypted to a wrong key (fault)"
	}
	compact, err := seal(payload, h, pub)
	if err != nil {
		s.record(msg)
		s.fail(msg, err.Error())
		return
	}
	body, _ := json.Marshal(envelope(routes[path].kind, compact))
	s.record(msg)
	s.attempts(ctx, msg, to, body, duplicate)
}

// reportError tells the provider that its request could not be processed,
// on /v1/error: a plain protocol response carrying the request's headers
// and the error (reference §6, §8).
func (s *Switch) reportError(ctx context.Context, req request, code, message string) {
	to, ok := s.participant(req.headers.str(hSender))
	if !ok {
		return
	}
	h := req.headers
	report := map[string]any{
		"type":  "ProtocolResponse",
		hSender: h.str(hSender), hRecipient: h.str(hRecipient), hAPICallID: uuid.NewString(),
		hCorrelation: h.str(hCorrelation), hRequestID: h.str(hRequestID), hTimestamp: hcxTimestamp(s.cfg.Now()),
		hStatus: "response.error", hEntityType: routes[req.path].entity,
		hError: Detail{Code: code, Message: message},
	}
	if w := h.str(hWorkflow); w != "" {
		report[hWorkflow] = w
	}
	body, _ := json.Marshal(report)
	duplicate, _ := s.takeDeliveryFaults()
	msg := s.record(&Message{
		Direction: DirectionDelivered, Path: "/v1/error", From: switchCode, To: to.Code,
		APICallID: report[hAPICallID].(string), CorrelationID: h.str(hCorrelation), WorkflowID: h.str(hWorkflow),
		Status: "response.error", Headers: report, State: StatePending, Error: &Detail{Code: code, Message: message},
	})
	s.attempts(ctx, msg, to, body, duplicate)
}

// attempts posts body until the provider answers with a valid receipt,
// retrying with backoff. When every attempt fails NHCX drops the request:
// its correlation id is retired.
func (s *Switch) attempts(ctx context.Context, msg *Message, to Participant, body []byte, duplicate bool) {
	if to.EndpointURL == "" {
		s.fail(msg, "the provider has no endpoint_url registered")
		return
	}
	url := to.EndpointURL + msg.Path
	delay := s.cfg.RetryDelay
	for attempt := 0; attempt <= s.cfg.CallbackRetries; attempt++ {
		if attempt > 0 {
			if !sleep(ctx, delay) {
				s.fail(msg, "the sandbox stopped before the delivery succeeded")
				return
			}
			delay = min(delay*2, s.cfg.RetryMaxDelay)
		}
		ok := s.post(ctx, msg, url, body, false)
		if duplicate && attempt == 0 {
			s.post(ctx, msg, url, body, true)
		}
		if ok {
			s.update(msg, func(m *Message) { m.State = StateDelivered })
			s.log.Info("nhcx sandbox delivery acknowledged", "path", msg.Path, "to", msg.To, "api_call_id", msg.APICallID)
			return
		}
	}
	s.mu.Lock()
	s.retired[msg.CorrelationID] = true
	s.mu.Unlock()
	s.fail(msg, fmt.Sprintf("no valid 202 receipt after %d attempts; correlation id retired", s.cfg.CallbackRetries+1))
}

// post makes one attempt and reports whether the provider acknowledged
// it as NHCX requires: 202, and a receipt echoing the api_call_id.
func (s *Switch) post(ctx context.Context, msg *Message, url string, body []byte, duplicate bool) bool {
	a := Attempt{At: s.cfg.Now(), URL: url, Duplicate: duplicate}
	ok := false
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		var resp *http.Response
		if resp, err = s.cfg.HTTPClient.Do(req); err == nil {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			a.HTTPStatus, a.Response = resp.StatusCode, clip(string(data), 500)
			var receipt struct {
				APICallID string `json:"api_call_id"`
			}
			switch {
			case resp.StatusCode != http.StatusAccepted:
				a.Error = "not 202"
			case json.Unmarshal(data, &receipt) != nil:
				a.Error = "the receipt is not JSON"
			case receipt.APICallID != msg.APICallID:
				a.Error = fmt.Sprintf("the receipt's api_call_id %q is not the delivery's", receipt.APICallID)
			default:
				ok = true
			}
		}
	}
	if err != nil {
		a.Error = err.Error()
	}
	s.update(msg, func(m *Message) {
		m.Attempts = append(m.Attempts, a)
		if !duplicate {
			m.HTTPStatus = a.HTTPStatus
		}
	})
	return ok
}

func (s *Switch) fail(msg *Message, why string) {
	s.update(msg, func(m *Message) {
		m.State = StateFailed
		if m.Error == nil {
			m.Error = &Detail{Code: "NHCX-1001", Message: why}
		} else {
			m.Outcome = why
		}
	})
	s.log.Warn("nhcx sandbox delivery failed", "path", msg.Path, "to", msg.To, "api_call_id", msg.APICallID, "reason", why)
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
