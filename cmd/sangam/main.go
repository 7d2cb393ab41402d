// Command sangam is the one binary of Sangam: the web app and ABDM bridge
// (serve), schema migrations, the local ABDM/identity sandbox, the demo
// hospital group and tools for integrators.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "sangam: %v\n", err)
		os.Exit(1)
	}
}

// errUsage marks a command line that could not be understood; the usage has
// already been printed.
var errUsage = errors.New("usage error")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the web app, the ABDM bridge and background jobs", runServe},
		{"migrate", "apply database migrations (River's and Sangam's)", runMigrate},
		{"onboard", "connect a tenant to the ABDM gateway and check its facilities' registration", runOnboard},
		{"sandbox", "run the local ABDM sandbox and demo identity provider", runSandbox},
		{"demo", "load the demo hospital group into the database", runDemo},
		{"sources", "issue or rotate a source system's event token (sources token ...)", runSources},
		{"fidelius", "encrypt, decrypt and make keys with ABDM's Fidelius scheme", runFidelius},
		{"keys", "manage the embedded key store's master key (new-master-key, rotate, status)", runKeys},
		{"fhir", "validate and read ABDM FHIR health records (NRCeS bundles)", runFHIR},
		{"nhcx", "encrypt and decrypt NHCX messages (JWE with x-hcx-* headers)", runNHCX},
		{"version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sangam: unknown command %q\n\n", args[0])
	usage(stderr)
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: sangam <command> [options]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `sangam <command> -h` for a command's options. Every option can also be")
	fmt.Fprintln(w, "set through the environment variable shown in its help.")
}
