package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/sangamhealth/sangam/nrces"
)

const fhirReadSynopsis = `Read FHIR documents received from other systems (NRCeS bundles from an HIP,
a PHR or a test fixture) the way Sangam's HIU does, and print per file one
JSON object: the record type, the patient's identifiers, how many entries of
each kind were understood, the first few entries of each kind, and every
problem found (repairs, guesses, parts kept raw). Problems are not failures:
the exit status is non-zero only when a file cannot be opened.

Arguments: FILE... ("-" reads stdin); options go before the files.`

// fhirReadSummary is what `sangam fhir read` prints for one file.
type fhirReadSummary struct {
	File               string           `json:"file"`
	Bytes              int              `json:"bytes"`
	RecordType         string           `json:"record_type"`
	RecordTypeFrom     string           `json:"record_type_from,omitempty"`
	Title              string           `json:"title,omitempty"`
	PatientIdentifiers []nrces.Identity `json:"patient_identifiers"`
	Counts             map[string]int   `json:"counts"`
	Entries            []fhirReadEntry  `json:"entries"`
	Problems           []nrces.Problem  `json:"problems"`
}

type fhirReadEntry struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// runFHIRRead is `sangam fhir read`.
func runFHIRRead(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := newOptions("fhir read", fhirReadSynopsis, stderr)
	var perKind int
	var checkR4, compact bool
	o.fs.IntVar(&perKind, "entries", 10, "entries listed per kind")
	o.Bool(&checkR4, "r4", "", false, "also run the R4 clean-up pass and google/fhir/go's parser and report what they find (slower)")
	o.Bool(&compact, "compact", "", false, "print one JSON object per line instead of indented")
	files, err := o.parseFiles(args)
	if err != nil {
		return err
	}
	reader := nrces.Reader{CheckR4: checkR4}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if !compact {
		enc.SetIndent("", "  ")
	}
	var failed []string
	for _, name := range files {
		data, err := readFHIRInput(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "sangam fhir read: %v\n", err)
			failed = append(failed, name)
			continue
		}
		rec, err := reader.Read(ctx, data, nrces.Provenance{})
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if err := enc.Encode(summariseRecord(name, len(data), rec, perKind)); err != nil {
			return fmt.Errorf("writing the summary of %s: %w", name, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files could not be opened", len(failed), len(files))
	}
	return nil
}

// summariseRecord lists at most perKind entries of each kind, kinds in a
// fixed order, entries in bundle order.
func summariseRecord(file string, size int, rec *nrces.Record, perKind int) fhirReadSummary {
	s := fhirReadSummary{
		File:               file,
		Bytes:              size,
		RecordType:         rec.RecordType,
		RecordTypeFrom:     rec.RecordTypeFrom,
		Title:              rec.Title,
		PatientIdentifiers: rec.Patient.Identities,
		Counts:             map[string]int{},
		Entries:            []fhirReadEntry{},
		Problems:           rec.Problems,
	}
	if s.PatientIdentifiers == nil {
		s.PatientIdentifiers = []nrces.Identity{}
	}
	byKind := map[nrces.EntryKind][]nrces.Entry{}
	for _, e := range rec.Entries {
		s.Counts[string(e.Kind)]++
		byKind[e.Kind] = append(byKind[e.Kind], e)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		for i, e := range byKind[nrces.EntryKind(k)] {
			if i == perKind {
				break
			}
			s.Entries = append(s.Entries, fhirReadEntry{Kind: k, Text: shorten(e.Summary(), 200)})
		}
	}
	return s
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
