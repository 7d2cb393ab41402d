package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/views"
)

// saveAdminPayer adds a payer or changes the one with the same code; a
// refused form comes back with a message beside each wrong field and the
// values typed.
func (s *Server) saveAdminPayer(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	// Fiber's form values are borrowed: copy them before they outlive the handler.
	form := views.PayerForm{
		Code:       strings.Clone(strings.TrimSpace(c.FormValue("code"))),
		Name:       strings.Clone(c.FormValue("name")),
		SchemeKind: strings.Clone(strings.TrimSpace(c.FormValue("scheme_kind"))),
		Active:     c.FormValue("active") != "",
	}
	saved, err := s.billing.SetPayer(ctx, st.TenantID, claims.Payer{Code: form.Code, Name: form.Name,
		SchemeKind: claims.SchemeKind(form.SchemeKind), Active: form.Active})
	if err == nil {
		if err := s.audit(c, "claims.payer_saved", map[string]any{"payer": saved.Code, "name": saved.Name,
			"scheme_kind": string(saved.SchemeKind), "active": saved.Active}); err != nil {
			return err
		}
		return c.Redirect(adminPayersPath+"?saved=payer", fiber.StatusSeeOther)
	}
	if !placeFieldErrors(err, map[string]fieldSlot{
		"Code":       {&form.CodeError, "The participant code"},
		"Name":       {&form.NameError, "The name"},
		"SchemeKind": {&form.SchemeKindError, "The kind"},
	}, &form.Error) {
		return err
	}
	if form.SchemeKind == "" && form.SchemeKindError != "" {
		form.SchemeKindError = "Choose the kind of payer."
	}
	v, err := s.adminPayersModel(ctx, form, views.EmpanelmentForm{}, "")
	if err != nil {
		return err
	}
	return s.renderAdminPayers(c, fiber.StatusBadRequest, v)
}

// saveAdminEmpanelment records that one of the administrator's facilities
// is empanelled with a payer's scheme (or changes its dates); a refused
// form comes back as typed, with messages beside the wrong fields.
func (s *Server) saveAdminEmpanelment(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	form := views.EmpanelmentForm{
		Facility:   strings.Clone(strings.TrimSpace(c.FormValue("facility"))),
		Payer:      strings.Clone(strings.TrimSpace(c.FormValue("payer"))),
		SchemeName: strings.Clone(c.FormValue("scheme_name")),
		SchemeCode: strings.Clone(c.FormValue("scheme_code")),
		From:       strings.Clone(strings.TrimSpace(c.FormValue("valid_from"))),
		To:         strings.Clone(strings.TrimSpace(c.FormValue("valid_to"))),
	}
	fs, err := s.facilitiesOf(ctx, st)
	if err != nil {
		return err
	}
	e := claims.Empanelment{FacilityID: form.Facility, PayerCode: form.Payer, SchemeName: form.SchemeName, SchemeCode: form.SchemeCode}
	ok := checkEmpanelmentForm(&form, &e, fs)
	var hfr string
	for _, f := range fs {
		if f.ID == form.Facility {
			hfr = f.HFRID
		}
	}
	if ok {
		saved, err := s.billing.SetEmpanelment(ctx, st.TenantID, e)
		if err == nil {
			if err := s.audit(c, "claims.empanelment_saved", map[string]any{"empanelment": saved.ID, "facility": hfr,
				"payer": saved.PayerCode, "scheme_code": saved.SchemeCode, "valid_from": form.From, "valid_to": form.To}); err != nil {
				return err
			}
			return c.Redirect(adminPayersPath+"?saved=empanelment", fiber.StatusSeeOther)
		}
		if !placeFieldErrors(err, map[string]fieldSlot{
			"FacilityID": {&form.FacilityError, "The facility"},
			"PayerCode":  {&form.PayerError, "The payer"},
			"SchemeName": {&form.SchemeNameError, "The scheme name"},
			"SchemeCode": {&form.SchemeCodeError, "The scheme code"},
			"ValidFrom":  {&form.FromError, "The start date"},
			"ValidTo":    {&form.ToError, "The end date"},
		}, &form.Error) {
			return err
		}
	}
	v, err := s.adminPayersModel(ctx, views.PayerForm{Active: true}, form, "")
	if err != nil {
		return err
	}
	return s.renderAdminPayers(c, fiber.StatusBadRequest, v)
}

// checkEmpanelmentForm checks what the claims package cannot: that the
// facility is one of the administrator's, a payer is chosen and the dates
// are dates, the first given and not after the second. It fills e's
// dates and reports whether the form may be sent on.
func checkEmpanelmentForm(form *views.EmpanelmentForm, e *claims.Empanelment, fs []facility) bool {
	if form.Facility == "" {
		form.FacilityError = "Choose the facility."
	} else {
		mine := false
		for _, f := range fs {
			mine = mine || f.ID == form.Facility
		}
		if !mine {
			form.FacilityError = "This is not one of your facilities; choose one from the list."
		}
	}
	if form.Payer == "" {
		form.PayerError = "Choose the payer (add it with the payer form first if it is not listed)."
	}
	if form.From == "" {
		form.FromError = "Give the date the empanelment starts."
	} else if t, err := time.Parse(time.DateOnly, form.From); err != nil {
		form.FromError = "The start date is not a date; use the date picker or write it as 2025-04-01."
	} else {
		e.ValidFrom = t
	}
	if form.To != "" {
		if t, err := time.Parse(time.DateOnly, form.To); err != nil {
			form.ToError = "The end date is not a date; use the date picker or write it as 2026-03-31, or leave it empty."
		} else {
			e.ValidTo = t
		}
	}
	if !e.ValidFrom.IsZero() && !e.ValidTo.IsZero() && e.ValidTo.Before(e.ValidFrom) {
		form.ToError = "The end date is before the start date."
	}
	return form.FacilityError == "" && form.PayerError == "" && form.FromError == "" && form.ToError == ""
}
