package abha

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

// The enrolment consent block NHA publishes (text v1.4).
const (
	ConsentCode    = "abha-enrollment"
	ConsentVersion = "1.4"
)

// Consent is the patient's agreement to ABHA enrolment with Aadhaar, shown
// and recorded before the Aadhaar number is used (CRT_ABHA_102). The
// Client refuses to start without it and hands it back with the result;
// storing it is the caller's job.
type Consent struct {
	Code    string // ConsentCode
	Version string // ConsentVersion
	// Language is the language the text was shown in, e.g. "en" or "hi".
	Language string
	// RecordedBy identifies the staff member who recorded the agreement.
	RecordedBy string
	// AgreedAt is when the patient agreed.
	AgreedAt time.Time
}

func (c Consent) complete() bool {
	return c.Code != "" && c.Version != "" && c.RecordedBy != "" && !c.AgreedAt.IsZero()
}

// OTPSent is the answer to an OTP request.
type OTPSent struct {
	TxnID string
	// Message is the service's wording, e.g. "OTP sent to Aadhaar
	// registered mobile number ending with ******1234".
	Message string
	// MaskedMobile is the masked number the message names ("******1234"),
	// for the prompt the certification cases ask for; "" if none.
	MaskedMobile string
	SentAt       time.Time
}

var maskedMobile = regexp.MustCompile(`[*xX]{2,}\d{2,4}`)

func otpSent(r otpResponse, at time.Time) *OTPSent {
	return &OTPSent{TxnID: r.TxnID, Message: r.Message, MaskedMobile: maskedMobile.FindString(r.Message), SentAt: at}
}

// Wire bodies of the OTP calls.
type otpRequestBody struct {
	TxnID     string   `json:"txnId,omitempty"`
	Scope     []string `json:"scope"`
	LoginHint string   `json:"loginHint"`
	LoginID   string   `json:"loginId"`
	OTPSystem string   `json:"otpSystem"`
}

type otpResponse struct {
	TxnID   string `json:"txnId"`
	Message string `json:"message"`
}

type authBody struct {
	Scope    []string     `json:"scope,omitempty"`
	AuthData authDataBody `json:"authData"`
	Consent  *consentBody `json:"consent,omitempty"`
}

type authDataBody struct {
	AuthMethods []string    `json:"authMethods"`
	OTP         otpAuthBody `json:"otp"`
}

type otpAuthBody struct {
	TimeStamp string `json:"timeStamp,omitempty"`
	TxnID     string `json:"txnId"`
	OTPValue  string `json:"otpValue"`
	Mobile    string `json:"mobile,omitempty"`
}

type consentBody struct {
	Code    string `json:"code"`
	Version string `json:"version"`
}

var (
	stepAadhaarOTP       = step{name: "request Aadhaar OTP", subject: subjectAadhaar}
	stepEnrol            = step{name: "enrol by Aadhaar"}
	stepMobileOTP        = step{name: "request mobile OTP", subject: subjectMobile}
	stepMobileVerify     = step{name: "verify mobile OTP"}
	stepSuggest          = step{name: "ABHA address suggestions"}
	stepCreateAddress    = step{name: "create ABHA address", subject: subjectAddress}
	stepDemographicEnrol = step{name: "enrol by demographics"}
)

// RequestAadhaarOTP starts an enrolment: UIDAI sends an OTP to the mobile
// linked with the Aadhaar number. consent must be complete (recorded
// before the number is used). Calling it again is the "resend": the
// certification cases allow two resends, 60 s apart, which the screen
// enforces.
func (c *Client) RequestAadhaarOTP(ctx context.Context, tenant, aadhaar string, consent Consent) (*OTPSent, error) {
	if !consent.complete() {
		return nil, invalid(stepAadhaarOTP, ErrConsentRequired)
	}
	n, err := NormalizeAadhaar(aadhaar)
	if err != nil {
		return nil, invalid(stepAadhaarOTP, ErrInvalidAadhaar)
	}
	loginID, err := c.encrypt(ctx, tenant, ProfileCertificate, n)
	if err != nil {
		return nil, err
	}
	var out otpResponse
	_, err = c.call(ctx, tenant, stepAadhaarOTP, abdm.Request{Path: PathEnrolRequestOTP, Body: otpRequestBody{
		Scope: []string{"abha-enrol"}, LoginHint: "aadhaar", LoginID: loginID, OTPSystem: "aadhaar",
	}}, &out)
	if err != nil {
		return nil, err
	}
	return otpSent(out, c.now()), nil
}

