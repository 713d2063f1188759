package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logveil/logveil/internal/syncbuf"
)

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDemoPortWithKcat runs `logveil demo --port P` as a newcomer would,
// reads its events with kcat (librdkafka, a client logveil did not write) and
// its statistics with `logveil stats`, then interrupts it: it prints a final
// summary and exits 0.
func TestDemoPortWithKcat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the demo for several seconds")
	}
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Skip("kcat is not installed (apt-get install kcat)")
	}
	bin := testBinary(t)
	broker := freeAddr(t)
	_, port, _ := net.SplitHostPort(broker)

	var stdout, stderr syncbuf.Buffer
	demo := exec.Command(bin, "demo", "--port", port, "--rate", "2000")
	demo.Stdout, demo.Stderr = &stdout, &stderr
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- demo.Wait() }()
	t.Cleanup(func() {
		demo.Process.Kill()
		if t.Failed() {
			t.Logf("demo stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})

	poll := func(what string, try func() (bool, string)) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			ok, last := try()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60s (last: %s)", what, last)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	poll("kcat reads 20 events", func() (bool, string) {
		out, err := exec.Command("kcat", "-C", "-b", broker, "-t", "logveil.events", "-o", "beginning", "-c", "20", "-e", "-q").CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil || len(lines) < 20 {
			return false, string(out)
		}
		for _, line := range lines {
			var ev struct {
				SchemaVersion int    `json:"schema_version"`
				ID            string `json:"id"`
				ClientNetwork string `json:"client_network"`
			}
			// k-anonymous events write the network only in a class of k
			// visitors: when there, it is a network, never an address.
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.SchemaVersion != 1 || ev.ID == "" ||
				ev.ClientNetwork != "" && !strings.Contains(ev.ClientNetwork, "/") {
				t.Fatalf("not an anonymized event: %q", line)
			}
		}
		return true, ""
	})
	poll("logveil stats reads a total row", func() (bool, string) {
		out, err := exec.Command(bin, "stats", "--brokers", broker, "--dimension", "total", "--json").Output()
		var row struct {
			Views int64 `json:"views"`
		}
		first, _, _ := bytes.Cut(out, []byte("\n"))
		if err != nil || json.Unmarshal(first, &row) != nil || row.Views == 0 {
			return false, string(out)
		}
		return true, ""
	})

	poll("logveil stats --csv --range 7d combines the daily rows", func() (bool, string) {
		out, err := exec.Command(bin, "stats", "--brokers", broker, "--dimension", "total", "--csv", "--range", "7d").Output()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil || len(lines) < 2 || !strings.HasPrefix(lines[0], "window_start,window_size,range,site,dimension,value,views") ||
			!strings.Contains(lines[1], ",7d,,total,") {
			return false, string(out)
		}
		return true, ""
	})

	// logveil stats --serve: the page and its JSON over the demo's broker.
	web := freeAddr(t)
	serve := exec.Command(bin, "stats", "--brokers", broker, "--serve", web, "--refresh", "1s")
	var serveLog syncbuf.Buffer
	serve.Stdout, serve.Stderr = &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		if err := serve.Wait(); err != nil {
			t.Errorf("stats --serve after SIGTERM: %v\n%s", err, serveLog.String())
		}
	}()
	poll("stats --serve answers /api/stats", func() (bool, string) {
		resp, err := http.Get("http://" + web + "/api/stats?dimension=total&window=1h")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var rows []struct {
			Dimension  string `json:"dimension"`
			WindowSize string `json:"window_size"`
			Views      int64  `json:"views"`
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&rows) != nil || len(rows) == 0 {
			return false, resp.Status
		}
		for _, r := range rows {
			if r.Dimension != "total" || r.WindowSize != "1h0m0s" || r.Views == 0 {
				t.Fatalf("/api/stats?dimension=total&window=1h gave %+v", r)
			}
		}
		return true, ""
	})
	if resp, err := http.Get("http://" + web + "/api/stats.csv?dimension=total&site=all"); err != nil || resp.StatusCode != 200 ||
		resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("stats --serve /api/stats.csv: %v %v", err, resp)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), "window_start,window_size,range,site,dimension") || !strings.Contains(string(body), ",total,") {
			t.Errorf("/api/stats.csv: %.300s", body)
		}
	}
	if resp, err := http.Get("http://" + web + "/"); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("stats --serve page: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	if err := demo.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("demo after SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo still running 30s after SIGINT")
	}
	if out := stdout.String(); !strings.Contains(out, "[final") || !strings.Contains(out, "sample event:") {
		t.Errorf("no final summary after SIGINT")
	}
}
