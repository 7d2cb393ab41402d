package nhcx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The protocol headers (reference §5).
const (
	hSender      = "x-hcx-sender_code"
	hRecipient   = "x-hcx-recipient_code"
	hAPICallID   = "x-hcx-api_call_id"
	hCorrelation = "x-hcx-correlation_id"
	hRequestID   = "x-hcx-request_id"
	hWorkflow    = "x-hcx-workflow_id"
	hTimestamp   = "x-hcx-timestamp"
	hStatus      = "x-hcx-status"
	hError       = "x-hcx-error_details"
	hEntityType  = "x-hcx-entity-type"
)

// maxBody bounds a use-case body; InsurancePlan bundles reach 100 MB.
const maxBody = 128 << 20

type routeKind int

const (
	kindRequest routeKind = iota + 1
	kindCallback
)

type route struct {
	kind   routeKind
	entity string // entity_type of the acknowledgement
}

// routes are the use-case paths of reference §3.
var routes = func() map[string]route {
	m := map[string]route{
		"/v1/status":    {kindRequest, "status"},
		"/v1/on_status": {kindCallback, "status"},
	}
	for _, r := range []struct{ resource, entity, action string }{
		{"coverageeligibility", "coverageeligibility", "check"},
		{"preauth", "preauth", "submit"},
		{"predetermination", "predetermination", "submit"},
		{"claim", "claim", "submit"},
		{"paymentnotice", "payment", "request"},
		{"communication", "communication", "request"},
		{"insuranceplan", "insuranceplan", "request"},
		{"task", "task", "submit"},
		{"search", "task", "submit"},
	} {
		m["/v1/"+r.resource+"/"+r.action] = route{kindRequest, r.entity}
		m["/v1/"+r.resource+"/on_"+r.action] = route{kindCallback, r.entity}
	}
	return m
}()

