package nrces

import (
	"net/url"
	"regexp"
	"strings"
)

// Code systems used by the NRCeS profiles (fhir-profiles.md §3).
const (
	SystemSNOMED          = "http://snomed.info/sct"
	SystemLOINC           = "http://loinc.org"
	SystemICD10           = "http://hl7.org/fhir/sid/icd-10"
	SystemUCUM            = "http://unitsofmeasure.org"
	SystemDICOM           = "http://dicom.nema.org/resources/ontology/DCM"
	SystemV20203          = "http://terminology.hl7.org/CodeSystem/v2-0203"
	SystemIdentifierType  = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code"
	SystemBillingCodes    = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes"
	SystemPriceComponents = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components"

	systemConfidentiality  = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	systemObsCategory      = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemConditionClin    = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	systemConditionVer     = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	systemConditionCat     = "http://terminology.hl7.org/CodeSystem/condition-category"
	systemAllergyClin      = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	systemAllergyVer       = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
	systemActCode          = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	systemRFC3986          = "urn:ietf:rfc:3986"
	systemDICOMUID         = "urn:dicom:uid"
	systemEndpointConnType = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
	systemImmRecStatus     = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"
)

// Default identifier systems of the ABDM registries, as the IG examples spell
// them (production hosts). Sandbox deployments override them in Config.
const (
	DefaultABHASystem = "https://healthid.ndhm.gov.in"
	DefaultHPRSystem  = "https://doctor.ndhm.gov.in"
	DefaultHFRSystem  = "https://facility.ndhm.gov.in"
)

// Coding is a FHIR Coding: a code from a code system.
type Coding struct {
	System  string
	Code    string
	Display string
}

// Concept is a FHIR CodeableConcept: text, codings, or both. Source mappings
// often give a SNOMED CT and an ICD-10 code for the same diagnosis; both go in
// Codings.
type Concept struct {
	Text    string
	Codings []Coding
}

// IsZero reports whether the concept carries neither text nor codings.
func (c Concept) IsZero() bool { return c.Text == "" && len(c.Codings) == 0 }

// SNOMED returns a SNOMED CT coding.
func SNOMED(code, display string) Coding { return Coding{SystemSNOMED, code, display} }

// LOINC returns a LOINC coding.
func LOINC(code, display string) Coding { return Coding{SystemLOINC, code, display} }

// ICD10 returns an ICD-10 coding.
func ICD10(code, display string) Coding { return Coding{SystemICD10, code, display} }

// Coded returns a concept from codings; its text is the first display.
func ConceptOf(codings ...Coding) Concept {
	c := Concept{Codings: codings}
	if len(codings) > 0 {
		c.Text = codings[0].Display
	}
	return c
}

// Text returns a text-only concept, for sources with no coding; the profiles
// allow it wherever coding is 0..*.
func TextConcept(s string) Concept { return Concept{Text: s} }

// Identifier types of HL7 v2-0203 the IG examples use for the three ABDM ids.
var (
	idTypeMR  = Coding{SystemV20203, "MR", "Medical record number"}
	idTypeMD  = Coding{SystemV20203, "MD", "Medical License number"}
	idTypePRN = Coding{SystemV20203, "PRN", "Provider number"}
	// idTypeABHA is the NRCeS code for an ABHA address (6.x code system).
	idTypeABHA = Coding{SystemIdentifierType, "ABHA", "Ayushman Bharat Health Account (ABHA) ID"}
)

// billingCodes is CodeSystem ndhm-billing-codes (codesystems/BillingCode.fsh).
var billingCodes = map[string]string{
	"00": "Consultation", "01": "Pharmacy", "02": "IPD", "03": "OPD", "04": "Pathology",
	"05": "Medicines", "06": "Nursing Charges", "07": "Handling Charges", "08": "Delivery Charges",
	"99": "Others",
}

// priceComponents is CodeSystem ndhm-price-components (codesystems/PriceComponent.fsh).
var priceComponents = map[string]string{
	"00": "MRP", "01": "Rate", "02": "Discount", "03": "CGST", "04": "SGST",
}

// BillingCode returns the ndhm-billing-codes coding for code ("00"
// Consultation … "99" Others), used for Invoice.type and ChargeItem.code.
func BillingCode(code string) (Coding, bool) {
	d, ok := billingCodes[code]
	return Coding{SystemBillingCodes, code, d}, ok
}

// PriceComponentCode returns the ndhm-price-components coding for code
// ("00" MRP, "01" Rate, "02" Discount, "03" CGST, "04" SGST).
func PriceComponentCode(code string) (Coding, bool) {
	d, ok := priceComponents[code]
	return Coding{SystemPriceComponents, code, d}, ok
}

// registry is one of ABDM's three identity registries.
type registry int

const (
	registryNone registry = iota
	registryABHA          // patients: ABHA number / address
	registryHPR           // healthcare professionals
	registryHFR           // health facilities
)

func (r registry) String() string {
	switch r {
	case registryABHA:
		return "ABHA (health id)"
	case registryHPR:
		return "HPR (professional registry)"
	case registryHFR:
		return "HFR (facility registry)"
	}
	return "none"
}

// registryOfSystem classifies an identifier system by host, because the spellings
// vary (ndhm/abdm hosts, trailing slashes, sandbox "sbx" hosts; see
// fhir-profiles.md §3) and no profile fixes one. It reports whether the host
// is a sandbox one.
func registryOfSystem(system string) (registry, bool) {
	u, err := url.Parse(strings.TrimSpace(system))
	if err != nil || u.Host == "" {
		return registryNone, false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if !strings.HasSuffix(host, ".ndhm.gov.in") && !strings.HasSuffix(host, ".abdm.gov.in") {
		return registryNone, false
	}
	label := host[:strings.IndexByte(host, '.')]
	sandbox := strings.Contains(label, "sbx") || strings.Contains(host, "sandbox")
	switch {
	case strings.HasPrefix(label, "healthid"), strings.HasPrefix(label, "abha"), strings.HasPrefix(label, "phr"):
		return registryABHA, sandbox
	case strings.HasPrefix(label, "doctor"), strings.HasPrefix(label, "hpr"), strings.HasPrefix(label, "nhpr"):
		return registryHPR, sandbox
	case strings.HasPrefix(label, "facility"), strings.HasPrefix(label, "hfr"):
		return registryHFR, sandbox
	}
	return registryNone, sandbox
}

// abhaNumberPattern is a 14-digit ABHA number, hyphenated 2-4-4-4 or plain.
var abhaNumberPattern = regexp.MustCompile(`^(\d{2}-\d{4}-\d{4}-\d{4}|\d{14})$`)

// abhaAddressPattern is an ABHA address such as "name@abdm" or "name@sbx".
var abhaAddressPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.]+$`)
