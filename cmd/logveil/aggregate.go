package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/processor/statspage"
	"github.com/logveil/logveil/transforms/stats"
)

func cmdAggregate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("aggregate", stderr, "logveil aggregate [flags] [file ...] > stats.jsonl",
		"Computes the page and time statistics of access logs (the files named, or stdin; gzip and zstd decompressed,\nlogrotate's series oldest first) with the code of the Kafka stages: final, k-anonymous rows in the\n<prefix>.stats schema (jsonl), or the statistics page as one self-contained file (html).",
		"logveil aggregate --window 1h,24h --output html access.log.2.gz access.log.1 access.log > report.html")
	b := config.Bind(fs, "anonymize.country_db", "anonymize.input_format", "stats.windows", "stats.k")
	output := fs.String("output", "jsonl", "jsonl: rows in the <prefix>.stats schema; html: a self-contained report page")
	quiet := fs.Bool("quiet", false, "no summary on stderr")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file (for benchmarking)")
	if code, ok := parseArgs(fs, args, -1); !ok {
		return code
	}
	files, ok := logFiles(fs)
	if !ok {
		return exitConfig
	}
	if *output != "jsonl" && *output != "html" {
		fmt.Fprintf(stderr, "logveil aggregate: --output %q is not jsonl or html\n", *output)
		return exitConfig
	}
	cfg, ok := loadSettings("aggregate", b, stderr)
	if !ok {
		return exitConfig
	}
	warnWeakK(stderr, "aggregate", cfg)
	cfg.ApplyMemoryLimit()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "logveil aggregate: %v\n", err)
			return exitIO
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	input, err := pipe.OpenInputs(files, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "logveil aggregate: %v\n", err)
		return exitIO
	}
	start := time.Now()
	var st pipe.Summary
	var rows int
	warn := func(w string) { fmt.Fprintf(stderr, "logveil aggregate: warning: %s\n", w) }
	if *output == "html" {
		var rs []stats.Row
		if st, rs, err = pipe.AggregateRows(cfg.Anonymize, cfg.Stats, input, pipe.Options{Warn: warn}); err == nil {
			rows = len(rs)
			err = statspage.WriteReport(stdout, rs, statspage.Source{Description: fmt.Sprintf(
				"logveil aggregate of %d lines, %s", st.In, time.Now().UTC().Format("2006-01-02 15:04 UTC"))})
		}
	} else {
		st, rows, err = pipe.Aggregate(cfg.Anonymize, cfg.Stats, input, stdout, pipe.Options{Warn: warn})
	}
	if err != nil {
		fmt.Fprintf(stderr, "logveil aggregate: %v\n", err)
		if ce := (*pipe.ConfigError)(nil); errors.As(err, &ce) {
			return exitConfig
		}
		return exitIO
	}
	if !*quiet {
		el := time.Since(start).Seconds()
		fmt.Fprintf(stderr, "logveil aggregate: %d lines in, %d aggregated, %d rejected, %d rows in %.3fs (%s lines/s)\n",
			st.In, st.Out-st.ErrorLines, st.RejectedTotal(), rows, el, strconv.FormatFloat(float64(st.In)/el, 'f', 0, 64))
	}
	return exitOK
}
