package stats

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/logveil/logveil/transforms"
)

type cell struct {
	views    int64
	visitors distinct
	key      string // the value; "" for a capped cell, which no hit matches by value
	capped   bool
}

func (c *cell) add(views int64, v uint64, hasV bool) {
	c.views += views
	if hasV {
		c.visitors.add(v)
	}
}

// session is one visit inside a window. Its entry and exit hits are the
// first and last by (time, raw source, raw offset): hits in the same second
// order the same way whatever order they arrive in.
type session struct {
	start, last         int64
	pages               int64
	entry, exit         hitRef
	entryPage, exitPage string
	country             string
}

// hitRef orders hits of one second by where they were read.
type hitRef struct {
	source string
	offset int64
}

func (a hitRef) less(b hitRef) bool {
	return a.source < b.source || a.source == b.source && a.offset < b.offset
}

type window struct {
	start, size        int64
	views, bots, bytes int64
	dims               [numHitDims]map[string]*cell
	capped             [numHitDims]cell
	cappedEvents       int64
	byVisitor          map[uint64]*visitorState
	untracked          distinct // visitors past max_visitors: counted, their visits not followed
	minOffset          int64    // the first input offset that went into the window
	dirty              bool
	bounded            int64 // differential privacy: what the contribution bounds dropped
	// sites are the window's per-site tables (the hits of one host each),
	// at most max_sites; cappedSites counts the hosts past that.
	sites       map[string]*window
	cappedSites map[string]struct{}
}

// site returns the window's table for host, or nil past max_sites.
func (w *window) site(host []byte, max int) *window {
	if sw := w.sites[string(host)]; sw != nil {
		return sw
	}
	if len(w.sites) >= max {
		if len(w.cappedSites) < 1<<10 {
			if w.cappedSites == nil {
				w.cappedSites = map[string]struct{}{}
			}
			w.cappedSites[string(host)] = struct{}{}
		}
		return nil
	}
	sw := newWindow(w.start, w.size, w.minOffset)
	if w.sites == nil {
		w.sites = map[string]*window{}
	}
	w.sites[string(host)] = sw
	return sw
}

func newWindow(start, size, offset int64) *window {
	w := &window{start: start, size: size, minOffset: offset, byVisitor: map[uint64]*visitorState{}}
	for i := range w.dims {
		w.dims[i] = map[string]*cell{}
	}
	return w
}

// Aggregator computes page and time statistics over anonymized hits of one
// input partition, per event-time window, and emits them as Partials that a
// Merger combines (README: statistics). A window closes when the largest
// event time seen passes its end by Lateness; hits for closed windows are
// late. Distinct visitors are exact up to 1024 per cell, then HyperLogLog
// estimates; MaxValues bounds the cells per dimension and window. Not safe
// for concurrent use.
type Aggregator struct {
	cfg      Config
	sizes    []int64
	gap      int64
	lateness int64
	windows  map[WindowKey]*window
	clock    int64 // event time windows close against
	started  bool
	external bool // the clock moves by Advance only
	strings  map[string]string
	zone     zone
	Received int64 // hits added, late ones included
	Late     int64 // hits dropped because their window had closed
}

// NewAggregator returns an Aggregator.
func NewAggregator(cfg Config) (*Aggregator, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	sizes := cfg.windowSizes()
	a := &Aggregator{cfg: cfg, sizes: sizes, gap: int64(cfg.SessionGap / time.Second), lateness: int64(cfg.Lateness / time.Second),
		windows: map[WindowKey]*window{}, strings: map[string]string{}}
	loc, _ := cfg.Location() // Validate checked it
	a.zone = newZone(loc)
	return a, nil
}

// Clock is the event time windows close against (Unix seconds): a window
// closes when the clock passes its end by the lateness. By default it is
// the largest event time seen; ok is false before it is set.
func (a *Aggregator) Clock() (t int64, ok bool) { return a.clock, a.started }

// Advance moves the clock forward to t (never back).
func (a *Aggregator) Advance(t int64) {
	if !a.started || t > a.clock {
		a.clock, a.started = t, true
	}
}

// UseExternalClock makes Advance the only thing that moves the clock, e.g.
// to the smallest watermark of several inputs whose hits are interleaved.
func (a *Aggregator) UseExternalClock() { a.external = true }

// Held is the smallest input offset that an open window still needs: a
// restart must replay from there. ok is false when no window is open.
func (a *Aggregator) Held() (offset int64, ok bool) {
	for _, w := range a.windows {
		if !ok || w.minOffset < offset {
			offset, ok = w.minOffset, true
		}
	}
	return offset, ok
}

// Open is the number of open windows.
func (a *Aggregator) Open() int { return len(a.windows) }

func (a *Aggregator) closed(end int64) bool { return a.started && end <= a.clock-a.lateness }

