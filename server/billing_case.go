package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/views"
)

// sentNotices confirm what a case page was reached after.
var sentNotices = map[string]string{
	"check":       "The coverage check is on its way to the payer. This page shows the answer when it comes.",
	"preauth":     "The pre-authorisation request is on its way to the payer. This page shows the decision when it comes.",
	"claim":       "The final claim is on its way to the payer. This page shows the decision and the payment when they come.",
	"enhancement": "The enhancement request is on its way to the payer.",
	"answer":      "Your answer is on its way to the payer.",
	"ack":         "The payment acknowledgement is on its way to the payer.",
	"replay":      "The message is being sent again.",
}

// billingCaseID reads the :id parameter.
func billingCaseID(c *fiber.Ctx) (string, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return "", &problem{status: fiber.StatusNotFound, title: "Not found", message: "There is no such case at your facilities."}
	}
	return id.String(), nil
}

// caseInScope reads a case of one of the user's facilities; others are
// not found, as if they did not exist.
func (s *Server) caseInScope(ctx context.Context, id string) (claims.CaseDetail, map[string]facility, error) {
	st := staffFrom(ctx)
	d, err := s.billing.CaseDetail(ctx, st.TenantID, id)
	if err != nil {
		return d, nil, billingNotFound(err, "case")
	}
	scope, err := s.billingScope(ctx)
	if err != nil {
		return d, nil, err
	}
	if _, ok := scope[d.Facility]; !ok {
		return d, nil, billingNotFound(claims.ErrNotFound, "case")
	}
	return d, scope, nil
}

// showBillingCase is the case page.
func (s *Server) showBillingCase(c *fiber.Ctx) error {
	id, err := billingCaseID(c)
	if err != nil {
		return err
	}
	v, err := s.billingCaseModel(c.UserContext(), id, caseForms{})
	if err != nil {
		return err
	}
	v.Notice = sentNotices[c.Query("sent")]
	return render(c, fiber.StatusOK, views.BillingCasePage(s.pageFor(c, v.Title, roleBilling.home()), v))
}

// showBillingCaseStatus is the polled status. When the case changed since
// the page showed it (seen), htmx reloads the page, so the new decision,
// question or payment comes with its forms.
func (s *Server) showBillingCaseStatus(c *fiber.Ctx) error {
	id, err := billingCaseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	d, _, err := s.caseInScope(ctx, id)
	if err != nil {
		return err
	}
	if seen := c.Query("seen"); seen != "" && seen != strconv.FormatInt(d.UpdatedAt.UnixNano(), 10) {
		c.Set("HX-Refresh", "true")
	}
	return render(c, fiber.StatusOK, views.BillingCaseStatusView(caseStatusModel(d, staffFrom(ctx).CSRFToken)))
}

// caseForms are the case page's forms as typed, to show again with what
// was wrong.
type caseForms struct {
	errors      []string
	enhancement views.EnhancementForm
	// answering is the query answered, with its problems, note and the
	// documents chosen.
	answering     int64
	answerErrors  []string
	answerNote    string
	answerChecked []string
}

