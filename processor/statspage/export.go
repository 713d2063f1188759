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
	i := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, r := range rows {
		rec := []string{r.WindowStart, r.WindowSize, r.Range, safeCell(r.Site), r.Dimension, safeCell(r.Value),
			strconv.FormatInt(r.Views, 10), strconv.FormatInt(r.Visitors, 10), i(r.Bots), i(r.Bytes), i(r.Visits),
			f(r.VisitDurationMean), f(r.VisitDurationP50), f(r.VisitDurationP90), f(r.PagesPerVisit), f(r.BounceRate),
			strconv.FormatBool(r.Final)}
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
		row                          stats.Row
		visits, bots, bytes          int64
		durSum, pagesSum, bounceSum  float64
		suppCells, suppEv, capped    int64
		hasTotals, final, suppressed bool
		days                         int
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
				Range: spec, Site: r.Site, Dimension: r.Dimension, Value: r.Value, K: r.K, KSearch: r.KSearch,
				IPv4Prefix: r.IPv4Prefix, IPv6Prefix: r.IPv6Prefix, TimeZone: r.TimeZone}, final: true}
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
		if r.Bots != nil {
			a.hasTotals = true
			a.bots += *r.Bots
			a.bytes += deref(r.Bytes)
		}
		if r.Visits != nil {
			v := *r.Visits
			a.visits += v
			a.durSum += derefF(r.VisitDurationMean) * float64(v)
			a.pagesSum += derefF(r.PagesPerVisit) * float64(v)
			a.bounceSum += derefF(r.BounceRate) * float64(v)
		}
		a.suppCells += deref(r.SuppressedCells)
		a.suppEv += deref(r.SuppressedEvents)
		a.capped += deref(r.CappedEvents)
	}
	out := make([]stats.Row, 0, len(order))
	for _, k := range order {
		a := accs[k]
		r := a.row
		r.Final = a.final
		if a.hasTotals {
			r.Bots, r.Bytes = &a.bots, &a.bytes
		}
		if a.visits > 0 {
			v := float64(a.visits)
			mean, ppv, bounce := a.durSum/v, a.pagesSum/v, a.bounceSum/v
			r.Visits, r.VisitDurationMean, r.PagesPerVisit, r.BounceRate = &a.visits, &mean, &ppv, &bounce
		}
		if k.dim == "privacy" {
			r.SuppressedCells, r.SuppressedEvents, r.CappedEvents = &a.suppCells, &a.suppEv, &a.capped
		}
		r.Suppressed = a.suppressed && r.Views == 0
		out = append(out, r)
	}
	SortRows(out)
	return out, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefF(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
