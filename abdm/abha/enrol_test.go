package abha_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abha"
	sbabha "github.com/sangamhealth/sangam/e2e/sandbox/abha"
)

// Ravi's communication mobile is not his Aadhaar mobile, so the journey
// goes through the mobile OTP step (CRT_ABHA_101, 105, 109, 112, 113).
func TestEnrolmentWithMobileOTPAndAddress(t *testing.T) {
	h := setup(t)
	ctx := t.Context()
	const mobile = "9000000012"

	sent, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarRavi, consent())
	if err != nil {
		t.Fatalf("RequestAadhaarOTP: %v", err)
	}
	if sent.MaskedMobile != "******0002" || sent.TxnID == "" {
		t.Errorf("OTP sent %+v; want the Aadhaar mobile masked as ******0002", sent)
	}
	otp := h.otp(t, "txn_id", sent.TxnID)
	if otp.Channel != "aadhaar" || otp.SentTo != "9000000002" {
		t.Errorf("OTP went %s to %s; want aadhaar to 9000000002", otp.Channel, otp.SentTo)
	}

	c := consent()
	enr, err := h.client.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: sent.TxnID, OTP: otp.OTP, Mobile: mobile, Consent: c})
	if err != nil {
		t.Fatalf("EnrolByAadhaar: %v", err)
	}
	p := enr.Profile
	if !enr.IsNew || p.Name != "Ravi Kumar" || p.Gender != "M" || p.BirthDate != (abha.Date{Year: 1985, Month: 9, Day: 3}) {
		t.Errorf("enrolment %+v", enr)
	}
	if _, err := abha.NormalizeABHANumber(p.ABHANumber); err != nil || p.ABHANumber[:2] != "91" {
		t.Errorf("ABHA number %q is not a 14-digit 91-... number", p.ABHANumber)
	}
	if !enr.MobileVerificationNeeded || p.Mobile != "" {
		t.Errorf("mobile %q, verification needed %v; want the new mobile pending verification", p.Mobile, enr.MobileVerificationNeeded)
	}
	if enr.Token.Kind != abha.TokenProfile || enr.Token.Value == "" || enr.Token.RefreshValue == "" ||
		enr.Token.ABHANumber != p.ABHANumber || enr.Token.Expired(h.clock.Now()) {
		t.Errorf("token %v; want a live profile X-token with a refresh token", enr.Token)
	}
	if enr.Consent != c {
		t.Errorf("consent %+v; want the recorded %+v handed back", enr.Consent, c)
	}
	if got := h.sent(abha.PathEnrolByAadhaar); len(got) != 1 || !jsonHas(t, got[0].Body, "consent", map[string]any{"code": "abha-enrollment", "version": "1.4"}) {
		t.Errorf("enrol body did not carry the consent block")
	}

	// The mobile OTP step.
	msent, err := h.client.RequestMobileOTP(ctx, tenant, enr.TxnID, mobile)
	if err != nil {
		t.Fatalf("RequestMobileOTP: %v", err)
	}
	if msent.MaskedMobile != "******0012" {
		t.Errorf("mobile OTP message %q", msent.Message)
	}
	motp := h.otp(t, "mobile", mobile)
	if motp.Channel != "abdm" || motp.TxnID != enr.TxnID {
		t.Errorf("mobile OTP %+v", motp)
	}
	// A wrong mobile OTP comes back from a 200 with authResult "failed".
	_, err = h.client.VerifyMobileOTP(ctx, tenant, enr.TxnID, wrong(motp.OTP))
	if e := abhaError(t, err, abha.ErrWrongOTP); e.AttemptsLeft != 2 {
		t.Errorf("attempts left %d; want 2", e.AttemptsLeft)
	}
	mv, err := h.client.VerifyMobileOTP(ctx, tenant, enr.TxnID, motp.OTP)
	if err != nil {
		t.Fatalf("VerifyMobileOTP: %v", err)
	}
	if !slices.Equal(mv.ABHANumbers, []string{p.ABHANumber}) {
		t.Errorf("mobile linked to %v; want [%s]", mv.ABHANumbers, p.ABHANumber)
	}

	// Address suggestions and creation.
	names, err := h.client.AddressSuggestions(ctx, tenant, enr.TxnID)
	if err != nil {
		t.Fatalf("AddressSuggestions: %v", err)
	}
	if len(names) < 3 {
		t.Fatalf("suggestions %v; want at least 3", names)
	}
	for _, n := range names {
		if err := abha.ValidateAddressName(n); err != nil {
			t.Errorf("suggestion %q breaks the address policy", n)
		}
	}
	if r := h.sent(abha.PathEnrolSuggestion); len(r) != 1 || r[0].Header.Get("TRANSACTION_ID") != enr.TxnID {
		t.Errorf("suggestion call did not carry TRANSACTION_ID")
	}
	created, err := h.client.CreateAddress(ctx, tenant, enr.TxnID, names[0])
	if err != nil {
		t.Fatalf("CreateAddress: %v", err)
	}
	if created.Address != names[0]+"@sbx" || created.ABHANumber != p.ABHANumber {
		t.Errorf("created %+v; want %s@sbx on %s", created, names[0], p.ABHANumber)
	}
	_, err = h.client.CreateAddress(ctx, tenant, enr.TxnID, names[0])
	if e := abhaError(t, err, abha.ErrAddressTaken); e.API == nil || e.API.Code != "ABDM-1101" {
		t.Errorf("taken address: %+v", e)
	}
	_, err = h.client.CreateAddress(ctx, tenant, enr.TxnID, "_bad")
	abhaError(t, err, abha.ErrInvalidAddress)

	prof, err := h.client.Profile(ctx, tenant, enr.Token)
	if err != nil {
		t.Fatalf("Profile: %v", err)
	}
	if prof.ABHANumber != p.ABHANumber || prof.Address != names[0]+"@sbx" || prof.Mobile != mobile ||
		prof.BirthDate != p.BirthDate || prof.Name != "Ravi Kumar" || !prof.KYCVerified {
		t.Errorf("profile after enrolment %+v", prof)
	}

	// The verified mobile now logs in to Ravi's ABHA.
	login := h.login(t, abha.LoginRequest{Method: abha.LoginMobile, ID: mobile})
	if !login.NeedsAccountSelection() || len(login.Accounts) != 1 || login.Accounts[0].ABHANumber != p.ABHANumber {
		t.Errorf("mobile login %+v", login)
	}
}

