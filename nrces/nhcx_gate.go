package nrces

import (
	"strconv"
	"strings"
)

// The quality gate for NHCX bundles: the six Bundle profiles of the NRCeS
// IG 6.5.0 NHCX module (../shared/testdata/nhcx/nrces-fsh/profiles/*Bundle.fsh).
// Each is a Bundle of type collection, exactly, with one entry slice on the
// resource type; the other entries are open. Gate.Check sends a bundle here
// when it claims one of these profiles, or when it claims none but carries
// NHCX resources instead of a Composition (nhcxKindOf).
//
// Rules, besides the fhir-* ones and the NRCeS participant and
// DocumentReference rules (nrces-identifier…, nrces-required, nrces-profile)
// that apply as in a health record:
//
//	nhcx-bundle-type        type collection, exactly (an old HCX document bundle fails here)
//	nhcx-profile            (warning) no or http:// profile claim on the bundle or an NHCX resource
//	nhcx-bundle-identifier  (warning) no identifier; error for a relative identifier.system
//	nhcx-bundle-timestamp   (warning) no timestamp
//	nrces-entry, nrces-fullurl, nrces-fullurl-style   as for documents
//	nhcx-entry-slice        the profile's entry slice: Claim 1..*, CoverageEligibilityRequest 1..1, Task 1..1, …
//	nhcx-required           an element an NHCX resource profile makes mandatory
//	nhcx-cardinality        an element the profile limits to one (CoverageEligibilityRequest.identifier)
//	nrces-coding            a constrained coding without system, code or display; too many codings
//	nhcx-reference-type     a reference resolving to a type the profile does not allow
//	nrces-reference-resolve, nrces-reference-external   as for documents
//	nhcx-claim-sequence     a Claim item naming a care team, diagnosis, procedure or supportingInfo sequence that does not exist
//	nhcx-claim-total        (warning) Claim.total is not the sum of the items' net
//	nhcx-claim-related      (warning) enhancement/settlement with the wrong use, no earlier claim or no preAuthRef
//	nhcx-eligibility-purpose CoverageEligibilityRequest.purpose missing or not validation, benefits, auth-requirements, discovery
//	nhcx-task-code          Task.code missing; (warning) not from ndhm-task-codes
//	nhcx-task-input, nhcx-task-output   an include/origresponse that is no reference; an unknown ndhm-task-output-value
//	nhcx-task-shape         a Task missing what its code needs (deliver: a referenced input; completed status: an output; …)

// nhcxKind is one NHCX Bundle profile and its entry slice.
type nhcxKind struct {
	profile string // profile id, e.g. "ClaimBundle"
	focal   string // resource type of the entry slice
	min     int
	max     int // 0 = unbounded
}

var (
	kindEligibilityRequest  = &nhcxKind{"CoverageEligibilityRequestBundle", "CoverageEligibilityRequest", 1, 1}
	kindEligibilityResponse = &nhcxKind{"CoverageEligibilityResponseBundle", "CoverageEligibilityResponse", 1, 1}
	kindClaim               = &nhcxKind{"ClaimBundle", "Claim", 1, 0}
	kindClaimResponse       = &nhcxKind{"ClaimResponseBundle", "ClaimResponse", 1, 0}
	kindTask                = &nhcxKind{"TaskBundle", "Task", 1, 1}
	kindInsurancePlan       = &nhcxKind{"InsurancePlanBundle", "InsurancePlan", 1, 0}
)

// nhcxKinds is the order in which a bundle without a profile claim is
// recognised from its entries: a response bundle may carry the request, and
// a TaskBundle may carry claims and responses, so those come first.
var nhcxKinds = []*nhcxKind{kindTask, kindClaimResponse, kindEligibilityResponse, kindClaim, kindEligibilityRequest, kindInsurancePlan}

// nhcxKindOf returns the NHCX profile a bundle claims or, when it claims
// none, the one its entries make it; nil for anything else (a health record
// document goes to the NRCeS document rules). An old HCX v0.x document
// bundle (type document, a Composition typed from hcx.org) counts as NHCX,
// so it is told what NHCX expects instead.
func nhcxKindOf(root jobj) *nhcxKind {
	if jstr(root, "resourceType") != "Bundle" {
		return nil
	}
	for _, p := range jprofiles(root) {
		name, ok := nrcesProfileName(p)
		if !ok {
			continue
		}
		if name == "DocumentBundle" {
			return nil
		}
		for _, k := range nhcxKinds {
			if k.profile == name {
				return k
			}
		}
	}
	types := map[string]bool{}
	legacy := false
	for _, raw := range jarray(root, "entry") {
		eo, _ := raw.(jobj)
		res := jobject(eo, "resource")
		typ := jstr(res, "resourceType")
		types[typ] = true
		if typ == "Composition" {
			for _, c := range jarray(jobject(res, "type"), "coding") {
				co, _ := c.(jobj)
				if strings.Contains(strings.ToLower(jstr(co, "system")), "hcx") {
					legacy = true
				}
			}
		}
	}
	if types["Composition"] && !legacy {
		return nil
	}
	for _, k := range nhcxKinds {
		if types[k.focal] {
			return k
		}
	}
	return nil
}

