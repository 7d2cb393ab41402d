package nrces

import (
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Resource rules of the NRCeS NHCX profiles, read from
// ../shared/testdata/nhcx/nrces-fsh/profiles/<Profile>.fsh, and the checks
// that tie a Claim, a CoverageEligibilityRequest or a Task together. Paths
// are as in profiles_resources.go.

// refRule restricts the target types of the references at path ("only
// Reference(...)" in the FSH).
type refRule struct {
	path  string
	types []string
}

// nhcxRule is one NHCX resource profile.
type nhcxRule struct {
	resourceRule
	// single are elements the profile limits to one where R4 allows many
	// (identifier 1..1).
	single []string
	refs   []refRule
}

var (
	refsPractitionerOrOrg = []string{"Practitioner", "PractitionerRole", "Organization"}
	refsPractitioner      = []string{"Practitioner", "PractitionerRole"}
	refsOrganization      = []string{"Organization"}
)

// req builds required rules under the NHCX rule id.
func req(paths ...string) []requiredRule {
	out := make([]requiredRule, len(paths))
	for i, p := range paths {
		out[i] = requiredRule{path: p, rule: "nhcx-required"}
	}
	return out
}

// coded builds coded rules: every coding needs system, code and display.
func coded(paths ...string) []codedRule {
	out := make([]codedRule, len(paths))
	for i, p := range paths {
		out[i] = codedRule{path: p}
	}
	return out
}

var nhcxRules = map[string]nhcxRule{
	// profiles/Claim.fsh
	"Claim": {
		resourceRule: resourceRule{
			profile:  "Claim",
			required: req("identifier", "insurer", "diagnosis", "diagnosis.type", "item", "supportingInfo.code"),
			coded: append([]codedRule{{path: "related.relationship", maxCodings: 1}}, coded(
				"careTeam.role", "careTeam.qualification", "supportingInfo.category", "supportingInfo.code",
				"diagnosis.type", "item.category", "item.productOrService", "item.programCode",
				"item.detail.category", "item.detail.productOrService", "item.detail.programCode",
				"item.detail.subDetail.category", "item.detail.subDetail.productOrService", "item.detail.subDetail.programCode")...),
		},
		refs: []refRule{
			{"patient", []string{"Patient"}},
			{"enterer", refsPractitioner},
			{"insurer", refsOrganization},
			{"provider", refsPractitionerOrOrg},
			{"related.claim", []string{"Claim"}},
			{"prescription", []string{"DeviceRequest", "VisionPrescription", "MedicationRequest"}},
			{"originalPrescription", []string{"DeviceRequest", "VisionPrescription", "MedicationRequest"}},
			{"payee.party", []string{"RelatedPerson", "Practitioner", "PractitionerRole", "Organization", "Patient"}},
			{"referral", []string{"ServiceRequest"}},
			{"facility", []string{"Location"}},
			{"careTeam.provider", refsPractitionerOrOrg},
			{"diagnosis.diagnosisReference", []string{"Condition"}},
			{"procedure.procedureReference", []string{"Procedure"}},
			{"insurance.coverage", []string{"Coverage"}},
			{"insurance.claimResponse", []string{"ClaimResponse"}},
			{"item.locationReference", []string{"Location"}},
			{"item.encounter", []string{"Encounter"}},
		},
	},
	// profiles/ClaimResponse.fsh
	"ClaimResponse": {
		resourceRule: resourceRule{
			profile: "ClaimResponse",
			coded: coded("addItem.productOrService", "addItem.programCode", "addItem.detail.productOrService",
				"addItem.detail.subDetail.productOrService"),
		},
		refs: []refRule{
			{"patient", []string{"Patient"}},
			{"insurer", refsOrganization},
			{"requestor", refsPractitionerOrOrg},
			{"request", []string{"Claim"}},
			{"addItem.provider", refsPractitionerOrOrg},
			{"communicationRequest", []string{"CommunicationRequest"}},
			{"insurance.coverage", []string{"Coverage"}},
			{"insurance.claimResponse", []string{"ClaimResponse"}},
		},
	},
	// profiles/CoverageEligibilityRequest.fsh
	"CoverageEligibilityRequest": {
		resourceRule: resourceRule{
			profile:  "CoverageEligibilityRequest",
			required: req("identifier", "priority", "enterer", "provider", "facility", "insurance", "item.productOrService"),
			coded:    coded("item.category", "item.productOrService"),
		},
		single: []string{"identifier"},
		refs: []refRule{
			{"patient", []string{"Patient"}},
			{"enterer", refsPractitioner},
			{"provider", refsPractitionerOrOrg},
			{"insurer", refsOrganization},
			{"facility", []string{"Location"}},
			{"insurance.coverage", []string{"Coverage"}},
			{"item.provider", refsPractitioner},
			{"item.facility", []string{"Location", "Organization"}},
			{"item.diagnosis.diagnosisReference", []string{"Condition"}},
		},
	},
	// profiles/CoverageEligibilityResponse.fsh
	"CoverageEligibilityResponse": {
		resourceRule: resourceRule{
			profile:  "CoverageEligibilityResponse",
			required: req("requestor", "insurance.item.productOrService"),
			coded:    coded("insurance.item.category", "insurance.item.productOrService"),
		},
		refs: []refRule{
			{"patient", []string{"Patient"}},
			{"requestor", refsPractitionerOrOrg},
			{"request", []string{"CoverageEligibilityRequest"}},
			{"insurer", refsOrganization},
			{"insurance.coverage", []string{"Coverage"}},
			{"insurance.item.provider", refsPractitioner},
		},
	},
	// profiles/Coverage.fsh
	"Coverage": {
		resourceRule: resourceRule{profile: "Coverage"},
		refs: []refRule{
			{"policyHolder", []string{"RelatedPerson", "Organization", "Patient"}},
			{"subscriber", []string{"RelatedPerson", "Patient"}},
			{"beneficiary", []string{"Patient"}},
			{"payor", []string{"RelatedPerson", "Patient", "Organization"}},
		},
	},
	// profiles/Task.fsh
	"Task": {
		resourceRule: resourceRule{profile: "Task"},
		refs: []refRule{
			{"partOf", []string{"Task"}},
			{"encounter", []string{"Encounter"}},
			{"requester", []string{"Device", "RelatedPerson", "Organization", "Patient", "Practitioner", "PractitionerRole"}},
			{"owner", []string{"CareTeam", "HealthcareService", "Device", "RelatedPerson", "Practitioner", "PractitionerRole", "Organization", "Patient"}},
			{"insurance", []string{"ClaimResponse", "Coverage"}},
			{"restriction.recipient", []string{"RelatedPerson", "Group", "Patient", "Practitioner", "PractitionerRole", "Organization"}},
		},
	},
	// profiles/Communication.fsh
	"Communication": {
		resourceRule: resourceRule{profile: "Communication"},
		refs: []refRule{
			{"inResponseTo", []string{"Communication"}},
			{"subject", []string{"Group", "Patient"}},
			{"encounter", []string{"Encounter"}},
			{"recipient", []string{"Device", "RelatedPerson", "Group", "CareTeam", "HealthcareService", "Organization", "Patient", "Practitioner", "PractitionerRole"}},
			{"sender", []string{"Device", "RelatedPerson", "HealthcareService", "Practitioner", "PractitionerRole", "Organization", "Patient"}},
			{"reasonReference", []string{"DiagnosticReport", "Condition", "Observation", "DocumentReference"}},
		},
	},
	// profiles/CommunicationRequest.fsh
	"CommunicationRequest": {
		resourceRule: resourceRule{profile: "CommunicationRequest"},
		refs: []refRule{
			{"replaces", []string{"CommunicationRequest"}},
			{"subject", []string{"Group", "Patient"}},
			{"encounter", []string{"Encounter"}},
			{"requester", []string{"RelatedPerson", "Device", "Practitioner", "PractitionerRole", "Organization", "Patient"}},
			{"recipient", []string{"Device", "RelatedPerson", "Group", "CareTeam", "HealthcareService", "Organization", "Patient", "Practitioner", "PractitionerRole"}},
			{"sender", []string{"Device", "RelatedPerson", "HealthcareService", "Organization", "Patient", "Practitioner", "PractitionerRole"}},
			{"reasonReference", []string{"Condition", "Observation", "DiagnosticReport", "DocumentReference"}},
		},
	},
	// profiles/PaymentNotice.fsh
	"PaymentNotice": {
		resourceRule: resourceRule{profile: "PaymentNotice"},
		refs: []refRule{
			{"provider", refsPractitionerOrOrg},
			{"payment", []string{"PaymentReconciliation"}},
			{"payee", refsPractitionerOrOrg},
			{"recipient", refsOrganization},
		},
	},
	// profiles/PaymentReconciliation.fsh
	"PaymentReconciliation": {
		resourceRule: resourceRule{profile: "PaymentReconciliation"},
		refs: []refRule{
			{"paymentIssuer", refsOrganization},
			{"request", []string{"Task"}},
			{"requestor", refsPractitionerOrOrg},
			{"detail.submitter", refsPractitionerOrOrg},
			{"detail.responsible", []string{"PractitionerRole"}},
			{"detail.payee", refsPractitionerOrOrg},
		},
	},
	// profiles/InsurancePlan.fsh
	"InsurancePlan": {
		resourceRule: resourceRule{
			profile:  "InsurancePlan",
			required: req("identifier", "status", "type", "name", "period", "ownedBy", "coverage", "plan.type"),
			coded: []codedRule{{path: "type", maxCodings: 1}, {path: "coverage.type", maxCodings: 1},
				{path: "coverage.benefit.type", maxCodings: 1}, {path: "plan.type", maxCodings: 1},
				{path: "plan.specificCost.category", maxCodings: 1}, {path: "plan.specificCost.benefit.type", maxCodings: 1}},
		},
		single: []string{"identifier", "type"},
		refs: []refRule{
			{"ownedBy", refsOrganization},
			{"administeredBy", refsOrganization},
			{"network", refsOrganization},
			{"coverage.network", refsOrganization},
			{"plan.network", refsOrganization},
		},
	},
	// The NRCeS DocumentReference profile's reference rules matter here:
	// a claim's evidence names its custodian facility.
	"DocumentReference": {
		resourceRule: resourceRule{profile: "DocumentReference"},
		refs: []refRule{
			{"subject", []string{"Group", "Device", "Patient", "Practitioner"}},
			{"author", []string{"Device", "RelatedPerson", "Practitioner", "PractitionerRole", "Organization", "Patient"}},
			{"custodian", refsOrganization},
		},
	},
}

// checkNHCXResources applies nhcxRules and the cross-element checks to
// every entry.
func checkNHCXResources(fs *findingList, b *gateIndex) {
	for _, e := range b.entries {
		if e == nil {
			continue
		}
		rr, ok := nhcxRules[e.typ]
		if !ok {
			continue
		}
		start := jnode{e.loc, e.resource}
		if e.typ != "DocumentReference" { // checkEntries already asks for its claim
			checkNHCXProfileClaim(fs, e, rr.profile)
		}
		for _, r := range rr.required {
			checkRequired(fs, start, e.typ, rr.profile, r)
		}
		for _, c := range rr.coded {
			checkCoded(fs, start, rr.profile, c)
		}
		for _, name := range rr.single {
			if items, ok := e.resource[name].([]any); ok && len(items) > 1 {
				fs.errorf(e.loc+"."+name, "nhcx-cardinality", "%s.%s has %d items; the NRCeS %s profile allows one", e.typ, name, len(items), rr.profile)
			}
		}
		for _, r := range rr.refs {
			checkRefTypes(fs, b, start, e.typ, rr.profile, r)
		}
		switch e.typ {
		case "Claim":
			checkClaim(fs, e)
		case "CoverageEligibilityRequest":
			checkEligibilityPurpose(fs, e)
		case "Task":
			checkTask(fs, e)
		}
	}
}

// checkNHCXProfileClaim warns when an NHCX resource claims no NRCeS
// profile: validators run with the IG check only what claims a profile.
func checkNHCXProfileClaim(fs *findingList, e *gateEntry, profile string) {
	for _, c := range jprofiles(e.resource) {
		if name, ok := nrcesProfileName(c); ok && name == profile {
			if !strings.HasPrefix(c, "https://") {
				fs.warnf(e.loc+".meta.profile", "nhcx-profile", "profile %q uses http://; the canonical URL starts https://", c)
			}
			return
		}
	}
	fs.warnf(e.loc+".meta.profile", "nhcx-profile", "%s claims no NRCeS profile; expected %s", e.typ, profileBase+profile)
}

// checkRefTypes reports references at r.path that resolve to an entry of a
// type the profile does not allow. Dangling and external references are
// checkReferences' business.
func checkRefTypes(fs *findingList, b *gateIndex, start jnode, typ, profile string, r refRule) {
	for _, n := range jwalk(start, r.path) {
		ref := jstr(n.obj, "reference")
		if ref == "" {
			continue
		}
		target, st := b.resolve(ref)
		if st != refResolved || slices.Contains(r.types, target.typ) {
			continue
		}
		fs.errorf(n.loc+".reference", "nhcx-reference-type", "%s.%s points to a %s; the NRCeS %s profile allows %s",
			typ, r.path, target.typ, profile, strings.Join(r.types, " or "))
	}
}

// jnumber returns a JSON number (decoded with UseNumber) as text.
func jnumber(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case string:
		return x
	}
	return ""
}

