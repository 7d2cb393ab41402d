package nrces

import (
	"context"
	"fmt"
	"math/big"
	"strconv"

	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	claimpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/claim_go_proto"
)

// Claim builds a ClaimBundle (profiles/ClaimBundle.fsh, Claim.fsh) for a
// pre-authorization, enhancement, predetermination or final claim: the
// Claim first, then the patient, provider, insurer, coverage, care team,
// encounter, the documents behind supportingInfo with the facilities they
// come from, and the earlier claims of the episode when given in full.
//
// Missing or malformed input gives an error wrapping ErrInvalidDocument
// that names the field; a bundle that fails the gate a *RejectedError.
func (b *Builder) Claim(ctx context.Context, req *ClaimRequest) (*Built, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: %s: no claim", ErrInvalidDocument, kindClaim.profile)
	}
	s := b.newNHCXState()
	bundleID, claimID := s.newID(), s.newID()

	s.patientURL = s.patient(req.Patient)
	p := claimParties{
		provider: s.provider("Provider", req.Provider),
		insurer:  s.insurer("Insurer", req.Insurer),
	}
	s.orgURL = p.provider
	p.coverage = s.coverage(req.Coverage, s.patientURL, p.insurer)
	careTeam := s.careTeam("", req.CareTeam)
	if req.Encounter != nil {
		// The encounter builder names the first care team member as its
		// participant and the provider as its service provider.
		if len(req.CareTeam) > 0 {
			s.authorURL = careTeam[0].GetProvider().GetUri().GetValue()
		}
		p.encounter = s.encounter(*req.Encounter)
	}

	embedded := map[*ClaimRequest]string{req: "urn:uuid:" + claimID}
	claim := s.claim("", req, claimID, p, careTeam, embedded, true)
	bundle := s.bundle(bundleID, kindClaim.profile, focalEntry(claimID, &bcrpb.ContainedResource{
		OneofResource: &bcrpb.ContainedResource_Claim{Claim: claim},
	}))
	return b.finishNHCX(ctx, kindClaim, s, bundle)
}

// claimParties are the resources every Claim of the bundle points to.
type claimParties struct {
	provider, insurer, coverage, encounter string
}

// careTeam adds the care team's practitioners.
func (s *nhcxState) careTeam(where string, members []CareTeamMember) []*claimpb.Claim_CareTeam {
	var out []*claimpb.Claim_CareTeam
	for i, m := range members {
		mw := where + "CareTeam[" + strconv.Itoa(i) + "]"
		role := m.Role
		if role == (Coding{}) {
			role = CareTeamRoleHealthcareProfessional
		}
		ct := &claimpb.Claim_CareTeam{
			Sequence:      pPositiveInt(i + 1),
			Provider:      pRef(s.practitioner(mw+".Practitioner", m.Practitioner)),
			Role:          s.codedConcept(mw+".Role", role),
			Qualification: s.optionalConcept(mw+".Qualification", m.Qualification),
		}
		if m.Responsible {
			ct.Responsible = &d4.Boolean{Value: true}
		}
		out = append(out, ct)
	}
	return out
}

