package abha

import (
	"slices"
	"strings"
)

// fullAddress lower-cases an ABHA address and adds the domain when the
// caller sent only the name.
func (s *Service) fullAddress(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	if !strings.Contains(a, "@") {
		a += "@" + s.cfg.AddressSuffix
	}
	return a
}

// addressSearch answers POST /v3/phr/web/login/abha/search.
func (s *Service) addressSearch(c *call) reply {
	var b struct {
		ABHAAddress string `json:"abhaAddress"`
	}
	if rep := decode(c, &b); rep != nil {
		return *rep
	}
	if b.ABHAAddress == "" {
		return errInvalidBody
	}
	full := s.fullAddress(b.ABHAAddress)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.addresses[full]
	if a == nil {
		return errNoAddress
	}
	methods := []string{"AADHAAR_OTP", "DEMOGRAPHICS"}
	if a.Mobile != "" {
		methods = []string{"AADHAAR_OTP", "MOBILE_OTP", "DEMOGRAPHICS"}
	}
	return ok(map[string]any{
		"healthIdNumber": a.ABHANumber, "abhaAddress": full, "authMethods": methods,
		"blockedAuthMethods": []string{}, "status": a.Status, "message": "User found",
		"fullName": a.resident.Name(), "mobile": maskMobile(a.Mobile),
	})
}

// addressRequestOTP answers POST /v3/phr/web/login/abha/request/otp.
func (s *Service) addressRequestOTP(c *call) reply {
	var b otpRequest
	if rep := decode(c, &b); rep != nil {
		return *rep
	}
	channel, valid := verifyScope(b.Scope, "abha-address-login", b.OTPSystem)
	if !valid {
		return errScopes
	}
	if b.LoginHint != "abha-address" {
		return errLoginHint
	}
	addr, rep := s.decryptField(c, "loginId", "LoginId", b.LoginID, phrWebKeys)
	if rep != nil {
		return *rep
	}
	full := s.fullAddress(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.addresses[full]
	if a == nil {
		return errNoAddress
	}
	to := a.resident.Mobile
	if channel == channelABDM {
		if a.Mobile == "" {
			return errMobileMissing
		}
		to = a.Mobile
	}
	t := s.newTxnLocked(c, txnAddressLogin)
	t.hint, t.address, t.accounts = "abha-address", full, []string{digits(a.ABHANumber)}
	if rep := s.sendOTPLocked(c, t, channel, "address-login", to, "address:"+full); rep != nil {
		delete(s.txns, t.id)
		return *rep
	}
	return ok(map[string]string{"txnId": t.id, "message": otpSentMessage(channel, to)})
}

// addressVerify answers POST /v3/phr/web/login/abha/verify with the users
// and an X-token for the ABHA-address profile endpoints.
func (s *Service) addressVerify(c *call) reply {
	b, otp, rep := s.decodeAuth(c, phrWebKeys)
	if rep != nil {
		return *rep
	}
	if !slices.Contains(b.Scope, "abha-address-login") {
		return errScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, b.AuthData.OTP.TxnID, txnAddressLogin)
	if t == nil || t.done {
		return errTxn
	}
	if outcome, left := s.checkOTPLocked(c, t, "address-login", otp); outcome != otpOK {
		return otpFailure(t, outcome, left)
	}
	t.done = true
	a := s.addresses[t.address]
	return ok(map[string]any{
		"message": "OTP verified successfully", "authResult": "success",
		"users": []map[string]string{{
			"abhaAddress": t.address, "fullName": a.resident.Name(), "abhaNumber": a.ABHANumber,
			"status": a.Status, "kycStatus": "VERIFIED",
		}},
		"tokens": s.issuePairLocked(c, tokenPHR, digits(a.ABHANumber), t.address),
	})
}
