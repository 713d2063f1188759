package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/transforms"
)

// Exit codes.
const (
	exitOK       = 0
	exitIO       = 1 // input unreadable or output unwritable
	exitConfig   = 2 // usage or configuration error
	exitRejected = 3 // --strict and at least one line was rejected
)

// anonymizeFlags binds the transforms config fields a flag may override.
type anonymizeFlags struct {
	fs                                      *flag.FlagSet
	config, inputFormat, output, geoip, asn string
	rejects, policyVersion, timePrecision   string
	cpuprofile                              string
	ipv4, ipv6, workers                     int
	strict, quiet                           bool
}

func newAnonymizeFlags(stderr io.Writer) *anonymizeFlags {
	f := &anonymizeFlags{fs: flag.NewFlagSet("anonymize", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "YAML config file (flags override it)")
	fs.StringVar(&f.inputFormat, "input-format", "", "auto|combined|common|vhost_combined|json, or an Apache LogFormat / nginx log_format string (default auto)")
	fs.StringVar(&f.output, "output", "jsonl", "jsonl (one JSON event per line) or combined (each line rewritten in its own format)")
	fs.StringVar(&f.geoip, "geoip", "", "country or city mmdb (GeoIP2/GeoLite2, DB-IP or ip-location-db)")
	fs.StringVar(&f.asn, "asn", "", "ASN mmdb (GeoLite2-ASN schema)")
	fs.IntVar(&f.ipv4, "ipv4-prefix", 0, "IPv4 prefix length kept (default 24)")
	fs.IntVar(&f.ipv6, "ipv6-prefix", 0, "IPv6 prefix length kept (default 32)")
	fs.StringVar(&f.rejects, "rejects", "", "write rejected lines, redacted, to this file")
	fs.BoolVar(&f.strict, "strict", false, "exit with status 3 if any line was rejected")
	fs.StringVar(&f.policyVersion, "policy-version", "", "privacy-policy version written into events")
	fs.StringVar(&f.timePrecision, "time-precision", "", "second, minute or hour (default second)")
	fs.IntVar(&f.workers, "workers", 0, "parallel workers (default: number of CPUs)")
	fs.BoolVar(&f.quiet, "quiet", false, "no summary on stderr")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for benchmarking)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: logveil anonymize [flags] < access.log > out\n\nReads access-log lines on stdin, writes anonymized lines on stdout, in order.\nFlags:")
		fs.PrintDefaults()
	}
	return f
}

// apply overrides cfg with the flags given on the command line.
func (f *anonymizeFlags) apply(cfg *transforms.Config) {
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "input-format":
			cfg.InputFormat = f.inputFormat
		case "geoip":
			cfg.CountryDB = f.geoip
		case "asn":
			cfg.ASNDB = f.asn
		case "ipv4-prefix":
			cfg.IPv4Prefix = f.ipv4
		case "ipv6-prefix":
			cfg.IPv6Prefix = f.ipv6
		case "policy-version":
			cfg.PolicyVersion = f.policyVersion
		case "time-precision":
			cfg.TimePrecision = f.timePrecision
		}
	})
}

func cmdAnonymize(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := newAnonymizeFlags(stderr)
	if err := f.fs.Parse(args); err != nil {
		return exitConfig
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "logveil anonymize: unexpected argument %q (input is read from stdin)\n", f.fs.Arg(0))
		return exitConfig
	}
	cfg, err := processor.LoadConfig(f.config)
	if err != nil {
		fmt.Fprintf(stderr, "logveil anonymize: %v\n", err)
		return exitConfig
	}
	f.apply(&cfg.Anonymize)
	a, err := transforms.New(cfg.Anonymize)
	if err != nil {
		fmt.Fprintf(stderr, "logveil anonymize: invalid config: %v\n", err)
		return exitConfig
	}
	defer a.Close()

	opt := processor.PipeOptions{Output: processor.Output(f.output), Workers: f.workers}
	if opt.Output != processor.OutputJSONL && opt.Output != processor.OutputCombined {
		fmt.Fprintf(stderr, "logveil anonymize: --output: %q is not jsonl or combined\n", f.output)
		return exitConfig
	}
	var rejFile *os.File
	var rejBuf *bufio.Writer
	if f.rejects != "" {
		if rejFile, err = os.Create(f.rejects); err != nil {
			fmt.Fprintf(stderr, "logveil anonymize: --rejects: %v\n", err)
			return exitConfig
		}
		rejBuf = bufio.NewWriterSize(rejFile, 64<<10)
		opt.Rejects = rejBuf
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "logveil anonymize: --cpuprofile: %v\n", err)
			return exitConfig
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	out := bufio.NewWriterSize(stdout, 256<<10)
	st, err := processor.RunPipe(a, stdin, out, opt)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("cannot write output: %w", ferr)
	}
	if rejBuf != nil {
		if ferr := rejBuf.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("cannot write rejects: %w", ferr)
		}
		if ferr := rejFile.Close(); err == nil && ferr != nil {
			err = fmt.Errorf("cannot write rejects: %w", ferr)
		}
	}
	if !f.quiet {
		printSummary(stderr, st)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "logveil anonymize: %v\n", err)
		return exitIO
	case f.strict && st.RejectedTotal() > 0:
		fmt.Fprintf(stderr, "logveil anonymize: %d lines rejected (--strict)\n", st.RejectedTotal())
		return exitRejected
	}
	return exitOK
}

func printSummary(w io.Writer, st processor.Stats) {
	rate := float64(st.In) / st.Elapsed.Seconds()
	fmt.Fprintf(w, "logveil anonymize: %d lines in, %d out, %d rejected in %.3fs (%.0f lines/s)\n",
		st.In, st.Out, st.RejectedTotal(), st.Elapsed.Seconds(), rate)
	reasons := make([]string, 0, len(st.Rejected))
	for r := range st.Rejected {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  rejected: %d %s\n", st.Rejected[r], strings.ReplaceAll(r, "\n", " "))
	}
}
