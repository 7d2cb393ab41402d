package claims_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
)

func TestWorkflowCoverageThenPreauthApproved(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()

	c, err := w.wf.CheckCoverage(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	if c.PayerCode != w.insurer.PayerCode || c.Facility != w.facility["IN2910000587"] || c.PatientRef != w.kavya ||
		c.EncounterRef != w.mysuru() || c.BenABHAID != "91776043128845" || c.ParticipantCode != w.codes["IN2910000587"] {
		t.Fatalf("case %+v", c)
	}
	c = w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusEligible })
	check := w.waitReceived(hcx.PathCoverageEligibilityCheck, 1)[0]
	b := decodeBundle(t, check.Payload)
	if len(b.all("CoverageEligibilityRequest")) != 1 || !bytes.Contains(check.Payload, []byte("KSG/FH/2024/100217")) ||
		!bytes.Contains(check.Payload, []byte("Priya Billing")) || check.WorkflowID != c.WorkflowID {
		t.Errorf("the payer read %s (workflow %s)", check.Payload, check.WorkflowID)
	}

	// The pre-authorisation goes on the same case, with the same workflow
	// id (a private insurer: HCX's UUID across the case).
	c2, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	if c2.ID != c.ID {
		t.Fatalf("the pre-authorisation opened case %s, not %s", c2.ID, c.ID)
	}
	done := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })
	if done.Stage != claims.StagePreauth || done.PreauthRef == "" || done.ApprovedAmount == "" || done.ApprovedAmount != done.RequestedAmount {
		t.Errorf("approved case %+v", done)
	}
	pre := w.waitReceived(hcx.PathPreauthSubmit, 1)[0]
	if pre.WorkflowID != c.WorkflowID {
		t.Errorf("pre-auth workflow id %q, want the case's %q", pre.WorkflowID, c.WorkflowID)
	}
	claim := decodeBundle(t, pre.Payload).all("Claim")
	if len(claim) != 1 || claim[0]["use"] != "preauthorization" {
		t.Fatalf("pre-auth bundle claims %v", claim)
	}
	// The amount asked is the Mysuru stay's bill, line by line.
	total := claim[0]["total"].(map[string]any)["value"]
	if got, _ := json.Marshal(total); string(got) != done.RequestedAmount && string(got)+".00" != done.RequestedAmount &&
		!strings.HasPrefix(done.RequestedAmount, string(got)) {
		t.Errorf("claimed %s, the payer read %s", got, done.RequestedAmount)
	}
	if items := claim[0]["item"].([]any); len(items) < 10 {
		t.Errorf("the claim has %d items; the stay's bill has 13 lines", len(items))
	}

	// A second request while the payer has not answered is refused.
	mustNoErr(t, w.sb.NHCX.SetRules([]nhcx.Rule{{Outcome: nhcx.OutcomeIgnore}}))
	_, err = w.wf.CheckCoverage(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusAwaitingResponse })
	_, err = w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	var r *claims.Refusal
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "not answered") {
		t.Errorf("a request while waiting: %v", err)
	}
}