// sequences returns the sequence numbers of the items of a Claim list.
func sequences(res jobj, key string) map[string]bool {
	out := map[string]bool{}
	for _, raw := range jarray(res, key) {
		o, _ := raw.(jobj)
		if s := jnumber(o["sequence"]); s != "" {
			out[s] = true
		}
	}
	return out
}

// checkClaim checks what ties a Claim together: item links to the care
// team, diagnoses, procedures and supporting information; the total; and the
// enhancement and settlement conventions of the NRCeS examples.
func checkClaim(fs *findingList, e *gateEntry) {
	res := e.resource
	links := []struct{ itemKey, listKey string }{
		{"careTeamSequence", "careTeam"}, {"diagnosisSequence", "diagnosis"},
		{"procedureSequence", "procedure"}, {"informationSequence", "supportingInfo"},
	}
	have := map[string]map[string]bool{}
	for _, l := range links {
		have[l.listKey] = sequences(res, l.listKey)
	}
	for _, item := range jchildren(jnode{e.loc, res}, "item") {
		for _, l := range links {
			for i, raw := range jarray(item.obj, l.itemKey) {
				if s := jnumber(raw); s != "" && !have[l.listKey][s] {
					fs.errorf(item.loc+"."+l.itemKey+"["+strconv.Itoa(i)+"]", "nhcx-claim-sequence",
						"item refers to %s sequence %s, which the Claim does not have", l.listKey, s)
				}
			}
		}
	}
	checkClaimTotal(fs, e)

	use := jstr(res, "use")
	hasPreAuthRef := false
	for _, ins := range jarray(res, "insurance") {
		io, _ := ins.(jobj)
		if jpresent(io["preAuthRef"]) {
			hasPreAuthRef = true
		}
	}
	for _, rel := range jchildren(jnode{e.loc, res}, "related") {
		for _, cd := range jarray(jobject(rel.obj, "relationship"), "coding") {
			co, _ := cd.(jobj)
			code := jstr(co, "code")
			if jstr(co, "system") != SystemRelatedClaimRelationship || (code != "enhancement" && code != "settlement") {
				continue
			}
			wantUse := map[string]string{"enhancement": "preauthorization", "settlement": "claim"}[code]
			if use != "" && use != wantUse {
				fs.warnf(e.loc+".use", "nhcx-claim-related", "a Claim related as %s has use %q; NHCX expects %q", code, use, wantUse)
			}
			if !jpresent(rel.obj["claim"]) && !jpresent(rel.obj["reference"]) {
				fs.warnf(rel.loc, "nhcx-claim-related", "the %s relation names no earlier claim (related.claim or related.reference)", code)
			}
			if !hasPreAuthRef {
				fs.warnf(e.loc+".insurance", "nhcx-claim-related", "an %s Claim carries no insurance.preAuthRef; the payer matches it to the approved pre-authorization by that reference", code)
			}
		}
	}
}