// Asha enrols with her Aadhaar mobile: no mobile OTP step (CRT_ABHA_108).
func TestEnrolmentWithAadhaarMobile(t *testing.T) {
	h := setup(t)
	enr := h.enrol(t, aadhaarAsha, "9000000001")
	if !enr.IsNew || enr.MobileVerificationNeeded || enr.Profile.Mobile != "9000000001" {
		t.Errorf("enrolment %+v; want a new ABHA with the Aadhaar mobile verified", enr)
	}
	// The default address is the number itself.
	want := abhaDigits(enr.Profile.ABHANumber) + "@sbx"
	if enr.Profile.Address != want {
		t.Errorf("default address %q; want %q", enr.Profile.Address, want)
	}
	if h.otpCount(t, "9000000001") != 1 {
		t.Errorf("want exactly one OTP (the Aadhaar one)")
	}
}

func abhaDigits(n string) string {
	out := make([]byte, 0, 14)
	for i := range len(n) {
		if n[i] != '-' {
			out = append(out, n[i])
		}
	}
	return string(out)
}

func (h *harness) otpCount(t *testing.T, mobile string) int {
	t.Helper()
	return len(h.sb.ABHA.OTPs(sbabha.OTPFilter{Mobile: mobile}))
}

// Sunita already has an ABHA: enrolment returns it instead of a second one.
func TestDuplicateAadhaarReturnsExistingABHA(t *testing.T) {
	h := setup(t)
	enr := h.enrol(t, aadhaarSunita, "9000000003")
	if enr.IsNew || enr.Profile.ABHANumber != numberSunita || !slices.Contains(enr.Profile.Addresses, "sunita.rao@sbx") {
		t.Fatalf("enrolment %+v; want the existing ABHA %s with isNew=false", enr, numberSunita)
	}
	if n := len(h.sb.ABHA.Accounts()); n != 3 {
		t.Errorf("%d accounts after a duplicate enrolment; want the 3 seeded", n)
	}
	prof, err := h.client.Profile(t.Context(), tenant, enr.Token)
	if err != nil || prof.ABHANumber != numberSunita {
		t.Errorf("profile %+v, %v", prof, err)
	}
}

