package abha

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// otpRequest is the body of every request/otp call.
type otpRequest struct {
	TxnID     string   `json:"txnId"`
	Scope     []string `json:"scope"`
	LoginHint string   `json:"loginHint"`
	LoginID   string   `json:"loginId"`
	OTPSystem string   `json:"otpSystem"`
}

// authRequest is the body of the OTP verification calls.
type authRequest struct {
	Scope    []string `json:"scope"`
	AuthData struct {
		AuthMethods []string `json:"authMethods"`
		OTP         struct {
			TimeStamp string `json:"timeStamp"`
			TxnID     string `json:"txnId"`
			OTPValue  string `json:"otpValue"`
			Mobile    string `json:"mobile"`
		} `json:"otp"`
	} `json:"authData"`
	Consent *struct {
		Code    string `json:"code"`
		Version string `json:"version"`
	} `json:"consent"`
}

func decode(c *call, v any) *reply {
	if err := json.Unmarshal(c.body, v); err != nil {
		return &errInvalidBody
	}
	return nil
}

// decodeAuth decodes a verification body and decrypts its OTP.
func (s *Service) decodeAuth(c *call, keys []keyKind) (authRequest, string, *reply) {
	var b authRequest
	if rep := decode(c, &b); rep != nil {
		return b, "", rep
	}
	if !slices.Contains(b.AuthData.AuthMethods, "otp") || b.AuthData.OTP.TxnID == "" {
		return b, "", &errInvalidBody
	}
	otp, rep := s.decryptField(c, "otpValue", "OTP", b.AuthData.OTP.OTPValue, keys)
	return b, otp, rep
}

// enrolRequestOTP answers POST /v3/enrollment/request/otp: the Aadhaar OTP
// that starts an enrolment, or the mobile OTP of its mobile-verify step.
func (s *Service) enrolRequestOTP(c *call) reply {
	var b otpRequest
	if rep := decode(c, &b); rep != nil {
		return *rep
	}
	if !slices.Contains(b.Scope, "abha-enrol") {
		return errScopes
	}
	switch b.LoginHint {
	case "aadhaar":
		if b.OTPSystem != channelAadhaar || slices.Contains(b.Scope, "mobile-verify") {
			return errScopes
		}
		return s.sendAadhaarEnrolOTP(c, b)
	case "mobile":
		if b.OTPSystem != channelABDM || !slices.Contains(b.Scope, "mobile-verify") {
			return errScopes
		}
		return s.sendEnrolMobileOTP(c, b)
	}
	return errLoginHint
}

// resident decrypts an Aadhaar login id and finds its holder, answering
// as UIDAI does for numbers it does not know.
func (s *Service) resident(c *call, loginID string, keys []keyKind) (Resident, *reply) {
	n, rep := s.decryptField(c, "loginId", "LoginId", loginID, keys)
	if rep != nil {
		return Resident{}, rep
	}
	if len(n) != 12 || !isDigits(n) {
		rep := fieldError(c.now, "loginId", "Invalid LoginId")
		return Resident{}, &rep
	}
	r, known := s.residents[n]
	if !known || !validAadhaar(n) {
		return Resident{}, &errUIDAIAadhaar
	}
	return r, nil
}

