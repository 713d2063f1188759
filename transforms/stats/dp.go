package stats

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Differential privacy (stats.privacy: differential). The unit protected is
// a visitor's day (a daily pseudonym): their contribution is bounded in the
// aggregator, and every published count gets discrete Gaussian noise in the
// merger, seeded per cell from a keyed hash so that the same cell always
// gets the same noise. README: statistics, differential privacy.
//
//   - Bounding: in each window a pseudonym counts in at most L values per
//     dimension (values_per_visitor: those of smallest hash of visitor and
//     value, whatever order the hits arrive in) and at most C times per
//     value (views_per_value); its views in a window's total are at most
//     L*C.
//     Hits past the bounds are dropped (bounded_events in the privacy row).
//   - Noise: per dimension, the visitors of every value (L2 sensitivity
//     sqrt(L)) and their views (C*sqrt(L)); per window, total visitors (1)
//     and views (L*C). Each is a Gaussian mechanism, rho = Delta^2/(2 sigma^2)
//     in zero-concentrated DP (Bun and Steinke 2016).
//   - Composition: rho adds up over mechanisms. A visitor's day touches
//     every window of every size that overlaps it (24 hourly ones and one
//     day with the default windows) and in each 2D+5 mechanisms (D
//     published dimensions). The budget rho for (epsilon, delta/2), from
//     epsilon = rho + 2 sqrt(rho ln(2/delta)), is split evenly over them.
//   - Partition selection: a value is published when its noisy visitor
//     count reaches tau = 1 + sigma_v * z, z the standard normal quantile
//     of 1 - delta_w / L, where delta_w is delta/2 split over the day's
//     windows and dimensions: a value only one visitor has appears with
//     probability at most delta_w per window and dimension.
//   - Visits: a visitor's first V visits (visits_per_visitor) by start,
//     each at most T seconds (visit_seconds): visits and bounces
//     (sensitivity V) and the summed durations (V*T) get noise too.
//   - Not published under this mechanism: entry and exit pages, visit
//     countries, duration quantiles, the traffic and crawler dimensions,
//     per-site tables.

// Privacy mechanisms.
const (
	PrivacyKAnonymity   = "k-anonymity"
	PrivacyDifferential = "differential"
)

// Differential reports the differential privacy mechanism.
func (c Config) Differential() bool { return c.Privacy == PrivacyDifferential }

// dpDim reports the dimensions published under differential privacy.
func dpDim(dim int) bool {
	return dim < numHitDims && dim != DimTraffic && dim != DimCrawler
}

// Budget is what a configuration spends: the noise of each mechanism, the
// threshold, and the accounting behind them.
type Budget struct {
	Rho           float64 // zCDP budget of a visitor's day
	Mechanisms    int     // Gaussian mechanisms a visitor's day can touch
	SigmaVisitors float64 // noise of a value's visitors
	SigmaViews    float64 // noise of a value's views
	SigmaTotalV   float64 // noise of a window's visitors
	SigmaTotalW   float64 // noise of a window's views
	SigmaVisits   float64 // noise of a window's visits and bounces
	SigmaDuration float64 // noise of a window's summed visit durations
	Threshold     float64 // noisy visitors a value needs to be published
}

// Budget is what the parameters spend (differential privacy).
func (p Params) Budget() Budget { return p.budget }

// budget computes the noise scales for c (differential).
func (c Config) budget() Budget {
	l, cc := float64(c.ValuesPerVisitor), float64(c.ViewsPerValue)
	lnd := math.Log(2 / c.Delta)
	rho := math.Pow(math.Sqrt(lnd+c.Epsilon)-math.Sqrt(lnd), 2)
	dims := 0
	for d := range numDims {
		if dpDim(d) {
			dims++
		}
	}
	windows := 0
	for _, w := range c.Windows {
		// the windows of this size a day overlaps
		windows += int(math.Ceil(float64(24*time.Hour) / float64(min(w, 24*time.Hour))))
	}
	mech := windows * (2*dims + 5) // per dimension visitors and views; visitors, views, visits, bounces, durations
	v, secs := float64(c.VisitsPerVisitor), float64(c.VisitSeconds)
	rhoM := rho / float64(mech)
	sigma := func(sens float64) float64 { return math.Sqrt(sens * sens / (2 * rhoM)) }
	b := Budget{Rho: rho, Mechanisms: mech, SigmaVisitors: sigma(math.Sqrt(l)), SigmaViews: sigma(cc * math.Sqrt(l)),
		SigmaTotalV: sigma(1), SigmaTotalW: sigma(l * cc), SigmaVisits: sigma(v), SigmaDuration: sigma(v * secs)}
	deltaW := c.Delta / 2 / float64(windows*dims)
	b.Threshold = 1 + b.SigmaVisitors*normalQuantile(1-deltaW/l)
	return b
}