// billingCaseModel fills the case page.
func (s *Server) billingCaseModel(ctx context.Context, id string, forms caseForms) (views.BillingCase, error) {
	st := staffFrom(ctx)
	d, scope, err := s.caseInScope(ctx, id)
	if err != nil {
		return views.BillingCase{}, err
	}
	patient := "Patient " + d.PatientRef
	if p, err := s.patientsReader().Patient(ctx, st.TenantID, d.PatientRef); err == nil && p.Summary.Name != "" {
		patient = p.Summary.Name
	}
	payer, scheme := d.PayerCode, ""
	payers, err := s.billing.Payers(ctx, st.TenantID)
	if err != nil {
		return views.BillingCase{}, err
	}
	for _, p := range payers {
		if p.Code == d.PayerCode {
			payer, scheme = p.Name, labelOr(schemeLabelsText, string(p.SchemeKind))
		}
	}
	v := views.BillingCase{
		Title:       "Claim for " + patient + " with " + payer,
		PatientName: patient, PatientURL: billingPatientURL(d.PatientRef), EncounterURL: billingEncounterURL(d.PatientRef, d.EncounterRef),
		Facility: scope[d.Facility].Name, Encounter: encounterLabel(d.EncounterRef), Payer: payer, Scheme: scheme,
		WorkflowID: d.WorkflowID, Errors: forms.errors, Enhancement: forms.enhancement,
		Status: caseStatusModel(d, st.CSRFToken), Ledger: ledgerRows(d.ID, d.Ledger),
	}

	var docs []claims.EvidenceDocument
	var docsProblem string
	if slices.ContainsFunc(d.Requests, func(r claims.PayerRequest) bool { return r.Kind == claims.PayerQuery && !r.Answered() }) {
		ev, err := s.billing.Evidence(ctx, st.TenantID, d.PatientRef, d.EncounterRef)
		if err != nil {
			s.log.WarnContext(ctx, "gathering documents for a payer's query", "case", d.ID, "error", err.Error())
			docsProblem = "The patient's records could not be read just now, so their documents are not offered; upload the documents instead, or reload the page."
		} else {
			docs = claims.EvidenceDocuments(&ev)
		}
	}
	limits := s.billing.UploadLimits()
	for _, r := range d.Requests {
		mid := strconv.FormatInt(r.Message.ID, 10)
		switch r.Kind {
		case claims.PayerQuery:
			q := views.BillingQuery{Question: cmp.Or(r.Question, "The payer asked for more information without saying what."),
				Received: shortClock(r.Message.CreatedAt), Action: billingCaseURL(d.ID) + "/answer", MessageID: mid,
				Limits: fmt.Sprintf("PDF, JPEG or PNG files, up to %s each and %s together, at most %d files.",
					sizeText(limits.PerFile), sizeText(limits.Total), limits.Files)}
			if r.Answered() {
				last := r.Answers[len(r.Answers)-1]
				q.Answered = "on " + shortClock(last.CreatedAt) + " (" + strings.ToLower(messageStates[last.State].Label) + ")"
			}
			if docsProblem != "" {
				q.Errors = []string{docsProblem}
			}
			if forms.answering == r.Message.ID {
				q.Errors, q.Note = append(q.Errors, forms.answerErrors...), forms.answerNote
			}
			for _, doc := range docs {
				label := doc.Kind + ": " + doc.Title + " — " + doc.Origin.FacilityName
				if !doc.Date.IsZero() {
					label += ", " + dateText(doc.Date)
				}
				label += " (" + attachmentKind(doc.ContentType) + ", " + sizeText(doc.Size) + ")"
				q.Documents = append(q.Documents, views.Choice{Value: doc.Key, Label: label, Checked: slices.Contains(forms.answerChecked, doc.Key)})
			}
			v.Queries = append(v.Queries, q)
		case claims.PayerPayment:
			pay := views.BillingPayment{Amount: money(r.Amount, r.Currency), PaidOn: dayText(r.PaidOn), UTR: r.UTR,
				Received: shortClock(r.Message.CreatedAt), Action: billingCaseURL(d.ID) + "/acknowledge", MessageID: mid}
			if r.Answered() {
				last := r.Answers[len(r.Answers)-1]
				pay.Acknowledged = "on " + shortClock(last.CreatedAt) + " (" + strings.ToLower(messageStates[last.State].Label) + ")"
			}
			v.Payments = append(v.Payments, pay)
		}
	}

	waiting := d.Status == claims.StatusSending || d.Status == claims.StatusAwaitingResponse
	switch {
	case waiting:
	case d.Stage == claims.StagePreauth && (d.Status == claims.StatusApproved || d.Status == claims.StatusPartiallyApproved):
		v.ClaimAction = billingCaseURL(d.ID) + "/claim"
		if d.PreauthRef != "" {
			v.EnhanceAction = billingCaseURL(d.ID) + "/enhancement"
		}
	case d.Stage == claims.StageClaim && d.Status == claims.StatusRejected:
		v.ClaimAction = billingCaseURL(d.ID) + "/claim"
	case d.Stage == claims.StageNone || d.Stage == claims.StageCoverageEligibility ||
		(d.Stage == claims.StagePreauth && (d.Status == claims.StatusRejected || d.Status == claims.StatusFailed)):
		v.PreauthURL = billingEncounterURL(d.PatientRef, d.EncounterRef) + "&payer=" + url.QueryEscape(d.PayerCode)
		if d.CoverageID != "" {
			// The case's own policy, preselected.
			v.PreauthURL += "&coverage=" + url.QueryEscape(d.CoverageID)
		}
	}
	return v, nil
}

