package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the whole pipeline against the in-process broker: what a
// newcomer's first command does.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	err := Run(ctx, Options{Lines: 4000, Rate: 4000, Refresh: 500 * time.Millisecond}, &out, log)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
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
