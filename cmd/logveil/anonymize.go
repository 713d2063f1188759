package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/transforms"
)

// Exit codes.
const (
	exitOK       = 0
	exitIO       = 1   // input unreadable or output unwritable
	exitConfig   = 2   // usage or configuration error
	exitRejected = 3   // --strict and at least one line was rejected
	exitSignal   = 130 // a second SIGINT or SIGTERM while finishing
)

// lineCounter counts the lines that reached w (output lines end in '\n').
type lineCounter struct {
	w     io.Writer
	lines int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}

// anonymizeFlags are the pipe's own flags; the anonymize section's keys
// are bound by the config package.
type anonymizeFlags struct {
	fs                   *flag.FlagSet
	b                    *config.Binder
	output, rejects      string
	cpuprofile, compress string
	workers              int
	strict, quiet        bool
}

func newAnonymizeFlags(stderr io.Writer) *anonymizeFlags {
	f := &anonymizeFlags{fs: newFlagSet("anonymize", stderr, "logveil anonymize [flags] [file ...] > out",
		"Reads access-log (or Apache/nginx error-log) lines from the files named, or stdin, and writes them anonymized\non stdout, in input order, on every core. gzip and zstd input is decompressed (detected by its first bytes);\nlogrotate's access.log.2.gz access.log.1 access.log are read oldest first.\nSIGINT or SIGTERM ends the input: every line read is still written, then the summary (exit 0).",
		"logveil anonymize --output combined --rejects rejects.txt access.log.2.gz access.log.1 access.log > anonymized.log")}
	fs := f.fs
	f.b = config.Bind(fs, "anonymize.input_format", "anonymize.country_db", "anonymize.asn_db", "anonymize.ipv4_prefix",
		"anonymize.ipv6_prefix", "anonymize.policy_version", "anonymize.time_precision", "anonymize.events_k")
	fs.StringVar(&f.output, "output", "jsonl", "jsonl (one JSON event per line) or combined (each line rewritten in its own format)")
	fs.StringVar(&f.rejects, "rejects", "", "write rejected lines, redacted, to this file")
	fs.BoolVar(&f.strict, "strict", false, "exit with status 3 if any line was rejected")
	fs.IntVar(&f.workers, "workers", 0, "parallel workers (default: number of CPUs)")
	fs.StringVar(&f.compress, "compress", "none", "compress the output: none, gzip or zstd")
	fs.BoolVar(&f.quiet, "quiet", false, "no summary on stderr")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for benchmarking)")
	return f
}

func cmdAnonymize(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// SIGINT and SIGTERM end the input: every line read so far is still
	// processed and written, then the summary, exit 0. Apache and nginx
	// send these to a piped logger on every reload. SIGHUP changes nothing.
	// A second SIGINT or SIGTERM exits at once.
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		stopping := false
		for sig := range sigs {
			switch {
			case sig == syscall.SIGHUP:
			case stopping:
				fmt.Fprintf(stderr, "logveil anonymize: second %v: exiting without finishing\n", sig)
				os.Exit(exitSignal)
			default:
				stopping = true
				close(stop)
			}
		}
	}()
	f := newAnonymizeFlags(stderr)
	if code, ok := parseArgs(f.fs, args, -1); !ok {
		return code
	}
	files, ok := logFiles(f.fs)
	if !ok {
		return exitConfig
	}
	cfg, ok := loadSettings("anonymize", f.b, stderr)
	if !ok {
		return exitConfig
	}
	a, err := transforms.NewAnonymizer(cfg.Anonymize)
	if err != nil {
		fmt.Fprintf(stderr, "logveil anonymize: %v\n", err)
		return exitConfig
	}
	defer a.Close()
	for _, w := range a.Warnings() {
		fmt.Fprintf(stderr, "logveil anonymize: warning: %s\n", w)
	}

	opt := pipe.Options{Output: pipe.Output(f.output), Workers: f.workers}
	if opt.Output != pipe.OutputJSONL && opt.Output != pipe.OutputCombined {
		fmt.Fprintf(stderr, "logveil anonymize: --output: %q is not jsonl or combined\n", f.output)
		return exitConfig
	}
	if c := pipe.Compression(f.compress); c != "none" && c != pipe.CompressGzip && c != pipe.CompressZstd {
		fmt.Fprintf(stderr, "logveil anonymize: --compress: %q is not none, gzip or zstd\n", f.compress)
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
	input, err := pipe.OpenInputs(files, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "logveil anonymize: %v\n", err)
		return exitIO
	}
	compressed, endStream, err := pipe.CompressWriter(stdout, pipe.Compression(f.compress))
	if err != nil {
		fmt.Fprintf(stderr, "logveil anonymize: --compress: %v\n", err)
		return exitConfig
	}
	opt.Stop = stop
	written := &lineCounter{w: compressed}
	out := bufio.NewWriterSize(written, 256<<10)
	st, err := pipe.Run(a, input, out, opt)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("cannot write output: %w", ferr)
	}
	if ferr := endStream(); err == nil && ferr != nil {
		err = fmt.Errorf("cannot write output: %w", ferr)
	}
	st.Out = written.lines // what reached the output, not what was produced
	if rejBuf != nil {
		if ferr := rejBuf.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("cannot write rejects: %w", ferr)
		}
		if ferr := rejFile.Close(); err == nil && ferr != nil {
			err = fmt.Errorf("cannot write rejects: %w", ferr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "logveil anonymize: %v\n", err)
	}
	if !f.quiet {
		printSummary(stderr, st)
	}
	switch {
	case err != nil:
		return exitIO
	case f.strict && st.RejectedTotal() > 0:
		fmt.Fprintf(stderr, "logveil anonymize: %d lines rejected (--strict)\n", st.RejectedTotal())
		return exitRejected
	}
	return exitOK
}

func printSummary(w io.Writer, st pipe.Summary) {
	rate := float64(st.In) / st.Elapsed.Seconds()
	stopped := ""
	if st.Stopped {
		stopped = " (input ended by a signal)"
	}
	fmt.Fprintf(w, "logveil anonymize: %d lines in, %d out, %d rejected in %.3fs (%.0f lines/s)%s\n",
		st.In, st.Out, st.RejectedTotal(), st.Elapsed.Seconds(), rate, stopped)
	reasons := make([]string, 0, len(st.Rejected))
	for r := range st.Rejected {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  rejected: %d %s\n", st.Rejected[r], strings.ReplaceAll(r, "\n", " "))
	}
	var events int64
	for _, n := range st.Rungs {
		events += n
	}
	if events > 0 {
		fmt.Fprintf(w, "  k-anonymous events (k %d), by rung:", st.EventsK)
		for _, r := range transforms.RungNames() {
			if n := st.Rungs[r]; n > 0 {
				fmt.Fprintf(w, " %s %.1f%%", r, 100*float64(n)/float64(events))
			}
		}
		fmt.Fprintln(w)
	}
	if n := st.PathAdmitted + st.PathWithheld; n > 0 {
		fmt.Fprintf(w, "  path values decided by population (k %d visitors that day): %d admitted, %d withheld (%.1f%% admitted)\n",
			st.EventsK, st.PathAdmitted, st.PathWithheld, 100*float64(st.PathAdmitted)/float64(n))
	}
}
