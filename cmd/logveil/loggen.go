package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/processor/demo"
)

func cmdLoggen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("loggen", stderr, "logveil loggen [flags] > access.log",
		"Writes deterministic, realistic access logs (returning visitors, multi-page visits, searches, IPv6,\nbrowsers and bots), or produces them to Kafka at --rate lines/s with --brokers.",
		"logveil loggen --lines 100000 --format combined > access.log")
	var opt loggen.Options
	lines := fs.Int("lines", 100000, "number of lines")
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed (same seed, same output)")
	fs.StringVar(&opt.Format, "format", "combined", "combined or json")
	fs.Float64Var(&opt.Malformed, "malformed", 0, "fraction of malformed lines")
	fs.Float64Var(&opt.Rate, "rate", 50, "mean lines per second of log time")
	fs.Int64Var(&opt.Start, "start", 0, "Unix time of the first line (default 2026-11-01T00:00:00Z)")
	fs.IntVar(&opt.Visitors, "visitors", 20000, "distinct visitors")
	fs.IntVar(&opt.Pages, "pages", 2000, "distinct pages")
	brokers := fs.String("brokers", "", "produce to Kafka instead of writing stdout, at --rate lines/s of wall time (--lines 0: forever)")
	topic := fs.String("topic", "access-logs", "topic for --brokers")
	if code, ok := parseArgs(fs, args, 0); !ok {
		return code
	}
	if *brokers != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		var n atomic.Int64
		err := demo.Feed(ctx, demo.FeedOptions{Brokers: splitList(*brokers), Topic: *topic,
			Rate: int(opt.Rate), Lines: *lines, Seed: opt.Seed}, &n)
		fmt.Fprintf(stderr, "logveil loggen: %d lines produced to %s\n", n.Load(), *topic)
		if err != nil {
			fmt.Fprintf(stderr, "logveil loggen: %v\n", err)
			return exitIO
		}
		return exitOK
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
