package processor_test

// The statistics stages against the real broker: every published figure
// equals an independent computation over the anonymized events; kill -9 and
// scale-out leave the same final table; no published row singles anyone out.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/segmentio/kafka-go"
)

// statsInput is a generated log that ends at an hour's boundary an hour or
// two ago (so that every hourly window closes once the run has been idle
// for the lateness: README, event time), with a single visitor's rare page
// and rare search term planted in its middle, in time order.
func statsInput(t *testing.T) []byte {
	t.Helper()
	// Flat traffic of about 30 000 lines over the 7 hours before the cut,
	// the same at any hour of the day: 31 000 lines at that rate always
	// pass the cut (the sum of their gaps is 7.2 h ± 0.04 h), so the input
	// ends at the cut and its last window closes the lateness after the
	// partitions fall idle. (With the diurnal curve, the lines ran out half
	// an hour before the cut around the afternoon peak, and the last window
	// waited for that half hour of idleness: red CI at 17:00 UTC.)
	const n = 31000
	opt := loggen.Options{Seed: 7, Rate: 30000.0 / (7 * 3600), Visitors: 1500, Pages: 150, Flat: true}
	gen := func(start int64) []byte {
		var b bytes.Buffer
		opt.Start = start
		loggen.New(opt).WriteN(&b, n)
		return bytes.ReplaceAll(b.Bytes(), []byte("\n\n"), []byte("\n"))
	}
	// Keep the lines before the cut (they are in time order).
	lineTime := func(l []byte) int64 {
		i := bytes.IndexByte(l, '[')
		tm, err := time.Parse("02/Jan/2006:15:04:05 -0700", string(l[i+1:i+27]))
		if err != nil {
			t.Fatalf("time of %q: %v", l, err)
		}
		return tm.Unix()
	}
	cut := time.Now().Unix()/3600*3600 - 3600
	lines := gen(cut - 7*3600)
	reached := false
	for i := 0; i < len(lines); {
		j := i + bytes.IndexByte(lines[i:], '\n') + 1
		if lineTime(lines[i:j]) >= cut {
			lines, reached = lines[:i], true
			break
		}
		i = j
	}
	if !reached {
		t.Fatalf("the input ends before the cut: its last window would wait for idleness")
	}
	// The planted visitor: one address, one browser, twelve hits.
	mid := bytes.IndexByte(lines[len(lines)/2:], '\n') + len(lines)/2 + 1
	ts := lines[mid+bytes.IndexByte(lines[mid:], '[') : mid+bytes.IndexByte(lines[mid:], ']')+1]
	var planted []byte
	for range 12 {
		planted = fmt.Appendf(planted, `81.2.69.77 - - %s "GET /my-very-rare-page?q=my+rare+illness HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`+"\n", ts)
	}
	lines = append(lines[:mid:mid], append(planted, lines[mid:]...)...)
	// Two sites (vhost_combined): a visitor's site by the last byte of
	// their address, so the host dimension has two values.
	var out []byte
	for _, l := range bytes.SplitAfter(lines, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		site := "shop.example.com:443 "
		if sp := bytes.IndexByte(l, ' '); sp > 0 && l[sp-1]%2 == 1 {
			site = "blog.example.com:443 "
		}
		out = append(append(out, site...), l...)
	}
	return out
}

// statsEnv are the settings of every statistics run.
// The independent computation reads visitors and search terms from the
// events, so this test has logveil write both there, and every event whole
// (the statistics count what the events' k-anonymity cuts). The input is all in
// the raw topic before logveil starts, each partition's lines in time
// order: a partition is idle only once it is done, and no hit can be late,
// so a short lateness closes the last hour soon after the run is idle.
var statsEnv = []string{"LOGVEIL_KAFKA_PSEUDONYM_IN_EVENTS=true", "LOGVEIL_ANONYMIZE_SEARCH_TERMS_IN_EVENTS=true",
	"LOGVEIL_KAFKA_STATS_EMIT_INTERVAL=300ms", "LOGVEIL_STATS_LATENESS=10s", "LOGVEIL_ANONYMIZE_EVENTS_K=1"}