func TestWorkflowPreauthPartiallyApprovedAndRejected(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	w.rules(
		nhcx.Rule{Path: hcx.PathPreauthSubmit, Times: 1, Outcome: nhcx.OutcomePartial, Amount: "20000", Reason: "Room rent capped at general ward"},
		nhcx.Rule{Path: hcx.PathPreauthSubmit, Times: 1, Outcome: nhcx.OutcomeReject, Reason: "Waiting period for maternity not over", Code: "a001"},
	)
	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	partial := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusPartiallyApproved })
	if partial.ApprovedAmount != "20000.00" || partial.PayerNote != "Room rent capped at general ward" || partial.PreauthRef == "" {
		t.Errorf("partially approved case %+v", partial)
	}
	d, err := w.wf.CaseDetail(ctx, w.tenant, c.ID)
	mustNoErr(t, err)
	if d.Claimed == "" || d.Claimed != partial.RequestedAmount {
		t.Errorf("claimed %q, the payer read %q", d.Claimed, partial.RequestedAmount)
	}

	// Asked again with an estimate (the stay ran longer): refused this
	// time, with the reason, on the same case as a resubmission.
	sub := w.submission(w.mysuru(), w.insurer)
	sub.Estimate = "45,000"
	c2, err := w.wf.RequestPreauth(ctx, w.tenant, sub)
	mustNoErr(t, err)
	if c2.ID != c.ID {
		t.Fatalf("resubmission opened case %s", c2.ID)
	}
	rejected := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusRejected })
	if rejected.ApprovedAmount != "0.00" || rejected.RequestedAmount != "45000.00" ||
		rejected.PayerNote != "Waiting period for maternity not over" || rejected.ErrorCode != "a001" {
		t.Errorf("rejected case %+v", rejected)
	}
	second := w.waitReceived(hcx.PathPreauthSubmit, 2)[1]
	items := decodeBundle(t, second.Payload).all("Claim")[0]["item"].([]any)
	if len(items) != 1 {
		t.Errorf("the estimate went as %d items, want one estimated line", len(items))
	}
}

func TestWorkflowQueryAnsweredWithDocuments(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	w.rules(nhcx.Rule{Path: hcx.PathPreauthSubmit, Outcome: nhcx.OutcomeQuery,
		Reason: "Please send the discharge summary of the earlier surgery", Then: nhcx.OutcomeApprove})
	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	queried := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusNeedsDocuments })
	if queried.PayerNote != "Please send the discharge summary of the earlier surgery" {
		t.Errorf("queried case %+v", queried)
	}
	d, err := w.wf.CaseDetail(ctx, w.tenant, c.ID)
	mustNoErr(t, err)
	if len(d.Requests) != 1 || d.Requests[0].Kind != claims.PayerQuery || d.Requests[0].Answered() ||
		d.Requests[0].Question != queried.PayerNote || d.Requests[0].Identifier == "" {
		t.Fatalf("payer requests %+v", d.Requests)
	}
	query := d.Requests[0]

	// The Bengaluru discharge summary, from the gathered evidence, and a
	// scanned letter.
	ev, err := w.wf.Evidence(ctx, w.tenant, w.kavya, w.mysuru())
	mustNoErr(t, err)
	var summary claims.EvidenceDocument
	for _, doc := range claims.EvidenceDocuments(&ev) {
		if doc.Kind == "Discharge summary" && doc.Origin.FacilityHFRID == "IN2910000231" {
			summary = doc
		}
	}
	if summary.Key == "" {
		t.Fatalf("no Bengaluru discharge summary among %+v", claims.EvidenceDocuments(&ev))
	}
	letter := claims.Upload{Name: `C:\scans\consent letter.pdf`, Data: []byte("%PDF-1.4\n% consent letter\n%%EOF\n")}

	// A file that is not a PDF, JPEG or PNG is refused, and nothing is sent.
	_, err = w.wf.AnswerQuery(ctx, w.tenant, claims.QueryAnswer{CaseID: c.ID, MessageID: query.Message.ID,
		Uploads: []claims.Upload{{Name: "notes.docx", Data: []byte("PK\x03\x04 not a pdf")}}, Actor: w.actor})
	var fe *claims.FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "notes.docx, which is not a PDF, JPEG or PNG file") {
		t.Errorf("a .docx upload: %v", err)
	}
	if n := len(w.received(hcx.PathCommunicationOnRequest)); n != 0 {
		t.Fatalf("the refused answer reached the payer %d times", n)
	}

	m, err := w.wf.AnswerQuery(ctx, w.tenant, claims.QueryAnswer{CaseID: c.ID, MessageID: query.Message.ID,
		Evidence: []string{summary.Key}, Uploads: []claims.Upload{letter}, Note: "Summary and consent attached.", Actor: w.actor})
	mustNoErr(t, err)
	if m.Path != hcx.PathCommunicationOnRequest || m.RespondsTo != query.Message.ID {
		t.Errorf("answer %+v", m)
	}
	approved := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })
	if approved.PreauthRef == "" {
		t.Errorf("approved case %+v", approved)
	}
	got := w.waitReceived(hcx.PathCommunicationOnRequest, 1)[0]
	if got.WorkflowID != c.WorkflowID {
		t.Errorf("the answer's workflow id %q, want the case's %q (a private insurer)", got.WorkflowID, c.WorkflowID)
	}
	b := decodeBundle(t, got.Payload)
	comm := b.all("Communication")
	if len(comm) != 1 || !bytes.Contains(got.Payload, []byte(query.Identifier)) ||
		!bytes.Contains(got.Payload, []byte("consent letter.pdf")) || !bytes.Contains(got.Payload, []byte("Kaveri City Hospital")) ||
		!bytes.Contains(got.Payload, []byte("Summary and consent attached.")) {
		t.Errorf("the payer read %s", got.Payload)
	}
	var attachments int
	for _, p := range comm[0]["payload"].([]any) {
		if a, ok := p.(map[string]any)["contentAttachment"]; ok && a.(map[string]any)["data"] != "" {
			attachments++
		}
	}
	if attachments != 2 {
		t.Errorf("the answer carried %d attachments, want 2", attachments)
	}
	d, err = w.wf.CaseDetail(ctx, w.tenant, c.ID)
	mustNoErr(t, err)
	if !d.Requests[0].Answered() {
		t.Error("the query does not show as answered")
	}
}