// A wrong Aadhaar OTP can be retried without typing the Aadhaar number
// again (CRT_ABHA_107).
func TestWrongAadhaarOTP(t *testing.T) {
	h := setup(t)
	ctx := t.Context()
	sent, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent())
	if err != nil {
		t.Fatal(err)
	}
	otp := h.otp(t, "txn_id", sent.TxnID)
	req := abha.EnrolRequest{TxnID: sent.TxnID, OTP: wrong(otp.OTP), Mobile: "9000000001", Consent: consent()}
	_, err = h.client.EnrolByAadhaar(ctx, tenant, req)
	e := abhaError(t, err, abha.ErrWrongOTP)
	if e.AttemptsLeft != 2 || e.API == nil || e.API.Code != "ABDM-1204" || e.API.HTTPStatus != http.StatusUnprocessableEntity {
		t.Errorf("wrong OTP error %+v (API %+v)", e, e.API)
	}
	if e.Explanation != "The OTP entered does not match. 2 attempts left." {
		t.Errorf("explanation %q", e.Explanation)
	}
	if !errors.Is(err, abdm.ErrBadRequest) {
		t.Errorf("the ABDM category is lost: %v", err)
	}
	if left := h.otp(t, "txn_id", sent.TxnID).AttemptsLeft; left != 2 {
		t.Errorf("control API shows %d attempts left", left)
	}

	req.OTP = otp.OTP
	if _, err := h.client.EnrolByAadhaar(ctx, tenant, req); err != nil {
		t.Fatalf("right OTP after a wrong one: %v", err)
	}
	// The transaction is spent: replaying it is refused.
	_, err = h.client.EnrolByAadhaar(ctx, tenant, req)
	abhaError(t, err, abha.ErrTransactionExpired)
}

func TestExpiredOTP(t *testing.T) {
	h := setup(t, func(o *options) { o.abha.OTPTTL = time.Minute })
	ctx := t.Context()

	sent, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent())
	if err != nil {
		t.Fatal(err)
	}
	otp := h.otp(t, "txn_id", sent.TxnID)
	h.clock.Advance(61 * time.Second)
	if s := h.otp(t, "txn_id", sent.TxnID).Status; s != "expired" {
		t.Errorf("control API status %q; want expired", s)
	}
	_, err = h.client.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: sent.TxnID, OTP: otp.OTP, Mobile: "9000000001", Consent: consent()})
	abhaError(t, err, abha.ErrOTPExpired)

	// An ABDM (mobile) OTP expires the same way; that answer is a 200 with
	// authResult "failed".
	lo, err := h.client.RequestLoginOTP(ctx, tenant, abha.LoginRequest{Method: abha.LoginMobile, ID: sharedMobile})
	if err != nil {
		t.Fatal(err)
	}
	motp := h.otp(t, "txn_id", lo.TxnID)
	h.clock.Advance(2 * time.Minute)
	_, err = h.client.VerifyLoginOTP(ctx, tenant, lo, motp.OTP)
	abhaError(t, err, abha.ErrOTPExpired)

	// A fresh OTP works.
	sent, err = h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent())
	if err != nil {
		t.Fatal(err)
	}
	otp = h.otp(t, "txn_id", sent.TxnID)
	if _, err := h.client.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: sent.TxnID, OTP: otp.OTP, Mobile: "9000000001", Consent: consent()}); err != nil {
		t.Fatalf("fresh OTP: %v", err)
	}
}

