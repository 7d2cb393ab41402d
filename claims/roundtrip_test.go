package claims_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
)

func TestCoverageEligibilityRoundTrip(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rejected := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetRules([]nhcx.Rule{{WorkflowID: rejected.WorkflowID, Outcome: nhcx.OutcomeReject, Reason: "Policy lapsed", Code: "a002"}}))

	c := h.startCase("")
	sent := h.send(c.ID, hcx.PathCoverageEligibilityCheck, eligibilityBundle())
	if sent.State != claims.StateQueued || sent.CorrelationID == "" || sent.WorkflowID != c.WorkflowID {
		t.Fatalf("queued message %+v", sent)
	}
	got := h.waitCase(c.ID, statusIs(claims.StatusEligible))
	if got.Stage != claims.StageCoverageEligibility || got.PayerNote != "Policy is in force." {
		t.Errorf("case %+v", got)
	}

	// The ledger has the request, acknowledged by the switch, and the
	// answer on the same correlation id.
	ms := h.ledger(c.ID)
	if len(ms) != 2 {
		t.Fatalf("ledger:\n%s", h.ledgerText(c.ID))
	}
	out, in := ms[0], ms[1]
	var ack hcx.Ack
	mustNoErr(t, json.Unmarshal(out.Ack, &ack))
	if out.Direction != claims.Outbound || out.State != claims.StateSent || out.APICallID == "" || out.HTTPStatus != 202 ||
		out.Attempts != 1 || out.SentAt == nil || ack.APICallID != out.APICallID || ack.Result == nil ||
		ack.Result.EntityType != "coverageeligibility" || ack.Result.ProtocolStatus != hcx.StatusRequestQueued {
		t.Errorf("request %+v, ack %+v", out, ack)
	}
	if in.Direction != claims.Inbound || in.Path != hcx.PathCoverageEligibilityOnCheck || in.State != claims.StateProcessed ||
		in.CorrelationID != out.CorrelationID || in.RespondsTo != out.ID || in.Outcome != "eligible" || !in.HasJWE ||
		in.SenderCode != nhcx.DefaultPayerCode || in.ProcessedAt == nil {
		t.Errorf("answer %+v", in)
	}
	// What the payer decrypted is what we sent, byte for byte.
	sw := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathCoverageEligibilityCheck, CorrelationID: out.CorrelationID})
	if len(sw) != 1 || !bytes.Equal(sw[0].Payload, eligibilityBundle()) || sw[0].APICallID != out.APICallID {
		t.Errorf("the switch saw %+v", sw)
	}
	// Our own copy of the answer is readable for the billing pages.
	p, err := h.svc.Payload(context.Background(), h.tenant, in.ID)
	if err != nil || !bytes.Contains(p, []byte(`"CoverageEligibilityResponse"`)) {
		t.Errorf("payload: %v", err)
	}

	h.send(rejected.ID, hcx.PathCoverageEligibilityCheck, eligibilityBundle())
	r := h.waitCase(rejected.ID, statusIs(claims.StatusNotEligible))
	if r.PayerNote != "Policy lapsed" || r.ErrorCode != "a002" {
		t.Errorf("rejected eligibility %+v", r)
	}
}

func TestPreauthOutcomes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	type want struct {
		status                      claims.CaseStatus
		requested, approved, reason string
	}
	cases := []struct {
		name string
		rule nhcx.Rule
		want want
	}{
		{"approved", nhcx.Rule{Outcome: nhcx.OutcomeApprove}, want{claims.StatusApproved, "70000.00", "70000.00", "Approved."}},
		{"partially approved", nhcx.Rule{Outcome: nhcx.OutcomePartial, Amount: "40000", Reason: "Room rent capped"},
			want{claims.StatusPartiallyApproved, "70000.00", "40000.00", "Room rent capped"}},
		{"rejected", nhcx.Rule{Outcome: nhcx.OutcomeReject, Reason: "Pre-existing condition", Code: "a001"},
			want{claims.StatusRejected, "70000.00", "0.00", "Pre-existing condition"}},
	}
	var rules []nhcx.Rule
	ids := map[string]string{}
	for _, tc := range cases {
		c := h.startCase("")
		ids[tc.name] = c.ID
		r := tc.rule
		r.WorkflowID, r.Path = c.WorkflowID, hcx.PathPreauthSubmit
		rules = append(rules, r)
	}
	mustNoErr(t, h.sb.NHCX.SetRules(rules))
	for _, tc := range cases {
		h.send(ids[tc.name], hcx.PathPreauthSubmit, claimBundle("preauthorization", "70000"))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.waitCase(ids[tc.name], statusIs(tc.want.status))
			if c.Stage != claims.StagePreauth || c.RequestedAmount != tc.want.requested || c.ApprovedAmount != tc.want.approved ||
				c.PayerNote != tc.want.reason || c.Currency != "INR" {
				t.Errorf("case %+v", c)
			}
			if (c.PreauthRef != "") != (tc.want.status != claims.StatusRejected) {
				t.Errorf("preauth ref %q", c.PreauthRef)
			}
		})
	}
}

