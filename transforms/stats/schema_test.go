package stats

import (
	"encoding/json"
	"testing"

	"github.com/logveil/logveil/internal/schematest"
	"github.com/logveil/logveil/schema"
)

// TestStatsRowsMatchSchema validates final rows (batch) and provisional rows
// (an open window's merge) against the shipped schema, and checks every
// field the schema lists is produced.
func TestStatsRowsMatchSchema(t *testing.T) {
	sch := schematest.Compile(t, "stats.v1.json", schema.StatsV1)
	lines := genLines(20000, 41)
	// A window with a single visitor: its total is suppressed.
	lines = append(lines, []byte(`81.2.69.77 - - [09/Nov/2026:02:10:00 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`))
	final, _ := aggregateLines(t, lines, Config{MaxValues: 40})
	masked := testMerger(Config{TimeZone: "Asia/Kolkata"}, Masks{IPv4: 24, IPv6: 32, Stated: true})
	m0, _ := testAggregator(Config{TimeZone: "Asia/Kolkata"})
	w0 := saltedWorker(t)
	for _, l := range lines[:100] {
		if w0.Process(l) == nil {
			m0.Add(&w0.Rec)
		}
	}
	final = append(final, m0.CloseWith(masked)...)
	// Per-site tables, one host past max_sites.
	sited, _ := aggregateLines(t, vhostLines(3000, 8), Config{MaxSites: 2})
	final = append(final, sited...)
	// Hits late for their hour, counted in their day (late_events).
	final = append(final, lateRows(t)...)
	// The events' rungs (k-anonymous events).
	final = append(final, rungRows(t, 5)...)
	// Differential privacy's rows and privacy record.
	dp, _ := aggregateLines(t, genLines(20000, 9), Config{Privacy: PrivacyDifferential, Epsilon: 8})
	final = append(final, dp...)
	agg, _ := testAggregator(Config{})
	w := saltedWorker(t)
	for _, l := range lines[:5000] {
		if w.Process(l) == nil {
			agg.Add(&w.Rec)
		}
	}
	m := testMerger(Config{}, Masks{})
	for _, p := range agg.Flush(nil, 0, false) {
		m.Add(&p)
	}
	provisional := m.Rows(nil, false)
	seen := map[string]bool{}
	for _, r := range append(final, provisional...) {
		out, _ := json.Marshal(r)
		for k := range schematest.Validate(t, sch, out) {
			seen[k] = true
		}
	}
	for _, k := range schematest.Properties(schema.StatsV1) {
		if !seen[k] && k != "range" { // range rows are statspage's: TestRangeRows
			t.Errorf("schema field %q never produced", k)
		}
	}
	if len(provisional) == 0 || provisional[0].Final {
		t.Fatalf("no provisional rows")
	}
}
