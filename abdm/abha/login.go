package abha

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

// LoginMethod is what the patient is identified by.
type LoginMethod string

// Login methods (VRFY_ABHA_101–405).
const (
	LoginABHANumber  LoginMethod = "abha-number"
	LoginABHAAddress LoginMethod = "abha-address"
	LoginMobile      LoginMethod = "mobile"
	LoginAadhaar     LoginMethod = "aadhaar"
)

// OTPChannel is where the login OTP goes.
type OTPChannel string

// OTP channels.
const (
	// ViaAadhaar: UIDAI sends the OTP to the Aadhaar-linked mobile.
	ViaAadhaar OTPChannel = "aadhaar"
	// ViaMobile: ABDM sends it to the mobile linked with the ABHA.
	ViaMobile OTPChannel = "mobile"
)

// LoginRequest starts a verification.
type LoginRequest struct {
	Method LoginMethod
	// ID is the ABHA number, ABHA address, mobile or Aadhaar number as
	// typed.
	ID string
	// Via chooses the OTP channel for ABHA number and address logins.
	// Aadhaar logins always go via Aadhaar and mobile logins via mobile;
	// leave it empty for those.
	Via OTPChannel
}

// LoginOTP is a login waiting for its OTP. Keep it (it holds no secret)
// and pass it to VerifyLoginOTP.
type LoginOTP struct {
	TxnID        string
	Method       LoginMethod
	Via          OTPChannel
	Message      string
	MaskedMobile string
	SentAt       time.Time
}

// Account is one ABHA a verified login may continue with.
type Account struct {
	ABHANumber  string
	Address     string // preferred ABHA address
	Name        string
	Gender      string
	BirthDate   Date
	Status      string
	Photo       string // base64, "" when none
	KYCVerified bool
}

// Login is a verified login.
type Login struct {
	TxnID    string
	Message  string
	Accounts []Account
	// Token is the patient's X-token, or, after a mobile OTP, a T-token
	// that SelectAccount exchanges for the chosen account's X-token.
	Token UserToken
}

// NeedsAccountSelection reports whether the patient must pick one of
// Accounts (show the chooser even for one account; never pick silently).
func (l *Login) NeedsAccountSelection() bool { return l.Token.Kind == TokenTransfer }

var (
	stepLoginOTP     = step{name: "request login OTP"}
	stepLoginVerify  = step{name: "verify login OTP"}
	stepSelect       = step{name: "select ABHA account", subject: subjectABHANumber}
	stepAddressFind  = step{name: "find ABHA address", subject: subjectAddress}
	stepAddressLogin = step{name: "request ABHA address OTP", subject: subjectAddress}
)

func subjectOf(m LoginMethod) subject {
	switch m {
	case LoginAadhaar:
		return subjectAadhaar
	case LoginMobile:
		return subjectMobile
	case LoginABHANumber:
		return subjectABHANumber
	case LoginABHAAddress:
		return subjectAddress
	}
	return subjectNone
}

// verifyScope is the scope member and otpSystem of a channel.
func verifyScope(via OTPChannel) (scope, otpSystem string) {
	if via == ViaAadhaar {
		return "aadhaar-verify", "aadhaar"
	}
	return "mobile-verify", "abdm"
}

// channelFor checks the request's channel against its method.
func channelFor(r LoginRequest) (OTPChannel, error) {
	switch r.Method {
	case LoginAadhaar:
		if r.Via == "" || r.Via == ViaAadhaar {
			return ViaAadhaar, nil
		}
	case LoginMobile:
		if r.Via == "" || r.Via == ViaMobile {
			return ViaMobile, nil
		}
	case LoginABHANumber, LoginABHAAddress:
		if r.Via == ViaAadhaar || r.Via == ViaMobile {
			return r.Via, nil
		}
		return "", fmt.Errorf("abha login: %s login needs Via (ViaAadhaar or ViaMobile)", r.Method)
	default:
		return "", fmt.Errorf("abha login: unknown method %q", r.Method)
	}
	return "", fmt.Errorf("abha login: %s login cannot use an OTP via %s", r.Method, r.Via)
}

// AddressInfo is what the service tells about an ABHA address before a
// login.
type AddressInfo struct {
	ABHANumber         string
	Address            string
	FullName           string
	MaskedMobile       string
	Status             string
	AuthMethods        []string // AADHAAR_OTP, MOBILE_OTP, DEMOGRAPHICS, ...
	BlockedAuthMethods []string
}

