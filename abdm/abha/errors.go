package abha

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/sangamhealth/sangam/abdm"
)

// Kinds of ABHA failure, for errors.Is. Every error the Client returns for
// a refused or failed call is an *Error whose Kind is one of these (or nil
// when ABDM's answer fits none), so the front desk can branch on them:
// ErrNoAccount means "offer ABHA creation", ErrWrongOTP "let them retype",
// and so on.
var (
	ErrInvalidAadhaar    = errors.New("abha: invalid Aadhaar number")
	ErrInvalidMobile     = errors.New("abha: invalid mobile number")
	ErrInvalidABHANumber = errors.New("abha: invalid ABHA number")
	ErrInvalidAddress    = errors.New("abha: invalid ABHA address")
	ErrInvalidOTP        = errors.New("abha: OTP must be 6 digits")
	ErrConsentRequired   = errors.New("abha: enrolment consent not recorded")
	ErrWrongOTP          = errors.New("abha: wrong OTP")
	ErrOTPExpired        = errors.New("abha: OTP expired")
	ErrTooManyAttempts   = errors.New("abha: too many OTP requests or attempts")
	// ErrNoAccount: no ABHA for that Aadhaar number, mobile, ABHA number or
	// address. The certification cases expect ABHA creation to be offered.
	ErrNoAccount    = errors.New("abha: no ABHA account found")
	ErrAddressTaken = errors.New("abha: ABHA address already taken")
	// ErrMobileNotLinked: the ABHA has no mobile for a mobile OTP.
	ErrMobileNotLinked = errors.New("abha: no mobile linked to the ABHA")
	// ErrTransactionExpired: the txnId is unknown, expired or used up.
	ErrTransactionExpired = errors.New("abha: transaction expired")
	// ErrTokenExpired: the patient's X-token, T-token or refresh token was
	// refused or has expired.
	ErrTokenExpired = errors.New("abha: user token expired or invalid")
	// ErrNotAvailable: the feature is not offered; the Explanation says why.
	ErrNotAvailable = errors.New("abha: not available")
	// ErrUnavailable: the ABHA service or the gateway in front of it did
	// not answer properly (also matches abdm.ErrGatewayUnavailable).
	ErrUnavailable = errors.New("abha: service unavailable")
	// ErrUnexpectedAnswer: a 2xx answer Sangam could not read.
	ErrUnexpectedAnswer = errors.New("abha: unexpected answer")
)

// Error is a failed ABHA step with text for the front desk. API is the
// ABHA service's answer as abdm.ParseError read it (nil when the client
// refused the input itself); Explanation and Advice replace API's generic
// text with what the code means in this step.
type Error struct {
	Kind        error
	Step        string // e.g. "request Aadhaar OTP"
	Explanation string
	Advice      string
	// AttemptsLeft is the number of OTP entries left after a wrong OTP,
	// or -1 when the service did not say.
	AttemptsLeft int
	API          *abdm.Error
	cause        error
}

// Error implements error. It never contains the values that were sent.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("abha " + e.Step)
	if e.Kind != nil {
		b.WriteString(": " + strings.TrimPrefix(e.Kind.Error(), "abha: "))
	}
	switch {
	case e.API != nil:
		b.WriteString(": " + e.API.Error())
	case e.cause != nil:
		b.WriteString(": " + e.cause.Error())
	}
	return b.String()
}

// Unwrap exposes the kind, the ABDM error and any transport error.
func (e *Error) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Kind, e.API, e.cause} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// subject is what a step's login id or main input is, so field errors can
// be named after it.
type subject int

const (
	subjectNone subject = iota
	subjectAadhaar
	subjectMobile
	subjectABHANumber
	subjectAddress
)

// step describes one call for error classification.
type step struct {
	name    string
	subject subject
}

