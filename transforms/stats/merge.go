package stats

import (
	"sort"
	"strconv"
	"time"
)

// Partial is one input partition's figures for one cell (window ×
// dimension × value), the value of the internal <prefix>.partials topic.
// An Aggregator writes the whole cell each time, so a newer Partial for the
// same key replaces the older one, and a replay rewrites the same value.
type Partial struct {
	Start  int64  `json:"start"` // window start, Unix seconds
	Size   int64  `json:"size"`  // window size, seconds
	Dim    string `json:"dim"`   // a dimension name or "total"
	Value  string `json:"value,omitempty"`
	Capped bool   `json:"capped,omitempty"` // the cell of values past max_values
	Source int    `json:"src"`              // input partition
	Views  int64  `json:"views"`
	// Visitors is distinct visitors; IDs lists them (visitor ids, the first
	// 8 bytes of daily pseudonyms) when they are fewer than the largest k,
	// so that a folded "(other)" row counts each visitor once.
	Visitors int64    `json:"visitors"`
	IDs      []uint64 `json:"ids,omitempty"`
	// Totals only.
	Bots         int64      `json:"bots,omitempty"`
	Bytes        int64      `json:"bytes,omitempty"`
	Visits       int64      `json:"visits,omitempty"`
	Pages        int64      `json:"pages,omitempty"`
	Bounces      int64      `json:"bounces,omitempty"`
	DurationSum  int64      `json:"duration_sum,omitempty"`
	Durations    [][2]int64 `json:"durations,omitempty"` // [bucket seconds, visits]
	CappedEvents int64      `json:"capped_events,omitempty"`
	// CappedVisitors: visitors past max_visitors, whose visits were not
	// followed (their hits are counted).
	CappedVisitors int64 `json:"capped_visitors,omitempty"`
	// CappedSites: hosts past max_sites, without tables of their own.
	CappedSites int64 `json:"capped_sites,omitempty"`
	// Site is the host whose table the partial belongs to; empty for the
	// all-sites table.
	Site string `json:"site,omitempty"`
	// Final: the window has closed on this input partition.
	Final bool `json:"final"`
}

// AppendKey appends the partial's topic key: window start and size,
// dimension, source partition, then the value (last, so any bytes are safe).
func (p *Partial) AppendKey(dst []byte) []byte {
	dst = AppendWindowKey(dst, WindowKey{p.Start, p.Size})
	dst = append(dst, '|')
	dst = append(dst, p.Dim...)
	if p.Site != "" {
		dst = append(dst, '#')
		dst = append(dst, p.Site...)
	}
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(p.Source), 10)
	if p.Capped {
		return append(dst, "|c"...)
	}
	dst = append(dst, "|v"...)
	return append(dst, p.Value...)
}

// AppendWindowKey appends the key all partials of one window share; the
// partials topic is partitioned by it so that one merger sees a whole window.
func AppendWindowKey(dst []byte, k WindowKey) []byte {
	dst = strconv.AppendInt(dst, k.Start, 10)
	dst = append(dst, '|')
	return strconv.AppendInt(dst, k.Size, 10)
}

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
	cfg     Config
	masks   Masks
	windows map[WindowKey]*mergeWindow
	// Differential privacy: the noise key and scales.
	noiseKey NoiseKey
	budget   Budget
}

// Masks are the IPv4 and IPv6 prefix lengths the events were truncated to,
// stated in each window's privacy record; zero leaves them out.
type Masks struct{ IPv4, IPv6 int }

// NewMerger returns a Merger; cfg must be valid (Config.Validate).
func NewMerger(cfg Config, masks Masks) *Merger {
	m := &Merger{cfg: cfg.WithDefaults(), masks: masks, windows: map[WindowKey]*mergeWindow{}}
	if m.cfg.Differential() {
		m.budget, m.noiseKey = m.cfg.Budget(), NewNoiseKey()
	}
	return m
}

// SetNoiseKey sets the key the noise is derived from (differential
// privacy); without it a merger draws a random one, whose noise no other
// merger or restart reproduces.
func (m *Merger) SetNoiseKey(k NoiseKey) { m.noiseKey = k }

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

// Drop forgets a window.
func (m *Merger) Drop(key WindowKey) { delete(m.windows, key) }

// Rows appends the rows of every window.
func (m *Merger) Rows(dst []Row, final bool) []Row {
	for _, k := range m.Windows() {
		dst = m.WindowRows(dst, k, final)
	}
	return dst
}

