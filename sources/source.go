package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/patients"
)

// Connector is what Sangam needs from one source system. Implementations are
// safe for concurrent use; every method honours ctx's deadline.
type Connector interface {
	// FindPatients returns the source's patients matching any identifier in
	// q (local id, ABHA number or address, mobile) or, failing those, its
	// demographics. Matching is the caller's job: a source returns
	// candidates, never decides that two records are one person.
	FindPatients(ctx context.Context, q PatientQuery) ([]patients.SourceRecord, error)
	// ListPatients pages through all the source's patients in local-id
	// order, starting after the local id after ("" for the first page).
	ListPatients(ctx context.Context, after string, limit int) ([]patients.SourceRecord, error)
	// CareContexts lists one patient's care contexts dated in [from, to).
	CareContexts(ctx context.Context, patientID string, from, to time.Time) ([]CareContext, error)
	// Fetch returns one care context's clinical content. It wraps
	// ErrNotFound when the source does not hold it.
	Fetch(ctx context.Context, ref ContextRef) (*Content, error)
	// Ping reports whether the source answers.
	Ping(ctx context.Context) error
	// Close releases the connector's connections.
	Close()
}

// Poller is implemented by connectors that can say what changed, for the
// polling fallback of sources that push no events.
type Poller interface {
	// ChangedSince lists care contexts updated after since, oldest first,
	// at most limit of them; each has Updated set.
	ChangedSince(ctx context.Context, since time.Time, limit int) ([]CareContext, error)
}

// Errors a connector's failures wrap, so that callers (and the circuit
// breaker) can tell the source's fault from the caller's.
var (
	// ErrNotFound: the source answered and does not hold the item.
	ErrNotFound = errors.New("not found in the source system")
	// ErrUnavailable: the source did not answer properly (connection
	// refused, timeout, 5xx).
	ErrUnavailable = errors.New("source system unavailable")
	// ErrCircuitOpen: the source failed repeatedly and is not being called
	// until its cooldown ends.
	ErrCircuitOpen = errors.New("source system is failing; not called until its cooldown ends")
	// ErrInvalidInput: the request cannot be put to the source (bad id,
	// date range, ...). It is the caller's fault, not the source's.
	ErrInvalidInput = errors.New("invalid request to source system")
	// ErrUnsupported: the source has no way to answer this kind of request.
	ErrUnsupported = errors.New("not supported by this source system")
)

// PatientQuery is what is known about a person being looked for. Empty
// fields are not searched on.
type PatientQuery struct {
	LocalID     string
	ABHANumber  string // 14 digits, dashes optional
	ABHAAddress string // e.g. name@sbx
	Mobile      string // any format; the last 10 digits are compared
	Name        string
	Gender      string // ABDM codes: M, F, O, U
	BirthYear   int
	// Limit caps the candidates returned; 0 means 20.
	Limit int
}

// HIType is an ABDM health-information type: what kind of record a care
// context holds.
type HIType string

// The ABDM health-information types.
const (
	OPConsultation       HIType = "OPConsultation"
	DischargeSummary     HIType = "DischargeSummary"
	DiagnosticReport     HIType = "DiagnosticReport"
	Prescription         HIType = "Prescription"
	ImmunizationRecord   HIType = "ImmunizationRecord"
	WellnessRecord       HIType = "WellnessRecord"
	HealthDocumentRecord HIType = "HealthDocumentRecord"
	Invoice              HIType = "Invoice"
)

// HITypes lists every health-information type.
func HITypes() []HIType {
	return []HIType{OPConsultation, DischargeSummary, DiagnosticReport, Prescription,
		ImmunizationRecord, WellnessRecord, HealthDocumentRecord, Invoice}
}

// IsKnown reports whether t is one of the ABDM health-information types.
func (t HIType) IsKnown() bool {
	for _, k := range HITypes() {
		if t == k {
			return true
		}
	}
	return false
}

// CareContext is one visit, admission, report, study or prescription as its
// source holds it.
type CareContext struct {
	// Reference is the careContext reference shared with ABDM; see
	// Reference().
	Reference string
	// Type is the care-context type in the source (its mapping's name, e.g.
	// visit, admission, order) and LocalID its id there.
	Type    string
	LocalID string
	// PatientID is the patient's local id in the same source.
	PatientID string
	Display   string
	HIType    HIType
	Date      time.Time
	// Updated is when the source last changed it; zero when unknown.
	Updated time.Time
}

// Ref returns what Fetch needs to read c.
func (c CareContext) Ref() ContextRef { return ContextRef{Type: c.Type, LocalID: c.LocalID} }

// ContextRef names a care context inside one source system.
type ContextRef struct {
	Type    string
	LocalID string
}

// Reference builds a care-context reference: the source system's code, the
// context type and the local id, joined by colons. It is stable and unique
// per facility (source codes are unique per facility), and a person reading
// it in the ops console can tell where it came from.
func Reference(systemCode string, ref ContextRef) string {
	return systemCode + ":" + ref.Type + ":" + ref.LocalID
}

// ParseReference splits a reference made by Reference. The local id may
// itself contain colons.
func ParseReference(reference string) (systemCode string, ref ContextRef, err error) {
	code, rest, ok1 := strings.Cut(reference, ":")
	typ, local, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || code == "" || typ == "" || local == "" {
		return "", ContextRef{}, fmt.Errorf("%w: care-context reference %q is not <system>:<type>:<id>", ErrInvalidInput, reference)
	}
	return code, ContextRef{Type: typ, LocalID: local}, nil
}

// Content is one care context's clinical content as FHIR R4 resources
// (Encounter, Condition, Procedure, Observation, MedicationRequest,
// DiagnosticReport, ImagingStudy, DocumentReference, Practitioner; Invoice
// and ChargeItem for bills), ready to be wrapped into an NRCeS document.
//
// Every resource's id is a UUID and every reference between them is
// "urn:uuid:<id>", so a document bundle can use "urn:uuid:<id>" as each
// entry's fullUrl unchanged. Resources refer to the patient as
// "urn:uuid:<PatientID>": the bundle's Patient entry must take that id.
type Content struct {
	CareContext CareContext
	PatientID   string
	Resources   []*bcrpb.ContainedResource
}

// System is one source_systems row: who the connector speaks for.
type System struct {
	ID            string
	TenantID      string
	FacilityID    string
	FacilityHFRID string
	Code          string
	Name          string
	Kind          string // HIS, LIMS, RIS, pharmacy, billing
	Vendor        string
	// Config is source_systems.config. Its "connector" member picks the
	// implementation; the rest is that implementation's business.
	Config json.RawMessage
}

// resourceNamespace roots the name-based UUIDs of resources built from
// source data, so the same row always gets the same id.
var resourceNamespace = uuid.MustParse("8f1d2c52-53a5-4c1f-9a4e-6b0a4d1e9c11")

// ResourceID returns a stable UUID for a resource named by parts (e.g. the
// system code, a resource type and the row's key). Rebuilding a care
// context's content gives the same ids, so a resent document replaces
// rather than duplicates what a receiver holds.
func ResourceID(parts ...string) string {
	return uuid.NewSHA1(resourceNamespace, []byte(strings.Join(parts, "\x1f"))).String()
}
