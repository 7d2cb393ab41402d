package main

import (
	"context"
	"fmt"
	"io"
)

// runSubcommands runs `sangam <name> <subcommand> ...` for a command that is
// only a set of subcommands, each called with the arguments after its name.
// No subcommand prints the usage and is a usage error; -h, --help or help
// prints it and is not. Nothing runs once ctx is done, since the
// subcommands that take no context would not notice.
func runSubcommands(ctx context.Context, name, usage string, args []string, stderr io.Writer, subs map[string]func(args []string) error) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	run, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sangam %s: unknown command %q\n\n", name, args[0])
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	return run(args[1:])
}
