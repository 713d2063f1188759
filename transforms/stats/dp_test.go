package stats

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func dpRows(t *testing.T, lines [][]byte, cfg Config, key NoiseKey) []Row {
	t.Helper()
	w := saltedWorker(t)
	agg, err := testAggregator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if w.Process(l) == nil {
			agg.Add(&w.Rec)
		}
	}
	m := testMerger(cfg, Masks{})
	m.noiseKey = key
	return agg.CloseWith(m)
}

// TestDifferentialPrivacy: the same cell gets the same noise under one key
// and other noise under another; counts stay within a few sigma of the
// truth; a value only one visitor has is not published; the privacy row
// states the accounting.
func TestDifferentialPrivacy(t *testing.T) {
	cfg := Config{Privacy: PrivacyDifferential, Epsilon: 4, Windows: []time.Duration{24 * time.Hour}}
	lines := genLines(30000, 12)
	for i := range 3 { // a visitor's own page, three times
		lines = append(lines, fmt.Appendf(nil, `81.2.69.77 - - [01/Nov/2026:04:0%d:00 +0000] "GET /my-own-rare-page HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`, i))
	}
	key := NoiseKey(strings.Repeat("k", 32))
	a, b := dpRows(t, lines, cfg, key), dpRows(t, lines, cfg, key)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same input and key gave different rows")
	}
	c := dpRows(t, lines, cfg, NoiseKey(strings.Repeat("x", 32)))
	exact, _ := aggregateLines(t, lines, Config{Windows: []time.Duration{24 * time.Hour}, K: 1, KSearch: 1})
	truth := map[string]Row{}
	for _, r := range exact {
		truth[r.WindowStart+r.Dimension+r.Value] = r
	}
	bud := withDefaults(cfg).budget()
	differ, compared := 0, 0
	for i, r := range a {
		if r.Value == "/my-own-rare-page" {
			t.Errorf("a value of one visitor published: %+v", r)
		}
		if i < len(c) && (c[i].Views != r.Views || c[i].Visitors != r.Visitors) {
			differ++
		}
		tr, ok := truth[r.WindowStart+r.Dimension+r.Value]
		if !ok || r.Value == Other || r.Dimension == "privacy" {
			continue
		}
		sigma := bud.SigmaVisitors
		if r.Dimension == "total" {
			sigma = bud.SigmaTotalV
			// Visits: at most V per visitor, so the noisy count is within
			// a few sigma of the truth's bounded part.
			if r.Totals == nil || r.VisitMeans == nil || r.Visits <= 0 || float64(r.Visits) > float64(tr.Visits)+6*bud.SigmaVisits ||
				r.BounceRate < 0 || r.BounceRate > 1 || r.HitCounts != nil || r.VisitDurationP50 != nil {
				t.Errorf("total's visit figures %+v; truth %d visits", r.Totals, tr.Visits)
			}
		}
		// The bounds only lower a count; the noise moves it by a few sigma.
		if float64(r.Visitors) > float64(tr.Visitors)+6*sigma || float64(r.Visitors) < float64(tr.Visitors)/2-6*sigma {
			t.Errorf("%s %s: %d visitors, truth %d, sigma %.1f", r.Dimension, r.Value, r.Visitors, tr.Visitors, sigma)
		}
		if r.Dimension != "total" && float64(r.Visitors) < bud.Threshold {
			t.Errorf("%s %s: published with %d noisy visitors, under the threshold %.1f", r.Dimension, r.Value, r.Visitors, bud.Threshold)
		}
		compared++
	}
	if differ == 0 || compared < 5 {
		t.Errorf("%d rows differ under another key, %d compared with the truth", differ, compared)
	}
	var priv *Row
	for i := range a {
		if a[i].Dimension == "privacy" {
			priv = &a[i]
		}
	}
	if priv == nil || priv.Noise == nil || priv.Mechanism != "discrete-gaussian" || priv.Epsilon != 4 || priv.Delta != 1e-7 || priv.Mechanisms != bud.Mechanisms ||
		priv.ValuesPerVisitor != 10 || priv.ViewsPerValue != 5 || priv.K != 0 || priv.Folded != nil {
		t.Errorf("privacy row %+v", priv)
	}
}

