package loggen

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/logveil/logveil/transforms"
)

func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := New(Options{Seed: 7}).WriteN(&a, 5000); err != nil {
		t.Fatal(err)
	}
	New(Options{Seed: 7}).WriteN(&b, 5000)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different output")
	}
	var c bytes.Buffer
	New(Options{Seed: 8}).WriteN(&c, 5000)
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds gave the same output")
	}
	if n := bytes.Count(a.Bytes(), []byte("\n")); n != 5000 {
		t.Fatalf("%d lines, want 5000", n)
	}
}

func TestMixes(t *testing.T) {
	var buf bytes.Buffer
	New(Options{Seed: 1, Malformed: 0.01}).WriteN(&buf, 20000)
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	var v6, search, bots, malformed int
	for _, l := range lines {
		switch {
		case len(l) == 0 || !bytes.Contains(l, []byte("HTTP/1.1\" ")):
			malformed++
			continue
		case bytes.IndexByte(l[:bytes.IndexByte(l, ' ')], ':') >= 0:
			v6++
		}
		if bytes.Contains(l, []byte("/search?q=")) {
			search++
		}
		if bytes.Contains(l, []byte("bot")) || bytes.Contains(l, []byte("curl/")) {
			bots++
		}
	}
	frac := func(n int) float64 { return float64(n) / float64(len(lines)) }
	if f := frac(v6); f < 0.1 || f > 0.3 {
		t.Errorf("IPv6 fraction %.2f, want about 0.2", f)
	}
	if frac(search) < 0.01 || frac(bots) < 0.02 || frac(malformed) < 0.005 || frac(malformed) > 0.02 {
		t.Errorf("search %.3f bots %.3f malformed %.3f", frac(search), frac(bots), frac(malformed))
	}
}

func BenchmarkLine(b *testing.B) {
	g := New(Options{Seed: 1})
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Line(buf[:0])
	}
}

// TestAddressesAreAllocated: with a real country database
// (LOGVEIL_TEST_COUNTRY_DB, e.g. from logveil fetch-geoip), fewer than 1 %
// of generated visitors are in no country, IPv6 included.
func TestAddressesAreAllocated(t *testing.T) {
	path := os.Getenv("LOGVEIL_TEST_COUNTRY_DB")
	if path == "" {
		t.Skip("LOGVEIL_TEST_COUNTRY_DB is not set (logveil fetch-geoip writes one)")
	}
	c := transforms.Default()
	c.CountryDB = path
	p, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := a.NewWorker()
	var buf bytes.Buffer
	New(Options{Seed: 9}).WriteN(&buf, 50000)
	unknown := map[bool]int{}
	total := map[bool]int{}
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if err := w.Process(line); err != nil {
			t.Fatal(err)
		}
		v6 := w.Rec.Network.Addr().Is6()
		total[v6]++
		if w.Rec.Country == transforms.CountryUnknown {
			unknown[v6]++
		}
	}
	for _, v6 := range []bool{false, true} {
		if share := float64(unknown[v6]) / float64(total[v6]); share > 0.01 || total[v6] == 0 {
			t.Errorf("IPv6 %v: %d of %d visitors in no country", v6, unknown[v6], total[v6])
		}
	}
}

// TestStartFor: lines generated from StartFor(end, n, rate) end about at
// end, at any hour of the day (the diurnal curve makes the same number of
// lines span minutes at the evening peak and hours at night).
func TestStartFor(t *testing.T) {
	const day = 1795996800 // 2026-11-30T00:00:00Z
	for h := int64(0); h < 24; h += 3 {
		for _, n := range []int{200, 20000, 100000} {
			end := day + h*3600
			g := New(Options{Seed: uint64(h) + 1, Start: StartFor(end, n, 50), Rate: 50})
			var buf []byte
			for range n {
				buf = g.Line(buf[:0])
			}
			span := float64(end - StartFor(end, n, 50))
			if d := g.now - float64(end); d > 0.05*span+120 || d < -0.05*span-120 {
				t.Errorf("hour %d, %d lines: the last line is %.0f s from end (span %.0f s)", h, n, d, span)
			}
		}
	}
}

// TestCap: no line is stamped past the ceiling, however fast lines come.
func TestCap(t *testing.T) {
	g := New(Options{Seed: 3, Start: 1795996800, Rate: 50})
	g.Cap(1795996800 + 60)
	var buf []byte
	for range 20000 { // about 400 s of lines at the peak rate: far past the ceiling
		buf = g.Line(buf[:0])
	}
	if g.now != 1795996800+60 {
		t.Errorf("clock at %.0f, want held at the ceiling %d", g.now, 1795996800+60)
	}
	if !strings.Contains(string(buf), "30/Nov/2026:00:01:00 +0000") {
		t.Errorf("last line %q not stamped at the ceiling", buf)
	}
}
