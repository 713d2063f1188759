package statspage

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/internal/schematest"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/schema"
	"github.com/logveil/logveil/transforms/stats"
)

// tenDays aggregates ten days of generated traffic into daily and hourly
// rows.
func tenDays(t *testing.T) []stats.Row {
	t.Helper()
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 9, Rate: 0.2, Visitors: 400, Pages: 40}).WriteN(&in, 10*86400/5)
	s := config.Default().MustResolve()
	_, rows, err := pipe.AggregateRows(s.Anonymize, s.Stats, &in, pipe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRangeRows: a 7d, 30d or month range is the sum of its daily rows, and
// its rows match the schema.
func TestRangeRows(t *testing.T) {
	rows := tenDays(t)
	daily := map[string]stats.Row{}
	var days []string
	for _, r := range rows {
		if r.WindowSize == "24h0m0s" && r.Dimension == "total" {
			daily[r.WindowStart] = r
			days = append(days, r.WindowStart)
		}
	}
	if len(days) < 10 {
		t.Fatalf("%d days", len(days))
	}
	sch := schematest.Compile(t, "stats.v1.json", schema.StatsV1)
	for spec, n := range map[string]int{"7d": 7, "30d": len(days), "month": len(days)} {
		rr, err := Range(rows, spec)
		if err != nil {
			t.Fatal(err)
		}
		var want stats.Row
		var visits int64
		for _, d := range days[len(days)-n:] {
			want.Views += daily[d].Views
			want.Visitors += daily[d].Visitors
			visits += daily[d].Visits
		}
		var got *stats.Row
		for i := range rr {
			out, _ := json.Marshal(rr[i])
			schematest.Validate(t, sch, out)
			if rr[i].Dimension == "total" && rr[i].Site == "" {
				got = &rr[i]
			}
		}
		if got == nil || got.Views != want.Views || got.Visitors != want.Visitors || got.Visits != visits ||
			got.Range != spec || got.WindowStart != days[len(days)-n] || got.WindowSize != (time.Duration(n)*24*time.Hour).String() {
			t.Errorf("%s: %+v; want views %d, visitors %d (daily sums), visits %d from %s", spec, got, want.Views, want.Visitors, visits, days[len(days)-n])
		}
	}
	if _, err := Range(rows, "week"); err == nil {
		t.Error("range week accepted")
	}
}

// TestWriteCSV: a header, one line per row, and values that a spreadsheet
// would run as formulas defused.
func TestWriteCSV(t *testing.T) {
	rows := []stats.Row{
		{WindowStart: "2026-11-01T00:00:00Z", WindowSize: "1h0m0s", Dimension: "page", Value: "=HYPERLINK(\"http://x\")", Views: 9, Visitors: 6, Final: true},
		{WindowStart: "2026-11-01T00:00:00Z", WindowSize: "1h0m0s", Dimension: "search", Value: "a, \"quoted\" term", Views: 12, Visitors: 10},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0][:8], ",") != "window_start,window_size,range,site,dimension,value,views,visitors" {
		t.Fatalf("%v: %q", err, recs)
	}
	if recs[1][5] != "'=HYPERLINK(\"http://x\")" || recs[2][5] != "a, \"quoted\" term" || recs[1][6] != "9" || recs[1][16] != "true" {
		t.Errorf("records %q", recs[1:])
	}
}
