package gateway

import "net/http"

// routeKind says how the gateway treats a bridge→gateway call.
type routeKind int

const (
	// kindRequest starts something; the gateway calls the bridge back later.
	kindRequest routeKind = iota
	// kindAnswer is an on-* reply to an event the gateway delivered; its
	// response.requestId must name that delivery.
	kindAnswer
	// kindNotify reports a data transfer; nothing comes back.
	kindNotify
)

// flowRoute is one bridge→gateway path of the V3 route table
// (reference/abdm-v3.md §1.7), relative to the gateway base URL.
type flowRoute struct {
	path string
	kind routeKind
	// answers is the callback path whose REQUEST-ID an answer echoes.
	answers string
	// callback is the path the gateway later POSTs the result to.
	callback string
	// requires names a header the spec makes mandatory on this path.
	requires []string
	// status is the success status; most answer 202.
	status int
	// duplicate is what a second answer to the same event gets; the zero
	// value means a second answer is accepted.
	duplicate apiError
}

// Callback paths on the bridge (gateway → bridge), relative to its URL.
const (
	CallbackShare            = "/api/v3/hip/patient/share"
	CallbackDiscover         = "/api/v3/hip/patient/care-context/discover"
	CallbackLinkInit         = "/api/v3/hip/link/care-context/init"
	CallbackLinkConfirm      = "/api/v3/hip/link/care-context/confirm"
	CallbackOnGenerateToken  = "/api/v3/hip/token/on-generate-token"
	CallbackOnCareContext    = "/api/v3/link/on_carecontext"
	CallbackOnContextNotify  = "/api/v3/links/context/on-notify"
	CallbackOnSMSNotify      = "/api/v3/patients/sms/on-notify"
	CallbackHIPConsentNotify = "/api/v3/consent/request/hip/notify"
	CallbackHIPHIRequest     = "/api/v3/hip/health-information/request"
	CallbackOnConsentInit    = "/api/v3/hiu/consent/request/on-init"
	CallbackOnConsentStatus  = "/api/v3/hiu/consent/request/on-status"
	CallbackHIUConsentNotify = "/api/v3/hiu/consent/request/notify"
	CallbackOnConsentFetch   = "/api/v3/hiu/consent/on-fetch"
	CallbackOnHIRequest      = "/api/v3/hiu/health-information/on-request"
)

const (
	headerHIPID     = "X-HIP-ID"
	headerHIUID     = "X-HIU-ID"
	headerLinkToken = "X-LINK-TOKEN"
)

var flowRoutes = []flowRoute{
	// HIP: link token and HIP-initiated linking.
	{path: "/v3/token/generate-token", kind: kindRequest, callback: CallbackOnGenerateToken, requires: []string{headerHIPID}},
	{path: "/hip/v3/link/carecontext", kind: kindRequest, callback: CallbackOnCareContext, requires: []string{headerHIPID, headerLinkToken}},
	{path: "/hip/v3/link/context/notify", kind: kindRequest, callback: CallbackOnContextNotify, requires: []string{headerHIPID}},
	{path: "/hip/v3/link/patient/links/sms/notify2", kind: kindRequest, callback: CallbackOnSMSNotify},

	// HIP: answers to gateway-initiated events.
	{path: "/patient-share/v3/on-share", kind: kindAnswer, answers: CallbackShare},
	{path: "/user-initiated-linking/v3/patient/care-context/on-discover", kind: kindAnswer, answers: CallbackDiscover,
		duplicate: apiError{status: http.StatusBadRequest, code: "ABDM-1106", message: "Duplicate On discovery request"}},
	{path: "/user-initiated-linking/v3/link/care-context/on-init", kind: kindAnswer, answers: CallbackLinkInit,
		duplicate: apiError{status: http.StatusBadRequest, code: "ABDM-1107", message: "Duplicate On init request"}},
	{path: "/user-initiated-linking/v3/link/care-context/on-confirm", kind: kindAnswer, answers: CallbackLinkConfirm,
		duplicate: apiError{status: http.StatusBadRequest, code: "ABDM-1108", message: "Duplicate On confirm request"}},
	{path: "/consent/v3/request/hip/on-notify", kind: kindAnswer, answers: CallbackHIPConsentNotify},
	// Observed answering 200, unlike every other call.
	{path: "/data-flow/v3/health-information/hip/on-request", kind: kindAnswer, answers: CallbackHIPHIRequest, status: http.StatusOK,
		duplicate: apiError{status: http.StatusBadRequest, code: "ABDM-1113", message: "Duplicate health information provider data flow response"}},

	// HIP or HIU: transfer status.
	{path: "/data-flow/v3/health-information/notify", kind: kindNotify},

	// HIU.
	{path: "/consent/v3/request/init", kind: kindRequest, callback: CallbackOnConsentInit},
	{path: "/consent/v3/request/status", kind: kindRequest, callback: CallbackOnConsentStatus, requires: []string{headerHIUID}},
	{path: "/consent/v3/request/hiu/on-notify", kind: kindAnswer, answers: CallbackHIUConsentNotify},
	{path: "/consent/v3/fetch", kind: kindRequest, callback: CallbackOnConsentFetch, requires: []string{headerHIUID}},
	{path: "/data-flow/v3/health-information/request", kind: kindRequest, callback: CallbackOnHIRequest, requires: []string{headerHIUID}},
}

// Gateway API paths, relative to the gateway base URL.
const (
	pathSessions       = "/gateway/v3/sessions"
	pathCerts          = "/gateway/v3/certs"
	pathWellKnown      = "/gateway/v3/.well-known/openid-configuration"
	pathBridgeURL      = "/gateway/v3/bridge/url"
	pathBridgeServices = "/gateway/v3/bridge-services"
	pathServiceByID    = "/gateway/v3/bridge-service/serviceId/"
)
