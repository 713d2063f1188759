package stats

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// vhostLines turns generated Combined lines into vhost_combined ones of
// three sites, a visitor's site chosen by their address.
func vhostLines(n int, seed uint64) [][]byte {
	var out [][]byte
	for _, l := range genLines(n, seed) {
		sp := bytes.IndexByte(l, ' ')
		site := []string{"shop.example.com", "blog.example.com", "docs.example.com"}[int(l[sp-1])%3]
		out = append(out, append([]byte(site+":443 "), l...))
	}
	return out
}

// TestSiteTables: every site gets a table of its own (the rows carry
// "site"), whose figures are those of its hits alone; and no published
// all-sites cell minus the published cells of the sites leaves a cell of
// fewer than k visitors (README: statistics, per site).
func TestSiteTables(t *testing.T) {
	cfg := Config{Windows: []time.Duration{time.Hour}}
	lines := vhostLines(30000, 5)
	// Planted first: /rare-x, seen by 6 visitors of shop and 2 of blog.
	ts := "[01/Nov/2026:00:00:00 +0000]"
	var planted [][]byte
	for i, site := range []string{"shop", "shop", "shop", "shop", "shop", "shop", "blog", "blog"} {
		planted = append(planted, fmt.Appendf(nil, `%s.example.com:443 81.2.69.%d - - %s "GET /rare-x HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`, site, 100+i, ts))
	}
	lines = append(planted, lines...)
	rows, _ := aggregateLines(t, lines, cfg)
	type key struct{ win, dim, value string }
	all := map[key]Row{}
	sites := map[string]map[key]Row{}
	for _, r := range rows {
		k := key{r.WindowStart, r.Dimension, r.Value}
		if r.Site == "" {
			all[k] = r
			continue
		}
		if sites[r.Site] == nil {
			sites[r.Site] = map[key]Row{}
		}
		sites[r.Site][k] = r
	}
	if len(sites) != 3 {
		t.Fatalf("%d site tables, want 3", len(sites))
	}
	// A site's total is its hits, and the sites' totals add up to all.
	for win, tot := range all {
		if win.dim != "total" || tot.Suppressed {
			continue
		}
		var views int64
		for _, st := range sites {
			views += st[win].Views
		}
		if views != tot.Views {
			t.Errorf("%s: sites' views add up to %d, all sites %d", win.win, views, tot.Views)
		}
		if r, ok := all[key{win.win, "host", "shop.example.com"}]; ok && sites["shop.example.com"][win].Views != r.Views {
			t.Errorf("%s: shop's table has %d views, the host row %d", win.win, sites["shop.example.com"][win].Views, r.Views)
		}
	}
	// The planted page: published for shop (6), not for blog (2), and so
	// not in the all-sites table, where 8 - 6 would single out blog's two.
	rare := key{"2026-11-01T00:00:00Z", "page", "/rare-x"}
	if r, ok := sites["shop.example.com"][rare]; !ok || r.Visitors != 6 {
		t.Errorf("shop's /rare-x: %+v, want 6 visitors", r)
	}
	if _, ok := sites["blog.example.com"][rare]; ok {
		t.Error("blog's /rare-x (2 visitors) published")
	}
	if r, ok := all[rare]; ok {
		t.Errorf("all-sites /rare-x published (%d visitors): minus shop's 6 it is blog's 2", r.Visitors)
	}
	// In general: every hit here has a site, so a published all-sites cell
	// counted exactly is the sum of the sites' published cells (a site's
	// cell of fewer than k visitors would have kept it unpublished).
	checked := 0
	for k, r := range all {
		if r.Value == Other || r.Dimension == "total" || r.Dimension == "privacy" || r.Visitors > exactMax {
			continue
		}
		var sum int64
		for _, st := range sites {
			sum += st[k].Visitors
		}
		if sum != r.Visitors {
			t.Errorf("%v: all sites %d visitors, the sites' published cells %d: the difference is a cell below k", k, r.Visitors, sum)
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d cells compared", checked)
	}
}

// TestSitesCapped: past max_sites a host has no table; the privacy row
// counts it.
func TestSitesCapped(t *testing.T) {
	rows, _ := aggregateLines(t, vhostLines(3000, 6), Config{Windows: []time.Duration{24 * time.Hour}, MaxSites: 2})
	tables := map[string]bool{}
	var capped int64
	for _, r := range rows {
		if r.Site != "" {
			tables[r.Site] = true
		}
		if r.Dimension == "privacy" && r.Site == "" {
			capped = r.CappedSites
		}
	}
	if len(tables) != 2 || capped != 1 {
		t.Errorf("%d site tables, capped_sites %d; want 2 and 1", len(tables), capped)
	}
	rows, _ = aggregateLines(t, vhostLines(3000, 6), Config{Windows: []time.Duration{24 * time.Hour}, MaxSites: -1})
	for _, r := range rows {
		if r.Site != "" {
			t.Fatalf("max_sites -1: a site table (%s)", r.Site)
		}
	}
}

// TestSmallSiteNoTable: the site is a value like any other. A site with
// fewer than k visitors in a window has no table there — its name on no
// row, and no row with counts below k for it — while a site with k has.
func TestSmallSiteNoTable(t *testing.T) {
	var lines [][]byte // first: the stream's first minutes
	ts := "[01/Nov/2026:00:%02d:00 +0000]"
	site := func(host string, visitors int) {
		for i := range visitors {
			for m := range 3 {
				lines = append(lines, fmt.Appendf(nil, `%s:443 81.2.70.%d - - `+ts+` "GET /about HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`, host, 10+i, m+i))
			}
		}
	}
	site("jane-doe.example.org", 4)
	site("five.example.org", 5)
	lines = append(lines, vhostLines(3000, 6)...)
	rows, _ := aggregateLines(t, lines, Config{Windows: []time.Duration{time.Hour}})
	five := false
	for _, r := range rows {
		if r.Site == "jane-doe.example.org" {
			t.Fatalf("a site of 4 visitors has a row: %+v", r)
		}
		if r.Site == "five.example.org" && r.Dimension == "total" && r.WindowStart == "2026-11-01T00:00:00Z" {
			five = r.Visitors == 5 && !r.Suppressed
		}
	}
	if !five {
		t.Error("a site of 5 visitors has no table with its total")
	}
}
