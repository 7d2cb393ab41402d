package nrces

import "strings"

// Record type detection. The Composition's meta.profile is the clearest
// sign, then its SNOMED type code (after system clean-up), then LOINC
// document codes some producers use instead, then words in type.text,
// coding display and title (WellnessRecord and InvoiceRecord have no
// coding by design), and for bundles without a Composition the resources
// themselves.

// HI type names as ABDM uses them in consent requests and care contexts.
const (
	hiOPConsultation   = "OPConsultation"
	hiPrescription     = "Prescription"
	hiDischargeSummary = "DischargeSummary"
	hiDiagnosticReport = "DiagnosticReport"
	hiImmunization     = "ImmunizationRecord"
	hiHealthDocument   = "HealthDocumentRecord"
	hiWellness         = "WellnessRecord"
	hiInvoice          = "Invoice"
)

// hiTypeByProfile maps the last segment of an NRCeS Composition profile.
var hiTypeByProfile = map[string]string{
	"OPConsultRecord":        hiOPConsultation,
	"PrescriptionRecord":     hiPrescription,
	"DischargeSummaryRecord": hiDischargeSummary,
	"DiagnosticReportRecord": hiDiagnosticReport,
	"ImmunizationRecord":     hiImmunization,
	"HealthDocumentRecord":   hiHealthDocument,
	"WellnessRecord":         hiWellness,
	"InvoiceRecord":          hiInvoice,
}

// hiTypeBySNOMED maps Composition.type SNOMED codes. DiagnosticReport
// also takes the report-type codes producers put there.
var hiTypeBySNOMED = map[string]string{
	"371530004":     hiOPConsultation,
	"440545006":     hiPrescription,
	"373942005":     hiDischargeSummary,
	"721981007":     hiDiagnosticReport,
	"4321000179101": hiDiagnosticReport,
	"4261000179100": hiDiagnosticReport,
	"4241000179101": hiDiagnosticReport,
	"41000179103":   hiImmunization,
	"419891008":     hiHealthDocument,
}

// hiTypeByLOINC maps LOINC document codes seen instead of the SNOMED ones.
var hiTypeByLOINC = map[string]string{
	"28655-9": hiDischargeSummary, // Discharge summary note (attending)
	"18842-5": hiDischargeSummary, // Discharge summary
	"11488-4": hiOPConsultation,   // Consult note
	"34108-1": hiOPConsultation,   // Outpatient note
	"57833-6": hiPrescription,     // Prescription for medication
	"11502-2": hiDiagnosticReport, // Laboratory report
	"18748-4": hiDiagnosticReport, // Diagnostic imaging study
	"11369-6": hiImmunization,     // History of immunization
}

// hiTypeWords are tried in order against type text, display and title.
var hiTypeWords = []struct{ word, hiType string }{
	{"wellness", hiWellness},
	{"invoice", hiInvoice},
	{"discharge", hiDischargeSummary},
	{"prescription", hiPrescription},
	{"immuni", hiImmunization},
	{"vaccin", hiImmunization},
	{"diagnostic", hiDiagnosticReport},
	{"laboratory", hiDiagnosticReport},
	{"lab report", hiDiagnosticReport},
	{"radiology", hiDiagnosticReport},
	{"health document", hiHealthDocument},
	{"record artifact", hiHealthDocument},
	{"consultation", hiOPConsultation},
	{"op consult", hiOPConsultation},
}

// recordTypeOf detects the record type of a Composition (nil for bundles
// without one, when idx decides from the resources).
func recordTypeOf(comp *inResource, idx *bundleIndex) (hiType, from string) {
	if comp == nil {
		return recordTypeFromContent(idx)
	}
	if comp.Meta != nil {
		for _, p := range comp.Meta.Profile {
			name := p[strings.LastIndexByte(p, '/')+1:]
			if t, ok := hiTypeByProfile[strings.TrimSpace(name)]; ok && strings.Contains(p, "nrces.in/") {
				return t, "profile"
			}
		}
	}
	for _, c := range comp.Type {
		for _, cd := range codingsOf(c) {
			sys, _ := canonicalSystem(cd.System)
			code := strings.TrimSpace(string(cd.Code))
			switch sys {
			case systemSNOMED:
				if t, ok := hiTypeBySNOMED[code]; ok {
					return t, "snomed"
				}
			case systemLOINC:
				if t, ok := hiTypeByLOINC[code]; ok {
					return t, "loinc"
				}
			}
		}
	}
	var texts []string
	for _, c := range comp.Type {
		texts = append(texts, c.Text, c.Display)
		for _, cd := range c.Coding {
			texts = append(texts, cd.Display)
		}
	}
	texts = append(texts, comp.Title)
	for _, t := range texts {
		if t == "" {
			continue
		}
		lower := strings.ToLower(t)
		for _, w := range hiTypeWords {
			if strings.Contains(lower, w.word) {
				return w.hiType, "text"
			}
		}
	}
	return "", ""
}

// recordTypeFromContent guesses for bundles without a Composition (a
// "collection" of lab results, say) from the clinical resources they hold.
func recordTypeFromContent(idx *bundleIndex) (string, string) {
	counts := map[string]int{}
	for _, n := range idx.nodes {
		counts[n.res.ResourceType]++
	}
	switch {
	case counts["DiagnosticReport"] > 0:
		return hiDiagnosticReport, "content"
	case counts["Immunization"] > 0 && counts["Encounter"] == 0 && counts["Condition"] == 0:
		return hiImmunization, "content"
	case counts["MedicationRequest"] > 0 && counts["Encounter"] == 0 && counts["Observation"] == 0:
		return hiPrescription, "content"
	case counts["DocumentReference"] > 0 && len(counts) <= 4:
		return hiHealthDocument, "content"
	}
	return "", ""
}

// codingsOf returns a concept's codings; a Coding-shaped concept is its
// own single coding.
func codingsOf(c inConcept) []inCoding {
	if len(c.Coding) > 0 {
		return c.Coding
	}
	if c.System != "" || c.Code != "" || c.Display != "" {
		return []inCoding{{System: c.System, Code: c.Code, Display: c.Display}}
	}
	return nil
}