// claim makes one Claim. where prefixes field names in errors ("" for the
// claim asked for, "Related[0].Claim." for an earlier one); full is false for
// an earlier claim, which is carried without its supporting documents.
// embedded maps each claim already in the bundle to its fullUrl, so a claim
// named twice (or in a cycle) is added once.
func (s *nhcxState) claim(where string, req *ClaimRequest, id string, p claimParties, careTeam []*claimpb.Claim_CareTeam,
	embedded map[*ClaimRequest]string, full bool) *claimpb.Claim {
	if req.Identifier.Value == "" {
		s.fail("%sIdentifier.Value is required: the hospital's claim number (Claim.identifier 1..*)", where)
	}
	if req.Type == (Coding{}) {
		s.fail("%sType is required (Claim.type), e.g. ClaimTypeInpatient", where)
	}
	use, err := enumCode[*claimpb.Claim_UseCode](string(req.Use))
	if err != nil || req.Use == "" {
		s.fail("%sUse %q is not preauthorization, claim or predetermination", where, req.Use)
	}
	st, err := enumCode[*claimpb.Claim_StatusCode](orDefault(req.Status, "active"))
	if err != nil {
		s.fail("%sStatus: %w", where, err)
	}
	currency := orDefault(req.Currency, "INR")

	c := &claimpb.Claim{
		Id:         pID(id),
		Meta:       pMeta("Claim"),
		Identifier: []*d4.Identifier{s.givenID(where+"Identifier", req.Identifier)},
		Status:     st,
		Type:       s.codedConcept(where+"Type", req.Type),
		Use:        use,
		Patient:    pRef(s.patientURL),
		Created:    pDateTime(orTime(req.Created, s.now), s.loc()),
		Insurer:    pRef(p.insurer),
		Provider:   pRef(p.provider),
		Priority:   s.priority(where+"Priority", req.Priority),
		CareTeam:   careTeam,
		Insurance: []*claimpb.Claim_Insurance{{
			Sequence: pPositiveInt(1),
			Focal:    &d4.Boolean{Value: true},
			Coverage: pRef(p.coverage),
		}},
	}
	if req.PreAuthRef != "" {
		c.Insurance[0].PreAuthRef = []*d4.String{{Value: req.PreAuthRef}}
	}
	if e := req.Encounter; e != nil {
		c.BillablePeriod = pPeriod(e.Start, e.End, s.loc())
	}
	c.Related = s.relatedClaims(where, req, p, embedded)
	c.Diagnosis = s.claimDiagnoses(where, req.Diagnoses)
	for i, pr := range req.Procedures {
		pw := where + "Procedures[" + strconv.Itoa(i) + "]"
		s.requireCode(pw+".Code", pr.Code)
		c.Procedure = append(c.Procedure, &claimpb.Claim_Procedure{
			Sequence: pPositiveInt(i + 1),
			Date:     pDateTime(pr.Date, s.loc()),
			Procedure: &claimpb.Claim_Procedure_ProcedureX{
				Choice: &claimpb.Claim_Procedure_ProcedureX_CodeableConcept{CodeableConcept: pConcept(pr.Code)},
			},
		})
	}
	if full {
		for i, si := range req.SupportingInfo {
			c.SupportingInfo = append(c.SupportingInfo, s.supportingInfo(where+"SupportingInfo["+strconv.Itoa(i)+"]", i+1, si, p.provider))
		}
	}
	info := len(c.SupportingInfo)
	if !full {
		info = -1 // carried without supporting information: drop the links to it
	}
	c.Item, c.Total = s.claimItems(where, req, currency, p.encounter, info)
	return c
}

// relatedClaims links the earlier claims, adding those given in full to
// the bundle.
func (s *nhcxState) relatedClaims(where string, req *ClaimRequest, p claimParties, embedded map[*ClaimRequest]string) []*claimpb.Claim_RelatedClaim {
	var out []*claimpb.Claim_RelatedClaim
	for i, r := range req.Related {
		rw := where + "Related[" + strconv.Itoa(i) + "]"
		rel, ok := relatedClaimRelationships[r.Relationship]
		if !ok {
			s.fail("%s.Relationship %q is not enhancement, settlement, prior or associated", rw, r.Relationship)
		}
		switch r.Relationship {
		case "enhancement":
			if req.Use != ClaimUsePreauthorization {
				s.fail("%s: an enhancement is a pre-authorization; Use is %q", rw, req.Use)
			}
		case "settlement":
			if req.Use != ClaimUseClaim {
				s.fail("%s: a settlement is a claim; Use is %q", rw, req.Use)
			}
		}
		if (r.Relationship == "enhancement" || r.Relationship == "settlement") && req.PreAuthRef == "" {
			s.fail("%sPreAuthRef is required with a %s relation: the payer's pre-authorization reference", where, r.Relationship)
		}
		rc := &claimpb.Claim_RelatedClaim{Relationship: &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(rel)}, Text: pStr(rel.Display)}}
		switch {
		case r.Claim != nil:
			url, done := embedded[r.Claim]
			if !done {
				id := s.newID()
				// Take the entry's place first, so each claim comes before
				// the earlier ones it carries, as in the IG's settlement
				// example.
				url = s.add(id, nil)
				entry := s.entries[len(s.entries)-1]
				embedded[r.Claim] = url
				// An earlier claim keeps its own care team but shares the
				// bundle's patient, provider, insurer and coverage.
				ct := s.careTeam(rw+".Claim.", r.Claim.CareTeam)
				prior := s.claim(rw+".Claim.", r.Claim, id, p, ct, embedded, false)
				entry.Resource = &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Claim{Claim: prior}}
			}
			rc.Claim = pRef(url)
		case r.Identifier.Value != "":
			rc.Claim = s.logicalRef(rw+".Identifier", "Claim", r.Identifier)
		default:
			s.fail("%s needs the earlier Claim or its Identifier", rw)
		}
		out = append(out, rc)
	}
	return out
}

