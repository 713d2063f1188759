package stats

import "strconv"

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
	// Late: hits the window took that came after a shorter window they fall
	// in had closed.
	Late int64 `json:"late,omitempty"`
	// Rungs: the page views by their events' rung (k-anonymous events),
	// finest first.
	Rungs []int64 `json:"rungs,omitempty"`
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
	dst = appendDimension(dst, p.Dim, p.Site)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(p.Source), 10)
	if p.Capped {
		return append(dst, "|c"...)
	}
	dst = append(dst, "|v"...)
	return append(dst, p.Value...)
}

// appendDimension appends a key's dimension: "page", or "page#shop.example.com"
// for a per-site table (the partials' and the stats topic's keys alike).
func appendDimension(dst []byte, dim, site string) []byte {
	dst = append(dst, dim...)
	if site != "" {
		dst = append(dst, '#')
		dst = append(dst, site...)
	}
	return dst
}

// AppendWindowKey appends the key all partials of one window share; the
// partials topic is partitioned by it so that one merger sees a whole window.
func AppendWindowKey(dst []byte, k WindowKey) []byte {
	dst = strconv.AppendInt(dst, k.Start, 10)
	dst = append(dst, '|')
	return strconv.AppendInt(dst, k.Size, 10)
}
