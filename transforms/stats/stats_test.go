package stats

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/transforms"
)

// hit is what the independent computation keeps of an event.
type hit struct {
	t            int64
	page, search string
	visitor      string
	bot          bool
}

func aggregateLines(t *testing.T, lines [][]byte, cfg Config) ([]Row, []hit) {
	t.Helper()
	w := saltedWorker(t)
	agg, err := testAggregator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var hits []hit
	for _, l := range lines {
		if w.Process(l) != nil {
			continue
		}
		r := &w.Rec
		agg.Add(r)
		hits = append(hits, hit{r.Time, string(r.Path), string(r.SearchTerms), string(r.Pseudonym), r.Bot})
	}
	return agg.CloseWith(testMerger(cfg, Masks{})), hits
}

func genLines(n int, seed uint64) [][]byte {
	var b bytes.Buffer
	loggen.New(loggen.Options{Seed: seed, Start: 1793491200, Rate: 2, Visitors: 800, Pages: 60}).WriteN(&b, n)
	return bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
}

// TestAggregateMatchesIndependentComputation checks every total and every
// page and search row against a plain computation over the same hits.
func TestAggregateMatchesIndependentComputation(t *testing.T) {
	rows, hits := aggregateLines(t, genLines(30000, 11), Config{Windows: []time.Duration{time.Hour}})
	const size = 3600
	type tot struct {
		views, bots int64
		visitors    map[string]bool
		pages       map[string]map[string]int64 // page -> visitor -> views
		search      map[string]map[string]int64
	}
	wins := map[int64]*tot{}
	for _, h := range hits {
		ws := h.t / size * size
		if wins[ws] == nil {
			wins[ws] = &tot{visitors: map[string]bool{}, pages: map[string]map[string]int64{}, search: map[string]map[string]int64{}}
		}
		w := wins[ws]
		if h.bot {
			w.bots++
			continue
		}
		w.views++
		w.visitors[h.visitor] = true
		if w.pages[h.page] == nil {
			w.pages[h.page] = map[string]int64{}
		}
		w.pages[h.page][h.visitor]++
		if h.search != "" {
			if w.search[h.search] == nil {
				w.search[h.search] = map[string]int64{}
			}
			w.search[h.search][h.visitor]++
		}
	}
	// Visits: per visitor, time-sorted hits split at 30 min gaps and window ends.
	byVisitor := map[string][]int64{}
	for _, h := range hits {
		if !h.bot {
			byVisitor[h.visitor] = append(byVisitor[h.visitor], h.t)
		}
	}
	type visitTot struct {
		n, pages, bounces int64
		durations         []float64
	}
	visits := map[int64]*visitTot{}
	for _, ts := range byVisitor {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		start, last, n := ts[0], ts[0], int64(1)
		flush := func() {
			ws := start / size * size
			if visits[ws] == nil {
				visits[ws] = &visitTot{}
			}
			v := visits[ws]
			v.n++
			v.pages += n
			if n == 1 {
				v.bounces++
			}
			v.durations = append(v.durations, float64(last-start))
		}
		for _, x := range ts[1:] {
			if x-last > 1800 || x/size != start/size {
				flush()
				start, n = x, 0
			}
			last = x
			n++
		}
		flush()
	}
	// Expected rows, folded at k = 5 (pages) and 10 (search).
	want := map[string]string{}
	fold := func(prefix string, cells map[string]map[string]int64, k int) {
		other, otherV := int64(0), map[string]bool{}
		for v, vis := range cells {
			var views int64
			for _, n := range vis {
				views += n
			}
			if len(vis) < k {
				other += views
				for x := range vis {
					otherV[x] = true
				}
				continue
			}
			want[prefix+v] = fmt.Sprintf("%d/%d", views, len(vis))
		}
		if len(cells) > 0 {
			want[prefix+Other] = fmt.Sprintf("%d/%d", other, len(otherV))
		}
	}
	for ws, w := range wins {
		key := time.Unix(ws, 0).UTC().Format(time.RFC3339)
		v := visits[ws]
		if v == nil {
			v = &visitTot{}
		}
		totStr := fmt.Sprintf("%d/%d bots %d visits %d", w.views, len(w.visitors), w.bots, v.n)
		if v.n > 0 {
			sort.Float64s(v.durations)
			var sum float64
			for _, d := range v.durations {
				sum += d
			}
			// Quantiles are published at 1 s up to 10 min, 10 s up to 1 h, then 1 min.
			nr := func(q float64) float64 {
				d := v.durations[int(math.Ceil(q*float64(len(v.durations))))-1]
				switch {
				case d >= 3600:
					d = math.Floor(d/60) * 60
				case d >= 600:
					d = math.Floor(d/10) * 10
				}
				return d
			}
			totStr += fmt.Sprintf(" mean %.3f p50 %.0f p90 %.0f ppv %.3f bounce %.3f", sum/float64(v.n), nr(0.5), nr(0.9),
				float64(v.pages)/float64(v.n), float64(v.bounces)/float64(v.n))
		}
		want[key+" total"] = totStr
		fold(key+" page ", w.pages, 5)
		fold(key+" search ", w.search, 10)
	}
	got := map[string]string{}
	for _, r := range rows {
		switch r.Dimension {
		case "total":
			s := fmt.Sprintf("%d/%d bots %d visits %d", r.Views, r.Visitors, r.Bots, r.Visits)
			if r.VisitMeans != nil {
				s += fmt.Sprintf(" mean %.3f p50 %.0f p90 %.0f ppv %.3f bounce %.3f", r.VisitDurationMean, *r.VisitDurationP50,
					*r.VisitDurationP90, r.PagesPerVisit, r.BounceRate)
			}
			got[r.WindowStart+" total"] = s
		case "page", "search":
			got[r.WindowStart+" "+r.Dimension+" "+r.Value] = fmt.Sprintf("%d/%d", r.Views, r.Visitors)
		}
		if r.WindowSize != "1h0m0s" || !r.Final {
			t.Fatalf("row %+v", r)
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d expected rows: the input is too small to test anything", len(want))
	}
	for k, v := range want {
		if got[k] != v && !withinSketchError(got[k], v) {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected row %s = %s", k, got[k])
		}
	}
}

// TestKAnonymity: no published row other than (other) has fewer than k
// visitors, and a single visitor's rare page and search term are not
// published.
func TestKAnonymity(t *testing.T) {
	lines := genLines(20000, 12)
	rare := []byte(`81.2.69.77 - - [01/Nov/2026:02:10:00 +0000] "GET /my-very-rare-page?q=my+rare+illness HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`)
	lines = append(lines, rare, rare, rare, rare, rare, rare, rare, rare, rare, rare, rare, rare)
	rows, _ := aggregateLines(t, lines, Config{})
	published := 0
	for _, r := range rows {
		if r.Dimension == "privacy" || r.Value == Other || r.Suppressed {
			continue
		}
		published++
		k := int64(5)
		if r.Dimension == "search" {
			k = 10
		}
		if r.Visitors < k {
			t.Errorf("row with %d visitors published: %+v", r.Visitors, r)
		}
		if strings.Contains(r.Value, "rare") {
			t.Errorf("a single visitor's value published: %+v", r)
		}
	}
	if published < 50 {
		t.Fatalf("only %d rows published", published)
	}
}

// TestAggregatorBoundedMemory: a flood of unique paths stays within
// max_values cells per dimension.
func TestAggregatorBoundedMemory(t *testing.T) {
	agg, _ := testAggregator(Config{MaxValues: 100})
	w := saltedWorker(t)
	for i := range 20000 {
		line := fmt.Sprintf(`81.2.%d.%d - - [01/Nov/2026:02:10:00 +0000] "GET /flood/p%dx HTTP/1.1" 200 1 "-" "-"`, i/250%250, i%250+1, i)
		if err := w.Process([]byte(line)); err != nil {
			t.Fatal(err)
		}
		agg.Add(&w.Rec)
	}
	if len(agg.windows) != 2 {
		t.Fatalf("%d open windows, want the hour and the day", len(agg.windows))
	}
	for _, win := range agg.windows {
		if n := len(win.dims[DimPage]); n != 100 {
			t.Errorf("%d page cells, want the cap of 100", n)
		}
	}
	rows := agg.CloseWith(testMerger(Config{}, Masks{}))
	privacy, pages := 0, 0
	for _, r := range rows {
		switch r.Dimension {
		case "privacy":
			privacy++
			if r.CappedEvents < 19000 {
				t.Errorf("capped events %v, want at least 19000 of 20000", r.CappedEvents)
			}
		case "page":
			pages++
		}
	}
	if privacy != 2 || pages > 2*(100+1) {
		t.Errorf("%d privacy rows (want 2), %d page rows (at most 100 values and (other) per window)", privacy, pages)
	}
}

// TestAggregatorVisitorCap: past max_visitors a window follows no more
// visits, but every hit and every visitor is still counted, and the privacy
// row says how many visitors' visits were left out.
func TestAggregatorVisitorCap(t *testing.T) {
	const visitors, capped = 5000, 1000
	agg, err := testAggregator(Config{MaxVisitors: capped, Windows: []time.Duration{time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	w := saltedWorker(t)
	for round := range 2 { // each visitor twice, 10 minutes apart: one visit of two pages
		for i := range visitors {
			line := fmt.Sprintf(`81.%d.%d.%d - - [01/Nov/2026:02:%02d:00 +0000] "GET /p%d HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"`,
				i/62500, i/250%250, i%250+1, 10+10*round, i%3)
			if err := w.Process([]byte(line)); err != nil {
				t.Fatal(err)
			}
			agg.Add(&w.Rec)
		}
	}
	for _, win := range agg.windows {
		if n := len(win.byVisitor); n != capped {
			t.Errorf("window follows %d visitors, want the cap of %d", n, capped)
		}
	}
	near := func(got, want int64) bool { return got > want*97/100 && got < want*103/100 } // the sketch's error
	var total, priv *Row
	pageVisitors := int64(0)
	rows := agg.CloseWith(testMerger(Config{}, Masks{}))
	for i, r := range rows {
		switch r.Dimension {
		case "total":
			total = &rows[i]
		case "privacy":
			priv = &rows[i]
		case "page":
			pageVisitors += r.Visitors
		}
	}
	if total == nil || priv == nil {
		t.Fatalf("no total or privacy row in %d rows", len(rows))
	}
	if total.Views != 2*visitors || !near(total.Visitors, visitors) {
		t.Errorf("total: %d views, %d visitors; want %d and about %d", total.Views, total.Visitors, 2*visitors, visitors)
	}
	if total.Visits != capped || total.PagesPerVisit != 2 {
		t.Errorf("%d visits of %v pages; want the %d followed visitors' visits of 2", total.Visits, total.PagesPerVisit, capped)
	}
	if !near(priv.CappedVisitors, visitors-capped) {
		t.Errorf("privacy row: capped_visitors %v, want about %d", priv.CappedVisitors, visitors-capped)
	}
	if !near(pageVisitors, visitors) { // three pages, each visitor on one
		t.Errorf("page rows count %d visitors, want about %d", pageVisitors, visitors)
	}
	if _, err := withDefaults(Config{MaxVisitors: 10}).Resolve(); err == nil {
		t.Error("max_visitors 10 accepted")
	}
}

// BenchmarkAggregate: realistic hits through the windows and visits, with
// the partials of changed windows emitted every 100,000 hits. Each pass
// over the input is shifted by a day so that it is not late.
func BenchmarkAggregate(b *testing.B) {
	lines := genLines(100000, 13)
	w := saltedWorker(b)
	hits := make([]Hit, 0, len(lines))
	var arena []byte
	for _, l := range lines {
		if w.Process(l) == nil {
			// w.Rec's buffers are reused: keep a copy.
			var r transforms.Record
			r, arena = w.Rec.CloneInto(arena)
			var h Hit
			h.FromRecord(&r)
			hits = append(hits, h)
		}
	}
	span := (hits[len(hits)-1].Time - hits[0].Time + 86400) / 86400 * 86400
	b.ReportAllocs()
	b.ResetTimer()
	agg, _ := testAggregator(Config{})
	var parts []Partial
	for i := 0; b.Loop(); i++ {
		h := hits[i%len(hits)]
		h.Time += int64(i/len(hits)) * span
		agg.AddHit(&h, int64(i))
		if i%100000 == 99999 {
			parts = agg.Flush(parts[:0], 0, false)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if agg.Late > 0 {
		b.Fatalf("%d late hits: the benchmark measured dropping", agg.Late)
	}
}

func TestDistinctExactThenSketch(t *testing.T) {
	for _, n := range []int{1, 5, 1024, 1025, 5000, 100000, 1000000} {
		var d distinct
		for i := range n {
			d.add(mix64(uint64(i) + 12345))
			d.add(mix64(uint64(i) + 12345)) // duplicates do not count
		}
		got := d.count()
		if n <= exactMax && got != int64(n) {
			t.Errorf("n=%d: count %d, want exact", n, got)
		}
		if err := math.Abs(float64(got)-float64(n)) / float64(n); err > 0.05 {
			t.Errorf("n=%d: estimate %d, error %.3f", n, got, err)
		}
	}
	// Merging two halves equals adding all.
	var a, b, all distinct
	for i := range 30000 {
		x := mix64(uint64(i))
		all.add(x)
		if i%2 == 0 {
			a.add(x)
		} else {
			b.add(x)
		}
	}
	a.merge(&b)
	if a.count() != all.count() {
		t.Errorf("merged %d, all %d", a.count(), all.count())
	}
}

// withinSketchError accepts a row whose visitor count differs from the exact
// one only where the exact count is above exactMax (a HyperLogLog estimate),
// by at most 5 %; every other figure must be equal.
func withinSketchError(got, want string) bool {
	var gv, gu, wv, wu int64
	var grest, wrest string
	if n, _ := fmt.Sscanf(got, "%d/%d", &gv, &gu); n != 2 {
		return false
	}
	fmt.Sscanf(want, "%d/%d", &wv, &wu)
	grest, wrest = got[strings.IndexByte(got, ' ')+1:], want[strings.IndexByte(want, ' ')+1:]
	if strings.IndexByte(got, ' ') < 0 {
		grest, wrest = "", ""
	}
	return gv == wv && grest == wrest && wu > exactMax && math.Abs(float64(gu-wu)) <= 0.05*float64(wu)
}

// streamHits is a generated log as hits, a few shuffled within 5 minutes
// so that some arrive out of order and some arrive late.
func streamHits(t *testing.T, n int, seed uint64) []Hit {
	t.Helper()
	w := saltedWorker(t)
	var hits []Hit
	var arena []byte
	for i, l := range genLines(n, seed) {
		if w.Process(l) != nil {
			continue
		}
		var r transforms.Record
		r, arena = w.Rec.CloneInto(arena)
		var h Hit
		h.FromRecord(&r)
		switch i % 97 {
		case 5:
			h.Time -= 300 // out of order, within lateness
		case 7:
			h.Time -= 4 * 3600 // late
		}
		hits = append(hits, h)
	}
	return hits
}

// TestAggregatorReplayFromHeldOffset is the statistics stage's recovery in
// miniature: a run that "crashes" and restarts from its last checkpoint
// (the held offset, with the clock and the late counts saved then, and no
// output until it is past the checkpoint's position) leaves the same
// partials as a run that never stopped.
func TestAggregatorReplayFromHeldOffset(t *testing.T) {
	hits := streamHits(t, 40000, 31)
	cfg := Config{Windows: []time.Duration{time.Hour, 24 * time.Hour}}
	const flushEvery = 700
	const allLate = 1<<2 - 1
	run := func(crashes map[int]bool) (*Merger, int64) {
		m := testMerger(cfg, Masks{})
		agg, _ := testAggregator(cfg)
		type checkpoint struct {
			held, maxT, pos int64
			late            map[WindowKey]int64
		}
		cp, restored := checkpoint{}, checkpoint{}
		quietUntil := int64(0)
		var late int64
		for i := int64(0); i < int64(len(hits)); i++ {
			if crashes[int(i)] {
				delete(crashes, int(i))
				agg, _ = testAggregator(cfg)
				if cp.pos > 0 {
					agg.Advance(cp.maxT)
				}
				i, quietUntil, restored = cp.held, cp.pos, cp
			}
			if agg.AddHit(&hits[i], i) == allLate && i >= quietUntil {
				late++
			}
			if i+1 == quietUntil {
				agg.SetLateCounts(restored.late) // the replay has reached the checkpoint
			}
			if (i+1)%flushEvery == 0 || i == int64(len(hits))-1 {
				parts := agg.Flush(nil, 3, false)
				if i+1 >= quietUntil {
					for _, p := range parts {
						m.Add(&p)
					}
				}
				held, ok := agg.Held()
				if !ok {
					held = i + 1
				}
				maxT, _ := agg.Clock()
				if i+1 < quietUntil {
					// Replaying: the checkpoint is the restored one, at a new
					// held offset.
					cp = checkpoint{held, restored.maxT, quietUntil, restored.late}
				} else {
					cp = checkpoint{held, maxT, i + 1, agg.LateCounts()}
				}

			}
		}
		return m, late
	}
	want, wantLate := run(nil)
	if wantLate == 0 {
		t.Fatal("no late hits: the input does not test lateness")
	}
	finals := 0
	for _, w := range want.windows {
		for _, p := range w.parts {
			if p.Final {
				finals++
			}
		}
	}
	if finals == 0 || len(want.windows) < 10 {
		t.Fatalf("%d windows, %d final partials: the input is too small", len(want.windows), finals)
	}
	for _, crashes := range []map[int]bool{{5000: true}, {1234: true, 20000: true, 33333: true}, {39990: true}} {
		got, _ := run(crashes)
		if !reflect.DeepEqual(got.windows, want.windows) {
			t.Errorf("after crashes the partials differ: %d windows vs %d", len(got.windows), len(want.windows))

		}
		if !reflect.DeepEqual(got.Rows(nil, false), want.Rows(nil, false)) {
			t.Errorf("after crashes the rows differ")
		}
	}
}

// TestDistinctExactSet: the exact set against a map, with the id 0 and ids
// that collide in every low bit of the table.
func TestDistinctExactSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for range 300 {
		var d distinct
		want := map[uint64]bool{}
		for range rng.IntN(exactMax) {
			var v uint64
			switch rng.IntN(4) {
			case 0:
				v = 0
			case 1:
				v = uint64(rng.IntN(8)) << 40 // same low bits
			default:
				v = rng.Uint64()
			}
			d.add(v)
			want[v] = true
		}
		if d.count() != int64(len(want)) || len(d.ids()) != len(want) {
			t.Fatalf("count %d, ids %d, want %d", d.count(), len(d.ids()), len(want))
		}
		for _, id := range d.ids() {
			if !want[id] {
				t.Fatalf("id %d was never added", id)
			}
		}
	}
}

// TestTimeZone: with stats.time_zone, day windows start at local midnight
// (written as the UTC instant, also across a daylight-saving change), hour
// and weekday are local, and a local day's hits share one pseudonym day.
func TestTimeZone(t *testing.T) {
	cfg := Config{TimeZone: "Europe/Berlin", K: 1, KSearch: 1}
	agg, err := testAggregator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := transforms.Default().Resolve()
	if err != nil {
		t.Fatal(err)
	}
	p.DayZone = withDefaults(cfg).MustResolve().Location()
	a, _ := transforms.NewAnonymizer(p)
	w := a.NewWorker()
	w.SetSaltSource(everyDay{})
	var days []string
	for _, ts := range []string{
		"28/Mar/2026:23:30:00 +0000", // 00:30 on Sunday 29 March (CET), the day clocks go forward
		"29/Mar/2026:12:00:00 +0000", // 14:00 CEST, the same local day
		"01/Nov/2026:23:30:00 +0000", // 00:30 on Monday 2 November in Berlin (CET)
		"02/Nov/2026:22:59:00 +0000", // 23:59 the same local day
	} {
		line := `81.2.69.5 - - [` + ts + `] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`
		if err := w.Process([]byte(line)); err != nil {
			t.Fatal(err)
		}
		days = append(days, string(w.Rec.Pseudonym))
		agg.Add(&w.Rec)
	}
	if days[0] != days[1] || days[2] != days[3] || days[0] == days[2] {
		// (in event order: March's day, then November's)
		t.Errorf("pseudonyms of one local day differ, or of two days agree: %q", days)
	}
	got := map[string]int64{}
	for _, r := range agg.CloseWith(testMerger(cfg, Masks{})) {
		if r.WindowSize == "24h0m0s" && (r.Dimension == "total" || r.Dimension == "hour" || r.Dimension == "weekday") {
			got[r.WindowStart+" "+r.Dimension+" "+r.Value] = r.Views
		}
		if r.Dimension == "privacy" && r.TimeZone != "Europe/Berlin" {
			t.Errorf("privacy row's time_zone %q", r.TimeZone)
		}
	}
	for k, want := range map[string]int64{
		"2026-11-01T23:00:00Z total ": 2, "2026-11-01T23:00:00Z hour 00": 1, "2026-11-01T23:00:00Z hour 23": 1,
		"2026-11-01T23:00:00Z weekday Mon": 2, "2026-03-28T23:00:00Z total ": 2, "2026-03-28T23:00:00Z hour 14": 1,
		"2026-03-28T23:00:00Z weekday Sun": 2,
	} {
		if got[k] != want {
			t.Errorf("%s: %d views, want %d (got %v)", k, got[k], want, got)
		}
	}
	if _, err := withDefaults(Config{TimeZone: "Mars/Olympus"}).Resolve(); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Errorf("an unknown zone: %v", err)
	}
}

// lateRows closes a day whose hours got late hits: 20 visitors at 02:00,
// the clock at 05:00, then two more hits at 02:30 (their hour has closed;
// the day has not).
func lateRows(t *testing.T) []Row {
	t.Helper()
	agg, err := testAggregator(Config{})
	if err != nil {
		t.Fatal(err)
	}
	day := int64(1795737600) // a UTC midnight
	hit := func(at int64, visitor uint64) LateMask {
		h := Hit{Source: []byte("raw/0"), Time: day + at, Visitor: visitor, HasVisitor: true, Status: 200, Page: []byte("/"), Country: []byte("DE")}
		return agg.AddHit(&h, 0)
	}
	for v := range uint64(20) {
		if late := hit(2*3600, v+1); late != 0 {
			t.Fatalf("an in-time hit is late: %b", late)
		}
	}
	hit(5*3600, 1)
	for v := range uint64(2) {
		if late := hit(2*3600+1800, v+1); late != 1 {
			t.Fatalf("late mask %b, want 1 (the hour, not the day)", late)
		}
	}
	if late := hit(-3600, 3); late != 3 || agg.Late != 1 {
		t.Fatalf("a hit of the day before: mask %b, Late %d; want 11, 1", late, agg.Late)
	}
	return agg.CloseWith(testMerger(Config{}, Masks{}))
}

func TestLateEvents(t *testing.T) {
	rows := lateRows(t)
	late := map[string]int64{}
	views := map[string]int64{}
	for _, r := range rows {
		switch r.Dimension {
		case "privacy":
			late[r.WindowSize] += r.LateEvents
		case "total":
			views[r.WindowStart+" "+r.WindowSize] = r.Views
		}
	}
	if late["24h0m0s"] != 2 || late["1h0m0s"] != 0 {
		t.Errorf("late_events by window size: %v, want 2 in the day only", late)
	}
	if views["2026-11-27T02:00:00Z 1h0m0s"] != 20 || views["2026-11-27T00:00:00Z 24h0m0s"] != 23 {
		t.Errorf("views %v: the hour keeps its 20, the day counts the 2 late ones too", views)
	}
}

// TestEventRungShares: the privacy record states events_k and the share
// of the window's page views whose events were written at each rung —
// bots and views of events that were not k-anonymous aside — and nothing
// when events are not k-anonymous.
func TestEventRungShares(t *testing.T) {
	rows := func(eventsK int) []Row { return rungRows(t, eventsK) }
	n := 0
	for _, r := range rows(5) {
		if r.Dimension != "privacy" {
			continue
		}
		n++
		want := map[string]float64{"network": 0.6, "country": 0.3, "none": 0.1}
		if r.EventsK != 5 || !maps.Equal(r.EventRungs, want) {
			t.Errorf("%s %s: events_k %d, rungs %v; want 5, %v", r.WindowStart, r.WindowSize, r.EventsK, r.EventRungs, want)
		}
	}
	if n == 0 {
		t.Fatal("no privacy row")
	}
	for _, r := range rows(1) {
		if r.Dimension == "privacy" && (r.EventsK != 0 || r.EventRungs != nil) {
			t.Errorf("events_k 1: the privacy row states rungs %v", r.EventRungs)
		}
	}
}

// rungRows: a window of 10 page views whose events were written at
// network (6), country (3) and none (1), and a bot's.
func rungRows(t *testing.T, eventsK int) []Row {
	t.Helper()
	day := int64(1795737600)
	agg, err := testAggregator(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []transforms.Rung{0, 0, 0, 0, 0, 0, transforms.RungCountry, transforms.RungCountry, transforms.RungCountry, transforms.RungNone} {
		h := Hit{Source: []byte("raw/0"), Offset: int64(i), Time: day + 3600, Visitor: uint64(i + 1), HasVisitor: true, Status: 200,
			Page: []byte("/"), Country: []byte("DE"), Rung: uint8(r) + 1}
		agg.AddHit(&h, 0)
	}
	bot := Hit{Source: []byte("raw/0"), Offset: 99, Time: day + 3600, Visitor: 99, HasVisitor: true, Status: 200, Page: []byte("/"), Bot: true, Rung: 1}
	agg.AddHit(&bot, 0)
	m := testMerger(Config{}, Masks{})
	m.cfg.EventsK = eventsK
	return agg.CloseWith(m)
}
