package abdm

import "net/http"

// Role is the side of an exchange: an HIP (holds records) or an HIU (asks
// for them). It decides which header addresses a callback.
type Role string

// Roles.
const (
	RoleHIP Role = "HIP"
	RoleHIU Role = "HIU"
)

// Header returns the header that carries the service id for this role:
// X-HIP-ID or X-HIU-ID.
func (r Role) Header() string {
	if r == RoleHIU {
		return HeaderHIUID
	}
	return HeaderHIPID
}

// Gateway paths, relative to the gateway base URL
// (https://dev.abdm.gov.in/api/hiecm in sandbox).
const (
	PathSessions                      = "/gateway/v3/sessions"
	PathBridgeURL                     = "/gateway/v3/bridge/url"
	PathBridgeServices                = "/gateway/v3/bridge-services"
	PathBridgeServiceByID             = "/gateway/v3/bridge-service/serviceId/" // + service id
	PathCerts                         = "/gateway/v3/certs"
	PathOpenIDConfiguration           = "/gateway/v3/.well-known/openid-configuration"
	PathGenerateToken                 = "/v3/token/generate-token"
	PathLinkCareContext               = "/hip/v3/link/carecontext"
	PathLinkContextNotify             = "/hip/v3/link/context/notify"
	PathSMSNotify                     = "/hip/v3/link/patient/links/sms/notify2"
	PathPatientOnShare                = "/patient-share/v3/on-share"
	PathOnDiscover                    = "/user-initiated-linking/v3/patient/care-context/on-discover"
	PathLinkOnInit                    = "/user-initiated-linking/v3/link/care-context/on-init"
	PathLinkOnConfirm                 = "/user-initiated-linking/v3/link/care-context/on-confirm"
	PathHIPConsentOnNotify            = "/consent/v3/request/hip/on-notify"
	PathHIPHealthInformationOnRequest = "/data-flow/v3/health-information/hip/on-request"
	PathHealthInformationNotify       = "/data-flow/v3/health-information/notify"
	PathConsentRequestInit            = "/consent/v3/request/init"
	PathConsentRequestStatus          = "/consent/v3/request/status"
	PathHIUConsentOnNotify            = "/consent/v3/request/hiu/on-notify"
	PathConsentFetch                  = "/consent/v3/fetch"
	PathHealthInformationRequest      = "/data-flow/v3/health-information/request"
)

// Callback paths the gateway calls, relative to a tenant's bridge URL.
// Note the underscore in on_carecontext: it is real.
const (
	CallbackPatientShare                  = "/api/v3/hip/patient/share"
	CallbackDiscover                      = "/api/v3/hip/patient/care-context/discover"
	CallbackLinkInit                      = "/api/v3/hip/link/care-context/init"
	CallbackLinkConfirm                   = "/api/v3/hip/link/care-context/confirm"
	CallbackOnGenerateToken               = "/api/v3/hip/token/on-generate-token"
	CallbackOnCareContext                 = "/api/v3/link/on_carecontext"
	CallbackContextOnNotify               = "/api/v3/links/context/on-notify"
	CallbackSMSOnNotify                   = "/api/v3/patients/sms/on-notify"
	CallbackHIPConsentNotify              = "/api/v3/consent/request/hip/notify"
	CallbackHIPHealthInformationRequest   = "/api/v3/hip/health-information/request"
	CallbackConsentRequestOnInit          = "/api/v3/hiu/consent/request/on-init"
	CallbackConsentRequestOnStatus        = "/api/v3/hiu/consent/request/on-status"
	CallbackHIUConsentNotify              = "/api/v3/hiu/consent/request/notify"
	CallbackConsentOnFetch                = "/api/v3/hiu/consent/on-fetch"
	CallbackHIUHealthInformationOnRequest = "/api/v3/hiu/health-information/on-request"
)

// CallbackRoute describes one path the gateway POSTs to on a bridge.
type CallbackRoute struct {
	// Name is a stable identifier for storing and dispatching, e.g. "hip.share".
	Name string
	// Path is relative to the bridge URL.
	Path string
	// Role says whether the callback is addressed by X-HIP-ID or X-HIU-ID.
	Role Role
	// AckStatus is the status the spec documents for the acknowledgement;
	// the gateway accepts any 2xx.
	AckStatus int
	// AnsweredBy is the gateway path that answers a gateway-initiated event,
	// with response.requestId set to the event's REQUEST-ID header. Empty
	// for result callbacks.
	AnsweredBy string
	// ResultOf is the gateway path whose asynchronous result this callback
	// carries (response.requestId is that call's REQUEST-ID). Empty for
	// gateway-initiated events.
	ResultOf string
	// NewBody returns a pointer to the message type of the body.
	NewBody func() any
}

