package abha

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// verifyScope reads the OTP channel from a login scope: aadhaar-verify goes
// with otpSystem aadhaar, mobile-verify with abdm. Anything else is an
// invalid combination.
func verifyScope(scope []string, base, otpSystem string) (channel string, valid bool) {
	if !slices.Contains(scope, base) {
		return "", false
	}
	aadhaar, mobile := slices.Contains(scope, "aadhaar-verify"), slices.Contains(scope, "mobile-verify")
	switch {
	case aadhaar && !mobile && otpSystem == channelAadhaar:
		return channelAadhaar, true
	case mobile && !aadhaar && otpSystem == channelABDM:
		return channelABDM, true
	}
	return "", false
}

// loginRequestOTP answers POST /v3/profile/login/request/otp for the
// abha-number, aadhaar and mobile hints.
func (s *Service) loginRequestOTP(c *call) reply {
	var b otpRequest
	if rep := decode(c, &b); rep != nil {
		return *rep
	}
	channel, valid := verifyScope(b.Scope, "abha-login", b.OTPSystem)
	if !valid {
		return errScopes
	}
	switch b.LoginHint {
	case "abha-number":
		return s.loginOTPByNumber(c, b, channel)
	case "aadhaar":
		if channel != channelAadhaar {
			return errScopes
		}
		r, rep := s.resident(c, b.LoginID, profileKeys)
		if rep != nil {
			return *rep
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		// Whether an ABHA exists is told only after the OTP, as the
		// certification cases expect ("NO ABHA user registered ...").
		return s.startLoginLocked(c, "aadhaar", nil, channelAadhaar, r.Mobile, "aadhaar:"+r.Aadhaar, func(t *txn) { t.resident = r })
	case "mobile":
		if channel != channelABDM {
			return errScopes
		}
		m, rep := s.decryptField(c, "loginId", "mobile number", b.LoginID, profileKeys)
		if rep != nil {
			return *rep
		}
		if !validMobile(m) {
			return errMobile
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var numbers []string
		for d, a := range s.accounts {
			if a.Mobile == m {
				numbers = append(numbers, d)
			}
		}
		if len(numbers) == 0 {
			return errUserNotFound
		}
		slices.Sort(numbers)
		return s.startLoginLocked(c, "mobile", numbers, channelABDM, m, "mobile:"+m, nil)
	}
	return errLoginHint
}

func (s *Service) loginOTPByNumber(c *call, b otpRequest, channel string) reply {
	n, rep := s.decryptField(c, "loginId", "LoginId", b.LoginID, profileKeys)
	if rep != nil {
		return *rep
	}
	d := digits(n)
	if len(d) != 14 || !isDigits(d) {
		return errABHANumber
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[d]
	if a == nil {
		return errUserNotFound
	}
	to := a.resident.Mobile
	if channel == channelABDM {
		if a.Mobile == "" {
			return errMobileMissing
		}
		to = a.Mobile
	}
	return s.startLoginLocked(c, "abha-number", []string{d}, channel, to, "abha:"+d, nil)
}

// startLoginLocked opens a login transaction and sends its OTP.
func (s *Service) startLoginLocked(c *call, hint string, numbers []string, channel, to, identity string, setup func(*txn)) reply {
	t := s.newTxnLocked(c, txnLogin)
	t.hint, t.accounts = hint, numbers
	if setup != nil {
		setup(t)
	}
	if rep := s.sendOTPLocked(c, t, channel, "login", to, identity); rep != nil {
		delete(s.txns, t.id)
		return *rep
	}
	return ok(map[string]string{"txnId": t.id, "message": otpSentMessage(channel, to)})
}

func otpSentMessage(channel, to string) string {
	if channel == channelAadhaar {
		return "OTP sent to Aadhaar registered mobile number ending with " + maskMobile(to)
	}
	return "OTP sent to mobile number ending with " + maskMobile(to)
}

// loginVerify answers POST /v3/profile/login/verify. Aadhaar-OTP and
// ABHA-number logins get the final X-token (with a refresh token); mobile
// logins get a 300 s T-token and every account on the mobile [OBS].
func (s *Service) loginVerify(c *call) reply {
	b, otp, rep := s.decodeAuth(c, profileKeys)
	if rep != nil {
		return *rep
	}
	if !slices.Contains(b.Scope, "abha-login") {
		return errScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txnLocked(c, b.AuthData.OTP.TxnID, txnLogin)
	if t == nil || t.done {
		return errTxn
	}
	if outcome, left := s.checkOTPLocked(c, t, "login", otp); outcome != otpOK {
		return otpFailure(t, outcome, left)
	}
	t.done = true
	if t.hint == "aadhaar" {
		a := s.accountByAadhaarLocked(t.resident.Aadhaar)
		if a == nil {
			return errNoAadhaarABHA
		}
		t.accounts = []string{digits(a.ABHANumber)}
	}
	accounts := make([]map[string]any, 0, len(t.accounts))
	for _, d := range t.accounts {
		accounts = append(accounts, loginAccount(s.accounts[d]))
	}
	body := map[string]any{
		"txnId": t.id, "authResult": "success", "message": "OTP verified successfully", "accounts": accounts,
	}
	if t.hint == "mobile" {
		body["token"] = s.issueLocked(&userToken{kind: tokenTransfer, clientID: c.clientID, txnID: t.id,
			accounts: t.accounts, expires: c.now.Add(s.cfg.TransferTokenTTL)})
		body["expiresIn"] = int(s.cfg.TransferTokenTTL / time.Second)
		return ok(body)
	}
	p := s.issuePairLocked(c, tokenProfile, t.accounts[0], "")
	body["token"], body["expiresIn"] = p.Token, p.ExpiresIn
	body["refreshToken"], body["refreshExpiresIn"] = p.RefreshToken, p.RefreshExpiresIn
	return ok(body)
}

func loginAccount(a *Account) map[string]any {
	r := a.resident
	return map[string]any{
		"ABHANumber": a.ABHANumber, "preferredAbhaAddress": a.Preferred, "name": r.Name(),
		"gender": r.Gender, "dob": r.dob(), "status": a.Status, "profilePhoto": "", "kycVerified": true,
	}
}

// loginVerifyUser answers POST /v3/profile/login/verify/user: the T-token
// of a mobile login becomes the chosen account's X-token. The T-token
// works once.
func (s *Service) loginVerifyUser(c *call) reply {
	tt, rep := s.userTokenFrom(c, "T-token", "T-token", tokenTransfer)
	if rep != nil {
		return *rep
	}
	var b struct {
		ABHANumber string `json:"ABHANumber"`
		TxnID      string `json:"txnId"`
	}
	if rep := decode(c, &b); rep != nil {
		return *rep
	}
	if b.TxnID != tt.txnID {
		return errTxn
	}
	d := digits(strings.TrimSpace(b.ABHANumber))
	if len(d) != 14 || !isDigits(d) {
		return errABHANumber
	}
	if !slices.Contains(tt.accounts, d) {
		return errAccountPick
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	used := true
	for v, t := range s.tokens {
		if t == tt {
			delete(s.tokens, v)
			used = false
		}
	}
	if used { // a concurrent exchange got there first
		return messageError(c.now, http.StatusBadRequest, "Invalid T-token")
	}
	return reply{status: http.StatusOK, body: s.issuePairLocked(c, tokenProfile, d, "")}
}