func TestQueryForDocumentsThenApproval(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetRules([]nhcx.Rule{{Path: hcx.PathPreauthSubmit, Outcome: nhcx.OutcomeQuery,
		Reason: "Please send the discharge summary", Then: nhcx.OutcomeApprove}}))
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "25000"))
	queried := h.waitCase(c.ID, statusIs(claims.StatusNeedsDocuments))
	if queried.PayerNote != "Please send the discharge summary" || queried.Stage != claims.StagePreauth {
		t.Errorf("case %+v", queried)
	}
	request := h.waitMessage(claims.LedgerFilter{CaseID: c.ID, Direction: claims.Inbound}, func(m claims.Message) bool {
		return m.Path == hcx.PathCommunicationRequest && m.State == claims.StateProcessed
	})
	if request.CorrelationID == sent.CorrelationID || request.WorkflowID != c.WorkflowID || request.RespondsTo != 0 {
		t.Errorf("communication request %+v", request)
	}

	reply, err := h.svc.Reply(context.Background(), h.tenant, request.ID, documentsBundle())
	mustNoErr(t, err)
	if reply.Path != hcx.PathCommunicationOnRequest || reply.CorrelationID != request.CorrelationID ||
		reply.RecipientCode != nhcx.DefaultPayerCode || reply.RespondsTo != request.ID {
		t.Errorf("reply %+v", reply)
	}
	done := h.waitCase(c.ID, statusIs(claims.StatusApproved))
	if done.ApprovedAmount != "25000.00" {
		t.Errorf("approved %+v", done)
	}
	// The payer got the documents.
	sw := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathCommunicationOnRequest})
	if len(sw) != 1 || sw[0].Outcome != "documents received" || !bytes.Contains(sw[0].Payload, []byte("Discharge summary")) {
		t.Errorf("the payer saw %+v", sw)
	}

	// Every message of the case is in the ledger, in order.
	var got []string
	for _, m := range h.ledger(c.ID) {
		got = append(got, string(m.Direction)+" "+m.Path+" "+string(m.State))
	}
	want := []string{
		"outbound /v1/preauth/submit sent",
		"inbound /v1/communication/request replied",
		"outbound /v1/communication/on_request sent",
		"inbound /v1/preauth/on_submit processed",
	}
	if len(got) != len(want) {
		t.Fatalf("ledger %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ledger[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestClaimAndPaymentNotice(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetRules([]nhcx.Rule{{Path: hcx.PathClaimSubmit, Outcome: nhcx.OutcomePartial, Amount: "81000.50",
		Pay: &nhcx.Payment{UTR: "UTR2920287229", Date: "2026-03-07"}}}))
	h.send(c.ID, hcx.PathClaimSubmit, claimBundle("claim", "90000"))
	// The answer and the notice may be processed in either order; the
	// case ends as their arrival order says, with the amounts of both.
	paid := h.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusPaid && c.ApprovedAmount != "" })
	if paid.Stage != claims.StagePayment || paid.PaidAmount != "81000.50" || paid.UTR != "UTR2920287229" ||
		paid.PaidOn != "2026-03-07" || paid.ApprovedAmount != "81000.50" || paid.RequestedAmount != "90000.00" {
		t.Errorf("case %+v", paid)
	}
	notice := h.waitMessage(claims.LedgerFilter{CaseID: c.ID, Direction: claims.Inbound}, func(m claims.Message) bool {
		return m.Path == hcx.PathPaymentNoticeRequest
	})
	if notice.Outcome != "paid" {
		t.Errorf("notice %+v", notice)
	}
	_, err := h.svc.Reply(context.Background(), h.tenant, notice.ID, paymentAckBundle())
	mustNoErr(t, err)
	h.waitMessage(claims.LedgerFilter{CaseID: c.ID}, func(m claims.Message) bool {
		return m.ID == notice.ID && m.State == claims.StateReplied
	})
	waitFor(t, func() bool {
		sw := h.sb.NHCX.Messages(nhcx.Filter{Path: hcx.PathPaymentNoticeOnRequest})
		return len(sw) == 1 && sw[0].Outcome == "payment acknowledged"
	})
	// The acknowledgement does not move the case.
	if got, _ := h.svc.Case(context.Background(), h.tenant, c.ID); got.Status != claims.StatusPaid {
		t.Errorf("after the ack: %s", got.Status)
	}
	// Replying twice to the same notice is allowed (a corrected ack), but
	// replying to our own message is not.
	out := h.ledger(c.ID)[0]
	if _, err := h.svc.Reply(context.Background(), h.tenant, out.ID, paymentAckBundle()); err == nil {
		t.Error("replied to an outbound message")
	}
}

