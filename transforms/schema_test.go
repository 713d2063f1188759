package transforms

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/logveil/logveil/schema"
)

// TestEventsMatchSchema validates events of every shape against the shipped
// JSON Schema, and checks that every field the schema lists is produced by
// some line (the schema and the encoder cannot drift apart).
func TestEventsMatchSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.EventV1))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("event.v1.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("event.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	w := newTestAnonymizer(t, Config{CountryDB: geoip2CountryDB(t), ASNDB: asnDB(t), SearchTermsInEvents: true}).NewWorker()
	w.SetSaltSource(everyDay{})
	w.EmitPseudonym = true
	lines := append([][]byte{}, sampleLines...)
	lines = append(lines,
		[]byte(`c-73-12-34-56.hsd1.ca.comcast.net - - [10/Oct/2000:13:55:36 -0700] "\x16\x03" 400 -`),
		[]byte(`{"remote_addr":"2a02:cf40::9","time_iso8601":"2000-10-10T13:55:36Z","request":"GET /?q=x HTTP/1.1","status":200,"request_time":"0.010","host":"shop.example","http_referer":"https://shop.example/"}`),
	)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		l, _ := plantedLine(rng)
		lines = append(lines, []byte(l))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if err := w.Process(l); err != nil {
			t.Fatalf("Process(%q): %v", l, err)
		}
		out := w.AppendJSON(nil, &w.Rec, []byte("raw-0-1"))
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("not JSON: %s", out)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("event does not match schema: %v\n%s", err, out)
		}
		var m map[string]any
		json.Unmarshal(out, &m)
		for k := range m {
			seen[k] = true
		}
	}
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(schema.EventV1, &s)
	for k := range s.Properties {
		if !seen[k] {
			t.Errorf("schema field %q never produced", k)
		}
	}
}

type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day)}, true }

// TestStatsRowsMatchSchema validates final rows (batch) and provisional rows
// (an open window's merge) against the shipped schema, and checks every
// field the schema lists is produced.
func TestStatsRowsMatchSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.StatsV1))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("stats.v1.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("stats.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	lines := genLines(20000, 41)
	// A window with a single visitor: its total is suppressed.
	lines = append(lines, []byte(`81.2.69.77 - - [09/Nov/2026:02:10:00 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`))
	final, _ := aggregateLines(t, lines, StatsConfig{MaxValues: 40})
	masked := NewMerger(StatsConfig{})
	masked.Masks = [2]int{24, 32}
	m0, _ := NewAggregator(StatsConfig{})
	w0 := newTestAnonymizer(t, Config{}).NewWorker()
	w0.SetSaltSource(everyDay{})
	for _, l := range lines[:100] {
		if w0.Process(l) == nil {
			m0.Add(&w0.Rec)
		}
	}
	final = append(final, m0.CloseWith(masked)...)
	agg, _ := NewAggregator(StatsConfig{})
	w := newTestAnonymizer(t, Config{}).NewWorker()
	w.SetSaltSource(everyDay{})
	for _, l := range lines[:5000] {
		if w.Process(l) == nil {
			agg.Add(&w.Rec)
		}
	}
	m := NewMerger(StatsConfig{})
	for _, p := range agg.Flush(nil, 0, false) {
		m.Add(&p)
	}
	provisional := m.Rows(nil, false)
	seen := map[string]bool{}
	for _, r := range append(final, provisional...) {
		out, _ := json.Marshal(r)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("row does not match schema: %v\n%s", err, out)
		}
		var f map[string]any
		json.Unmarshal(out, &f)
		for k := range f {
			seen[k] = true
		}
	}
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(schema.StatsV1, &s)
	for k := range s.Properties {
		if !seen[k] {
			t.Errorf("schema field %q never produced", k)
		}
	}
	if len(provisional) == 0 || provisional[0].Final {
		t.Fatalf("no provisional rows")
	}
}
