package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/logveil/logveil/processor"
)

// runFlags are the flags of run and check-config; they override the config
// file and LOGVEIL_* environment variables.
type runFlags struct {
	fs                                                         *flag.FlagSet
	config, brokers, group, inputs, prefix, listen, geoip, asn string
	stages                                                     string
}

func newRunFlags(name string, stderr io.Writer) *runFlags {
	f := &runFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.StringVar(&f.config, "config", "", "YAML config file")
	f.fs.StringVar(&f.brokers, "brokers", "", "comma-separated bootstrap brokers (kafka.brokers)")
	f.fs.StringVar(&f.group, "group-id", "", "consumer group (kafka.group_id)")
	f.fs.StringVar(&f.inputs, "input-topics", "", "comma-separated raw topics (kafka.input_topics)")
	f.fs.StringVar(&f.prefix, "topic-prefix", "", "output topic prefix (kafka.topic_prefix)")
	f.fs.StringVar(&f.listen, "listen", "", "metrics/health address (http.listen), - to disable")
	f.fs.StringVar(&f.geoip, "geoip", "", "country mmdb (anonymize.country_db)")
	f.fs.StringVar(&f.asn, "asn", "", "ASN mmdb (anonymize.asn_db)")
	f.fs.StringVar(&f.stages, "stages", "", "comma-separated stages to run: anonymize,aggregate,merge (stages)")
	return f
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// load reads the file, applies the environment, then the flags, and validates.
func (f *runFlags) load() (processor.Config, error) {
	cfg, err := processor.LoadConfig(f.config)
	if err != nil {
		return cfg, err
	}
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "brokers":
			cfg.Kafka.Brokers = splitList(f.brokers)
		case "group-id":
			cfg.Kafka.GroupID = f.group
		case "input-topics":
			cfg.Kafka.InputTopics = splitList(f.inputs)
		case "topic-prefix":
			cfg.Kafka.TopicPrefix = f.prefix
		case "listen":
			cfg.HTTP.Listen = f.listen
		case "geoip":
			cfg.Anonymize.CountryDB = f.geoip
		case "asn":
			cfg.Anonymize.ASNDB = f.asn
		case "stages":
			cfg.Stages = splitList(f.stages)
		}
	})
	return cfg.Validate()
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func cmdRun(args []string, stderr io.Writer) int {
	f := newRunFlags("run", stderr)
	if err := f.fs.Parse(args); err != nil {
		return exitConfig
	}
	cfg, err := f.load()
	if err != nil {
		fmt.Fprintf(stderr, "logveil run: invalid config: %v\n", err)
		return exitConfig
	}
	log := newLogger(cfg.LogFormat, stderr)
	r, err := processor.NewRunner(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "logveil run: %v\n", err)
		return exitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := r.Run(ctx); err != nil {
		log.Error("run failed", "err", err)
		return exitIO
	}
	return exitOK
}

func cmdCheckConfig(args []string, stdout, stderr io.Writer) int {
	f := newRunFlags("check-config", stderr)
	if err := f.fs.Parse(args); err != nil {
		return exitConfig
	}
	if f.config == "" && f.fs.NArg() == 1 {
		f.config = f.fs.Arg(0)
	}
	cfg, err := f.load()
	if err != nil {
		fmt.Fprintf(stderr, "logveil check-config: %v\n", err)
		return exitConfig
	}
	out, err := cfg.EffectiveYAML()
	if err != nil {
		fmt.Fprintf(stderr, "logveil check-config: %v\n", err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "# effective configuration (defaults, file, LOGVEIL_* environment, flags); secrets masked\n%s", out)
	return exitOK
}
