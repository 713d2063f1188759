// Package probe starts what the bench commands measure — a raw topic and
// a `logveil run` process — and reads it: readiness and metrics over HTTP,
// CPU time, memory and open files from /proc (Linux).
package probe

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// Ready: GET http://addr/readyz answers 200.
func Ready(addr string) bool {
	r, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == 200
}

// Metric is the value of one sample of http://addr/metrics, named with its
// labels as the exposition writes them (0 when absent).
func Metric(addr, name string) float64 {
	r, err := http.Get("http://" + addr + "/metrics")
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

// CPUSeconds is utime+stime of pid (0 for pid 0).
func CPUSeconds(pid int) float64 {
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

// Status is a KiB figure of /proc/pid/status: "VmRSS:", "VmHWM:" (peak RSS).
func Status(pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// OpenFiles counts pid's open file descriptors.
func OpenFiles(pid int) int64 {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return int64(len(ents))
}

// CreateTopic creates topic with partitions (replication 1).
func CreateTopic(brokers, topic string, partitions int) error {
	c := &kafka.Client{Addr: kafka.TCP(brokers), Timeout: 30 * time.Second}
	resp, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err == nil {
		err = resp.Errors[topic]
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", topic, err)
	}
	return nil
}

// Logveil is a `logveil run` process the bench started.
type Logveil struct {
	Cmd    *exec.Cmd
	Stderr bytes.Buffer
}

// StartRun starts `bin run` on the raw topic, with prefix as topic prefix
// and group, serving on listen, with env added to this process's, and
// returns once it is ready.
func StartRun(bin, brokers, raw, prefix, listen string, env ...string) (*Logveil, error) {
	lv := &Logveil{Cmd: exec.Command(bin, "run", "--brokers", brokers, "--input-topics", raw, "--topic-prefix", prefix,
		"--group-id", prefix, "--listen", listen)}
	lv.Cmd.Env = append(os.Environ(), env...)
	lv.Cmd.Stderr = &lv.Stderr
	if err := lv.Cmd.Start(); err != nil {
		return nil, err
	}
	for !Ready(listen) {
		if lv.Exited() {
			return nil, fmt.Errorf("logveil exited: %s", lv.Stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return lv, nil
}

// Exited: the process has ended (and been waited for).
func (lv *Logveil) Exited() bool { return lv.Cmd.ProcessState != nil }

// Stop interrupts the process and waits for it.
func (lv *Logveil) Stop() { lv.Cmd.Process.Signal(os.Interrupt); lv.Cmd.Wait() }
