package abdm

import (
	"encoding/json"
	"fmt"
)

// Scan-and-share (profile share), reference §2.5. The patient scans a counter
// QR; the gateway POSTs a PatientShareRequest to the HIP; the HIP answers with
// a PatientOnShareRequest carrying a queue token number. No link token is
// involved here.

// Share intents (spec enum).
const (
	IntentProfileShare = "PROFILE_SHARE"
	IntentRecordShare  = "RECORD_SHARE"
	IntentPaymentShare = "PAYMENT_SHARE"
)

// PatientShareRequest is the body of the inbound callback
// /api/v3/hip/patient/share.
type PatientShareRequest struct {
	Intent   string        `json:"intent"`
	MetaData ShareMetaData `json:"metaData"`
	Profile  ShareProfile  `json:"profile"`
}

// ShareMetaData says where the QR was scanned. Context is the counter id.
// Coordinates arrive as strings (observed) or numbers (spec).
type ShareMetaData struct {
	HIPID     string     `json:"hipId"`
	Context   string     `json:"context"`
	HPRID     *string    `json:"hprId"`
	Latitude  FlexString `json:"latitude,omitempty"`
	Longitude FlexString `json:"longitude,omitempty"`
}

// ShareProfile wraps the shared patient demographics.
type ShareProfile struct {
	Patient SharePatient `json:"patient"`
}

// SharePatient is the patient's ABHA profile as shared. ABHANumber is null
// for address-only ABHAs. Birth-date parts are strings on the wire.
type SharePatient struct {
	ABHANumber   *string       `json:"abhaNumber"`
	ABHAAddress  string        `json:"abhaAddress"`
	Name         string        `json:"name"`
	Gender       Gender        `json:"gender"`
	DayOfBirth   FlexString    `json:"dayOfBirth"`
	MonthOfBirth FlexString    `json:"monthOfBirth"`
	YearOfBirth  FlexString    `json:"yearOfBirth"`
	Address      *ShareAddress `json:"address,omitempty"`
	PhoneNumber  string        `json:"phoneNumber"`
	Identifiers  []Identifier  `json:"identifiers,omitempty"`
}

// ShareAddress is the shared postal address. Some senders spell the pin code
// "pinCode"; decoding accepts both, encoding writes "pincode".
type ShareAddress struct {
	Line     string `json:"line"`
	District string `json:"district"`
	State    string `json:"state"`
	Pincode  string `json:"pincode"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *ShareAddress) UnmarshalJSON(b []byte) error {
	type plain ShareAddress
	var v struct {
		plain
		PinCode FlexString `json:"pinCode"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding share address: %w", err)
	}
	*a = ShareAddress(v.plain)
	if a.Pincode == "" {
		a.Pincode = string(v.PinCode)
	}
	return nil
}

// PatientOnShareRequest is the HIP's answer, POST
// /patient-share/v3/on-share. Response.RequestID is the REQUEST-ID header of
// the inbound share.
type PatientOnShareRequest struct {
	Acknowledgement ShareAcknowledgement `json:"acknowledgement"`
	Error           *ErrorDetail         `json:"error,omitempty"`
	Response        ResponseRef          `json:"response"`
}

// ShareAcknowledgement carries the queue token on success (Status SUCCESS)
// or just the status on failure (FAILED).
type ShareAcknowledgement struct {
	Status      string             `json:"status"`
	ABHAAddress string             `json:"abhaAddress"`
	Profile     *ShareTokenProfile `json:"profile,omitempty"`
}

// ShareTokenProfile is the queue token issued at a counter. Expiry is in
// seconds (unit undocumented; a number in the spec, a string when observed).
type ShareTokenProfile struct {
	Context     string     `json:"context"`
	TokenNumber FlexString `json:"tokenNumber"`
	Expiry      FlexString `json:"expiry"`
}
