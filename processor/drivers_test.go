package processor_test

// The drivers agree: the same lines through logveil run's anonymize stage
// (on an in-process broker), the pipe (logveil anonymize) and batch mode
// (logveil aggregate) give the same events, rejects and statistics, since
// all three run the engine's one per-line loop.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/transforms"
)

// driverLines are generated lines ending at an hour's boundary two hours
// ago, with the lines shippers and servers also send: CRLF endings, a line
// over max_line_bytes, Apache and nginx error-log lines, an empty line and
// junk.
func driverLines(t *testing.T) []string {
	end := time.Now().Unix()/3600*3600 - 2*3600
	var buf bytes.Buffer
	const n, rate = 3000, 0.3
	loggen.New(loggen.Options{Seed: 21, Start: loggen.StartFor(end-60, n, rate), Rate: rate, Visitors: 300, Pages: 40}).WriteN(&buf, n)
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		i := strings.IndexByte(l, '[')
		if i < 0 || len(l) < i+27 {
			continue // loggen's malformed lines: the special ones below stand for them
		}
		tm, err := time.Parse("02/Jan/2006:15:04:05 -0700", l[i+1:i+27])
		if err != nil || tm.Unix() >= end {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) < 2000 {
		t.Fatalf("only %d lines", len(lines))
	}
	special := []string{
		lines[10] + "\r",
		strings.Replace(lines[20], `"GET /`, `"GET /`+strings.Repeat("x", 5000), 1),
		`[Sat Nov 28 10:00:01.123456 2026] [core:error] [pid 42] [client 203.0.113.9:5123] AH00126: Invalid URI in request GET /x?email=jdoe@example.com HTTP/1.1`,
		`2026/11/28 10:12:31 [error] 7#7: *1 open() "/srv/x" failed, client: 81.2.69.5, server: shop.example, request: "GET /a HTTP/1.1", host: "shop.example"`,
		"",
		"garbage \"from\" 203.0.113.9 jdoe@example.com",
		lines[30] + "\r",
	}
	for i, s := range special {
		at := 100 + i*300
		lines = append(lines[:at], append([]string{s}, lines[at:]...)...)
	}
	return lines
}

func TestDriversAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the stream processor until its hours close (about 20 s)")
	}
	lines := driverLines(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	c := config.Default()
	c.Kafka.Brokers, c.Kafka.InputTopics, c.Kafka.TopicPrefix = cluster.ListenAddrs(), []string{"raw"}, "lv"
	c.Kafka.Partitions, c.Kafka.StatsEmitInterval, c.Kafka.CommitInterval = 2, 200*time.Millisecond, 200*time.Millisecond
	c.HTTP.Listen = "-"
	c.Anonymize.MaxLineBytes = 4096
	// k-anonymous events depend on the population seen before a line is
	// written, which depends on the order and batches lines come in (a
	// Kafka fetch, the pipe's look-ahead): the rest is compared here, the
	// generalisation in TestKAnonymousEvents.
	c.Anonymize.EventsK = 1
	c.Stats.Windows, c.Stats.Lateness = []time.Duration{time.Hour}, 2*time.Second
	s, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}

	// The stream processor, all stages.
	w := &kafka.Writer{Addr: kafka.TCP(s.Kafka.Brokers...), Topic: "raw", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	msgs := make([]kafka.Message, len(lines))
	for i, l := range lines {
		msgs[i] = kafka.Message{Value: []byte(l + "\n")}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := processor.NewRunner(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	reader := processor.NewTopicReader(s.Kafka)
	defer reader.Close()
	read := func(topic string) []kafka.Message {
		var out []kafka.Message
		parts, err := reader.Partitions(context.Background(), topic)
		if err != nil {
			return nil
		}
		for _, p := range parts {
			reader.ReadRange(context.Background(), topic, p, 1<<20, func(first, _ int64) int64 { return first }, func(m kafka.Message) error {
				out = append(out, m)
				return nil
			})
		}
		return out
	}
	deadline := time.Now().Add(2 * time.Minute)
	var events, rejects []kafka.Message
	for {
		events, rejects = read("lv.events"), read("lv.rejected")
		if len(events)+len(rejects) >= len(lines) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(events)+len(rejects) != len(lines) {
		t.Fatalf("%d events and %d rejects for %d lines", len(events), len(rejects), len(lines))
	}
	var kafkaRows map[string]string
	var hours int
	for {
		kafkaRows, hours = map[string]string{}, 0
		final := true
		for _, m := range read("lv.stats") {
			if m.Value == nil {
				delete(kafkaRows, string(m.Key))
				continue
			}
			kafkaRows[string(m.Key)] = string(m.Value)
		}
		for k, v := range kafkaRows {
			if strings.Contains(k, "|total|") {
				hours++
				final = final && strings.Contains(v, `"final":true`)
			}
		}
		if final && hours >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}

	// The pipe and batch mode, over the same lines.
	anon, err := transforms.NewAnonymizer(s.Anonymize)
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	input := strings.Join(lines, "\n") + "\n"
	var out, rej bytes.Buffer
	sum, err := pipe.Run(anon, strings.NewReader(input), &out, pipe.Options{Rejects: &rej})
	if err != nil {
		t.Fatal(err)
	}
	_, rows, err := pipe.AggregateRows(s.Anonymize, s.Stats, strings.NewReader(input), pipe.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// Events: the same, in order, but for the Kafka ids.
	id := regexp.MustCompile(`,"id":"raw-0-[0-9]+"`)
	var kafkaEvents []string
	for _, m := range events {
		kafkaEvents = append(kafkaEvents, id.ReplaceAllString(string(m.Value), ""))
	}
	pipeEvents := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if !slices.Equal(kafkaEvents, pipeEvents) {
		t.Errorf("%d Kafka events, %d from the pipe; they differ", len(kafkaEvents), len(pipeEvents))
		for i := range min(len(kafkaEvents), len(pipeEvents)) {
			if kafkaEvents[i] != pipeEvents[i] {
				t.Errorf("first difference, event %d:\n kafka %s\n  pipe %s", i, kafkaEvents[i], pipeEvents[i])
				break
			}
		}
	}
	if n := strings.Count(out.String(), `"type":"error"`); n != 2 {
		t.Errorf("%d error-log records, want 2", n)
	}
	// Rejects: the same reasons, and the same shapes (the pipe writes none
	// for an empty line).
	reasons := map[string]int64{}
	var shapes []string
	for _, m := range rejects {
		var r struct{ ID, Reason, Line string }
		if err := json.Unmarshal(m.Value, &r); err != nil || r.ID != string(m.Key) {
			t.Fatalf("reject %s: %v", m.Value, err)
		}
		reasons[r.Reason]++
		if r.Line != "" {
			shapes = append(shapes, r.Line)
		}
	}
	if fmt.Sprint(reasons) != fmt.Sprint(sum.Rejected) || len(reasons) != 3 {
		t.Errorf("reasons: Kafka %v, pipe %v", reasons, sum.Rejected)
	}
	if pipeShapes := strings.Split(strings.TrimSuffix(rej.String(), "\n"), "\n"); !slices.Equal(shapes, pipeShapes) {
		t.Errorf("reject shapes: Kafka %q, pipe %q", shapes, pipeShapes)
	}
	// Statistics: every hour's final rows, the same.
	batchRows := map[string]string{}
	for i := range rows {
		v, _ := json.Marshal(&rows[i])
		batchRows[string(rows[i].AppendKey(nil))] = string(v)
	}
	if hours < 3 || len(batchRows) < 100 {
		t.Fatalf("%d hours, %d rows: the input tests too little", hours, len(batchRows))
	}
	differ := 0
	for k, v := range batchRows {
		if kafkaRows[k] != v {
			if differ++; differ <= 5 {
				t.Errorf("%s:\n kafka %s\n batch %s", k, kafkaRows[k], v)
			}
		}
	}
	for k := range kafkaRows {
		if _, ok := batchRows[k]; !ok {
			t.Errorf("%s: only in Kafka's statistics", k)
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d rows differ", differ, len(batchRows))
	}
}