// EnrolRequest is the Aadhaar OTP step of an enrolment.
type EnrolRequest struct {
	TxnID string
	OTP   string
	// Mobile is the patient's communication mobile, sent in clear as the
	// API expects. When it is not the Aadhaar-linked one, the ABHA gets it
	// only after RequestMobileOTP and VerifyMobileOTP.
	Mobile  string
	Consent Consent
}

// Enrolment is the result of EnrolByAadhaar.
type Enrolment struct {
	TxnID string
	// IsNew is false when the Aadhaar number already had an ABHA: the
	// service returns that ABHA instead of creating a second one.
	IsNew   bool
	Message string
	// Token is the patient's X-token for Profile and Card.
	Token   UserToken
	Profile Profile
	// MobileVerificationNeeded: the communication mobile is not the one on
	// the ABHA; verify it with RequestMobileOTP and VerifyMobileOTP.
	MobileVerificationNeeded bool
	// Consent is the consent that was sent, for the caller to record.
	Consent Consent
}

type enrolResponse struct {
	Message     string       `json:"message"`
	TxnID       string       `json:"txnId"`
	IsNew       bool         `json:"isNew"`
	Tokens      tokensBody   `json:"tokens"`
	ABHAProfile enrolledABHA `json:"ABHAProfile"`
}

// EnrolByAadhaar verifies the Aadhaar OTP and creates the ABHA, or returns
// the existing one (IsNew false).
func (c *Client) EnrolByAadhaar(ctx context.Context, tenant string, r EnrolRequest) (*Enrolment, error) {
	if !r.Consent.complete() {
		return nil, invalid(stepEnrol, ErrConsentRequired)
	}
	otp, valid := validOTP(r.OTP)
	if !valid {
		return nil, invalid(stepEnrol, ErrInvalidOTP)
	}
	mobile, err := NormalizeMobile(r.Mobile)
	if err != nil {
		return nil, invalid(stepEnrol, ErrInvalidMobile)
	}
	enc, err := c.encrypt(ctx, tenant, ProfileCertificate, otp)
	if err != nil {
		return nil, err
	}
	var out enrolResponse
	_, err = c.call(ctx, tenant, stepEnrol, abdm.Request{Path: PathEnrolByAadhaar, Body: authBody{
		AuthData: authDataBody{AuthMethods: []string{"otp"}, OTP: otpAuthBody{
			TimeStamp: abdm.FormatTimestamp(c.now()), TxnID: r.TxnID, OTPValue: enc, Mobile: mobile,
		}},
		Consent: &consentBody{Code: r.Consent.Code, Version: r.Consent.Version},
	}}, &out)
	if err != nil {
		return nil, err
	}
	p := out.ABHAProfile.profile()
	tok := out.Tokens.userToken(TokenProfile, c.now())
	tok.ABHANumber, tok.Address = p.ABHANumber, p.Address
	txn := out.TxnID
	if txn == "" {
		txn = r.TxnID
	}
	c.log.DebugContext(ctx, "abha enrolment verified", "tenant", tenant, "is_new", out.IsNew)
	return &Enrolment{
		TxnID: txn, IsNew: out.IsNew, Message: out.Message, Token: tok, Profile: p,
		MobileVerificationNeeded: p.Mobile != mobile, Consent: r.Consent,
	}, nil
}

// RequestMobileOTP sends an OTP to the communication mobile of an
// enrolment whose mobile differs from the Aadhaar-linked one (CRT_ABHA_109).
func (c *Client) RequestMobileOTP(ctx context.Context, tenant, txnID, mobile string) (*OTPSent, error) {
	m, err := NormalizeMobile(mobile)
	if err != nil {
		return nil, invalid(stepMobileOTP, ErrInvalidMobile)
	}
	loginID, err := c.encrypt(ctx, tenant, ProfileCertificate, m)
	if err != nil {
		return nil, err
	}
	var out otpResponse
	_, err = c.call(ctx, tenant, stepMobileOTP, abdm.Request{Path: PathEnrolRequestOTP, Body: otpRequestBody{
		TxnID: txnID, Scope: []string{"abha-enrol", "mobile-verify"}, LoginHint: "mobile", LoginID: loginID, OTPSystem: "abdm",
	}}, &out)
	if err != nil {
		return nil, err
	}
	return otpSent(out, c.now()), nil
}

// MobileVerified is the result of VerifyMobileOTP.
type MobileVerified struct {
	TxnID       string
	Message     string
	ABHANumbers []string // the ABHAs the mobile is now linked to
}

