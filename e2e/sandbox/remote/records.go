package remote

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sangamhealth/sangam/abdm"
)

// bundle is one example FHIR document the remote HIP can serve.
type bundle struct {
	file   string // relative to the records directory
	hiType abdm.HIType
	title  string
	data   []byte // exactly as read: what a push must decrypt back to
}

// Record is one care context the remote HIP holds for a patient.
type Record struct {
	ABHAAddress          string `json:"abha_address"`
	PatientReference     string `json:"patient_reference"`
	CareContextReference string `json:"care_context_reference"`
	Display              string `json:"display"`
	HIType               string `json:"hi_type"`
	// File is the bundle behind the record, relative to Config.RecordsDir.
	File   string `json:"file"`
	Linked bool   `json:"linked"`
}

// profileTypes maps the NRCeS Composition profiles to HI types;
// compositionCodes does the same for Composition.type SNOMED codes, for
// bundles that carry no profile (older producers).
var (
	profileTypes = map[string]abdm.HIType{
		"OPConsultRecord": abdm.HITypeOPConsultation, "DischargeSummaryRecord": abdm.HITypeDischargeSummary,
		"DiagnosticReportRecord": abdm.HITypeDiagnosticReport, "PrescriptionRecord": abdm.HITypePrescription,
		"ImmunizationRecord": abdm.HITypeImmunizationRecord, "HealthDocumentRecord": abdm.HITypeHealthDocumentRecord,
		"WellnessRecord": abdm.HITypeWellnessRecord, "InvoiceRecord": abdm.HITypeInvoice,
	}
	compositionCodes = map[string]abdm.HIType{
		"371530004": abdm.HITypeOPConsultation, "373942005": abdm.HITypeDischargeSummary,
		"721981007": abdm.HITypeDiagnosticReport, "440545006": abdm.HITypePrescription,
		"41000179103": abdm.HITypeImmunizationRecord, "419891008": abdm.HITypeHealthDocumentRecord,
	}
	typeCodes = map[abdm.HIType]string{
		abdm.HITypeOPConsultation: "OPD", abdm.HITypeDischargeSummary: "DS", abdm.HITypeDiagnosticReport: "DR",
		abdm.HITypePrescription: "RX", abdm.HITypeImmunizationRecord: "IMM", abdm.HITypeHealthDocumentRecord: "DOC",
		abdm.HITypeWellnessRecord: "WEL", abdm.HITypeInvoice: "INV",
	}
	typeNames = map[abdm.HIType]string{
		abdm.HITypeOPConsultation: "OP consultation", abdm.HITypeDischargeSummary: "Discharge summary",
		abdm.HITypeDiagnosticReport: "Diagnostic report", abdm.HITypePrescription: "Prescription",
		abdm.HITypeImmunizationRecord: "Immunization record", abdm.HITypeHealthDocumentRecord: "Health document",
		abdm.HITypeWellnessRecord: "Wellness record", abdm.HITypeInvoice: "Invoice",
	}
)

// hiTypeOrder is the spec's enum order, the order records are listed in.
var hiTypeOrder = []abdm.HIType{
	abdm.HITypeOPConsultation, abdm.HITypePrescription, abdm.HITypeDiagnosticReport, abdm.HITypeDischargeSummary,
	abdm.HITypeImmunizationRecord, abdm.HITypeHealthDocumentRecord, abdm.HITypeWellnessRecord, abdm.HITypeInvoice,
}

// loadBundles reads every FHIR document bundle under dir whose record type
// it can tell. A missing dir is not an error: the remote HIP then holds
// nothing and says so.
func loadBundles(dir string) ([]bundle, error) {
	if dir == "" {
		return nil, nil
	}
	if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("records directory %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("records directory %s is not a directory", dir)
	}
	var out []bundle
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".json") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		t, title := classify(data)
		if t == "" {
			return nil // not a document bundle of a known record type
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, bundle{file: filepath.ToSlash(rel), hiType: t, title: title, data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading records from %s: %w", dir, err)
	}
	slices.SortFunc(out, func(a, b bundle) int { return strings.Compare(a.file, b.file) })
	return out, nil
}

// classify tells a document bundle's HI type from its Composition: the
// NRCeS profile, else the SNOMED type code.
func classify(data []byte) (abdm.HIType, string) {
	var b struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Title        string `json:"title"`
				Meta         struct {
					Profile []string `json:"profile"`
				} `json:"meta"`
				Type struct {
					Coding []struct {
						Code string `json:"code"`
					} `json:"coding"`
				} `json:"type"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(data, &b) != nil || b.ResourceType != "Bundle" || b.Type != "document" {
		return "", ""
	}
	for _, e := range b.Entry {
		r := e.Resource
		if r.ResourceType != "Composition" {
			continue
		}
		for _, p := range r.Meta.Profile {
			if t, ok := profileTypes[p[strings.LastIndex(p, "/")+1:]]; ok {
				return t, r.Title
			}
		}
		for _, c := range r.Type.Coding {
			if t, ok := compositionCodes[c.Code]; ok {
				return t, r.Title
			}
		}
		return "", ""
	}
	return "", ""
}

// patientRef is the remote HIP's own id for a patient: stable per ABHA
// address.
func patientRef(abhaAddress string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(abhaAddress)))
	return "CH-" + strings.ToUpper(hex.EncodeToString(sum[:4]))
}

// recordsFor picks the patient's records: one bundle per HI type, a
// different example for different patients where there are several.
func recordsFor(abhaAddress string, bundles []bundle) []Record {
	ref := patientRef(abhaAddress)
	sum := sha256.Sum256([]byte(strings.ToLower(abhaAddress)))
	seed := binary.BigEndian.Uint64(sum[8:16])
	var out []Record
	for _, t := range hiTypeOrder {
		var of []bundle
		for _, b := range bundles {
			if b.hiType == t {
				of = append(of, b)
			}
		}
		if len(of) == 0 {
			continue
		}
		b := of[seed%uint64(len(of))]
		display := typeNames[t] + ", City Hospital"
		if b.title != "" {
			display = b.title + " (City Hospital)"
		}
		out = append(out, Record{
			ABHAAddress: abhaAddress, PatientReference: ref,
			CareContextReference: ref + "-" + typeCodes[t] + "-1", Display: display, HIType: string(t), File: b.file,
		})
	}
	return out
}
