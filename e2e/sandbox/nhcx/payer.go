package nhcx

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Request paths the payer answers or starts.
const (
	pathCheck             = "/v1/coverageeligibility/check"
	pathCommunicationReq  = "/v1/communication/request"
	pathPaymentNoticeReq  = "/v1/paymentnotice/request"
	pathStatus            = "/v1/status"
	pathCommunicationResp = "/v1/communication/on_request"
	pathPaymentNoticeResp = "/v1/paymentnotice/on_request"
)

// answerable are the requests the payer decides by rule.
var answerable = map[string]bool{
	pathCheck: true, "/v1/preauth/submit": true, "/v1/predetermination/submit": true, "/v1/claim/submit": true,
}

// payerHandle is the sandbox payer's work on a call addressed to it:
// decrypt, then decide by rule, take in the provider's answer to its own
// request, or report what it cannot process.
func (s *Switch) payerHandle(ctx context.Context, req request) {
	if !sleep(ctx, s.cfg.PayerDelay) {
		return
	}
	payer := normalize(req.headers.str(hRecipient))
	key := s.PayerKey(payer)
	if key == nil {
		s.setOutcome(req.msg, "no key for this payer")
		return
	}
	payload, err := open(req.compact, key)
	if err != nil {
		s.setOutcome(req.msg, "the payer could not decrypt it; reported PAYR-1001")
		s.reportError(ctx, req, "PAYR-1001", "The payer could not decrypt the message: it was not encrypted with the payer's registered certificate.")
		return
	}
	if !json.Valid(payload) {
		s.setOutcome(req.msg, "the payload is not JSON; reported ERR_WRONG_DOMAIN_PAYLOAD")
		s.reportError(ctx, req, "ERR_WRONG_DOMAIN_PAYLOAD", "The payload is not a FHIR bundle in JSON.")
		return
	}
	s.update(req.msg, func(m *Message) { m.Payload = payload })
	switch {
	case req.answers != nil:
		s.takeAnswer(ctx, req)
	case req.path == pathStatus:
		s.answerStatus(ctx, req)
	case answerable[req.path]:
		s.decide(ctx, req, payload)
	default:
		s.setOutcome(req.msg, "recorded; the sandbox payer does not answer "+req.path)
	}
}

// decide applies the first matching rule to a provider's request.
func (s *Switch) decide(ctx context.Context, req request, payload []byte) {
	h := req.headers
	payer, provider := normalize(h.str(hRecipient)), normalize(h.str(hSender))
	rule := s.matchRule(req.path, provider, payer, h.str(hWorkflow))
	info := readRequest(payload)
	switch rule.Outcome {
	case OutcomeIgnore:
		s.setOutcome(req.msg, "ignored (rule)")
	case OutcomeError:
		code := or(rule.Code, "PAYR-1003")
		s.setOutcome(req.msg, "reported "+code+" (rule)")
		s.reportError(ctx, req, code, or(rule.Reason, "The payer could not process the request."))
	case OutcomeQuery:
		question := or(rule.Reason, "Please send the supporting documents for this request.")
		correlation := uuid.NewString()
		s.setOutcome(req.msg, "asked for more documents (communication request "+correlation+")")
		s.sendRequest(ctx, payer, provider, pathCommunicationReq, correlation, h.str(hWorkflow),
			communicationRequest(info, question, s.cfg.Now()), &pendingQuery{req: req, rule: rule, info: info})
	default:
		approved := s.answer(ctx, req, info, rule.Outcome, rule.Amount, rule.Reason, rule.Code)
		if rule.Pay != nil && rule.Outcome != OutcomeReject {
			s.pay(ctx, req, info, approved, *rule.Pay)
		}
	}
}