// TestBudget: the budget converts back to epsilon, and the noise follows
// from it: rho_m = sensitivity^2 / (2 sigma^2) summed over the mechanisms
// is rho.
func TestBudget(t *testing.T) {
	cfg := withDefaults(Config{Privacy: PrivacyDifferential, Epsilon: 1, Delta: 1e-7})
	b := withDefaults(cfg).budget()
	if eps := b.Rho + 2*math.Sqrt(b.Rho*math.Log(2/cfg.Delta)); math.Abs(eps-1) > 1e-9 {
		t.Errorf("rho %.6f converts back to epsilon %.9f", b.Rho, eps)
	}
	l, c := float64(cfg.ValuesPerVisitor), float64(cfg.ViewsPerValue)
	perWindow := 0.0
	dims := (b.Mechanisms/25 - 5) / 2 // default windows: 24 hourly + 1 daily per day
	v, secs := float64(cfg.VisitsPerVisitor), float64(cfg.VisitSeconds)
	perWindow += float64(dims) * (l/(2*b.SigmaVisitors*b.SigmaVisitors) + c*c*l/(2*b.SigmaViews*b.SigmaViews))
	perWindow += 1/(2*b.SigmaTotalV*b.SigmaTotalV) + l*l*c*c/(2*b.SigmaTotalW*b.SigmaTotalW)
	perWindow += 2*v*v/(2*b.SigmaVisits*b.SigmaVisits) + v*v*secs*secs/(2*b.SigmaDuration*b.SigmaDuration)
	if got := 25 * perWindow; math.Abs(got-b.Rho) > 1e-9 {
		t.Errorf("the mechanisms spend rho %.6f, the budget is %.6f", got, b.Rho)
	}
	if z := normalQuantile(0.975); math.Abs(z-1.959964) > 1e-5 {
		t.Errorf("normal quantile of 0.975: %f", z)
	}
	for _, bad := range []Config{{Privacy: "dp"}, {Privacy: PrivacyDifferential, Epsilon: -1}, {Privacy: PrivacyDifferential, Delta: 0.5}} {
		if _, err := withDefaults(bad).Resolve(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestContributionBounds: a visitor counts in at most values_per_visitor
// values per dimension (those of smallest selection hash) and
// views_per_value times per value, at most L*C views in the total, and the
// result does not depend on the order of the hits.
func TestContributionBounds(t *testing.T) {
	cfg := Config{Privacy: PrivacyDifferential, Windows: []time.Duration{time.Hour}, ValuesPerVisitor: 3, ViewsPerValue: 2}
	hits := []int{0, 0, 0, 1, 2, 3, 1, 4, 4}
	run := func(order []int) (map[string]int64, int64) {
		agg, _ := testAggregator(cfg)
		w := saltedWorker(t)
		for i, page := range order {
			line := fmt.Sprintf(`81.2.69.5 - - [01/Nov/2026:02:%02d:00 +0000] "GET /p%d HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`, i, page)
			if err := w.Process([]byte(line)); err != nil {
				t.Fatal(err)
			}
			agg.Add(&w.Rec)
		}
		pages := map[string]int64{}
		var total int64
		for _, win := range agg.windows {
			agg.boundedCells(win)
			for _, c := range win.dims[DimPage] {
				pages[c.key] = c.views
			}
			total = win.views
		}
		return pages, total
	}
	pages, total := run(hits)
	reversed := slices.Clone(hits)
	slices.Reverse(reversed)
	if p2, t2 := run(reversed); !reflect.DeepEqual(pages, p2) || total != t2 {
		t.Errorf("the bounds depend on the order of the hits: %v %d, reversed %v %d", pages, total, p2, t2)
	}
	if len(pages) != 3 || total != 6 {
		t.Errorf("pages %v, total %d; want 3 pages and a total of L*C = 6", pages, total)
	}
	for p, n := range pages {
		if n > 2 {
			t.Errorf("%s: %d views of one visitor, bound 2", p, n)
		}
	}
}
