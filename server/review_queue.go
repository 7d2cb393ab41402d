package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// The patient review page: pairs of records the patient index could not
// decide on, for the front desk or an administrator to merge or keep
// apart, and recent merges to undo.

const (
	reviewPath     = "/patients/review"
	maxReasonChars = 500
)

// reviewIndex is what the review page needs from the patient index.
type reviewIndex interface {
	ReviewQueue(ctx context.Context, tenant string, limit int) ([]patients.ReviewItem, error)
	Merges(ctx context.Context, tenant string, limit int) ([]patients.MergeEvent, error)
	DecideReview(ctx context.Context, tenant string, id int64, d patients.ReviewDecision) (patients.ReviewItem, error)
	Unmerge(ctx context.Context, tenant, mergedID, actor, reason string) (patients.MergeEvent, error)
}

// patientIndex is the index on the application pool. It holds nothing
// but its thresholds, so making one per request costs nothing.
func (s *Server) patientIndex() reviewIndex { return patients.New(s.pool, patients.Config{}) }

func (s *Server) showReviewQueue(c *fiber.Ctx) error {
	return s.renderReviewQueue(c, fiber.StatusOK, views.ReviewQueue{Notice: reviewNotice(c.Query("notice"))}, 0, "")
}

// renderReviewQueue shows the page; failed and reason refill the form of
// a refused decision, whose message v carries in the matching case.
func (s *Server) renderReviewQueue(c *fiber.Ctx, status int, v views.ReviewQueue, failed int64, formErr string) error {
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	ix := s.patientIndex()
	items, err := ix.ReviewQueue(ctx, tenant, 50)
	if err != nil {
		return err
	}
	merges, err := ix.Merges(ctx, tenant, 20)
	if err != nil {
		return err
	}
	page := reviewQueueModel(items, merges)
	page.Notice, page.Error = v.Notice, v.Error
	for i := range page.Cases {
		if page.Cases[i].ID == strconv.FormatInt(failed, 10) {
			page.Cases[i].Error, page.Cases[i].Reason = formErr, c.FormValue("reason")
		}
	}
	return render(c, status, views.ReviewQueuePage(s.pageFor(c, "Patient review", roleFrontDesk.home()), page))
}

// decideReview records "same person" (a merge) or "different people".
func (s *Server) decideReview(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "There is no such review item.")
	}
	decision := c.FormValue("decision")
	reason := strings.Clone(strings.TrimSpace(c.FormValue("reason")))
	if msg := reasonError(reason); msg != "" || decision != "same" && decision != "different" {
		if msg == "" {
			msg = "Choose “Same person” or “Different people”."
		}
		return s.renderReviewQueue(c, fiber.StatusUnprocessableEntity, views.ReviewQueue{}, id, msg)
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	_, err = s.patientIndex().DecideReview(ctx, st.TenantID, id, patients.ReviewDecision{Same: decision == "same", Actor: actorOf(st), Reason: reason})
	if err != nil {
		return patientsError(err)
	}
	if err := s.audit(c, "patients.review_decided", map[string]any{"review_id": id, "decision": decision}); err != nil {
		return err
	}
	notice := "distinct"
	if decision == "same" {
		notice = "merged"
	}
	return c.Redirect(reviewPath+"?notice="+notice, fiber.StatusSeeOther)
}

// unmergePatient undoes the merge that merged the patient away.
func (s *Server) unmergePatient(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	reason := strings.Clone(strings.TrimSpace(c.FormValue("reason")))
	if msg := reasonError(reason); msg != "" {
		return s.renderReviewQueue(c, fiber.StatusUnprocessableEntity, views.ReviewQueue{Error: "Not undone. " + msg}, 0, "")
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	ev, err := s.patientIndex().Unmerge(ctx, st.TenantID, id, actorOf(st), reason)
	if err != nil {
		return patientsError(err)
	}
	if err := s.audit(c, "patients.unmerged", map[string]any{"patient_id": id, "merge_id": ev.Reverses}); err != nil {
		return err
	}
	return c.Redirect(reviewPath+"?notice=unmerged", fiber.StatusSeeOther)
}

func reasonError(reason string) string {
	switch {
	case reason == "":
		return "Give a reason: it is kept with the decision."
	case len([]rune(reason)) > maxReasonChars:
		return fmt.Sprintf("Keep the reason under %d characters.", maxReasonChars)
	}
	return ""
}

// actorOf names the person deciding in the merge history.
func actorOf(st *staff) string {
	if st.Username != "" {
		return st.Username
	}
	return st.Subject
}

// patientsError maps the index's errors to what the user sees.
func patientsError(err error) error {
	switch {
	case errors.Is(err, patients.ErrNotFound):
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "That review item or patient does not exist. It may have been removed; reload the review page.", err: err}
	case errors.Is(err, patients.ErrConflict):
		return &problem{status: fiber.StatusConflict, title: "Nothing was changed", message: "Someone has already decided this, or a later merge must be undone first. Reload the review page to see where things stand.", err: err}
	case errors.Is(err, patients.ErrInvalid):
		return &problem{status: fiber.StatusUnprocessableEntity, title: "Nothing was changed", message: "The request was incomplete. Reload the review page and try again.", err: err}
	}
	return err
}