func (s *Service) sendAadhaarEnrolOTP(c *call, b otpRequest) reply {
	r, rep := s.resident(c, b.LoginID, profileKeys)
	if rep != nil {
		return *rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newTxnLocked(c, txnEnrol)
	t.resident = r
	if rep := s.sendOTPLocked(c, t, channelAadhaar, "enrol", r.Mobile, "aadhaar:"+r.Aadhaar); rep != nil {
		delete(s.txns, t.id)
		return *rep
	}
	return ok(map[string]string{
		"txnId":   t.id,
		"message": "OTP sent to Aadhaar registered mobile number ending with " + maskMobile(r.Mobile),
	})
}

func (s *Service) sendEnrolMobileOTP(c *call, b otpRequest) reply {
	m, rep := s.decryptField(c, "loginId", "mobile number", b.LoginID, profileKeys)
	if rep != nil {
		return *rep
	}
	if !validMobile(m) {
		return errMobile
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, b.TxnID, txnEnrol)
	if t == nil || t.account == nil {
		return errTxn
	}
	if rep := s.sendOTPLocked(c, t, channelABDM, "mobile-verify", m, "mobile:"+m); rep != nil {
		return *rep
	}
	t.mobile = m
	return ok(map[string]string{"txnId": t.id, "message": "OTP sent to mobile number ending with " + maskMobile(m)})
}

// enrolByAadhaar answers POST /v3/enrollment/enrol/byAadhaar: verify the
// Aadhaar OTP and create the ABHA, or return the one this Aadhaar already
// has with isNew=false.
func (s *Service) enrolByAadhaar(c *call) reply {
	b, otp, rep := s.decodeAuth(c, profileKeys)
	if rep != nil {
		return *rep
	}
	if b.Consent == nil || b.Consent.Code != "abha-enrollment" || b.Consent.Version == "" {
		return errConsent
	}
	mobile := b.AuthData.OTP.Mobile
	if !validMobile(mobile) {
		return errMobile
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, b.AuthData.OTP.TxnID, txnEnrol)
	if t == nil || t.account != nil {
		return errTxn
	}
	if outcome, left := s.checkOTPLocked(c, t, "enrol", otp); outcome != otpOK {
		return aadhaarOTPFailure(outcome, left)
	}
	a, isNew := s.accountByAadhaarLocked(t.resident.Aadhaar), false
	message := "This account already exist"
	if a == nil {
		a, isNew, message = s.createAccountLocked(c, t.resident, mobile), true, "Account created successfully"
	}
	t.account = a
	if mobile != a.Mobile {
		t.mobile = mobile
	}
	return ok(map[string]any{
		"message":     message,
		"txnId":       t.id,
		"isNew":       isNew,
		"tokens":      s.issuePairLocked(c, tokenProfile, digits(a.ABHANumber), ""),
		"ABHAProfile": enrolProfile(a),
	})
}

func (s *Service) accountByAadhaarLocked(aadhaar string) *Account {
	for _, a := range s.accounts {
		if a.Aadhaar == aadhaar {
			return a
		}
	}
	return nil
}

// createAccountLocked creates an ABHA for r. The mobile counts as verified
// only when it is the Aadhaar-linked one; otherwise it waits for the
// mobile-verify step.
func (s *Service) createAccountLocked(c *call, r Resident, mobile string) *Account {
	var d string
	for d == "" || s.accounts[d] != nil {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
		if err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen since Go 1.24
		}
		d = fmt.Sprintf("91%012d", n.Int64())
	}
	a := &Account{ABHANumber: dashed(d), Aadhaar: r.Aadhaar, Name: r.Name(), Status: "ACTIVE", CreatedAt: c.now, resident: r}
	if mobile == r.Mobile {
		a.Mobile = mobile
	}
	s.accounts[d] = a
	s.addAddressLocked(a, d, true) // the default address is the number itself
	return a
}

func (s *Service) addAddressLocked(a *Account, name string, preferred bool) {
	full := strings.ToLower(name) + "@" + s.cfg.AddressSuffix
	a.Addresses = append(a.Addresses, full)
	s.addresses[full] = a
	if preferred || a.Preferred == "" {
		a.Preferred = full
	}
}

func enrolProfile(a *Account) map[string]any {
	r := a.resident
	return map[string]any{
		"ABHANumber": a.ABHANumber, "phrAddress": a.Addresses,
		"firstName": r.FirstName, "middleName": r.MiddleName, "lastName": r.LastName,
		"dob": r.dob(), "gender": r.Gender, "mobile": a.Mobile, "photo": "",
		"address": r.Address, "districtCode": r.DistrictCode, "districtName": r.District,
		"stateCode": r.StateCode, "stateName": r.State, "pinCode": r.Pincode,
		"abhaType": "STANDARD", "abhaStatus": a.Status,
	}
}

