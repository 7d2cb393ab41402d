package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/abdm/abha"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// "Create ABHA with Aadhaar" for the front desk (NHA CRT_ABHA_101–114):
// consent, Aadhaar OTP, the patient's mobile (and its OTP when it is not
// the Aadhaar mobile), ABHA address, then the result with the card and
// attaching it to a master-index patient. Each step posts, keeps what
// the next step needs sealed in PostgreSQL (abhaFlows), and redirects to the
// one page, which shows the current step.

const (
	abhaEnrolPath = "/frontdesk/abha/create"
	enrolFlow     = "enrol"
)

// abhaConsentText is the ABHA enrolment consent (code abha-enrollment,
// version 1.4) as a private facility shows it: NHA's statements without
// the word "government". Keep it in step with NHA's published text.
func abhaConsentText() []string {
	return []string{
		"I am voluntarily sharing my Aadhaar Number / Virtual ID issued by the Unique Identification Authority of India (UIDAI), and my demographic information for the purpose of creating an Ayushman Bharat Health Account number (ABHA number) and Ayushman Bharat Health Account address (ABHA Address). I authorise NHA to use my Aadhaar number / Virtual ID for performing Aadhaar based authentication with UIDAI as per the provisions of the Aadhaar (Targeted Delivery of Financial and other Subsidies, Benefits and Services) Act, 2016 for the aforesaid purpose. I understand that UIDAI will share my e-KYC details, or response of \"Yes\" with NHA upon successful authentication.",
		"I consent to usage of my ABHA address and ABHA number for linking of my legacy (past) health records and those which will be generated during this encounter.",
		"I authorise the sharing of all my health records with healthcare provider(s) for the purpose of providing healthcare services to me during this encounter.",
		"I consent to the anonymization and subsequent use of my health records for public health purposes.",
		"I, the staff member recording this, confirm that I have duly informed and explained the beneficiary of the contents of consent for aforementioned purposes.",
		"I, the beneficiary, have been explained about the consent as stated above and hereby provide my consent for the aforementioned purposes.",
	}
}

// abhaOnly answers with a plain page when no ABHA client is configured.
func (s *Server) abhaOnly(h fiber.Handler) fiber.Handler {
	return servingOnlyIf(func() bool { return s.abha != nil }, "ABHA is not set up",
		"Creating and verifying ABHAs needs the ABDM connection. Ask your administrator to set the ABHA service URL.", h)
}

func (s *Server) showABHAEnrol(c *fiber.Ctx) error {
	st := staffFrom(c.UserContext())
	var es enrolState
	if err := s.abhaFlows.load(c.UserContext(), s.pool, st, enrolFlow, &es); err != nil {
		if !errors.Is(err, errNoFlow) {
			s.log.WarnContext(c.UserContext(), "dropping unreadable ABHA journey", "err", err)
		}
		return s.renderEnrol(c, fiber.StatusOK, enrolView(nil), nil)
	}
	return s.renderEnrol(c, fiber.StatusOK, s.enrolViewFor(c, &es), nil)
}

// renderEnrol shows v with an optional problem; status is 200 for a step
// and 422 when the same step comes back with a problem.
func (s *Server) renderEnrol(c *fiber.Ctx, status int, v views.ABHAEnrol, pr *views.ABHAProblem) error {
	v.Problem = pr
	if pr != nil && status == fiber.StatusOK {
		status = fiber.StatusUnprocessableEntity
	}
	return render(c, status, views.ABHAEnrolPage(s.pageFor(c, "Create ABHA with Aadhaar", roleFrontDesk.home()), v))
}

// enrolView is the view of the start step, or of es's step.
func enrolView(es *enrolState) views.ABHAEnrol {
	v := views.ABHAEnrol{
		Step: views.ABHAStepStart, Action: abhaEnrolPath,
		ConsentText: abhaConsentText(), ConsentVersion: abha.ConsentVersion, AddressPolicy: abha.AddressPolicy,
	}
	if es == nil {
		return v
	}
	v.Step, v.MaskedMobile, v.Mobile, v.Suggestions = es.Step, es.MaskedMobile, es.Mobile, es.Suggestions
	return v
}