// produceKeyed writes lines keyed by their line number, so that every run
// puts each line at the same partition (kcat hashes the key) and offset,
// in order: without idempotence librdkafka retries a batch a new topic
// refused once after the batches behind it, and a raw partition's first
// hour then comes after its later hours (late, as it would be).
func (s *scenario) produceKeyed(lines []byte) {
	s.t.Helper()
	var keyed bytes.Buffer
	for i, l := range bytes.SplitAfter(lines, []byte("\n")) {
		if len(l) > 0 {
			fmt.Fprintf(&keyed, "%d\t%s", i, l)
		}
	}
	cmd := exec.Command("kcat", "-P", "-b", s.brokers, "-t", s.raw, "-K", "\t", "-X", "enable.idempotence=true")
	cmd.Stdin = &keyed
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("kcat -P: %v\n%s", err, out)
	}
}

// inTimeOrder checks that each raw partition holds its lines in time order,
// as the statistics tests assume.
func (s *scenario) inTimeOrder() {
	s.t.Helper()
	last := map[int]int64{}
	for _, r := range s.read(s.raw) {
		i := strings.IndexByte(r.value, '[')
		if i < 0 || len(r.value) < i+27 {
			continue
		}
		tm, err := time.Parse("02/Jan/2006:15:04:05 -0700", r.value[i+1:i+27])
		if err != nil {
			continue
		}
		if tm.Unix() < last[r.partition] {
			s.t.Fatalf("raw partition %d is not in time order at offset %d: the producer reordered it", r.partition, r.offset)
		}
		last[r.partition] = tm.Unix()
	}
}

// statsTable reads <prefix>.stats with kcat: the latest value per key.
func (s *scenario) statsTable() (map[string]string, error) {
	cmd := exec.Command("kcat", "-C", "-b", s.brokers, "-t", s.prefix+".stats", "-o", "beginning", "-e", "-q", "-Z",
		"-f", "%k\t%s\n")
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	table := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		k, v, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		if v == "NULL" {
			delete(table, k)
		} else {
			table[k] = v
		}
	}
	return table, nil
}

// waitStats polls until the table has hourly windows, all of them final,
// and has not changed for three seconds.
func (s *scenario) waitStats(timeout time.Duration) map[string]string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]string
	stable := 0
	for {
		table, err := s.statsTable()
		done := err == nil && len(table) > 0
		hourly := 0
		for k, v := range table {
			if strings.Contains(k, "|1h0m0s|total|") {
				hourly++
				if !strings.Contains(v, `"final":true`) {
					done = false
				}
			}
		}
		done = done && hourly >= 5
		if done && fmt.Sprint(table) == fmt.Sprint(last) {
			if stable++; stable >= 3 {
				return table
			}
		} else {
			stable = 0
		}
		last = table
		if time.Now().After(deadline) {
			s.t.Fatalf("statistics not complete after %s: %d rows, %d hourly windows, err %v", timeout, len(table), hourly, err)
		}
		time.Sleep(time.Second)
	}
}

// event is what the independent computation reads of an anonymized event.
type event struct {
	ID           string    `json:"id"`
	Time         time.Time `json:"time"`
	Visitor      string    `json:"visitor"`
	Path         string    `json:"path"`
	BadRequest   bool      `json:"bad_request"`
	SearchTerms  string    `json:"search_terms"`
	Country      string    `json:"country"`
	Status       int       `json:"status"`
	Bytes        int64     `json:"bytes"`
	ReferrerType string    `json:"referrer_type"`
	ReferrerSite string    `json:"referrer_site"`
	Device       string    `json:"device"`
	Bot          bool      `json:"bot"`
	Host         string    `json:"host"`
	Query        string    `json:"query"`
	Traffic      string    `json:"traffic"`
	Crawler      string    `json:"crawler"`
}