var (
	nhcxTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$`)
)

// apiError is a refusal: HTTP status and the error of the acknowledgement.
type apiError struct {
	status int
	Detail
}

func refusal(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, Detail: Detail{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// serveAPI answers a use-case call: checks as the real switch does, a 202
// acknowledgement, then the payer's work or forwarding in the background.
func (s *Switch) serveAPI(w http.ResponseWriter, r *http.Request) {
	rt, ok := routes[r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"timestamp": ackTimestamp(s.cfg.Now()),
			"error": Detail{Code: "ERR_INVALID_FORWARD_REQ", Message: "no NHCX API at " + r.URL.Path}})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"timestamp": ackTimestamp(s.cfg.Now()),
			"error": Detail{Code: "ERR_INVALID_FORWARD_REQ", Message: "use POST"}})
		return
	}
	msg := &Message{Direction: DirectionReceived, Path: r.URL.Path}
	req, aerr := s.accept(r, rt, msg)
	now := s.cfg.Now()
	if aerr != nil {
		s.update(msg, func(m *Message) {
			m.State, m.HTTPStatus, m.Error = StateRefused, aerr.status, &aerr.Detail
		})
		s.log.Info("nhcx sandbox call refused", "path", r.URL.Path, "status", aerr.status, "code", aerr.Code,
			"api_call_id", msg.APICallID)
		writeJSON(w, aerr.status, map[string]any{
			"timestamp": ackTimestamp(now), "api_call_id": msg.APICallID, "correlation_id": msg.CorrelationID,
			"error": aerr.Detail,
		})
		return
	}
	s.update(msg, func(m *Message) { m.State, m.HTTPStatus = StateAccepted, http.StatusAccepted })
	s.log.Info("nhcx sandbox call accepted", "path", r.URL.Path, "from", msg.From, "to", msg.To,
		"api_call_id", msg.APICallID, "correlation_id", msg.CorrelationID)
	writeJSON(w, http.StatusAccepted, map[string]any{
		"timestamp": ackTimestamp(now), "api_call_id": msg.APICallID, "correlation_id": msg.CorrelationID,
		"result": map[string]string{
			"sender_code": msg.From, "recipient_code": msg.To, "entity_type": rt.entity,
			"protocol_status": "request.queued",
		},
		"error": nil,
	})
	s.dispatch(req)
}

// accept checks a call and records it in msg (which it adds to the log).
func (s *Switch) accept(r *http.Request, rt route, msg *Message) (request, *apiError) {
	s.record(msg)
	if st, ok := s.takeRequestFault(); ok {
		return request{}, refusal(st, "ERR_SERVICE_UNAVAILABLE", "the switch is unavailable (sandbox fault)")
	}
	// NHCX reads the token from bearer_auth (reference §4).
	auth := r.Header.Get("bearer_auth")
	if auth == "" {
		hint := ""
		if r.Header.Get("Authorization") != "" {
			hint = "; NHCX reads the token from the bearer_auth header, not Authorization alone"
		}
		return request{}, refusal(http.StatusUnauthorized, "NHCX-401", "Sender is not authorized to execute the operation: bearer_auth is missing%s", hint)
	}
	token, found := strings.CutPrefix(auth, "Bearer ")
	if !found {
		return request{}, refusal(http.StatusUnauthorized, "NHCX-401", "Sender is not authorized to execute the operation: bearer_auth must be \"Bearer <token>\"")
	}
	clientID, err := s.cfg.VerifyToken(strings.TrimSpace(token))
	if err != nil {
		return request{}, refusal(http.StatusUnauthorized, "NHCX-401", "Sender is not authorized to execute the operation")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "Content-Type must be application/json")
	}
	if a := r.Header.Get("Accept"); !strings.Contains(a, "application/json") && !strings.Contains(a, "*/*") {
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "Accept must include application/json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "body unreadable or larger than %d bytes", maxBody)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &env); err != nil || env == nil {
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "Failed to read request: the body is not a JSON object")
	}
	var compact, typ string
	if err := json.Unmarshal(env["payload"], &compact); err != nil || compact == "" {
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "Failed to read request: payload must be the compact JWE")
	}
	_, hasType := env["type"]
	_ = json.Unmarshal(env["type"], &typ)
	switch {
	case rt.kind == kindRequest && hasType:
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "Failed to read request: an initiating call has no \"type\"")
	case rt.kind == kindCallback && typ != "JWEPayload":
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "an on_* call needs \"type\":\"JWEPayload\"")
	}
	h, err := readProtected(compact)
	if err != nil {
		return request{}, refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "%v", err)
	}
	s.update(msg, func(m *Message) {
		m.Headers = map[string]any(h)
		m.From, m.To = normalize(h.str(hSender)), normalize(h.str(hRecipient))
		m.APICallID, m.CorrelationID = h.str(hAPICallID), h.str(hCorrelation)
		m.WorkflowID, m.Status = h.str(hWorkflow), h.str(hStatus)
	})
	if aerr := s.checkHeaders(h, rt, clientID); aerr != nil {
		return request{}, aerr
	}
	answers, aerr := s.claimIDs(h, rt, r.URL.Path)
	if aerr != nil {
		return request{}, aerr
	}
	return request{path: r.URL.Path, headers: h, compact: compact, msg: msg, answers: answers}, nil
}

// checkHeaders applies the gateway's header rules (reference §5,
// BaseRequest.java) and the registry: both parties registered and active,
// the sender owned by the token's client.
func (s *Switch) checkHeaders(h headerMap, rt route, clientID string) *apiError {
	alg, enc := h.str("alg"), h.str("enc")
	if alg != "RSA-OAEP-256" && alg != "RSA-OAEP" {
		return refusal(http.StatusBadRequest, "ERR_INVALID_ALGORITHM", "alg %q is not RSA-OAEP-256", alg)
	}
	if enc != "A256GCM" {
		return refusal(http.StatusBadRequest, "ERR_INVALID_ALGORITHM", "enc %q is not A256GCM", enc)
	}
	for k := range h {
		if k != "alg" && k != "enc" && !strings.HasPrefix(k, "x-hcx-") {
			return refusal(http.StatusBadRequest, "ERR_INVALID_PAYLOAD", "protected header %q: only alg, enc and x-hcx-* are allowed", k)
		}
	}
	for _, name := range []string{hSender, hRecipient, hAPICallID, hCorrelation, hRequestID, hTimestamp, hStatus} {
		if strings.TrimSpace(h.str(name)) == "" {
			return refusal(http.StatusBadRequest, "ERR_MANDATORY_HEADER_MISSING", "%s is missing", name)
		}
	}
	for _, id := range []struct{ name, code string }{
		{hAPICallID, "ERR_INVALID_API_CALL_ID"}, {hCorrelation, "ERR_INVALID_CORRELATION_ID"}, {hRequestID, "ERR_INVALID_PAYLOAD"},
	} {
		if v := h.str(id.name); len(v) != 36 || uuid.Validate(v) != nil {
			return refusal(http.StatusBadRequest, id.code, "%s is not a UUID: %q", id.name, v)
		}
	}
	if w := h.str(hWorkflow); w != strings.TrimSpace(w) {
		return refusal(http.StatusBadRequest, "ERR_INVALID_WORKFLOW_ID", "%s has spaces around it", hWorkflow)
	}
	ts := h.str(hTimestamp)
	t, err := time.Parse("2006-01-02T15:04:05-0700", ts)
	if !nhcxTimestamp.MatchString(ts) || err != nil {
		return refusal(http.StatusBadRequest, "ERR_INVALID_TIMESTAMP", "%s %q is not like 2023-11-06T13:22:06+0530", hTimestamp, ts)
	}
	if t.After(s.cfg.Now().Add(s.cfg.TimestampFuture)) {
		return refusal(http.StatusBadRequest, "ERR_INVALID_TIMESTAMP", "%s is in the future", hTimestamp)
	}
	switch st := h.str(hStatus); {
	case rt.kind == kindRequest && st != "request.initiated":
		return refusal(http.StatusBadRequest, "ERR_INVALID_STATUS", "%s must be request.initiated on a request, not %q", hStatus, st)
	case rt.kind == kindCallback && st != "response.complete" && st != "response.partial" && st != "response.error":
		return refusal(http.StatusBadRequest, "NHCX-1011", "Invalid x-hcx-status %q on a reply; NHCX expects response.complete", st)
	}
	sender, recipient := normalize(h.str(hSender)), normalize(h.str(hRecipient))
	if sender == recipient {
		return refusal(http.StatusBadRequest, "ERR_INVALID_SENDER_AND_RECIPIENT", "sender and recipient are both %s", sender)
	}
	sp, ok := s.participant(sender)
	if !ok || sp.Status != "Active" {
		return refusal(http.StatusBadRequest, "ERR_INVALID_SENDER", "sender %s is not an active registered participant", sender)
	}
	if sp.ClientID != "" && sp.ClientID != clientID {
		return refusal(http.StatusUnauthorized, "ERR_ACCESS_DENIED", "the token's client may not send as %s", sender)
	}
	rp, ok := s.participant(recipient)
	if !ok || rp.Status != "Active" {
		return refusal(http.StatusBadRequest, "ERR_INVALID_RECIPIENT", "recipient %s is not an active registered participant", recipient)
	}
	return nil
}

// claimIDs refuses a repeated api_call_id, a retired correlation id, and
// an on_* call to a payer that answers no open request of that payer;
// then records the ids and closes the request answered, which it returns.
func (s *Switch) claimIDs(h headerMap, rt route, path string) (*awaitingReply, *apiError) {
	apiCall, correlation := h.str(hAPICallID), h.str(hCorrelation)
	sender, recipient := normalize(h.str(hSender)), normalize(h.str(hRecipient))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiCalls[apiCall] {
		return nil, refusal(http.StatusBadRequest, "ERR_INVALID_API_CALL_ID", "duplicate %s %s", hAPICallID, apiCall)
	}
	if s.retired[correlation] {
		return nil, refusal(http.StatusBadRequest, "NHCX-1006", "correlation id %s was retired and cannot be used again", correlation)
	}
	var answers *awaitingReply
	if to := s.participants[recipient]; rt.kind == kindCallback && to != nil && to.Role == RolePayer {
		answers = s.awaiting[correlation]
		if answers == nil || answers.provider != sender || answers.payer != recipient || path != onPath(answers.path) {
			return nil, refusal(http.StatusBadRequest, "ERR_INVALID_CORRELATION_ID", "no open request from %s to %s has correlation id %s for %s",
				recipient, sender, correlation, path)
		}
		delete(s.awaiting, correlation)
	}
	s.apiCalls[apiCall] = true
	return answers, nil
}

// onPath is the answer path of a request path.
func onPath(p string) string {
	if p == "/v1/status" {
		return "/v1/on_status"
	}
	i := strings.LastIndexByte(p, '/')
	return p[:i+1] + "on_" + p[i+1:]
}

// dispatch hands an accepted call to its recipient: the sandbox payer, or
// another provider through its endpoint.
func (s *Switch) dispatch(req request) {
	to, _ := s.participant(req.headers.str(hRecipient))
	if to.Role == RolePayer {
		s.goBackground(func(ctx context.Context) { s.payerHandle(ctx, req) })
		return
	}
	body, _ := json.Marshal(envelope(routes[req.path].kind, req.compact))
	s.goBackground(func(ctx context.Context) {
		duplicate, _ := s.takeDeliveryFaults()
		h := req.headers
		msg := s.record(&Message{
			Direction: DirectionDelivered, Path: req.path, From: normalize(h.str(hSender)), To: to.Code,
			APICallID: h.str(hAPICallID), CorrelationID: h.str(hCorrelation), WorkflowID: h.str(hWorkflow),
			Status: h.str(hStatus), Headers: map[string]any(h), State: StatePending,
		})
		s.attempts(ctx, msg, to, body, duplicate)
	})
}

// envelope is the body of a use-case call.
func envelope(kind routeKind, compact string) map[string]string {
	if kind == kindCallback {
		return map[string]string{"type": "JWEPayload", "payload": compact}
	}
	return map[string]string{"payload": compact}
}