func (s *Server) enrolViewFor(c *fiber.Ctx, es *enrolState) views.ABHAEnrol {
	v := enrolView(es)
	if es.Step == enrolStepDone {
		v.Result = s.abhaResult(c, es)
		if es.Existing {
			v.Notice = "This Aadhaar already has an ABHA, so no new one was created. Here it is."
		}
	}
	return v
}

// problemOf turns an error from the ABHA client into plain language; other
// errors are not the patient's or the desk's to fix.
func problemOf(err error) (*views.ABHAProblem, bool) {
	var e *abha.Error
	if errors.As(err, &e) {
		pr := &views.ABHAProblem{Explanation: e.Explanation, Advice: e.Advice}
		if e.AttemptsLeft > 0 {
			pr.Advice = strings.TrimSpace(pr.Advice + " Attempts left: " + strconv.Itoa(e.AttemptsLeft) + ".")
		}
		return pr, true
	}
	return nil, false
}

// consentFrom records who took the patient's agreement and when.
func consentFrom(st *staff, at time.Time) abha.Consent {
	return abha.Consent{Code: abha.ConsentCode, Version: abha.ConsentVersion, Language: "en",
		RecordedBy: st.Username + " (" + st.Subject + ")", AgreedAt: at}
}

func (s *Server) enrolAadhaar(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	agreed := c.FormValue("consent") == "agree"
	typed := strings.Clone(c.FormValue("aadhaar"))
	v := enrolView(nil)
	v.ConsentChecked, v.Aadhaar = agreed, typed
	if !agreed {
		return s.renderEnrol(c, fiber.StatusOK, v, &views.ABHAProblem{
			Explanation: "The patient's consent is not recorded.",
			Advice:      "Show the patient the consent text, and tick the box only when they agree."})
	}
	aadhaar, err := abha.NormalizeAadhaar(typed)
	if err != nil {
		return s.renderEnrol(c, fiber.StatusOK, v, &views.ABHAProblem{
			Explanation: "Aadhaar Number is not valid.",
			Advice:      "Check the 12 digits on the patient's Aadhaar card and type them again."})
	}
	// The agreement is recorded (who, when, which text) before the
	// Aadhaar number is used (CRT_ABHA_102).
	consent := consentFrom(st, time.Now())
	if err := s.audit(c, "abha.enrolment_consent", map[string]any{
		"consent_code": consent.Code, "consent_version": consent.Version, "language": consent.Language,
		"agreed_at": consent.AgreedAt.UTC().Format(time.RFC3339),
	}); err != nil {
		return err
	}
	sent, err := s.abha.RequestAadhaarOTP(ctx, st.TenantID, aadhaar, consent)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderEnrol(c, fiber.StatusOK, v, pr)
		}
		return fmt.Errorf("requesting the Aadhaar OTP: %w", err)
	}
	es := enrolState{Step: enrolStepAadhaarOTP, Consent: consent, TxnID: sent.TxnID, MaskedMobile: sent.MaskedMobile, OTPSentAt: sent.SentAt}
	return s.saveEnrolAndShow(c, &es)
}

// loadEnrol reads the journey a step continues; without one the desk
// starts again.
func (s *Server) loadEnrol(c *fiber.Ctx, step string) (*enrolState, error) {
	return loadFlowAt(s, c, enrolFlow, step, func(es *enrolState) string { return es.Step }, &problem{
		status: fiber.StatusConflict, title: "This ABHA journey has ended",
		message: "It expired after 15 minutes, or went on in another tab. Start again from Create ABHA with Aadhaar."})
}

func (s *Server) saveEnrolAndShow(c *fiber.Ctx, es *enrolState) error {
	return s.saveFlowAndShow(c, enrolFlow, es, abhaEnrolPath)
}