// enrolAuthByABDM answers POST /v3/enrollment/auth/byAbdm: the mobile OTP
// of the mobile-verify step. A wrong OTP is a 200 with authResult
// "failed", as the spec allows.
func (s *Service) enrolAuthByABDM(c *call) reply {
	b, otp, rep := s.decodeAuth(c, profileKeys)
	if rep != nil {
		return *rep
	}
	if !slices.Contains(b.Scope, "abha-enrol") || !slices.Contains(b.Scope, "mobile-verify") {
		return errScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, b.AuthData.OTP.TxnID, txnEnrol)
	if t == nil || t.account == nil || t.otp == nil || t.otp.purpose != "mobile-verify" {
		return errTxn
	}
	if outcome, left := s.checkOTPLocked(c, t, "mobile-verify", otp); outcome != otpOK {
		return abdmOTPFailure(t, outcome, left)
	}
	t.account.Mobile = t.otp.to
	t.mobile = ""
	return ok(map[string]any{
		"txnId": t.id, "authResult": "success", "message": "OTP verified successfully",
		"accounts": []map[string]string{{"ABHANumber": t.account.ABHANumber}},
	})
}

// addressSuggestions answers GET /v3/enrollment/enrol/suggestion.
func (s *Service) addressSuggestions(c *call) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, c.r.Header.Get("TRANSACTION_ID"), txnEnrol)
	if t == nil || t.account == nil {
		return errTxn
	}
	return ok(map[string]any{"txnId": t.id, "abhaAddressList": s.suggestLocked(t.account.resident)})
}

// suggestLocked proposes at least three free addresses built from the name
// and year of birth.
func (s *Service) suggestLocked(r Resident) []string {
	first, last := lettersOnly(r.FirstName), lettersOnly(r.LastName)
	y := strconv.Itoa(r.BirthYear)
	candidates := []string{
		first + "." + last, first + "_" + last, last + "." + first,
		first + last + y, first + "." + last + y[2:], first + y,
	}
	var out []string
	for i := 0; len(out) < 5; i++ {
		var name string
		if i < len(candidates) {
			name = candidates[i]
		} else if len(out) >= 3 {
			break
		} else {
			name = first + last + strconv.Itoa(100+i)
		}
		if validAddressName(name) && s.addresses[name+"@"+s.cfg.AddressSuffix] == nil && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, strings.ToLower(s))
}

// validAddressName applies the ABHA address policy to the part before the
// @: 8–18 characters, letters and digits, at most one '.' and one '_',
// neither first nor last.
func validAddressName(n string) bool {
	if len(n) < 8 || len(n) > 18 {
		return false
	}
	dots, unders := 0, 0
	for i := range len(n) {
		switch ch := n[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case ch == '.':
			dots++
		case ch == '_':
			unders++
		default:
			return false
		}
	}
	edge := func(b byte) bool { return b == '.' || b == '_' }
	return dots <= 1 && unders <= 1 && !edge(n[0]) && !edge(n[len(n)-1])
}

// createAddress answers POST /v3/enrollment/enrol/abha-address.
func (s *Service) createAddress(c *call) reply {
	var b struct {
		TxnID       string `json:"txnId"`
		ABHAAddress string `json:"abhaAddress"`
		Preferred   int    `json:"preferred"`
	}
	if rep := decode(c, &b); rep != nil {
		return *rep
	}
	name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(b.ABHAAddress), "@"+s.cfg.AddressSuffix))
	if !validAddressName(name) {
		return errAddressPolicy
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, b.TxnID, txnEnrol)
	if t == nil || t.account == nil {
		return errTxn
	}
	if s.addresses[name+"@"+s.cfg.AddressSuffix] != nil {
		return errAddressTaken
	}
	s.addAddressLocked(t.account, name, b.Preferred == 1)
	return ok(map[string]string{
		"txnId": t.id, "healthIdNumber": t.account.ABHANumber, "preferredAbhaAddress": t.account.Preferred,
	})
}
