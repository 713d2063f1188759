package stats

import (
	"sort"
	"time"
)

type partKey struct {
	site       string
	dim, value string
	capped     bool
	source     int
}

type mergeWindow struct {
	parts map[partKey]*Partial
}

// Merger combines the Partials of every input partition into the published
// rows. Visitors of different partitions are different people (the visits
// topic is partitioned by pseudonym), so visitor counts add up; k-anonymity
// and max_values apply to the combined cells.
type Merger struct {
	cfg     Params
	masks   Masks
	windows map[WindowKey]*mergeWindow
	// Differential privacy: the noise key and scales.
	noiseKey NoiseKey
	budget   Budget
}

// Masks are the IPv4 and IPv6 prefix lengths the events were truncated to,
// stated in each window's privacy record when Stated.
type Masks struct {
	IPv4, IPv6 int
	Stated     bool
}

// NewMerger returns a Merger. Under differential privacy without
// Params.NoiseKey it draws a random key, whose noise no other merger or
// restart reproduces.
func NewMerger(p Params) *Merger {
	m := &Merger{cfg: p, masks: p.Masks, windows: map[WindowKey]*mergeWindow{}}
	if p.Differential() {
		m.budget, m.noiseKey = p.budget, p.NoiseKey
		if m.noiseKey == nil {
			m.noiseKey = NewNoiseKey()
		}
	}
	return m
}

// Add stores p, replacing an older partial of the same key. It returns the
// window p belongs to.
func (m *Merger) Add(p *Partial) WindowKey {
	key := WindowKey{p.Start, p.Size}
	w := m.windows[key]
	if w == nil {
		w = &mergeWindow{parts: map[partKey]*Partial{}}
		m.windows[key] = w
	}
	cp := *p
	w.parts[partKey{p.Site, p.Dim, p.Value, p.Capped, p.Source}] = &cp
	return key
}

// Windows returns the windows held, by size then start.
func (m *Merger) Windows() []WindowKey {
	keys := make([]WindowKey, 0, len(m.windows))
	for k := range m.windows {
		keys = append(keys, k)
	}
	sortWindows(keys)
	return keys
}

// CellKeys appends the row key of every value of every dimension the
// window holds, in every table, whether a publish would keep or fold it.
// A row published before the window was final can fold later (max_values
// and the per-site rule are decided on what has come): a merger that did
// not publish it itself — one restarted mid-window — tombstones the keys
// of this list that the final rows lack.
func (m *Merger) CellKeys(dst []string, key WindowKey) []string {
	w := m.windows[key]
	if w == nil {
		return dst
	}
	r := Row{
		WindowStart: time.Unix(key.Start, 0).UTC().Format(time.RFC3339),
		WindowSize:  (time.Duration(key.Size) * time.Second).String(),
	}
	var buf []byte
	for k := range w.parts {
		if k.capped || k.dim == "total" {
			continue
		}
		r.Site, r.Dimension, r.Value = k.site, k.dim, k.value
		buf = r.AppendKey(buf[:0])
		dst = append(dst, string(buf))
	}
	return dst
}

// Drop forgets a window.
func (m *Merger) Drop(key WindowKey) { delete(m.windows, key) }

// Rows appends the rows of every window.
func (m *Merger) Rows(dst []Row, final bool) []Row {
	for _, k := range m.Windows() {
		dst = m.WindowRows(dst, k, final)
	}
	return dst
}

// merged is one combined cell.
type merged struct {
	value          string
	views, visitor int64
	ids            map[uint64]struct{}
	idsComplete    bool
	approx         bool // some partition's count is a sketch's estimate
}

// WindowRows appends the rows of one window: the totals, each dimension's
// cells with at least k visitors (at most max_values of them, by views)
// and an "(other)" row for the rest, and the privacy record.
func (m *Merger) WindowRows(dst []Row, key WindowKey, final bool) []Row {
	w := m.windows[key]
	if w == nil {
		return dst
	}
	var sites []string
	seen := map[string]bool{}
	for k := range w.parts {
		if k.site != "" && !seen[k.site] {
			seen[k.site] = true
			sites = append(sites, k.site)
		}
	}
	sort.Strings(sites)
	all := m.merge(w, "", final)
	if m.cfg.Differential() {
		return m.dpTableRows(dst, key, final, "", all)
	}
	// The site is a value like any other: a site with fewer than k
	// visitors in the window has no table (its name and its small counts
	// on no row); its hits count in the all-sites table only, where the
	// cross-site rule below treats them as hits of no listed site.
	perSite := make([]mergedTable, 0, len(sites))
	listed := sites[:0]
	for _, site := range sites {
		if mt := m.merge(w, site, final); mt.tot.Visitors >= int64(m.cfg.K) {
			perSite = append(perSite, mt)
			listed = append(listed, site)
		}
	}
	sites = listed
	if len(sites) > 0 && !final {
		// Whether subtracting a site's rows singles out a cell changes as
		// hits arrive (a site's first visitor of a value makes it unsafe),
		// and a published row cannot be taken back: with site tables, the
		// all-sites table publishes its cells with the final rows only.
		all.cells, all.capped = nil, nil
	}
	unsafe := m.unsafeCells(all, perSite)
	if len(sites) > 0 && unsafe == nil {
		unsafe = map[string]map[string]bool{}
	}
	dst = m.tableRows(dst, key, final, "", all, unsafe)
	for i, site := range sites {
		dst = m.tableRows(dst, key, final, site, perSite[i], nil)
	}
	return dst
}