func attachmentKind(ct string) string {
	return cmp.Or(map[string]string{"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[ct], ct)
}

// renderCaseWith shows the case page again with the forms as typed.
func (s *Server) renderCaseWith(c *fiber.Ctx, id string, forms caseForms) error {
	v, err := s.billingCaseModel(c.UserContext(), id, forms)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusBadRequest, views.BillingCasePage(s.pageFor(c, v.Title, roleBilling.home()), v))
}

// caseAction runs one of the case page's requests: it checks the case is
// the user's, then does the work; a refusal comes back on the page.
func (s *Server) caseAction(c *fiber.Ctx, sent string, do func(ctx context.Context, tenant, id string) error, forms caseForms) error {
	id, err := billingCaseID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, _, err := s.caseInScope(ctx, id); err != nil {
		return err
	}
	err = do(ctx, staffFrom(ctx).TenantID, id)
	if err == nil {
		s.auditBilling(ctx, "billing."+sent, map[string]any{"case": id})
		return c.Redirect(billingCaseURL(id)+"?sent="+sent, fiber.StatusSeeOther)
	}
	problems, ok := refusalText(err)
	if !ok {
		return err
	}
	if forms.answering != 0 {
		forms.answerErrors = problems
	} else {
		forms.errors = problems
	}
	return s.renderCaseWith(c, id, forms)
}

func (s *Server) submitBillingClaim(c *fiber.Ctx) error {
	actor := billingActor(staffFrom(c.UserContext()))
	return s.caseAction(c, "claim", func(ctx context.Context, tenant, id string) error {
		_, err := s.billing.SubmitClaim(ctx, tenant, claims.Submission{CaseID: id, Actor: actor})
		return err
	}, caseForms{})
}

func (s *Server) requestBillingEnhancement(c *fiber.Ctx) error {
	form := views.EnhancementForm{Estimate: strings.Clone(strings.TrimSpace(c.FormValue("estimate"))), Reason: strings.Clone(c.FormValue("reason"))}
	actor := billingActor(staffFrom(c.UserContext()))
	return s.caseAction(c, "enhancement", func(ctx context.Context, tenant, id string) error {
		_, err := s.billing.RequestEnhancement(ctx, tenant, claims.Submission{CaseID: id, Estimate: form.Estimate, Reason: form.Reason, Actor: actor})
		return err
	}, caseForms{enhancement: form})
}

func (s *Server) acknowledgeBillingPayment(c *fiber.Ctx) error {
	mid, err := strconv.ParseInt(c.FormValue("message"), 10, 64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "Acknowledge a payment notice from its case page.")
	}
	actor := billingActor(staffFrom(c.UserContext()))
	return s.caseAction(c, "ack", func(ctx context.Context, tenant, id string) error {
		_, err := s.billing.AcknowledgePayment(ctx, tenant, id, mid, actor)
		return err
	}, caseForms{})
}

func (s *Server) replayBillingMessage(c *fiber.Ctx) error {
	mid, err := strconv.ParseInt(c.Params("mid"), 10, 64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "Send a message again from its case page.")
	}
	return s.caseAction(c, "replay", func(ctx context.Context, tenant, id string) error {
		_, err := s.billing.Replay(ctx, tenant, id, mid)
		if errors.Is(err, claims.ErrNotReplayable) {
			return &claims.Refusal{Reasons: []string{"this message cannot be sent again: it is still being sent, or it was one the payer sent us"}}
		}
		return err
	}, caseForms{})
}

// answerBillingQuery sends documents for a payer's query: those chosen
// from the records and those uploaded (multipart form).
func (s *Server) answerBillingQuery(c *fiber.Ctx) error {
	mf, err := c.MultipartForm()
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "Send the answer from the case page's form.")
	}
	first := func(k string) string {
		if vs := mf.Value[k]; len(vs) > 0 {
			return strings.Clone(vs[0])
		}
		return ""
	}
	mid, err := strconv.ParseInt(first("message"), 10, 64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "Answer a query from its case page.")
	}
	forms := caseForms{answering: mid, answerNote: first("note")}
	for _, k := range mf.Value["document"] {
		forms.answerChecked = append(forms.answerChecked, strings.Clone(k))
	}
	limits := s.billing.UploadLimits()
	var uploads []claims.Upload
	for _, fh := range mf.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // the empty part a browser sends when no file is chosen
		}
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("opening upload: %w", err)
		}
		// Read one byte past the limit: enough for the workflow to say the
		// file is too large without holding all of it.
		data, err := io.ReadAll(io.LimitReader(f, int64(limits.PerFile)+1))
		f.Close()
		if err != nil {
			return fmt.Errorf("reading upload: %w", err)
		}
		uploads = append(uploads, claims.Upload{Name: strings.Clone(fh.Filename), Data: data})
	}
	actor := billingActor(staffFrom(c.UserContext()))
	return s.caseAction(c, "answer", func(ctx context.Context, tenant, id string) error {
		_, err := s.billing.AnswerQuery(ctx, tenant, claims.QueryAnswer{CaseID: id, MessageID: mid, Evidence: forms.answerChecked,
			Uploads: uploads, Note: forms.answerNote, Actor: actor})
		return err
	}, forms)
}
