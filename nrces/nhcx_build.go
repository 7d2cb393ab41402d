package nrces

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	covpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/coverage_go_proto"
	locpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/location_go_proto"
	orgpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/organization_go_proto"
	prpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/practitioner_go_proto"
)

// What every NHCX builder shares: the collection-bundle envelope, the
// participants (provider and insurer Organizations, Practitioners,
// Coverage, Location) and the way out through the quality gate. The NHCX
// bundles follow the NRCeS examples (instances/Bundle-*.fsh): the focal
// resource first, urn:uuid fullUrls, an identifier, a +05:30 timestamp and
// meta.security very restricted.

// Identifier types the NHCX participants carry besides v2-0203 MR/MD/PRN.
var (
	idTypeROHINI = Coding{SystemIdentifierType, "ROHINI", "Registry of Hospitals in Network of Insurance (ROHINI) ID"}
	idTypeXX     = Coding{SystemV20203, "XX", "Organization identifier"}
)

// systemROHINI is the ROHINI registry as the IG examples write it.
const systemROHINI = "https://rohini.iib.gov.in/"

// nhcxState is one NHCX build. It embeds a buildState so the document
// builder's resource constructors (Patient, Encounter, money) serve here too,
// and remembers the participants already in the bundle, since a claim's
// documents often share a facility and practitioners appear in several
// roles.
type nhcxState struct {
	*buildState
	now           time.Time
	orgs          map[string]string // "hfr|<id>" or "ins|<code>" → fullUrl
	practitioners map[string]string // "<system>|<value>" of the first identifier → fullUrl
}

func (b *Builder) newNHCXState() *nhcxState {
	return &nhcxState{
		buildState:    &buildState{cfg: &b.cfg},
		now:           b.cfg.Now(),
		orgs:          map[string]string{},
		practitioners: map[string]string{},
	}
}

// finishNHCX checks the bundle as Build does: base R4 on the proto, then
// the NHCX rules on its JSON. Input problems collected while building come
// back as ErrInvalidDocument, gate errors as a *RejectedError.
func (b *Builder) finishNHCX(ctx context.Context, kind *nhcxKind, s *nhcxState, bundle *bcrpb.Bundle) (*Built, error) {
	if len(s.errs) > 0 {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidDocument, kind.profile, errors.Join(s.errs...))
	}
	return b.finish(ctx, kind.profile, bundle, func(root jobj) []Finding { return checkNHCX(root, kind) })
}

// bundle wraps the entries in a collection bundle of profile, focal first.
func (s *nhcxState) bundle(bundleID, profile string, focal *bcrpb.Bundle_Entry) *bcrpb.Bundle {
	return &bcrpb.Bundle{
		Id: pID(bundleID),
		Meta: &d4.Meta{
			VersionId:   pID("1"),
			LastUpdated: pInstant(s.now, s.loc()),
			Profile:     []*d4.Canonical{{Value: profileBase + profile}},
			Security:    []*d4.Coding{pCoding(Coding{systemConfidentiality, "V", "very restricted"})},
		},
		Identifier: &d4.Identifier{System: pURI(s.cfg.IdentifierSystem), Value: pStr(s.identifierValue(bundleID))},
		Type:       &bcrpb.Bundle_TypeCode{Value: c4.BundleTypeCode_COLLECTION},
		Timestamp:  pInstant(s.now, s.loc()),
		Entry:      append([]*bcrpb.Bundle_Entry{focal}, s.entries...),
	}
}

// focalEntry is the entry of the bundle's main resource.
func focalEntry(id string, r *bcrpb.ContainedResource) *bcrpb.Bundle_Entry {
	return &bcrpb.Bundle_Entry{FullUrl: pURI("urn:uuid:" + id), Resource: r}
}

// businessID is the identifier the caller gave, or a urn:uuid one made from
// the resource id.
func (s *nhcxState) businessID(where string, id Identifier, resourceID string) *d4.Identifier {
	if id.Value == "" {
		return &d4.Identifier{System: pURI(s.cfg.IdentifierSystem), Value: pStr(s.identifierValue(resourceID))}
	}
	return s.givenID(where, id)
}