func TestWorkflowClaimPaidAndAcknowledged(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	w.rules(
		nhcx.Rule{Path: hcx.PathPreauthSubmit, Outcome: nhcx.OutcomeApprove},
		nhcx.Rule{Path: hcx.PathClaimSubmit, Outcome: nhcx.OutcomePartial, Amount: "30000",
			Pay: &nhcx.Payment{UTR: "UTR2025KSG0001", Date: "2025-10-20"}},
	)
	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	pre := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })

	_, err = w.wf.SubmitClaim(ctx, w.tenant, claims.Submission{CaseID: c.ID, Actor: w.actor})
	mustNoErr(t, err)
	paid := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusPaid && c.ApprovedAmount == "30000.00" })
	if paid.UTR != "UTR2025KSG0001" || paid.PaidOn != "2025-10-20" || paid.PaidAmount != "30000.00" {
		t.Errorf("paid case %+v", paid)
	}
	// The final claim is the settlement of the pre-authorisation.
	claim := decodeBundle(t, w.waitReceived(hcx.PathClaimSubmit, 1)[0].Payload).all("Claim")[0]
	raw, _ := json.Marshal(claim)
	if claim["use"] != "claim" || !bytes.Contains(raw, []byte(`"preAuthRef":["`+pre.PreauthRef+`"]`)) || !bytes.Contains(raw, []byte("settlement")) {
		t.Errorf("final claim %s", raw)
	}

	d, err := w.wf.CaseDetail(ctx, w.tenant, c.ID)
	mustNoErr(t, err)
	var notice claims.PayerRequest
	for _, r := range d.Requests {
		if r.Kind == claims.PayerPayment {
			notice = r
		}
	}
	if notice.UTR != "UTR2025KSG0001" || notice.Amount != "30000.00" || notice.PaidOn != "2025-10-20" || notice.Answered() {
		t.Fatalf("payment notice %+v", notice)
	}
	_, err = w.wf.AcknowledgePayment(ctx, w.tenant, c.ID, notice.Message.ID, w.actor)
	mustNoErr(t, err)
	waitFor(t, func() bool {
		ms := w.received(hcx.PathPaymentNoticeOnRequest)
		return len(ms) == 1 && ms[0].Outcome == "payment acknowledged"
	})
	ack := w.received(hcx.PathPaymentNoticeOnRequest)[0]
	if !bytes.Contains(ack.Payload, []byte("paymentack")) || !bytes.Contains(ack.Payload, []byte(notice.Identifier)) {
		t.Errorf("the payer read the acknowledgement %s", ack.Payload)
	}
	if ack.WorkflowID != c.WorkflowID {
		t.Errorf("the acknowledgement's workflow id %q, want the case's %q (a private insurer)", ack.WorkflowID, c.WorkflowID)
	}
	// Twice is refused.
	_, err = w.wf.AcknowledgePayment(ctx, w.tenant, c.ID, notice.Message.ID, w.actor)
	if !errors.Is(err, claims.ErrInvalid) {
		t.Errorf("a second acknowledgement: %v", err)
	}
}