// checkNHCX runs every NHCX rule on a decoded bundle of kind.
func checkNHCX(root jobj, kind *nhcxKind) []Finding {
	var fs findingList
	b := newGateIndex(root)
	checkNHCXEnvelope(&fs, b, kind)
	checkNHCXSlice(&fs, b, kind)
	// The participants and documents use the NRCeS base profiles (Patient,
	// Organization, Practitioner, DocumentReference, …), checked as in a
	// health record.
	checkEntries(&fs, b, &compositionInfo{})
	checkNHCXResources(&fs, b)
	checkReferences(&fs, b)
	return fs
}

// checkNHCXEnvelope checks type, profile claim, identifier, timestamp and
// the entries' fullUrls.
func checkNHCXEnvelope(fs *findingList, b *gateIndex, kind *nhcxKind) {
	root := b.root
	switch t := jstr(root, "type"); t {
	case "collection":
	case "document":
		fs.errorf("Bundle.type", "nhcx-bundle-type",
			"Bundle.type is \"document\"; %s fixes it to \"collection\" (NHCX takes NRCeS collection bundles, not the old HCX document bundles with a Composition)", kind.profile)
	default:
		fs.errorf("Bundle.type", "nhcx-bundle-type", "Bundle.type is %q; %s fixes it to \"collection\"", t, kind.profile)
	}

	want := profileBase + kind.profile
	claimed := false
	for _, p := range jprofiles(root) {
		if name, ok := nrcesProfileName(p); ok && name == kind.profile {
			claimed = true
			if !strings.HasPrefix(p, "https://") {
				fs.warnf("Bundle.meta.profile", "nhcx-profile", "profile %q uses http://; the canonical URL is %s", p, want)
			}
		}
	}
	if !claimed {
		fs.warnf("Bundle.meta.profile", "nhcx-profile", "Bundle.meta.profile does not claim %s; its entries make it one, and payers validate against the claimed profile", want)
	}

	id := jobject(root, "identifier")
	switch {
	case id == nil:
		fs.warnf("Bundle.identifier", "nhcx-bundle-identifier", "Bundle.identifier is missing; every NRCeS NHCX example carries one to trace the message")
	case !jpresent(id["value"]):
		fs.warnf("Bundle.identifier.value", "nhcx-bundle-identifier", "Bundle.identifier has no value")
	}
	if sys := jstr(id, "system"); sys != "" && !isAbsURI(sys) {
		fs.errorf("Bundle.identifier.system", "nhcx-bundle-identifier", "Bundle.identifier.system %q is not an absolute URI", sys)
	}
	if !jpresent(root["timestamp"]) {
		fs.warnf("Bundle.timestamp", "nhcx-bundle-timestamp", "Bundle.timestamp is missing; the NRCeS NHCX examples give when the bundle was assembled")
	}
	checkFullURLs(fs, jarray(root, "entry"), "an NHCX bundle", "the NRCeS NHCX bundles use")
}

// checkNHCXSlice counts the entries of the profile's slice.
func checkNHCXSlice(fs *findingList, b *gateIndex, kind *nhcxKind) {
	n := 0
	for _, e := range b.entries {
		if e != nil && e.typ == kind.focal {
			n++
		}
	}
	switch {
	case n < kind.min:
		fs.errorf("Bundle.entry", "nhcx-entry-slice", "the bundle has no %s entry; %s requires %s",
			kind.focal, kind.profile, cardinality(kind.min, kind.max))
	case kind.max > 0 && n > kind.max:
		fs.errorf("Bundle.entry", "nhcx-entry-slice", "the bundle has %d %s entries; %s allows %s",
			n, kind.focal, kind.profile, cardinality(kind.min, kind.max))
	}
}

func cardinality(min, max int) string {
	hi := "*"
	if max > 0 {
		hi = strconv.Itoa(max)
	}
	return strconv.Itoa(min) + ".." + hi
}