// FindAddress looks an ABHA address up (ErrNoAccount when there is none),
// so the screen can offer the login methods the account has.
func (c *Client) FindAddress(ctx context.Context, tenant, address string) (*AddressInfo, error) {
	a, err := normalizeAddress(address, c.domain)
	if err != nil {
		return nil, invalid(stepAddressFind, ErrInvalidAddress)
	}
	var out struct {
		HealthIDNumber     string   `json:"healthIdNumber"`
		ABHAAddress        string   `json:"abhaAddress"`
		AuthMethods        []string `json:"authMethods"`
		BlockedAuthMethods []string `json:"blockedAuthMethods"`
		Status             string   `json:"status"`
		FullName           string   `json:"fullName"`
		Mobile             string   `json:"mobile"`
	}
	_, err = c.call(ctx, tenant, stepAddressFind, abdm.Request{Path: PathAddressSearch,
		Body: map[string]string{"abhaAddress": a}}, &out)
	if err != nil {
		return nil, err
	}
	return &AddressInfo{
		ABHANumber: out.HealthIDNumber, Address: out.ABHAAddress, FullName: out.FullName,
		MaskedMobile: maskedMobile.FindString(out.Mobile), Status: out.Status,
		AuthMethods: out.AuthMethods, BlockedAuthMethods: out.BlockedAuthMethods,
	}, nil
}

// RequestLoginOTP starts a verification by ABHA number, ABHA address,
// mobile or Aadhaar number. Calling it again is the resend.
func (c *Client) RequestLoginOTP(ctx context.Context, tenant string, r LoginRequest) (*LoginOTP, error) {
	via, err := channelFor(r)
	if err != nil {
		return nil, err
	}
	st := step{name: stepLoginOTP.name, subject: subjectOf(r.Method)}
	var loginID string
	switch r.Method {
	case LoginAadhaar:
		loginID, err = NormalizeAadhaar(r.ID)
	case LoginMobile:
		loginID, err = NormalizeMobile(r.ID)
	case LoginABHANumber:
		loginID, err = NormalizeABHANumber(r.ID)
	case LoginABHAAddress:
		st = stepAddressLogin
		loginID, err = normalizeAddress(r.ID, c.domain)
	}
	if err != nil {
		return nil, invalid(st, invalidKind[st.subject])
	}
	scope, otpSystem := verifyScope(via)
	path, key, base := PathLoginRequestOTP, ProfileCertificate, "abha-login"
	if r.Method == LoginABHAAddress {
		path, key, base = PathAddressRequestOTP, c.phrWebKey, "abha-address-login"
	}
	enc, err := c.encrypt(ctx, tenant, key, loginID)
	if err != nil {
		return nil, err
	}
	var out otpResponse
	_, err = c.call(ctx, tenant, st, abdm.Request{Path: path, Body: otpRequestBody{
		Scope: []string{base, scope}, LoginHint: string(r.Method), LoginID: enc, OTPSystem: otpSystem,
	}}, &out)
	if err != nil {
		return nil, err
	}
	sent := otpSent(out, c.now())
	return &LoginOTP{TxnID: sent.TxnID, Method: r.Method, Via: via, Message: sent.Message,
		MaskedMobile: sent.MaskedMobile, SentAt: sent.SentAt}, nil
}

// loginAccountBody is one of the accounts of /v3/profile/login/verify.
type loginAccountBody struct {
	ABHANumber           string   `json:"ABHANumber"`
	PreferredABHAAddress string   `json:"preferredAbhaAddress"`
	Name                 string   `json:"name"`
	Gender               string   `json:"gender"`
	DOB                  string   `json:"dob"`
	Status               string   `json:"status"`
	ProfilePhoto         string   `json:"profilePhoto"`
	KYCVerified          flexBool `json:"kycVerified"`
}

// VerifyLoginOTP verifies the OTP of a login. Logins by Aadhaar and ABHA
// number end with the patient's X-token; a mobile login ends with the
// accounts on that mobile and a T-token for SelectAccount; an address
// login with an X-token for that address. ErrNoAccount after an Aadhaar
// OTP means no ABHA has that Aadhaar number: offer creation.
func (c *Client) VerifyLoginOTP(ctx context.Context, tenant string, l *LoginOTP, otp string) (*Login, error) {
	st := step{name: stepLoginVerify.name, subject: subjectOf(l.Method)}
	v, valid := validOTP(otp)
	if !valid {
		return nil, invalid(st, ErrInvalidOTP)
	}
	scope, _ := verifyScope(l.Via)
	if l.Method == LoginABHAAddress {
		return c.verifyAddressLogin(ctx, tenant, st, l, scope, v)
	}
	enc, err := c.encrypt(ctx, tenant, ProfileCertificate, v)
	if err != nil {
		return nil, err
	}
	var out struct {
		TxnID            string             `json:"txnId"`
		AuthResult       string             `json:"authResult"`
		Message          string             `json:"message"`
		Token            string             `json:"token"`
		ExpiresIn        seconds            `json:"expiresIn"`
		RefreshToken     string             `json:"refreshToken"`
		RefreshExpiresIn seconds            `json:"refreshExpiresIn"`
		Accounts         []loginAccountBody `json:"accounts"`
	}
	_, err = c.call(ctx, tenant, st, abdm.Request{Path: PathLoginVerify, Body: authBody{
		Scope:    []string{"abha-login", scope},
		AuthData: authDataBody{AuthMethods: []string{"otp"}, OTP: otpAuthBody{TxnID: l.TxnID, OTPValue: enc}},
	}}, &out)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(out.AuthResult, "success") {
		return nil, authFailed(st, out.Message)
	}
	login := &Login{TxnID: out.TxnID, Message: out.Message}
	if login.TxnID == "" {
		login.TxnID = l.TxnID
	}
	for _, a := range out.Accounts {
		login.Accounts = append(login.Accounts, Account{
			ABHANumber: a.ABHANumber, Address: a.PreferredABHAAddress, Name: a.Name, Gender: a.Gender,
			BirthDate: parseDate(a.DOB), Status: a.Status, Photo: a.ProfilePhoto, KYCVerified: bool(a.KYCVerified),
		})
	}
	// "Has a refresh token ⇒ final" [OBS]: otherwise it is a T-token.
	kind := TokenTransfer
	if out.RefreshToken != "" {
		kind = TokenProfile
	}
	login.Token = tokensBody{Token: out.Token, ExpiresIn: out.ExpiresIn, RefreshToken: out.RefreshToken,
		RefreshExpiresIn: out.RefreshExpiresIn}.userToken(kind, c.now())
	if kind == TokenProfile && len(login.Accounts) == 1 {
		login.Token.ABHANumber, login.Token.Address = login.Accounts[0].ABHANumber, login.Accounts[0].Address
	}
	c.log.DebugContext(ctx, "abha login verified", "tenant", tenant, "method", string(l.Method),
		"accounts", len(login.Accounts), "needs_selection", login.NeedsAccountSelection())
	return login, nil
}