func TestOTPAttemptLimitBlocks(t *testing.T) {
	h := setup(t, func(o *options) { o.abha.MaxOTPAttempts = 3; o.abha.BlockFor = 30 * time.Minute })
	ctx := t.Context()
	sent, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent())
	if err != nil {
		t.Fatal(err)
	}
	otp := h.otp(t, "txn_id", sent.TxnID)
	req := abha.EnrolRequest{TxnID: sent.TxnID, OTP: wrong(otp.OTP), Mobile: "9000000001", Consent: consent()}
	for _, left := range []int{2, 1} {
		_, err := h.client.EnrolByAadhaar(ctx, tenant, req)
		if e := abhaError(t, err, abha.ErrWrongOTP); e.AttemptsLeft != left {
			t.Errorf("attempts left %d; want %d", e.AttemptsLeft, left)
		}
	}
	_, err = h.client.EnrolByAadhaar(ctx, tenant, req)
	if e := abhaError(t, err, abha.ErrTooManyAttempts); e.API == nil || e.API.Code != "ABDM-1100" {
		t.Errorf("third wrong OTP: %+v", e)
	}
	// Even the right OTP is refused now, and so is a new OTP for the
	// same Aadhaar number.
	req.OTP = otp.OTP
	_, err = h.client.EnrolByAadhaar(ctx, tenant, req)
	abhaError(t, err, abha.ErrTooManyAttempts)
	_, err = h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent())
	abhaError(t, err, abha.ErrTooManyAttempts)
	if s := h.otp(t, "txn_id", sent.TxnID).Status; s != "blocked" {
		t.Errorf("control status %q; want blocked", s)
	}
	// Another person is not affected; the block lifts after BlockFor.
	if _, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarRavi, consent()); err != nil {
		t.Errorf("other Aadhaar blocked too: %v", err)
	}
	h.clock.Advance(31 * time.Minute)
	if _, err := h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, consent()); err != nil {
		t.Errorf("still blocked after 31 minutes: %v", err)
	}
}

// The first OTP and two resends go out; a third resend is refused
// (CRT_ABHA_106 allows two).
func TestOTPResendLimit(t *testing.T) {
	h := setup(t)
	ctx := t.Context()
	for i := range 3 {
		if _, err := h.client.RequestLoginOTP(ctx, tenant, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarFarhan}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	_, err := h.client.RequestLoginOTP(ctx, tenant, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarFarhan})
	abhaError(t, err, abha.ErrTooManyAttempts)
}

func TestEnrolmentInputRefusedBeforeAnyCall(t *testing.T) {
	h := setup(t)
	ctx := t.Context()
	_, err := h.client.RequestAadhaarOTP(ctx, tenant, "9999 0000 0017", consent()) // check digit wrong
	if e := abhaError(t, err, abha.ErrInvalidAadhaar); e.Explanation != "Aadhaar Number is not valid." || e.API != nil {
		t.Errorf("invalid Aadhaar: %+v", e)
	}
	_, err = h.client.RequestAadhaarOTP(ctx, tenant, aadhaarAsha, abha.Consent{Code: abha.ConsentCode, Version: abha.ConsentVersion})
	abhaError(t, err, abha.ErrConsentRequired)
	_, err = h.client.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: "x", OTP: "12345", Mobile: "9000000001", Consent: consent()})
	abhaError(t, err, abha.ErrInvalidOTP)
	_, err = h.client.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: "x", OTP: "123456", Mobile: "5000000001", Consent: consent()})
	abhaError(t, err, abha.ErrInvalidMobile)
	if got := h.allSent(); len(got) != 0 {
		t.Errorf("%d requests reached the ABHA service; want none", len(got))
	}

	// A well-formed number UIDAI does not know is refused by the service
	// with UIDAI's code 998.
	_, err = h.client.RequestAadhaarOTP(ctx, tenant, "999941057058", consent())
	if e := abhaError(t, err, abha.ErrInvalidAadhaar); e.API == nil || e.API.Code != "ABDM-1204" {
		t.Errorf("unknown Aadhaar: %+v", e)
	}
}

func TestDemographicEnrolmentNotAvailable(t *testing.T) {
	h := setup(t)
	_, err := h.client.EnrolByDemographics(t.Context(), tenant, abha.Demographics{Aadhaar: aadhaarAsha})
	e := abhaError(t, err, abha.ErrNotAvailable)
	if e.API != nil || len(h.allSent()) != 0 {
		t.Errorf("demographic enrolment reached the service: %+v", e)
	}
}
