package claims

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/nrces"
)

// step is a message of the workflow, for its PM-JAY workflow code.
type step int

const (
	stepEligibility step = iota
	stepPreauth
	stepPreauthResubmit
	stepEnhancement
	stepClaim
	stepClaimResubmit
	stepPreauthQueryResponse
	stepEnhancementQueryResponse
	stepClaimQueryResponse
	stepPaymentAck
)

// pmjayCodes are the provider-sent x-hcx-workflow_id codes of PM-JAY
// (reference §11, from care_nhcx and NHA's PM-JAY handbook; where the two
// disagree the handbook's numeric code is used). The handbook gives no
// code for an eligibility check; NHA's own samples send "1".
var pmjayCodes = map[step]string{
	stepEligibility:              "1",
	stepPreauth:                  "12",
	stepPreauthResubmit:          "121",
	stepPreauthQueryResponse:     "19",
	stepEnhancement:              "13",
	stepEnhancementQueryResponse: "131",
	stepClaim:                    "15",
	stepClaimResubmit:            "16",
	stepClaimQueryResponse:       "151",
	stepPaymentAck:               "17",
}

// workflowCode is the x-hcx-workflow_id of a step with a payer: PM-JAY's
// numeric code, or "" for the case's own UUID (HCX's meaning of the
// header: one id across the cycles of a case).
func workflowCode(kind SchemeKind, s step) string {
	if kind == SchemePMJAY {
		return pmjayCodes[s]
	}
	return ""
}

// prepared is a request's context: the evidence, the coverage it claims
// under, the payer, and the case when one was named.
type prepared struct {
	ev    Evidence
	cov   Coverage
	payer Payer
	c     *Case
}

