package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/sangamhealth/sangam/sharedtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nrcesExampleFiles returns the NRCeS IG 6.5.0 example bundles in
// ../shared beside the repository, skipping when they are absent.
func nrcesExampleFiles(t *testing.T) []string {
	t.Helper()
	dir := sharedtest.Path(t, "fhir", "abdm-fhir-ig-fsh")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no NRCeS example bundles in %s", dir)
	}
	return files
}

func TestFHIRValidateExamples(t *testing.T) {
	files := nrcesExampleFiles(t)
	var stdout, stderr bytes.Buffer
	err := runFHIR(context.Background(), append([]string{"validate"}, files...), nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runFHIR: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line != "" && !strings.Contains(line, ": warning: ") {
			t.Errorf("unexpected finding: %s", line)
		}
	}
	if !strings.Contains(stderr.String(), "0 error(s)") {
		t.Errorf("summary %q", stderr.String())
	}
}

func TestFHIRValidateBrokenFile(t *testing.T) {
	files := nrcesExampleFiles(t)
	var good string
	for _, f := range files {
		if strings.HasSuffix(f, "Bundle-Prescription-example-06.json") {
			good = f
		}
	}
	if good == "" {
		t.Fatal("prescription example missing")
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	entries := b["entry"].([]any)
	entries[0], entries[1] = entries[1], entries[0] // the Composition is no longer first
	broken, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(bad, broken, 0o644); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	err = runFHIR(context.Background(), []string{"validate", good, bad}, nil, &stdout, &stderr)
	if err == nil || err.Error() != "1 of 2 files have errors" {
		t.Fatalf("got error %v, want \"1 of 2 files have errors\"", err)
	}
	want := bad + ": Bundle.entry[0].resource: nrces-composition-first: error: "
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, &stdout)
	}
	if strings.Contains(stdout.String(), good+":") {
		t.Errorf("the good file has findings:\n%s", &stdout)
	}

	// The same through stdin, as JSON.
	stdout.Reset()
	err = runFHIR(context.Background(), []string{"validate", "-json", "-errors-only", "-"}, bytes.NewReader(broken), &stdout, &stderr)
	if err == nil {
		t.Fatal("no error for a broken bundle on stdin")
	}
	var got []fhirFinding
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("-json output is not a JSON array: %v\n%s", err, &stdout)
	}
	found := false
	for _, f := range got {
		if f.Severity != "error" {
			t.Errorf("-errors-only printed %+v", f)
		}
		found = found || (f.File == "-" && f.Rule == "nrces-composition-first" && f.Location == "Bundle.entry[0].resource")
	}
	if !found {
		t.Errorf("no nrces-composition-first finding in %+v", got)
	}
}

func TestFHIRValidateUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runFHIR(context.Background(), []string{"validate"}, nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("no files: got %v, want errUsage", err)
	}
	if err := runFHIR(context.Background(), []string{"frobnicate"}, nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: got %v, want errUsage", err)
	}
	if err := runFHIR(context.Background(), []string{"validate", filepath.Join(t.TempDir(), "missing.json")}, nil, &stdout, &stderr); err == nil {
		t.Error("a missing file did not fail")
	}
}
