package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// "Verify an existing ABHA" for the front desk (NHA VRFY_ABHA_101–305):
// the patient's ABHA number, ABHA address or mobile, an OTP via Aadhaar or
// the ABHA mobile, the account chooser when a mobile holds several ABHAs,
// then the profile with the card and attaching it to a patient.

const (
	abhaVerifyPath = "/frontdesk/abha/verify"
	verifyFlow     = "verify"
)

// verifyState is one staff session's verification in progress. Login
// holds the patient's T-token or X-token, so it is only kept sealed.
type verifyState struct {
	Step string
	// Request is what the patient gave (never an Aadhaar number), kept
	// for resending the OTP.
	Request  abha.LoginRequest
	Resends  int
	LoginOTP abha.LoginOTP
	Login    abha.Login
	Token    abha.UserToken
	Profile  abha.Profile
	Attached string
}

func verifyView(es *verifyState, kind, id, via string) views.ABHAVerify {
	v := views.ABHAVerify{Step: views.ABHAVerifyStart, Action: abhaVerifyPath, ID: id}
	if kind == "" {
		kind = string(abha.LoginABHANumber)
	}
	if via == "" {
		via = string(abha.ViaMobile)
	}
	for _, k := range []views.Option{
		{Value: string(abha.LoginABHANumber), Label: "ABHA Number"},
		{Value: string(abha.LoginABHAAddress), Label: "ABHA address"},
		{Value: string(abha.LoginMobile), Label: "Mobile number (lists the ABHAs it holds)"},
	} {
		k.Selected = k.Value == kind
		v.Kinds = append(v.Kinds, k)
	}
	for _, o := range []views.Option{
		{Value: string(abha.ViaMobile), Label: "the ABHA-linked mobile"},
		{Value: string(abha.ViaAadhaar), Label: "the Aadhaar-linked mobile"},
	} {
		o.Selected = o.Value == via
		v.Vias = append(v.Vias, o)
	}
	if es == nil {
		return v
	}
	v.Step, v.MaskedMobile = es.Step, es.LoginOTP.MaskedMobile
	for _, a := range es.Login.Accounts {
		v.Accounts = append(v.Accounts, views.ABHAAccount{ABHANumber: a.ABHANumber, Address: a.Address, Name: a.Name,
			Details: strings.TrimSpace(genderLabel(a.Gender) + " " + birthLabel(a.BirthDate))})
	}
	return v
}

func (s *Server) renderVerify(c *fiber.Ctx, v views.ABHAVerify, pr *views.ABHAProblem) error {
	status := fiber.StatusOK
	if pr != nil {
		v.Problem, status = pr, fiber.StatusUnprocessableEntity
	}
	return render(c, status, views.ABHAVerifyPage(s.pageFor(c, "Verify an existing ABHA", roleFrontDesk.home()), v))
}

func (s *Server) showABHAVerify(c *fiber.Ctx) error {
	var vs verifyState
	if err := s.abhaFlows.load(c.UserContext(), s.pool, staffFrom(c.UserContext()), verifyFlow, &vs); err != nil {
		return s.renderVerify(c, verifyView(nil, "", "", ""), nil)
	}
	v := verifyView(&vs, "", "", "")
	if vs.Step == views.ABHAVerifyDone {
		v.Result = s.abhaResultFor(c, vs.Profile, false, vs.Attached, abhaVerifyPath)
	}
	return s.renderVerify(c, v, nil)
}

func (s *Server) loadVerify(c *fiber.Ctx, step string) (*verifyState, error) {
	return loadFlowAt(s, c, verifyFlow, step, func(vs *verifyState) string { return vs.Step }, &problem{
		status: fiber.StatusConflict, title: "This ABHA verification has ended",
		message: "It expired after 15 minutes, or went on in another tab. Start again from Verify an existing ABHA."})
}

func (s *Server) saveVerifyAndShow(c *fiber.Ctx, vs *verifyState) error {
	return s.saveFlowAndShow(c, verifyFlow, vs, abhaVerifyPath)
}

