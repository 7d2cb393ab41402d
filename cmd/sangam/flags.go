package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// options is a flag set whose flags fall back to environment variables, the
// twelve-factor way: an explicit flag wins, then the variable, then the
// default. Each flag's help names its variable.
type options struct {
	fs      *flag.FlagSet
	envErrs []error
}

func newOptions(name, synopsis string, stderr io.Writer) *options {
	fs := flag.NewFlagSet("sangam "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sangam %s [options]\n\n%s\n\nOptions:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return &options{fs: fs}
}

func envHelp(env, usage string) string {
	if env == "" {
		return usage
	}
	return usage + " (env " + env + ")"
}

func (o *options) String(p *string, name, env, def, usage string) {
	if v, ok := os.LookupEnv(env); ok && env != "" {
		def = v
	}
	o.fs.StringVar(p, name, def, envHelp(env, usage))
}

func (o *options) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	o.fs.Func(name, envHelp(env, usage)+fmt.Sprintf(" (default %s)", def), func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration like 30s or 15m: %q", s)
		}
		*p = d
		return nil
	})
	*p = def
	if v, ok := os.LookupEnv(env); ok && env != "" {
		if d, err := time.ParseDuration(v); err == nil {
			*p = d
		} else {
			o.envErrs = append(o.envErrs, fmt.Errorf("%s: not a duration like 30s or 15m: %q", env, v))
		}
	}
}

func (o *options) Bool(p *bool, name, env string, def bool, usage string) {
	if v, ok := os.LookupEnv(env); ok && env != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		} else {
			o.envErrs = append(o.envErrs, fmt.Errorf("%s: not a boolean: %q", env, v))
		}
	}
	o.fs.BoolVar(p, name, def, envHelp(env, usage))
}

// parseFiles is parse for commands that take files after their options:
// it returns them, and refuses a command line that names none.
func (o *options) parseFiles(args []string) ([]string, error) {
	if err := o.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if len(o.envErrs) > 0 {
		return nil, errors.Join(o.envErrs...)
	}
	if o.fs.NArg() == 0 {
		fmt.Fprintln(o.fs.Output(), "no files given")
		o.fs.Usage()
		return nil, errUsage
	}
	return o.fs.Args(), nil
}

// parse reads args; errors from the environment are reported here too, so a
// bad variable is named before anything starts.
func (o *options) parse(args []string) error {
	if err := o.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if len(o.envErrs) > 0 {
		return errors.Join(o.envErrs...)
	}
	if o.fs.NArg() > 0 {
		fmt.Fprintf(o.fs.Output(), "unexpected argument %q\n", o.fs.Arg(0))
		o.fs.Usage()
		return errUsage
	}
	return nil
}