// checkClaimTotal warns when Claim.total differs from the sum of the items'
// net amounts.
func checkClaimTotal(fs *findingList, e *gateEntry) {
	total := jobject(e.resource, "total")
	want, ok := new(big.Rat).SetString(jnumber(total["value"]))
	if total == nil || !ok {
		return
	}
	sum := new(big.Rat)
	for _, raw := range jarray(e.resource, "item") {
		item, _ := raw.(jobj)
		net := jobject(item, "net")
		v, ok := new(big.Rat).SetString(jnumber(net["value"]))
		if net == nil || !ok || jstr(net, "currency") != jstr(total, "currency") {
			return // an item without a comparable net: nothing to compare
		}
		sum.Add(sum, v)
	}
	if sum.Cmp(want) != 0 {
		fs.warnf(e.loc+".total", "nhcx-claim-total", "Claim.total is %s but the items' net amounts add up to %s",
			jnumber(total["value"]), formatDecimal(sum, 0))
	}
}

var eligibilityPurposes = []string{"validation", "benefits", "auth-requirements", "discovery"}

// checkEligibilityPurpose checks CoverageEligibilityRequest.purpose: at
// least one (R4 1..*), each one of the four R4 codes.
func checkEligibilityPurpose(fs *findingList, e *gateEntry) {
	purposes := jarray(e.resource, "purpose")
	if len(purposes) == 0 {
		fs.errorf(e.loc+".purpose", "nhcx-eligibility-purpose", "CoverageEligibilityRequest.purpose is missing; give validation, benefits, auth-requirements or discovery")
	}
	for i, raw := range purposes {
		p, _ := raw.(string)
		if !slices.Contains(eligibilityPurposes, p) {
			fs.errorf(e.loc+".purpose["+strconv.Itoa(i)+"]", "nhcx-eligibility-purpose", "purpose %q is not one of %s", p, strings.Join(eligibilityPurposes, ", "))
		}
	}
}