func (s *nhcxState) claimDiagnoses(where string, ds []Diagnosis) []*claimpb.Claim_Diagnosis {
	if len(ds) == 0 {
		s.fail("%sDiagnoses needs at least one diagnosis (Claim.diagnosis 1..*)", where)
	}
	var out []*claimpb.Claim_Diagnosis
	for i, d := range ds {
		dw := where + "Diagnoses[" + strconv.Itoa(i) + "]"
		s.requireCode(dw+".Code", d.Code)
		coded := false
		for _, cd := range d.Code.Codings {
			if cd.System == SystemICD10 || cd.System == SystemSNOMED {
				coded = true
			}
		}
		if !coded {
			s.fail("%s.Code needs an ICD-10 or SNOMED CT coding", dw)
		}
		if len(d.Types) == 0 {
			s.fail("%s.Types needs at least one type, e.g. DiagnosisTypeFinal (Claim.diagnosis.type 1..*)", dw)
		}
		cd := &claimpb.Claim_Diagnosis{
			Sequence: pPositiveInt(i + 1),
			Diagnosis: &claimpb.Claim_Diagnosis_DiagnosisX{
				Choice: &claimpb.Claim_Diagnosis_DiagnosisX_CodeableConcept{CodeableConcept: pConcept(d.Code)},
			},
			OnAdmission: s.optionalConcept(dw+".OnAdmission", d.OnAdmission),
		}
		for j, t := range d.Types {
			cd.Type = append(cd.Type, s.codedConcept(dw+".Types["+strconv.Itoa(j)+"]", t))
		}
		out = append(out, cd)
	}
	return out
}

// claimItems makes the items and the total, checking each item's links
// and that the total is the sum of the nets.
func (s *nhcxState) claimItems(where string, req *ClaimRequest, currency, encounterURL string, info int) ([]*claimpb.Claim_Item, *d4.Money) {
	if len(req.Items) == 0 {
		s.fail("%sItems needs at least one item (Claim.item 1..*)", where)
	}
	var items []*claimpb.Claim_Item
	sum, scale := new(big.Rat), 0
	for i, it := range req.Items {
		iw := where + "Items[" + strconv.Itoa(i) + "]"
		net := s.itemNet(iw, it)
		if r, ok := parseDecimal(net); ok {
			sum.Add(sum, r)
			scale = max(scale, decimalScale(net))
		}
		item := &claimpb.Claim_Item{
			Sequence:         pPositiveInt(i + 1),
			Category:         s.optionalConcept(iw+".Category", it.Category),
			ProductOrService: s.codedConcept(iw+".ProductOrService", it.ProductOrService),
			Quantity:         pSimpleQuantity(it.Quantity),
			Net:              s.money(iw+".Net", net, currency),
		}
		if pc := s.optionalConcept(iw+".ProgramCode", it.ProgramCode); pc != nil {
			item.ProgramCode = []*d4.CodeableConcept{pc}
		}
		if it.UnitPrice != "" {
			item.UnitPrice = s.money(iw+".UnitPrice", it.UnitPrice, currency)
		}
		if d := pDateOf(it.Serviced, s.loc()); d != nil {
			item.Serviced = &claimpb.Claim_Item_ServicedX{Choice: &claimpb.Claim_Item_ServicedX_Date{Date: d}}
		}
		if l := s.optionalConcept(iw+".Location", it.Location); l != nil {
			item.Location = &claimpb.Claim_Item_LocationX{Choice: &claimpb.Claim_Item_LocationX_CodeableConcept{CodeableConcept: l}}
		}
		if encounterURL != "" {
			item.Encounter = []*d4.Reference{pRef(encounterURL)}
		}
		item.CareTeamSequence = s.itemLinks(iw+".CareTeam", it.CareTeam, len(req.CareTeam))
		item.DiagnosisSequence = s.itemLinks(iw+".Diagnoses", it.Diagnoses, len(req.Diagnoses))
		item.ProcedureSequence = s.itemLinks(iw+".Procedures", it.Procedures, len(req.Procedures))
		if info >= 0 {
			item.InformationSequence = s.itemLinks(iw+".Information", it.Information, info)
		}
		items = append(items, item)
	}
	total := req.Total
	if total == "" {
		total = formatDecimal(sum, scale)
	} else if r, ok := parseDecimal(total); ok && r.Cmp(sum) != 0 {
		s.fail("%sTotal %s differs from the sum of the items' Net, %s", where, total, formatDecimal(sum, scale))
	}
	return items, s.money(where+"Total", total, currency)
}