// text is the front-desk explanation and advice of a kind.
var text = map[error][2]string{
	ErrInvalidAadhaar: {"Aadhaar Number is not valid.",
		"Check the 12-digit number on the patient's Aadhaar card and type it again."},
	ErrInvalidMobile: {"Please enter a valid mobile number.",
		"A mobile number has 10 digits and starts with 6, 7, 8 or 9."},
	ErrInvalidABHANumber: {"The ABHA number is not valid: it must have 14 digits.",
		"Re-check the ABHA number on the patient's ABHA card or app."},
	ErrInvalidAddress: {"The ABHA address is not valid.",
		"Check it with the patient. A new address must follow the rule: " + AddressPolicy},
	ErrInvalidOTP: {"The OTP must be 6 digits.",
		"Ask the patient to read out the 6-digit OTP from the SMS."},
	ErrConsentRequired: {"The patient's consent must be recorded before the Aadhaar number is used.",
		"Show the patient the consent text, and tick 'I agree' only when they agree."},
	ErrWrongOTP: {"The OTP entered does not match.",
		"Ask the patient to read the OTP again and re-enter it. If it keeps failing, request a new OTP."},
	ErrOTPExpired: {"The OTP has expired.",
		"Request a new OTP and ask the patient for the new code."},
	ErrTooManyAttempts: {"Too many OTPs were requested, or too many wrong OTPs entered, for this patient.",
		"Wait 30 minutes before trying again, or verify the patient another way."},
	ErrNoAccount: {"No ABHA was found with these details.",
		"Check the details with the patient, or offer to create an ABHA."},
	ErrAddressTaken: {"This ABHA address already exists.",
		"Choose one of the suggested addresses or try a different one."},
	ErrMobileNotLinked: {"No mobile number is linked to this ABHA.",
		"Verify with Aadhaar OTP instead."},
	ErrTransactionExpired: {"This ABHA verification has expired or was already completed.",
		"Start again from the beginning."},
	ErrTokenExpired: {"The patient's ABHA session has expired.",
		"Verify the patient again with an OTP, then retry."},
	ErrUnavailable: {"The ABHA service is not responding at the moment.",
		"Try again in a few minutes. The patient can be registered without ABHA in the meantime."},
	ErrUnexpectedAnswer: {"The ABHA service gave an answer Sangam could not read.",
		"Try again. If it repeats, tell your administrator."},
}

// noAccountText words ErrNoAccount for what was looked up (the texts the
// certification cases quote).
var noAccountText = map[subject][2]string{
	subjectAadhaar: {"No ABHA is registered with this Aadhaar number.",
		"Offer to create an ABHA for the patient with Aadhaar OTP."},
	subjectMobile: {"ABHA Number not found for this mobile number.",
		"Please use the ABHA-linked mobile number, or offer to create an ABHA."},
	subjectABHANumber: {"There is no ABHA with this ABHA number.",
		"Re-check the number on the patient's ABHA card, or offer to create an ABHA."},
	subjectAddress: {"There is no ABHA with this ABHA address.",
		"Check the ABHA address with the patient, or offer to create an ABHA."},
}

// invalidKind is the validation kind for a step's subject.
var invalidKind = map[subject]error{
	subjectAadhaar:    ErrInvalidAadhaar,
	subjectMobile:     ErrInvalidMobile,
	subjectABHANumber: ErrInvalidABHANumber,
	subjectAddress:    ErrInvalidAddress,
}

// newError builds an *Error of kind with its standard text.
func newError(st step, kind error) *Error {
	e := &Error{Kind: kind, Step: st.name, AttemptsLeft: -1}
	t := text[kind]
	if kind == ErrNoAccount {
		if nt, ok := noAccountText[st.subject]; ok {
			t = nt
		}
	}
	e.Explanation, e.Advice = t[0], t[1]
	return e
}

var attemptsPattern = regexp.MustCompile(`(?i)(\d+)\s+attempts?\s+(left|remaining)`)