// givenID is an identifier from the caller: a value, an optional absolute
// system and an optional type.
func (s *nhcxState) givenID(where string, id Identifier) *d4.Identifier {
	if id.System != "" && !isAbsURI(id.System) {
		s.fail("%s.System %q is not an absolute URI", where, id.System)
	}
	if id.Type.Code != "" {
		s.requireCoding(where+".Type", id.Type)
	}
	return pIdentifier(id.Type, id.System, id.Value)
}

// logicalRef points to a resource outside the bundle by its business
// identifier, as a reply points to the payer's request.
func (s *nhcxState) logicalRef(where, typ string, id Identifier) *d4.Reference {
	if id.Value == "" {
		return nil
	}
	return &d4.Reference{Type: pURI(typ), Identifier: s.givenID(where, id)}
}

// requireCoding fails unless c has system, code and display, which the
// NHCX profiles ask of every coding they constrain.
func (s *nhcxState) requireCoding(where string, c Coding) {
	if c.System == "" || c.Code == "" || c.Display == "" {
		s.fail("%s needs system, code and display", where)
	} else if !isAbsURI(c.System) {
		s.fail("%s.System %q is not an absolute URI", where, c.System)
	}
}

// codedConcept is a CodeableConcept of one complete coding.
func (s *nhcxState) codedConcept(where string, c Coding) *d4.CodeableConcept {
	s.requireCoding(where, c)
	return &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(c)}, Text: pStr(c.Display)}
}

// optionalConcept is codedConcept for an optional coding.
func (s *nhcxState) optionalConcept(where string, c *Coding) *d4.CodeableConcept {
	if c == nil {
		return nil
	}
	return s.codedConcept(where, *c)
}

func (s *nhcxState) priority(where, code string) *d4.CodeableConcept {
	return s.hl7Concept(where, systemProcessPriority, orDefault(code, "normal"), processPriorities)
}

// contacts are an organisation's work phone and e-mail.
func contacts(phoneNumber, email string) []*d4.ContactPoint {
	var out []*d4.ContactPoint
	work := &d4.ContactPoint_UseCode{Value: c4.ContactPointUseCode_WORK}
	if phoneNumber != "" {
		out = append(out, &d4.ContactPoint{
			System: &d4.ContactPoint_SystemCode{Value: c4.ContactPointSystemCode_PHONE},
			Value:  pStr(phoneNumber), Use: work,
		})
	}
	if email != "" {
		out = append(out, &d4.ContactPoint{
			System: &d4.ContactPoint_SystemCode{Value: c4.ContactPointSystemCode_EMAIL},
			Value:  pStr(email), Use: work,
		})
	}
	return out
}

func orgType(code, display string) []*d4.CodeableConcept {
	return []*d4.CodeableConcept{{Coding: []*d4.Coding{pCoding(Coding{systemOrganizationType, code, display})}}}
}

// provider adds the provider Organization (profiles/Organization.fsh: an
// identifier with type, system and value; a name), once per HFR id.
func (s *nhcxState) provider(where string, p Provider) string {
	if p.HFRID == "" {
		s.fail("%s.HFRID is required: a provider is identified by its HFR id", where)
	}
	return s.organization(where, "hfr|", p.HFRID, p.Name, orgType("prov", "Healthcare Provider"), p.Phone, p.Email,
		func() []*d4.Identifier {
			ids := []*d4.Identifier{pIdentifier(idTypePRN, s.cfg.HFRSystem, p.HFRID)}
			if p.ROHINIID != "" {
				ids = append(ids, pIdentifier(idTypeROHINI, systemROHINI, p.ROHINIID))
			}
			return append(ids, s.extraIdentifiers(where, p.Identifiers)...)
		})
}

// insurer adds the payer Organization, identified by its NHCX participant
// code.
func (s *nhcxState) insurer(where string, in Insurer) string {
	if in.ParticipantCode == "" {
		s.fail("%s.ParticipantCode is required: the payer's NHCX participant code", where)
	}
	return s.organization(where, "ins|", in.ParticipantCode, in.Name, orgType("ins", "Insurance Company"), in.Phone, in.Email,
		func() []*d4.Identifier {
			ids := []*d4.Identifier{pIdentifier(idTypeXX, SystemNHCXParticipantCode, in.ParticipantCode)}
			return append(ids, s.extraIdentifiers(where, in.Identifiers)...)
		})
}