func (s *Server) enrolOTP(c *fiber.Ctx) error {
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	es, err := s.loadEnrol(c, enrolStepAadhaarOTP)
	if err != nil {
		return err
	}
	typedMobile := strings.Clone(c.FormValue("mobile"))
	v := enrolView(es)
	v.Mobile = typedMobile
	mobile, err := abha.NormalizeMobile(typedMobile)
	if err != nil {
		return s.renderEnrol(c, fiber.StatusOK, v, &views.ABHAProblem{
			Explanation: "Please enter a valid mobile number.", Advice: "Type the patient's 10-digit mobile number, then the OTP again."})
	}
	enr, err := s.abha.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: es.TxnID, OTP: strings.TrimSpace(c.FormValue("otp")), Mobile: mobile, Consent: es.Consent})
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderEnrol(c, fiber.StatusOK, v, pr)
		}
		return fmt.Errorf("enrolling by Aadhaar: %w", err)
	}
	es.TxnID, es.Mobile, es.Token, es.Profile, es.Existing = enr.TxnID, mobile, enr.Token, enr.Profile, !enr.IsNew
	switch {
	case !enr.IsNew:
		es.Step = enrolStepDone
	case enr.MobileVerificationNeeded:
		sent, err := s.abha.RequestMobileOTP(ctx, tenant, enr.TxnID, mobile)
		if err != nil {
			if pr, ok := problemOf(err); ok {
				return s.renderEnrol(c, fiber.StatusOK, v, pr)
			}
			return fmt.Errorf("requesting the mobile OTP: %w", err)
		}
		es.Step, es.MaskedMobile, es.OTPSentAt = enrolStepMobileOTP, sent.MaskedMobile, sent.SentAt
	default:
		if err := s.suggestAddresses(ctx, tenant, es); err != nil {
			return err
		}
	}
	return s.saveEnrolAndShow(c, es)
}

func (s *Server) enrolMobile(c *fiber.Ctx) error {
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	es, err := s.loadEnrol(c, enrolStepMobileOTP)
	if err != nil {
		return err
	}
	if _, err := s.abha.VerifyMobileOTP(ctx, tenant, es.TxnID, strings.TrimSpace(c.FormValue("otp"))); err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderEnrol(c, fiber.StatusOK, enrolView(es), pr)
		}
		return fmt.Errorf("verifying the mobile OTP: %w", err)
	}
	es.Profile.Mobile = es.Mobile
	if err := s.suggestAddresses(ctx, tenant, es); err != nil {
		return err
	}
	return s.saveEnrolAndShow(c, es)
}

// suggestAddresses moves es to the address step with ABDM's suggestions;
// an empty list still lets the patient type their own.
func (s *Server) suggestAddresses(ctx context.Context, tenant string, es *enrolState) error {
	names, err := s.abha.AddressSuggestions(ctx, tenant, es.TxnID)
	if err != nil {
		if _, ok := problemOf(err); !ok {
			return fmt.Errorf("fetching ABHA address suggestions: %w", err)
		}
		names = nil
	}
	es.Step, es.Suggestions = enrolStepAddress, names
	return nil
}

func (s *Server) enrolAddress(c *fiber.Ctx) error {
	ctx := c.UserContext()
	es, err := s.loadEnrol(c, enrolStepAddress)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("address"))
	custom := strings.TrimSpace(strings.Clone(c.FormValue("custom")))
	if name == "" {
		name = strings.TrimSuffix(custom, "@sbx")
	}
	v := enrolView(es)
	v.Custom = custom
	if err := abha.ValidateAddressName(name); err != nil {
		return s.renderEnrol(c, fiber.StatusOK, v, &views.ABHAProblem{
			Explanation: "That ABHA address does not follow the rule.", Advice: abha.AddressPolicy})
	}
	created, err := s.abha.CreateAddress(ctx, staffFrom(ctx).TenantID, es.TxnID, name)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderEnrol(c, fiber.StatusOK, v, pr)
		}
		return fmt.Errorf("creating the ABHA address: %w", err)
	}
	es.Step, es.Profile.Address, es.Token.Address = enrolStepDone, created.Address, created.Address
	return s.saveEnrolAndShow(c, es)
}

func (s *Server) enrolRestart(c *fiber.Ctx) error {
	if err := s.abhaFlows.drop(c.UserContext(), s.pool, staffFrom(c.UserContext()), enrolFlow); err != nil {
		return err
	}
	return c.Redirect(abhaEnrolPath, fiber.StatusSeeOther)
}

// enrolCard streams the patient's ABHA card from ABDM; it is never
// stored, and never cached by the browser or a proxy.
func (s *Server) enrolCard(c *fiber.Ctx) error {
	es, err := s.loadEnrol(c, enrolStepDone)
	if err != nil {
		return err
	}
	return s.streamCard(c, es.Token)
}

