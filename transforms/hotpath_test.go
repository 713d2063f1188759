package transforms

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// sampleLines are realistic lines: browsers, bots, IPv6, searches, ids.
var sampleLines = [][]byte{
	[]byte(`81.2.69.200 - - [27/Nov/2026:10:15:32 +0100] "GET /products/12345/reviews?utm_source=newsletter&sid=8f3a HTTP/2.0" 200 5123 "https://www.google.com/search?q=shoes" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"`),
	[]byte(`2a02:cf40::1a2b - - [27/Nov/2026:10:15:33 +0100] "GET /search?q=red+running+shoes&page=2 HTTP/1.1" 200 18211 "https://shop.example.com/" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"`),
	[]byte(`89.160.20.7 - - [27/Nov/2026:10:15:34 +0100] "GET /blog/how-we-anonymize-logs HTTP/1.1" 200 9932 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"`),
	[]byte(`216.160.83.56 - - [27/Nov/2026:10:15:35 +0100] "POST /account/reset/9f86d081884c7d659a2feaa0c55ad015 HTTP/1.1" 302 0 "https://shop.example.com/account" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"`),
}

func benchWorker(tb testing.TB) *Worker {
	a := newTestAnonymizer(tb, Config{CountryDB: geoip2CountryDB(tb), ASNDB: asnDB(tb)})
	return a.NewWorker()
}

// TestNoAllocs locks in the zero-allocation steady state of parse → enrich →
// anonymize → encode, for both encoders.
func TestNoAllocs(t *testing.T) {
	w := benchWorker(t)
	dst := make([]byte, 0, 4096)
	run := func() {
		for _, l := range sampleLines {
			if err := w.Process(l); err != nil {
				t.Fatal(err)
			}
			dst = w.AppendJSON(dst[:0], &w.Rec, nil)
			dst = w.AppendLine(dst[:0], &w.Rec)
		}
	}
	run() // warm caches and buffers
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per %d lines, want 0", n, len(sampleLines))
	}
	bad := []byte(`not a log line from 10.1.2.3 or a@b.co`)
	rejected := func() {
		if w.Process(bad) == nil {
			t.Fatal("accepted")
		}
		dst = w.AppendRedactedLine(dst[:0], bad)
	}
	rejected()
	if n := testing.AllocsPerRun(100, rejected); n != 0 {
		t.Errorf("%v allocations per rejected line, want 0", n)
	}
}

// TestNoAllocsPopulation: the same with the path decided by population
// (lexicon lookups, candidates, Admit).
func TestNoAllocsPopulation(t *testing.T) {
	w := benchWorker(t)
	w.Population = true
	dst, buf := make([]byte, 0, 4096), make([]byte, 0, 256)
	run := func() {
		for _, l := range sampleLines {
			if err := w.Process(l); err != nil {
				t.Fatal(err)
			}
			buf = w.Rec.Admit(0, buf)
			dst = w.AppendJSON(dst[:0], &w.Rec, nil)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per %d lines, want 0", n, len(sampleLines))
	}
}

// BenchmarkProcessJSONPopulation is BenchmarkProcessJSON with the path
// decided by population (what the engine does with k-anonymous events,
// less the census).
func BenchmarkProcessJSONPopulation(b *testing.B) {
	w := benchWorker(b)
	w.Population = true
	dst, buf := make([]byte, 0, 4096), make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := w.Process(sampleLines[i%len(sampleLines)]); err != nil {
			b.Fatal(err)
		}
		buf = w.Rec.Admit(0, buf)
		dst = w.AppendJSON(dst[:0], &w.Rec, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkProcessJSON(b *testing.B) {
	w := benchWorker(b)
	dst := make([]byte, 0, 4096)
	total := 0
	for _, l := range sampleLines {
		total += len(l)
	}
	b.SetBytes(int64(total / len(sampleLines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := w.Process(sampleLines[i%len(sampleLines)]); err != nil {
			b.Fatal(err)
		}
		dst = w.AppendJSON(dst[:0], &w.Rec, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkProcessLine(b *testing.B) {
	w := benchWorker(b)
	dst := make([]byte, 0, 4096)
	b.SetBytes(int64(len(sampleLines[0])))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := w.Process(sampleLines[i%len(sampleLines)]); err != nil {
			b.Fatal(err)
		}
		dst = w.AppendLine(dst[:0], &w.Rec)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkParseCombined(b *testing.B) {
	var r Raw
	b.SetBytes(int64(len(sampleLines[0])))
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(Combined, sampleLines[0], &r); err != nil {
			b.Fatal(err)
		}
	}
}

// --- property: planted identifiers never survive ---

// plantedLine builds a line with an address and an email planted in every
// field logveil reads, and returns the identifiers that must not survive.
func plantedLine(rng *rand.Rand) (string, []string) {
	v4 := func() string {
		return fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	}
	v6 := func() string {
		return fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(65536), 1+rng.IntN(65535), 1+rng.IntN(65535))
	}
	email := func() string {
		return fmt.Sprintf("user%d.x%d@mail%d.example.org", rng.IntN(1e6), rng.IntN(100), rng.IntN(100))
	}
	enc := func(s string) string {
		switch rng.IntN(3) {
		case 0:
			return s
		case 1:
			return stringsReplacer.Replace(s)
		default:
			return stringsReplacer.Replace(stringsReplacer.Replace(s))
		}
	}
	client, inPath, inQuery, inRef, inUA, inSearch := v4(), v4(), v6(), v4(), v6(), v4()
	if rng.IntN(2) == 0 {
		client = v6()
	}
	e1, e2, e3, e4 := email(), email(), email(), email()
	line := fmt.Sprintf(`%s - %s [27/Nov/2026:10:15:32 +0100] "GET /x/%s/%s?utm_source=%s&email=%s&q=%s+%s HTTP/1.1" 200 1 "https://%s/%s?ip=%s" "Mozilla/5.0 (%s; %s) Chrome/120.0"`,
		client, e1, enc(inPath), enc(e2), enc(inQuery), enc(e3), enc(inSearch), enc(e4),
		inRef, e1, inQuery, inUA, e2)
	return line, []string{inPath, inQuery, inRef, inUA, inSearch, e1, e2, e3, e4, client}
}

var stringsReplacer = newPercentEncoder()

type percentEncoder struct{}

func newPercentEncoder() percentEncoder { return percentEncoder{} }

// Replace percent-encodes '@', ':' and '.' (what real clients and attackers do).
func (percentEncoder) Replace(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '@', ':', '.', '%':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestPlantedIdentifiersNeverSurvive(t *testing.T) {
	w := benchWorker(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		line, secrets := plantedLine(rng)
		if err := w.Process([]byte(line)); err != nil {
			t.Fatalf("Process(%q): %v", line, err)
		}
		outs := [][]byte{w.AppendJSON(nil, &w.Rec, nil), w.AppendLine(nil, &w.Rec), AppendRedactedLine(nil, []byte(line))}
		for _, out := range outs {
			for _, s := range secrets {
				if bytes.Contains(out, []byte(s)) {
					t.Fatalf("%q survived\n in: %s\nout: %s", s, line, out)
				}
			}
			checkNoHostBits(t, line, out, 24, 32)
		}
	}
}
