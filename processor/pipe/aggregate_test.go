package pipe

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/loggen"
)

// TestAggregateParallelIsOrdered: aggregating on four workers gives the
// same rows as on one (visits need hits in input order).
func TestAggregateParallelIsOrdered(t *testing.T) {
	var in bytes.Buffer
	// At most 800 visitors: every count is exact, so runs with different
	// in-memory salts can be compared row for row.
	loggen.New(loggen.Options{Seed: 21, Rate: 5, Malformed: 0.01, Visitors: 800}).WriteN(&in, 40000)
	run := func(workers int) []string {
		var out bytes.Buffer
		st, n, err := Aggregate(defaults.Anonymize, defaults.Stats, bytes.NewReader(in.Bytes()), &out, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if st.In != 40000 || st.RejectedTotal() == 0 || n < 100 {
			t.Fatalf("in %d rejected %d rows %d", st.In, st.RejectedTotal(), n)
		}
		rows := strings.Split(strings.TrimSpace(out.String()), "\n")
		sort.Strings(rows)
		return rows
	}
	one, four := run(1), run(4)
	if strings.Join(one, "\n") != strings.Join(four, "\n") {
		t.Fatal("4 workers gave different statistics than 1")
	}
}
