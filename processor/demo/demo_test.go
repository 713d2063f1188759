package demo

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logveil/logveil/internal/syncbuf"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/transforms/stats"
)

// TestDemo runs the whole pipeline against the in-process broker: what a
// newcomer's first command does.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := Run(ctx, Options{Lines: 4000, Rate: 4000, Refresh: 500 * time.Millisecond, Config: config.Default()}, &out, log)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	// A newcomer's first run warns of nothing, during it or after it (a
	// reader left running once the broker had stopped logged "fetch failed;
	// retrying" after the final summary).
	time.Sleep(time.Second)
	if l := logs.String(); l != "" {
		t.Errorf("the demo logged warnings or errors:\n%s", l)
	}
	final := out.String()[strings.LastIndex(out.String(), "[final"):]
	m := regexp.MustCompile(`produced (\d+)  consumed (\d+) .*events (\d+)  rejected (\d+)`).FindStringSubmatch(final)
	if m == nil {
		t.Fatalf("no final summary:\n%s", out.String())
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if n(1) != 4000 || n(2) != 4000 || n(3)+n(4) != 4000 || n(4) == 0 {
		t.Errorf("final summary %q: want 4000 produced and consumed, events+rejected = 4000, some rejected", m[0])
	}
	if !regexp.MustCompile(`statistics, window \S+ \(1h, k-anonymous, final (true|false)\): views [1-9]\d* +visitors [1-9]`).MatchString(final) ||
		!regexp.MustCompile(`top pages: +/\S* \d+`).MatchString(final) || !strings.Contains(final, `sample event:  {"schema_version":1`) {
		t.Errorf("final summary lacks statistics or a sample event:\n%s", final)
	}
	// Without --geoip the demo's made-up table gives the generated public
	// addresses countries: the top one is not "unknown".
	m = regexp.MustCompile(`top countries: +([A-Z]{2}) \d+`).FindStringSubmatch(final)
	if m == nil || m[1] == "ZZ" || m[1] == "XP" {
		t.Errorf("top countries without the demo table's countries:\n%s", final)
	}
}

// TestSummaryBusiestHour: the summary shows the hour with the most views,
// not the newest, which may hold the feed's last minutes only.
func TestSummaryBusiestHour(t *testing.T) {
	w := newWatcher(nil)
	for i, r := range []stats.Row{
		{WindowStart: "2026-11-29T01:00:00Z", WindowSize: "1h0m0s", Dimension: "total", Views: 9000, Visitors: 900, Final: true},
		{WindowStart: "2026-11-29T01:00:00Z", WindowSize: "1h0m0s", Dimension: "search", Value: "red shoes", Views: 20, Visitors: 12, Final: true},
		{WindowStart: "2026-11-29T02:00:00Z", WindowSize: "1h0m0s", Dimension: "total", Views: 300, Visitors: 80, Final: true},
		{WindowStart: "2026-11-29T02:00:00Z", WindowSize: "1h0m0s", Site: "a.example", Dimension: "total", Views: 99999, Visitors: 9, Final: true},
		{WindowStart: "2026-11-29T00:00:00Z", WindowSize: "24h0m0s", Dimension: "total", Views: 9300, Visitors: 950},
	} {
		w.stats[strconv.Itoa(i)] = r
	}
	var out bytes.Buffer
	w.summary(&out)
	if !strings.Contains(out.String(), "window 2026-11-29T01:00:00Z (1h, k-anonymous, final true): views 9000  visitors 900") ||
		!strings.Contains(out.String(), "top searches:  red shoes 20") {
		t.Errorf("summary:\n%s\nwant the 01:00 window (the most views of the all-sites hours) and its searches", out.String())
	}
}
