package abdm

// Data flow (reference §3.4-3.6 and §4.5-4.7): the HIU asks for data, the
// gateway forwards the request to the HIP, the HIP pushes encrypted pages
// straight to the HIU's dataPushUrl, and both sides report the transfer.

// Key material constants. Compare received curve names case-insensitively
// ("curve25519" and "Curve25519" both occur) and do not validate Parameters.
const (
	CryptoAlgECDH    = "ECDH"
	CurveCurve25519  = "Curve25519"
	DHKeyParameters  = "Curve25519/32byte random key"
	MediaFHIRJSON    = "application/fhir+json"
	NotifyAcceptedOK = "Notification is Accepted"
)

// Session and per-context statuses. The HIP reports TRANSFERRED/FAILED and
// DELIVERED/ERRORED; the HIU reports RECEIVED/FAILED and OK/ERRORED. The HIP
// acknowledges a request with ACKNOWLEDGED; the gateway tells the HIU
// REQUESTED.
const (
	SessionAcknowledged = "ACKNOWLEDGED"
	SessionRequested    = "REQUESTED"
	SessionTransferred  = "TRANSFERRED"
	SessionReceived     = "RECEIVED"
	SessionFailed       = "FAILED"

	HIStatusDelivered = "DELIVERED"
	HIStatusOK        = "OK"
	HIStatusErrored   = "ERRORED"
)

// KeyMaterial is one side's Fidelius ECDH public key and nonce.
type KeyMaterial struct {
	CryptoAlg   string      `json:"cryptoAlg"`
	Curve       string      `json:"curve"`
	DHPublicKey DHPublicKey `json:"dhPublicKey"`
	Nonce       string      `json:"nonce"`
}

// DHPublicKey is a base64 public key with its expiry.
type DHPublicKey struct {
	Expiry     Time   `json:"expiry"`
	Parameters string `json:"parameters"`
	KeyValue   string `json:"keyValue"`
}

// HIRequest says which consent, which dates, where to push and with which key.
type HIRequest struct {
	Consent     Ref         `json:"consent"`
	DateRange   DateRange   `json:"dateRange"`
	DataPushURL string      `json:"dataPushUrl"`
	KeyMaterial KeyMaterial `json:"keyMaterial"`
}

// HealthInformationRequest is the HIU's request for data, POST
// /data-flow/v3/health-information/request (X-HIU-ID required).
type HealthInformationRequest struct {
	HIRequest HIRequest `json:"hiRequest"`
}

// HIPHealthInformationRequest is the inbound callback
// /api/v3/hip/health-information/request. RequestID and Timestamp are V0.5
// leftovers that arrive empty: use the REQUEST-ID header.
type HIPHealthInformationRequest struct {
	RequestID     string    `json:"requestId"`
	Timestamp     string    `json:"timestamp"`
	TransactionID string    `json:"transactionId"`
	HIRequest     HIRequest `json:"hiRequest"`
}

// HealthInformationOnRequest is both the HIP's acknowledgement, POST
// /data-flow/v3/health-information/hip/on-request (SessionStatus
// ACKNOWLEDGED; the gateway answers 200 here, not 202), and the inbound HIU
// callback /api/v3/hiu/health-information/on-request (REQUESTED).
type HealthInformationOnRequest struct {
	HIRequest *HIRequestAck `json:"hiRequest,omitempty"`
	Error     *ErrorDetail  `json:"error,omitempty"`
	Response  ResponseRef   `json:"response"`
}

// HIRequestAck names the data-flow transaction and its state.
type HIRequestAck struct {
	TransactionID string `json:"transactionId"`
	SessionStatus string `json:"sessionStatus"`
}

// DataPushRequest is one page of encrypted data the HIP POSTs to the HIU's
// dataPushUrl. Pages are 1-based when we send; accept 0-based when we
// receive. The checksum is not validated by anyone in practice.
type DataPushRequest struct {
	PageNumber    int         `json:"pageNumber"`
	PageCount     int         `json:"pageCount"`
	TransactionID string      `json:"transactionId"`
	Entries       []DataEntry `json:"entries"`
	KeyMaterial   KeyMaterial `json:"keyMaterial"`
}

// DataEntry is one encrypted FHIR bundle (Content, base64 of ciphertext and
// tag) or, rarely, a Link to download it.
type DataEntry struct {
	Content              string `json:"content,omitempty"`
	Link                 string `json:"link,omitempty"`
	Media                string `json:"media"`
	Checksum             string `json:"checksum"`
	CareContextReference string `json:"careContextReference"`
}

// HealthInformationNotifyRequest reports a transfer's outcome, POST
// /data-flow/v3/health-information/notify, sent by the HIP after pushing and
// by the HIU after receiving. The gateway answers 202 {"status":"Notification
// is Accepted"} and refuses a repeat with ABDM-1101.
type HealthInformationNotifyRequest struct {
	Notification HealthInformationNotification `json:"notification"`
}

// HealthInformationNotification is the body of HealthInformationNotifyRequest.
type HealthInformationNotification struct {
	ConsentID          string             `json:"consentId"`
	TransactionID      string             `json:"transactionId"`
	DoneAt             Time               `json:"doneAt"`
	Notifier           Notifier           `json:"notifier"`
	StatusNotification StatusNotification `json:"statusNotification"`
}

// Notifier says which side reports.
type Notifier struct {
	Type Role   `json:"type"`
	ID   string `json:"id"`
}

// StatusNotification is the transfer's overall and per-context state.
type StatusNotification struct {
	SessionStatus   string              `json:"sessionStatus"`
	HIPID           string              `json:"hipId"`
	StatusResponses []CareContextStatus `json:"statusResponses"`
}

// CareContextStatus is one care context's transfer state.
type CareContextStatus struct {
	CareContextReference string `json:"careContextReference"`
	HIStatus             string `json:"hiStatus"`
	Description          string `json:"description,omitempty"`
}

// NotifyAccepted is the synchronous body of a successful notify.
type NotifyAccepted struct {
	Status string `json:"status"`
}
