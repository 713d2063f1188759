package stats

import (
	"math"
	"sort"
	"time"

	"github.com/logveil/logveil/transforms"
)

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
		total.Totals = &Totals{HitCounts: &HitCounts{Bots: tot.Bots, Bytes: tot.Bytes}}
		if final {
			total.VisitFigures = &VisitFigures{Visits: tot.Visits}
		}
		if final && tot.Visits > 0 {
			buckets := make([][2]int64, 0, len(hist))
			for d, n := range hist {
				buckets = append(buckets, [2]int64{d, n})
			}
			sort.Slice(buckets, func(i, j int) bool { return buckets[i][0] < buckets[j][0] })
			total.VisitMeans = &VisitMeans{
				VisitDurationMean: float64(tot.DurationSum) / float64(tot.Visits),
				VisitDurationP50:  ptr(float64(histQuantile(buckets, tot.Visits, 0.5))),
				VisitDurationP90:  ptr(float64(histQuantile(buckets, tot.Visits, 0.9))),
				PagesPerVisit:     float64(tot.Pages) / float64(tot.Visits),
				BounceRate:        float64(tot.Bounces) / float64(tot.Visits),
			}
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
	priv.Privacy = m.privacy(key, suppressedCells)
	priv.Folded = &Folded{SuppressedEvents: suppressedEvents, CappedEvents: cappedEvents, CappedVisitors: tot.CappedVisitors,
		CappedSites: tot.CappedSites, LateEvents: tot.Late}
	priv.K, priv.KSearch = m.cfg.K, m.cfg.KSearch
	priv.EventsK, priv.EventRungs = rungShares(m.cfg.EventsK, tot.Rungs)
	return append(dst, priv)
}

// privacy is the part of a window's privacy record both mechanisms have.
func (m *Merger) privacy(key WindowKey, suppressedCells int64) *Privacy {
	p := &Privacy{SuppressedCells: suppressedCells, TimeZone: m.cfg.TimeZone, SaltEpoch: ptr(floorDiv(key.Start, 86400))}
	if m.masks.Stated {
		p.IPv4Prefix, p.IPv6Prefix = ptr(m.masks.IPv4), ptr(m.masks.IPv6)
	}
	return p
}

// rungShares is the privacy record's account of the events' rungs: k and
// each rung's share of the page views counted at one (none without
// k-anonymous events).
func rungShares(k int, rungs []int64) (int, map[string]float64) {
	var n int64
	for _, c := range rungs {
		n += c
	}
	if k <= 1 || n == 0 {
		return 0, nil
	}
	names := transforms.RungNames()
	shares := make(map[string]float64, len(rungs))
	for i, c := range rungs {
		if c > 0 && i < len(names) {
			shares[names[i]] = math.Round(float64(c)/float64(n)*10000) / 10000
		}
	}
	return k, shares
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