// Row is one published figure: the <prefix>.stats schema (README).
type Row struct {
	WindowStart string `json:"window_start"`
	WindowSize  string `json:"window_size"`
	// Range is set on rows that combine daily rows (logveil stats --range,
	// /api/stats?range=): 7d, 30d or month; their visitors are sums of
	// daily unique visitors.
	Range string `json:"range,omitempty"`
	// Site is the host of a per-site table's row; empty in the all-sites
	// table.
	Site      string `json:"site,omitempty"`
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
	Views     int64  `json:"views"`
	Visitors  int64  `json:"visitors"`
	// Totals only.
	Bots              *int64   `json:"bots,omitempty"`
	Bytes             *int64   `json:"bytes,omitempty"`
	Visits            *int64   `json:"visits,omitempty"`
	VisitDurationMean *float64 `json:"visit_duration_mean_s,omitempty"`
	VisitDurationP50  *float64 `json:"visit_duration_p50_s,omitempty"`
	VisitDurationP90  *float64 `json:"visit_duration_p90_s,omitempty"`
	PagesPerVisit     *float64 `json:"pages_per_visit,omitempty"`
	BounceRate        *float64 `json:"bounce_rate,omitempty"`
	// Privacy record only.
	K                *int   `json:"k,omitempty"`
	KSearch          *int   `json:"k_search,omitempty"`
	SuppressedCells  *int64 `json:"suppressed_cells,omitempty"`
	SuppressedEvents *int64 `json:"suppressed_events,omitempty"`
	CappedEvents     *int64 `json:"capped_events,omitempty"`
	CappedVisitors   *int64 `json:"capped_visitors,omitempty"`
	CappedSites      *int64 `json:"capped_sites,omitempty"`
	// Differential privacy's record (stats.privacy: differential).
	Mechanism          string   `json:"mechanism,omitempty"`
	Epsilon            *float64 `json:"epsilon,omitempty"`
	Delta              *float64 `json:"delta,omitempty"`
	Rho                *float64 `json:"rho,omitempty"`
	Mechanisms         *int     `json:"mechanisms,omitempty"`
	SigmaVisitors      *float64 `json:"sigma_visitors,omitempty"`
	SigmaViews         *float64 `json:"sigma_views,omitempty"`
	SigmaTotalVisitors *float64 `json:"sigma_total_visitors,omitempty"`
	SigmaTotalViews    *float64 `json:"sigma_total_views,omitempty"`
	SigmaVisits        *float64 `json:"sigma_visits,omitempty"`
	SigmaDuration      *float64 `json:"sigma_duration,omitempty"`
	VisitsPerVisitor   *int     `json:"visits_per_visitor,omitempty"`
	VisitSeconds       *int     `json:"visit_seconds,omitempty"`
	Threshold          *float64 `json:"threshold,omitempty"`
	ValuesPerVisitor   *int     `json:"values_per_visitor,omitempty"`
	ViewsPerValue      *int     `json:"views_per_value,omitempty"`
	BoundedEvents      *int64   `json:"bounded_events,omitempty"`
	TimeZone           string   `json:"time_zone,omitempty"`
	IPv4Prefix         *int     `json:"ipv4_prefix,omitempty"`
	IPv6Prefix         *int     `json:"ipv6_prefix,omitempty"`
	// SaltEpoch is the UTC day (days since 1970-01-01) of the window's
	// start: the salt of that day made its pseudonyms (multi-day windows
	// span one salt per day).
	SaltEpoch *int64 `json:"salt_epoch,omitempty"`
	// Suppressed: a window with fewer than k visitors publishes its total
	// row with no figures.
	Suppressed bool `json:"suppressed,omitempty"`
	Final      bool `json:"final"`
}

// AppendKey appends the row's <prefix>.stats key: window start, size,
// dimension and value.
func (r *Row) AppendKey(dst []byte) []byte {
	dst = append(dst, r.WindowStart...)
	dst = append(dst, '|')
	dst = append(dst, r.WindowSize...)
	dst = append(dst, '|')
	dst = append(dst, r.Dimension...)
	if r.Site != "" {
		dst = append(dst, '#')
		dst = append(dst, r.Site...)
	}
	dst = append(dst, '|')
	return append(dst, r.Value...)
}

func ptr[T any](v T) *T { return &v }

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
	perSite := make([]mergedTable, len(sites))
	for i, site := range sites {
		perSite[i] = m.merge(w, site, final)
	}
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