func TestWorkflowClaimCarriesEvidenceFromBothFacilities(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	_, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	got := w.waitReceived(hcx.PathPreauthSubmit, 1)[0]
	b := decodeBundle(t, got.Payload)

	// Diagnoses made in Bengaluru (appendicitis) and Mysuru (breech,
	// gestational diabetes).
	raw, _ := json.Marshal(b.all("Claim")[0]["diagnosis"])
	for _, code := range []string{"K35.8", "O32.1", "O24.4"} {
		if !bytes.Contains(raw, []byte(`"`+code+`"`)) {
			t.Errorf("the claim's diagnoses lack %s: %s", code, raw)
		}
	}
	// Documents with each facility as custodian: both discharge summaries
	// and the Bengaluru ultrasound.
	orgs := map[string]string{}
	for _, o := range b.all("Organization") {
		for _, id := range o["identifier"].([]any) {
			orgs["urn:uuid:"+o["id"].(string)] = id.(map[string]any)["value"].(string)
		}
	}
	custodians := map[string]int{}
	for _, d := range b.all("DocumentReference") {
		custodians[orgs[d["custodian"].(map[string]any)["reference"].(string)]]++
	}
	if custodians["IN2910000231"] < 2 || custodians["IN2910000587"] < 1 {
		t.Errorf("documents by custodian %v, want Bengaluru's summary and ultrasound and Mysuru's summary", custodians)
	}
	// Lab work at both facilities, as text where no report is attached.
	for _, want := range []string{"LabTrack LIMS at Kaveri City Hospital", "LabTrack LIMS at Kaveri Women and Child Hospital"} {
		if !bytes.Contains(got.Payload, []byte(want)) {
			t.Errorf("the claim does not mention %s", want)
		}
	}
}

func TestWorkflowPMJAYWorkflowCodes(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.pmjay))
	mustNoErr(t, err)
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })
	_, err = w.wf.SubmitClaim(ctx, w.tenant, claims.Submission{CaseID: c.ID, Actor: w.actor})
	mustNoErr(t, err)
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Stage == claims.StageClaim && c.Status == claims.StatusApproved })
	pre, claim := w.waitReceived(hcx.PathPreauthSubmit, 1)[0], w.waitReceived(hcx.PathClaimSubmit, 1)[0]
	if pre.WorkflowID != "12" || claim.WorkflowID != "15" {
		t.Errorf("PM-JAY workflow ids: pre-auth %q, claim %q; want 12 and 15", pre.WorkflowID, claim.WorkflowID)
	}
	// The PM-JAY member id stands for the policy.
	if !bytes.Contains(pre.Payload, []byte(w.pmjay.MemberID)) {
		t.Errorf("the pre-auth does not carry the member id %s", w.pmjay.MemberID)
	}
}

