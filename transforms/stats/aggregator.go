package stats

import (
	"fmt"

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
	// rungs counts the page views by their events' rung (Hit.Rung).
	rungs [transforms.NumRungs]int64
	// late counts the hits this window took that came after a shorter
	// window they fall in had closed: that window's figures miss them.
	late int64
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
	cfg      Params
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
	Late     int64 // hits dropped because every window they fall in had closed
}

// NewAggregator returns an Aggregator.
func NewAggregator(p Params) *Aggregator {
	return &Aggregator{cfg: p, sizes: p.sizes, gap: p.gap, lateness: p.lateness,
		windows: map[WindowKey]*window{}, strings: map[string]string{}, zone: newZone(p.loc)}
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

// LateCounts are the open windows' late_events counts (hits late for a
// shorter window), for a checkpoint; nil when there are none.
func (a *Aggregator) LateCounts() map[WindowKey]int64 {
	var m map[WindowKey]int64
	for k, w := range a.windows {
		if w.late > 0 {
			if m == nil {
				m = map[WindowKey]int64{}
			}
			m[k] = w.late
		}
	}
	return m
}

// SetLateCounts gives the open windows the late_events counts of a
// checkpoint, once a replay from the held offset has reached the
// checkpoint's position: the replay runs at the checkpoint's clock, so it
// cannot tell which hits were late for a shorter window when first read.
func (a *Aggregator) SetLateCounts(m map[WindowKey]int64) {
	for k, w := range a.windows {
		w.late = m[k]
	}
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

// LateMask has a bit per window size, in the order of Config.Windows.
type LateMask uint64

// AddHit counts one hit read at input offset. It reports the window sizes
// the hit was late for: those whose window of the hit had closed before it
// came. A hit late for some sizes only is counted in the others, whose
// privacy row says so (late_events).
func (a *Aggregator) AddHit(h *Hit, offset int64) (late LateMask) {
	a.Received++
	t := h.Time
	if !a.external {
		a.Advance(t)
	}
	counted := false
	var open [maxWindows]*window
	var ref hitRef // where the hit was read, for visits' entry/exit ties
	if h.HasVisitor && !h.Bot {
		ref = hitRef{a.intern(h.Source), h.Offset}
	}
	var values hitValues
	haveValues := false
	for i, size := range a.sizes {
		start := a.zone.windowStart(t, size)
		if a.closed(start + size) {
			late |= 1 << i
			continue
		}
		counted = true
		if !haveValues {
			a.hitValues(&values, h, t)
			haveValues = true
		}
		w := a.window(start, size, offset)
		open[i] = w
		a.count(w, h, &values, t, ref)
		if len(h.Host) > 0 && a.cfg.MaxSites > 0 {
			if sw := w.site(h.Host, a.cfg.MaxSites); sw != nil {
				a.count(sw, h, &values, t, ref)
			}
		}
	}
	if !counted {
		a.Late++
	} else if late != 0 {
		for i, w := range open[:len(a.sizes)] {
			if w != nil && a.sizes[i] > a.shortestLate(late) {
				w.late++
			}
		}
	}
	return late
}

// shortestLate is the size of the shortest window of the late mask.
func (a *Aggregator) shortestLate(late LateMask) int64 {
	shortest := int64(1) << 62
	for i, size := range a.sizes {
		if late&(1<<i) != 0 {
			shortest = min(shortest, size)
		}
	}
	return shortest
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
	if h.Rung > 0 {
		w.rungs[h.Rung-1]++
	}
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

// statusClass is "2xx" and the like; "(none)" when the format logs no
// status.
func statusClass(s int) string {
	if s <= 0 {
		return "(none)"
	}
	return statusClasses[s/100%10]
}

var twoDigits = func() (t [24]string) {
	for i := range t {
		t[i] = fmt.Sprintf("%02d", i)
	}
	return t
}()
