package abha

import (
	"errors"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
)

// classify reads the ABHA service's answers in the shapes of reference §5.1,
// in the context of the step that got them.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     step
		status int
		body   string
		kind   error
		left   int
	}{
		{"field-keyed login id on an Aadhaar step", stepAadhaarOTP, 400,
			`{"loginId":"Invalid LoginId","timestamp":"2026-09-17 16:52:48"}`, ErrInvalidAadhaar, -1},
		{"field-keyed login id on a mobile login", step{name: "login", subject: subjectMobile}, 400,
			`{"loginId":"Invalid LoginId","timestamp":"2026-09-17 16:52:48"}`, ErrInvalidMobile, -1},
		{"UIDAI 998", stepAadhaarOTP, 422,
			`{"error":{"code":"ABDM-1204","message":"UIDAI Error code : 998 : Aadhaar number is incorrect. Resident shall use correct Aadhaar."}}`, ErrInvalidAadhaar, -1},
		{"UIDAI wrong OTP without a count", stepEnrol, 422,
			`{"error":{"code":"ABDM-1204","message":"UIDAI Error code : 400 : Invalid Aadhaar OTP value."}}`, ErrWrongOTP, -1},
		{"UIDAI wrong OTP with a count", stepEnrol, 422,
			`{"error":{"code":"ABDM-1204","message":"UIDAI Error code : 400 : Invalid Aadhaar OTP value. 1 attempt left."}}`, ErrWrongOTP, 1},
		{"blocked, trailing colon", stepEnrol, 422,
			`{"error":{"code":"ABDM-1100: ","message":"You have requested multiple OTPs Or Exceeded maximum number of attempts for OTP match in this transaction. Please try again in 30 minutes."}}`, ErrTooManyAttempts, -1},
		{"taken address", stepCreateAddress, 400,
			`{"error":{"code":"ABDM-1101","message":"This ABHA Address already exists. Please create with unique ABHA address"}}`, ErrAddressTaken, -1},
		{"no account, flat", step{name: "login", subject: subjectAadhaar}, 404,
			`{"code":"ABDM-1114","message":"User not found."}`, ErrNoAccount, -1},
		{"bare X-token", stepProfile, 400, `{"message":"Invalid X-token","timestamp":"2026-09-16 14:34:55"}`, ErrTokenExpired, -1},
		{"wrong key", stepMobileOTP, 400, `{"error":{"code":"ABDM-1006","message":"Invalid mobile number"}}`, ErrInvalidMobile, -1},
		{"transaction", stepEnrol, 400, `[{"error":{"code":"ABDM-1017","message":"Invalid Transaction Id"}}]`, ErrTransactionExpired, -1},
		{"unknown login hint", stepEnrol, 400, `[{"code":"ABDM-9999: ","message":"Invalid Login Hint"}]`, nil, -1},
		{"API manager", stepEnrol, 401, `{"code":"900901","message":"Invalid Credentials","description":"..."}`, nil, -1},
	} {
		api := abdm.ParseError(tc.status, []byte(tc.body))
		e := classify(tc.st, api)
		if e.Kind != tc.kind || e.AttemptsLeft != tc.left || e.API != api {
			t.Errorf("%s: kind %v, left %d; want %v, %d", tc.name, e.Kind, e.AttemptsLeft, tc.kind, tc.left)
		}
		if e.Explanation == "" || e.Advice == "" {
			t.Errorf("%s: no front-desk text: %+v", tc.name, e)
		}
		if tc.kind == nil && e.Explanation != api.Explanation {
			t.Errorf("%s: unclassified answers keep ABDM's explanation; got %q", tc.name, e.Explanation)
		}
		if !errors.Is(e, api) {
			t.Errorf("%s: the ABDM error is not in the chain", tc.name)
		}
	}
}
