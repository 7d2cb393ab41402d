package abdm

// User-initiated discovery (reference §3.1). Discovery is asynchronous in V3:
// the HIP acknowledges the inbound discover and answers later with on-discover.

// DiscoverRequest is the inbound callback
// /api/v3/hip/patient/care-context/discover.
type DiscoverRequest struct {
	TransactionID string          `json:"transactionId"`
	Patient       DiscoverPatient `json:"patient"`
}

// DiscoverPatient is who the patient says they are. ID is the ABHA address.
type DiscoverPatient struct {
	ID                    string       `json:"id"`
	Name                  string       `json:"name"`
	Gender                Gender       `json:"gender"`
	YearOfBirth           int          `json:"yearOfBirth"`
	VerifiedIdentifiers   []Identifier `json:"verifiedIdentifiers,omitempty"`
	UnverifiedIdentifiers []Identifier `json:"unverifiedIdentifiers,omitempty"`
}

// OnDiscoverRequest is the HIP's answer, POST
// /user-initiated-linking/v3/patient/care-context/on-discover: the patient's
// unlinked care contexts and how the patient was matched, or an error.
type OnDiscoverRequest struct {
	TransactionID string                `json:"transactionId"`
	Patient       []PatientCareContexts `json:"patient,omitempty"`
	MatchedBy     []IdentifierType      `json:"matchedBy,omitempty"`
	Error         *ErrorDetail          `json:"error,omitempty"`
	Response      ResponseRef           `json:"response"`
}
