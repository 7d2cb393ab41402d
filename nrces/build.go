package nrces

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	comppb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/composition_go_proto"
	"github.com/google/uuid"
)

// Config configures a Builder. The zero value is usable.
type Config struct {
	// Now returns the current time for Bundle.timestamp and meta.lastUpdated;
	// default time.Now. Fix it for reproducible output.
	Now func() time.Time
	// NewID returns a fresh lower-case UUID for each resource id and
	// urn:uuid fullUrl; default a random (v4) UUID.
	NewID func() string
	// Location is the zone date-times are written in; default India
	// Standard Time (+05:30), as the IG examples write them.
	Location *time.Location
	// IdentifierSystem is the namespace of Bundle.identifier and
	// Composition.identifier, e.g. "https://hospital.example/fhir/bundle".
	// Default urn:ietf:rfc:3986, with the urn:uuid as the value.
	IdentifierSystem string
	// ABHASystem, HPRSystem and HFRSystem are the identifier systems of the
	// ABDM registries; defaults are the production hosts the IG examples
	// use (DefaultABHASystem, …). Sandbox deployments may set the sandbox
	// hosts.
	ABHASystem, HPRSystem, HFRSystem string
}

// Builder turns Documents into NRCeS document bundles. It is safe for
// concurrent use if Config.Now and Config.NewID are.
type Builder struct {
	cfg       Config
	gate      *Gate
	marshaler *jsonformat.Marshaller
	json      *pjWriter // writes what marshaler would, faster
}

// NewBuilder returns a builder.
func NewBuilder(cfg Config) (*Builder, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid.NewString
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("IST", 5*3600+1800)
	}
	if cfg.IdentifierSystem == "" {
		cfg.IdentifierSystem = systemRFC3986
	}
	if cfg.ABHASystem == "" {
		cfg.ABHASystem = DefaultABHASystem
	}
	if cfg.HPRSystem == "" {
		cfg.HPRSystem = DefaultHPRSystem
	}
	if cfg.HFRSystem == "" {
		cfg.HFRSystem = DefaultHFRSystem
	}
	for name, sys := range map[string]string{"IdentifierSystem": cfg.IdentifierSystem,
		"ABHASystem": cfg.ABHASystem, "HPRSystem": cfg.HPRSystem, "HFRSystem": cfg.HFRSystem} {
		if !isAbsURI(sys) {
			return nil, fmt.Errorf("nrces: Config.%s %q is not an absolute URI", name, sys)
		}
	}
	g, err := NewGate()
	if err != nil {
		return nil, err
	}
	m, err := jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("creating the R4 marshaller: %w", err)
	}
	return &Builder{cfg: cfg, gate: g, marshaler: m, json: &pjWriter{}}, nil
}

// Built is a bundle that passed the quality gate.
type Built struct {
	// ID is Bundle.id.
	ID string
	// JSON is the bundle.
	JSON []byte
	// Warnings are the gate's non-blocking findings.
	Warnings []Finding
}

// Build makes the bundle for doc and puts it through the quality gate.
//
// A document the builder cannot express conformantly gives an error
// wrapping ErrInvalidDocument; a bundle that fails the gate gives a
// *RejectedError with the bundle and the findings. Neither may be sent.
func (b *Builder) Build(ctx context.Context, doc *Document) (*Built, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rule := recordRuleFor(doc.Type)
	if rule == nil {
		return nil, fmt.Errorf("%w: unknown record type %d", ErrInvalidDocument, doc.Type)
	}
	s := &buildState{cfg: &b.cfg, doc: doc, rule: rule, content: map[contentKey][]sectionEntry{}}
	bundle := s.bundle()
	if len(s.errs) > 0 {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidDocument, rule.name, errors.Join(s.errs...))
	}

	return b.finish(ctx, rule.name+" bundle", bundle, checkNRCeS)
}

