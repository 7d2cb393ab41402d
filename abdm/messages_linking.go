package abdm

// HIP-initiated linking (reference §2.6) and user-initiated link init/confirm
// (§3.2).

// GenerateTokenRequest asks for a link token, POST /v3/token/generate-token
// (X-HIP-ID required). ABHANumber is digits only, sent as a JSON number, or
// null when the patient has only an ABHA address.
type GenerateTokenRequest struct {
	ABHANumber  *NumericID `json:"abhaNumber"`
	ABHAAddress string     `json:"abhaAddress"`
	Name        string     `json:"name"`
	Gender      Gender     `json:"gender"`
	YearOfBirth int        `json:"yearOfBirth"`
}

// OnGenerateTokenRequest is the inbound callback
// /api/v3/hip/token/on-generate-token: a link token (valid about 6 months,
// reusable for later care contexts at the same HIP) or an error.
type OnGenerateTokenRequest struct {
	ABHAAddress string       `json:"abhaAddress,omitempty"`
	LinkToken   string       `json:"linkToken,omitempty"`
	Error       *ErrorDetail `json:"error,omitempty"`
	Response    ResponseRef  `json:"response"`
}

// LinkCareContextRequest links care contexts, POST /hip/v3/link/carecontext
// (X-HIP-ID and X-LINK-TOKEN required). ABHANumber must be digits only: a
// dashed number gets a 400 with an empty body. Send one Patient element per
// HI type.
type LinkCareContextRequest struct {
	ABHANumber  string                `json:"abhaNumber,omitempty"`
	ABHAAddress string                `json:"abhaAddress"`
	Patient     []PatientCareContexts `json:"patient"`
}

// OnCareContextRequest is the inbound callback /api/v3/link/on_carecontext.
// Status is prose ("Successfully Linked care context"); treat the absence of
// Error as success.
type OnCareContextRequest struct {
	ABHAAddress string       `json:"abhaAddress,omitempty"`
	Status      string       `json:"status,omitempty"`
	Error       *ErrorDetail `json:"error,omitempty"`
	Response    ResponseRef  `json:"response"`
}

// ContextNotifyRequest tells the gateway that a linked care context has new
// data, POST /hip/v3/link/context/notify (X-HIP-ID required). Sent within a
// few seconds of linking it often fails with ABDM-1006 and succeeds later.
type ContextNotifyRequest struct {
	Notification ContextNotification `json:"notification"`
}

// ContextNotification is the body of ContextNotifyRequest.
type ContextNotification struct {
	Patient     Ref            `json:"patient"`
	CareContext CareContextRef `json:"careContext"`
	HITypes     []HIType       `json:"hiTypes"`
	Date        Time           `json:"date"`
	HIP         Ref            `json:"hip"`
}

// AcknowledgementResult is the body of the result callbacks that carry only
// an acknowledgement: /api/v3/links/context/on-notify and
// /api/v3/patients/sms/on-notify.
type AcknowledgementResult struct {
	Acknowledgement *Acknowledgement `json:"acknowledgement,omitempty"`
	Error           *ErrorDetail     `json:"error,omitempty"`
	Response        ResponseRef      `json:"response"`
}

// ContextOnNotifyRequest is the inbound callback /api/v3/links/context/on-notify.
type ContextOnNotifyRequest = AcknowledgementResult

// SMSOnNotifyRequest is the inbound callback /api/v3/patients/sms/on-notify.
type SMSOnNotifyRequest = AcknowledgementResult

// SMSNotifyRequest asks the gateway to text the patient a deep link, POST
// /hip/v3/link/patient/links/sms/notify2.
type SMSNotifyRequest struct {
	Notification SMSNotification `json:"notification"`
}

// SMSNotification is the body of SMSNotifyRequest.
type SMSNotification struct {
	PhoneNo string `json:"phoneNo"`
	HIP     Party  `json:"hip"`
}

// Link authentication types and communication media (spec enums). The
// official wrapper's "MEDIATE" is a typo; do not send it.
const (
	AuthenticationDirect   = "DIRECT"
	AuthenticationMediated = "MEDIATED"
	CommunicationMobile    = "MOBILE"
	CommunicationEmail     = "EMAIL"
)

// LinkInitRequest is the inbound callback /api/v3/hip/link/care-context/init:
// the patient chose care contexts from a discovery result. Display may be
// absent.
type LinkInitRequest struct {
	TransactionID string                `json:"transactionId"`
	ABHAAddress   string                `json:"abhaAddress"`
	Patient       []PatientCareContexts `json:"patient"`
}

// LinkOnInitRequest is the HIP's answer, POST
// /user-initiated-linking/v3/link/care-context/on-init, after it sent the
// patient an OTP.
type LinkOnInitRequest struct {
	TransactionID string         `json:"transactionId,omitempty"`
	Link          *LinkReference `json:"link,omitempty"`
	Error         *ErrorDetail   `json:"error,omitempty"`
	Response      ResponseRef    `json:"response"`
}

// LinkReference identifies a pending link; the confirm callback quotes
// ReferenceNumber as linkRefNumber.
type LinkReference struct {
	ReferenceNumber    string    `json:"referenceNumber"`
	AuthenticationType string    `json:"authenticationType"`
	Meta               *LinkMeta `json:"meta,omitempty"`
}

// LinkMeta says how the OTP was sent and until when it is valid.
type LinkMeta struct {
	CommunicationMedium string `json:"communicationMedium"`
	CommunicationHint   string `json:"communicationHint"`
	CommunicationExpiry Time   `json:"communicationExpiry"`
}

// LinkConfirmRequest is the inbound callback
// /api/v3/hip/link/care-context/confirm. It has no transactionId: correlate
// by LinkRefNumber.
type LinkConfirmRequest struct {
	Confirmation LinkConfirmation `json:"confirmation"`
}

// LinkConfirmation carries the OTP the patient entered; the spec types Token
// as an integer, clients send a string, both are accepted.
type LinkConfirmation struct {
	LinkRefNumber string     `json:"linkRefNumber"`
	Token         FlexString `json:"token"`
}

// LinkOnConfirmRequest is the HIP's answer, POST
// /user-initiated-linking/v3/link/care-context/on-confirm: the care contexts
// now linked, or an error (use ABDM-9999 for a wrong OTP, not the wrapper's
// ABDM-1035, which means "invalid HIP id" in V3).
type LinkOnConfirmRequest struct {
	Patient  []PatientCareContexts `json:"patient,omitempty"`
	Error    *ErrorDetail          `json:"error,omitempty"`
	Response ResponseRef           `json:"response"`
}