func TestWorkflowRefusesWhatIsMissing(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	refused := func(name string, err error, want string) {
		t.Helper()
		var r *claims.Refusal
		if !errors.As(err, &r) || !errors.Is(err, claims.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want a refusal saying %q", name, err, want)
		}
	}

	// Bengaluru bills nothing: its stay cannot be claimed.
	_, err := w.wf.SubmitClaim(ctx, w.tenant, w.submission(w.bengaluru(), w.insurer))
	refused("claim without a bill", err, "no bill recorded for this admission at Kaveri City Hospital")

	// A policy that had lapsed by the stay.
	lapsed := w.insurer
	lapsed.ID, lapsed.PolicyNumber, lapsed.UpdatedBy = "", "KSG/FH/2019/000001", "test"
	lapsed.ValidFrom, lapsed.ValidTo = time.Date(2019, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 3, 31, 0, 0, 0, 0, time.UTC)
	lapsed, err = w.wf.SetCoverage(ctx, w.tenant, lapsed)
	mustNoErr(t, err)
	_, err = w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), lapsed))
	refused("lapsed policy", err, "is not valid on 6 Oct 2025")

	// A payer the facility is not empanelled with.
	_, err = w.svc.SetPayer(ctx, w.tenant, claims.Payer{Code: "1000009999@hcx", Name: "Elsewhere Insurance", SchemeKind: claims.SchemePrivateInsurer, Active: true})
	mustNoErr(t, err)
	other, err := w.wf.SetCoverage(ctx, w.tenant, claims.Coverage{PatientID: w.kavya, PayerCode: "1000009999@hcx", PolicyNumber: "EI-1", UpdatedBy: "test"})
	mustNoErr(t, err)
	_, err = w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), other))
	refused("not empanelled", err, "Kaveri Women and Child Hospital is not empanelled with Elsewhere Insurance")

	// An estimate that is not an amount.
	sub := w.submission(w.mysuru(), w.insurer)
	sub.Estimate = "about fifty thousand"
	_, err = w.wf.RequestPreauth(ctx, w.tenant, sub)
	refused("bad estimate", err, `the estimated amount "about fifty thousand" is not an amount`)

	// An enhancement without an approved pre-authorisation.
	c, err := w.wf.CheckCoverage(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusEligible })
	_, err = w.wf.RequestEnhancement(ctx, w.tenant, claims.Submission{CaseID: c.ID, Reason: "Two more days in hospital", Actor: w.actor})
	refused("enhancement before approval", err, "an enhancement needs a pre-authorisation the payer approved")

	// None of it reached the payer; only the coverage check did.
	for _, p := range []string{hcx.PathPreauthSubmit, hcx.PathClaimSubmit} {
		if n := len(w.received(p)); n != 0 {
			t.Errorf("%d refused requests reached the payer on %s", n, p)
		}
	}
	ms, err := w.svc.Ledger(ctx, w.tenant, claims.LedgerFilter{Direction: claims.Outbound})
	mustNoErr(t, err)
	if len(ms) != 1 || ms[0].Path != hcx.PathCoverageEligibilityCheck {
		t.Errorf("the ledger holds %d outbound messages, want the coverage check only", len(ms))
	}
}

func TestWorkflowEnhancement(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	w.rules(
		nhcx.Rule{Path: hcx.PathPreauthSubmit, Times: 1, Outcome: nhcx.OutcomePartial, Amount: "25000"},
		nhcx.Rule{Path: hcx.PathPreauthSubmit, Times: 1, Outcome: nhcx.OutcomeApprove},
	)
	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	first := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusPartiallyApproved })

	_, err = w.wf.RequestEnhancement(ctx, w.tenant, claims.Submission{CaseID: c.ID, Actor: w.actor})
	var fe *claims.FieldError
	if !errors.As(err, &fe) || fe.Field != "Reason" {
		t.Errorf("an enhancement without a reason: %v", err)
	}
	_, err = w.wf.RequestEnhancement(ctx, w.tenant, claims.Submission{CaseID: c.ID, Estimate: "40000",
		Reason: "Wound infection: three more days of intravenous antibiotics", Actor: w.actor})
	mustNoErr(t, err)
	raised := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })
	if raised.ApprovedAmount != "40000.00" {
		t.Errorf("after the enhancement %+v", raised)
	}
	got := w.waitReceived(hcx.PathPreauthSubmit, 2)[1]
	claim := decodeBundle(t, got.Payload).all("Claim")[0]
	raw, _ := json.Marshal(claim)
	if claim["use"] != "preauthorization" || !bytes.Contains(raw, []byte("enhancement")) ||
		!bytes.Contains(raw, []byte(first.PreauthRef)) || !bytes.Contains(raw, []byte("three more days")) {
		t.Errorf("enhancement %s", raw)
	}
	if got.WorkflowID != c.WorkflowID {
		t.Errorf("enhancement workflow id %q, want the case's %q", got.WorkflowID, c.WorkflowID)
	}
}

