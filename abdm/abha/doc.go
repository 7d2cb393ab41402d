// Package abha is the client of the ABDM ABHA service (V3, milestone M1):
// ABHA creation by Aadhaar OTP and ABHA verification, for the front desk.
//
// It runs over an *abdm.Client configured with the ABHA base URL, which
// adds the tenant's gateway session token and the REQUEST-ID, TIMESTAMP and
// X-CM-ID headers. The facts it follows are in reference/abdm-v3.md
// §2.1–2.4 and §5.
//
//	c, err := abha.New(abha.Config{ABDM: abdmClient, AddressDomain: "sbx"})
//
//	// Enrolment (CRT_ABHA_101–114)
//	sent, err := c.RequestAadhaarOTP(ctx, tenant, aadhaar, consent)   // sent.MaskedMobile for the prompt
//	enr, err := c.EnrolByAadhaar(ctx, tenant, abha.EnrolRequest{TxnID: sent.TxnID, OTP: otp, Mobile: mobile, Consent: consent})
//	if enr.MobileVerificationNeeded {
//		_, err = c.RequestMobileOTP(ctx, tenant, enr.TxnID, mobile)
//		_, err = c.VerifyMobileOTP(ctx, tenant, enr.TxnID, mobileOTP)
//	}
//	names, err := c.AddressSuggestions(ctx, tenant, enr.TxnID)
//	addr, err := c.CreateAddress(ctx, tenant, enr.TxnID, chosen)
//
//	// Verification (VRFY_ABHA_*)
//	lo, err := c.RequestLoginOTP(ctx, tenant, abha.LoginRequest{Method: abha.LoginMobile, ID: mobile})
//	login, err := c.VerifyLoginOTP(ctx, tenant, lo, otp)
//	tok := login.Token
//	if login.NeedsAccountSelection() {
//		tok, err = c.SelectAccount(ctx, tenant, login, chosenABHANumber)
//	}
//	profile, err := c.Profile(ctx, tenant, tok)
//	card, err := c.Card(ctx, tenant, tok)
//
// Aadhaar numbers, mobiles, OTPs and login ids are encrypted with
// RSA-OAEP (SHA-1) under the service's public key, fetched from its
// certificate endpoint and cached (Config.CertificateTTL). Nothing the
// patient typed, no OTP and no token is ever logged or put in an error.
//
// The client keeps no patient state. Each step returns what the next one
// needs: transaction ids and, as UserToken, the patient's X-token or
// T-token. Those tokens are bearer credentials to the patient's ABHA: the
// caller keeps them server-side, encrypted, and only until they expire.
//
// Every refusal comes back as an *Error whose Kind (ErrWrongOTP,
// ErrNoAccount, ErrAddressTaken, ...) says what happened in this step and
// whose Explanation and Advice are written for front-desk staff. The
// service's own answer is kept in Error.API (an *abdm.Error).
//
// Creation by demographic authentication is not available
// (EnrolByDemographics explains why).
package abha
