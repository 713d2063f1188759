package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
)

// The configuration keys whose flags each kind of command has; the config
// package binds them (and --config) and applies file, environment and
// flags in that order.
var (
	kafkaKeys = []string{"kafka.brokers", "kafka.topic_prefix"}
	runKeys   = append(kafkaKeys, "kafka.group_id", "kafka.input_topics", "http.listen", "anonymize.country_db", "anonymize.asn_db", "stages")
)

// loadSettings loads the configuration through b and resolves it; an
// error is printed as the command's and reported as false.
func loadSettings(cmd string, b *config.Binder, stderr io.Writer) (config.Settings, bool) {
	cfg, err := b.Load()
	if err == nil {
		var s config.Settings
		if s, err = cfg.Resolve(); err == nil {
			return s, true
		}
		err = cfg.Explain(err)
	}
	fmt.Fprintf(stderr, "logveil %s: invalid config: %v\n", cmd, err)
	return config.Settings{}, false
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

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func cmdRun(args []string, stderr io.Writer) int {
	fs := newFlagSet("run", stderr, "logveil run [flags]",
		"Runs the Kafka stream processor: anonymize, aggregate and merge (or --stages), until SIGINT or SIGTERM.",
		"logveil run --config deploy/logveil.yaml --brokers 127.0.0.1:9092")
	b := config.Bind(fs, runKeys...)
	if code, ok := parseArgs(fs, args, 0); !ok {
		return code
	}
	cfg, ok := loadSettings("run", b, stderr)
	if !ok {
		return exitConfig
	}
	log := newLogger(cfg.LogFormat, stderr)
	warnWeakK(stderr, "run", cfg)
	limit, why := cfg.ApplyMemoryLimit()
	log.Info("memory limit", "bytes", limit, "from", why)
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
	fs := newFlagSet("check-config", stderr, "logveil check-config [flags] [FILE]",
		"Validates a config (FILE or --config), with the LOGVEIL_* environment and the flags over it, and prints\nthe effective configuration, secrets masked. Exit 2 names the field and the value that is wrong.",
		"logveil check-config deploy/logveil.yaml")
	b := config.Bind(fs, runKeys...)
	if code, ok := parseArgs(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() == 1 {
		if b.File() != "" && b.File() != fs.Arg(0) {
			fmt.Fprintf(stderr, "logveil check-config: both --config %s and %s given\n", b.File(), fs.Arg(0))
			return exitConfig
		}
		b.SetFile(fs.Arg(0))
	}
	cfg, ok := loadSettings("check-config", b, stderr)
	if !ok {
		return exitConfig
	}
	if err := cfg.CheckStream(); err != nil {
		fmt.Fprintf(stderr, "logveil check-config: invalid config: %v\n", cfg.Explain(err))
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
func warnWeakK(stderr io.Writer, cmd string, cfg config.Settings) {
	if cfg.Stats.K == 1 || cfg.Stats.KSearch == 1 {
		fmt.Fprintf(stderr, "logveil %s: warning: stats.k %d, k_search %d: a value seen by a single visitor is published; k-anonymity is off\n",
			cmd, cfg.Stats.K, cfg.Stats.KSearch)
	}
}
