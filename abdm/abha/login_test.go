package abha_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm/abha"
)

// VRFY_ABHA_101 and 201: ABHA number with Aadhaar OTP or ABHA-mobile OTP.
func TestLoginByABHANumber(t *testing.T) {
	for _, tc := range []struct {
		via    abha.OTPChannel
		sentTo string
	}{
		{abha.ViaAadhaar, "9000000003"},
		{abha.ViaMobile, "9000000003"},
	} {
		t.Run(string(tc.via), func(t *testing.T) {
			h := setup(t)
			lo, err := h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginABHANumber, ID: "91000000000037", Via: tc.via})
			if err != nil {
				t.Fatal(err)
			}
			otp := h.otp(t, "txn_id", lo.TxnID)
			if otp.SentTo != tc.sentTo || lo.MaskedMobile != "******0003" {
				t.Errorf("OTP to %s, prompt %q", otp.SentTo, lo.MaskedMobile)
			}
			wantChannel := map[abha.OTPChannel]string{abha.ViaAadhaar: "aadhaar", abha.ViaMobile: "abdm"}[tc.via]
			if otp.Channel != wantChannel {
				t.Errorf("channel %s; want %s", otp.Channel, wantChannel)
			}
			// The login id went out dashed, as the service requires.
			if r := h.sent(abha.PathLoginRequestOTP); len(r) != 1 || !jsonHas(t, r[0].Body, "loginHint", "abha-number") {
				t.Errorf("request body lacks loginHint abha-number")
			} else if got := decryptLoginID(t, r[0].Body); got != numberSunita {
				t.Errorf("encrypted login id is %q; want the dashed number", got)
			}

			_, err = h.client.VerifyLoginOTP(t.Context(), tenant, lo, wrong(otp.OTP))
			abhaError(t, err, abha.ErrWrongOTP)
			login, err := h.client.VerifyLoginOTP(t.Context(), tenant, lo, otp.OTP)
			if err != nil {
				t.Fatal(err)
			}
			if login.NeedsAccountSelection() || login.Token.Kind != abha.TokenProfile || login.Token.ABHANumber != numberSunita {
				t.Errorf("login %+v", login)
			}
			p, err := h.client.Profile(t.Context(), tenant, login.Token)
			if err != nil || p.Name != "Sunita Rao" || p.Address != "sunita.rao@sbx" || p.BirthDate != (abha.Date{Year: 1978, Month: 6, Day: 21}) {
				t.Errorf("profile %+v, %v", p, err)
			}
		})
	}
}

func TestLoginByUnknownABHANumber(t *testing.T) {
	h := setup(t)
	_, err := h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginABHANumber, ID: "91-1111-2222-3333", Via: abha.ViaAadhaar})
	e := abhaError(t, err, abha.ErrNoAccount)
	if e.Explanation != "There is no ABHA with this ABHA number." {
		t.Errorf("explanation %q", e.Explanation)
	}
	_, err = h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginABHANumber, ID: "91-1111-2222-333", Via: abha.ViaAadhaar})
	abhaError(t, err, abha.ErrInvalidABHANumber)
}