func (c *Client) verifyAddressLogin(ctx context.Context, tenant string, st step, l *LoginOTP, scope, otp string) (*Login, error) {
	enc, err := c.encrypt(ctx, tenant, c.phrWebKey, otp)
	if err != nil {
		return nil, err
	}
	var out struct {
		Message    string `json:"message"`
		AuthResult string `json:"authResult"`
		Users      []struct {
			ABHAAddress string `json:"abhaAddress"`
			FullName    string `json:"fullName"`
			ABHANumber  string `json:"abhaNumber"`
			Status      string `json:"status"`
			KYCStatus   string `json:"kycStatus"`
		} `json:"users"`
		Tokens tokensBody `json:"tokens"`
	}
	_, err = c.call(ctx, tenant, st, abdm.Request{Path: PathAddressVerify, Body: authBody{
		Scope:    []string{"abha-address-login", scope},
		AuthData: authDataBody{AuthMethods: []string{"otp"}, OTP: otpAuthBody{TxnID: l.TxnID, OTPValue: enc}},
	}}, &out)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(out.AuthResult, "success") {
		return nil, authFailed(st, out.Message)
	}
	login := &Login{TxnID: l.TxnID, Message: out.Message, Token: out.Tokens.userToken(TokenPHR, c.now())}
	for _, u := range out.Users {
		login.Accounts = append(login.Accounts, Account{
			ABHANumber: u.ABHANumber, Address: u.ABHAAddress, Name: u.FullName, Status: u.Status,
			KYCVerified: strings.EqualFold(u.KYCStatus, "verified"),
		})
	}
	if len(login.Accounts) > 0 {
		login.Token.ABHANumber, login.Token.Address = login.Accounts[0].ABHANumber, login.Accounts[0].Address
	}
	return login, nil
}

// SelectAccount finishes a mobile login: the patient's chosen account
// (one of login.Accounts) gets an X-token for the T-token.
func (c *Client) SelectAccount(ctx context.Context, tenant string, login *Login, abhaNumber string) (UserToken, error) {
	if !login.NeedsAccountSelection() {
		return UserToken{}, fmt.Errorf("abha %s: the login already has the patient's token", stepSelect.name)
	}
	n, err := NormalizeABHANumber(abhaNumber)
	if err != nil || !slices.ContainsFunc(login.Accounts, func(a Account) bool { return a.ABHANumber == n }) {
		e := newError(stepSelect, ErrInvalidABHANumber)
		e.Explanation = "The chosen ABHA number is not one of the accounts on this mobile."
		e.Advice = "Pick one of the accounts shown."
		return UserToken{}, e
	}
	if login.Token.Expired(c.now()) {
		return UserToken{}, newError(stepSelect, ErrTokenExpired)
	}
	var out tokensBody
	_, err = c.call(ctx, tenant, stepSelect, abdm.Request{
		Path:   PathLoginVerifyUser,
		Header: header("T-token", bearer(login.Token.Value)),
		Body:   map[string]string{"ABHANumber": n, "txnId": login.TxnID},
	}, &out)
	if err != nil {
		return UserToken{}, err
	}
	tok := out.userToken(TokenProfile, c.now())
	tok.ABHANumber = n
	for _, a := range login.Accounts {
		if a.ABHANumber == n {
			tok.Address = a.Address
		}
	}
	return tok, nil
}