func (s *Server) verifyStart(c *fiber.Ctx) error {
	ctx := c.UserContext()
	kind, via := strings.Clone(c.FormValue("kind")), strings.Clone(c.FormValue("via"))
	id := strings.TrimSpace(strings.Clone(c.FormValue("id")))
	v := verifyView(nil, kind, id, via)
	req := abha.LoginRequest{Method: abha.LoginMethod(kind), ID: id, Via: abha.OTPChannel(via)}
	switch req.Method {
	case abha.LoginABHANumber, abha.LoginABHAAddress:
	case abha.LoginMobile:
		req.Via = "" // mobile logins always go to that mobile
	default:
		return fiber.NewError(fiber.StatusBadRequest, "Choose ABHA Number, ABHA address or mobile number.")
	}
	if req.Via != "" && req.Via != abha.ViaMobile && req.Via != abha.ViaAadhaar {
		return fiber.NewError(fiber.StatusBadRequest, "Choose where the OTP goes: the ABHA-linked or the Aadhaar-linked mobile.")
	}
	sent, err := s.abha.RequestLoginOTP(ctx, staffFrom(ctx).TenantID, req)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderVerify(c, v, pr)
		}
		return fmt.Errorf("requesting a login OTP: %w", err)
	}
	return s.saveVerifyAndShow(c, &verifyState{Step: views.ABHAVerifyOTP, Request: req, LoginOTP: *sent})
}

func (s *Server) verifyOTP(c *fiber.Ctx) error {
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	vs, err := s.loadVerify(c, views.ABHAVerifyOTP)
	if err != nil {
		return err
	}
	login, err := s.abha.VerifyLoginOTP(ctx, tenant, &vs.LoginOTP, strings.TrimSpace(c.FormValue("otp")))
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderVerify(c, verifyView(vs, "", "", ""), pr)
		}
		return fmt.Errorf("verifying a login OTP: %w", err)
	}
	vs.Login = *login
	if login.NeedsAccountSelection() {
		vs.Step = views.ABHAVerifyAccounts
		return s.saveVerifyAndShow(c, vs)
	}
	return s.verifyProfile(c, vs, login.Token)
}

// verifyProfile fetches the verified ABHA's profile and shows it.
func (s *Server) verifyProfile(c *fiber.Ctx, vs *verifyState, tok abha.UserToken) error {
	ctx := c.UserContext()
	p, err := s.abha.Profile(ctx, staffFrom(ctx).TenantID, tok)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderVerify(c, verifyView(vs, "", "", ""), pr)
		}
		return fmt.Errorf("reading the ABHA profile: %w", err)
	}
	vs.Step, vs.Token, vs.Profile, vs.Login = views.ABHAVerifyDone, tok, *p, abha.Login{}
	return s.saveVerifyAndShow(c, vs)
}

func (s *Server) verifyAccount(c *fiber.Ctx) error {
	ctx := c.UserContext()
	vs, err := s.loadVerify(c, views.ABHAVerifyAccounts)
	if err != nil {
		return err
	}
	tok, err := s.abha.SelectAccount(ctx, staffFrom(ctx).TenantID, &vs.Login, strings.Clone(c.FormValue("account")))
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderVerify(c, verifyView(vs, "", "", ""), pr)
		}
		return fmt.Errorf("selecting an ABHA account: %w", err)
	}
	return s.verifyProfile(c, vs, tok)
}

func (s *Server) verifyRestart(c *fiber.Ctx) error {
	if err := s.abhaFlows.drop(c.UserContext(), s.pool, staffFrom(c.UserContext()), verifyFlow); err != nil {
		return err
	}
	return c.Redirect(abhaVerifyPath, fiber.StatusSeeOther)
}

func (s *Server) verifyCard(c *fiber.Ctx) error {
	vs, err := s.loadVerify(c, views.ABHAVerifyDone)
	if err != nil {
		return err
	}
	return s.streamCard(c, vs.Token)
}

func (s *Server) verifyAttach(c *fiber.Ctx) error {
	ctx := c.UserContext()
	vs, err := s.loadVerify(c, views.ABHAVerifyDone)
	if err != nil {
		return err
	}
	id := strings.Clone(c.FormValue("patient"))
	err = s.abhaPatients().VerifyABHA(ctx, staffFrom(ctx).TenantID, id, vs.Profile.ABHANumber, vs.Profile.Address)
	switch {
	case errors.Is(err, patients.ErrConflict):
		v := verifyView(vs, "", "", "")
		v.Result = s.abhaResultFor(c, vs.Profile, false, "", abhaVerifyPath)
		return s.renderVerify(c, v, &views.ABHAProblem{
			Explanation: "This ABHA is already attached to another patient in the index.",
			Advice:      "If both are the same person, merge them from the patient review page."})
	case errors.Is(err, patients.ErrNotFound):
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "That patient does not exist. Reload the page."}
	case err != nil:
		return fmt.Errorf("attaching the ABHA: %w", err)
	}
	if err := s.audit(c, "abha.attached", map[string]any{"patient_id": id}); err != nil {
		return err
	}
	vs.Attached = id
	return s.saveVerifyAndShow(c, vs)
}
