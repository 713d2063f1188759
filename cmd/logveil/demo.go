package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/demo"
)

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", stderr, "logveil demo [flags]",
		"Runs the whole pipeline on an embedded Kafka broker (nothing to install): generated traffic into\naccess-logs, the three stages, and a live summary of the statistics and events.",
		"logveil demo --lines 20000")
	var opt demo.Options
	fs.IntVar(&opt.Lines, "lines", 0, "stop after this many lines (0: until interrupted)")
	fs.DurationVar(&opt.Duration, "duration", 0, "stop after this long (0: until interrupted)")
	fs.IntVar(&opt.Rate, "rate", 5000, "generated lines per second")
	fs.IntVar(&opt.Port, "port", 0, "fixed port for the embedded broker, e.g. 9092, so kcat can read the topics")
	verbose := fs.Bool("v", false, "show the processor's info logs")
	binder := config.Bind(fs, "anonymize.country_db")
	if code, ok := parseArgs(fs, args, 0); !ok {
		return code
	}
	cfg, err := binder.Load()
	if err != nil {
		fmt.Fprintf(stderr, "logveil demo: %v\n", err)
		return exitConfig
	}
	opt.Config = cfg
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, opt, stdout, log); err != nil {
		fmt.Fprintf(stderr, "logveil demo: %v\n", err)
		return exitIO
	}
	return exitOK
}