// TestWorkflowPayerRequestsMatchedByClaimNumber: a PM-JAY payer starts
// its own requests with its numeric codes as the workflow id and a new
// correlation id, so neither names the case; the claim number the
// request is about (our Claim.identifier, the stay's reference) does, for
// that payer's cases only.
func TestWorkflowPayerRequestsMatchedByClaimNumber(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.pmjay))
	mustNoErr(t, err)
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusApproved })
	provider := w.codes["IN2910000587"]
	trigger := func(tr nhcx.Trigger) string {
		t.Helper()
		tr.Provider = provider
		correlation, err := w.sb.NHCX.Trigger(tr)
		mustNoErr(t, err)
		return correlation
	}
	inbound := func(correlation string) claims.Message {
		t.Helper()
		var got claims.Message
		waitFor(t, func() bool {
			ms, err := w.svc.Ledger(ctx, w.tenant, claims.LedgerFilter{CorrelationID: correlation, Direction: claims.Inbound})
			mustNoErr(t, err)
			if len(ms) == 1 && ms[0].State != claims.StateReceived {
				got = ms[0]
				return true
			}
			return false
		})
		return got
	}

	// A query of its own: code 24 (queried).
	query := trigger(nhcx.Trigger{Path: hcx.PathCommunicationRequest, Payer: demo.PMJAYPayerCode, WorkflowID: "24",
		ClaimID: w.mysuru(), Text: "Please send the operation notes"})
	if m := inbound(query); m.State != claims.StateProcessed || m.CaseID != c.ID {
		t.Fatalf("the PM-JAY query: %s on case %q (%s), want processed on %s", m.State, m.CaseID, m.ErrorMessage, c.ID)
	}
	queried := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusNeedsDocuments })
	if queried.PayerNote != "Please send the operation notes" {
		t.Errorf("queried case %+v", queried)
	}

	// The same claim number from a payer the case is not with, and a
	// claim number of no case, stay unmatched; so does a private
	// insurer's request that names its own case of the stay by claim
	// number only (insurers repeat the case's workflow id).
	insurerCase, err := w.wf.CheckCoverage(ctx, w.tenant, w.submission(w.mysuru(), w.insurer))
	mustNoErr(t, err)
	w.waitCase(insurerCase.ID, func(c claims.Case) bool { return c.Status == claims.StatusEligible })
	for name, tr := range map[string]nhcx.Trigger{
		"another payer":    {Path: hcx.PathCommunicationRequest, Payer: demo.InsurerPayerCode, WorkflowID: "24", ClaimID: w.mysuru()},
		"an unknown claim": {Path: hcx.PathPaymentNoticeRequest, Payer: demo.PMJAYPayerCode, WorkflowID: "30", ClaimID: w.mysuru() + "-other", Amount: "10"},
		"an insurer's":     {Path: hcx.PathPaymentNoticeRequest, Payer: demo.InsurerPayerCode, ClaimID: w.mysuru(), Amount: "10"},
	} {
		if m := inbound(trigger(tr)); m.State != claims.StateUnmatched || m.CaseID != "" {
			t.Errorf("%s: %s on case %q, want unmatched", name, m.State, m.CaseID)
		}
	}

	// A payment notice: code 30 (payment initiated).
	notice := trigger(nhcx.Trigger{Path: hcx.PathPaymentNoticeRequest, Payer: demo.PMJAYPayerCode, WorkflowID: "30",
		ClaimID: w.mysuru(), Amount: "41000", UTR: "UTRPMJAY0001", Date: "2025-10-25"})
	if m := inbound(notice); m.State != claims.StateProcessed || m.CaseID != c.ID {
		t.Fatalf("the PM-JAY payment notice: %s on case %q (%s), want processed on %s", m.State, m.CaseID, m.ErrorMessage, c.ID)
	}
	paid := w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusPaid })
	if paid.UTR != "UTRPMJAY0001" || paid.PaidAmount != "41000.00" || paid.PaidOn != "2025-10-25" {
		t.Errorf("paid case %+v", paid)
	}
}