// mergedTable is one table of a window (all sites, or one) combined
// across input partitions.
type mergedTable struct {
	tot    Partial
	hist   map[int64]int64
	cells  map[string]map[string]*merged // dimension -> value -> cell
	capped map[string]*merged
}

// unsafeCells are the cells of the all-sites table that subtracting the
// per-site tables from it could single out: a cell that some site has with
// fewer than k visitors (and more than none), or that the hits of no
// listed site (no host, or past max_sites) have so. The all-sites table
// folds them into (other) like its own small cells, so that no difference
// of published rows is a cell of fewer than k visitors. Only cells whose
// visitors are all counted exactly are compared: an estimate's difference
// would be noise.
func (m *Merger) unsafeCells(all mergedTable, sites []mergedTable) map[string]map[string]bool {
	if len(sites) == 0 {
		return nil
	}
	unsafe := map[string]map[string]bool{}
	for dim, cells := range all.cells {
		k := int64(m.cfg.K)
		if dim == dimNames[DimSearch] {
			k = int64(m.cfg.KSearch)
		}
		for value, c := range cells {
			rest, exact := c.visitor, !c.approx
			bad := false
			for _, st := range sites {
				sc := st.cells[dim][value]
				if sc == nil {
					continue
				}
				rest -= sc.visitor
				exact = exact && !sc.approx
				if sc.visitor < k {
					bad = true
				}
			}
			if bad || exact && rest > 0 && rest < k {
				if unsafe[dim] == nil {
					unsafe[dim] = map[string]bool{}
				}
				unsafe[dim][value] = true
			}
		}
	}
	return unsafe
}

// merge combines the partials of one table (site; "" for all sites).
func (m *Merger) merge(w *mergeWindow, site string, final bool) mergedTable {
	// Combine the partials per dimension and value, in a fixed order.
	pks := make([]partKey, 0, len(w.parts))
	for k := range w.parts {
		if k.site == site {
			pks = append(pks, k)
		}
	}
	sort.Slice(pks, func(i, j int) bool {
		a, b := pks[i], pks[j]
		if a.dim != b.dim {
			return a.dim < b.dim
		}
		if a.capped != b.capped {
			return !a.capped
		}
		if a.value != b.value {
			return a.value < b.value
		}
		return a.source < b.source
	})
	mt := mergedTable{hist: map[int64]int64{}, cells: map[string]map[string]*merged{}, capped: map[string]*merged{}}
	tot, hist, cells, capped := &mt.tot, mt.hist, mt.cells, mt.capped
	for _, k := range pks {
		p := w.parts[k]
		if !final && visitDims[p.Dim] {
			continue // visit figures are published with the final rows only
		}
		if p.Dim == "total" {
			tot.Views += p.Views
			tot.Visitors += p.Visitors
			tot.Bots += p.Bots
			tot.Bytes += p.Bytes
			tot.Visits += p.Visits
			tot.Pages += p.Pages
			tot.Bounces += p.Bounces
			tot.DurationSum += p.DurationSum
			tot.CappedEvents += p.CappedEvents
			tot.CappedVisitors += p.CappedVisitors
			tot.CappedSites += p.CappedSites
			tot.Late += p.Late
			if len(p.Rungs) > 0 {
				tot.Rungs = append(tot.Rungs, make([]int64, max(0, len(p.Rungs)-len(tot.Rungs)))...)
				for i, n := range p.Rungs {
					tot.Rungs[i] += n
				}
			}
			for _, d := range p.Durations {
				hist[d[0]] += d[1]
			}
			continue
		}
		var c *merged
		if p.Capped {
			if c = capped[p.Dim]; c == nil {
				c = &merged{value: Other}
				capped[p.Dim] = c
			}
		} else {
			if cells[p.Dim] == nil {
				cells[p.Dim] = map[string]*merged{}
			}
			if c = cells[p.Dim][p.Value]; c == nil {
				c = &merged{value: p.Value, idsComplete: true}
				cells[p.Dim][p.Value] = c
			}
		}
		c.views += p.Views
		c.visitor += p.Visitors
		c.approx = c.approx || p.Visitors > exactMax
		if int64(len(p.IDs)) != p.Visitors {
			c.idsComplete = false // a capped cell has none; a large one, a count
		}
		if c.idsComplete && len(p.IDs) > 0 {
			if c.ids == nil {
				c.ids = make(map[uint64]struct{}, len(p.IDs))
			}
			for _, id := range p.IDs {
				c.ids[id] = struct{}{}
			}
		}
	}
	return mt
}
