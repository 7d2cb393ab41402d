package abdm

// Consent (reference §3.3 for the HIP side, §4.1-4.4 for the HIU side).

// ConsentStatus is the state of a consent request or artefact.
type ConsentStatus string

// ConsentStatus values (spec enum).
const (
	ConsentRequested ConsentStatus = "REQUESTED"
	ConsentGranted   ConsentStatus = "GRANTED"
	ConsentDenied    ConsentStatus = "DENIED"
	ConsentExpired   ConsentStatus = "EXPIRED"
	ConsentRevoked   ConsentStatus = "REVOKED"
)

// Purpose of use codes (spec enum).
const (
	PurposeCareManagement    = "CAREMGT"
	PurposeBreakTheGlass     = "BTG"
	PurposePublicHealth      = "PUBHLTH"
	PurposeHealthcarePayment = "HPAYMT"
	PurposeDiseaseResearch   = "DSRCH"
	PurposeSelfRequested     = "PATRQT"
)

// purposeRefURI is the value set every sender puts in purpose.refUri.
const purposeRefURI = "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse"

// Access modes and frequency units (spec enums).
const (
	AccessView   = "VIEW"
	AccessStore  = "STORE"
	AccessStream = "STREAM"
	AccessQuery  = "QUERY"

	FrequencyHour  = "HOUR"
	FrequencyDay   = "DAY"
	FrequencyWeek  = "WEEK"
	FrequencyMonth = "MONTH"
	FrequencyYear  = "YEAR"
)

// Purpose is why health information is requested.
type Purpose struct {
	Text   string `json:"text"`
	Code   string `json:"code"`
	RefURI string `json:"refUri,omitempty"`
}

// PurposeOf returns the purpose with the spec's text for code, and false
// when the code is not one of the spec's purposes.
func PurposeOf(code string) (Purpose, bool) {
	var text string
	switch code {
	case PurposeCareManagement:
		text = "Care Management"
	case PurposeBreakTheGlass:
		text = "Break the Glass"
	case PurposePublicHealth:
		text = "Public Health"
	case PurposeHealthcarePayment:
		text = "Healthcare Payment"
	case PurposeDiseaseResearch:
		text = "Disease Specific Healthcare Research"
	case PurposeSelfRequested:
		text = "Self Requested"
	default:
		return Purpose{}, false
	}
	return Purpose{Text: text, Code: code, RefURI: purposeRefURI}, true
}

// Requester is the clinician on whose behalf consent is requested.
type Requester struct {
	Name       string               `json:"name"`
	Identifier *RequesterIdentifier `json:"identifier,omitempty"`
}

// RequesterIdentifier is e.g. a medical council registration number.
type RequesterIdentifier struct {
	Type   string `json:"type"`
	Value  string `json:"value"`
	System string `json:"system,omitempty"`
}

// Permission bounds what the consent allows.
type Permission struct {
	AccessMode  string    `json:"accessMode"`
	DateRange   DateRange `json:"dateRange"`
	DataEraseAt Time      `json:"dataEraseAt"`
	Frequency   Frequency `json:"frequency"`
}

// Frequency is how often data may be fetched.
type Frequency struct {
	Unit    string `json:"unit"`
	Value   int    `json:"value"`
	Repeats int    `json:"repeats"`
}

// ConsentDetail is a consent artefact: who may see which records, why and
// for how long. The patient may have narrowed Permission.DateRange compared
// with the request; build health-information requests from the artefact.
type ConsentDetail struct {
	SchemaVersion  string           `json:"schemaVersion,omitempty"`
	ConsentID      string           `json:"consentId"`
	CreatedAt      Time             `json:"createdAt,omitzero"`
	LastUpdated    Time             `json:"lastUpdated,omitzero"`
	Patient        Ref              `json:"patient"`
	CareContexts   []CareContextRef `json:"careContexts,omitempty"`
	Purpose        Purpose          `json:"purpose"`
	HIP            *Party           `json:"hip,omitempty"`
	HIU            Party            `json:"hiu"`
	ConsentManager Ref              `json:"consentManager"`
	Requester      Requester        `json:"requester"`
	HITypes        []HIType         `json:"hiTypes"`
	Permission     Permission       `json:"permission"`
}

// HIPConsentNotifyRequest is the inbound callback
// /api/v3/consent/request/hip/notify (GRANTED, REVOKED or EXPIRED).
type HIPConsentNotifyRequest struct {
	Notification HIPConsentNotification `json:"notification"`
}

// HIPConsentNotification is the body of HIPConsentNotifyRequest. Signature
// is the consent manager's signature over the artefact.
type HIPConsentNotification struct {
	Status               ConsentStatus  `json:"status"`
	ConsentID            string         `json:"consentId"`
	ConsentDetail        *ConsentDetail `json:"consentDetail,omitempty"`
	Signature            string         `json:"signature,omitempty"`
	GrantAcknowledgement bool           `json:"grantAcknowledgement"`
}