// organization adds an Organization once per kind and id (s.orgs); one
// without an id is added each time. ids is called only when the
// organisation is new, so its problems are reported once.
func (s *nhcxState) organization(where, kind, orgID, name string, typ []*d4.CodeableConcept, phone, email string,
	ids func() []*d4.Identifier) string {
	key := kind + orgID
	if url, ok := s.orgs[key]; ok && orgID != "" {
		return url
	}
	if name == "" {
		s.fail("%s.Name is required (Organization.name 1..1)", where)
	}
	identifiers := ids()
	id := s.newID()
	org := &orgpb.Organization{
		Id:         pID(id),
		Meta:       pMeta("Organization"),
		Identifier: identifiers,
		Type:       typ,
		Name:       pStr(name),
		Telecom:    contacts(phone, email),
	}
	url := s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Organization{Organization: org}})
	if orgID != "" {
		s.orgs[key] = url
	}
	return url
}

// practitioner adds a Practitioner (profiles/Practitioner.fsh), once per
// HPR id.
func (s *nhcxState) practitioner(where string, p Practitioner) string {
	var ids []*d4.Identifier
	if p.HPRID != "" {
		ids = append(ids, pIdentifier(idTypeMD, s.cfg.HPRSystem, p.HPRID))
	}
	ids = append(ids, s.extraIdentifiers(where, p.Identifiers)...)
	if len(ids) == 0 {
		s.fail("%s needs an identifier: HPRID or Identifiers (the NRCeS Practitioner profile makes identifier 1..*)", where)
	}
	if p.Name == "" {
		s.fail("%s.Name is required", where)
	}
	key := ""
	if len(ids) > 0 {
		key = ids[0].GetSystem().GetValue() + "|" + ids[0].GetValue().GetValue()
		if url, ok := s.practitioners[key]; ok {
			return url
		}
	}
	id := s.newID()
	pr := &prpb.Practitioner{
		Id:         pID(id),
		Meta:       pMeta("Practitioner"),
		Identifier: ids,
		Name:       []*d4.HumanName{{Text: pStr(p.Name)}},
	}
	url := s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Practitioner{Practitioner: pr}})
	if key != "" {
		s.practitioners[key] = url
	}
	return url
}

// location adds a Location managed by the provider. The IG has no Location
// profile, so it claims none.
func (s *nhcxState) location(l Location, orgURL string) string {
	id := s.newID()
	loc := &locpb.Location{
		Id:                   pID(id),
		Status:               &locpb.Location_StatusCode{Value: c4.LocationStatusCode_ACTIVE},
		Name:                 pStr(l.Name),
		Description:          pStr(l.Description),
		Mode:                 &locpb.Location_ModeCode{Value: c4.LocationModeCode_INSTANCE},
		ManagingOrganization: pRef(orgURL),
	}
	if l.Identifier != "" {
		loc.Identifier = []*d4.Identifier{{Value: pStr(l.Identifier)}}
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Location{Location: loc}})
}

