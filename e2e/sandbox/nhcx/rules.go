package nhcx

import (
	"fmt"
	"math/big"
	"net/http"
)

// Payer outcomes a Rule can choose.
const (
	// OutcomeApprove answers with the full amount claimed (or Amount), and
	// a coverage check with the coverage in force.
	OutcomeApprove = "approve"
	// OutcomePartial approves Amount, less than claimed.
	OutcomePartial = "partial"
	// OutcomeReject answers with nothing approved (a coverage check: not
	// in force), Reason as the disposition and Code as the error.
	OutcomeReject = "reject"
	// OutcomeQuery asks the provider for more documents with a
	// communication request (Reason is the question); the answer to the
	// original request follows the provider's reply, as Then says.
	OutcomeQuery = "query"
	// OutcomeError reports Code (default PAYR-1003) to the provider on
	// /v1/error, as NHCX does for a request the payer could not process.
	OutcomeError = "error"
	// OutcomeIgnore never answers.
	OutcomeIgnore = "ignore"
)

// Rule decides how the sandbox payer answers requests that match it.
// Rules are tried in order; the first that matches is used (and counts
// down Times); with none, the payer approves.
type Rule struct {
	ID string `json:"id,omitempty"`
	// Path, Provider, Payer and WorkflowID match the request; empty
	// matches anything.
	Path       string `json:"path,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Payer      string `json:"payer,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	// Times is how many requests the rule answers before it is used up;
	// 0 is unlimited.
	Times   int    `json:"times,omitempty"`
	Outcome string `json:"outcome"`
	// Amount is the approved amount (partial, or approve to override the
	// claimed total), as decimal text.
	Amount string `json:"amount,omitempty"`
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
	// Then is the outcome after a query is answered (default approve);
	// ThenAmount its amount.
	Then       string `json:"then,omitempty"`
	ThenAmount string `json:"then_amount,omitempty"`
	// Pay, when set, follows an approval with a payment notice.
	Pay *Payment `json:"pay,omitempty"`
}

// Payment is a payment notice the payer sends.
type Payment struct {
	// Amount defaults to the approved amount.
	Amount string `json:"amount,omitempty"`
	// UTR is the bank reference; default a generated one.
	UTR string `json:"utr,omitempty"`
	// Date is YYYY-MM-DD; default today.
	Date string `json:"date,omitempty"`
}

type ruleState struct {
	Rule
	used int
}

func (r Rule) validate() error {
	switch r.Outcome {
	case OutcomeApprove, OutcomePartial, OutcomeReject, OutcomeQuery, OutcomeError, OutcomeIgnore:
	default:
		return fmt.Errorf("outcome %q is not one of approve, partial, reject, query, error, ignore", r.Outcome)
	}
	if r.Path != "" {
		if rt, ok := routes[r.Path]; !ok || rt.kind != kindRequest {
			return fmt.Errorf("path %q is not an NHCX request path", r.Path)
		}
	}
	if r.Outcome == OutcomePartial && r.Amount == "" {
		return fmt.Errorf("a partial approval needs an amount")
	}
	switch r.Then {
	case "", OutcomeApprove, OutcomeReject:
	case OutcomePartial:
		if r.ThenAmount == "" {
			return fmt.Errorf("then partial needs then_amount")
		}
	default:
		return fmt.Errorf("then %q is not one of approve, partial, reject", r.Then)
	}
	for name, a := range map[string]string{"amount": r.Amount, "then_amount": r.ThenAmount} {
		if _, ok := new(big.Rat).SetString(a); a != "" && !ok {
			return fmt.Errorf("%s %q is not a decimal number", name, a)
		}
	}
	if r.Pay != nil && r.Pay.Amount != "" {
		if _, ok := new(big.Rat).SetString(r.Pay.Amount); !ok {
			return fmt.Errorf("pay.amount %q is not a decimal number", r.Pay.Amount)
		}
	}
	if r.Times < 0 {
		return fmt.Errorf("times cannot be negative")
	}
	return nil
}

// SetRules replaces the payer's rules.
func (s *Switch) SetRules(rules []Rule) error {
	states := make([]*ruleState, 0, len(rules))
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("rule %d: %w", i, err)
		}
		r.Provider, r.Payer = normalize(r.Provider), normalize(r.Payer)
		states = append(states, &ruleState{Rule: r})
	}
	s.mu.Lock()
	s.rules = states
	s.mu.Unlock()
	return nil
}

// AddRule appends a rule after the others.
func (s *Switch) AddRule(r Rule) error {
	if err := r.validate(); err != nil {
		return err
	}
	r.Provider, r.Payer = normalize(r.Provider), normalize(r.Payer)
	s.mu.Lock()
	s.rules = append(s.rules, &ruleState{Rule: r})
	s.mu.Unlock()
	return nil
}

// Rules lists the rules with how often each was used.
func (s *Switch) Rules() []RuleUse {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RuleUse, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, RuleUse{Rule: r.Rule, Used: r.used})
	}
	return out
}

// RuleUse is a rule and how many requests it has answered.
type RuleUse struct {
	Rule
	Used int `json:"used"`
}

// matchRule picks the rule for a request and counts its use.
func (s *Switch) matchRule(path, provider, payer, workflow string) Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if (r.Path != "" && r.Path != path) || (r.Provider != "" && r.Provider != provider) ||
			(r.Payer != "" && r.Payer != payer) || (r.WorkflowID != "" && r.WorkflowID != workflow) ||
			(r.Times > 0 && r.used >= r.Times) {
			continue
		}
		r.used++
		return r.Rule
	}
	return Rule{Outcome: OutcomeApprove}
}

// Faults break the switch on purpose. Counters count down as they apply.
type Faults struct {
	// FailRequests answers the next n use-case calls with FailStatus
	// (default 503) without processing them.
	FailRequests int `json:"fail_requests"`
	FailStatus   int `json:"fail_status,omitempty"`
	// DuplicateCallbacks sends each of the next n deliveries twice, with
	// the same body.
	DuplicateCallbacks int `json:"duplicate_callbacks"`
	// CorruptCallbacks encrypts the next n deliveries to a key the
	// provider does not have.
	CorruptCallbacks int `json:"corrupt_callbacks"`
}

// SetFaults replaces the faults.
func (s *Switch) SetFaults(f Faults) error {
	if f.FailRequests < 0 || f.DuplicateCallbacks < 0 || f.CorruptCallbacks < 0 {
		return fmt.Errorf("fault counters cannot be negative")
	}
	if f.FailStatus != 0 && (f.FailStatus < 400 || f.FailStatus > 599) {
		return fmt.Errorf("fail_status must be a 4xx or 5xx status")
	}
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	return nil
}

// CurrentFaults returns the faults still to apply.
func (s *Switch) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

func (s *Switch) takeRequestFault() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.FailRequests == 0 {
		return 0, false
	}
	s.faults.FailRequests--
	if s.faults.FailStatus == 0 {
		return http.StatusServiceUnavailable, true
	}
	return s.faults.FailStatus, true
}

// takeDeliveryFaults reports whether the next delivery is duplicated and
// whether it is corrupted.
func (s *Switch) takeDeliveryFaults() (duplicate, corrupt bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.DuplicateCallbacks > 0 {
		s.faults.DuplicateCallbacks--
		duplicate = true
	}
	if s.faults.CorruptCallbacks > 0 {
		s.faults.CorruptCallbacks--
		corrupt = true
	}
	return duplicate, corrupt
}
