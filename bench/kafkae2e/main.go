// Command kafkae2e measures logveil end to end through a real Kafka broker:
// lines per second from the first produce to the last output acknowledged
// (logveil counts a record in only after its outputs are acked), with the
// CPU time and peak RSS of the logveil process and of the broker.
//
//	go run ./bench/kafkae2e --brokers 127.0.0.1:9092 --lines 1000000 --logveil /tmp/logveil
package main

import (
	"bufio"
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

	"github.com/logveil/logveil/internal/loggen"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	lines := flag.Int("lines", 1000000, "lines to produce")
	partitions := flag.Int("partitions", 6, "raw topic partitions")
	bin := flag.String("logveil", "logveil", "logveil binary")
	brokerPid := flag.Int("broker-pid", 0, "broker pid, to report its CPU and RSS")
	visits := flag.Bool("visits", true, "write the visits topic and run the statistics stages (the end is when the aggregate stage has read every hit)")
	flag.Parse()
	if err := run(*brokers, *lines, *partitions, *bin, *brokerPid, *visits); err != nil {
		fmt.Fprintln(os.Stderr, "kafkae2e:", err)
		os.Exit(1)
	}
}

func run(brokers string, n, partitions int, bin string, brokerPid int, visits bool) error {
	ctx := context.Background()
	id := strconv.FormatInt(time.Now().Unix(), 36)
	raw, prefix := "bench-raw-"+id, "bench-"+id
	c := &kafka.Client{Addr: kafka.TCP(brokers), Timeout: 30 * time.Second}
	resp, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: raw, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err == nil {
		err = resp.Errors[raw]
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", raw, err)
	}
	// Pre-generate so the generator's cost is not measured.
	var buf bytes.Buffer
	loggen.New(loggen.Options{Seed: 1, Start: time.Now().Add(-2 * time.Hour).Unix(), Rate: float64(n) / 3600}).WriteN(&buf, n)
	msgs := make([]kafka.Message, 0, n)
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		msgs = append(msgs, kafka.Message{Value: l})
	}

	cmd := exec.Command(bin, "run", "--brokers", brokers, "--input-topics", raw, "--topic-prefix", prefix,
		"--group-id", prefix, "--listen", "127.0.0.1:19464")
	cmd.Env = append(os.Environ(), "LOGVEIL_KAFKA_PARTITIONS="+strconv.Itoa(partitions), "LOGVEIL_KAFKA_VISITS="+strconv.FormatBool(visits),
		"LOGVEIL_HTTP_PPROF=true")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for !ready() {
		time.Sleep(100 * time.Millisecond)
	}
	cpu0, brokerCPU0 := cpuSeconds(cmd.Process.Pid), cpuSeconds(brokerPid)

	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: raw, Balancer: &kafka.RoundRobin{}, BatchSize: 10000,
		BatchBytes: 16 << 20, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, Compression: kafka.Zstd}
	if p := os.Getenv("KAFKAE2E_PROFILE"); p != "" {
		go func() {
			r, err := http.Get("http://127.0.0.1:19464/debug/pprof/profile?seconds=5")
			if err == nil {
				f, _ := os.Create(p)
				io.Copy(f, r.Body)
				f.Close()
				r.Body.Close()
			}
		}()
	}
	start := time.Now()
	for i := 0; i < len(msgs); i += 50000 {
		if err := w.WriteMessages(ctx, msgs[i:min(i+50000, len(msgs))]...); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	produced := time.Since(start)
	w.Close()
	for {
		if in := metric("logveil_records_in_total"); in >= float64(n) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if visits {
		// Statistics on: until the aggregate stage has read every hit.
		want := metric(`logveil_records_out_total{topic="` + prefix + `.visits"}`)
		for metric("logveil_stats_hits_total") < want {
			time.Sleep(20 * time.Millisecond)
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
	cpu := cpuSeconds(cmd.Process.Pid) - cpu0
	fmt.Printf("lines %d, partitions %d, visits and statistics %v\n", n, partitions, visits)
	fmt.Printf("produce done after %.2fs; last output acknowledged after %.2fs\n", produced.Seconds(), elapsed.Seconds())
	fmt.Printf("end to end: %.0f lines/s\n", float64(n)/elapsed.Seconds())
	fmt.Printf("logveil: CPU %.2fs (%.2f cores), peak RSS %d MiB\n", cpu, cpu/elapsed.Seconds(), peakRSS(cmd.Process.Pid)>>10)
	if brokerPid != 0 {
		bc := cpuSeconds(brokerPid) - brokerCPU0
		fmt.Printf("broker:  CPU %.2fs (%.2f cores), peak RSS %d MiB\n", bc, bc/elapsed.Seconds(), peakRSS(brokerPid)>>10)
	}
	return nil
}

func ready() bool {
	r, err := http.Get("http://127.0.0.1:19464/readyz")
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == 200
}

func metric(name string) float64 {
	r, err := http.Get("http://127.0.0.1:19464/metrics")
	if err != nil {
		return 0
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// cpuSeconds reads utime+stime of pid from /proc (Linux).
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// peakRSS reads VmHWM (KiB) of pid.
func peakRSS(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
