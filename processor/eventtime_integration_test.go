package processor_test

// Event time against the real broker: a raw partition that pauses and then
// delivers a backlog must not lose it from the statistics (README:
// guarantees, event time).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backlogLines writes n lines of the hour starting at hour, spread over it
// evenly (the last one second before its end), 200 visitors; line i goes to
// the chunk i%chunks.
func backlogLines(hour int64, n, chunks int) [][]byte {
	out := make([][]byte, chunks)
	for i := range n {
		t := time.Unix(hour+int64(i)*3599/int64(n-1), 0).UTC()
		out[i%chunks] = fmt.Appendf(out[i%chunks], "198.51.100.%d - - [%s] \"GET /articles/%d HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0\"\n",
			i%200+1, t.Format("02/Jan/2006:15:04:05 -0700"), i%20)
	}
	return out
}

// produceTo writes lines to one raw partition with kcat.
func (s *scenario) produceTo(partition int, lines []byte) {
	s.t.Helper()
	cmd := exec.Command("kcat", "-P", "-b", s.brokers, "-t", s.raw, "-p", strconv.Itoa(partition), "-X", "enable.idempotence=true")
	cmd.Stdin = bytes.NewReader(lines)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("kcat -P: %v\n%s", err, out)
	}
}

// metric reads one sample of the operations endpoint's /metrics: the sum
// of every series of name whose labels contain labels.
func (s *scenario) metric(name, labels string) float64 {
	s.t.Helper()
	r, err := http.Get("http://" + s.listen + "/metrics")
	if err != nil {
		return -1
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	sum := 0.0
	for _, l := range strings.Split(string(body), "\n") {
		series, value, ok := strings.Cut(l, " ")
		if !ok || !(series == name || strings.HasPrefix(series, name+"{")) || !strings.Contains(series, labels) {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		sum += v
	}
	return sum
}

// waitFor polls cond every 200 ms until it holds; fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDelayedBacklog: two raw partitions get two thirds of an hour three
// hours ago; logveil catches up and both partitions go idle; then one of
// them delivers the last third. The hour's final total must count all
// 3 000 views: idleness must not have closed a window that still gets data.
// Hits that arrive after the window did close are counted as late where an
// operator sees them (the metric, the day's privacy row).
func TestDelayedBacklog(t *testing.T) {
	s := newScenario(t, 2)
	s.listen = freeAddr(t)
	hour := time.Now().Unix()/3600*3600 - 3*3600
	if (hour+3600)%86400 == 0 {
		hour -= 3600 // the day's window must outlast the hour's
	}
	chunks := backlogLines(hour, 3000, 3)
	s.produceTo(0, chunks[0])
	s.produceTo(1, chunks[1])
	// Lateness 45 s: after both partitions go idle (5 s without records) the
	// test waits 12 s before the backlog; the hour must then still be open.
	s.start("LOGVEIL_KAFKA_PARTITIONS=2", "LOGVEIL_STATS_LATENESS=45s", "LOGVEIL_KAFKA_STATS_EMIT_INTERVAL=300ms")
	waitFor(t, 90*time.Second, "2 000 records in", func() bool { return s.metric("logveil_records_in_total", "") >= 2000 })
	// Both partitions caught up; the reader says a partition is idle after
	// 5 s without records.
	time.Sleep(12 * time.Second)
	s.produceTo(1, chunks[2])
	waitFor(t, 30*time.Second, "3 000 hits aggregated", func() bool { return s.metric("logveil_stats_hits_total", "") >= 3000 })

	window := time.Unix(hour, 0).UTC().Format(time.RFC3339) + "|1h0m0s|total|"
	total := func() (views int64, final bool) {
		table, err := s.statsTable()
		if err != nil {
			return 0, false
		}
		var r struct {
			Views int64
			Final bool
		}
		json.Unmarshal([]byte(table[window]), &r)
		return r.Views, r.Final
	}
	waitFor(t, 3*time.Minute, "the hour's final total", func() bool { _, final := total(); return final })
	if views, _ := total(); views != 3000 {
		t.Errorf("the hour's final total counts %d views of 3000 (late: %v)", views, s.metric("logveil_stats_late_total", ""))
	}
	if late := s.metric("logveil_stats_late_total", ""); late != 0 {
		t.Errorf("%v hits counted as late", late)
	}

	// Past the lateness: 100 more hits of the closed hour are late, and say so.
	late := backlogLines(hour, 100, 1)[0]
	s.produceTo(0, late)
	waitFor(t, 60*time.Second, "100 late hits counted", func() bool {
		return s.metric("logveil_stats_late_total", `window="1h"`) >= 100
	})
	if views, _ := total(); views != 3000 {
		t.Errorf("the final hour changed to %d views after it closed", views)
	}
	day := time.Unix(hour/86400*86400, 0).UTC().Format(time.RFC3339) + "|24h0m0s|privacy|"
	waitFor(t, 30*time.Second, "the day's privacy row to count them", func() bool {
		table, _ := s.statsTable()
		var r struct {
			LateEvents int64 `json:"late_events"`
		}
		json.Unmarshal([]byte(table[day]), &r)
		return r.LateEvents == 100
	})
}
