// Command dpaccuracy measures what differential privacy costs in accuracy:
// it aggregates a log twice with daily windows, exactly (k = 1) and under
// stats.privacy differential, and prints, per day, the relative error of
// the total views and visitors and of the true top-20 pages' views, and how
// many of those pages are published at all.
//
//	logveil loggen --lines 1000000 > /tmp/1m.log
//	logveil fetch-geoip --out /tmp/geo.mmdb
//	go run ./bench/dpaccuracy --epsilon 1 --geoip /tmp/geo.mmdb < /tmp/1m.log
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

func main() {
	eps := flag.Float64("epsilon", 1, "stats.epsilon")
	delta := flag.Float64("delta", 1e-7, "stats.delta")
	l := flag.Int("values-per-visitor", 10, "stats.values_per_visitor")
	c := flag.Int("views-per-value", 5, "stats.views_per_value")
	geoip := flag.String("geoip", "", "country mmdb (logveil fetch-geoip), for the country figures")
	flag.Parse()
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	day := []time.Duration{24 * time.Hour}
	policy := transforms.Default()
	policy.CountryDB = *geoip
	p, err := policy.Resolve()
	if err != nil {
		fail(err)
	}
	params := func(set func(c *stats.Config)) stats.Params {
		c := stats.Default()
		c.Windows = day
		set(&c)
		sp, err := c.Resolve()
		if err != nil {
			fail(err)
		}
		return sp
	}
	aggregate := func(sp stats.Params) []stats.Row {
		_, rows, err := pipe.AggregateRows(p, sp, bytes.NewReader(in), pipe.Options{})
		if err != nil {
			fail(err)
		}
		return rows
	}
	exact := aggregate(params(func(c *stats.Config) { c.K, c.KSearch, c.MaxValues = 1, 1, 100000 }))
	kanon := aggregate(params(func(*stats.Config) {}))
	dpParams := params(func(s *stats.Config) {
		s.Privacy, s.Epsilon, s.Delta, s.ValuesPerVisitor, s.ViewsPerValue, s.MaxValues = stats.PrivacyDifferential, *eps, *delta, *l, *c, 100000
	})
	// One measurement with a key of its own (aggregate requires one).
	dpParams.NoiseKey = stats.NewNoiseKey()
	dp := aggregate(dpParams)
	b := dpParams.Budget()
	fmt.Printf("epsilon %g, delta %g, L %d, C %d: rho %.5f over %d mechanisms; sigma visitors %.1f, views %.1f; threshold %.1f visitors\n",
		*eps, *delta, *l, *c, b.Rho, b.Mechanisms, b.SigmaVisitors, b.SigmaViews, b.Threshold)
	type key struct{ win, dim, value string }
	noisy := map[key]stats.Row{}
	for _, r := range dp {
		noisy[key{r.WindowStart, r.Dimension, r.Value}] = r
	}
	days := map[string][]stats.Row{}
	for _, r := range exact {
		days[r.WindowStart] = append(days[r.WindowStart], r)
	}
	var starts []string
	for d := range days {
		starts = append(starts, d)
	}
	sort.Strings(starts)
	rel := func(got, want int64) float64 { return math.Abs(float64(got-want)) / math.Max(1, float64(want)) }
	// The k-anonymity mode's published rows (values, not (other)) that
	// differential privacy publishes too.
	kept, both := 0, 0
	for _, r := range kanon {
		if r.Value == stats.Other || r.Dimension == "total" || r.Dimension == "privacy" || r.Dimension == "traffic" || r.Dimension == "crawler" ||
			r.Dimension == "entry_page" || r.Dimension == "exit_page" || r.Dimension == "visit_country" {
			continue
		}
		kept++
		if _, ok := noisy[key{r.WindowStart, r.Dimension, r.Value}]; ok {
			both++
		}
	}
	fmt.Printf("of the %d value rows k-anonymity (k = 5) publishes, differential privacy publishes %d (%.1f %%)\n", kept, both, 100*float64(both)/float64(max(kept, 1)))
	top := func(rows []stats.Row, dim string) []stats.Row {
		var out []stats.Row
		for _, r := range rows {
			if r.Dimension == dim && r.Value != stats.Other {
				out = append(out, r)
			}
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].Views > out[j].Views || out[i].Views == out[j].Views && out[i].Value < out[j].Value
		})
		return out[:min(20, len(out))]
	}
	for _, d := range starts {
		for _, dim := range []string{"country"} {
			rows := top(days[d], dim)
			var sum float64
			n := 0
			for _, p := range rows {
				if x, ok := noisy[key{d, dim, p.Value}]; ok {
					n++
					sum += rel(x.Views, p.Views)
				}
			}
			fmt.Printf("%s: top 20 %s values: %d of %d published, views off by %.1f %% on average\n", d[:10], dim, n, len(rows), 100*sum/float64(max(n, 1)))
		}
		var pages []stats.Row
		var total stats.Row
		for _, r := range days[d] {
			switch {
			case r.Dimension == "total":
				total = r
			case r.Dimension == "page" && r.Value != stats.Other:
				pages = append(pages, r)
			}
		}
		sort.Slice(pages, func(i, j int) bool { return pages[i].Views > pages[j].Views })
		pages = pages[:min(20, len(pages))]
		nt := noisy[key{d, "total", ""}]
		var sumRel float64
		published := 0
		for _, p := range pages {
			if n, ok := noisy[key{d, "page", p.Value}]; ok {
				published++
				sumRel += rel(n.Views, p.Views)
			}
		}
		mean := math.NaN()
		if published > 0 {
			mean = sumRel / float64(published)
		}
		fmt.Printf("%s: %d views, %d visitors; total views off by %.2f %%, visitors by %.2f %%; top 20 pages: %d published, views off by %.1f %% on average\n",
			d[:10], total.Views, total.Visitors, 100*rel(nt.Views, total.Views), 100*rel(nt.Visitors, total.Visitors), published, 100*mean)
		if total.Totals != nil && total.VisitMeans != nil && nt.Totals != nil && nt.VisitMeans != nil {
			fmt.Printf("%s: %d visits, off by %.2f %%; bounce rate %.3f, published %.3f; mean time on site %.0f s, published %.0f s\n",
				d[:10], total.Visits, 100*rel(nt.Visits, total.Visits), total.BounceRate, nt.BounceRate,
				total.VisitDurationMean, nt.VisitDurationMean)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dpaccuracy:", err)
	os.Exit(1)
}
