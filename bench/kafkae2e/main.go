// Command kafkae2e measures logveil end to end through a real Kafka broker:
// lines per second from the first produce (or, with --backlog, from
// logveil's start on a topic filled beforehand) to the last output
// acknowledged (logveil counts a record in only after its outputs are
// acked), with the CPU time and peak RSS of the logveil process and of the
// broker. --floor also copies the same raw topic with a consumer and a
// producer that do nothing else (kcat -C | kcat -P, zstd), side by side:
// the speed Kafka itself allows on this machine.
//
//	go run ./bench/kafkae2e --brokers 127.0.0.1:9092 --lines 1000000 --logveil /tmp/logveil --backlog --floor
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/bench/internal/probe"
	"github.com/logveil/logveil/internal/loggen"
)

const listen = "127.0.0.1:19464"

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	lines := flag.Int("lines", 1000000, "lines to produce")
	partitions := flag.Int("partitions", 6, "raw topic partitions")
	bin := flag.String("logveil", "logveil", "logveil binary")
	brokerPid := flag.Int("broker-pid", 0, "broker pid, to report its CPU and RSS")
	visits := flag.Bool("visits", true, "write the visits topic and run the statistics stages (the end is when the aggregate stage has read every hit)")
	flag.BoolVar(&backlog, "backlog", false, "fill the raw topic first, then start logveil: catching up a backlog")
	flag.BoolVar(&floor, "floor", false, "also copy the raw topic with kcat -C | kcat -P (no processing), before logveil runs")
	flag.StringVar(&extraEnv, "env", "", "comma-separated extra environment for logveil, e.g. LOGVEIL_MEMORY_LIMIT=128MiB")
	flag.Parse()
	if err := run(*brokers, *lines, *partitions, *bin, *brokerPid, *visits); err != nil {
		fmt.Fprintln(os.Stderr, "kafkae2e:", err)
		os.Exit(1)
	}
}

var (
	backlog, floor bool
	extraEnv       string
)