// normalQuantile is the standard normal quantile (Acklam's rational
// approximation refined by a Newton step; a public parameter, not noise).
func normalQuantile(p float64) float64 {
	lo, hi := -40.0, 40.0
	for range 200 { // bisection on the complementary error function: exact to float precision
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// NoiseKey is the secret the noise is derived from; every merger of a
// deployment shares it, no analytics consumer may read it.
type NoiseKey []byte

// loadNoiseKey reads noise_key_file: 32 bytes or more, raw or as hex.
func (c Config) loadNoiseKey() (NoiseKey, error) {
	b, err := os.ReadFile(c.NoiseKeyFile)
	if err != nil {
		return nil, fmt.Errorf("stats.noise_key_file: %w", err)
	}
	if t := bytes.TrimSpace(b); len(t) >= 64 {
		if h, err := hex.DecodeString(string(t)); err == nil {
			b = h
		}
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("stats.noise_key_file: %s holds %d bytes; it needs 32 or more (head -c 32 /dev/urandom > %s)", c.NoiseKeyFile, len(b), c.NoiseKeyFile)
	}
	return b, nil
}

// NewNoiseKey returns a random key (batch mode: one run).
func NewNoiseKey() NoiseKey {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// noise is the discrete Gaussian noise of one published figure: seeded by
// HMAC-SHA256(key, window | size | site | dimension | value | figure), so
// that provisional and final rows, replays and every merger agree.
func (k NoiseKey) noise(key WindowKey, site, dim, value, figure string, sigma float64) int64 {
	mac := hmac.New(sha256.New, k)
	fmt.Fprintf(mac, "%d|%d|%s|%s|%s|%s", key.Start, key.Size, site, dim, value, figure)
	var seed [32]byte
	copy(seed[:], mac.Sum(nil))
	sigma2 := new(big.Rat)
	sigma2.SetFloat64(sigma * sigma) // exact: the float's own value
	return newSampler(seed).gaussian(sigma2)
}

// countBounded is count under differential privacy: a followed visitor's
// hit is kept in its state (the visitor's L values of smallest hash per
// dimension, C views each), from which partials builds the cells; the
// window's cells then do not depend on the order hits arrive in.
func (a *Aggregator) countBounded(w *window, h *Hit, values *hitValues, t int64, ref hitRef) {
	if h.Bot {
		w.bots++
		return
	}
	var vs *visitorState
	if h.HasVisitor {
		if vs = w.byVisitor[h.Visitor]; vs == nil && len(w.byVisitor) < a.cfg.MaxVisitors {
			vs = &visitorState{dp: &dpState{}}
			w.byVisitor[h.Visitor] = vs
		}
	}
	if vs == nil {
		w.cappedEvents++ // no pseudonym, or past max_visitors: not bounded, not counted
		return
	}
	vs.views++
	if h.Bytes > 0 {
		w.bytes += h.Bytes
	}
	// What the bounds drop is counted when the cells are built
	// (boundedCells): counting it here would depend on the order.
	for dim, value := range values {
		if len(value) > 0 {
			vs.keep(dim, value, h.Visitor, a.cfg.ValuesPerVisitor, a.cfg.ViewsPerValue)
		}
	}
	a.visit(vs, t, h, ref) // visits do not depend on the order of hits either
}

// dpState is a visitor's values per dimension under the bounds, and their
// hits with a value in each dimension.
type dpState struct {
	values [numHitDims][]dpValue
	hits   [numHitDims]int64
}

// dpValue is one value a visitor counts in: its selection hash and views.
type dpValue struct {
	value string
	hash  uint64
	n     int64
}

// keep adds a hit on value to the visitor's values of dim (and counts it in
// the visitor's hits of dim; boundedCells counts what the bounds drop). A visitor keeps the L values of smallest hash (of visitor
// and value: the same whatever order the hits come in, so a replay or
// another interleaving of the raw partitions keeps the same ones), each
// with up to C views; a value pushed out takes its views with it.
func (vs *visitorState) keep(dim int, value []byte, v uint64, l, c int) {
	vs.dp.hits[dim]++
	list := vs.dp.values[dim]
	for i := range list {
		if list[i].value == string(value) {
			if list[i].n < int64(c) {
				list[i].n++
			}
			return
		}
	}
	h := selectionHash(v, value)
	if len(list) < l {
		vs.dp.values[dim] = append(list, dpValue{string(value), h, 1})
		return
	}
	worst := 0
	for i := range list {
		if list[i].hash > list[worst].hash {
			worst = i
		}
	}
	if h < list[worst].hash {
		list[worst] = dpValue{string(value), h, 1} // the pushed-out value's views go with it
	}
}

// selectionHash is FNV-1a of the visitor id and the value.
func selectionHash(v uint64, value []byte) uint64 {
	h := uint64(14695981039346656037)
	for i := range 8 {
		h = (h ^ uint64(byte(v>>(8*i)))) * 1099511628211
	}
	for _, b := range value {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

// boundedCells rebuilds a window's cells and views from its visitors'
// kept values, visitors in id order and values in order (max_values then
// caps the same values in every run), their views in the total at most
// L*C.
func (a *Aggregator) boundedCells(w *window) {
	for d := range w.dims {
		clear(w.dims[d])
		w.capped[d] = cell{}
	}
	ids := make([]uint64, 0, len(w.byVisitor))
	for v := range w.byVisitor {
		ids = append(ids, v)
	}
	slices.Sort(ids)
	w.views, w.bounded = 0, 0
	limit := int64(a.cfg.ValuesPerVisitor * a.cfg.ViewsPerValue)
	for _, v := range ids {
		vs := w.byVisitor[v]
		w.views += min(vs.views, limit)
		w.bounded += vs.views - min(vs.views, limit)
		for dim := range vs.dp.values {
			kept := int64(0)
			for _, x := range vs.dp.values[dim] {
				kept += x.n
			}
			w.bounded += vs.dp.hits[dim] - kept
			values := slices.Clone(vs.dp.values[dim])
			slices.SortFunc(values, func(a, b dpValue) int { return strings.Compare(a.value, b.value) })
			for _, x := range values {
				c := w.dims[dim][x.value]
				if c == nil {
					if len(w.dims[dim]) >= a.cfg.MaxValues {
						c = &w.capped[dim]
						c.capped = true
					} else {
						c = &cell{key: x.value}
						w.dims[dim][x.value] = c
					}
				}
				c.views += x.n
				c.visitors.add(v)
			}
		}
	}
}

// dpTableRows appends a table's rows under differential privacy: noisy
// totals, each dimension's values whose noisy visitors reach the threshold,
// an (other) row with the rest of the noisy total's views, and the privacy
// record with the accounting.
func (m *Merger) dpTableRows(dst []Row, key WindowKey, final bool, site string, mt mergedTable) []Row {
	b := m.budget
	start := time.Unix(key.Start, 0).UTC().Format(time.RFC3339)
	size := (time.Duration(key.Size) * time.Second).String()
	row := func(dim, value string, views, visitors int64) Row {
		return Row{WindowStart: start, WindowSize: size, Site: site, Dimension: dim, Value: value,
			Views: max(views, 0), Visitors: max(visitors, 0), Final: final}
	}
	tot := mt.tot
	noisyViews := tot.Views + m.noiseKey.noise(key, site, "total", "", "views", b.SigmaTotalW)
	noisyVisitors := tot.Visitors + m.noiseKey.noise(key, site, "total", "", "visitors", b.SigmaTotalV)
	total := row("total", "", noisyViews, noisyVisitors)
	if final {
		// Visits: each visitor's first V visits, each at most T long; the
		// rates follow from noisy counts (post-processing).
		visits := max(tot.Visits+m.noiseKey.noise(key, site, "total", "", "visits", b.SigmaVisits), 0)
		bounces := min(max(tot.Bounces+m.noiseKey.noise(key, site, "total", "", "bounces", b.SigmaVisits), 0), visits)
		duration := max(tot.DurationSum+m.noiseKey.noise(key, site, "total", "", "duration", b.SigmaDuration), 0)
		total.Totals = &Totals{VisitFigures: &VisitFigures{Visits: visits}}
		if visits > 0 {
			total.VisitMeans = &VisitMeans{
				VisitDurationMean: float64(duration) / float64(visits),
				PagesPerVisit:     max(float64(noisyViews)/float64(visits), 1), // a visit has a page
				BounceRate:        float64(bounces) / float64(visits),
			}
		}
	}
	dst = append(dst, total)
	var suppressedCells int64
	for dim := range numDims {
		if !dpDim(dim) {
			continue
		}
		name := dimNames[dim]
		cells := mt.cells[name]
		values := make([]string, 0, len(cells))
		for v := range cells {
			values = append(values, v)
		}
		sort.Strings(values)
		var published int64
		for _, v := range values {
			c := cells[v]
			nv := c.visitor + m.noiseKey.noise(key, site, name, v, "visitors", b.SigmaVisitors)
			if float64(nv) < b.Threshold {
				suppressedCells++
				continue
			}
			nw := c.views + m.noiseKey.noise(key, site, name, v, "views", b.SigmaViews)
			r := row(name, v, nw, nv)
			published += r.Views
			dst = append(dst, r)
		}
		if len(cells) > 0 || mt.capped[name] != nil {
			// The rest of the window's noisy views; its visitors are not
			// published (they are not additive, and would be another
			// mechanism).
			dst = append(dst, row(name, Other, noisyViews-published, 0))
		}
	}
	priv := row("privacy", "", 0, 0)
	priv.Privacy = m.privacy(key, suppressedCells)
	priv.Noise = &Noise{Mechanism: "discrete-gaussian", Epsilon: m.cfg.Epsilon, Delta: m.cfg.Delta, Rho: b.Rho, Mechanisms: b.Mechanisms,
		SigmaVisitors: b.SigmaVisitors, SigmaViews: b.SigmaViews, SigmaTotalVisitors: b.SigmaTotalV, SigmaTotalViews: b.SigmaTotalW,
		SigmaVisits: b.SigmaVisits, SigmaDuration: b.SigmaDuration, VisitsPerVisitor: m.cfg.VisitsPerVisitor, VisitSeconds: m.cfg.VisitSeconds,
		Threshold: b.Threshold, ValuesPerVisitor: m.cfg.ValuesPerVisitor, ViewsPerValue: m.cfg.ViewsPerValue, BoundedEvents: tot.CappedEvents}
	return append(dst, priv)
}

// formatFloat is for error messages.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