// VRFY_ABHA_102 and 202, with either key for /v3/phr/web (the sources
// disagree; the sandbox takes both).
func TestLoginByABHAAddress(t *testing.T) {
	for _, key := range []abha.Certificate{abha.ProfileCertificate, abha.PHRCertificate} {
		t.Run(map[abha.Certificate]string{abha.ProfileCertificate: "profile key", abha.PHRCertificate: "phr key"}[key], func(t *testing.T) {
			h := setup(t, func(o *options) { o.client.PHRWebKey = key })
			ctx := t.Context()
			info, err := h.client.FindAddress(ctx, tenant, "Sunita.Rao")
			if err != nil {
				t.Fatal(err)
			}
			if info.ABHANumber != numberSunita || info.Address != "sunita.rao@sbx" || info.MaskedMobile != "******0003" ||
				!slices.Contains(info.AuthMethods, "MOBILE_OTP") || info.FullName != "Sunita Rao" {
				t.Errorf("address info %+v", info)
			}
			login := h.login(t, abha.LoginRequest{Method: abha.LoginABHAAddress, ID: "sunita.rao@sbx", Via: abha.ViaMobile})
			if login.NeedsAccountSelection() || login.Token.Kind != abha.TokenPHR || len(login.Accounts) != 1 ||
				login.Accounts[0].ABHANumber != numberSunita || login.Token.Address != "sunita.rao@sbx" {
				t.Errorf("address login %+v", login)
			}
			wantLen := map[abha.Certificate]int{abha.ProfileCertificate: 684, abha.PHRCertificate: 344}[key]
			if r := h.sent(abha.PathAddressRequestOTP); len(r) != 1 || len(jsonString(t, r[0].Body, "loginId")) != wantLen {
				t.Errorf("address login id not encrypted with the chosen key")
			}
			p, err := h.client.Profile(ctx, tenant, login.Token)
			if err != nil || p.Name != "Sunita Rao" || p.ABHANumber != numberSunita || p.Address != "sunita.rao@sbx" {
				t.Errorf("address profile %+v, %v", p, err)
			}
			_, err = h.client.Refresh(ctx, tenant, login.Token)
			abhaError(t, err, abha.ErrNotAvailable)
		})
	}
}

func TestLoginByUnknownABHAAddress(t *testing.T) {
	h := setup(t)
	_, err := h.client.FindAddress(t.Context(), tenant, "nobody.here@sbx")
	if e := abhaError(t, err, abha.ErrNoAccount); e.API == nil || e.API.Code != "ABDM-1211" {
		t.Errorf("unknown address: %+v", e)
	}
	_, err = h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginABHAAddress, ID: "nobody.here", Via: abha.ViaAadhaar})
	abhaError(t, err, abha.ErrNoAccount)
}

// VRFY_ABHA_303: one mobile, two ABHAs; the patient picks one.
func TestLoginByMobileWithAccountSelection(t *testing.T) {
	h := setup(t)
	ctx := t.Context()
	login := h.login(t, abha.LoginRequest{Method: abha.LoginMobile, ID: "+91 90000 00099"})
	if !login.NeedsAccountSelection() || login.Token.RefreshValue != "" {
		t.Fatalf("login %+v; want a T-token and a choice", login)
	}
	var got []string
	for _, a := range login.Accounts {
		got = append(got, a.ABHANumber+" "+a.Name)
	}
	if want := []string{numberMeena + " Meena Iyer", numberArjun + " Arjun Iyer"}; !slices.Equal(got, want) {
		t.Errorf("accounts %v; want %v", got, want)
	}
	if ttl := login.Token.ExpiresAt.Sub(h.clock.Now()); ttl != 300*time.Second {
		t.Errorf("T-token lives %v; want 300 s", ttl)
	}
	// The T-token opens no profile.
	if _, err := h.client.Profile(ctx, tenant, login.Token); err == nil {
		t.Error("Profile with a T-token succeeded")
	}
	// A number that was not offered is refused without a call.
	before := len(h.sent(abha.PathLoginVerifyUser))
	_, err := h.client.SelectAccount(ctx, tenant, login, numberSunita)
	abhaError(t, err, abha.ErrInvalidABHANumber)
	if len(h.sent(abha.PathLoginVerifyUser)) != before {
		t.Error("an account that was not offered was sent")
	}

	tok, err := h.client.SelectAccount(ctx, tenant, login, "91000000000059")
	if err != nil {
		t.Fatalf("SelectAccount: %v", err)
	}
	if tok.Kind != abha.TokenProfile || tok.ABHANumber != numberArjun || tok.RefreshValue == "" {
		t.Errorf("selected token %v", tok)
	}
	if r := h.sent(abha.PathLoginVerifyUser); len(r) != 1 || r[0].Header.Get("T-token") != "Bearer "+login.Token.Value {
		t.Errorf("verify/user did not carry T-token: Bearer <token>")
	}
	p, err := h.client.Profile(ctx, tenant, tok)
	if err != nil || p.Name != "Arjun Iyer" || p.ABHANumber != numberArjun {
		t.Errorf("profile %+v, %v", p, err)
	}
	// The T-token works once.
	_, err = h.client.SelectAccount(ctx, tenant, login, numberMeena)
	abhaError(t, err, abha.ErrTokenExpired)
}