// codingKeys returns the system|code keys of a CodeableConcept.
func codingKeys(cc jobj) []string {
	var out []string
	for _, raw := range jarray(cc, "coding") {
		co, _ := raw.(jobj)
		out = append(out, jstr(co, "system")+"|"+jstr(co, "code"))
	}
	return out
}

func hasCoding(cc jobj, system, code string) bool {
	return slices.Contains(codingKeys(cc), system+"|"+code)
}

// checkTask checks the Task of a TaskBundle: its code, its inputs and
// outputs, and the shape each NHCX use of a Task needs (the TaskBundle
// examples in instances/Bundle-TaskBundleFor*.fsh).
func checkTask(fs *findingList, e *gateEntry) {
	res, loc := e.resource, e.loc
	code := jobject(res, "code")
	if len(jarray(code, "coding")) == 0 {
		fs.errorf(loc+".code", "nhcx-task-code", "Task.code is missing; an NHCX Task says what it asks or answers by a code of ndhm-task-codes, financialtaskcode or task-code")
	} else {
		known := false
		for _, k := range codingKeys(code) {
			sys, c, _ := strings.Cut(k, "|")
			if _, ok := taskCodes[sys][c]; ok {
				known = true
			}
		}
		if !known {
			fs.warnf(loc+".code", "nhcx-task-code", "Task.code has no coding from ValueSet ndhm-task-codes (ndhm-task-codes, financialtaskcode, task-code)")
		}
	}

	inputs := jchildren(jnode{loc, res}, "input")
	outputs := jchildren(jnode{loc, res}, "output")
	checkTaskParams(fs, inputs, "input")
	checkTaskParams(fs, outputs, "output")

	status := jstr(res, "status")
	shape := func(format string, args ...any) { fs.errorf(loc, "nhcx-task-shape", format, args...) }
	switch {
	case hasCoding(code, SystemTaskCode, "deliver"):
		delivered := false
		for _, in := range inputs {
			if ref := jstr(jobject(in.obj, "valueReference"), "reference"); ref != "" {
				delivered = true
			}
		}
		if !delivered {
			shape("a deliver Task carries nothing: give an input whose valueReference points to the Communication, PaymentNotice or other resource it delivers")
		}
	case hasCoding(code, SystemFinancialTaskCode, "status") && status == "completed":
		if len(outputs) == 0 {
			shape("a completed status Task answers with an output (for a payment acknowledgement: type financialtaskinputtype#status, valueCodeableConcept ndhm-task-output-value#paymentack)")
		}
	case hasCoding(code, SystemFinancialTaskCode, "reprocess") && status == "requested":
		if !jpresent(res["reasonCode"]) {
			shape("a reprocess request needs reasonCode (ndhm-reason-code) saying why")
		}
		if len(inputs) == 0 {
			shape("a reprocess request needs an input naming the claim (ndhm-task-input-type-code#claimNumber)")
		}
	case hasCoding(code, SystemTaskCode, "search"), hasCoding(code, SystemFinancialTaskCode, "cancel"):
		if len(inputs) == 0 {
			shape("a %s Task needs an input naming the claim (ndhm-task-input-type-code#claimNumber)", strings.Join(codingKeys(code), ", "))
		}
	case hasCoding(code, SystemFinancialTaskCode, "poll"):
		if len(inputs) == 0 && len(outputs) == 0 {
			shape("a poll Task needs an input (what is asked for) or an output (the answer)")
		}
	}
}

