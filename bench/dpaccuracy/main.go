// Command dpaccuracy measures what differential privacy costs in accuracy:
// it aggregates a log twice with daily windows, exactly (k = 1) and under
// stats.privacy differential, and prints, per day, the relative error of
// the total views and visitors and of the true top-20 pages' views, and how
// many of those pages are published at all.
//
//	logveil loggen --lines 1000000 > /tmp/1m.log
//	go run ./bench/dpaccuracy --epsilon 1 < /tmp/1m.log
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
	flag.Parse()
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	day := []time.Duration{24 * time.Hour}
	aggregate := func(cfg stats.Config) []stats.Row {
		_, rows, err := pipe.AggregateRows(transforms.Config{}, cfg, bytes.NewReader(in), pipe.Options{})
		if err != nil {
			fail(err)
		}
		return rows
	}
	exact := aggregate(stats.Config{Windows: day, K: 1, KSearch: 1, MaxValues: 100000})
	dp := aggregate(stats.Config{Windows: day, Privacy: stats.PrivacyDifferential, Epsilon: *eps, Delta: *delta,
		ValuesPerVisitor: *l, ViewsPerValue: *c, MaxValues: 100000})
	b := stats.Config{Windows: day, Privacy: stats.PrivacyDifferential, Epsilon: *eps, Delta: *delta, ValuesPerVisitor: *l, ViewsPerValue: *c}.Budget()
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
	for _, d := range starts {
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
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dpaccuracy:", err)
	os.Exit(1)
}