// expectedStats computes the published table from the events by plain
// counting: per window (1h, 24h) views and distinct visitors per value,
// folded into (other) below k; visits as each visitor's hits in the window
// split at 30-minute gaps; quantiles nearest-rank at the published
// resolution. It returns "window|size|dimension|value" -> figures.
//
// Each site (host) gets a table of its own, keyed "dimension#site"; the
// all-sites table folds a cell some site has with fewer than k visitors
// (README: statistics, per site).
func expectedStats(events []event, final map[string]bool) map[string]string {
	bySite := map[string][]event{}
	for _, e := range events {
		if e.Host != "" {
			bySite[e.Host] = append(bySite[e.Host], e)
		}
	}
	want := map[string]string{}
	siteCells := map[string]map[string]int{} // site -> "window|size|dim|value" -> visitors
	listed := map[string]bool{}              // "window|size|": some site has a table
	// window is a key's "start|size|".
	window := func(key string) string {
		i := strings.IndexByte(key, '|')
		return key[:i+1+strings.IndexByte(key[i+1:], '|')+1]
	}
	for site, evs := range bySite {
		table, cells := expectedTable(evs, final, "#"+site, nil, nil)
		// A site with fewer than k visitors in a window has no table
		// there: its hits are those of no listed site.
		for k := range table {
			if _, ok := table[window(k)+"total#"+site+"|"]; !ok {
				delete(table, k)
			} else {
				listed[window(k)] = true
			}
		}
		for c := range cells {
			if _, ok := table[window(c)+"total#"+site+"|"]; !ok {
				delete(cells, c)
			}
		}
		siteCells[site] = cells
		for k, v := range table {
			want[k] = v
		}
	}
	table, _ := expectedTable(events, final, "", func(prefix string) bool { return listed[prefix] }, func(cell string, visitors, k int) bool {
		rest := visitors
		for _, cells := range siteCells {
			n := cells[cell]
			if n > 0 && n < k {
				return true
			}
			rest -= n
		}
		return rest > 0 && rest < k
	})
	for k, v := range table {
		want[k] = v
	}
	return want
}