// streamCard sends the card of tok's ABHA as ABDM made it.
func (s *Server) streamCard(c *fiber.Ctx, tok abha.UserToken) error {
	ctx := c.UserContext()
	card, err := s.abha.Card(ctx, staffFrom(ctx).TenantID, tok)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return &problem{status: fiber.StatusBadGateway, title: pr.Explanation, message: pr.Advice, err: err}
		}
		return fmt.Errorf("downloading the ABHA card: %w", err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, card.ContentType)
	c.Set(fiber.HeaderContentDisposition, "inline")
	return c.Send(card.Data)
}

// abhaPatients is what attaching an ABHA needs from the master index.
type abhaPatients interface {
	Search(ctx context.Context, tenant string, q patients.Query, limit int) ([]patients.SearchResult, error)
	VerifyABHA(ctx context.Context, tenant, patientID, abhaNumber, abhaAddress string) error
}

func (s *Server) abhaPatients() abhaPatients { return patients.New(s.pool, patients.Config{}) }

// abhaResult is the done step: the ABHA, and the patients it may belong
// to, found by its name, birth year, gender and mobile.
func (s *Server) abhaResult(c *fiber.Ctx, es *enrolState) views.ABHAResult {
	return s.abhaResultFor(c, es.Profile, es.Existing, es.Attached, abhaEnrolPath)
}

// abhaResultFor fills the result of a journey under base (which serves
// base+"/card" and base+"/attach").
func (s *Server) abhaResultFor(c *fiber.Ctx, p abha.Profile, existing bool, attached, base string) views.ABHAResult {
	r := views.ABHAResult{
		Existing: existing, ABHANumber: p.ABHANumber, Address: p.Address, Name: p.Name,
		Gender: genderLabel(p.Gender), BirthDate: birthLabel(p.BirthDate), Mobile: p.Mobile,
		CardURL: base + "/card", AttachURL: base + "/attach",
	}
	if r.Gender == "" {
		r.Gender = "Not given"
	}
	if attached != "" {
		r.AttachedURL = patientsPath + "/" + attached
		return r
	}
	ctx := c.UserContext()
	found, err := s.abhaPatients().Search(ctx, staffFrom(ctx).TenantID, patients.Query{
		ABHANumber: p.ABHANumber, Name: p.Name, Gender: p.Gender, BirthYear: p.BirthDate.Year, Mobile: p.Mobile,
	}, 10)
	if err != nil {
		// The ABHA itself is shown; only the suggestions are missing.
		s.log.WarnContext(ctx, "searching patients for an ABHA", "err", err)
		return r
	}
	for _, f := range found {
		d := f.Patient.Summary
		details := genderLabel(d.Gender)
		if d.BirthYear != 0 {
			details += ", born " + strconv.Itoa(d.BirthYear)
		}
		if d.Mobile != "" {
			details += ", mobile " + d.Mobile
		}
		r.Candidates = append(r.Candidates, views.ABHACandidate{ID: f.Patient.ID, Name: d.Name, Details: details,
			URL: patientsPath + "/" + f.Patient.ID, Linked: holdsABHA(f.Patient, p.ABHANumber)})
	}
	return r
}

func (s *Server) enrolAttach(c *fiber.Ctx) error {
	ctx := c.UserContext()
	es, err := s.loadEnrol(c, enrolStepDone)
	if err != nil {
		return err
	}
	id := strings.Clone(c.FormValue("patient"))
	err = s.abhaPatients().VerifyABHA(ctx, staffFrom(ctx).TenantID, id, es.Profile.ABHANumber, es.Profile.Address)
	switch {
	case errors.Is(err, patients.ErrConflict):
		return s.renderEnrol(c, fiber.StatusOK, s.enrolViewFor(c, es), &views.ABHAProblem{
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
	es.Attached = id
	return s.saveEnrolAndShow(c, es)
}

// holdsABHA reports whether ABDM has already verified number for p, so the
// desk sees "already linked" rather than linking it twice (VRFY_ABHA_303).
func holdsABHA(p patients.Patient, number string) bool {
	want := strings.ReplaceAll(number, "-", "")
	for _, id := range p.Identifiers {
		if id.Kind == "abha_number" && id.Verified && strings.ReplaceAll(id.Value, "-", "") == want {
			return true
		}
	}
	return false
}

func birthLabel(d abha.Date) string {
	switch {
	case d.Year == 0:
		return "Not given"
	case d.Month == 0 || d.Day == 0:
		return strconv.Itoa(d.Year)
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC).Format("2 January 2006")
}