// checkTaskParams checks Task inputs or outputs: an include or original
// response is a reference, and an output value from ndhm-task-output-value
// is one of its codes.
func checkTaskParams(fs *findingList, params []jnode, kind string) {
	for _, p := range params {
		typ := jobject(p.obj, "type")
		for _, k := range codingKeys(typ) {
			sys, c, _ := strings.Cut(k, "|")
			if known, ok := taskInputTypes[sys]; ok {
				if _, ok := known[c]; !ok {
					fs.warnf(p.loc+".type", "nhcx-task-"+kind, "%q is not a code of %s", c, sys)
				}
			}
		}
		if hasCoding(typ, SystemFinancialTaskInputType, "include") || hasCoding(typ, SystemFinancialTaskInputType, "origresponse") {
			if !jpresent(p.obj["valueReference"]) {
				fs.errorf(p.loc, "nhcx-task-"+kind, "a %s of type %s must be a valueReference to the resource in the bundle",
					kind, strings.Join(codingKeys(typ), ", "))
			}
		}
		for _, cd := range jchildren(jnode{p.loc + ".valueCodeableConcept", jobject(p.obj, "valueCodeableConcept")}, "coding") {
			if jstr(cd.obj, "system") != SystemTaskOutputValue {
				continue
			}
			if _, ok := taskOutputValues[jstr(cd.obj, "code")]; !ok {
				fs.errorf(cd.loc+".code", "nhcx-task-"+kind,
					"%q is not a code of ndhm-task-output-value (%s)", jstr(cd.obj, "code"), strings.Join(sortedKeys(taskOutputValues), ", "))
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