// CallbackRoutes lists every callback the gateway makes to an HIP or HIU
// bridge (reference §1.7). The data push is absent: the HIP posts it to a
// URL the HIU chose, not through the gateway. Each call returns a fresh
// slice.
func CallbackRoutes() []CallbackRoute {
	return []CallbackRoute{
		{Name: "hip.share", Path: CallbackPatientShare, Role: RoleHIP, AckStatus: http.StatusOK,
			AnsweredBy: PathPatientOnShare, NewBody: func() any { return new(PatientShareRequest) }},
		{Name: "hip.discover", Path: CallbackDiscover, Role: RoleHIP, AckStatus: http.StatusAccepted,
			AnsweredBy: PathOnDiscover, NewBody: func() any { return new(DiscoverRequest) }},
		{Name: "hip.link_init", Path: CallbackLinkInit, Role: RoleHIP, AckStatus: http.StatusOK,
			AnsweredBy: PathLinkOnInit, NewBody: func() any { return new(LinkInitRequest) }},
		{Name: "hip.link_confirm", Path: CallbackLinkConfirm, Role: RoleHIP, AckStatus: http.StatusOK,
			AnsweredBy: PathLinkOnConfirm, NewBody: func() any { return new(LinkConfirmRequest) }},
		{Name: "hip.on_generate_token", Path: CallbackOnGenerateToken, Role: RoleHIP, AckStatus: http.StatusOK,
			ResultOf: PathGenerateToken, NewBody: func() any { return new(OnGenerateTokenRequest) }},
		{Name: "hip.on_carecontext", Path: CallbackOnCareContext, Role: RoleHIP, AckStatus: http.StatusOK,
			ResultOf: PathLinkCareContext, NewBody: func() any { return new(OnCareContextRequest) }},
		{Name: "hip.context_on_notify", Path: CallbackContextOnNotify, Role: RoleHIP, AckStatus: http.StatusOK,
			ResultOf: PathLinkContextNotify, NewBody: func() any { return new(ContextOnNotifyRequest) }},
		{Name: "hip.sms_on_notify", Path: CallbackSMSOnNotify, Role: RoleHIP, AckStatus: http.StatusOK,
			ResultOf: PathSMSNotify, NewBody: func() any { return new(SMSOnNotifyRequest) }},
		{Name: "hip.consent_notify", Path: CallbackHIPConsentNotify, Role: RoleHIP, AckStatus: http.StatusOK,
			AnsweredBy: PathHIPConsentOnNotify, NewBody: func() any { return new(HIPConsentNotifyRequest) }},
		{Name: "hip.health_information_request", Path: CallbackHIPHealthInformationRequest, Role: RoleHIP, AckStatus: http.StatusAccepted,
			AnsweredBy: PathHIPHealthInformationOnRequest, NewBody: func() any { return new(HIPHealthInformationRequest) }},
		{Name: "hiu.consent_request_on_init", Path: CallbackConsentRequestOnInit, Role: RoleHIU, AckStatus: http.StatusOK,
			ResultOf: PathConsentRequestInit, NewBody: func() any { return new(ConsentRequestOnInitRequest) }},
		{Name: "hiu.consent_request_on_status", Path: CallbackConsentRequestOnStatus, Role: RoleHIU, AckStatus: http.StatusOK,
			ResultOf: PathConsentRequestStatus, NewBody: func() any { return new(ConsentRequestOnStatusRequest) }},
		{Name: "hiu.consent_notify", Path: CallbackHIUConsentNotify, Role: RoleHIU, AckStatus: http.StatusOK,
			AnsweredBy: PathHIUConsentOnNotify, NewBody: func() any { return new(HIUConsentNotifyRequest) }},
		{Name: "hiu.consent_on_fetch", Path: CallbackConsentOnFetch, Role: RoleHIU, AckStatus: http.StatusOK,
			ResultOf: PathConsentFetch, NewBody: func() any { return new(ConsentOnFetchRequest) }},
		{Name: "hiu.health_information_on_request", Path: CallbackHIUHealthInformationOnRequest, Role: RoleHIU, AckStatus: http.StatusOK,
			ResultOf: PathHealthInformationRequest, NewBody: func() any { return new(HealthInformationOnRequest) }},
	}
}

// GatewayRoute describes one call a bridge makes to the gateway.
type GatewayRoute struct {
	Name   string
	Method string
	Path   string
	// Role is the side that makes the call ("" for gateway housekeeping and
	// for notify, which both sides use).
	Role Role
	// Requires is the addressing header (X-HIP-ID or X-HIU-ID) that Do
	// insists on for this path, "" when none is required.
	Requires string
	// Callback is the bridge path where the asynchronous result arrives.
	Callback string
	// NewBody returns a pointer to the request body type, nil for GETs.
	NewBody func() any
}