func TestPreauthWithNRCeSExampleBundle(t *testing.T) {
	bundle := sharedTestdata(t, "nrces-nhcx__ClaimBundle-preauthorization-dummyPayer.json")
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	mustNoErr(t, h.sb.NHCX.SetRules([]nhcx.Rule{{Outcome: nhcx.OutcomePartial, Amount: "50000"}}))
	h.send(c.ID, hcx.PathPreauthSubmit, bundle)
	got := h.waitCase(c.ID, statusIs(claims.StatusPartiallyApproved))
	// The example claims 70000 INR in Claim.total.
	if got.RequestedAmount != "70000.00" || got.ApprovedAmount != "50000.00" {
		t.Errorf("case %+v", got)
	}
	var b map[string]any
	mustNoErr(t, json.Unmarshal(bundle, &b))
	if b["type"] != "collection" {
		t.Errorf("example bundle type %v", b["type"])
	}
}

func TestStatusRequest(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	sent := h.send(c.ID, hcx.PathPreauthSubmit, claimBundle("preauthorization", "1000"))
	h.waitCase(c.ID, statusIs(claims.StatusApproved))
	// NHA puts the original request's correlation id on /v1/status.
	_, err := h.svc.Send(context.Background(), h.tenant, claims.Request{CaseID: c.ID, Path: hcx.PathStatus,
		CorrelationID: sent.CorrelationID, Payload: []byte(`{"resourceType":"Bundle","type":"collection","entry":[]}`)})
	mustNoErr(t, err)
	answer := h.waitMessage(claims.LedgerFilter{CaseID: c.ID, Direction: claims.Inbound}, func(m claims.Message) bool {
		return m.Path == hcx.PathOnStatus && m.State == claims.StateProcessed
	})
	if answer.Outcome != "recorded" || answer.CorrelationID != sent.CorrelationID {
		t.Errorf("on_status %+v", answer)
	}
	p, err := h.svc.Payload(context.Background(), h.tenant, answer.ID)
	mustNoErr(t, err)
	if !bytes.Contains(p, []byte(`"response.complete"`)) {
		t.Errorf("status answer %s", p)
	}
	if got, _ := h.svc.Case(context.Background(), h.tenant, c.ID); got.Status != claims.StatusApproved {
		t.Errorf("a status answer moved the case to %s", got.Status)
	}
}

// TestReplyWorkflowID: a reply repeats the request's workflow id unless
// told otherwise; to a request that had none it carries the case's.
func TestReplyWorkflowID(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	// The sandbox's payer is NHCX's dummy PM-JAY payer: its requests may
	// name a case by claim number alone.
	_, err := h.svc.SetPayer(ctx, h.tenant, claims.Payer{Code: nhcx.DefaultPayerCode, Name: "PM-JAY",
		SchemeKind: claims.SchemePMJAY, Active: true})
	mustNoErr(t, err)
	c := h.startCase("")
	// The payer's own requests about the case's claim (its encounter):
	// one with the case's workflow id, one with none.
	withID, err := h.sb.NHCX.Trigger(nhcx.Trigger{Path: hcx.PathCommunicationRequest, Provider: h.code,
		WorkflowID: c.WorkflowID, ClaimID: c.EncounterRef})
	mustNoErr(t, err)
	without, err := h.sb.NHCX.Trigger(nhcx.Trigger{Path: hcx.PathPaymentNoticeRequest, Provider: h.code,
		ClaimID: c.EncounterRef, Amount: "100"})
	mustNoErr(t, err)
	inbound := func(correlation string) claims.Message {
		return h.waitMessage(claims.LedgerFilter{CaseID: c.ID, CorrelationID: correlation, Direction: claims.Inbound},
			func(m claims.Message) bool { return m.State == claims.StateProcessed })
	}
	query, notice := inbound(withID), inbound(without)
	if notice.WorkflowID != "" {
		t.Fatalf("the notice carried workflow id %q", notice.WorkflowID)
	}

	replies := map[int64]int{}
	for _, tc := range []struct {
		name    string
		request claims.Message
		opts    claims.ReplyOptions
		want    string
	}{
		{"the request's", query, claims.ReplyOptions{}, c.WorkflowID},
		{"overridden", query, claims.ReplyOptions{WorkflowID: "19"}, "19"},
		{"the case's", notice, claims.ReplyOptions{}, c.WorkflowID},
	} {
		m, err := h.svc.ReplyWith(ctx, h.tenant, tc.request.ID, paymentAckBundle(), tc.opts)
		mustNoErr(t, err)
		if m.WorkflowID != tc.want {
			t.Errorf("%s: the ledger says workflow id %q, want %q", tc.name, m.WorkflowID, tc.want)
		}
		replies[tc.request.ID]++
		var got []nhcx.Message
		waitFor(t, func() bool {
			got = nil
			for _, sm := range h.sb.NHCX.Messages(nhcx.Filter{CorrelationID: tc.request.CorrelationID, Direction: nhcx.DirectionReceived}) {
				if sm.Path == m.Path {
					got = append(got, sm)
				}
			}
			return len(got) == replies[tc.request.ID]
		})
		if last := got[len(got)-1]; last.WorkflowID != tc.want || last.Headers["x-hcx-workflow_id"] != tc.want {
			t.Errorf("%s: the switch read workflow id %q (header %v), want %q", tc.name, last.WorkflowID,
				last.Headers["x-hcx-workflow_id"], tc.want)
		}
	}
}