// answer sends the on_* answer to a request and returns the amount
// approved (nil when not known).
func (s *Switch) answer(ctx context.Context, req request, info claimInfo, outcome, amount, reason, code string) *big.Rat {
	now := s.cfg.Now()
	var approved *big.Rat
	if amount != "" {
		approved, _ = new(big.Rat).SetString(amount)
	}
	var body []byte
	if req.path == pathCheck {
		body = eligibilityResponse(info, outcome != OutcomeReject, reason, code, now)
	} else {
		body = claimResponse(info, outcome, approved, reason, code, now)
	}
	switch {
	case outcome == OutcomeReject:
		approved = new(big.Rat)
	case approved == nil:
		approved = info.amount
	}
	desc := outcome
	if approved != nil && req.path != pathCheck {
		desc += " " + approved.FloatString(2)
	}
	s.setOutcome(req.msg, "answered: "+desc)
	provider, ok := s.participant(req.headers.str(hSender))
	if !ok {
		return approved
	}
	s.sendToProvider(ctx, provider, onPath(req.path), replyHeaders(req.headers, s.cfg.Now()), body)
	return approved
}

// pay sends a payment notice for an approved claim.
func (s *Switch) pay(ctx context.Context, req request, info claimInfo, approved *big.Rat, p Payment) {
	amount := approved
	if p.Amount != "" {
		amount, _ = new(big.Rat).SetString(p.Amount)
	}
	if amount == nil {
		amount = new(big.Rat)
	}
	now := s.cfg.Now()
	utr := or(p.UTR, "SBXUTR"+strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12]))
	date := or(p.Date, now.In(ist).Format("2006-01-02"))
	h := req.headers
	s.sendRequest(ctx, normalize(h.str(hRecipient)), normalize(h.str(hSender)), pathPaymentNoticeReq, uuid.NewString(),
		h.str(hWorkflow), paymentNotice(info, amount, info.currency, utr, date, now), nil)
}

// sendRequest starts a payer-initiated cycle with the provider, first
// recording that the payer awaits an answer on correlation.
func (s *Switch) sendRequest(ctx context.Context, payer, provider, path, correlation, workflow string, payload []byte, query *pendingQuery) {
	to, ok := s.participant(provider)
	if !ok {
		return
	}
	s.mu.Lock()
	s.awaiting[correlation] = &awaitingReply{path: path, payer: payer, provider: provider, query: query}
	s.mu.Unlock()
	h := headerMap{
		hSender: payer, hRecipient: provider, hAPICallID: uuid.NewString(), hCorrelation: correlation,
		hRequestID: uuid.NewString(), hTimestamp: hcxTimestamp(s.cfg.Now()), hStatus: "request.initiated",
	}
	if workflow != "" {
		h[hWorkflow] = workflow
	}
	s.sendToProvider(ctx, to, path, h, payload)
}

// takeAnswer records the provider's answer to the payer's own request;
// documents sent for a query let the payer decide the original request.
func (s *Switch) takeAnswer(ctx context.Context, req request) {
	a := req.answers
	switch a.path {
	case pathCommunicationReq:
		s.setOutcome(req.msg, "documents received")
		if q := a.query; q != nil {
			then, amount := or(q.rule.Then, OutcomeApprove), q.rule.ThenAmount
			approved := s.answer(ctx, q.req, q.info, then, amount, "", q.rule.Code)
			if q.rule.Pay != nil && then != OutcomeReject {
				s.pay(ctx, q.req, q.info, approved, *q.rule.Pay)
			}
		}
	case pathPaymentNoticeReq:
		s.setOutcome(req.msg, "payment acknowledged")
	default:
		s.setOutcome(req.msg, "answer received")
	}
}