// HIPConsentOnNotifyRequest is the HIP's acknowledgement, POST
// /consent/v3/request/hip/on-notify. Its acknowledgement is an object (the
// HIU variant is an array).
type HIPConsentOnNotifyRequest struct {
	Acknowledgement HIPConsentAck `json:"acknowledgement"`
	Error           *ErrorDetail  `json:"error,omitempty"`
	Response        ResponseRef   `json:"response"`
}

// HIPConsentAck acknowledges one consent (Status "OK").
type HIPConsentAck struct {
	Status    string `json:"status"`
	ConsentID string `json:"consentId"`
}

// ConsentRequestInitRequest creates a consent request, POST
// /consent/v3/request/init (X-HIU-ID sent, as both reference clients do).
type ConsentRequestInitRequest struct {
	Consent ConsentRequest `json:"consent"`
}

// ConsentRequest is what the HIU asks for. Leave HIP and CareContexts empty
// to ask for records from all HIPs.
type ConsentRequest struct {
	Purpose      Purpose          `json:"purpose"`
	Patient      Ref              `json:"patient"`
	HIP          *Party           `json:"hip,omitempty"`
	CareContexts []CareContextRef `json:"careContexts,omitempty"`
	HIU          Party            `json:"hiu"`
	Requester    Requester        `json:"requester"`
	HITypes      []HIType         `json:"hiTypes"`
	Permission   Permission       `json:"permission"`
}

// ConsentRequestOnInitRequest is the inbound callback
// /api/v3/hiu/consent/request/on-init with the new consent request id. The
// gateway sends "error": null on success, so Error is always encoded.
type ConsentRequestOnInitRequest struct {
	ConsentRequest *Ref         `json:"consentRequest,omitempty"`
	Error          *ErrorDetail `json:"error"`
	Response       ResponseRef  `json:"response"`
}

// ConsentRequestStatusRequest polls a consent request, POST
// /consent/v3/request/status (X-HIU-ID required).
type ConsentRequestStatusRequest struct {
	ConsentRequestID string `json:"consentRequestId"`
}

// ConsentRequestOnStatusRequest is the inbound callback
// /api/v3/hiu/consent/request/on-status.
type ConsentRequestOnStatusRequest struct {
	ConsentRequest *ConsentRequestStatus `json:"consentRequest,omitempty"`
	Error          *ErrorDetail          `json:"error"`
	Response       ResponseRef           `json:"response"`
}

// ConsentRequestStatus is a consent request's state and, once granted, its
// artefact ids (one per HIP).
type ConsentRequestStatus struct {
	ID               string        `json:"id"`
	Status           ConsentStatus `json:"status"`
	ConsentArtefacts []Ref         `json:"consentArtefacts,omitempty"`
}

// HIUConsentNotifyRequest is the inbound callback
// /api/v3/hiu/consent/request/notify: the patient's decision. GRANTED lists
// the new artefacts, REVOKED the revoked ones, DENIED and EXPIRED none.
type HIUConsentNotifyRequest struct {
	Notification HIUConsentNotification `json:"notification"`
}

// HIUConsentNotification is the body of HIUConsentNotifyRequest.
type HIUConsentNotification struct {
	ConsentRequestID string        `json:"consentRequestId"`
	Status           ConsentStatus `json:"status"`
	Reason           *string       `json:"reason"`
	ConsentArtefacts []Ref         `json:"consentArtefacts,omitempty"`
}

// HIUConsentOnNotifyRequest is the HIU's acknowledgement, POST
// /consent/v3/request/hiu/on-notify, one entry per artefact.
type HIUConsentOnNotifyRequest struct {
	Acknowledgement []HIUConsentAck `json:"acknowledgement"`
	Error           *ErrorDetail    `json:"error,omitempty"`
	Response        ResponseRef     `json:"response"`
}

// HIUConsentAck acknowledges one artefact (Status "OK").
type HIUConsentAck struct {
	ConsentID string `json:"consentId"`
	Status    string `json:"status"`
}

// ConsentFetchRequest fetches an artefact, POST /consent/v3/fetch (X-HIU-ID
// required).
type ConsentFetchRequest struct {
	ConsentID string `json:"consentId"`
}

// ConsentOnFetchRequest is the inbound callback /api/v3/hiu/consent/on-fetch.
type ConsentOnFetchRequest struct {
	Consent  *FetchedConsent `json:"consent,omitempty"`
	Error    *ErrorDetail    `json:"error"`
	Response ResponseRef     `json:"response"`
}

// FetchedConsent is an artefact with its status and signature.
type FetchedConsent struct {
	Status        ConsentStatus `json:"status"`
	ConsentDetail ConsentDetail `json:"consentDetail"`
	Signature     string        `json:"signature"`
}