// expectedTable is one table of expectedStats: its rows keyed with suffix
// after the dimension, and every cell's visitors; in a window beside
// site tables (beside), unsafe folds a cell as if it had fewer than k
// visitors.
func expectedTable(events []event, final map[string]bool, suffix string, beside func(prefix string) bool, unsafe func(cell string, visitors, k int) bool) (map[string]string, map[string]int) {
	type cellT struct {
		views    int64
		visitors map[string]bool
	}
	type win struct {
		views, bots, bytes int64
		visitors           map[string]bool
		cells              map[string]map[string]*cellT // dim -> value -> cell
		hits               map[string][]event           // visitor -> hits
	}
	wins := map[[2]int64]*win{}
	add := func(w *win, dim, value, visitor string) {
		if w.cells[dim] == nil {
			w.cells[dim] = map[string]*cellT{}
		}
		c := w.cells[dim][value]
		if c == nil {
			c = &cellT{visitors: map[string]bool{}}
			w.cells[dim][value] = c
		}
		c.views++
		c.visitors[visitor] = true
	}
	for _, e := range events {
		for _, size := range []int64{3600, 86400} {
			t := e.Time.Unix()
			key := [2]int64{t / size * size, size}
			w := wins[key]
			if w == nil {
				w = &win{visitors: map[string]bool{}, cells: map[string]map[string]*cellT{}, hits: map[string][]event{}}
				wins[key] = w
			}
			// Who the traffic is: every hit, bots too.
			add(w, "traffic", e.Traffic, e.Visitor)
			if e.Crawler != "" {
				add(w, "crawler", e.Crawler, e.Visitor)
			}
			if e.Bot {
				w.bots++
				continue
			}
			w.views++
			w.bytes += max(e.Bytes, 0)
			w.visitors[e.Visitor] = true
			page := e.Path
			if e.BadRequest {
				page = "(bad request)"
			}
			ref := e.ReferrerSite
			if ref == "" {
				ref = "(" + e.ReferrerType + ")"
			}
			add(w, "page", page, e.Visitor)
			add(w, "country", e.Country, e.Visitor)
			add(w, "status", fmt.Sprintf("%dxx", e.Status/100), e.Visitor)
			add(w, "referrer", ref, e.Visitor)
			add(w, "device", e.Device, e.Visitor)
			add(w, "hour", fmt.Sprintf("%02d", e.Time.UTC().Hour()), e.Visitor)
			if e.SearchTerms != "" {
				add(w, "search", e.SearchTerms, e.Visitor)
			}
			if e.Host != "" {
				add(w, "host", e.Host, e.Visitor)
			}
			for _, kv := range strings.Split(e.Query, "&") {
				if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "utm_") && v != "" {
					add(w, k, v, e.Visitor)
				}
			}
			switch {
			case e.Status == 404:
				add(w, "not_found", page, e.Visitor)
			case e.Status >= 500:
				add(w, "server_error", page, e.Visitor)
			}
			w.hits[e.Visitor] = append(w.hits[e.Visitor], e)
		}
	}
	bucket := func(d int64) int64 {
		switch {
		case d >= 3600:
			return d / 60 * 60
		case d >= 600:
			return d / 10 * 10
		}
		return d
	}
	want := map[string]string{}
	cellVisitors := map[string]int{}
	for key, w := range wins {
		prefix := fmt.Sprintf("%s|%s|", time.Unix(key[0], 0).UTC().Format(time.RFC3339), time.Duration(key[1])*time.Second)
		// Visits, once the window is final.
		var visits, pages, bounces, sum int64
		var durations []int64
		for v, hits := range w.hits {
			if !final[prefix] {
				break
			}
			// Hits of the same second: in order of raw partition name and offset.
			sort.Slice(hits, func(i, j int) bool {
				if !hits[i].Time.Equal(hits[j].Time) {
					return hits[i].Time.Before(hits[j].Time)
				}
				si, oi := rawPosition(hits[i].ID)
				sj, oj := rawPosition(hits[j].ID)
				return si < sj || si == sj && oi < oj
			})
			for i := 0; i < len(hits); {
				j := i + 1
				for j < len(hits) && hits[j].Time.Sub(hits[j-1].Time) <= 30*time.Minute {
					j++
				}
				visits++
				pages += int64(j - i)
				if j-i == 1 {
					bounces++
				}
				d := int64(hits[j-1].Time.Sub(hits[i].Time) / time.Second)
				sum += d
				durations = append(durations, d)
				entry, exit := hits[i], hits[j-1]
				add(w, "entry_page", entry.Path, v)
				add(w, "exit_page", exit.Path, v)
				add(w, "visit_country", entry.Country, v)
				i = j
			}
		}
		if len(w.visitors) >= 5 {
			total := fmt.Sprintf("views=%d visitors=%d bots=%d bytes=%d", w.views, len(w.visitors), w.bots, w.bytes)
			if final[prefix] {
				total += fmt.Sprintf(" visits=%d", visits)
			}
			if visits > 0 {
				sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
				nr := func(q float64) int64 { return bucket(durations[int(math.Ceil(q*float64(len(durations))))-1]) }
				total += fmt.Sprintf(" mean=%.3f p50=%d p90=%d ppv=%.3f bounce=%.3f", float64(sum)/float64(visits), nr(0.5), nr(0.9),
					float64(pages)/float64(visits), float64(bounces)/float64(visits))
			}
			want[prefix+"total"+suffix+"|"] = total
		}
		for dim, cells := range w.cells {
			besideSites := beside != nil && beside(prefix)
			if besideSites && !final[prefix] {
				break // beside site tables the all-sites cells come with the final rows only
			}
			k := 5
			if dim == "search" {
				k = 10
			}
			var otherViews, otherSum int64
			otherVisitors := map[string]bool{}
			for value, c := range cells {
				cellVisitors[prefix+dim+"|"+value] = len(c.visitors)
				if len(c.visitors) < k || besideSites && unsafe(prefix+dim+"|"+value, len(c.visitors), k) {
					otherViews += c.views
					otherSum += int64(len(c.visitors))
					for v := range c.visitors {
						otherVisitors[v] = true
					}
					continue
				}
				want[prefix+dim+suffix+"|"+value] = fmt.Sprintf("views=%d visitors=%d", c.views, len(c.visitors))
			}
			if len(cells) > 0 {
				n := int64(len(otherVisitors))
				if besideSites { // the all-sites table beside site tables: the sum
					n = otherSum
				}
				want[prefix+dim+suffix+"|(other)"] = fmt.Sprintf("views=%d visitors=%d", otherViews, n)
			}
		}
	}
	return want, cellVisitors
}

