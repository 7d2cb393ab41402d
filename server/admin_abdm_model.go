package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/views"
)

// indiaTime is the zone staff read times in: ABDM serves India only.
var indiaTime = time.FixedZone("IST", 5*3600+30*60)

// clock formats a time for the admin pages; the zero time is "".
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(indiaTime).Format("2 Jan 2006, 15:04:05 MST")
}

// abdmState is what the ABDM connection page is built from.
type abdmState struct {
	// status is nil when the tenant has no credentials stored.
	status     *bridge.TenantStatus
	regs       []bridge.Registration
	facilities map[string]facilityName
	// bridgeURL is where this Sangam serves the tenant's callbacks.
	bridgeURL string
	canSave   bool
}

const saveDisabled = "This Sangam cannot check credentials with the ABDM gateway, so it does not store them from here. " +
	"Store them with `sangam onboard --tenant <slug> --client-id <id> --client-secret-stdin` on the server."

// abdmConnectionModel fills the ABDM connection page.
func abdmConnectionModel(in abdmState) views.ABDMConnection {
	v := views.ABDMConnection{BridgeURL: in.bridgeURL, CanSave: in.canSave}
	if !in.canSave {
		v.SaveDisabled = saveDisabled
	}
	if st := in.status; st != nil {
		v.Connected = true
		v.ClientID = st.ClientID
		v.Form.ClientID = st.ClientID
		v.SecretStored = "Stored: yes, in the key store. It is never shown."
		v.RegisteredURL, v.RegisteredAt = st.BridgeURL, clock(st.RegisteredAt)
		v.ReportedURL, v.CheckedAt = st.ReportedURL, clock(st.CheckedAt)
		v.URLWarning = urlWarning(st, in.bridgeURL)
		if st.LastError != "" {
			v.LastError = onboardingProblem(st.LastError)
			v.LastError.At = "At " + clock(st.LastErrorAt)
		}
	}
	ready := 0
	for _, r := range in.regs {
		f := registrationRow(r, in.facilities[r.FacilityID].HFRID, v.ClientID)
		if f.CanServeM2 {
			ready++
		}
		v.Facilities = append(v.Facilities, f)
	}
	v.Summary = fmt.Sprintf("%d of %d facilities can serve M2.", ready, len(in.regs))
	return v
}

// urlWarning explains a bridge URL at the gateway that is not this
// Sangam's, or "" when all is well or nothing is known yet.
func urlWarning(st *bridge.TenantStatus, want string) string {
	switch {
	case st.CheckedAt.IsZero():
		return ""
	case st.ReportedURL == "":
		return fmt.Sprintf("The gateway has no bridge URL for client id %s, so it cannot send any callbacks. Use “Register bridge URL now”.", st.ClientID)
	case st.ReportedURL != want:
		return fmt.Sprintf("The gateway sends this organisation's callbacks to %s, not to %s. "+
			"Another system using client id %s registered its URL after this Sangam did (the gateway keeps the last one). "+
			"Use “Register bridge URL now” to take the callbacks back; the other system then stops receiving them.",
			st.ReportedURL, want, st.ClientID)
	}
	return ""
}

// registrationRow is one facility of the registrations table, with what
// to do when it cannot serve M2.
func registrationRow(r bridge.Registration, hfrID, clientID string) views.ABDMFacility {
	f := views.ABDMFacility{Name: r.FacilityName, HFRID: hfrID, HIPID: r.HIPID, Registered: "No",
		CheckedAt: clock(r.CheckedAt), CanServeM2: r.CanServeM2()}
	if r.Registered {
		f.Registered = "Yes"
		state := "inactive"
		if r.Active {
			state = "active"
		}
		f.Service = strings.Join(append([]string{state}, r.Types...), ", ")
	}
	switch {
	case f.CanServeM2:
	case clientID == "":
		f.Action = "Sangam has no ABDM client credentials yet. Store them below, then register the bridge URL."
	case r.CheckedAt.IsZero():
		f.Action = "Not checked yet (or its HIP id changed since). Use “Check registrations now”."
	case !r.Registered:
		f.Action = fmt.Sprintf("Its HIP id %s is not an HIP service of client id %s. Add it as a service of the bridge in the ABDM (HFR) portal, then check again.", r.HIPID, clientID)
	default:
		f.Action = "The gateway lists the service as inactive. Ask ABDM support to activate it, then check again."
	}
	return f
}

