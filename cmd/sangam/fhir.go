package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sangamhealth/sangam/nrces"
)

const fhirUsage = `Usage: sangam fhir <command> [options] FILE...

Work with ABDM health records and NHCX insurance bundles: FHIR R4 bundles
following the NRCeS implementation guide (ndhm.in 6.5.0).

Commands:
  validate  check bundles with Sangam's quality gate (NRCeS rules and base R4)
  read      read bundles as Sangam's HIU does and summarise them

Run "sangam fhir <command> -h" for a command's options.
`

// runFHIR is `sangam fhir`.
func runFHIR(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, fhirUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "validate":
		return runFHIRValidate(ctx, args[1:], stdin, stdout, stderr)
	case "read":
		return runFHIRRead(ctx, args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "sangam fhir: unknown command %q\n\n", args[0])
	fmt.Fprint(stderr, fhirUsage)
	return errUsage
}

const fhirValidateSynopsis = `Check FHIR bundles with the quality gate every bundle Sangam sends must pass:
the NRCeS IG 6.5.0 rules and base FHIR R4 validation. Health-record documents
are checked for envelope, Composition first, type and section codes per record
type, mandatory elements, references, identifier systems and section entry
types; NHCX insurance bundles (ClaimBundle, CoverageEligibilityRequest/
ResponseBundle, ClaimResponseBundle, TaskBundle, InsurancePlanBundle) for type
collection, their entry slices, mandatory Claim, eligibility and Task elements,
codings and references. Prints one line per finding:

  FILE: LOCATION: RULE: SEVERITY: MESSAGE

and exits non-zero when any file has an error. Warnings never fail a file.

Usage: sangam fhir validate [options] FILE...   ("-" reads stdin; options go before the files)`

// fhirFinding is one finding as `sangam fhir validate -json` prints it.
type fhirFinding struct {
	File     string `json:"file"`
	Location string `json:"location"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// runFHIRValidate is `sangam fhir validate`. Findings go to stdout, the
// summary to stderr, so the findings can be piped.
func runFHIRValidate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := newOptions("fhir validate", fhirValidateSynopsis, stderr)
	var asJSON, errorsOnly bool
	o.Bool(&asJSON, "json", "", false, "print the findings as one JSON array")
	o.Bool(&errorsOnly, "errors-only", "", false, "leave warnings out")
	files, err := o.parseFiles(args)
	if err != nil {
		return err
	}

	gate, err := nrces.NewGate()
	if err != nil {
		return err
	}
	all := []fhirFinding{}
	failed, warnings, errs := 0, 0, 0
	for _, file := range files {
		data, err := readFHIRInput(file, stdin)
		if err != nil {
			if file != "-" {
				err = fmt.Errorf("reading the bundle: %w", err)
			}
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			failed++
			continue
		}
		findings, err := gate.Check(ctx, data)
		if err != nil {
			return err
		}
		if nrces.HasErrors(findings) {
			failed++
		}
		for _, f := range findings {
			if f.Severity == nrces.SeverityError {
				errs++
			} else {
				warnings++
				if errorsOnly {
					continue
				}
			}
			if asJSON {
				all = append(all, fhirFinding{file, f.Location, f.Rule, string(f.Severity), f.Message})
			} else {
				fmt.Fprintf(stdout, "%s: %s\n", file, f)
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(all); err != nil {
			return fmt.Errorf("writing findings: %w", err)
		}
	}
	fmt.Fprintf(stderr, "checked %d file(s): %d error(s), %d warning(s)\n", len(files), errs, warnings)
	if failed > 0 {
		return fmt.Errorf("%d of %d files have errors", failed, len(files))
	}
	return nil
}

// readFHIRInput reads one of the files a fhir subcommand was given, or
// stdin for "-". Errors reading a file are os errors, which name the file.
func readFHIRInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return data, nil
	}
	return os.ReadFile(name)
}
