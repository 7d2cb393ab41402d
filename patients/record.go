// Package patients is the patient master index: it knows that MRN-12345 in
// one facility's HIS, LAB-67890 in a LIMS and an ABHA address are the same
// person. It links (facility, source system, local id) records to one master
// patient, matches deterministically on ABHA and probabilistically on
// demographics, and keeps a full history of merges and unmerges.
package patients

import "time"

// SourceRecord is one patient as one source system knows them. Connectors
// in package sources produce these; the index consumes them. Fields a source
// does not hold stay empty.
type SourceRecord struct {
	// FacilityID and SourceSystemID are the ids of the facilities and
	// source_systems rows the record came from.
	FacilityID     string
	SourceSystemID string
	// LocalID is the patient's id in that system (an MRN, a lab patient id).
	LocalID string

	Name      string
	Gender    string    // ABDM codes: M, F, O, U
	BirthDate time.Time // zero when only the year is known
	BirthYear int       // set whenever BirthDate is, or alone
	Mobile    string    // as the source holds it; the index normalises
	Address   string
	PinCode   string

	// ABHANumber (14 digits, with or without dashes) and ABHAAddress
	// (e.g. name@sbx) when the source has them.
	ABHANumber  string
	ABHAAddress string
}
