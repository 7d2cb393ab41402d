package nrces

import (
	"net/url"
	"strings"
)

// Identifier classification. No profile fixes the identifier systems, and
// the bundles in circulation use healthid.ndhm.gov.in and
// healthid.abdm.gov.in, sandbox hosts, trailing slashes, the NRCeS
// identifier-type codes (ABHA, HIN, ADN, …), HL7 v2-0203 (MR, MD, PRN) or
// nothing at all. The kind is therefore read from several signals: the
// type code, the registry host and the value's shape.

func (n *normaliser) identity(id inIdentifier, owner, path string) Identity {
	value := strings.TrimSpace(string(id.Value))
	out := Identity{Kind: "other", System: strings.TrimSpace(id.System), Value: value}
	host := registryHost(out.System)
	var typeCode string
	for _, c := range id.Type.list() {
		for _, cd := range codingsOf(c) {
			if typeCode == "" {
				typeCode = strings.ToUpper(strings.TrimSpace(string(cd.Code)))
			}
		}
		if typeCode == "" {
			typeCode = strings.ToUpper(strings.TrimSpace(c.Text))
		}
	}
	digits := digitsOnly(value)
	switch {
	case isAadhaar(typeCode, out.System, value):
		out.Kind = "aadhaar"
		out.Value = maskAadhaar(digits)
		n.probs.add(severityInfo, "aadhaar-masked", path, "an Aadhaar number was masked to its last four digits")
	case owner == "Patient" && (strings.Contains(host, "healthid") || typeCode == "HIN" || typeCode == "ABHA" ||
		typeCode == "ABHAADDRESS" || typeCode == "PHRID" || strings.Contains(strings.ToLower(out.System), "phrid") ||
		strings.Contains(value, "@")):
		switch {
		case len(digits) == 14 && !strings.Contains(value, "@"):
			out.Kind = "abha_number"
		default:
			out.Kind = "abha_address"
		}
	case owner == "Organization" && (strings.Contains(host, "facility") || strings.HasPrefix(host, "hfr.") || typeCode == "PRN"):
		out.Kind = "hfr"
	case strings.Contains(host, "doctor") || strings.Contains(host, "nhpr") || strings.HasPrefix(host, "hpr.") || typeCode == "HPIN":
		out.Kind = "hpr"
	case strings.Contains(host, "mciindia") || strings.Contains(host, "nmc.org") || typeCode == "MD":
		out.Kind = "registration"
	case owner == "Patient" && (typeCode == "MR" || strings.Contains(strings.ToLower(out.System), "patient") ||
		strings.Contains(strings.ToLower(out.System), "mrn") || strings.Contains(strings.ToLower(out.System), "uhid")):
		out.Kind = "mrn"
	}
	return out
}

// isAadhaar reports whether an identifier is an Aadhaar number: typed ADN,
// in a UIDAI/Aadhaar system, or written in Aadhaar's "1234 5678 9012" form.
func isAadhaar(typeCode, system, value string) bool {
	if typeCode == "ADN" || typeCode == "AADHAAR" {
		return true
	}
	sys := strings.ToLower(system)
	if strings.Contains(sys, "uidai") || strings.Contains(sys, "aadhaar") || strings.Contains(sys, "aadhar") {
		return true
	}
	if len(value) != 14 || value[4] != ' ' || value[9] != ' ' {
		return false
	}
	return len(digitsOnly(value)) == 12
}

// registryHost is the lower-case host of an identifier system URI.
func registryHost(system string) string {
	u, err := url.Parse(system)
	if err != nil || u.Host == "" {
		return strings.ToLower(system)
	}
	return strings.ToLower(u.Host)
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// maskAadhaar keeps the last four digits, the form UIDAI allows to be
// displayed and stored.
func maskAadhaar(digits string) string {
	if len(digits) <= 4 {
		return "XXXX"
	}
	return strings.Repeat("X", len(digits)-4) + digits[len(digits)-4:]
}