// rawPosition splits an event id "topic-partition-offset" into the raw
// source name ("topic/partition") and the offset.
func rawPosition(id string) (string, int64) {
	i := strings.LastIndexByte(id, '-')
	j := strings.LastIndexByte(id[:i], '-')
	off, _ := strconv.ParseInt(id[i+1:], 10, 64)
	return id[:j] + "/" + id[j+1:i], off
}

// published turns the stats table into the same form as expectedStats,
// for the dimensions it computes.
func published(t *testing.T, table map[string]string) map[string]string {
	got := map[string]string{}
	for k, v := range table {
		var r struct {
			Dimension, Value    string
			Views, Visitors     int64
			Bots, Bytes, Visits *int64
			Mean                *float64 `json:"visit_duration_mean_s"`
			P50                 *float64 `json:"visit_duration_p50_s"`
			P90                 *float64 `json:"visit_duration_p90_s"`
			PPV                 *float64 `json:"pages_per_visit"`
			Bounce              *float64 `json:"bounce_rate"`
			Suppressed          bool
		}
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			t.Fatalf("row %s: %v: %s", k, err, v)
		}
		switch r.Dimension {
		case "total":
			if r.Suppressed {
				continue
			}
			s := fmt.Sprintf("views=%d visitors=%d bots=%d bytes=%d", r.Views, r.Visitors, *r.Bots, *r.Bytes)
			if r.Visits != nil {
				s += fmt.Sprintf(" visits=%d", *r.Visits)
			}
			if r.Mean != nil {
				s += fmt.Sprintf(" mean=%.3f p50=%.0f p90=%.0f ppv=%.3f bounce=%.3f", *r.Mean, *r.P50, *r.P90, *r.PPV, *r.Bounce)
			}
			got[k] = s
		case "page", "country", "status", "referrer", "device", "hour", "search", "entry_page", "exit_page", "visit_country",
			"host", "utm_source", "utm_medium", "utm_campaign", "not_found", "server_error", "traffic", "crawler":
			got[k] = fmt.Sprintf("views=%d visitors=%d", r.Views, r.Visitors)
		}
	}
	return got
}

// runStats runs one scenario over lines with instances processes. All the
// lines are in the raw topic before the first instance starts, so that the
// outcome cannot depend on how fast this machine is. Then, kills times, one
// instance (in turn) gets kill -9 a random moment later (while it
// anonymizes, aggregates or replays), and is restarted when restart is set.
// statsPrepare, when set, runs on each scenario before logveil starts.
var statsPrepare func(*scenario)

