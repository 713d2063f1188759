package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"

	"github.com/logveil/logveil/bench/loggen"
)

func cmdLoggen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loggen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt loggen.Options
	lines := fs.Int("lines", 100000, "number of lines")
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed (same seed, same output)")
	fs.StringVar(&opt.Format, "format", "combined", "combined or json")
	fs.Float64Var(&opt.Malformed, "malformed", 0, "fraction of malformed lines")
	fs.Float64Var(&opt.Rate, "rate", 50, "mean lines per second of log time")
	fs.Int64Var(&opt.Start, "start", 0, "Unix time of the first line (default 2026-11-01T00:00:00Z)")
	fs.IntVar(&opt.Visitors, "visitors", 20000, "distinct visitors")
	fs.IntVar(&opt.Pages, "pages", 2000, "distinct pages")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if opt.Format != "combined" && opt.Format != "json" {
		fmt.Fprintf(stderr, "logveil loggen: --format: %q is not combined or json\n", opt.Format)
		return exitConfig
	}
	w := bufio.NewWriterSize(stdout, 1<<20)
	if err := loggen.New(opt).WriteN(w, *lines); err != nil {
		fmt.Fprintf(stderr, "logveil loggen: %v\n", err)
		return exitIO
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "logveil loggen: %v\n", err)
		return exitIO
	}
	return exitOK
}