// prepare reads what a submission is about: the case, the evidence of its
// encounter and the coverage chosen. A caller that has already read the
// submission's case passes it as known, so it is not read again.
func (w *Workflow) prepare(ctx context.Context, tenant string, sub Submission, known *Case) (*prepared, error) {
	p := &prepared{c: known}
	if p.c == nil && sub.CaseID != "" {
		c, err := w.svc.Case(ctx, tenant, sub.CaseID)
		if err != nil {
			return nil, err
		}
		p.c = &c
	}
	if p.c != nil {
		sub.PatientID, sub.EncounterRef = p.c.PatientRef, p.c.EncounterRef
	}
	var fe fieldErrors
	if strings.TrimSpace(sub.PatientID) == "" {
		fe.add("PatientID", "is required")
	}
	if strings.TrimSpace(sub.EncounterRef) == "" {
		fe.add("EncounterRef", "is required: choose the admission or visit")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	ev, err := w.evidence.Gather(ctx, tenant, sub.PatientID, sub.EncounterRef)
	switch {
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) || errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("gathering the evidence: %w", err)
	case err != nil:
		// The stay's own source did not answer: the desk can try again.
		w.log.WarnContext(ctx, "gathering claim evidence", "encounter", sub.EncounterRef, "error", err.Error())
		return nil, nothingSent("the stay's own record could not be read just now, so nothing can be claimed for it yet; try again in a minute (" +
			clip(err.Error(), 300) + ")")
	}
	p.ev = ev
	if p.cov, err = pickCoverage(ev.Coverages, sub.CoverageID, p.c); err != nil {
		return nil, err
	}
	payers, err := w.svc.Payers(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for _, py := range payers {
		if py.Code == p.cov.PayerCode {
			p.payer = py
		}
	}
	if p.payer.Code == "" {
		return nil, fmt.Errorf("coverage %s names payer %s, which is not on file: %w", p.cov.ID, p.cov.PayerCode, ErrNotFound)
	}
	return p, nil
}

// pickCoverage finds the coverage a request claims under: the one named;
// for a case, the coverage it was opened for, else (a case that does not
// know it) the patient's only coverage with the case's payer.
func pickCoverage(covs []Coverage, id string, c *Case) (Coverage, error) {
	if len(covs) == 0 {
		return Coverage{}, nothingSent("the patient has no insurance coverage on file; add the policy or PM-JAY member id first")
	}
	if id = strings.TrimSpace(id); id != "" {
		for _, cov := range covs {
			if cov.ID == id {
				if c != nil && cov.PayerCode != c.PayerCode {
					return Coverage{}, &FieldError{Field: "CoverageID",
						Problem: fmt.Sprintf("is with %s, but the case is with %s; choose a coverage with the case's payer", cov.PayerName, c.PayerCode)}
				}
				return cov, nil
			}
		}
		return Coverage{}, &FieldError{Field: "CoverageID", Problem: "is not one of the patient's coverages"}
	}
	if c != nil && c.CoverageID != "" {
		for _, cov := range covs {
			if cov.ID == c.CoverageID {
				return cov, nil
			}
		}
	}
	if c != nil {
		var match []Coverage
		for _, cov := range covs {
			if cov.PayerCode == c.PayerCode {
				match = append(match, cov)
			}
		}
		switch len(match) {
		case 1:
			return match[0], nil
		case 0:
			return Coverage{}, nothingSent(fmt.Sprintf("the patient has no coverage on file with %s, the payer of this case", c.PayerCode))
		}
	}
	return Coverage{}, &FieldError{Field: "CoverageID", Problem: "is required: choose the coverage to claim under"}
}

// CheckCoverage asks the payer whether the coverage is in force for the
// encounter (/v1/coverageeligibility/check), opening a case for the
// encounter and payer if none is open.
func (w *Workflow) CheckCoverage(ctx context.Context, tenant string, sub Submission) (Case, error) {
	p, err := w.prepare(ctx, tenant, sub, nil)
	if err != nil {
		return Case{}, err
	}
	// The check is how the desk learns whether the policy is in force, so
	// our own record of its dates and of empanelments does not stop it;
	// only a patient the payer cannot identify does.
	var missing []string
	for _, m := range readiness(&p.ev, p.cov, p.payer, w.now()) {
		if strings.HasPrefix(m, "the patient") {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return Case{}, nothingSent(missing...)
	}
	enc := p.ev.Encounter
	req := &nrces.EligibilityRequest{
		Purposes:     []nrces.EligibilityPurpose{nrces.PurposeValidation, nrces.PurposeBenefits},
		Created:      w.now(),
		ServicedFrom: enc.Start,
		ServicedTo:   enc.End,
		Patient:      bundlePatient(&p.ev),
		Enterer:      staffPractitioner(sub.Actor),
		Provider:     bundleProvider(enc.Origin),
		Insurer:      bundleInsurer(p.payer),
		Coverage:     bundleCoverage(p.cov),
	}
	built, err := w.builder.CoverageEligibilityRequest(ctx, req)
	if err != nil {
		return Case{}, buildRefusal(err, "coverage check")
	}
	if err := w.lookUpCase(ctx, tenant, p); err != nil {
		return Case{}, err
	}
	c, err := w.caseFor(ctx, tenant, p)
	if err != nil {
		return Case{}, err
	}
	return w.send(ctx, tenant, c, hcx.PathCoverageEligibilityCheck, built.JSON, workflowCode(p.payer.SchemeKind, stepEligibility))
}

// RequestPreauth sends a pre-authorisation for the encounter
// (/v1/preauth/submit): diagnoses and procedures from every facility, the
// stay's bill lines or an estimate, and the documents as supporting
// information.
func (w *Workflow) RequestPreauth(ctx context.Context, tenant string, sub Submission) (Case, error) {
	p, err := w.prepare(ctx, tenant, sub, nil)
	if err != nil {
		return Case{}, err
	}
	if err := w.lookUpCase(ctx, tenant, p); err != nil {
		return Case{}, err
	}
	st := stepPreauth
	if c := p.c; c != nil {
		switch {
		case c.Stage == StageClaim || c.Stage == StagePayment:
			return Case{}, nothingSent("the final claim of this case was already submitted; a pre-authorisation cannot follow it")
		case c.Stage == StagePreauth && c.Status == StatusRejected:
			st = stepPreauthResubmit
		}
	}
	req, missing := w.claimRequest(&p.ev, p.cov, p.payer, nrces.ClaimUsePreauthorization, sub)
	if len(missing) > 0 {
		return Case{}, nothingSent(missing...)
	}
	return w.sendClaim(ctx, tenant, p, req, "pre-authorisation", hcx.PathPreauthSubmit, st)
}

// RequestEnhancement asks the payer to raise an approved
// pre-authorisation (a pre-authorisation related to it as enhancement,
// with its reference), with the reason given.
func (w *Workflow) RequestEnhancement(ctx context.Context, tenant string, sub Submission) (Case, error) {
	sub.Reason = strings.TrimSpace(sub.Reason)
	if sub.CaseID == "" {
		return Case{}, &FieldError{Field: "CaseID", Problem: "is required: an enhancement raises a case's pre-authorisation"}
	}
	if sub.Reason == "" {
		return Case{}, &FieldError{Field: "Reason", Problem: "is required: say why more is needed (e.g. a longer stay, a further procedure)"}
	}
	c, err := w.svc.Case(ctx, tenant, sub.CaseID)
	if err != nil {
		return Case{}, err
	}
	if c.PreauthRef == "" || c.Stage != StagePreauth || (c.Status != StatusApproved && c.Status != StatusPartiallyApproved) {
		return Case{}, nothingSent("an enhancement needs a pre-authorisation the payer approved; this case has none (" + statusWords(c) + ")")
	}
	p, err := w.prepare(ctx, tenant, sub, &c)
	if err != nil {
		return Case{}, err
	}
	req, missing := w.claimRequest(&p.ev, p.cov, p.payer, nrces.ClaimUsePreauthorization, sub)
	if len(missing) > 0 {
		return Case{}, nothingSent(missing...)
	}
	req.PreAuthRef = c.PreauthRef
	req.Related = []nrces.RelatedClaim{{Relationship: "enhancement", Identifier: req.Identifier}}
	built, err := w.builder.Claim(ctx, req)
	if err != nil {
		return Case{}, buildRefusal(err, "enhancement")
	}
	return w.send(ctx, tenant, *p.c, hcx.PathPreauthSubmit, built.JSON, workflowCode(p.payer.SchemeKind, stepEnhancement))
}

// SubmitClaim sends the final claim from the stay's bill (/v1/claim/submit),
// related to the case's pre-authorisation as its settlement when there is
// one.
func (w *Workflow) SubmitClaim(ctx context.Context, tenant string, sub Submission) (Case, error) {
	sub.Estimate = "" // a final claim is the bill, never an estimate
	p, err := w.prepare(ctx, tenant, sub, nil)
	if err != nil {
		return Case{}, err
	}
	if err := w.lookUpCase(ctx, tenant, p); err != nil {
		return Case{}, err
	}
	st := stepClaim
	if c := p.c; c != nil {
		switch {
		case c.Stage == StagePayment:
			return Case{}, nothingSent("the payer has already paid this case")
		case c.Stage == StageClaim && c.Status == StatusRejected:
			st = stepClaimResubmit
		case c.Stage == StageClaim && c.Status != StatusFailed:
			return Case{}, nothingSent("the final claim of this case was already submitted (" + statusWords(*c) + ")")
		}
	}
	req, missing := w.claimRequest(&p.ev, p.cov, p.payer, nrces.ClaimUseClaim, sub)
	if len(missing) > 0 {
		return Case{}, nothingSent(missing...)
	}
	if p.c != nil && p.c.PreauthRef != "" {
		req.PreAuthRef = p.c.PreauthRef
		req.Related = []nrces.RelatedClaim{{Relationship: "settlement", Identifier: req.Identifier}}
	}
	return w.sendClaim(ctx, tenant, p, req, "claim", hcx.PathClaimSubmit, st)
}

// sendClaim builds a pre-authorisation or claim and queues it at path on
// the request's case (caseFor).
func (w *Workflow) sendClaim(ctx context.Context, tenant string, p *prepared, req *nrces.ClaimRequest, what, path string, st step) (Case, error) {
	built, err := w.builder.Claim(ctx, req)
	if err != nil {
		return Case{}, buildRefusal(err, what)
	}
	c, err := w.caseFor(ctx, tenant, p)
	if err != nil {
		return Case{}, err
	}
	return w.send(ctx, tenant, c, path, built.JSON, workflowCode(p.payer.SchemeKind, st))
}

// lookUpCase sets p.c to the encounter's open case with the payer when
// the request named no case (openCase). It runs once per request: caseFor
// relies on it rather than asking again.
func (w *Workflow) lookUpCase(ctx context.Context, tenant string, p *prepared) error {
	if p.c != nil {
		return nil
	}
	c, err := w.openCase(ctx, tenant, p)
	if err != nil {
		return err
	}
	p.c = c
	return nil
}

// openCase finds the encounter's case with the payer that is still open
// (not paid), most recently updated first; nil when there is none.
func (w *Workflow) openCase(ctx context.Context, tenant string, p *prepared) (*Case, error) {
	cs, err := w.svc.Cases(ctx, tenant, CaseFilter{PatientRef: p.ev.PatientID, EncounterRef: p.ev.EncounterRef})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.PayerCode == p.payer.Code && c.Status != StatusPaid {
			return &c, nil
		}
	}
	return nil, nil
}

// caseFor is the case a request goes on: the one named or open (p.c,
// after lookUpCase), else a new one for the encounter's facility, patient,
// payer and coverage. A case that does not know its coverage yet (opened
// before coverages were kept, or whose coverage was removed) takes the
// request's.
func (w *Workflow) caseFor(ctx context.Context, tenant string, p *prepared) (Case, error) {
	if p.c != nil {
		if p.c.CoverageID == "" && p.cov.ID != "" {
			c, err := w.svc.setCaseCoverage(ctx, tenant, p.c.ID, p.cov.ID)
			if err != nil {
				return Case{}, err
			}
			p.c = &c
		}
		return *p.c, nil
	}
	enc := p.ev.Encounter
	c, err := w.svc.StartCase(ctx, NewCase{
		Tenant: tenant, Facility: enc.FacilityID, PayerCode: p.payer.Code,
		PatientRef: p.ev.PatientID, EncounterRef: p.ev.EncounterRef, BenABHAID: abhaDigits(p.ev.Patient.ABHANumber),
		CoverageID: p.cov.ID,
	})
	if errors.Is(err, ErrInvalid) && strings.Contains(err.Error(), "no NHCX participant code") {
		return Case{}, nothingSent(enc.FacilityName + " is not an NHCX participant yet: its participant code must be registered (`sangam nhcx register`) before it can claim")
	}
	if err != nil {
		return Case{}, err
	}
	return c, nil
}

// send queues the request on the case, unless the case is waiting for an
// answer to an earlier one: two requests in flight would leave the desk
// unsure which answer is which.
func (w *Workflow) send(ctx context.Context, tenant string, c Case, path string, payload []byte, workflow string) (Case, error) {
	if c.Status == StatusSending || c.Status == StatusAwaitingResponse {
		return Case{}, nothingSent("the payer has not answered this case's last request yet (" + statusWords(c) + "); wait for the answer before sending another")
	}
	if _, err := w.svc.Send(ctx, tenant, Request{CaseID: c.ID, Path: path, Payload: payload, WorkflowID: workflow}); err != nil {
		return Case{}, err
	}
	w.log.InfoContext(ctx, "nhcx request queued", "case", c.ID, "path", path)
	return w.svc.Case(ctx, tenant, c.ID)
}

// staffPractitioner is the staff member entering a request, identified
// by their sign-in subject.
func staffPractitioner(a Actor) nrces.Practitioner {
	return nrces.Practitioner{Name: cmp.Or(a.Name, "Billing desk"), Identifiers: []nrces.Identifier{{
		Type: idTypePRN, System: staffSystem, Value: cmp.Or(a.ID, "billing"),
	}}}
}

// abhaDigits is an ABHA number as x-hcx-ben-abha-id wants it: 14 digits
// without hyphens; "" when it is not one.
func abhaDigits(n string) string {
	d := strings.ReplaceAll(strings.ReplaceAll(n, "-", ""), " ", "")
	if len(d) != 14 {
		return ""
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return d
}

// buildRefusal turns the builder's refusals into a Refusal: nothing is
// sent, and the desk learns what the bundle lacked.
func buildRefusal(err error, what string) error {
	var rej *nrces.RejectedError
	if errors.As(err, &rej) {
		r := &Refusal{Reasons: []string{"the " + what + " failed the NRCeS quality check"}, Findings: rej.Findings}
		n := 0
		for _, f := range rej.Findings {
			if f.Severity == nrces.SeverityError && n < 10 {
				r.Reasons = append(r.Reasons, f.Location+": "+f.Message)
				n++
			}
		}
		return r
	}
	if errors.Is(err, nrces.ErrInvalidDocument) {
		msg := err.Error()
		if i := strings.Index(msg, nrces.ErrInvalidDocument.Error()+": "); i >= 0 {
			msg = msg[i+len(nrces.ErrInvalidDocument.Error())+2:]
		}
		return nothingSent("the " + what + " could not be put together: " + strings.ReplaceAll(msg, "\n", "; "))
	}
	return fmt.Errorf("building the %s: %w", what, err)
}

// statusWords says where a case is, for refusals.
func statusWords(c Case) string {
	s := strings.ReplaceAll(string(c.Status), "_", " ")
	if c.Stage != StageNone {
		s = string(c.Stage) + " " + s
	}
	return s
}