var weekdays = [7]string{"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"} // day 0 of Unix time was a Thursday

// Add counts one anonymized record (batch mode: its offset is its position).
func (a *Aggregator) Add(r *transforms.Record) {
	var h Hit
	h.FromRecord(r)
	a.AddHit(&h, a.Received)
}

// AddHit counts one hit read at input offset. It reports false when the
// hit was late (every window it falls in had closed).
func (a *Aggregator) AddHit(h *Hit, offset int64) bool {
	a.Received++
	t := h.Time
	if !a.external {
		a.Advance(t)
	}
	counted := false
	var ref hitRef // where the hit was read, for visits' entry/exit ties
	if h.HasVisitor && !h.Bot {
		ref = hitRef{a.intern(h.Source), h.Offset}
	}
	var values hitValues
	haveValues := false
	for _, size := range a.sizes {
		start := a.zone.windowStart(t, size)
		if a.closed(start + size) {
			continue
		}
		counted = true
		if !haveValues {
			a.hitValues(&values, h, t)
			haveValues = true
		}
		w := a.window(start, size, offset)
		a.count(w, h, &values, t, ref)
		if len(h.Host) > 0 && a.cfg.MaxSites > 0 {
			if sw := w.site(h.Host, a.cfg.MaxSites); sw != nil {
				a.count(sw, h, &values, t, ref)
			}
		}
	}
	if !counted {
		a.Late++
	}
	return counted
}

// count adds h to one window's (or one site's) table.
func (a *Aggregator) count(w *window, h *Hit, values *hitValues, t int64, ref hitRef) {
	if a.cfg.Differential() {
		a.countBounded(w, h, values, t, ref)
		return
	}
	v, hasV := h.Visitor, h.HasVisitor
	max := a.cfg.MaxValues
	// Who the traffic is counts every hit; the rest counts people's.
	if len(h.Crawler) > 0 {
		w.add(DimCrawler, h.Crawler, v, hasV, nil, max)
	}
	if h.Bot {
		w.add(DimTraffic, h.traffic(), v, hasV, nil, max)
		w.bots++
		return
	}
	w.views++
	if h.Bytes > 0 {
		w.bytes += h.Bytes
	}
	var vs *visitorState
	if hasV {
		if vs = w.byVisitor[v]; vs == nil {
			if len(w.byVisitor) < a.cfg.MaxVisitors {
				vs = &visitorState{}
				w.byVisitor[v] = vs
			} else {
				w.untracked.add(v)
			}
		}
	}
	// People's hits are the traffic dimension's "human" cell, whose figures
	// are the window's own: partials writes it from the totals.
	for dim, value := range values[:] {
		if dim <= DimWeekday || len(value) > 0 { // every hit has these, if only as ""
			w.add(dim, value, v, hasV, vs, max)
		}
	}
	if vs != nil {
		a.visit(vs, t, h, ref)
	}
}

// hitValues are a hit's values of the people's dimensions, by dimension;
// nil where the hit has none (traffic and crawler are counted apart).
type hitValues [numHitDims][]byte

// hitValues sets v to h's values, hour and weekday in local time.
func (a *Aggregator) hitValues(v *hitValues, h *Hit, t int64) {
	local := t + a.zone.offset(t)
	v[DimPage], v[DimCountry], v[DimStatus], v[DimReferrer] = h.Page, h.Country, bytesOf(statusClass(h.Status)), h.Referrer
	v[DimBrowser], v[DimOS], v[DimDevice] = h.Browser, h.OS, h.Device
	v[DimHour], v[DimWeekday] = bytesOf(twoDigits[floorDiv(local, 3600)%24]), bytesOf(weekdays[floorDiv(local, 86400)%7])
	v[DimSearch], v[DimHost], v[DimUTMSource], v[DimUTMMedium], v[DimUTMCampaign] = h.Search, h.Host, h.UTMSource, h.UTMMedium, h.UTMCampaign
	switch {
	case h.Status == 404:
		v[DimNotFound] = h.Page
	case h.Status >= 500 && h.Status <= 599:
		v[DimServerError] = h.Page
	}
}

func (a *Aggregator) window(start, size, offset int64) *window {
	key := WindowKey{start, size}
	w := a.windows[key]
	if w == nil {
		w = newWindow(start, size, offset)
		a.windows[key] = w
	}
	w.dirty = true
	return w
}

// visitorState is one visitor in one window: their visits, and per hit
// dimension the cell they were last counted in (a visitor's country,
// browser, hour... rarely change within a window, so most hits skip the
// distinct-visitor set).
type visitorState struct {
	sessions []session
	counted  [numHitDims]*cell
	// Differential privacy: the values kept per dimension (dp.go) and all
	// the visitor's views in the window.
	dp    *dpState
	views int64
}

