package nrces

import "strings"

// Clean-up rule: code system URIs. NRCeS mandates http://snomed.info/sct,
// but ProjectEKA wrote https://projecteka.in/sct, the ABDM sandbox samples
// https://ndhm.gov.in/sct and https://affinitydomain.in/sct, and others
// "SNOMED CT", an https:// scheme or a trailing slash. The same happens to
// LOINC, ICD-10 and UCUM. A receiver that keys on the exact string loses
// the coding, so aliases are mapped to the canonical URI and reported.

// Canonical code system URIs.
const (
	systemSNOMED = "http://snomed.info/sct"
	systemLOINC  = "http://loinc.org"
	systemICD10  = "http://hl7.org/fhir/sid/icd-10"
	systemUCUM   = "http://unitsofmeasure.org"
)

// systemAliases maps lower-cased aliases to the canonical URI.
var systemAliases = map[string]string{
	"https://snomed.info/sct":         systemSNOMED,
	"http://snomed.info":              systemSNOMED,
	"http://snomed.org":               systemSNOMED,
	"http://snomed.org/sct":           systemSNOMED,
	"snomed":                          systemSNOMED,
	"snomed ct":                       systemSNOMED,
	"snomed-ct":                       systemSNOMED,
	"snomedct":                        systemSNOMED,
	"sct":                             systemSNOMED,
	"urn:oid:2.16.840.1.113883.6.96":  systemSNOMED,
	"https://loinc.org":               systemLOINC,
	"loinc":                           systemLOINC,
	"urn:oid:2.16.840.1.113883.6.1":   systemLOINC,
	"https://hl7.org/fhir/sid/icd-10": systemICD10,
	"icd-10":                          systemICD10,
	"icd10":                           systemICD10,
	"http://hl7.org/fhir/sid/icd10":   systemICD10,
	"urn:oid:2.16.840.1.113883.6.3":   systemICD10,
	"http://www.who.int/classifications/icd10": systemICD10,
	"https://unitsofmeasure.org":               systemUCUM,
	"ucum":                                     systemUCUM,
	"urn:oid:2.16.840.1.113883.6.8":            systemUCUM,
}

// canonicalSystem returns the canonical URI for a code system alias and
// whether s was changed. Unknown systems are returned as they are.
func canonicalSystem(s string) (string, bool) {
	switch s {
	case systemSNOMED, systemLOINC, systemICD10, systemUCUM, "":
		return s, false
	}
	key := strings.ToLower(strings.TrimSpace(s))
	key = strings.TrimRight(key, "/")
	switch key {
	case systemSNOMED, systemLOINC, systemICD10, systemUCUM:
		return key, true
	}
	if c, ok := systemAliases[key]; ok {
		return c, true
	}
	// Any other host's ".../sct" or ".../loinc" path is the same mistake
	// (projecteka.in, ndhm.gov.in, affinitydomain.in, …).
	if strings.HasPrefix(key, "http://") || strings.HasPrefix(key, "https://") {
		switch {
		case strings.HasSuffix(key, "/sct") || strings.HasSuffix(key, "/snomed"):
			return systemSNOMED, true
		case strings.HasSuffix(key, "/loinc"):
			return systemLOINC, true
		}
	}
	return s, false
}

// looksLikeSNOMEDCode reports whether code has SNOMED's shape (6 to 18
// digits) rather than LOINC's ("2093-3").
func looksLikeSNOMEDCode(code string) bool {
	if len(code) < 6 || len(code) > 18 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
