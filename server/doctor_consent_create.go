package server

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/views"
)

// createConsentRequest sends a consent request from the form. A form that
// does not validate comes back filled in with what is wrong.
func (s *Server) createConsentRequest(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	now := time.Now()
	form, types := consentFormFrom(c)
	req, problems := consentRequestOf(form, types, now)
	req.RequesterName = st.displayName()
	facility, err := s.requestingFacility(c, st)
	if err != nil {
		return err
	}
	if facility == "" {
		problems = append(problems, "You are not attached to a facility of this group, and a consent request is made by a facility.")
	}
	if len(problems) == 0 {
		_, err = s.hiu.CreateConsentRequest(ctx, st.TenantID, facility, req)
		if err == nil {
			return c.Redirect(consentsPath+"?created=1", fiber.StatusSeeOther)
		}
		if errors.Is(err, hiu.ErrNotFound) || strings.Contains(err.Error(), "invalid consent request") {
			problems = append(problems, consentErrorText(err))
		} else {
			return err
		}
	}
	v := views.ConsentsPage{Form: form, Errors: problems, HITypes: hiTypeChoicesFrom(types)}
	if form.Patient != "" {
		v.Matches = []views.Choice{{Value: form.Patient, Label: patientChoiceLabel(form.Patient), Checked: true}}
	}
	return s.renderConsents(c, fiber.StatusBadRequest, v, now)
}

// requestingFacility is the first of the user's facilities: the one whose
// HIU id the request carries.
func (s *Server) requestingFacility(c *fiber.Ctx, st *staff) (string, error) {
	fs, err := s.facilitiesOf(c.UserContext(), st)
	if err != nil || len(fs) == 0 {
		return "", err
	}
	return fs[0].ID, nil
}

// consentFormFrom copies the form out of Fiber's borrowed buffers.
func consentFormFrom(c *fiber.Ctx) (views.ConsentForm, []string) {
	f := views.ConsentForm{
		Patient:     strings.Clone(strings.TrimSpace(c.FormValue("patient"))),
		ABHAAddress: strings.Clone(strings.TrimSpace(c.FormValue("abha_address"))),
		Purpose:     strings.Clone(c.FormValue("purpose")),
		From:        strings.Clone(c.FormValue("from")),
		To:          strings.Clone(c.FormValue("to")),
		Expiry:      strings.Clone(c.FormValue("expiry")),
		HIP:         strings.Clone(strings.TrimSpace(c.FormValue("hip"))),
	}
	var types []string
	if mf, err := c.MultipartForm(); err == nil {
		types = mf.Value["hi_type"]
	} else {
		c.Request().PostArgs().VisitAll(func(k, v []byte) {
			if string(k) == "hi_type" {
				types = append(types, string(v))
			}
		})
	}
	return f, types
}

// consentRequestOf checks the form and builds the request; the problems
// are sentences for the doctor.
func consentRequestOf(f views.ConsentForm, types []string, now time.Time) (hiu.Request, []string) {
	var req hiu.Request
	var problems []string
	if id, addr, ok := strings.Cut(f.Patient, "|"); ok && f.ABHAAddress == "" {
		req.PatientID, req.PatientABHAAddress = id, addr
	} else {
		req.PatientABHAAddress = f.ABHAAddress
	}
	if !strings.Contains(req.PatientABHAAddress, "@") {
		problems = append(problems, "Pick a patient with an ABHA address, or type one like name@sbx.")
	}
	if _, ok := abdm.PurposeOf(f.Purpose); !ok {
		problems = append(problems, "Choose a purpose.")
	}
	req.Purpose = f.Purpose
	for _, t := range types {
		if _, ok := hiTypeLabels[abdm.HIType(t)]; ok {
			req.HITypes = append(req.HITypes, abdm.HIType(t))
		}
	}
	if len(req.HITypes) == 0 {
		problems = append(problems, "Tick at least one kind of record.")
	}
	from, errFrom := time.Parse(time.DateOnly, f.From)
	to, errTo := time.Parse(time.DateOnly, f.To)
	expiry, errExp := time.Parse(time.DateOnly, f.Expiry)
	switch {
	case errFrom != nil || errTo != nil:
		problems = append(problems, "Give the dates of the records wanted.")
	case to.Before(from):
		problems = append(problems, "The records' start date must not be after the end date.")
	}
	// The consent manager refuses a range that ends in the future, so "to
	// today" means up to now.
	to = to.Add(24*time.Hour - time.Second)
	if to.After(now) {
		to = now
	}
	if errExp != nil || !expiry.After(now) {
		problems = append(problems, "The consent must end on a date after today.")
	}
	req.From, req.To, req.Expiry = from, to, expiry
	req.HIP = f.HIP
	return req, problems
}

func consentErrorText(err error) string {
	if errors.Is(err, hiu.ErrNotFound) {
		return "Your facility is not set up for ABDM yet."
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "invalid consent request: "); i >= 0 {
		msg = msg[i+len("invalid consent request: "):]
	}
	return "The request was refused: " + strings.ReplaceAll(msg, "\n", "; ") + "."
}