func runStats(t *testing.T, lines []byte, instances, kills int, restart bool, rng *rand.Rand, extraEnv ...string) (*scenario, map[string]string) {
	s := newScenario(t, 6)
	if statsPrepare != nil {
		statsPrepare(s)
	}
	env := append(append([]string{"LOGVEIL_KAFKA_PARTITIONS=4"}, statsEnv...), extraEnv...)
	s.produceKeyed(lines)
	s.inTimeOrder()
	procs := make([]*exec.Cmd, instances)
	for i := range procs {
		procs[i] = s.start(env...)
	}
	for i := range kills {
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		victim := i % instances
		procs[victim].Process.Signal(syscall.SIGKILL)
		procs[victim].Wait()
		if restart {
			procs[victim] = s.start(env...)
		}
	}
	return s, s.waitStats(3 * time.Minute)
}

func TestStatisticsStages(t *testing.T) {
	brokers(t)
	lines := statsInput(t)

	// One uninterrupted instance: the reference.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	s, table := runStats(t, lines, 1, 0, false, rng)
	events := s.statsEvents(lines)
	t.Run("correct", func(t *testing.T) { checkStats(t, events, table) })
	t.Run("k-anonymous", func(t *testing.T) {
		for _, v := range table {
			var r struct {
				Dimension, Value string
				Visitors         int64
				Suppressed       bool
			}
			json.Unmarshal([]byte(v), &r)
			if strings.Contains(r.Value, "rare") {
				t.Errorf("a single visitor's value is published: %s", v)
			}
			if r.Dimension == "privacy" || r.Value == "(other)" || r.Suppressed {
				continue
			}
			k := int64(5)
			if r.Dimension == "search" {
				k = 10
			}
			if r.Visitors < k {
				t.Errorf("%d visitors (k = %d): %s", r.Visitors, k, v)
			}
		}
		// The planted hits are in the statistics, folded.
		if !strings.Contains(fmt.Sprint(events), "/my-very-rare-page") {
			t.Error("the planted page is not among the events")
		}
	})

	t.Run("logveil stats", func(t *testing.T) {
		out, err := exec.Command(binary, "stats", "--brokers", s.brokers, "--topic-prefix", s.prefix, "--site", "*", "--json").Output()
		if err != nil {
			t.Fatalf("logveil stats: %v", err)
		}
		rows := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(rows) != len(table) {
			t.Errorf("logveil stats printed %d rows, the topic holds %d", len(rows), len(table))
		}
		for _, r := range rows {
			var row struct {
				WindowStart string `json:"window_start"`
				WindowSize  string `json:"window_size"`
				Site        string `json:"site"`
				Dimension   string `json:"dimension"`
				Value       string `json:"value"`
			}
			json.Unmarshal([]byte(r), &row)
			dim := row.Dimension
			if row.Site != "" {
				dim += "#" + row.Site
			}
			key := row.WindowStart + "|" + row.WindowSize + "|" + dim + "|" + row.Value
			if table[key] != r {
				t.Errorf("logveil stats printed %s\nthe topic holds %s", r, table[key])
				break
			}
		}
		if out, err := exec.Command(binary, "audit", "--brokers", s.brokers, "--topic", s.prefix+".stats", "--sample", "0").CombinedOutput(); err != nil {
			t.Errorf("logveil audit of the statistics topic: %v\n%s", err, out)
		}
		out, err = exec.Command(binary, "stats", "--brokers", s.brokers, "--topic-prefix", s.prefix, "--window", "1h",
			"--dimension", "total").Output()
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); err != nil || len(lines) < 6 ||
			!strings.HasPrefix(lines[0], "WINDOW") || !strings.Contains(lines[1], "1h0m0s  (all)  total") {
			t.Errorf("logveil stats --window 1h --dimension total: %v\n%s", err, out)
		}
	})
	t.Run("kill -9", func(t *testing.T) {
		s, crashed := runStats(t, lines, 1, 3, true, rng)
		checkStats(t, s.statsEvents(lines), crashed)
		compareTables(t, crashed, table)
	})
	t.Run("three instances, one killed", func(t *testing.T) {
		s, scaled := runStats(t, lines, 3, 1, false, rng)
		checkStats(t, s.statsEvents(lines), scaled)
		compareTables(t, scaled, table)
	})
}

