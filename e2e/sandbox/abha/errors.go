package abha

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// reply is what one call answers: a JSON body, or raw bytes with their
// content type (cards).
type reply struct {
	status      int
	body        any
	raw         []byte
	contentType string
	code        string // error code or field, for the log line
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

// The ABHA service answers errors in several shapes (reference §5.1); each
// helper below writes one of them.

// abdmError is the documented {"error":{"code","message"}} shape.
func abdmError(status int, code, message string) reply {
	return reply{status: status, code: code, body: map[string]any{
		"error": map[string]string{"code": code, "message": message},
	}}
}

// flatArrayError is [{"code":"ABDM-9999: ","message":...}], seen for an
// unknown login hint.
func flatArrayError(status int, code, message string) reply {
	return reply{status: status, code: code, body: []map[string]string{{"code": code, "message": message}}}
}

// fieldError is the validation shape keyed by the offending field:
// {"loginId":"Invalid LoginId","timestamp":"2026-09-17 16:52:48"}.
func fieldError(now time.Time, field, message string) reply {
	return reply{status: http.StatusBadRequest, code: field, body: map[string]string{
		field: message, "timestamp": abhaTimestamp(now),
	}}
}

// messageError is {"message":"Invalid X-token","timestamp":...}.
func messageError(now time.Time, status int, message string) reply {
	return reply{status: status, code: message, body: map[string]string{
		"message": message, "timestamp": abhaTimestamp(now),
	}}
}

func abhaTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// API-manager bodies, in front of the service.
var (
	missingCredentials = reply{status: http.StatusUnauthorized, code: "900902", body: map[string]string{
		"code": "900902", "message": "Missing Credentials",
		"description": "Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN'",
	}}
	invalidCredentials = reply{status: http.StatusUnauthorized, code: "900901", body: map[string]string{
		"code": "900901", "message": "Invalid Credentials",
		"description": "Invalid Credentials. Make sure you have provided the correct security credentials",
	}}
	noRoute = reply{status: http.StatusNotFound, code: "404", body: map[string]string{
		"code": "404", "type": "Status report", "message": "Runtime Error",
		"description": "No matching resource found for given API Request",
	}}
)

// Errors of the service itself. Codes and texts are NHA's where published.
var (
	errInvalidBody   = abdmError(http.StatusBadRequest, "ABDM-1006", "Bad Request, invalid request Body")
	errMediaType     = abdmError(http.StatusBadRequest, "ABDM-9999: ", `415 UNSUPPORTED_MEDIA_TYPE "Content type not supported"`)
	errRequestID     = abdmError(http.StatusNotFound, "ABDM-1030", "Request id not found")
	errTimestamp     = abdmError(http.StatusBadRequest, "ABDM-1016", "Invalid Timestamp")
	errTxn           = abdmError(http.StatusBadRequest, "ABDM-1017", "Invalid Transaction Id")
	errScopes        = abdmError(http.StatusBadRequest, "ABDM-1107", "Invalid combinations of scopes")
	errLoginHint     = flatArrayError(http.StatusBadRequest, "ABDM-9999: ", "Invalid Login Hint")
	errABHANumber    = abdmError(http.StatusBadRequest, "ABDM-1013", "Invalid ABHA Number")
	errMobile        = abdmError(http.StatusBadRequest, "ABDM-1006", "Invalid mobile number")
	errConsent       = abdmError(http.StatusBadRequest, "ABDM-1006", "Invalid consent, code must be abha-enrollment")
	errUserNotFound  = abdmError(http.StatusNotFound, "ABDM-1114", "User not found.")
	errNoAadhaarABHA = abdmError(http.StatusNotFound, "ABDM-1114", "No ABHA user registered with this Aadhaar Number.")
	errNoAddress     = abdmError(http.StatusNotFound, "ABDM-1211", "ABHA Address not found")
	errMobileMissing = abdmError(http.StatusBadRequest, "ABDM-1303", "Your mobile number is not linked to the ABHA number. Please update your mobile number in ABHA or try using Aadhaar OTP.")
	errAddressTaken  = abdmError(http.StatusBadRequest, "ABDM-1101", "This ABHA Address already exists. Please create with unique ABHA address")
	errAddressPolicy = abdmError(http.StatusBadRequest, "ABDM-1170", "Invalid ABHA Address. It must be 8-18 characters: letters and digits with at most one '.' and one '_', neither first nor last")
	errAccountPick   = abdmError(http.StatusBadRequest, "ABDM-1085", "ABHA number mismatch with X Auth token")
	errBlocked       = abdmError(http.StatusUnprocessableEntity, "ABDM-1100", "You have requested multiple OTPs Or Exceeded maximum number of attempts for OTP match in this transaction. Please try again in 30 minutes.")
	errUIDAIAadhaar  = abdmError(http.StatusUnprocessableEntity, "ABDM-1204", "UIDAI Error code : 998 : Aadhaar number is incorrect. Resident shall use correct Aadhaar.")
	errXTokenInvalid = abdmError(http.StatusUnauthorized, "ABDM-1130", "Invalid X-Token")
	errXTokenExpired = abdmError(http.StatusUnauthorized, "ABDM-1094", "X-token expired")
	errTTokenExpired = abdmError(http.StatusUnauthorized, "ABDM-1128", "T-Token Expired")
	errRTokenInvalid = abdmError(http.StatusUnauthorized, "ABDM-1919", "Invalid Refresh token")
	errInternal      = abdmError(http.StatusInternalServerError, "ABDM-9999", "Unknown exception")
)

// wrongKey answers a value encrypted with the other certificate's key: the
// real service was seen to say ABDM-1006 "Invalid mobile number".
func wrongKey(what string) reply {
	return abdmError(http.StatusBadRequest, "ABDM-1006", "Invalid "+what)
}

// attemptsLeft is the sandbox's addition to wrong-OTP messages.
func attemptsLeft(n int) string {
	if n == 1 {
		return "1 attempt left."
	}
	return fmt.Sprintf("%d attempts left.", n)
}

func writeReply(w http.ResponseWriter, rep reply) {
	if rep.raw != nil {
		w.Header().Set("Content-Type", rep.contentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(rep.raw)))
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.raw)
		return
	}
	writeJSON(w, rep.status, rep.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