// VRFY_ABHA_401–404 and 302.
func TestLoginByAadhaar(t *testing.T) {
	h := setup(t)
	login := h.login(t, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarSunita})
	if login.NeedsAccountSelection() || login.Token.ABHANumber != numberSunita || login.Token.RefreshValue == "" {
		t.Errorf("Aadhaar login %+v", login)
	}

	// Farhan has no ABHA: told after the OTP, with the creation offer.
	lo, err := h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarFarhan})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.client.VerifyLoginOTP(t.Context(), tenant, lo, h.otp(t, "txn_id", lo.TxnID).OTP)
	e := abhaError(t, err, abha.ErrNoAccount)
	if e.Explanation != "No ABHA is registered with this Aadhaar number." || e.API == nil || e.API.Code != "ABDM-1114" {
		t.Errorf("no ABHA for Aadhaar: %+v", e)
	}
	// Nor is there one on his mobile.
	_, err = h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginMobile, ID: "9000000006"})
	if e := abhaError(t, err, abha.ErrNoAccount); e.Explanation != "ABHA Number not found for this mobile number." {
		t.Errorf("no ABHA for mobile: %q", e.Explanation)
	}
	_, err = h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginMobile, ID: "12345"})
	if e := abhaError(t, err, abha.ErrInvalidMobile); e.Explanation != "Please enter a valid mobile number." {
		t.Errorf("invalid mobile: %q", e.Explanation)
	}
	// Mobile logins cannot use an Aadhaar OTP.
	if _, err := h.client.RequestLoginOTP(t.Context(), tenant, abha.LoginRequest{Method: abha.LoginMobile, ID: sharedMobile, Via: abha.ViaAadhaar}); err == nil {
		t.Error("mobile login via Aadhaar OTP accepted")
	}
}

func TestTokenRefresh(t *testing.T) {
	h := setup(t)
	login := h.login(t, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarSunita})
	h.clock.Advance(31 * time.Minute)
	if !login.Token.Expired(h.clock.Now()) {
		t.Fatal("token not expired after 31 minutes")
	}
	_, err := h.client.Profile(t.Context(), tenant, login.Token)
	if e := abhaError(t, err, abha.ErrTokenExpired); e.API != nil {
		t.Errorf("an expired token was sent: %+v", e)
	}
	// The service refuses it too, should the client's clock disagree.
	stale := login.Token
	stale.ExpiresAt = h.clock.Now().Add(time.Hour)
	_, err = h.client.Profile(t.Context(), tenant, stale)
	if e := abhaError(t, err, abha.ErrTokenExpired); e.API == nil || e.API.HTTPStatus != 401 {
		t.Errorf("service answer to an expired X-token: %+v", e)
	}

	tok, err := h.client.Refresh(t.Context(), tenant, login.Token)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.Value == login.Token.Value || tok.Expired(h.clock.Now()) || tok.ABHANumber != numberSunita {
		t.Errorf("refreshed token %v", tok)
	}
	if r := h.sent(abha.PathRefreshToken); len(r) != 1 || r[0].Header.Get("R-token") != "Bearer "+login.Token.RefreshValue {
		t.Errorf("refresh did not carry R-token: Bearer <refresh token>")
	}
	if p, err := h.client.Profile(t.Context(), tenant, tok); err != nil || p.ABHANumber != numberSunita {
		t.Errorf("profile with refreshed token: %+v, %v", p, err)
	}
}