// finish validates a built bundle and writes it: base R4 on the proto
// (what jsonformat's validating unmarshaller runs after parsing; checking
// the proto saves re-parsing our own output, the slowest step of the gate),
// then the profile rules on its JSON. A bundle with errors comes back as a
// *RejectedError.
func (b *Builder) finish(ctx context.Context, what string, bundle *bcrpb.Bundle, rules func(jobj) []Finding) (*Built, error) {
	rep := &r4Reporter{}
	cr := &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Bundle{Bundle: bundle}}
	if err := fhirvalidate.ValidateWithErrorReporter(cr, rep); err != nil {
		return nil, fmt.Errorf("validating the %s: %w", what, err)
	}
	data, err := b.json.resource(bundle.ProtoReflect())
	if errors.Is(err, errPJUnsupported) {
		data, err = b.marshaler.MarshalResource(bundle)
	}
	if err != nil {
		return nil, fmt.Errorf("marshalling the %s: %w", what, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := decodeBundleJSON(data)
	if err != nil {
		return nil, fmt.Errorf("re-reading the %s: %w", what, err)
	}
	fs := append(rules(root), r4Findings(rep.issues)...)
	checkEmpty((*findingList)(&fs), "Bundle", root, false)
	if HasErrors(fs) {
		return nil, &RejectedError{Bundle: data, Findings: fs}
	}
	return &Built{ID: bundle.GetId().GetValue(), JSON: data, Warnings: fs}, nil
}

// buildState is one Build call.
type buildState struct {
	cfg  *Config
	doc  *Document
	rule *recordRule
	errs []error

	entries []*bcrpb.Bundle_Entry
	content map[contentKey][]sectionEntry

	patientURL, authorURL, orgURL, encounterURL string
}

// sectionEntry is a resource a section will list.
type sectionEntry struct {
	url, typ string
}

func (s *buildState) fail(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf(format, args...))
}

func (s *buildState) loc() *time.Location { return s.cfg.Location }

func (s *buildState) newID() string { return strings.ToLower(s.cfg.NewID()) }

// add appends a resource entry and returns its fullUrl.
func (s *buildState) add(id string, r *bcrpb.ContainedResource) string {
	url := "urn:uuid:" + id
	s.entries = append(s.entries, &bcrpb.Bundle_Entry{FullUrl: pURI(url), Resource: r})
	return url
}

func (s *buildState) identifierValue(id string) string {
	if s.cfg.IdentifierSystem == systemRFC3986 {
		return "urn:uuid:" + id
	}
	return id
}

// bundle assembles the whole document; problems go to s.errs.
func (s *buildState) bundle() *bcrpb.Bundle {
	doc, rule := s.doc, s.rule
	now := s.cfg.Now()
	bundleID, compID := s.newID(), s.newID()
	if doc.Date.IsZero() {
		s.fail("Date is required (Composition.date)")
	}
	if doc.Encounter == nil && rule.encounterRequired {
		s.fail("Encounter is required: %s makes Composition.encounter 1..1", rule.name)
	}

	s.patientURL = s.patient(doc.Patient)
	s.authorURL = s.practitioner(doc.Author)
	s.orgURL = s.organization(doc.Organization)
	if doc.Encounter != nil {
		s.encounterURL = s.encounter(*doc.Encounter)
	}
	s.buildContent()
	sections := s.sections()

	title := doc.Title
	if title == "" {
		title = rule.title
	}
	comp := &comppb.Composition{
		Id:         pID(compID),
		Meta:       pMeta(rule.name),
		Identifier: &d4.Identifier{System: pURI(s.cfg.IdentifierSystem), Value: pStr(s.identifierValue(compID))},
		Status:     &comppb.Composition_StatusCode{Value: c4.CompositionStatusCode_FINAL},
		Type:       compositionType(rule),
		Subject:    pRef(s.patientURL),
		Encounter:  pRef(s.encounterURL),
		Date:       pDateTime(doc.Date, s.loc()),
		Author:     []*d4.Reference{pRef(s.authorURL)},
		Title:      pStr(title),
		Custodian:  pRef(s.orgURL),
		Section:    sections,
	}
	compEntry := &bcrpb.Bundle_Entry{
		FullUrl:  pURI("urn:uuid:" + compID),
		Resource: &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Composition{Composition: comp}},
	}
	return &bcrpb.Bundle{
		Id: pID(bundleID),
		Meta: &d4.Meta{
			VersionId:   pID("1"),
			LastUpdated: pInstant(now, s.loc()),
			Profile:     []*d4.Canonical{{Value: profileDocumentBundle}},
			Security:    []*d4.Coding{pCoding(Coding{systemConfidentiality, "V", "very restricted"})},
		},
		Identifier: &d4.Identifier{System: pURI(s.cfg.IdentifierSystem), Value: pStr(s.identifierValue(bundleID))},
		Type:       &bcrpb.Bundle_TypeCode{Value: c4.BundleTypeCode_DOCUMENT},
		Timestamp:  pInstant(now, s.loc()),
		Entry:      append([]*bcrpb.Bundle_Entry{compEntry}, s.entries...),
	}
}

// compositionType is the fixed Composition.type of a record.
func compositionType(rule *recordRule) *d4.CodeableConcept {
	if rule.typeText != "" {
		return &d4.CodeableConcept{Text: pStr(rule.typeText)}
	}
	return &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(rule.typeCoding)}, Text: pStr(rule.typeCoding.Display)}
}
