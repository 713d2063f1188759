package pipe

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/transforms/stats"
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

// TestAggregateRerunSame: two runs over one file publish the same rows,
// byte for byte — with many more visitors than the exact counts hold (the
// sketches then depend on the visitors' ids), and under differential
// privacy with a noise key, where a difference between two runs would be
// a difference of clipped counts with the same noise on it. Without a
// key, differential privacy is refused.
func TestAggregateRerunSame(t *testing.T) {
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 22, Rate: 50, Visitors: 20000, Pages: 2000}).WriteN(&in, 60000)
	keyFile := filepath.Join(t.TempDir(), "noise.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("k", 32)), 0o600)
	c := stats.Default()
	c.Privacy, c.Epsilon, c.NoiseKeyFile = stats.PrivacyDifferential, 1, keyFile
	dp, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for name, sp := range map[string]stats.Params{"k-anonymity": defaults.Stats, "differential": dp} {
		run := func() string {
			var out bytes.Buffer
			if _, _, err := Aggregate(defaults.Anonymize, sp, bytes.NewReader(in.Bytes()), &out, Options{Workers: 2}); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		a, b := run(), run()
		if a != b {
			t.Errorf("%s: two runs over one file differ", name)
		}
		// The point of the test: counts past the exact sets (1 024).
		if name == "k-anonymity" && !regexp.MustCompile(`"visitors":(1[1-9]\d\d|[2-9]\d\d\d|\d{5,})\b`).MatchString(a) {
			t.Errorf("no count past the exact sets: the test does not reach the sketches")
		}
	}
	dp.NoiseKey = nil
	var out bytes.Buffer
	_, _, err = Aggregate(defaults.Anonymize, dp, bytes.NewReader(in.Bytes()), &out, Options{})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "noise_key_file") {
		t.Errorf("differential privacy without a key: %v", err)
	}
}
