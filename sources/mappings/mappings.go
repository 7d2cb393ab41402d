// Package mappings embeds the mapping files of the demo vendors (MediSoft
// and CareWare HIS, LabTrack LIMS, RadView RIS, PharmaOne pharmacy,
// Billdesk billing), for
// the sqlmap connector. They double as worked examples: each absorbs a
// different schema, id format, date layout and code system.
//
// The standard codes in them were chosen for the demo and should be checked
// against a LOINC / SNOMED CT release before a mapping is used for real
// patients.
package mappings

import "embed"

// FS holds the mapping files by name (medisoft.yaml, ...).
//
//go:embed *.yaml
var FS embed.FS
