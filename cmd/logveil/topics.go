package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
	"github.com/segmentio/kafka-go"
)

// cmdCreateTopic creates raw input topics (logveil creates its own output
// topics itself; it never creates input topics, so a typo cannot).
func cmdCreateTopic(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("create-topic", stderr, "logveil create-topic [flags] TOPIC...",
		"Creates raw input topics with a short retention (they hold personal data), over the configured TLS and SASL\n(--config, LOGVEIL_KAFKA_*). logveil creates its own output topics; it never creates input topics, so a typo\nin kafka.input_topics cannot.",
		"logveil create-topic --brokers 127.0.0.1:9092 --partitions 6 access-logs")
	b := config.Bind(fs, "kafka.brokers")
	partitions := fs.Int("partitions", 6, "partitions (the most instances that can share the work)")
	rf := fs.Int("replication-factor", 1, "replication factor")
	retention := fs.Duration("retention", 24*time.Hour, "retention: raw lines are personal data, keep them briefly")
	if code, ok := parseArgs(fs, args, -1); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: logveil create-topic [--brokers B] [--partitions N] [--retention 24h] TOPIC...")
		return exitConfig
	}
	cfg, ok := loadSettings("create-topic", b, stderr)
	if !ok {
		return exitConfig
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results, err := processor.CreateInputTopics(ctx, cfg.Kafka, fs.Args(), *partitions, *rf, *retention)
	if err != nil {
		fmt.Fprintf(stderr, "logveil create-topic: %v\n", err)
		return exitIO
	}
	code := exitOK
	for _, t := range fs.Args() {
		switch err := results[t]; {
		case err == nil:
			fmt.Fprintf(stdout, "created %s (%d partitions, retention %s)\n", t, *partitions, retention)
		case errors.Is(err, kafka.TopicAlreadyExists):
			fmt.Fprintf(stdout, "%s already exists\n", t)
		default:
			fmt.Fprintf(stderr, "logveil create-topic: %s: %v\n", t, err)
			code = exitIO
		}
	}
	return code
}
