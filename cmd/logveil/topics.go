package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// cmdCreateTopic creates raw input topics (logveil creates its own output
// topics itself; it never creates input topics, so a typo cannot).
func cmdCreateTopic(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("create-topic", stderr, "logveil create-topic [flags] TOPIC...",
		"Creates raw input topics with a short retention (they hold personal data). logveil creates its own\noutput topics; it never creates input topics, so a typo in kafka.input_topics cannot.",
		"logveil create-topic --brokers 127.0.0.1:9092 --partitions 6 access-logs")
	brokers := fs.String("brokers", "localhost:9092", "comma-separated bootstrap brokers")
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
	c := &kafka.Client{Addr: kafka.TCP(splitList(*brokers)...), Timeout: 20 * time.Second}
	var req kafka.CreateTopicsRequest
	for _, t := range fs.Args() {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: *partitions, ReplicationFactor: *rf,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: fmt.Sprint(retention.Milliseconds())}}})
	}
	resp, err := c.CreateTopics(context.Background(), &req)
	if err != nil {
		fmt.Fprintf(stderr, "logveil create-topic: %v\n", err)
		return exitIO
	}
	code := exitOK
	for _, t := range fs.Args() {
		switch err := resp.Errors[t]; {
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
