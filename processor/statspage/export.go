package statspage

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/logveil/logveil/transforms/stats"
)

// csvColumns are the columns of WriteCSV, the <prefix>.stats fields.
var csvColumns = []string{"window_start", "window_size", "range", "site", "dimension", "value", "views", "visitors",
	"bots", "bytes", "visits", "visit_duration_mean_s", "visit_duration_p50_s", "visit_duration_p90_s",
	"pages_per_visit", "bounce_rate", "final"}

// WriteCSV writes rows as CSV with a header line. Values come from access
// logs: one that a spreadsheet would read as a formula (=, +, -, @, tab or
// carriage return first) is written with a leading apostrophe.
func WriteCSV(w io.Writer, rows []stats.Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	fp := func(p *float64) string {
		if p == nil {
			return ""
		}
		return f(*p)
	}
	for _, r := range rows {
		// Bots and bytes, visits, then the visits' means and quantiles:
		// empty where the row has none.
		var figures [8]string
		if t := r.Totals; t != nil {
			if h := t.HitCounts; h != nil {
				figures[0], figures[1] = i(h.Bots), i(h.Bytes)
			}
			if v := t.VisitFigures; v != nil {
				figures[2] = i(v.Visits)
				if m := v.VisitMeans; m != nil {
					figures[3], figures[4], figures[5], figures[6], figures[7] = f(m.VisitDurationMean), fp(m.VisitDurationP50),
						fp(m.VisitDurationP90), f(m.PagesPerVisit), f(m.BounceRate)
				}
			}
		}
		rec := append([]string{r.WindowStart, r.WindowSize, r.Range, safeCell(r.Site), r.Dimension, safeCell(r.Value),
			i(r.Views), i(r.Visitors)}, figures[:]...)
		rec = append(rec, strconv.FormatBool(r.Final))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func safeCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// Range combines the daily (24h) rows into one longer range: "7d" and
// "30d" are the last 7 and 30 days that have rows, "month" the calendar
// month of the latest day (in the statistics' time zone). Views, visits,
// bots and bytes are sums; visit figures are averaged over visits; unique
// visitors are the sum of the daily uniques, since pseudonyms change every
// day by design, so a visitor who came on three days counts three times.
// A day's cell of fewer than k visitors was folded into that day's
// (other): a value's range figure counts only its published days. Quantiles
// cannot be combined and are left out.
func Range(rows []stats.Row, spec string) ([]stats.Row, error) {
	var days []string
	seen := map[string]bool{}
	zone := time.UTC
	for _, r := range rows {
		if r.WindowSize != "24h0m0s" {
			continue
		}
		if !seen[r.WindowStart] {
			seen[r.WindowStart] = true
			days = append(days, r.WindowStart)
		}
		if r.Dimension == "privacy" && r.TimeZone != "" {
			if loc, err := time.LoadLocation(r.TimeZone); err == nil {
				zone = loc
			}
		}
	}
	sort.Strings(days)
	if len(days) == 0 {
		return nil, fmt.Errorf("range %s: no daily (24h) windows to combine", spec)
	}
	switch spec {
	case "7d", "30d":
		n := 7
		if spec == "30d" {
			n = 30
		}
		days = days[max(0, len(days)-n):]
	case "month":
		last, err := time.Parse(time.RFC3339, days[len(days)-1])
		if err != nil {
			return nil, err
		}
		y, m, _ := last.In(zone).Date()
		var in []string
		for _, d := range days {
			t, _ := time.Parse(time.RFC3339, d)
			if ty, tm, _ := t.In(zone).Date(); ty == y && tm == m {
				in = append(in, d)
			}
		}
		days = in
	default:
		return nil, fmt.Errorf("range: %q is not 7d, 30d or month", spec)
	}
	pick := map[string]bool{}
	for _, d := range days {
		pick[d] = true
	}
	type key struct{ site, dim, value string }
	type acc struct {
		row                         stats.Row
		visits, bots, bytes         int64
		durSum, pagesSum, bounceSum float64
		suppCells, suppEv, capped   int64
		hasHits, final, suppressed  bool
		days                        int
	}
	accs := map[key]*acc{}
	var order []key
	for _, r := range rows {
		if r.WindowSize != "24h0m0s" || !pick[r.WindowStart] {
			continue
		}
		k := key{r.Site, r.Dimension, r.Value}
		a := accs[k]
		if a == nil {
			a = &acc{row: stats.Row{WindowStart: days[0], WindowSize: (time.Duration(len(days)) * 24 * time.Hour).String(),
				Range: spec, Site: r.Site, Dimension: r.Dimension, Value: r.Value}, final: true}
			if p := r.Privacy; p != nil {
				a.row.Privacy = &stats.Privacy{K: p.K, KSearch: p.KSearch, IPv4Prefix: p.IPv4Prefix, IPv6Prefix: p.IPv6Prefix, TimeZone: p.TimeZone}
				if p.Folded != nil {
					a.row.Folded = &stats.Folded{}
				}
			}
			accs[k] = a
			order = append(order, k)
		}
		a.days++
		a.final = a.final && r.Final
		a.row.Views += r.Views
		a.row.Visitors += r.Visitors
		if r.Suppressed {
			a.suppressed = true
		}
		if t := r.Totals; t != nil {
			if h := t.HitCounts; h != nil {
				a.hasHits = true
				a.bots += h.Bots
				a.bytes += h.Bytes
			}
			if v := t.VisitFigures; v != nil && v.VisitMeans != nil {
				n := float64(v.Visits)
				a.visits += v.Visits
				a.durSum += v.VisitDurationMean * n
				a.pagesSum += v.PagesPerVisit * n
				a.bounceSum += v.BounceRate * n
			}
		}
		if p := r.Privacy; p != nil {
			a.suppCells += p.SuppressedCells
			if f := p.Folded; f != nil {
				a.suppEv += f.SuppressedEvents
				a.capped += f.CappedEvents
			}
		}
	}
	out := make([]stats.Row, 0, len(order))
	for _, k := range order {
		a := accs[k]
		r := a.row
		r.Final = a.final
		if a.hasHits || a.visits > 0 {
			r.Totals = &stats.Totals{}
		}
		if a.hasHits {
			r.HitCounts = &stats.HitCounts{Bots: a.bots, Bytes: a.bytes}
		}
		if a.visits > 0 {
			v := float64(a.visits)
			r.VisitFigures = &stats.VisitFigures{Visits: a.visits, VisitMeans: &stats.VisitMeans{
				VisitDurationMean: a.durSum / v, PagesPerVisit: a.pagesSum / v, BounceRate: a.bounceSum / v}}
		}
		if r.Privacy != nil {
			r.SuppressedCells = a.suppCells
			if r.Folded != nil {
				r.SuppressedEvents, r.CappedEvents = a.suppEv, a.capped
			}
		}
		r.Suppressed = a.suppressed && r.Views == 0
		out = append(out, r)
	}
	SortRows(out)
	return out, nil
}