type authResultResponse struct {
	TxnID      string `json:"txnId"`
	AuthResult string `json:"authResult"`
	Message    string `json:"message"`
	Accounts   []struct {
		ABHANumber string `json:"ABHANumber"`
	} `json:"accounts"`
}

// VerifyMobileOTP verifies the OTP sent by RequestMobileOTP; the ABHA then
// carries the mobile. A wrong OTP is reported with HTTP 200 and
// authResult "failed" by the service; it comes back as ErrWrongOTP.
func (c *Client) VerifyMobileOTP(ctx context.Context, tenant, txnID, otp string) (*MobileVerified, error) {
	v, valid := validOTP(otp)
	if !valid {
		return nil, invalid(stepMobileVerify, ErrInvalidOTP)
	}
	enc, err := c.encrypt(ctx, tenant, ProfileCertificate, v)
	if err != nil {
		return nil, err
	}
	var out authResultResponse
	_, err = c.call(ctx, tenant, stepMobileVerify, abdm.Request{Path: PathEnrolAuthByABDM, Body: authBody{
		Scope:    []string{"abha-enrol", "mobile-verify"},
		AuthData: authDataBody{AuthMethods: []string{"otp"}, OTP: otpAuthBody{TxnID: txnID, OTPValue: enc}},
	}}, &out)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(out.AuthResult, "success") {
		return nil, authFailed(stepMobileVerify, out.Message)
	}
	mv := &MobileVerified{TxnID: out.TxnID, Message: out.Message}
	for _, a := range out.Accounts {
		mv.ABHANumbers = append(mv.ABHANumbers, a.ABHANumber)
	}
	return mv, nil
}

// AddressSuggestions lists ABHA addresses (without the @ domain) the
// service proposes for the enrolment. The certification cases want at
// least three shown, or a free field with AddressPolicy.
func (c *Client) AddressSuggestions(ctx context.Context, tenant, txnID string) ([]string, error) {
	var out struct {
		TxnID           string   `json:"txnId"`
		ABHAAddressList []string `json:"abhaAddressList"`
	}
	_, err := c.call(ctx, tenant, stepSuggest, abdm.Request{
		Method: http.MethodGet, Path: PathEnrolSuggestion, Header: header("TRANSACTION_ID", txnID),
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.ABHAAddressList, nil
}

// AddressCreated is the result of CreateAddress.
type AddressCreated struct {
	TxnID      string
	ABHANumber string
	// Address is the new preferred ABHA address, with its domain.
	Address string
}

// CreateAddress creates an ABHA address for the enrolment and makes it the
// preferred one. name may carry the domain (chosen@sbx) or not; it must
// follow AddressPolicy. A taken address is ErrAddressTaken: offer the
// suggestions.
func (c *Client) CreateAddress(ctx context.Context, tenant, txnID, name string) (*AddressCreated, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if ValidateAddressName(name) != nil {
		return nil, invalid(stepCreateAddress, ErrInvalidAddress)
	}
	var out struct {
		TxnID                string `json:"txnId"`
		HealthIDNumber       string `json:"healthIdNumber"`
		PreferredABHAAddress string `json:"preferredAbhaAddress"`
	}
	_, err := c.call(ctx, tenant, stepCreateAddress, abdm.Request{Path: PathEnrolABHAAddress, Body: map[string]any{
		"txnId": txnID, "abhaAddress": name, "preferred": 1,
	}}, &out)
	if err != nil {
		return nil, err
	}
	return &AddressCreated{TxnID: out.TxnID, ABHANumber: out.HealthIDNumber, Address: out.PreferredABHAAddress}, nil
}

// Demographics is what a demographic enrolment would send.
type Demographics struct {
	Aadhaar   string
	Name      string
	Gender    string
	BirthDate Date
	Mobile    string
	Address   string
	State     string
	District  string
	Pincode   string
	Consent   Consent
}

// EnrolByDemographics is not available and always returns an *Error of
// kind ErrNotAvailable. The reference notes list demographic variants of
// enrol/byAadhaar in NHA's V3 specification but record neither request nor
// response, and the certification workbook marks demographic creation
// (CRT_ABHA_301–309) as for government and trusted entities only.
func (c *Client) EnrolByDemographics(context.Context, string, Demographics) (*Enrolment, error) {
	e := newError(stepDemographicEnrol, ErrNotAvailable)
	e.Explanation = "Creating an ABHA from demographic details is not available: NHA offers it to government and " +
		"trusted entities only, and its V3 request is not documented for Sangam."
	e.Advice = "Create the ABHA with Aadhaar OTP instead."
	return nil, e
}
