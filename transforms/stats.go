package transforms

import (
	"encoding/hex"
	"fmt"
	"sort"
	"time"
	"unsafe"
)

// StatsConfig configures an Aggregator.
type StatsConfig struct {
	// Windows are the tumbling event-time window sizes. Default 1h.
	Windows []time.Duration `yaml:"windows"`
	// K is the fewest distinct visitors a published cell may have; smaller
	// cells are folded into "(other)". Default 5. KSearch applies to search
	// terms. Default 10.
	K       int `yaml:"k"`
	KSearch int `yaml:"k_search"`
	// MaxValues bounds each dimension per window; further values go to
	// "(other)" so that memory stays bounded. Default 1000.
	MaxValues int `yaml:"max_values"`
	// SessionGap ends a visit after this much inactivity. Default 30m; a
	// visit also ends at the UTC day boundary (the pseudonym changes).
	SessionGap time.Duration `yaml:"session_gap"`
}

// WithDefaults returns c with every unset field at its default.
func (c StatsConfig) WithDefaults() StatsConfig {
	if len(c.Windows) == 0 {
		c.Windows = []time.Duration{time.Hour}
	}
	if c.K == 0 {
		c.K = 5
	}
	if c.KSearch == 0 {
		c.KSearch = 10
	}
	if c.MaxValues == 0 {
		c.MaxValues = 1000
	}
	if c.SessionGap == 0 {
		c.SessionGap = 30 * time.Minute
	}
	return c
}

// Dimensions of the statistics, in output order.
const (
	DimPage = iota
	DimCountry
	DimStatus
	DimReferrer
	DimBrowser
	DimOS
	DimDevice
	DimHour
	DimWeekday
	DimSearch
	DimEntryPage
	DimExitPage
	DimVisitCountry
	numDims
)

var dimNames = [numDims]string{"page", "country", "status", "referrer", "browser", "os", "device", "hour", "weekday",
	"search", "entry_page", "exit_page", "visit_country"}

// Other is the value of the row that holds folded and capped cells.
const Other = "(other)"

type cell struct {
	views    int64
	visitors distinct
}

func (c *cell) add(views int64, v uint64, hasV bool) {
	c.views += views
	if hasV {
		c.visitors.add(v)
	}
}

type window struct {
	start, size        int64
	views, bots, bytes int64
	visitors           distinct
	dims               [numDims]map[string]*cell
	capped             [numDims]cell
	visits, bounces    int64
	pages              int64
	durations          []int32
	cappedEvents       int64
}

type visitState struct {
	start, last int64
	pages       int64
	entry, exit string
	country     string
}

// Aggregator computes page and time statistics over anonymized records
// (after Anonymize; visitors come from Record.Pseudonym). Distinct visitors
// are exact up to 1024 per cell, then HyperLogLog estimates; MaxValues
// bounds the cells per dimension and window. Not safe for concurrent use.
type Aggregator struct {
	cfg      StatsConfig
	sizes    []int64
	windows  map[[2]int64]*window
	visits   map[uint64]*visitState
	maxTime  int64
	sinceGC  int
	strings  map[string]string
	Received int64 // records added
}

// NewAggregator returns an Aggregator.
func NewAggregator(cfg StatsConfig) (*Aggregator, error) {
	cfg = cfg.WithDefaults()
	a := &Aggregator{cfg: cfg, windows: map[[2]int64]*window{}, visits: map[uint64]*visitState{}, strings: map[string]string{}}
	for _, w := range cfg.Windows {
		if w < time.Minute || w%time.Minute != 0 || (24*time.Hour)%w != 0 && w%(24*time.Hour) != 0 {
			return nil, fmt.Errorf("stats.windows: %s is not a whole number of minutes dividing a day (or whole days)", w)
		}
		a.sizes = append(a.sizes, int64(w/time.Second))
	}
	if cfg.K < 1 || cfg.KSearch < 1 || cfg.MaxValues < 1 || cfg.SessionGap < time.Minute {
		return nil, fmt.Errorf("stats: k, k_search and max_values must be at least 1, session_gap at least 1m")
	}
	return a, nil
}

func (a *Aggregator) window(t, size int64) *window {
	start := floorDiv(t, size) * size
	key := [2]int64{start, size}
	w := a.windows[key]
	if w == nil {
		w = &window{start: start, size: size}
		for i := range w.dims {
			w.dims[i] = map[string]*cell{}
		}
		a.windows[key] = w
	}
	return w
}