// httpStatusInError finds the status and gateway code in the text of an
// abdm.Error (`abdm: HTTP 401: ABDM-1234: ...`), which is how the bridge
// keeps the last onboarding failure.
var httpStatusInError = regexp.MustCompile(`abdm: HTTP (\d{3})(?:: ([A-Z]+-\d+|\d+)(?::|$))?`)

// onboardingProblem turns the stored text of the last onboarding failure
// into plain language, keeping the text as technical detail.
func onboardingProblem(lastError string) *views.ABDMProblem {
	p := &views.ABDMProblem{Detail: lastError}
	switch m := httpStatusInError.FindStringSubmatch(lastError); {
	case m != nil:
		status, _ := strconv.Atoi(m[1])
		p.Message, p.Advice = gatewayText(status, m[2])
	case strings.Contains(lastError, abdm.ErrGatewayUnavailable.Error()):
		p.Message, p.Advice = gatewayText(503, "")
	case strings.Contains(lastError, bridge.ErrNoCredentials.Error()):
		p.Message = "No usable ABDM client credentials are stored for this organisation."
		p.Advice = "Enter the client id and secret below."
	default:
		p.Message = "The last registration or check with the ABDM gateway failed."
		p.Advice = "The technical detail below says why. Try again; if it keeps failing, contact support and quote it."
	}
	return p
}

// gatewayText is the plain-language explanation of a gateway answer with
// this status and code, for an administrator.
func gatewayText(status int, code string) (message, advice string) {
	var body []byte
	if code != "" {
		body, _ = json.Marshal(abdm.ErrorDetail{Code: code}) // cannot fail
	}
	e := abdm.ParseError(status, body)
	return adminText(e)
}

// adminText rewords a gateway error for an administrator: the login
// failures that the desk sees as "ask your administrator" are theirs to fix.
func adminText(e *abdm.Error) (message, advice string) {
	switch {
	case errors.Is(e, abdm.ErrUnauthorized):
		return "The ABDM gateway did not accept this organisation's client id and secret.",
			"Check both in the ABDM portal and save them again below."
	case abdm.Retryable(e):
		return e.Explanation, "Try again in a few minutes. Sangam also retries on its own."
	}
	return e.Explanation, "If it keeps failing, contact support and quote the error code."
}

// credentialsRefusal explains why candidate credentials were not stored.
func credentialsRefusal(err error) *views.ABDMProblem {
	var ae *abdm.Error
	switch {
	case errors.As(err, &ae) && errors.Is(err, abdm.ErrUnauthorized):
		return &views.ABDMProblem{
			Message: "The ABDM gateway did not accept this client id and secret, so nothing was stored.",
			Advice:  "Check both values in the ABDM portal (the client id looks like SBX_000123) and try again.",
			Detail:  ae.Error(),
		}
	case abdm.Retryable(err):
		return &views.ABDMProblem{
			Message: "Sangam could not reach the ABDM gateway to check these credentials, so nothing was stored.",
			Advice:  "Try again in a few minutes.",
			Detail:  gatewayDetail(err),
		}
	case errors.As(err, &ae):
		msg, advice := adminText(ae)
		return &views.ABDMProblem{Message: "The credentials were not stored. " + msg, Advice: advice, Detail: ae.Error()}
	}
	return nil
}

// gatewayDetail is the technical text of a gateway failure: the gateway's
// own answer when there is one. Transport errors name only the call.
func gatewayDetail(err error) string {
	var ae *abdm.Error
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return err.Error()
}

// onboardProblem explains a failed "register" or "check" action.
func onboardProblem(err error) *views.ABDMProblem {
	var ae *abdm.Error
	switch {
	case errors.Is(err, bridge.ErrNoCredentials):
		return &views.ABDMProblem{Message: "No ABDM client credentials are stored for this organisation.", Advice: "Enter the client id and secret below first."}
	case errors.As(err, &ae):
		msg, advice := adminText(ae)
		return &views.ABDMProblem{Message: msg, Advice: advice, Detail: ae.Error()}
	case abdm.Retryable(err):
		msg, advice := gatewayText(503, "")
		return &views.ABDMProblem{Message: msg, Advice: advice, Detail: err.Error()}
	}
	return nil
}

// abdmNotice is the confirmation the ABDM page shows after a redirect.
// Only these fixed texts can appear, whatever the query says.
func abdmNotice(code string) string {
	switch code {
	case "credentials-saved":
		return "The gateway accepted the client id and secret, and they are stored. Now register the bridge URL."
	case "registered":
		return "The bridge URL is registered with the gateway, and the facilities were checked."
	case "checked":
		return "The registrations were checked with the gateway."
	}
	return ""
}