// tableRows appends the rows of one merged table: the totals, each
// dimension's cells with at least k visitors (and not unsafe; at most
// max_values of them, by views) and an "(other)" row for the rest, and the
// privacy record.
func (m *Merger) tableRows(dst []Row, key WindowKey, final bool, site string, mt mergedTable, unsafe map[string]map[string]bool) []Row {
	start := time.Unix(key.Start, 0).UTC().Format(time.RFC3339)
	size := (time.Duration(key.Size) * time.Second).String()
	row := func(dim, value string, views, visitors int64) Row {
		return Row{WindowStart: start, WindowSize: size, Site: site, Dimension: dim, Value: value, Views: views, Visitors: visitors, Final: final}
	}
	tot, hist, cells, capped := mt.tot, mt.hist, mt.cells, mt.capped
	total := row("total", "", 0, 0)
	if tot.Visitors >= int64(m.cfg.K) {
		total.Views, total.Visitors = tot.Views, tot.Visitors
		total.Bots, total.Bytes = ptr(tot.Bots), ptr(tot.Bytes)
		if final {
			total.Visits = ptr(tot.Visits)
		}
		if final && tot.Visits > 0 {
			buckets := make([][2]int64, 0, len(hist))
			for d, n := range hist {
				buckets = append(buckets, [2]int64{d, n})
			}
			sort.Slice(buckets, func(i, j int) bool { return buckets[i][0] < buckets[j][0] })
			total.VisitDurationMean = ptr(float64(tot.DurationSum) / float64(tot.Visits))
			total.VisitDurationP50 = ptr(float64(histQuantile(buckets, tot.Visits, 0.5)))
			total.VisitDurationP90 = ptr(float64(histQuantile(buckets, tot.Visits, 0.9)))
			total.PagesPerVisit = ptr(float64(tot.Pages) / float64(tot.Visits))
			total.BounceRate = ptr(float64(tot.Bounces) / float64(tot.Visits))
		}
	} else {
		total.Suppressed = true // too few visitors to publish the window's totals
	}
	dst = append(dst, total)
	var suppressedCells, suppressedEvents int64
	cappedEvents := tot.CappedEvents
	for dim := range numDims {
		name := dimNames[dim]
		k := int64(m.cfg.K)
		if dim == DimSearch {
			k = int64(m.cfg.KSearch)
		}
		other := merged{ids: map[uint64]struct{}{}}
		var otherApprox int64 // visitors of folded cells whose ids are not known
		fold := func(c *merged) {
			other.views += c.views
			// In an all-sites table beside site tables, cells of any size
			// are folded, and whether their ids are at hand depends on how
			// the salt spread their visitors over partitions: (other) then
			// counts the sum of their visitors, the same in every run.
			if c.idsComplete && unsafe == nil {
				for id := range c.ids {
					other.ids[id] = struct{}{}
				}
			} else {
				otherApprox += c.visitor
			}
		}
		if c := capped[name]; c != nil {
			fold(c)
		}
		var kept []*merged
		for _, c := range cells[name] {
			if c.visitor < k || unsafe[name][c.value] {
				suppressedCells++
				suppressedEvents += c.views
				fold(c)
				continue
			}
			kept = append(kept, c)
		}
		sort.Slice(kept, func(i, j int) bool {
			return kept[i].views > kept[j].views || kept[i].views == kept[j].views && kept[i].value < kept[j].value
		})
		if len(kept) > m.cfg.MaxValues {
			for _, c := range kept[m.cfg.MaxValues:] {
				cappedEvents += c.views
				fold(c)
			}
			kept = kept[:m.cfg.MaxValues]
		}
		sort.Slice(kept, func(i, j int) bool { return kept[i].value < kept[j].value })
		for _, c := range kept {
			dst = append(dst, row(name, c.value, c.views, c.visitor))
		}
		// Every dimension with values has an (other) row, even an empty
		// one: a row that appeared and then went away would need a
		// tombstone that a restarted merger could not know to write.
		if len(cells[name]) > 0 || capped[name] != nil {
			dst = append(dst, row(name, Other, other.views, int64(len(other.ids))+otherApprox))
		}
	}
	priv := row("privacy", "", 0, 0)
	priv.K, priv.KSearch = ptr(m.cfg.K), ptr(m.cfg.KSearch)
	if m.masks.IPv4 > 0 {
		priv.IPv4Prefix, priv.IPv6Prefix = ptr(m.masks.IPv4), ptr(m.masks.IPv6)
	}
	priv.SaltEpoch = ptr(floorDiv(key.Start, 86400))
	priv.SuppressedCells, priv.SuppressedEvents, priv.CappedEvents = ptr(suppressedCells), ptr(suppressedEvents), ptr(cappedEvents)
	priv.CappedVisitors = ptr(tot.CappedVisitors)
	if tot.CappedSites > 0 {
		priv.CappedSites = ptr(tot.CappedSites)
	}
	priv.TimeZone = m.cfg.TimeZone
	return append(dst, priv)
}

var visitDims = map[string]bool{dimNames[DimEntryPage]: true, dimNames[DimExitPage]: true, dimNames[DimVisitCountry]: true}

// histQuantile is the nearest-rank quantile q of n values in buckets.
func histQuantile(buckets [][2]int64, n int64, q float64) int64 {
	rank := int64(q*float64(n) + 0.999999)
	rank = min(max(rank, 1), n)
	var seen int64
	for _, b := range buckets {
		if seen += b[1]; seen >= rank {
			return b[0]
		}
	}
	return buckets[len(buckets)-1][0]
}
