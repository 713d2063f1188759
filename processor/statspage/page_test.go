package statspage

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/transforms/stats"
)

// hostile is a value as a stranger could have written it into a path or a
// search: the page must show it as text.
const hostile = `</script><script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`

// reportRows aggregates generated traffic and plants a hostile page row.
func reportRows(t *testing.T) []stats.Row {
	t.Helper()
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 5, Start: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC).Unix(), Rate: 5}).WriteN(&in, 30000)
	rows := aggregateRows(t, &in, nil)
	if len(rows) < 100 {
		t.Fatalf("%d rows", len(rows))
	}
	// In the newest hourly window: the one the page opens on.
	newest := ""
	for _, r := range rows {
		if r.WindowSize == "1h0m0s" {
			newest = max(newest, r.WindowStart)
		}
	}
	rows = append(rows, stats.Row{WindowStart: newest, WindowSize: "1h0m0s",
		Dimension: "page", Value: hostile, Views: 1e9, Visitors: 99, Final: true})
	return rows
}

func TestWriteReportEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReport(&b, reportRows(t), Source{Description: "test </script>"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Count(page, "</script>") != 3 { // the two JSON slots and the code
		t.Errorf("%d </script> in the page: a value closed its script element", strings.Count(page, "</script>"))
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="logveil-rows">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no rows slot")
	}
	var rows []stats.Row
	if err := json.Unmarshal([]byte(m[1]), &rows); err != nil || !slices.ContainsFunc(rows, func(r stats.Row) bool { return r.Value == hostile }) {
		t.Fatalf("embedded rows: %v", err)
	}
	// The page loads nothing from elsewhere: the only URL in it is the SVG
	// namespace (the rows hold referrer sites).
	if strings.Contains(reportPage, "https://") || strings.Count(reportPage, "http://") != strings.Count(reportPage, "http://www.w3.org/2000/svg") {
		t.Error("the page names another site")
	}
}

// statsCluster is an in-process broker holding a stats topic with rows.
func statsCluster(t *testing.T, rows []stats.Row) config.KafkaSettings {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "logveil.stats"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	c := config.Default()
	c.Kafka.Brokers = cluster.ListenAddrs()
	cfg := c.MustResolve().Kafka
	writeStatsRows(t, cfg, rows, nil)
	return cfg
}

// writeStatsRows writes rows, and tombstones for the keys of deleted, as the
// merge stage does.
func writeStatsRows(t *testing.T, cfg config.KafkaSettings, rows, deleted []stats.Row) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Brokers...), Topic: "logveil.stats", Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll} // kafka-go waits for no ack by default
	defer w.Close()
	var msgs []kafka.Message
	for i := range rows {
		v, _ := json.Marshal(&rows[i])
		msgs = append(msgs, kafka.Message{Key: rows[i].AppendKey(nil), Value: v})
	}
	for i := range deleted {
		msgs = append(msgs, kafka.Message{Key: deleted[i].AppendKey(nil)})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func newServer(t *testing.T, cfg config.KafkaSettings) *Server {
	t.Helper()
	s, err := NewServer(cfg, time.Minute, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStatsServer(t *testing.T) {
	rows := reportRows(t)
	cfg := statsCluster(t, rows)
	srv := httptest.NewServer(newServer(t, cfg))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	code, body := get("/api/stats")
	var got []stats.Row
	if code != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got) != len(rows) {
		t.Fatalf("/api/stats: %d, %d rows of %d", code, len(got), len(rows))
	}
	code, body = get("/api/stats?window=24h&dimension=page")
	got = nil
	if code != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got) == 0 {
		t.Fatalf("/api/stats filtered: %d %.200s", code, body)
	}
	for _, r := range got {
		if r.Dimension != "page" || r.WindowSize != "24h0m0s" {
			t.Fatalf("filter let through %+v", r)
		}
	}
	// A bad value is named by its parameter, never echoed.
	for _, q := range []string{"window=<script>soon", "since=<script>soon", "range=<script>soon"} {
		param := q[:strings.IndexByte(q, '=')]
		if code, body = get("/api/stats?" + q); code != 400 || !strings.Contains(body, param) || strings.Contains(body, "soon") {
			t.Errorf("bad %s: %d %q", param, code, body)
		}
	}
	// The page runs its one script by hash, and may not be framed.
	r, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "script-src 'unsafe-inline'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("page headers: %v", r.Header)
	}
	// The page carries the rows it opens on: the newest window's, and the
	// totals of every window, so it needs no fetch to show them.
	if code, body = get("/"); code != 200 || !strings.Contains(body, `"value":"/products/{id}"`) ||
		strings.Count(body, `"dimension":"total"`) != strings.Count(string(mustJSON(t, rows)), `"dimension":"total"`) {
		t.Errorf("page: %d, it does not carry its first view's rows", code)
	}
	if code, _ = get("/nothing"); code != 404 {
		t.Errorf("/nothing: %d", code)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStatsServerIncremental: later reads apply only what was written since
// (new rows, changed rows, tombstones), and windows before --since are let go.
func TestStatsServerIncremental(t *testing.T) {
	day := func(d int) string {
		return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -d).Format(time.RFC3339)
	}
	row := func(start, value string, views int64) stats.Row {
		return stats.Row{WindowStart: start, WindowSize: "24h0m0s", Dimension: "page", Value: value, Views: views, Visitors: 9, Final: true}
	}
	cfg := statsCluster(t, []stats.Row{row(day(40), "/old", 1), row(day(1), "/a", 10), row(day(1), "/b", 20)})
	s, err := NewServer(cfg, time.Nanosecond, "720h", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	views := func() map[string]int64 {
		t.Helper()
		rows, err := s.current(context.Background(), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Value] = r.Views
		}
		return m
	}
	if got := views(); len(got) != 2 || got["/a"] != 10 || got["/b"] != 20 {
		t.Fatalf("first read (the 40-day-old window is before --since 720h): %v", got)
	}
	first := maps.Clone(s.reader.next)
	writeStatsRows(t, cfg, []stats.Row{row(day(1), "/a", 11), row(day(0), "/c", 5)}, []stats.Row{row(day(1), "/b", 0)})
	if got := views(); len(got) != 2 || got["/a"] != 11 || got["/c"] != 5 {
		t.Fatalf("after an update, a new row and a tombstone: %v", got)
	}
	for p, off := range s.reader.next {
		if off < first[p] {
			t.Errorf("partition %d read back from %d (was at %d)", p, off, first[p])
		}
	}
	if _, err := NewServer(cfg, time.Second, "last week", nil); err == nil {
		t.Error("--since \"last week\" accepted")
	}
}

// chromiumDOM loads url in headless Chromium, lets its scripts run and
// returns the DOM they left, without the <wbr> elements that let table
// values wrap between path segments (chromiumDOMRaw keeps them).
func chromiumDOM(t *testing.T, url string) string {
	t.Helper()
	return withoutWbr(chromiumDOMRaw(t, url))
}

func withoutWbr(dom string) string { return strings.ReplaceAll(dom, "<wbr>", "") }

func chromiumDOMRaw(t *testing.T, url string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("LOGVEIL_TEST_BROWSER") != "" {
			t.Fatal("LOGVEIL_TEST_BROWSER is set but chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); CI sets LOGVEIL_TEST_BROWSER and runs this")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=10000", "--dump-dom", url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// checkRendered asserts the page's script ran to the end and drew the
// tables, and that the hostile value is text, not markup.
func checkRendered(t *testing.T, dom string) {
	t.Helper()
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Fatalf("the page's script did not finish rendering:\n%.3000s", dom)
	}
	for _, want := range []string{`<title>logveil statistics</title>`, `id="dim-page"`, `id="dim-country"`, `id="dim-search"`,
		`<td class="value">/products/{id}</td>`, "Page views", "Bounce rate"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	// The title check above fails if the hostile value ran; as text it is
	// serialized with <, > and & escaped.
	asText := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(hostile)
	if !strings.Contains(dom, `<td class="value">`+asText+`</td>`) {
		t.Error("the hostile value is not shown as text in the page table")
	}
	if regexp.MustCompile(`<img[ >]`).MatchString(dom) {
		t.Error("an <img> element was injected")
	}
}

// checkTicks: the chart has time labels and none overlaps another (a
// label's width estimated at 5.8 units a character of its 10 px text).
func checkTicks(t *testing.T, dom string) {
	t.Helper()
	ticks := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" text-anchor="(start|middle|end)" class="tick">([^<]*)</text>`).FindAllStringSubmatch(dom, -1)
	if len(ticks) == 0 {
		t.Fatal("the chart has no time labels")
	}
	var spans [][2]float64
	for _, m := range ticks {
		x, _ := strconv.ParseFloat(m[1], 64)
		w := 5.8 * float64(utf8.RuneCountInString(m[3]))
		a := map[string]float64{"start": x, "middle": x - w/2, "end": x - w}[m[2]]
		for _, s := range spans {
			if a < s[1] && a+w > s[0] {
				t.Errorf("time label %q (%.0f-%.0f) overlaps another (%.0f-%.0f)", m[3], a, a+w, s[0], s[1])
			}
		}
		spans = append(spans, [2]float64{a, a + w})
	}
}

// reportFile writes rows as a static report into a temporary directory
// and returns its path.
func reportFile(t *testing.T, rows []stats.Row, description string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), description+".html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteReport(f, rows, Source{Description: description}); err != nil {
		t.Fatal(err)
	}
	return path
}

// aggregateRows is what logveil aggregate computes of in, with the
// statistics' settings set changes (nil: the defaults).
func aggregateRows(t *testing.T, in io.Reader, set func(c *stats.Config)) []stats.Row {
	t.Helper()
	c := config.Default()
	if set != nil {
		set(&c.Stats)
	}
	s, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	_, rows, err := pipe.AggregateRows(s.Anonymize, s.Stats, in, pipe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestReportInBrowser opens a static report (file://) and the served page
// in a real browser.
func TestReportInBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("LOGVEIL_TEST_BROWSER") == "" {
		t.Skip("drives Chromium (about 45 s); run without -short, or set LOGVEIL_TEST_BROWSER=1")
	}
	rows := reportRows(t)
	path := reportFile(t, rows, "test")
	t.Run("static", func(t *testing.T) {
		raw := chromiumDOMRaw(t, "file://"+path)
		dom := withoutWbr(raw)
		checkRendered(t, dom)
		checkTicks(t, dom)
		// A long path wraps between segments, not inside "{id}".
		if !strings.Contains(raw, `<td class="value">/<wbr>products/<wbr>{id}</td>`) {
			t.Error(`the path "/products/{id}" has no wrap points between its segments`)
		}
	})
	// A few hourly windows make a few narrow bars: their time labels must
	// not be drawn over each other.
	t.Run("few windows", func(t *testing.T) {
		var in bytes.Buffer
		loggen.New(loggen.Options{Seed: 9, Start: time.Date(2026, 11, 1, 22, 10, 0, 0, time.UTC).Unix(), Rate: 3}).WriteN(&in, 15000)
		rows := aggregateRows(t, &in, nil)
		hours := map[string]bool{}
		for _, r := range rows {
			if r.WindowSize == "1h0m0s" {
				hours[r.WindowStart] = true
			}
		}
		if len(hours) < 3 || len(hours) > 8 {
			t.Fatalf("%d hourly windows; the case wants a few", len(hours))
		}
		p := reportFile(t, rows, "few")
		checkTicks(t, chromiumDOM(t, "file://"+p))
	})
	// Under differential privacy the page states the mechanism and its
	// accounting.
	t.Run("differential", func(t *testing.T) {
		var in bytes.Buffer
		loggen.New(loggen.Options{Seed: 7, Rate: 5}).WriteN(&in, 50000)
		key := filepath.Join(t.TempDir(), "noise.key")
		os.WriteFile(key, bytes.Repeat([]byte("k"), 32), 0o600)
		rows := aggregateRows(t, &in, func(c *stats.Config) {
			c.Privacy, c.Epsilon, c.Windows, c.NoiseKeyFile = stats.PrivacyDifferential, 4, []time.Duration{24 * time.Hour}, key
		})
		p := reportFile(t, rows, "dp")
		dom := chromiumDOM(t, "file://"+p)
		for _, want := range []string{"Differential privacy: every count has discrete Gaussian noise", "ε = 4, δ = 1e-7",
			"Gaussian mechanisms", `id="dim-page"`, `data-ready="1"`} {
			if !strings.Contains(dom, want) {
				t.Errorf("differential page lacks %q", want)
			}
		}
	})
	// Sites, a range and the CSV link, opened by a link's #fragment; no
	// empty (other) row.
	t.Run("sites-and-ranges", func(t *testing.T) {
		var in bytes.Buffer
		loggen.New(loggen.Options{Seed: 6, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix(), Rate: 0.5, Visitors: 2000, Pages: 100}).WriteN(&in, 200000)
		var vhost bytes.Buffer
		for _, l := range bytes.SplitAfter(in.Bytes(), []byte("\n")) {
			if len(l) > 0 { // a visitor's site by the length of their address
				vhost.WriteString([]string{"shop.example.com:443 ", "blog.example.com:443 "}[bytes.IndexByte(l, ' ')%2])
				vhost.Write(l)
			}
		}
		rows := aggregateRows(t, &vhost, func(c *stats.Config) { c.TimeZone = "Europe/Berlin" })
		p := reportFile(t, rows, "sites")
		dom := chromiumDOM(t, "file://"+p+"#site=blog.example.com&range=7d")
		for _, want := range []string{`<option value="blog.example.com">blog.example.com</option>`, `<option value="">all sites</option>`,
			"7 days from", "sum of each day", "Hour of day (Europe/Berlin)", `id="dim-traffic"`, `id="dim-not_found"`,
			`<td class="value">blog.example.com</td>`, `href="blob:`} {
			if !strings.Contains(dom, want) {
				t.Errorf("sites/range view lacks %q", want)
			}
		}
		if strings.Contains(dom, `<td class="value">shop.example.com</td>`) {
			t.Error("blog's table shows shop's host row")
		}
		empty := regexp.MustCompile(`<td class="value">\(other\)</td><td class="n">0</td><td class="n">0</td>`)
		if empty.MatchString(dom) || empty.MatchString(chromiumDOM(t, "file://"+p)) {
			t.Error("an empty (other) 0 0 row is shown")
		}
	})
	t.Run("served", func(t *testing.T) {
		cfg := statsCluster(t, rows)
		srv := httptest.NewServer(newServer(t, cfg))
		defer srv.Close()
		dom := chromiumDOM(t, srv.URL+"/")
		checkRendered(t, dom)
		if !strings.Contains(dom, "live from logveil.stats") {
			t.Error("the served page does not say where its rows come from")
		}
	})
	// The served page shows its rows even when its fetch fails: they come
	// with the page. Countries logveil sets itself and estimates are marked.
	t.Run("served-fetch-failing", func(t *testing.T) {
		cfg := statsCluster(t, rows)
		stats := newServer(t, cfg)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/stats" {
				http.Error(w, "broker unreachable", http.StatusBadGateway)
				return
			}
			stats.ServeHTTP(w, r)
		}))
		defer srv.Close()
		dom := chromiumDOM(t, srv.URL+"/")
		checkRendered(t, dom)
		for _, want := range []string{"ZZ (unknown: not in the country database)", "≈ ", "Cannot read the statistics: broker unreachable"} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered page lacks %q", want)
			}
		}
	})
}