// itemNet is the item's Net, or UnitPrice × Quantity.
func (s *nhcxState) itemNet(where string, it ClaimItem) string {
	if it.Net != "" {
		return it.Net
	}
	unit, ok := parseDecimal(it.UnitPrice)
	if !ok {
		s.fail("%s needs Net or a decimal UnitPrice", where)
		return "0"
	}
	scale := decimalScale(it.UnitPrice)
	if it.Quantity != nil {
		q, ok := parseDecimal(it.Quantity.Value)
		if !ok {
			s.fail("%s.Quantity.Value %q is not a decimal", where, it.Quantity.Value)
			return "0"
		}
		unit.Mul(unit, q)
		scale += decimalScale(it.Quantity.Value)
	}
	return formatDecimal(unit, scale)
}

// itemLinks turns 1-based indexes into sequence numbers, refusing ones the
// claim does not have.
func (s *nhcxState) itemLinks(where string, idx []int, n int) []*d4.PositiveInt {
	var out []*d4.PositiveInt
	for _, i := range idx {
		if i < 1 || i > n {
			s.fail("%s: %d is not between 1 and %d", where, i, n)
			continue
		}
		out = append(out, pPositiveInt(i))
	}
	return out
}

// supportingInfo makes one supportingInfo entry, adding its document.
func (s *nhcxState) supportingInfo(where string, seq int, si SupportingInfo, providerURL string) *claimpb.Claim_SupportingInformation {
	out := &claimpb.Claim_SupportingInformation{
		Sequence: pPositiveInt(seq),
		Category: s.codedConcept(where+".Category", si.Category),
		Code:     s.codedConcept(where+".Code", si.Code),
	}
	if p := pPeriod(si.Start, si.End, s.loc()); p != nil {
		out.Timing = &claimpb.Claim_SupportingInformation_TimingX{
			Choice: &claimpb.Claim_SupportingInformation_TimingX_Period{Period: p},
		}
	}
	switch {
	case si.Document != nil && si.Text != "":
		s.fail("%s has both a Document and Text; give one", where)
	case si.Document != nil:
		ref := pRef(s.document(where+".Document", *si.Document, providerURL))
		out.Value = &claimpb.Claim_SupportingInformation_ValueX{
			Choice: &claimpb.Claim_SupportingInformation_ValueX_Reference{Reference: ref},
		}
	case si.Text != "":
		out.Value = &claimpb.Claim_SupportingInformation_ValueX{
			Choice: &claimpb.Claim_SupportingInformation_ValueX_StringValue{StringValue: pStr(si.Text)},
		}
	}
	return out
}
