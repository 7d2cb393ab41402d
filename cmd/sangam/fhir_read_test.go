package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"github.com/sangamhealth/sangam/sharedtest"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// sharedFHIRFiles returns every bundle in ../shared/testdata/fhir beside
// the repository, skipping when the shared directory is absent.
func sharedFHIRFiles(t *testing.T) []string {
	t.Helper()
	fhirDir := sharedtest.Path(t, "fhir")
	files, _ := filepath.Glob(filepath.Join(fhirDir, "*", "*.json"))
	if len(files) == 0 {
		t.Skipf("no bundles in %s (the shared directory sits next to the repository clone); skipping", fhirDir)
	}
	return files
}

// decodeSummaries reads the JSON objects `sangam fhir read` printed.
func decodeSummaries(t *testing.T, out []byte) []fhirReadSummary {
	t.Helper()
	var all []fhirReadSummary
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var s fhirReadSummary
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			return all
		}
		if err != nil {
			t.Fatalf("output is not a stream of JSON objects: %v\n%s", err, out)
		}
		all = append(all, s)
	}
}

func TestFHIRReadSharedBundles(t *testing.T) {
	files := sharedFHIRFiles(t)
	var stdout, stderr bytes.Buffer
	err := runFHIR(context.Background(), append([]string{"read", "--entries", "3"}, files...), nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("sangam fhir read: %v\nstderr: %s", err, &stderr)
	}
	sums := decodeSummaries(t, stdout.Bytes())
	if len(sums) != len(files) {
		t.Fatalf("%d summaries for %d files", len(sums), len(files))
	}
	for i, s := range sums {
		if s.File != files[i] {
			t.Errorf("summary %d is for %s, want %s", i, s.File, files[i])
		}
		total := 0
		perKind := map[string]int{}
		for _, n := range s.Counts {
			total += n
		}
		for _, e := range s.Entries {
			perKind[e.Kind]++
			if e.Text == "" || s.Counts[e.Kind] == 0 {
				t.Errorf("%s: entry %+v", s.File, e)
			}
		}
		for k, n := range perKind {
			if n > 3 || n != min(3, s.Counts[k]) {
				t.Errorf("%s: %d %s entries listed of %d", s.File, n, k, s.Counts[k])
			}
		}
		if total == 0 || s.Bytes == 0 {
			t.Errorf("%s: nothing understood: %+v", s.File, s)
		}
		if s.RecordType == "" && !strings.HasSuffix(s.File, "sample_bundle.json") {
			t.Errorf("%s: no record type", s.File)
		}
		for _, p := range s.Problems {
			if p.Severity == "error" {
				t.Errorf("%s: %+v", s.File, p)
			}
		}
	}
}

// The lab example's summary names the ABHA number and LOINC results.
func TestFHIRReadLabSummary(t *testing.T) {
	var lab string
	for _, f := range sharedFHIRFiles(t) {
		if strings.HasSuffix(f, "abdm-fhir-ig-fsh/Bundle-DiagnosticReport-Lab-example-03.json") {
			lab = f
		}
	}
	if lab == "" {
		t.Fatal("the NRCeS lab example is missing")
	}
	var stdout, stderr bytes.Buffer
	if err := runFHIRRead(context.Background(), []string{lab}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	sums := decodeSummaries(t, stdout.Bytes())
	if len(sums) != 1 {
		t.Fatalf("%d summaries", len(sums))
	}
	s := sums[0]
	if s.RecordType != "DiagnosticReport" || len(s.PatientIdentifiers) != 1 || s.PatientIdentifiers[0].Value != "22-7225-4829-5255" {
		t.Errorf("summary %+v", s)
	}
	if s.Counts["observation"] != 3 || s.Counts["diagnostic_report"] != 1 {
		t.Errorf("counts %v", s.Counts)
	}
	var found bool
	for _, e := range s.Entries {
		found = found || e.Text == "Cholesterol [Mass/volume] in Serum or Plasma: 156 mg/dL (ref ≤ 200 mg/dL); 2020-09-29"
	}
	if !found {
		t.Errorf("entries %+v lack the cholesterol result", s.Entries)
	}
}

// A file that cannot be opened fails the command; the others are still
// summarised, and unreadable content is a problem, not a failure.
func TestFHIRReadMissingAndGarbage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such.json")
	var stdout, stderr bytes.Buffer
	err := runFHIRRead(context.Background(), []string{"--compact", missing, "-"}, strings.NewReader("not json at all"), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 files") {
		t.Errorf("error %v, want one file not opened", err)
	}
	if !strings.Contains(stderr.String(), "no-such.json") {
		t.Errorf("stderr %q does not name the missing file", &stderr)
	}
	sums := decodeSummaries(t, stdout.Bytes())
	if len(sums) != 1 || sums[0].File != "-" || sums[0].Counts["document"] != 1 || len(sums[0].Problems) != 1 || sums[0].Problems[0].Code != "unreadable-json" {
		t.Errorf("summaries %+v", sums)
	}
	if strings.Count(strings.TrimSpace(stdout.String()), "\n") != 0 {
		t.Errorf("--compact printed more than one line: %q", &stdout)
	}
}

func TestFHIRReadUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runFHIRRead(context.Background(), nil, nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("no files: %v, want a usage error", err)
	}
	stderr.Reset()
	if err := runFHIRRead(context.Background(), []string{"-h"}, nil, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if !strings.Contains(stderr.String(), "sangam fhir read") || !strings.Contains(stderr.String(), "-entries") {
		t.Errorf("help %q", &stderr)
	}
	if err := runFHIRRead(context.Background(), []string{"--nope", "x.json"}, nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("bad flag: %v", err)
	}
}
