package nrces

import (
	"fmt"
	"strings"
)

// RecordType is one of the eight ABDM health-record kinds, each a
// Composition profile in the NRCeS IG.
type RecordType int

// The eight record types of IG ndhm.in 6.5.0.
const (
	OPConsultRecord RecordType = iota + 1
	DischargeSummaryRecord
	DiagnosticReportRecord
	PrescriptionRecord
	ImmunizationRecord
	WellnessRecord
	HealthDocumentRecord
	InvoiceRecord
)

// RecordTypes lists the eight record types in a stable order.
func RecordTypes() []RecordType {
	return []RecordType{
		OPConsultRecord, DischargeSummaryRecord, DiagnosticReportRecord, PrescriptionRecord,
		ImmunizationRecord, WellnessRecord, HealthDocumentRecord, InvoiceRecord,
	}
}

// String returns the profile name, e.g. "OPConsultRecord".
func (t RecordType) String() string {
	if r := recordRuleFor(t); r != nil {
		return r.name
	}
	return fmt.Sprintf("RecordType(%d)", int(t))
}

// Profile returns the canonical URL of the record's Composition profile.
func (t RecordType) Profile() string {
	if r := recordRuleFor(t); r != nil {
		return profileBase + r.name
	}
	return ""
}

// HIType returns the name ABDM uses for the record in consent requests and
// care-context linking (outside FHIR), e.g. "OPConsultation".
func (t RecordType) HIType() string {
	if r := recordRuleFor(t); r != nil {
		return r.hiType
	}
	return ""
}

// RecordTypeOfProfile returns the record type whose Composition profile is
// url. It accepts the http:// spelling some producers use, since the rest of
// the URL is unambiguous.
func RecordTypeOfProfile(url string) (RecordType, bool) {
	u := strings.TrimSpace(url)
	if i := strings.IndexByte(u, '|'); i >= 0 { // canonical|version
		u = u[:i]
	}
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	base := strings.TrimPrefix(profileBase, "https://")
	if !strings.HasPrefix(u, base) {
		return 0, false
	}
	name := strings.TrimPrefix(u, base)
	for i := range recordRules {
		if recordRules[i].name == name {
			return recordRules[i].typ, true
		}
	}
	return 0, false
}

// RecordTypeOfHIType returns the record type ABDM calls hiType.
func RecordTypeOfHIType(hiType string) (RecordType, bool) {
	for i := range recordRules {
		if strings.EqualFold(recordRules[i].hiType, hiType) {
			return recordRules[i].typ, true
		}
	}
	return 0, false
}

// Severity says whether a finding stops a bundle.
type Severity string

// Severities. An error means the bundle does not conform and must not be sent;
// a warning is a deviation from common practice that receivers tolerate.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one problem the quality gate found in a bundle.
type Finding struct {
	// Location is a FHIRPath-like path into the bundle, e.g.
	// "Bundle.entry[0].resource.type.coding[0].code".
	Location string `json:"location"`
	// Rule is a stable identifier, e.g. "nrces-composition-first"; the package
	// documentation lists them.
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	return f.Location + ": " + f.Rule + ": " + string(f.Severity) + ": " + f.Message
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