func reviewNotice(code string) string {
	switch code {
	case "merged":
		return "Merged. The two patients are now one, with all their records; the merge is listed below in case it needs undoing."
	case "distinct":
		return "Recorded as different people. They will not be offered for review again."
	case "unmerged":
		return "Merge undone. Each patient has their own records again."
	}
	return ""
}

func reviewQueueModel(items []patients.ReviewItem, merges []patients.MergeEvent) views.ReviewQueue {
	var v views.ReviewQueue
	for _, it := range items {
		id := strconv.FormatInt(it.ID, 10)
		v.Cases = append(v.Cases, views.ReviewCase{
			ID:       id,
			Action:   reviewPath + "/" + id,
			Why:      reviewWhy(it),
			Raised:   clock(it.CreatedAt),
			Existing: patientCardModel("Patient already known", it.Existing),
			Incoming: patientCardModel("Patient of the new record", it.Incoming),
			Evidence: evidenceRows(it.Evidence),
		})
	}
	for _, m := range merges {
		v.Merges = append(v.Merges, views.MergeRow{
			When:       clock(m.At),
			Who:        m.Actor,
			Why:        m.Reason,
			MergedName: m.MergedName,
			Records:    strconv.Itoa(len(m.Links)),
			UnmergeURL: "/patients/" + m.MergedID + "/unmerge",
		})
	}
	return v
}

func reviewWhy(it patients.ReviewItem) string {
	score := strconv.FormatFloat(it.Score, 'f', 1, 64)
	switch it.Method {
	case "abha_number":
		return "Same ABHA number, but details that disagree (score " + score + ")"
	case "abha_address":
		return "Same ABHA address, but details that disagree (score " + score + ")"
	}
	return "Similar details (score " + score + ")"
}

func patientCardModel(heading string, p patients.Patient) views.PatientCard {
	c := views.PatientCard{
		Heading: heading,
		Name:    p.Summary.Name,
		Gender:  genderLabel(p.Summary.Gender),
		Birth:   p.Summary.Birth(),
		Mobile:  p.Summary.Mobile,
		PinCode: p.Summary.PinCode,
		Address: p.Summary.Address,
	}
	for _, id := range p.Identifiers {
		a := id.Value
		if id.Kind == "abha_number" {
			a = patients.FormatABHANumber(a)
		}
		if id.Verified {
			a += " (verified)"
		}
		c.ABHA = append(c.ABHA, a)
	}
	for _, l := range p.Links {
		c.Records = append(c.Records, views.RecordRef{Facility: l.FacilityName, System: l.SourceName, LocalID: l.LocalID})
	}
	return c
}

func genderLabel(g string) string {
	switch g {
	case "M":
		return "Male"
	case "F":
		return "Female"
	case "O":
		return "Other"
	}
	return ""
}

var (
	fieldLabels = map[string]string{
		patients.FieldName: "Name", patients.FieldBirth: "Birth", patients.FieldGender: "Gender",
		patients.FieldMobile: "Mobile", patients.FieldPinCode: "PIN code",
		patients.FieldABHANumber: "ABHA number", patients.FieldABHAAddress: "ABHA address",
	}
	outcomeLabels = map[string]string{
		"same": "Same", "spelling_variant": "Spelling variant", "typo": "Typing error", "initials": "Initials",
		"subset": "Part of the name", "partial": "Partly the same", "conflict": "Different", "none": "Different",
		"missing": "Missing on one side", "day_month_swapped": "Day and month swapped", "one_digit": "One digit apart",
		"close": "One or two digits apart", "same_year": "Same year", "same_year_other_date": "Same year, other date",
		"differs": "Different",
	}
)

func evidenceRows(ev []patients.Evidence) []views.EvidenceRow {
	rows := make([]views.EvidenceRow, 0, len(ev))
	for _, e := range ev {
		r := views.EvidenceRow{
			Field:    labelOr(fieldLabels, e.Field),
			Existing: e.Left,
			Incoming: e.Right,
			Outcome:  labelOr(outcomeLabels, e.Outcome),
			Weight:   strconv.FormatFloat(e.Weight, 'f', -1, 64),
			Differs:  e.Weight < 0,
		}
		if e.Field == patients.FieldGender {
			r.Existing, r.Incoming = genderLabel(e.Left), genderLabel(e.Right)
		}
		switch {
		case e.Weight > 0:
			r.Weight = "+" + r.Weight
		case e.Weight < 0:
			r.Weight = "−" + strings.TrimPrefix(r.Weight, "-")
		}
		rows = append(rows, r)
	}
	return rows
}

func labelOr(m map[string]string, k string) string {
	if l, ok := m[k]; ok {
		return l
	}
	return k
}