// GatewayRoutes lists the gateway calls an HIP or HIU makes (reference
// §1.7). Each call returns a fresh slice.
func GatewayRoutes() []GatewayRoute {
	post := http.MethodPost
	return []GatewayRoute{
		{Name: "sessions", Method: post, Path: PathSessions, NewBody: func() any { return new(SessionRequest) }},
		{Name: "bridge_url", Method: http.MethodPatch, Path: PathBridgeURL, NewBody: func() any { return new(BridgeURLRequest) }},
		{Name: "bridge_services", Method: http.MethodGet, Path: PathBridgeServices},
		{Name: "bridge_service_by_id", Method: http.MethodGet, Path: PathBridgeServiceByID},
		{Name: "certs", Method: http.MethodGet, Path: PathCerts},
		{Name: "openid_configuration", Method: http.MethodGet, Path: PathOpenIDConfiguration},
		{Name: "generate_token", Method: post, Path: PathGenerateToken, Role: RoleHIP, Requires: HeaderHIPID,
			Callback: CallbackOnGenerateToken, NewBody: func() any { return new(GenerateTokenRequest) }},
		{Name: "link_carecontext", Method: post, Path: PathLinkCareContext, Role: RoleHIP, Requires: HeaderHIPID,
			Callback: CallbackOnCareContext, NewBody: func() any { return new(LinkCareContextRequest) }},
		{Name: "link_context_notify", Method: post, Path: PathLinkContextNotify, Role: RoleHIP, Requires: HeaderHIPID,
			Callback: CallbackContextOnNotify, NewBody: func() any { return new(ContextNotifyRequest) }},
		{Name: "sms_notify", Method: post, Path: PathSMSNotify, Role: RoleHIP,
			Callback: CallbackSMSOnNotify, NewBody: func() any { return new(SMSNotifyRequest) }},
		{Name: "patient_on_share", Method: post, Path: PathPatientOnShare, Role: RoleHIP,
			NewBody: func() any { return new(PatientOnShareRequest) }},
		{Name: "on_discover", Method: post, Path: PathOnDiscover, Role: RoleHIP,
			NewBody: func() any { return new(OnDiscoverRequest) }},
		{Name: "link_on_init", Method: post, Path: PathLinkOnInit, Role: RoleHIP,
			NewBody: func() any { return new(LinkOnInitRequest) }},
		{Name: "link_on_confirm", Method: post, Path: PathLinkOnConfirm, Role: RoleHIP,
			NewBody: func() any { return new(LinkOnConfirmRequest) }},
		{Name: "hip_consent_on_notify", Method: post, Path: PathHIPConsentOnNotify, Role: RoleHIP,
			NewBody: func() any { return new(HIPConsentOnNotifyRequest) }},
		{Name: "hip_health_information_on_request", Method: post, Path: PathHIPHealthInformationOnRequest, Role: RoleHIP,
			NewBody: func() any { return new(HealthInformationOnRequest) }},
		{Name: "health_information_notify", Method: post, Path: PathHealthInformationNotify,
			NewBody: func() any { return new(HealthInformationNotifyRequest) }},
		{Name: "consent_request_init", Method: post, Path: PathConsentRequestInit, Role: RoleHIU, Requires: HeaderHIUID,
			Callback: CallbackConsentRequestOnInit, NewBody: func() any { return new(ConsentRequestInitRequest) }},
		{Name: "consent_request_status", Method: post, Path: PathConsentRequestStatus, Role: RoleHIU, Requires: HeaderHIUID,
			Callback: CallbackConsentRequestOnStatus, NewBody: func() any { return new(ConsentRequestStatusRequest) }},
		{Name: "hiu_consent_on_notify", Method: post, Path: PathHIUConsentOnNotify, Role: RoleHIU,
			NewBody: func() any { return new(HIUConsentOnNotifyRequest) }},
		{Name: "consent_fetch", Method: post, Path: PathConsentFetch, Role: RoleHIU, Requires: HeaderHIUID,
			Callback: CallbackConsentOnFetch, NewBody: func() any { return new(ConsentFetchRequest) }},
		{Name: "health_information_request", Method: post, Path: PathHealthInformationRequest, Role: RoleHIU, Requires: HeaderHIUID,
			Callback: CallbackHIUHealthInformationOnRequest, NewBody: func() any { return new(HealthInformationRequest) }},
	}
}

// requiredAddressHeader returns the addressing header a gateway path needs.
func requiredAddressHeader(path string) string {
	for _, r := range GatewayRoutes() {
		if r.Path == path {
			return r.Requires
		}
	}
	return ""
}
