package hcx

import "strings"

// codeInfo is what Sangam knows about one error code: the text shown to
// billing staff and the categories callers branch on.
type codeInfo struct {
	explanation string
	advice      string
	categories  []error
}

// Advice that several codes share.
const (
	adviceTellAdmin = "Tell your administrator and quote the error code; this needs a setup or software fix, not a retry."
	adviceAutoRetry = "Nothing to do at the desk: Sangam sends it again automatically. Check the claim's status later."
	adviceFixClaim  = "Check the claim details and attached documents against the insurer's requirements, correct them and send again."
)

// lookupCode returns the explanation and categories of an HCX (ERR_*),
// NHCX (NHCX-*), payer (PAYR-*) or sandbox (SBX-*) code (reference §9).
// PAYR codes above 1002 mean different things to different payers, so
// they get a generic text.
func lookupCode(code string) (codeInfo, bool) {
	bad := []error{ErrBadRequest}
	headers := []error{ErrInvalidHeaders, ErrBadRequest}
	switch code {
	// NHCX gateway.
	case "NHCX-401":
		return codeInfo{"The claims exchange (NHCX) did not accept this hospital's login: the access token expired or belongs to another environment (sandbox vs production).",
			"Sangam renews the login automatically; if this keeps appearing, tell your administrator to check the ABDM client id and secret.",
			[]error{ErrUnauthorized}}, true
	case "NHCX-1001":
		return codeInfo{"The claims exchange could not reach the insurer's system.", adviceAutoRetry,
			[]error{ErrRecipientUnavailable}}, true
	case "NHCX-1002":
		return codeInfo{"This hospital is not registered with the claims exchange for this kind of request (for example predetermination is not enabled).",
			"Tell your administrator: the hospital's NHCX registration must include this use case before it can be sent.",
			[]error{ErrNotEnabled}}, true
	case "NHCX-1006":
		return codeInfo{"The claims exchange has already seen this message's reference (correlation id), or it was retired.",
			"Do not send the same message again; start a new request from the claim page. If this repeats, tell your administrator.",
			[]error{ErrDuplicate, ErrBadRequest}}, true
	case "NHCX-1011":
		return codeInfo{"The claims exchange refused the status value of the message.", adviceTellAdmin, headers}, true
	case "NHCX-1012":
		return codeInfo{"The status enquiry did not match a request the claims exchange knows.",
			"Check that the enquiry is for a request that was actually sent; if so, tell your administrator and quote the error code.",
			bad}, true
	case "NHCX-1014":
		return codeInfo{"The claims exchange could not deliver the insurer's answer back to this hospital.",
			"Tell your administrator: the hospital's callback address may be unreachable from NHCX. The request can be sent again once it is fixed.",
			[]error{ErrRecipientUnavailable}}, true
	case "NHCX-1015":
		return codeInfo{"The insurer's system keeps failing to accept messages from the claims exchange.", adviceAutoRetry,
			[]error{ErrRecipientUnavailable}}, true
	case "NHCX-1016":
		return codeInfo{"No insurance policy was found for the patient's details.",
			"Check the ABHA number, member id or mobile number with the patient, or ask for the policy card.",
			[]error{ErrNotFound}}, true

	// Payer.
	case "PAYR-1001":
		return codeInfo{"The insurer could not open the message: it was locked with an outdated or wrong certificate.",
			"Nothing to do at the desk: Sangam fetches the insurer's current certificate and sends again.",
			[]error{ErrStaleCertificate}}, true
	case "PAYR-1002":
		return codeInfo{"The insurer reported an encryption problem with the message, usually an outdated certificate.",
			"Nothing to do at the desk: Sangam fetches the insurer's current certificate and sends again.",
			[]error{ErrStaleCertificate}}, true

	// HCX protocol, gateway side.
	case "ERR_ACCESS_DENIED":
		return codeInfo{"The claims exchange says this hospital's login may not send on behalf of this participant code.",
			"Tell your administrator to check that the NHCX participant code in Sangam belongs to these ABDM credentials.",
			[]error{ErrUnauthorized}}, true
	case "ERR_INVALID_PAYLOAD":
		return codeInfo{"The claims exchange could not read the message.", adviceTellAdmin, bad}, true
	case "ERR_INVALID_SENDER":
		return codeInfo{"The claims exchange does not know this hospital's participant code, or it is not active.",
			"Tell your administrator to check the hospital's NHCX registration.",
			[]error{ErrNotEnabled}}, true
	case "ERR_INVALID_RECIPIENT":
		return codeInfo{"The insurer or TPA chosen is not registered or not active on the claims exchange.",
			"Check the insurer selected for this patient. If it is right, the insurer may not be on NHCX yet.",
			[]error{ErrNotFound, ErrBadRequest}}, true
	case "ERR_INVALID_SENDER_AND_RECIPIENT":
		return codeInfo{"The message was addressed to the hospital itself instead of an insurer.", adviceTellAdmin, headers}, true
	case "ERR_MANDATORY_HEADER_MISSING", "ERR_MANDATORY_HEADERFIELD_MISSING":
		return codeInfo{"A required protocol detail was missing from the message.", adviceTellAdmin, headers}, true
	case "ERR_INVALID_API_CALL_ID", "ERR_INVALID_CORRELATION_ID", "ERR_INVALID_WORKFLOW_ID",
		"ERR_INVALID_REDIRECT_TO", "ERR_INVALID_STATUS", "ERR_INVALID_DEBUG_FLAG",
		"ERR_INVALID_ERROR_DETAILS", "ERR_INVALID_DEBUG_DETAILS":
		return codeInfo{"A protocol detail of the message was not in the form the claims exchange expects.", adviceTellAdmin, headers}, true
	case "ERR_INVALID_TIMESTAMP":
		return codeInfo{"The claims exchange refused the time on the message, which usually means this server's clock is wrong.",
			"Tell your administrator: the server clock must be kept right automatically (NTP).",
			headers}, true
	case "ERR_RECIPIENT_NOT_AVAILABLE":
		return codeInfo{"The insurer's system is not available at the moment.", adviceAutoRetry,
			[]error{ErrRecipientUnavailable}}, true
	case "ERR_SERVICE_UNAVAILABLE":
		return codeInfo{"The claims exchange is not available at the moment.", adviceAutoRetry,
			[]error{ErrSwitchUnavailable}}, true
	case "ERR_INVALID_FORWARD_REQ":
		return codeInfo{"The claims exchange refused to forward the message to the insurer chosen.", adviceTellAdmin, bad}, true
	case "ERR_INVALID_SIGNATURE", "ERR_INVALID_ALGORITHM":
		return codeInfo{"The claims exchange refused how the message was signed or encrypted.", adviceTellAdmin, bad}, true

	// HCX protocol, recipient side.
	case "ERR_INVALID_ENCRYPTION":
		return codeInfo{"The insurer could not decrypt the message, usually because of an outdated certificate.",
			"Nothing to do at the desk: Sangam fetches the insurer's current certificate and sends again.",
			[]error{ErrStaleCertificate}}, true
	case "ERR_WRONG_DOMAIN_PAYLOAD", "ERR_INVALID_DOMAIN_PAYLOAD":
		return codeInfo{"The insurer could not accept the claim document: it is not the right kind or is incomplete.", adviceFixClaim, bad}, true
	case "ERR_SENDER_NOT_SUPPORTED":
		return codeInfo{"The insurer does not accept requests from this hospital.",
			"Check that the hospital is empanelled with this insurer; otherwise ask the patient about another way to claim.",
			bad}, true
	case "ERR_DOMAIN_PROCESSING":
		return codeInfo{"The insurer had a problem processing the request.",
			"Try again later. If it keeps failing, contact the insurer or TPA and quote the error code.",
			bad}, true

	// NHCX sandbox dummy payer.
	case "SBX-010":
		return codeInfo{"The sandbox test insurer needs the provider id and correlation id in its test call.", adviceTellAdmin, bad}, true
	}
	if strings.HasPrefix(code, "PAYR-") {
		return codeInfo{"The insurer refused the request (" + code + "); what this code means differs between insurers.",
			adviceFixClaim + " If unsure, contact the insurer or TPA and quote the error code.",
			bad}, true
	}
	return codeInfo{}, false
}