// add counts a hit in dim's cell for value; v is the visitor when hasV, vs
// their state, nil when the hit has no visitor or the window does not
// follow them (past max_visitors).
func (w *window) add(dim int, value []byte, v uint64, hasV bool, vs *visitorState, max int) {
	// A visitor's hits mostly repeat their country, browser, status, hour…:
	// the cell they were last counted in is checked before the map.
	if vs != nil {
		if c := vs.counted[dim]; c != nil && !c.capped && c.key == string(value) {
			c.views++
			return
		}
	}
	c := w.dims[dim][string(value)]
	if c == nil {
		if len(w.dims[dim]) >= max {
			c = &w.capped[dim]
			c.capped = true
			w.cappedEvents++
		} else {
			c = &cell{key: string(value)}
			w.dims[dim][c.key] = c
		}
	}
	c.views++
	switch {
	case vs != nil && vs.counted[dim] != c:
		c.visitors.add(v)
		vs.counted[dim] = c
	case vs == nil && hasV:
		c.visitors.add(v)
	}
}

// visit adds a hit to the visitor's visits in w. Visits are the visitor's
// hits in the window split where two consecutive hits are more than the
// session gap apart, whatever order the hits arrive in.
func (a *Aggregator) visit(vs *visitorState, t int64, h *Hit, ref hitRef) {
	ss := vs.sessions
	i := 0 // the first visit that does not end more than a gap before t
	for i < len(ss) && ss[i].last+a.gap < t {
		i++
	}
	if i == len(ss) || ss[i].start-a.gap > t {
		page, country := a.intern(h.Page), a.intern(h.Country)
		ss = append(ss, session{})
		copy(ss[i+1:], ss[i:])
		ss[i] = session{start: t, last: t, pages: 1, entry: ref, exit: ref, entryPage: page, exitPage: page, country: country}
		vs.sessions = ss
		return
	}
	s := &ss[i]
	s.pages++
	if t < s.start || t == s.start && ref.less(s.entry) {
		s.start, s.entry, s.entryPage, s.country = t, ref, a.intern(h.Page), a.intern(h.Country)
	}
	if t > s.last || t == s.last && s.exit.less(ref) {
		s.last, s.exit, s.exitPage = t, ref, a.intern(h.Page)
	}
	// A hit can bridge this visit and the next one.
	if i+1 < len(ss) && ss[i+1].start-a.gap <= s.last {
		n := ss[i+1]
		s.pages += n.pages
		if n.last > s.last || n.last == s.last && s.exit.less(n.exit) {
			s.last, s.exit, s.exitPage = n.last, n.exit, n.exitPage
		}
		ss = append(ss[:i+1], ss[i+2:]...)
		vs.sessions = ss
	}
}

// bytesOf views a string as bytes for a map lookup; the result must not be
// written to.

// intern returns a string for b, shared across hits of the same page.
func (a *Aggregator) intern(b []byte) string {
	if s, ok := a.strings[string(b)]; ok {
		return s
	}
	if len(a.strings) >= 1<<17 {
		clear(a.strings)
	}
	s := string(b)
	a.strings[s] = s
	return s
}

var statusClasses = [10]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

func statusClass(s int) string { return statusClasses[s/100%10] }

var twoDigits = func() (t [24]string) {
	for i := range t {
		t[i] = fmt.Sprintf("%02d", i)
	}
	return t
}()

// Flush appends the Partials of every window that changed since the last
// Flush and, final, of every window that has closed (those are then
// forgotten). With all set every window is closed: the end of a batch
// input. source is the input partition the partials are keyed by.
func (a *Aggregator) Flush(dst []Partial, source int, all bool) []Partial {
	keys := make([]WindowKey, 0, len(a.windows))
	for k, w := range a.windows {
		final := all || a.closed(w.start+w.size)
		if w.dirty || final {
			keys = append(keys, k)
		}
	}
	sortWindows(keys)
	for _, k := range keys {
		w := a.windows[k]
		final := all || a.closed(w.start+w.size)
		dst = a.partials(dst, w, source, final)
		sites := make([]string, 0, len(w.sites))
		for s := range w.sites {
			sites = append(sites, s)
		}
		sort.Strings(sites)
		for _, s := range sites {
			n := len(dst)
			dst = a.partials(dst, w.sites[s], source, final)
			for i := n; i < len(dst); i++ {
				dst[i].Site = s
			}
		}
		w.dirty = false
		if final {
			delete(a.windows, k)
		}
	}
	return dst
}

// CloseWith closes every window, as at the end of a batch input, and
// returns the rows m merges them into.
func (a *Aggregator) CloseWith(m *Merger) []Row {
	for _, p := range a.Flush(nil, 0, true) {
		m.Add(&p)
	}
	return m.Rows(nil, true)
}