func (w *window) add(dim int, value []byte, views int64, v uint64, hasV bool, max int) {
	c := w.dims[dim][string(value)]
	if c == nil {
		if len(w.dims[dim]) >= max {
			w.capped[dim].add(views, v, hasV)
			w.cappedEvents += views
			return
		}
		c = &cell{}
		w.dims[dim][string(value)] = c
	}
	c.add(views, v, hasV)
}

var weekdays = [7]string{"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"} // day 0 of Unix time was a Thursday

// Add counts one anonymized record.
func (a *Aggregator) Add(r *Record) {
	a.Received++
	t := r.Time
	if t > a.maxTime {
		a.maxTime = t
	}
	v, hasV := visitorID(r.Pseudonym)
	page, ref := pageOf(r), referrerOf(r)
	for _, size := range a.sizes {
		w := a.window(t, size)
		if r.Bot {
			w.bots++
			continue
		}
		w.views++
		if r.Bytes > 0 {
			w.bytes += r.Bytes
		}
		if hasV {
			w.visitors.add(v)
		}
		max := a.cfg.MaxValues
		w.add(DimPage, page, 1, v, hasV, max)
		w.add(DimCountry, bytesOf(r.Country), 1, v, hasV, max)
		w.add(DimStatus, bytesOf(statusClass(r.Status)), 1, v, hasV, max)
		w.add(DimReferrer, ref, 1, v, hasV, max)
		w.add(DimBrowser, bytesOf(r.Browser), 1, v, hasV, max)
		w.add(DimOS, bytesOf(r.OS), 1, v, hasV, max)
		w.add(DimDevice, bytesOf(r.Device), 1, v, hasV, max)
		w.add(DimHour, bytesOf(twoDigits[floorDiv(t, 3600)%24]), 1, v, hasV, max)
		w.add(DimWeekday, bytesOf(weekdays[floorDiv(t, 86400)%7]), 1, v, hasV, max)
		if len(r.SearchTerms) > 0 {
			w.add(DimSearch, r.SearchTerms, 1, v, hasV, max)
		}
	}
	if !r.Bot && hasV {
		a.visit(v, t, a.intern(page), r.Country)
	}
	if a.sinceGC++; a.sinceGC >= 10000 {
		a.sinceGC = 0
		a.endIdleVisits(a.maxTime - int64(a.cfg.SessionGap/time.Second))
	}
}

// visit extends the visitor's visit or ends it and starts a new one.
func (a *Aggregator) visit(v uint64, t int64, page, country string) {
	s := a.visits[v]
	gap := int64(a.cfg.SessionGap / time.Second)
	if s != nil && t-s.last <= gap && floorDiv(t, 86400) == floorDiv(s.start, 86400) {
		if t >= s.last {
			s.last, s.exit = t, page
		} else if t < s.start {
			s.start, s.entry = t, page
		}
		s.pages++
		return
	}
	if s != nil {
		a.endVisit(v, s)
	}
	a.visits[v] = &visitState{start: t, last: t, pages: 1, entry: page, exit: page, country: country}
}

func (a *Aggregator) endVisit(v uint64, s *visitState) {
	for _, size := range a.sizes {
		w := a.window(s.start, size)
		w.visits++
		w.pages += s.pages
		if s.pages == 1 {
			w.bounces++
		}
		w.durations = append(w.durations, int32(s.last-s.start))
		w.add(DimEntryPage, bytesOf(s.entry), 1, v, true, a.cfg.MaxValues)
		w.add(DimExitPage, bytesOf(s.exit), 1, v, true, a.cfg.MaxValues)
		w.add(DimVisitCountry, bytesOf(s.country), 1, v, true, a.cfg.MaxValues)
	}
	delete(a.visits, v)
}

// endIdleVisits ends visits whose last hit is before cutoff.
func (a *Aggregator) endIdleVisits(cutoff int64) {
	for v, s := range a.visits {
		if s.last < cutoff {
			a.endVisit(v, s)
		}
	}
}

func visitorID(p []byte) (uint64, bool) {
	if len(p) < 16 {
		return 0, false
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], p[:16]); err != nil {
		return 0, false
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v, true
}

var badRequestPage = []byte("(bad request)")

func pageOf(r *Record) []byte {
	if r.BadRequest {
		return badRequestPage
	}
	return r.Path
}