// classify reads an ABHA error answer in the context of the step that
// got it. ABDM reuses codes across services (ABDM-1101 is a duplicate data
// transfer on the gateway but a taken address here), which is why this is
// done here and not by abdm.ParseError alone.
func classify(st step, api *abdm.Error) *Error {
	code, msg := api.Code, strings.ToLower(api.Message)
	var kind error
	switch {
	case code == "ABDM-1100":
		kind = ErrTooManyAttempts
	case code == "ABDM-1204":
		switch {
		case strings.Contains(msg, ": 998 ") || strings.Contains(msg, "aadhaar number"):
			kind = ErrInvalidAadhaar
		case strings.Contains(msg, "expired"):
			kind = ErrOTPExpired
		case strings.Contains(msg, "otp"):
			kind = ErrWrongOTP
		}
	case code == "ABDM-1017":
		kind = ErrTransactionExpired
	case code == "ABDM-1114", code == "ABDM-1211":
		kind = ErrNoAccount
	case code == "ABDM-1101" && st.name == stepCreateAddress.name:
		kind = ErrAddressTaken
	case code == "ABDM-1170":
		kind = ErrInvalidAddress
	case code == "ABDM-1013":
		kind = ErrInvalidABHANumber
	case code == "ABDM-1303", code == "ABDM-1304", code == "ABDM-1305":
		kind = ErrMobileNotLinked
	case code == "ABDM-1094" || code == "ABDM-1126" || code == "ABDM-1127" || code == "ABDM-1128" ||
		code == "ABDM-1129" || code == "ABDM-1130" || code == "ABDM-1131" || code == "ABDM-1158" || code == "ABDM-1919":
		kind = ErrTokenExpired
	case code == "" && (strings.Contains(msg, "invalid x-token") || strings.Contains(msg, "invalid t-token") ||
		strings.Contains(msg, "invalid r-token")):
		kind = ErrTokenExpired
	case code == "ABDM-1006" && strings.Contains(msg, "mobile"):
		kind = ErrInvalidMobile
	case code == "" && strings.HasPrefix(msg, "loginid:"):
		kind = invalidKind[st.subject]
	case code == "" && strings.HasPrefix(msg, "otpvalue:"):
		kind = ErrInvalidOTP
	case code == "" && strings.HasPrefix(msg, "mobile:"):
		kind = ErrInvalidMobile
	}
	if kind == nil {
		e := &Error{Step: st.name, API: api, AttemptsLeft: -1, Explanation: api.Explanation, Advice: api.Advice}
		if code == "ABDM-1204" {
			e.Explanation = "Aadhaar (UIDAI) refused the request: " + api.Message
			e.Advice = "Check the Aadhaar number with the patient and try again."
		}
		return e
	}
	e := newError(st, kind)
	e.API = api
	if kind == ErrWrongOTP {
		e.AttemptsLeft = attemptsIn(api.Message)
		e.Explanation = wrongOTPText(e.AttemptsLeft)
	}
	return e
}

func attemptsIn(msg string) int {
	if m := attemptsPattern.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n
		}
	}
	return -1
}

func wrongOTPText(left int) string {
	switch {
	case left == 1:
		return text[ErrWrongOTP][0] + " 1 attempt left."
	case left >= 0:
		return text[ErrWrongOTP][0] + " " + strconv.Itoa(left) + " attempts left."
	}
	return text[ErrWrongOTP][0]
}

// authFailed turns a 200 that carries authResult "failed" (allowed by the
// spec for ABDM OTPs) into an error.
func authFailed(st step, message string) *Error {
	api := abdm.ErrorDetail{Message: message}.Err()
	kind := ErrWrongOTP
	if strings.Contains(strings.ToLower(message), "expired") {
		kind = ErrOTPExpired
	}
	e := newError(st, kind)
	e.API = api
	if kind == ErrWrongOTP {
		e.AttemptsLeft = attemptsIn(message)
		e.Explanation = wrongOTPText(e.AttemptsLeft)
	}
	return e
}
