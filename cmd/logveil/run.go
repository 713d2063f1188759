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

// runFlags are the config flags of the Kafka commands; they override the
// config file and LOGVEIL_* environment variables. Each command binds only
// the ones it uses.
type runFlags struct {
	fs                                                         *flag.FlagSet
	config, brokers, group, inputs, prefix, listen, geoip, asn string
	stages                                                     string
}

// Flag groups a command can bind.
const (
	flagsKafka  = 1 << iota // --config, --brokers
	flagsPrefix             // --topic-prefix
	flagsRun                // --group-id, --input-topics, --listen, --geoip, --asn, --stages
)

func newRunFlags(fs *flag.FlagSet, groups int) *runFlags {
	f := &runFlags{fs: fs}
	if groups&flagsKafka != 0 {
		f.fs.StringVar(&f.config, "config", "", "YAML config file")
		f.fs.StringVar(&f.brokers, "brokers", "", "comma-separated bootstrap brokers (kafka.brokers)")
	}
	if groups&flagsPrefix != 0 {
		f.fs.StringVar(&f.prefix, "topic-prefix", "", "output topic prefix (kafka.topic_prefix)")
	}
	if groups&flagsRun != 0 {
		f.fs.StringVar(&f.group, "group-id", "", "consumer group (kafka.group_id)")
		f.fs.StringVar(&f.inputs, "input-topics", "", "comma-separated raw topics (kafka.input_topics)")
		f.fs.StringVar(&f.listen, "listen", "", "metrics/health address (http.listen), - to disable")
		f.fs.StringVar(&f.geoip, "geoip", "", "country mmdb (anonymize.country_db)")
		f.fs.StringVar(&f.asn, "asn", "", "ASN mmdb (anonymize.asn_db)")
		f.fs.StringVar(&f.stages, "stages", "", "comma-separated stages to run: anonymize,aggregate,merge (stages)")
	}
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
	f := newRunFlags(newFlagSet("run", stderr, "logveil run [flags]",
		"Runs the Kafka stream processor: anonymize, aggregate and merge (or --stages), until SIGINT or SIGTERM.",
		"logveil run --config deploy/logveil.yaml --brokers 127.0.0.1:9092"), flagsKafka|flagsPrefix|flagsRun)
	if code, ok := parseArgs(f.fs, args, 0); !ok {
		return code
	}
	cfg, err := f.load()
	if err != nil {
		fmt.Fprintf(stderr, "logveil run: invalid config: %v\n", err)
		return exitConfig
	}
	log := newLogger(cfg.LogFormat, stderr)
	warnWeakK(stderr, "run", cfg)
	if limit, why, err := processor.ApplyMemoryLimit(cfg); err == nil {
		log.Info("memory limit", "bytes", limit, "from", why)
	}
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
	f := newRunFlags(newFlagSet("check-config", stderr, "logveil check-config [flags] [FILE]",
		"Validates a config (FILE or --config), with the LOGVEIL_* environment and the flags over it, and prints\nthe effective configuration, secrets masked. Exit 2 names the field and the value that is wrong.",
		"logveil check-config deploy/logveil.yaml"), flagsKafka|flagsPrefix|flagsRun)
	if code, ok := parseArgs(f.fs, args, 1); !ok {
		return code
	}
	if f.fs.NArg() == 1 {
		if f.config != "" && f.config != f.fs.Arg(0) {
			fmt.Fprintf(stderr, "logveil check-config: both --config %s and %s given\n", f.config, f.fs.Arg(0))
			return exitConfig
		}
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
	warnWeakK(stderr, "check-config", cfg)
	return exitOK
}

// warnWeakK says so when k = 1 turns k-anonymity off.
func warnWeakK(stderr io.Writer, cmd string, cfg processor.Config) {
	if cfg.Stats.K == 1 || cfg.Stats.KSearch == 1 {
		fmt.Fprintf(stderr, "logveil %s: warning: stats.k %d, k_search %d: a value seen by a single visitor is published; k-anonymity is off\n",
			cmd, cfg.Stats.K, cfg.Stats.KSearch)
	}
}