// coverage adds the Coverage (profiles/Coverage.fsh) of the patient with
// the insurer.
func (s *nhcxState) coverage(c Coverage, patientURL, insurerURL string) string {
	if c.PolicyNumber == "" {
		s.fail("Coverage.PolicyNumber is required (Coverage.identifier)")
	}
	if c.PolicySystem != "" && !isAbsURI(c.PolicySystem) {
		s.fail("Coverage.PolicySystem %q is not an absolute URI", c.PolicySystem)
	}
	st, err := enumCode[*covpb.Coverage_StatusCode](orDefault(c.Status, "active"))
	if err != nil {
		s.fail("Coverage.Status: %w", err)
	}
	typ := c.Type
	if typ == (Coding{}) {
		typ = Coding{systemActCode, "HIP", "health insurance plan policy"}
	}
	rel := orDefault(c.Relationship, "self")
	id := s.newID()
	cov := &covpb.Coverage{
		Id:           pID(id),
		Meta:         pMeta("Coverage"),
		Identifier:   []*d4.Identifier{{System: pURI(c.PolicySystem), Value: pStr(c.PolicyNumber)}},
		Status:       st,
		Type:         s.codedConcept("Coverage.Type", typ),
		SubscriberId: pStr(c.MemberID),
		Beneficiary:  pRef(patientURL),
		Relationship: s.hl7Concept("Coverage.Relationship", systemSubscriberRelation, rel, subscriberRelationships),
		Payor:        []*d4.Reference{pRef(insurerURL)},
	}
	switch {
	case rel == "self":
		cov.Subscriber = pRef(patientURL)
	case c.SubscriberName != "":
		cov.Subscriber = pDisplayRef(c.SubscriberName)
	}
	start, err := pDateTimeOfDate(c.Start, s.loc())
	if err != nil {
		s.fail("Coverage.Start: %w", err)
	}
	end, err := pDateTimeOfDate(c.End, s.loc())
	if err != nil {
		s.fail("Coverage.End: %w", err)
	}
	if start != nil || end != nil {
		cov.Period = &d4.Period{Start: start, End: end}
	}
	if c.PlanID != "" {
		cov.ClassValue = []*covpb.Coverage_Class{{
			Type:  &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(Coding{systemCoverageClass, "plan", "Plan"})}},
			Value: pStr(c.PlanID),
			Name:  pStr(c.PlanName),
		}}
	} else if c.PlanName != "" {
		s.fail("Coverage.PlanID is required with PlanName (Coverage.class.value 1..1)")
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Coverage{Coverage: cov}})
}

// document adds a DocumentReference (profiles/DocumentReference.fsh) for
// evidence, with the facility it comes from as custodian and author.
func (s *nhcxState) document(where string, d ClaimDocument, providerURL string) string {
	s.requireFile(where+".File", d.File)
	s.checkCodings(where+".Type", d.Type)
	origin := providerURL
	if d.Origin != nil {
		origin = s.provider(where+".Origin", *d.Origin)
	}
	authors := []*d4.Reference{pRef(origin)}
	if d.Author != nil {
		authors = append(authors, pRef(s.practitioner(where+".Author", *d.Author)))
	}
	id, dr := s.newDocumentReference(d.Type, d.Date, authors, origin, d.Description, d.File)
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_DocumentReference{DocumentReference: dr}})
}

// pDateTimeOfDate is a dateTime of date precision from YYYY[-MM[-DD]], as
// policy periods are written.
func pDateTimeOfDate(s string, loc *time.Location) (*d4.DateTime, error) {
	d, err := pDate(s, loc)
	if d == nil || err != nil {
		return nil, err
	}
	prec := d4.DateTime_DAY
	switch d.GetPrecision() {
	case d4.Date_YEAR:
		prec = d4.DateTime_YEAR
	case d4.Date_MONTH:
		prec = d4.DateTime_MONTH
	}
	return &d4.DateTime{ValueUs: d.GetValueUs(), Timezone: d.GetTimezone(), Precision: prec}, nil
}

// pDateOf is the calendar date of t in loc.
func pDateOf(t time.Time, loc *time.Location) *d4.Date {
	if t.IsZero() {
		return nil
	}
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return &d4.Date{ValueUs: day.UnixMicro(), Timezone: zoneOffset(day), Precision: d4.Date_DAY}
}

// pPeriod is a period of date-times; nil when both ends are zero.
func pPeriod(start, end time.Time, loc *time.Location) *d4.Period {
	if start.IsZero() && end.IsZero() {
		return nil
	}
	return &d4.Period{Start: pDateTime(start, loc), End: pDateTime(end, loc)}
}

// Exact decimal arithmetic for amounts: FHIR decimals are strings, and a
// claim's total must equal the sum of its lines to the paisa.

// parseDecimal reads a FHIR decimal exactly.
func parseDecimal(s string) (*big.Rat, bool) {
	if !fhirDecimal.MatchString(s) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// decimalScale is the number of digits after the point of a decimal
// without exponent.
func decimalScale(s string) int {
	if strings.ContainsAny(s, "eE") {
		return 0
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// formatDecimal writes r with at least scale digits after the point, more
// if r needs them (up to 12).
func formatDecimal(r *big.Rat, scale int) string {
	for ; scale < 12; scale++ {
		out := r.FloatString(scale)
		if back, ok := new(big.Rat).SetString(out); ok && back.Cmp(r) == 0 {
			return out
		}
	}
	return r.FloatString(scale)
}