// durationBucket rounds a visit duration to the resolution the quantiles
// are published at: seconds up to 10 min, 10 s up to 1 h, then minutes.
// It bounds a window's duration histogram to about 2,300 buckets.
func durationBucket(d int64) int64 {
	switch {
	case d < 600:
		return d
	case d < 3600:
		return d / 10 * 10
	default:
		return d / 60 * 60
	}
}

func (a *Aggregator) partials(dst []Partial, w *window, source int, final bool) []Partial {
	if a.cfg.Differential() {
		a.boundedCells(w)
	}
	kmax := int64(max(a.cfg.K, a.cfg.KSearch))
	base := Partial{Start: w.start, Size: w.size, Source: source, Final: final}
	withCell := func(p Partial, c *cell) Partial {
		p.Views, p.Visitors = c.views, c.visitors.count()
		if p.Visitors < kmax {
			p.IDs = c.visitors.ids()
		}
		return p
	}
	// Visits: computed from the window's sessions, once the window has
	// closed. Before that a visit can still grow, merge with another or
	// change its entry and exit pages, so its figures are not published:
	// provisional rows carry only hit counts, which never shrink.
	var visits [3]map[string]*cell
	for i := range visits {
		visits[i] = map[string]*cell{}
	}
	var visitCapped [3]cell
	tot := base
	tot.Dim = "total"
	hist := map[int64]int64{}
	vids := make([]uint64, 0, len(w.byVisitor))
	for v := range w.byVisitor {
		if final {
			vids = append(vids, v)
		}
	}
	sort.Slice(vids, func(i, j int) bool { return vids[i] < vids[j] })
	maxVisits, maxSeconds := 1<<30, int64(1)<<62
	if a.cfg.Differential() {
		// Bounded: a visitor's first visits_per_visitor visits (by start),
		// each at most visit_seconds long (dp.go).
		maxVisits, maxSeconds = a.cfg.VisitsPerVisitor, int64(a.cfg.VisitSeconds)
	}
	for _, v := range vids {
		for n, s := range w.byVisitor[v].sessions {
			if n >= maxVisits {
				break
			}
			tot.Visits++
			tot.Pages += s.pages
			if s.pages == 1 {
				tot.Bounces++
			}
			d := min(s.last-s.start, maxSeconds)
			tot.DurationSum += d
			hist[durationBucket(d)]++
			for i, value := range [3]string{s.entryPage, s.exitPage, s.country} {
				c := visits[i][value]
				if c == nil {
					if len(visits[i]) >= a.cfg.MaxValues {
						visitCapped[i].add(1, v, true)
						tot.CappedEvents++
						continue
					}
					c = &cell{}
					visits[i][value] = c
				}
				c.add(1, v, true)
			}
		}
	}
	for d, n := range hist {
		tot.Durations = append(tot.Durations, [2]int64{d, n})
	}
	sort.Slice(tot.Durations, func(i, j int) bool { return tot.Durations[i][0] < tot.Durations[j][0] })
	// The window's visitors are the keys of byVisitor and those past
	// max_visitors (never fewer than k: max_visitors is at least k).
	tot.Views, tot.Visitors = w.views, int64(len(w.byVisitor))+w.untracked.count()
	tot.CappedVisitors = w.untracked.count()
	if tot.Visitors < kmax {
		for v := range w.byVisitor {
			tot.IDs = append(tot.IDs, v)
		}
		slices.Sort(tot.IDs)
	}
	tot.Bots, tot.Bytes = w.bots, w.bytes
	tot.CappedEvents += w.cappedEvents + w.bounded
	tot.CappedSites = int64(len(w.cappedSites))
	dst = append(dst, tot)
	if a.cfg.Differential() && !final {
		// A visitor's kept values change until the window closes (a value
		// of smaller hash pushes one out), and a cell written now could
		// not be taken back: under differential privacy the cells come
		// with the final partials only.
		return dst
	}
	if w.views > 0 {
		human := base
		human.Dim, human.Value = dimNames[DimTraffic], transforms.TrafficHuman
		human.Views, human.Visitors, human.IDs = tot.Views, tot.Visitors, tot.IDs
		dst = append(dst, human)
	}
	emit := func(dim int, cells map[string]*cell, capped *cell) {
		values := make([]string, 0, len(cells))
		for v := range cells {
			values = append(values, v)
		}
		sort.Strings(values)
		for _, v := range values {
			p := base
			p.Dim, p.Value = dimNames[dim], v
			dst = append(dst, withCell(p, cells[v]))
		}
		if capped.views > 0 {
			p := base
			p.Dim, p.Capped = dimNames[dim], true
			dst = append(dst, withCell(p, capped))
		}
	}
	for dim := range numHitDims {
		emit(dim, w.dims[dim], &w.capped[dim])
	}
	for i := range visits {
		emit(DimEntryPage+i, visits[i], &visitCapped[i])
	}
	return dst
}