// answerStatus answers /v1/status with what the switch knows of the
// cycle named by the request's correlation id.
func (s *Switch) answerStatus(ctx context.Context, req request) {
	correlation := req.headers.str(hCorrelation)
	status := "request.queued"
	s.mu.Lock()
	if s.retired[correlation] {
		status = "request.stopped"
	}
	for _, m := range s.messages {
		if m.CorrelationID != correlation || m == req.msg {
			continue
		}
		switch {
		case m.Direction == DirectionDelivered && m.State == StateDelivered && strings.Contains(m.Path, "/on_"):
			status = "response.complete"
		case m.Direction == DirectionReceived && m.State == StateAccepted && status == "request.queued":
			status = "request.dispatched"
		}
	}
	s.mu.Unlock()
	s.setOutcome(req.msg, "answered: "+status)
	provider, ok := s.participant(req.headers.str(hSender))
	if !ok {
		return
	}
	s.sendToProvider(ctx, provider, onPath(req.path), replyHeaders(req.headers, s.cfg.Now()), statusResponse(status, s.cfg.Now()))
}

// replyHeaders answers h: parties swapped, same correlation, request and
// workflow ids, a fresh api_call_id, response.complete.
func replyHeaders(h headerMap, now time.Time) headerMap {
	r := headerMap{
		hSender: h.str(hRecipient), hRecipient: h.str(hSender), hAPICallID: uuid.NewString(),
		hCorrelation: h.str(hCorrelation), hRequestID: h.str(hRequestID), hTimestamp: hcxTimestamp(now),
		hStatus: "response.complete",
	}
	if w := h.str(hWorkflow); w != "" {
		r[hWorkflow] = w
	}
	return r
}

func (s *Switch) setOutcome(m *Message, outcome string) {
	s.update(m, func(m *Message) { m.Outcome = outcome })
}

// Trigger starts a payer-initiated request by hand, as a payer's staff
// would: a communication request asking Text, or a payment notice of
// Amount with UTR.
type Trigger struct {
	Path          string `json:"path"`
	Payer         string `json:"payer,omitempty"`
	Provider      string `json:"provider"`
	WorkflowID    string `json:"workflow_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	// ClaimID is the identifier of the claim the request is about.
	ClaimID string `json:"claim_id,omitempty"`
	Text    string `json:"text,omitempty"`
	Amount  string `json:"amount,omitempty"`
	UTR     string `json:"utr,omitempty"`
	Date    string `json:"date,omitempty"`
}

// Trigger sends t and returns its correlation id.
func (s *Switch) Trigger(t Trigger) (string, error) {
	payer := normalize(or(t.Payer, s.cfg.Payers[0].Code))
	if p, ok := s.participant(payer); !ok || p.Role != RolePayer {
		return "", fmt.Errorf("%s is not a payer of this sandbox", payer)
	}
	if p, ok := s.participant(t.Provider); !ok || p.Role != RoleProvider {
		return "", fmt.Errorf("provider %q is not registered", t.Provider)
	}
	correlation := or(t.CorrelationID, uuid.NewString())
	if uuid.Validate(correlation) != nil {
		return "", fmt.Errorf("correlation_id %q is not a UUID", correlation)
	}
	info := claimInfo{id: or(t.ClaimID, "SBX-CLAIM"), currency: "INR"}
	now := s.cfg.Now()
	var payload []byte
	switch t.Path {
	case pathCommunicationReq:
		payload = communicationRequest(info, or(t.Text, "Please send the supporting documents for this claim."), now)
	case pathPaymentNoticeReq:
		amount, ok := new(big.Rat).SetString(or(t.Amount, "0"))
		if !ok {
			return "", fmt.Errorf("amount %q is not a decimal number", t.Amount)
		}
		utr := or(t.UTR, "SBXUTR"+strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:12]))
		payload = paymentNotice(info, amount, "INR", utr, or(t.Date, now.In(ist).Format("2006-01-02")), now)
	default:
		return "", fmt.Errorf("path must be %s or %s", pathCommunicationReq, pathPaymentNoticeReq)
	}
	provider := normalize(t.Provider)
	s.goBackground(func(ctx context.Context) {
		s.sendRequest(ctx, payer, provider, t.Path, correlation, t.WorkflowID, payload, nil)
	})
	return correlation, nil
}