// TestWorkflowPMJAYAnswersCarryProviderCodes: answers to a PM-JAY
// payer's requests carry the provider codes of reference §11: 19 for a
// query on a pre-authorisation, 151 for a query on the claim, 17 for the
// payment acknowledgement.
func TestWorkflowPMJAYAnswersCarryProviderCodes(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	w.rules(
		nhcx.Rule{Path: hcx.PathPreauthSubmit, Times: 1, Outcome: nhcx.OutcomeQuery, Reason: "Send the admission notes"},
		nhcx.Rule{Path: hcx.PathClaimSubmit, Times: 1, Outcome: nhcx.OutcomeQuery, Reason: "Send the final bill",
			Pay: &nhcx.Payment{UTR: "UTRPMJAY0017", Date: "2025-10-28"}},
	)
	answer := func(c claims.Case) {
		t.Helper()
		d, err := w.wf.CaseDetail(ctx, w.tenant, c.ID)
		mustNoErr(t, err)
		for _, r := range d.Requests {
			if r.Kind == claims.PayerQuery && !r.Answered() {
				_, err := w.wf.AnswerQuery(ctx, w.tenant, claims.QueryAnswer{CaseID: c.ID, MessageID: r.Message.ID,
					Note: "Attached as asked.", Actor: w.actor})
				mustNoErr(t, err)
				return
			}
		}
		t.Fatalf("no open query on case %s: %+v", c.ID, d.Requests)
	}

	c, err := w.wf.RequestPreauth(ctx, w.tenant, w.submission(w.mysuru(), w.pmjay))
	mustNoErr(t, err)
	answer(w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusNeedsDocuments }))
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Stage == claims.StagePreauth && c.Status == claims.StatusApproved })
	_, err = w.wf.SubmitClaim(ctx, w.tenant, claims.Submission{CaseID: c.ID, Actor: w.actor})
	mustNoErr(t, err)
	answer(w.waitCase(c.ID, func(c claims.Case) bool {
		return c.Stage == claims.StageClaim && c.Status == claims.StatusNeedsDocuments
	}))
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusPaid })
	d, err := w.wf.CaseDetail(ctx, w.tenant, c.ID)
	mustNoErr(t, err)
	for _, r := range d.Requests {
		if r.Kind == claims.PayerPayment {
			_, err = w.wf.AcknowledgePayment(ctx, w.tenant, c.ID, r.Message.ID, w.actor)
			mustNoErr(t, err)
		}
	}

	answers := w.waitReceived(hcx.PathCommunicationOnRequest, 2)
	ack := w.waitReceived(hcx.PathPaymentNoticeOnRequest, 1)
	got := []string{answers[0].WorkflowID, answers[1].WorkflowID, ack[0].WorkflowID}
	if want := []string{"19", "151", "17"}; !slices.Equal(got, want) || len(ack) != 1 {
		t.Errorf("workflow ids of the pre-auth query answer, claim query answer and payment acknowledgement: %q, want %q", got, want)
	}
	// The switch read them from the protected header.
	for _, m := range append(answers, ack...) {
		if m.Headers["x-hcx-workflow_id"] != m.WorkflowID {
			t.Errorf("%s: protected header workflow id %v, recorded %q", m.Path, m.Headers["x-hcx-workflow_id"], m.WorkflowID)
		}
	}
}

