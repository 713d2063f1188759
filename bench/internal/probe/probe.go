// Package probe reads what the bench commands measure of a running
// logveil process: its readiness and metrics over HTTP, and its CPU time,
// memory and open files from /proc (Linux).
package probe

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
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
