package abdm

// codeInfo is what Sangam knows about one gateway error code: the text shown
// to staff and the categories callers branch on.
type codeInfo struct {
	explanation string
	advice      string
	categories  []error
}

// Advice that several codes share.
const (
	adviceTellAdmin     = "Tell your administrator and quote the error code; this needs a setup or software fix, not a retry."
	adviceAutoRetry     = "Nothing to do at the desk: Sangam retries automatically. Continue the visit and check the status later."
	adviceWaitForAnswer = "No need to send it again; the answer to the first request will arrive."
)

// lookupCode returns the explanation and categories of a normalised gateway
// error code (reference §5.2). ABDM-9999 is a catch-all whose category comes
// from the HTTP status.
func lookupCode(code string) (codeInfo, bool) {
	bad := []error{ErrBadRequest}
	switch code {
	case "ABDM-1001":
		return codeInfo{"ABDM found no matching record.",
			"Check the ABHA number or address with the patient and try again.",
			[]error{ErrNotFound}}, true
	case "ABDM-1006":
		return codeInfo{"ABDM did not accept the details that were sent. Right after records are linked this also happens for a short while, until ABDM catches up.",
			"Check the patient's ABHA details and try again in a few minutes. If it keeps failing, tell your administrator and quote ABDM-1006.",
			bad}, true
	case "ABDM-1007":
		return codeInfo{"ABDM timed out while handling the request.", adviceAutoRetry,
			[]error{ErrGatewayUnavailable}}, true
	case "ABDM-1013":
		return codeInfo{"The ABHA number is not valid: it must have 14 digits.",
			"Re-check the ABHA number on the patient's ABHA card or app.",
			bad}, true
	case "ABDM-1015":
		return codeInfo{"A service behind ABDM gave an unusable answer.", adviceAutoRetry,
			[]error{ErrGatewayUnavailable}}, true
	case "ABDM-1016", "ABDM-2402":
		return codeInfo{"ABDM rejected the time on the request, which usually means this server's clock is wrong.",
			"Tell your administrator: the server clock must be kept right automatically (NTP).",
			bad}, true
	case "ABDM-1021":
		return codeInfo{"This hospital's ABDM account is not allowed to do this.",
			"Tell your administrator; the ABDM registration may be missing a permission.",
			[]error{ErrUnauthorized}}, true
	case "ABDM-1022":
		return codeInfo{"ABDM is receiving too many requests from this hospital right now.",
			"Wait a minute and try again. Queued requests are retried automatically.",
			[]error{ErrRateLimited}}, true
	case "ABDM-1024":
		return codeInfo{"Part of ABDM is down at the moment.", adviceAutoRetry,
			[]error{ErrGatewayUnavailable}}, true
	case "ABDM-1026":
		return codeInfo{"The patient's permission to link records at this facility is no longer valid.",
			"Ask the patient to scan the facility's QR code again so a new permission is issued, then link again.",
			bad}, true
	case "ABDM-1027":
		return codeInfo{"ABDM has blocked link requests for this patient for 24 hours after repeated failures.",
			"Do not retry today. Check the ABHA address, name, gender and year of birth against the patient's ABHA app, then try again after 24 hours.",
			[]error{ErrBlocked}}, true
	case "ABDM-1030":
		return codeInfo{"ABDM refused the identifier of this request.",
			"Try the action once more. If it repeats, tell your administrator.",
			bad}, true
	case "ABDM-1032":
		return codeInfo{"The request to ABDM was missing required information.", adviceTellAdmin, bad}, true
	case "ABDM-1035":
		return codeInfo{"ABDM does not recognise this facility's HIP id.",
			"Tell your administrator to check that the facility's HIP id in Sangam matches its ABDM registration.",
			bad}, true
	case "ABDM-1037":
		return codeInfo{"The list of records sent to ABDM was inconsistent.", adviceTellAdmin, bad}, true
	case "ABDM-1038":
		return codeInfo{"The link permission belongs to a different ABHA address than the one used.",
			"Confirm the patient's ABHA address. If it changed, ask the patient to scan the QR code again for a new permission.",
			bad}, true
	case "ABDM-1040":
		return codeInfo{"ABDM does not recognise this facility's HIU id.",
			"Tell your administrator to check that the facility's HIU id in Sangam matches its ABDM registration.",
			bad}, true
	case "ABDM-1051":
		return codeInfo{"ABDM could not find an ABHA with these details.",
			"Check the ABHA address and number in the patient's ABHA app; name, gender and year of birth must match it exactly.",
			[]error{ErrNotFound}}, true
	case "ABDM-1056":
		return codeInfo{"These records are already linked to the patient's ABHA, or the link request has expired.",
			"Check the patient's linked records. If they are there, nothing more is needed; otherwise start linking again.",
			bad}, true
	case "ABDM-1062", "ABDM-1063":
		return codeInfo{"The request does not match what the patient allowed, for example another ABHA or facility, or dates outside the approved range.",
			"Check the patient and facility. For record requests, use the dates the patient approved.",
			bad}, true
	case "ABDM-1064", "ABDM-2404":
		return codeInfo{"ABDM has already received a request with this identifier.", adviceWaitForAnswer,
			[]error{ErrDuplicate, ErrBadRequest}}, true
	case "ABDM-1092":
		return codeInfo{"A link request for this patient was refused moments ago, and ABDM ignores repeats for a short while.",
			"Do not resend straight away. Check the ABHA address, name, gender and year of birth, then try again after a few minutes.",
			[]error{ErrDuplicate, ErrBadRequest}}, true
	case "ABDM-1101", "ABDM-1103", "ABDM-1104", "ABDM-1105":
		return codeInfo{"ABDM has already received this request.", adviceWaitForAnswer,
			[]error{ErrDuplicate, ErrBadRequest}}, true
	case "ABDM-1106", "ABDM-1107", "ABDM-1108":
		return codeInfo{"ABDM already has this hospital's answer to this request.",
			"Nothing to do; the first answer counts.",
			[]error{ErrDuplicate, ErrBadRequest}}, true
	case "ABDM-1112":
		return codeInfo{"The patient's consent for this request is no longer valid: it expired, was revoked or is unknown.",
			"Ask the patient to grant consent again, then retry.",
			bad}, true
	case "ABDM-1170":
		return codeInfo{"The ABHA address is not valid.",
			"Check the spelling with the patient, including the ending such as @sbx or @abdm.",
			bad}, true
	case "ABDM-1211":
		return codeInfo{"There is no ABHA account with this ABHA address.",
			"Check the ABHA address with the patient, or create a new ABHA.",
			[]error{ErrNotFound}}, true
	case "ABDM-1407":
		return codeInfo{"This ABHA number has been deactivated.",
			"Ask the patient to reactivate it in their ABHA app, or use another ABHA.",
			bad}, true
	case "ABDM-2401":
		return codeInfo{"The patient's ABDM login is no longer valid.",
			"Ask the patient to log in again.",
			[]error{ErrUnauthorized}}, true
	case "ABDM-2403":
		return codeInfo{"Sangam is set up for the wrong ABDM environment (sandbox or production).", adviceTellAdmin, bad}, true
	case "ABDM-2406":
		return codeInfo{"The steps were done out of order.",
			"Start the action again from the beginning.",
			bad}, true
	case "ABDM-2500":
		return codeInfo{"ABDM was not waiting for this answer: it came too late or was already given, or the request had no login.",
			"If the patient is waiting, ask them to repeat the step in their ABHA app.",
			bad}, true
	case "ABDM-9999":
		return codeInfo{"ABDM refused the request; its message says why.",
			"Read ABDM's message. If it is unclear, tell your administrator and quote it.",
			nil}, true
	case "900900":
		return codeInfo{"ABDM could not check this hospital's login.",
			"Try again in a few minutes. If it repeats, tell your administrator.",
			[]error{ErrUnauthorized}}, true
	case "900901":
		return codeInfo{"ABDM rejected this hospital's login: the session expired or the client secret is wrong.",
			"Sangam has already retried with a fresh login. Ask your administrator to check the facility's ABDM client id and secret.",
			[]error{ErrUnauthorized}}, true
	case "900902":
		return codeInfo{"The request to ABDM carried no login.", adviceTellAdmin,
			[]error{ErrUnauthorized}}, true
	case "404":
		// The API manager's "Status report": no route at all, as opposed to a
		// 404 carrying an ABDM code, which means the route refused.
		return codeInfo{"ABDM has no service at the address Sangam called.",
			"Tell your administrator: the ABDM gateway address or API path is wrong.",
			[]error{ErrNotFound}}, true
	}
	return codeInfo{}, false
}
