package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a command's flag set whose -h prints the command's
// synopsis, what it does, one example and its own flags (exit 0).
func newFlagSet(name string, stderr io.Writer, synopsis, about, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\n%s\n\nExample:\n  %s\n", synopsis, strings.TrimSpace(about), example)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses args and checks what is left: at most maxArgs arguments
// (-1: any number), none of them a flag (the flag package stops at the
// first argument, so "FILE --brokers b" would silently drop --brokers). It
// returns ok, or the exit code: 0 after -h, 2 after any other mistake.
func parseArgs(fs *flag.FlagSet, args []string, maxArgs int) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitConfig, false
	}
	rest := fs.Args()
	unexpected := func(extra string) (int, bool) {
		hint := ""
		if strings.HasSuffix(extra, ".yaml") || strings.HasSuffix(extra, ".yml") {
			hint = fmt.Sprintf(" (did you mean --config %s?)", extra)
		}
		fmt.Fprintf(fs.Output(), "logveil %s: unexpected argument %q%s\n", fs.Name(), extra, hint)
		return exitConfig, false
	}
	if maxArgs == 0 && len(rest) > 0 {
		return unexpected(rest[0])
	}
	for _, a := range rest {
		if len(a) > 1 && a[0] == '-' {
			fmt.Fprintf(fs.Output(), "logveil %s: flag %s after an argument (%q): put flags before arguments\n", fs.Name(), a, rest[0])
			return exitConfig, false
		}
	}
	if maxArgs >= 0 && len(rest) > maxArgs {
		return unexpected(rest[maxArgs])
	}
	return exitOK, true
}

// logFiles returns the log files named after the flags, refusing a config
// file given where a log is expected.
func logFiles(fs *flag.FlagSet) ([]string, bool) {
	for _, a := range fs.Args() {
		if strings.HasSuffix(a, ".yaml") || strings.HasSuffix(a, ".yml") {
			fmt.Fprintf(fs.Output(), "logveil %s: %s is a config, not a log (did you mean --config %s?)\n", fs.Name(), a, a)
			return nil, false
		}
	}
	return fs.Args(), true
}