// TestWorkflowCaseKnowsItsCoverage: a case keeps the coverage it was
// opened for, and later requests on it claim under that coverage even
// when the patient has another with the same payer.
func TestWorkflowCaseKnowsItsCoverage(t *testing.T) {
	w := newBillingWorld(t)
	ctx := context.Background()
	topUp := w.insurer
	topUp.ID, topUp.PolicyNumber, topUp.PlanName, topUp.UpdatedBy = "", "KSG/TU/2025/000777", "Super top-up", "test"
	topUp, err := w.wf.SetCoverage(ctx, w.tenant, topUp)
	mustNoErr(t, err)

	c, err := w.wf.CheckCoverage(ctx, w.tenant, w.submission(w.mysuru(), topUp))
	mustNoErr(t, err)
	if c.CoverageID != topUp.ID {
		t.Fatalf("the case was opened for coverage %q, want %q", c.CoverageID, topUp.ID)
	}
	w.waitCase(c.ID, func(c claims.Case) bool { return c.Status == claims.StatusEligible })

	// The pre-authorisation names only the case: it claims under the
	// top-up, not the patient's first policy with the payer.
	_, err = w.wf.RequestPreauth(ctx, w.tenant, claims.Submission{CaseID: c.ID, Actor: w.actor})
	mustNoErr(t, err)
	pre := w.waitReceived(hcx.PathPreauthSubmit, 1)[0]
	if !bytes.Contains(pre.Payload, []byte(topUp.PolicyNumber)) || bytes.Contains(pre.Payload, []byte(w.insurer.PolicyNumber)) {
		t.Errorf("the pre-authorisation does not claim under the case's coverage %s only", topUp.PolicyNumber)
	}

	// A coverage with another payer cannot open a case with this one, nor
	// one the tenant does not have.
	for name, cov := range map[string]string{"another payer's": w.pmjay.ID, "unknown": "00000000-0000-4000-8000-000000000001"} {
		_, err = w.svc.StartCase(ctx, claims.NewCase{Tenant: w.tenant, Facility: c.Facility, PayerCode: c.PayerCode,
			PatientRef: w.kavya, EncounterRef: w.bengaluru(), CoverageID: cov})
		if !errors.Is(err, claims.ErrInvalid) {
			t.Errorf("a case for %s coverage: %v", name, err)
		}
	}

	// A case opened without a coverage (as before they were kept) takes
	// the one its next request claims under.
	old, err := w.svc.StartCase(ctx, claims.NewCase{Tenant: w.tenant, Facility: w.facility["IN2910000231"],
		PayerCode: w.insurer.PayerCode, PatientRef: w.kavya, EncounterRef: w.bengaluru()})
	mustNoErr(t, err)
	if old.CoverageID != "" {
		t.Fatalf("a case opened without a coverage has %q", old.CoverageID)
	}
	_, err = w.wf.CheckCoverage(ctx, w.tenant, claims.Submission{CaseID: old.ID, CoverageID: w.insurer.ID, Actor: w.actor})
	mustNoErr(t, err)
	if got, err := w.wf.Case(ctx, w.tenant, old.ID); err != nil || got.CoverageID != w.insurer.ID {
		t.Errorf("after a request on it: %v, coverage %q, want %q", err, got.CoverageID, w.insurer.ID)
	}

	// Removing the coverage leaves the case without one.
	_, err = w.db.Owner.Exec(ctx, `DELETE FROM claims_coverages WHERE id = $1`, topUp.ID)
	mustNoErr(t, err)
	if got, err := w.wf.Case(ctx, w.tenant, c.ID); err != nil || got.CoverageID != "" {
		t.Errorf("after the coverage was removed: %v, coverage %q", err, got.CoverageID)
	}
}