var referrerTypeValues = map[string][]byte{RefDirect: []byte("(direct)"), RefInternal: []byte("(internal)"),
	RefSearch: []byte("(search)"), RefExternal: []byte("(external)"), RefUnknown: []byte("(unknown)")}

func referrerOf(r *Record) []byte {
	if len(r.ReferrerSite) == 0 {
		return referrerTypeValues[r.ReferrerType]
	}
	return r.ReferrerSite
}

// bytesOf views a string as bytes for a map lookup; the result must not be
// written to.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

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

// StatsRow is one published figure: the <prefix>.stats schema (README).
type StatsRow struct {
	WindowStart string `json:"window_start"`
	WindowSize  string `json:"window_size"`
	Dimension   string `json:"dimension"`
	Value       string `json:"value"`
	Views       int64  `json:"views"`
	Visitors    int64  `json:"visitors"`
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
	Final            bool   `json:"final"`
}

// Close ends every visit and returns the rows of every window, each
// dimension's cells with fewer than k visitors folded into "(other)".
func (a *Aggregator) Close() []StatsRow {
	a.endIdleVisits(1 << 62)
	keys := make([][2]int64, 0, len(a.windows))
	for k := range a.windows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][1] < keys[j][1] || keys[i][1] == keys[j][1] && keys[i][0] < keys[j][0]
	})
	var rows []StatsRow
	for _, k := range keys {
		rows = append(rows, a.rows(a.windows[k])...)
	}
	return rows
}

func ptr[T any](v T) *T { return &v }

func (a *Aggregator) rows(w *window) []StatsRow {
	start := time.Unix(w.start, 0).UTC().Format(time.RFC3339)
	size := (time.Duration(w.size) * time.Second).String()
	row := func(dim, value string, views, visitors int64) StatsRow {
		return StatsRow{WindowStart: start, WindowSize: size, Dimension: dim, Value: value, Views: views, Visitors: visitors, Final: true}
	}
	var rows []StatsRow
	total := row("total", "", 0, 0)
	if n := w.visitors.count(); n >= int64(a.cfg.K) {
		total.Views, total.Visitors = w.views, n
		total.Bots, total.Bytes, total.Visits = ptr(w.bots), ptr(w.bytes), ptr(w.visits)
		if w.visits > 0 {
			d := append([]int32(nil), w.durations...)
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			var sum int64
			for _, x := range d {
				sum += int64(x)
			}
			total.VisitDurationMean = ptr(float64(sum) / float64(len(d)))
			total.VisitDurationP50 = ptr(float64(d[quantileIndex(len(d), 0.5)]))
			total.VisitDurationP90 = ptr(float64(d[quantileIndex(len(d), 0.9)]))
			total.PagesPerVisit = ptr(float64(w.pages) / float64(w.visits))
			total.BounceRate = ptr(float64(w.bounces) / float64(w.visits))
		}
	} else {
		total.Value = Other // too few visitors to publish the window's totals
	}
	rows = append(rows, total)
	var suppressedCells, suppressedEvents int64
	for dim := range numDims {
		k := a.cfg.K
		if dim == DimSearch {
			k = a.cfg.KSearch
		}
		other := w.capped[dim]
		values := make([]string, 0, len(w.dims[dim]))
		for v := range w.dims[dim] {
			values = append(values, v)
		}
		sort.Strings(values)
		for _, v := range values {
			c := w.dims[dim][v]
			if c.visitors.count() < int64(k) {
				suppressedCells++
				suppressedEvents += c.views
				other.views += c.views
				other.visitors.merge(&c.visitors)
				continue
			}
			rows = append(rows, row(dimNames[dim], v, c.views, c.visitors.count()))
		}
		if other.views > 0 {
			rows = append(rows, row(dimNames[dim], Other, other.views, other.visitors.count()))
		}
	}
	priv := row("privacy", "", 0, 0)
	priv.K, priv.KSearch = ptr(a.cfg.K), ptr(a.cfg.KSearch)
	priv.SuppressedCells, priv.SuppressedEvents, priv.CappedEvents = ptr(suppressedCells), ptr(suppressedEvents), ptr(w.cappedEvents)
	return append(rows, priv)
}

// quantileIndex is the nearest-rank index of quantile q among n sorted values.
func quantileIndex(n int, q float64) int {
	i := int(q*float64(n)+0.999999) - 1
	return min(max(i, 0), n-1)
}
