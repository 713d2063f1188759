// Command soak runs `logveil run` (every stage: anonymize, census,
// aggregate, merge) for several simulated days of traffic through a real
// Kafka broker, with event time running faster than the wall clock, so that
// hourly and daily windows open and close, visitors' days end and the
// census forgets past days. It samples the logveil process's RSS, Go heap,
// goroutines and open files while it runs and prints them at the end of
// each simulated day: memory must reach a plateau, not a slope.
//
//	go build -o /tmp/logveil ./cmd/logveil
//	go run ./bench/soak --brokers 127.0.0.1:9092 --logveil /tmp/logveil --days 3 --lines-per-day 200000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/bench/internal/probe"
	"github.com/logveil/logveil/internal/loggen"
)

const listen = "127.0.0.1:19475" // not the integration tests' 19465

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	bin := flag.String("logveil", "logveil", "logveil binary")
	days := flag.Int("days", 3, "simulated days")
	perDay := flag.Int("lines-per-day", 200000, "lines of each simulated day")
	rate := flag.Int("rate", 10000, "lines produced per second of wall time")
	partitions := flag.Int("partitions", 3, "raw topic partitions")
	flag.StringVar(&heapDir, "heap", "", "write the heap profile of each day's end to this directory")
	env := flag.String("env", "", "comma-separated extra environment for logveil, e.g. LOGVEIL_MEMORY_LIMIT=256MiB")
	flag.Parse()
	if err := run(*brokers, *bin, *days, *perDay, *rate, *partitions, *env); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

var heapDir string

type sample struct {
	rss, heap, goroutines, fds int64
}

func run(brokers, bin string, days, perDay, rate, partitions int, env string) error {
	ctx := context.Background()
	id := strconv.FormatInt(time.Now().Unix(), 36)
	raw, prefix := "soak-raw-"+id, "soak-"+id
	if err := probe.CreateTopic(brokers, raw, partitions); err != nil {
		return err
	}
	lvEnv := []string{"LOGVEIL_KAFKA_PARTITIONS=" + strconv.Itoa(partitions), "LOGVEIL_KAFKA_VISITS=true",
		"LOGVEIL_HTTP_PPROF=true", // for a collection before each day's figures
		// Every simulated day lies in the past: its salt must still live,
		// or its visitors would have no pseudonyms (no visitor state).
		"LOGVEIL_KAFKA_SALT_RETENTION=" + strconv.Itoa(24*(days+2)) + "h"}
	if env != "" {
		lvEnv = append(lvEnv, strings.Split(env, ",")...)
	}
	lv, err := probe.StartRun(bin, brokers, raw, prefix, listen, lvEnv...)
	if err != nil {
		return err
	}
	defer lv.Stop()
	pid := lv.Cmd.Process.Pid

	// The days end now: the salts of every simulated day are within
	// salt_retention, and the clock of the last day is the wall clock's.
	start := time.Now().Add(-time.Duration(days) * 24 * time.Hour).Truncate(24 * time.Hour).Unix()
	gen := loggen.New(loggen.Options{Seed: 7, Start: start, Rate: 1.75 * float64(perDay) / 86400})
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: raw, Balancer: &kafka.RoundRobin{}, BatchSize: 5000,
		BatchBytes: 1000000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, Compression: kafka.Zstd}
	defer w.Close()

	var peak sample
	observe := func() sample {
		s := sample{rss: probe.Status(pid, "VmRSS:") << 10, heap: int64(probe.Metric(listen, "go_memstats_heap_inuse_bytes")),
			goroutines: int64(probe.Metric(listen, "go_goroutines")), fds: probe.OpenFiles(pid)}
		peak.rss, peak.heap = max(peak.rss, s.rss), max(peak.heap, s.heap)
		peak.goroutines, peak.fds = max(peak.goroutines, s.goroutines), max(peak.fds, s.fds)
		return s
	}
	fmt.Printf("soak: %d simulated days of %d lines, produced at %d lines/s, %d partitions, every stage\n", days, perDay, rate, partitions)
	fmt.Printf("%-5s %10s %10s %9s %11s %9s %8s\n", "day", "lines", "wall", "RSS MiB", "live heap MiB", "goroutines", "files")
	var produced int
	var buf bytes.Buffer
	t0 := time.Now()
	var days0 []sample
	for d := 0; d < days; d++ {
		for sent := 0; sent < perDay; {
			n := min(rate/10, perDay-sent)
			buf.Reset()
			gen.WriteN(&buf, n)
			msgs := make([]kafka.Message, 0, n)
			for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
				msgs = append(msgs, kafka.Message{Value: append([]byte(nil), l...)})
			}
			tick := time.Now()
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return fmt.Errorf("produce: %w", err)
			}
			sent += n
			produced += n
			observe()
			if rest := 100*time.Millisecond - time.Since(tick); rest > 0 {
				time.Sleep(rest)
			}
		}
		for probe.Metric(listen, "logveil_records_in_total") < float64(produced) {
			if lv.Exited() {
				return fmt.Errorf("logveil exited: %s", lv.Stderr.String())
			}
			observe()
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // the statistics stages catch up
		// The live heap: collect first (the heap profile's gc=1), so that
		// the figure is what is kept, not what awaits collection.
		if r, err := http.Get("http://" + listen + "/debug/pprof/heap?gc=1"); err == nil {
			var dst io.Writer = io.Discard
			if heapDir != "" {
				f, err := os.Create(fmt.Sprintf("%s/heap-day%d.prof", heapDir, d+1))
				if err != nil {
					return err
				}
				defer f.Close()
				dst = f
			}
			io.Copy(dst, r.Body)
			r.Body.Close()
		}
		s := observe()
		days0 = append(days0, s)
		fmt.Printf("%-5d %10d %9.0fs %9d %11d %9d %8d\n", d+1, produced, time.Since(t0).Seconds(), s.rss>>20, s.heap>>20, s.goroutines, s.fds)
	}
	fmt.Printf("peak  %10s %10s %9d %11d %9d %8d (VmHWM %d MiB; the heap's peak is in use, uncollected)\n", "", "", peak.rss>>20, peak.heap>>20, peak.goroutines, peak.fds, probe.Status(pid, "VmHWM:")>>10)
	for d := 1; d < len(days0); d++ {
		fmt.Printf("after day %d / after day 1: RSS %.2f, live heap %.2f\n", d+1, float64(days0[d].rss)/float64(days0[0].rss), float64(days0[d].heap)/float64(days0[0].heap))
	}
	fmt.Printf("late hits (every window closed): %.0f; stats rows written: %.0f\n", probe.Metric(listen, "logveil_stats_late_total"),
		probe.Metric(listen, `logveil_records_out_total{topic="`+prefix+`.stats"}`))
	return nil
}
