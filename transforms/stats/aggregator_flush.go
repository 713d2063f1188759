package stats

import (
	"slices"
	"sort"

	"github.com/logveil/logveil/transforms"
)

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
	tot.Late = w.late
	tot.Rungs = nil
	if w.rungs != [transforms.NumRungs]int64{} {
		tot.Rungs = append([]int64(nil), w.rungs[:]...)
	}
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