func run(brokers string, n, partitions int, bin string, brokerPid int, visits bool) error {
	ctx := context.Background()
	id := strconv.FormatInt(time.Now().Unix(), 36)
	raw, prefix := "bench-raw-"+id, "bench-"+id
	if err := probe.CreateTopic(brokers, raw, partitions); err != nil {
		return err
	}
	// Pre-generate so the generator's cost is not measured.
	var buf bytes.Buffer
	loggen.New(loggen.Options{Seed: 1, Start: time.Now().Add(-2 * time.Hour).Unix(), Rate: float64(n) / 3600}).WriteN(&buf, n)
	msgs := make([]kafka.Message, 0, n)
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		msgs = append(msgs, kafka.Message{Value: l})
	}

	produce := func() error {
		// Batches of at most 1 MB, as librdkafka (kcat, rsyslog, Vector's
		// Kafka sink) produces by default.
		w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: raw, Balancer: &kafka.RoundRobin{}, BatchSize: 10000,
			BatchBytes: 1000000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, Compression: kafka.Zstd}
		defer w.Close()
		for i := 0; i < len(msgs); i += 50000 {
			if err := w.WriteMessages(ctx, msgs[i:min(i+50000, len(msgs))]...); err != nil {
				return fmt.Errorf("produce: %w", err)
			}
		}
		return nil
	}
	if backlog {
		if err := produce(); err != nil {
			return err
		}
		fmt.Printf("backlog: %d lines in %s (%d partitions, zstd)\n", n, raw, partitions)
		// A backlog builds up over time: let the broker finish writing
		// this one before logveil (or the floor's copy) reads it.
		time.Sleep(5 * time.Second)
	}
	var floorTime time.Duration
	if floor {
		dst := raw + "-copy"
		if err := probe.CreateTopic(brokers, dst, partitions); err != nil {
			return err
		}
		var err error
		if floorTime, err = copyFloor(brokers, raw, n); err != nil {
			return err
		}
	}

	env := []string{"LOGVEIL_KAFKA_PARTITIONS=" + strconv.Itoa(partitions), "LOGVEIL_KAFKA_VISITS=" + strconv.FormatBool(visits),
		"LOGVEIL_HTTP_PPROF=true"}
	if extraEnv != "" {
		env = append(env, strings.Split(extraEnv, ",")...)
	}
	start := time.Now()
	lv, err := probe.StartRun(bin, brokers, raw, prefix, listen, env...)
	if err != nil {
		return err
	}
	defer lv.Stop()
	cmd := lv.Cmd
	cpu0, brokerCPU0 := probe.CPUSeconds(cmd.Process.Pid), probe.CPUSeconds(brokerPid)
	readyAfter := time.Since(start)
	if !backlog {
		start = time.Now()
	}

	if p := os.Getenv("KAFKAE2E_PROFILE"); p != "" {
		go func() {
			r, err := http.Get("http://127.0.0.1:19464/debug/pprof/profile?seconds=3")
			if err == nil {
				f, _ := os.Create(p)
				io.Copy(f, r.Body)
				f.Close()
				r.Body.Close()
			}
		}()
	}
	produced := time.Duration(0)
	if !backlog {
		if err := produce(); err != nil {
			return err
		}
		produced = time.Since(start)
	}
	for {
		if in := probe.Metric(listen, "logveil_records_in_total"); in >= float64(n) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if visits {
		// Statistics on: until the aggregate stage has read every hit.
		want := probe.Metric(listen, `logveil_records_out_total{topic="`+prefix+`.visits"}`)
		for probe.Metric(listen, "logveil_stats_hits_total") < want {
			time.Sleep(100 * time.Millisecond)
		}
		elapsed = time.Since(start)
	}
	if p := os.Getenv("KAFKAE2E_HEAP"); p != "" {
		if r, err := http.Get("http://127.0.0.1:19464/debug/pprof/heap"); err == nil {
			f, _ := os.Create(p)
			io.Copy(f, r.Body)
			f.Close()
			r.Body.Close()
		}
	}
	cpu := probe.CPUSeconds(cmd.Process.Pid) - cpu0
	fmt.Printf("lines %d, partitions %d, visits and statistics %v\n", n, partitions, visits)
	if backlog {
		fmt.Printf("caught up (last output acknowledged) %.2fs after logveil's start (ready after %.2fs)\n", elapsed.Seconds(), readyAfter.Seconds())
	} else {
		fmt.Printf("produce done after %.2fs; last output acknowledged after %.2fs\n", produced.Seconds(), elapsed.Seconds())
	}
	fmt.Printf("end to end: %.0f lines/s\n", float64(n)/elapsed.Seconds())
	if floorTime > 0 {
		fmt.Printf("logveil / floor: %.2f× the copy's time\n", elapsed.Seconds()/floorTime.Seconds())
	}
	fmt.Printf("logveil: CPU %.2fs (%.2f cores), peak RSS %d MiB\n", cpu, cpu/elapsed.Seconds(), probe.Status(cmd.Process.Pid, "VmHWM:")>>10)
	if brokerPid != 0 {
		bc := probe.CPUSeconds(brokerPid) - brokerCPU0
		fmt.Printf("broker:  CPU %.2fs (%.2f cores), peak RSS %d MiB\n", bc, bc/elapsed.Seconds(), probe.Status(brokerPid, "VmHWM:")>>10)
	}
	return nil
}

// copyFloor copies the raw topic to a new one with kcat and nothing else:
// consume from the beginning to the end, produce with zstd and acks=all.
func copyFloor(brokers, raw string, n int) (time.Duration, error) {
	if _, err := exec.LookPath("kcat"); err != nil {
		return 0, fmt.Errorf("--floor needs kcat (apt-get install kcat)")
	}
	dst := raw + "-copy"
	start := time.Now()
	sh := fmt.Sprintf("kcat -C -b %s -t %s -o beginning -e -q -f '%%s\\n' | kcat -P -b %s -t %s -z zstd -X acks=all -X linger.ms=5",
		brokers, raw, brokers, dst)
	out, err := exec.Command("sh", "-c", sh).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", sh, err, out)
	}
	el := time.Since(start)
	fmt.Printf("floor: kcat -C | kcat -P copied %d lines in %.2fs: %.0f lines/s\n", n, el.Seconds(), float64(n)/el.Seconds())
	return el, nil
}