// TestStatisticsDifferential: under differential privacy the published
// table, noise included, is the same row for row after kill -9 and with
// three instances as in one uninterrupted run: the bounds keep the same
// values whatever order hits arrive in, and every cell's noise comes from
// the shared key.
func TestStatisticsDifferential(t *testing.T) {
	brokers(t)
	lines := statsInput(t)
	key := filepath.Join(t.TempDir(), "noise.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("5a", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"LOGVEIL_STATS_PRIVACY=differential", "LOGVEIL_STATS_EPSILON=8", "LOGVEIL_STATS_NOISE_KEY_FILE=" + key}
	// The runs are separate deployments (topics of their own): give them the
	// same salts, as one deployment's instances share its salts topic, so
	// that pseudonyms and with them the bounds' choices agree.
	statsPrepare = func(s *scenario) {
		topic := s.prefix + ".salts"
		c := &kafka.Client{Addr: kafka.TCP(s.brokers), Timeout: 20 * time.Second}
		if _, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
			{Topic: topic, NumPartitions: 1, ReplicationFactor: 1, ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}}}}); err != nil {
			t.Fatal(err)
		}
		w := &kafka.Writer{Addr: kafka.TCP(s.brokers), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		defer w.Close()
		today := time.Now().Unix() / 86400
		var msgs []kafka.Message
		for d := today - 2; d <= today; d++ {
			msgs = append(msgs, kafka.Message{Key: []byte(strconv.FormatInt(d, 10)), Value: []byte(strings.Repeat("c3", 32))})
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { statsPrepare = nil }()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	_, table := runStats(t, lines, 1, 0, false, rng, env...)
	published := 0
	for k, v := range table {
		if strings.Contains(v, `"mechanism":"discrete-gaussian"`) {
			published++
		}
		if strings.Contains(k, "my-very-rare-page") {
			t.Errorf("a single visitor's page is published: %s", v)
		}
	}
	if published == 0 {
		t.Fatalf("no privacy row states the mechanism in %d rows", len(table))
	}
	t.Run("kill -9", func(t *testing.T) {
		_, crashed := runStats(t, lines, 1, 3, true, rng, env...)
		compareTables(t, crashed, table)
	})
	t.Run("three instances, one killed", func(t *testing.T) {
		_, scaled := runStats(t, lines, 3, 1, false, rng, env...)
		compareTables(t, scaled, table)
	})
}

// statsEvents reads the run's events, one per id (a crash replays some).
func (s *scenario) statsEvents(lines []byte) []event {
	s.t.Helper()
	var events []event
	seen := map[string]bool{}
	for _, r := range s.read(s.prefix + ".events") {
		var e event
		if err := json.Unmarshal([]byte(r.value), &e); err != nil || e.Visitor == "" {
			s.t.Fatalf("event without visitor: %s", r.value)
		}
		if !seen[e.ID] {
			seen[e.ID] = true
			events = append(events, e)
		}
	}
	if n := bytes.Count(lines, []byte("\n")); len(events) != n {
		s.t.Fatalf("%d events for %d lines", len(events), n)
	}
	return events
}

// checkStats compares the published table with the independent computation.
func checkStats(t *testing.T, events []event, table map[string]string) {
	t.Helper()
	final := map[string]bool{}
	for k, v := range table {
		if strings.Contains(k, "|total|") && strings.Contains(v, `"final":true`) {
			final[strings.TrimSuffix(k, "total|")] = true
		}
	}
	if len(final) < 5 {
		t.Fatalf("only %d final windows", len(final))
	}
	want, got := expectedStats(events, final), published(t, table)
	if len(want) < 200 {
		t.Fatalf("only %d expected rows: the input tests too little", len(want))
	}
	bad := 0
	for k, v := range want {
		if got[k] != v {
			if bad++; bad <= 10 {
				t.Errorf("%s: published %q, computed %q", k, got[k], v)
			}
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 10 {
				t.Errorf("%s: published %q, not computed", k, v)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows differ from the independent computation", bad, len(want))
	}
}

// eventRungs is a privacy row's account of the events' rungs, which
// depends on when each event's class opened (the hold, the batches a
// crash cut): it describes the events, not the statistics, and is not
// compared.
var eventRungs = regexp.MustCompile(`"event_rungs":\{[^}]*\},?`)

func compareTables(t *testing.T, got, want map[string]string) {
	t.Helper()
	bad := 0
	for k, v := range want {
		if eventRungs.ReplaceAllString(got[k], "") != eventRungs.ReplaceAllString(v, "") {
			if bad++; bad <= 10 {
				t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
			}
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 10 {
				t.Errorf("%s: extra row %s", k, v)
			}
		}
	}
	if bad > 0 {
		dims := map[string]int{}
		for k := range want {
			if got[k] != want[k] {
				dims[strings.Split(k, "|")[2]]++
			}
		}
		t.Errorf("%d of %d rows differ from the uninterrupted run, by dimension: %v", bad, len(want), dims)
	}
}

// TestMergerRestartTakesBackFoldedRows: a row the merger published before
// its window was final, and that folds into (other) by the final rows
// (max_values), is taken back by a tombstone even when the merger that
// publishes the final rows is not the one that published the row (kill -9
// in between).
func TestMergerRestartTakesBackFoldedRows(t *testing.T) {
	s := newScenario(t, 1)
	env := []string{"LOGVEIL_STAGES=merge", "LOGVEIL_KAFKA_PARTITIONS=1", "LOGVEIL_STATS_MAX_VALUES=1",
		"LOGVEIL_KAFKA_STATS_EMIT_INTERVAL=200ms", "LOGVEIL_STATS_LATENESS=10s", "LOGVEIL_STATS_WINDOWS=1h"}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour).Unix() // no clock of this run closes it
	partial := func(dim, value string, views, visitors int) string {
		return fmt.Sprintf(`%s|%s	{"start":%d,"size":3600,"dim":%q,"value":%q,"src":0,"views":%d,"visitors":%d}`+"\n",
			dim, value, start, dim, value, views, visitors)
	}
	produce := func(recs string) {
		cmd := exec.Command("kcat", "-P", "-b", s.brokers, "-t", s.prefix+".partials", "-K", "\t")
		cmd.Stdin = strings.NewReader(recs)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P: %v\n%s", err, out)
		}
	}
	xp := time.Unix(start, 0).UTC().Format(time.RFC3339) + "|1h0m0s|country|XP"
	total := time.Unix(start, 0).UTC().Format(time.RFC3339) + "|1h0m0s|total|"
	wait := func(what string, ok func(map[string]string) bool) map[string]string {
		deadline := time.Now().Add(90 * time.Second)
		for {
			table, err := s.statsTable()
			if err == nil && ok(table) {
				return table
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 90s: %v %v", what, table, err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	first := s.start(env...)
	// The merger creates the topics; the partials come once they exist.
	wait("topics", func(map[string]string) bool { _, err := s.tryRead(s.prefix + ".partials"); return err == nil })
	produce(partial("total", "", 60, 30) + partial("country", "XP", 44, 10))
	wait("XP published before the window is final", func(tb map[string]string) bool { return tb[xp] != "" })
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	produce(partial("country", "DE", 60, 20) +
		fmt.Sprintf(`wm|0	{"dim":"watermark","src":0,"start":%d}`+"\n", start+3600+60))
	s.start(env...)
	table := wait("final rows", func(tb map[string]string) bool { return strings.Contains(tb[total], `"final":true`) })
	if v, ok := table[xp]; ok {
		t.Fatalf("the folded row is still published after the final rows: %s", v)
	}
	if !strings.Contains(table[time.Unix(start, 0).UTC().Format(time.RFC3339)+"|1h0m0s|country|DE"], `"visitors":20`) {
		t.Fatalf("DE not published: %v", table)
	}
}
