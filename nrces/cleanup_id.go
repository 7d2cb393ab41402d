package nrces

import "strings"

// Clean-up rule: resource ids. FHIR ids are [A-Za-z0-9-.]{1,64}; HIS
// primary keys such as "MRN_001" or "OPD/2024/17" are not, and
// google/fhir/go rejects the resource. The lenient reader keeps the id as
// sent (references use it); the R4 pass rewrites it with validFHIRID.

// isValidFHIRID reports whether id matches FHIR's id type.
func isValidFHIRID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// validFHIRID maps id to a valid FHIR id: every other character becomes
// "-", and ids longer than 64 characters keep their last 64 (HIS keys tend
// to differ at the end).
func validFHIRID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteByte(c)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[len(s)-64:]
	}
	if s == "" {
		s = "id"
	}
	return s
}
