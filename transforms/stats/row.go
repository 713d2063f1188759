package stats

import (
	"sort"
	"time"
)

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
	// LateEvents: hits this window counts that came after a shorter window
	// they fall in had closed (that window's rows miss them); not
	// published under differential privacy.
	LateEvents *int64 `json:"late_events,omitempty"`
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
	dst = appendDimension(dst, r.Dimension, r.Site)
	dst = append(dst, '|')
	return append(dst, r.Value...)
}

func ptr[T any](v T) *T { return &v }

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
	if tot.Late > 0 {
		priv.LateEvents = ptr(tot.Late)
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
