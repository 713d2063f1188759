package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/internal/schematest"
	"github.com/logveil/logveil/schema"
	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/census"
)

func eventSchema(t *testing.T) *jsonschema.Schema {
	return schematest.Compile(t, "event.v1.json", schema.EventV1)
}

type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day), 1}, true }

func (d everyDay) KnownSalt(day int64) ([]byte, bool) { return d.Salt(day) }

func testEngine(tb testing.TB, opt Options, set func(c *transforms.Config)) *Engine {
	tb.Helper()
	c := transforms.Default()
	c.MaxLineBytes = 2048
	if set != nil {
		set(&c)
	}
	p, err := c.Resolve()
	if err != nil {
		tb.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return New(a, opt)
}

const (
	access   = `203.0.113.9 - - [28/Nov/2026:10:00:00 +0000] "GET /shop/cart?utm_source=news HTTP/1.1" 200 512 "https://www.example.org/a" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`
	errorLog = `[Sat Nov 28 10:00:01.123456 2026] [core:error] [pid 42] [client 203.0.113.9:5123] AH00126: Invalid URI in request GET /x?email=jdoe@example.com HTTP/1.1`
	garbage  = "garbage \"from\" 203.0.113.9 jdoe@example.com\x01"
)

// TestLine: one line of each kind, with the line endings shippers leave,
// through each encoding.
func TestLine(t *testing.T) {
	long := access[:60] + strings.Repeat("a", 3000) + access[60:]
	lines := []string{access + "\r\n", access + "\n\n", errorLog + "\r", garbage, "", long}
	t.Run("kafka", func(t *testing.T) {
		w := testEngine(t, Options{Events: JSON, Rejects: Records, Hits: true, Salts: everyDay{}}, nil).NewWorker()
		w.SetSource("raw", 3)
		var b Batch
		b.Reset()
		for i, l := range lines {
			w.Line(&b, []byte(l), int64(100+i))
		}
		kinds := ""
		for _, it := range b.Items {
			kinds += string("ver"[it.Kind])
		}
		if kinds != "vverrr" || b.Lines != 6 || b.Events != 2 || b.Errors != 1 || b.Rejects != 3 {
			t.Fatalf("kinds %q, counts %d %d %d %d", kinds, b.Lines, b.Events, b.Errors, b.Rejects)
		}
		for i, it := range b.Items {
			if want := "raw-3-" + string(rune('0'+i)); string(it.ID) != "raw-3-10"+string(rune('0'+i)) {
				t.Errorf("item %d id %q, want %s", i, it.ID, want)
			}
			var m map[string]any
			if err := json.Unmarshal(it.Out, &m); err != nil {
				t.Fatalf("item %d: %v: %s", i, err, it.Out)
			}
			if m["id"] != string(it.ID) {
				t.Errorf("item %d: id %v in %s", i, m["id"], it.Out)
			}
		}
		if !bytes.Equal(b.Items[0].Out, b.Items[1].Out[:0]) && !bytes.Contains(b.Items[1].Out, []byte(`"path":"/shop/cart"`)) {
			t.Errorf("a line ending in two newlines: %s", b.Items[1].Out)
		}
		if !bytes.Contains(b.Items[2].Out, []byte(`"type":"error"`)) || bytes.Contains(b.Items[2].Out, []byte("jdoe")) {
			t.Errorf("error-log line: %s", b.Items[2].Out)
		}
		for i, reason := range map[int]error{3: transforms.ErrTime, 4: transforms.ErrEmpty, 5: transforms.ErrTooLong} {
			if b.Items[i].Reason != reason || b.Reasons[reason] != 1 {
				t.Errorf("item %d: reason %v, want %v", i, b.Items[i].Reason, reason)
			}
		}
		if len(b.Hits) != 2 || b.Items[0].Hit != 0 || b.Items[1].Hit != 1 || string(b.Hits[0].Source) != "raw/3" || b.Hits[1].Offset != 101 ||
			len(b.Items[0].Visitor) != transforms.PseudonymLen || string(b.Hits[0].Page) != "/shop/cart" {
			t.Errorf("hits %+v, items %+v", b.Hits, b.Items)
		}
		if b.MaxTime != 1795860000 {
			t.Errorf("max time %d", b.MaxTime)
		}
		for _, secret := range []string{"203.0.113.9", "jdoe", "aaaa"} {
			for _, it := range b.Items {
				if bytes.Contains(it.Out, []byte(secret)) {
					t.Errorf("%q in %s", secret, it.Out)
				}
			}
		}
	})
	t.Run("pipe", func(t *testing.T) {
		w := testEngine(t, Options{Events: Lines, Rejects: Shapes, Newlines: true}, nil).NewWorker()
		var b Batch
		b.Reset()
		next := w.Lines(&b, []byte(strings.Join(lines, "\n")), 0)
		// Joined with "\n", the line endings make four empty lines.
		if next != 9 || b.Events != 2 || b.Errors != 1 || b.Rejects != 6 {
			t.Fatalf("next %d, counts %d %d %d", next, b.Events, b.Errors, b.Rejects)
		}
		out := strings.Split(strings.TrimSuffix(string(b.Out), "\n"), "\n")
		if len(out) != 3 || !strings.HasPrefix(out[0], "203.0.113.0 - - [28/Nov/2026:10:00:00 +0000]") || out[0] != out[1] ||
			!strings.HasPrefix(out[2], "[Sat Nov 28 10:00:01.123456 2026] [core:error]") {
			t.Errorf("events:\n%s", b.Out)
		}
		// Empty lines write no shape; the others one line each.
		rej := strings.Split(strings.TrimSuffix(string(b.Rej), "\n"), "\n")
		if len(rej) != 2 || rej[0] != `{w} "{w}" {ip} {email} ` || b.Reasons[transforms.ErrEmpty] != 4 {
			t.Errorf("rejects %q, reasons %v", rej, b.Reasons)
		}
	})
	t.Run("aggregate", func(t *testing.T) {
		w := testEngine(t, Options{Events: NoEvents, Hits: true, Salts: everyDay{}}, nil).NewWorker()
		var b Batch
		b.Reset()
		w.Lines(&b, []byte(strings.Join(lines, "\n")), 0)
		if len(b.Out) != 0 || len(b.Hits) != 2 || b.Events != 2 || b.Errors != 1 || !b.Hits[0].HasVisitor {
			t.Errorf("out %q, hits %+v", b.Out, b.Hits)
		}
	})
}

// TestBatchOutlivesWorker: what a batch holds stays as it was while the
// worker goes on with other lines (the Kafka driver produces a batch while
// nothing else touches it, the pipe while the worker takes the next chunk).
func TestBatchOutlivesWorker(t *testing.T) {
	w := testEngine(t, Options{Events: JSON, Hits: true, Salts: everyDay{}}, nil).NewWorker()
	var a, b Batch
	a.Reset()
	b.Reset()
	w.Line(&a, []byte(access), 0)
	want := string(a.Items[0].Out) + string(a.Hits[0].Page) + string(a.Hits[0].Referrer)
	for range 50 {
		w.Line(&b, []byte(strings.Replace(access, "/shop/cart", "/other/page", 1)), 1)
	}
	if got := string(a.Items[0].Out) + string(a.Hits[0].Page) + string(a.Hits[0].Referrer); got != want {
		t.Errorf("the first batch changed:\n%s\n%s", got, want)
	}
}

// TestLineNoAllocs: in steady state a line costs no allocation, whichever
// way it goes.
func TestLineNoAllocs(t *testing.T) {
	w := testEngine(t, Options{Events: JSON, Rejects: Records, Hits: true, Salts: everyDay{}}, nil).NewWorker()
	w.SetSource("raw", 0)
	var b Batch
	for _, s := range []string{access, errorLog, garbage} {
		l := []byte(s)
		run := func() {
			b.Reset()
			w.Line(&b, l, 1)
		}
		run()
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%.1f allocations for %.30q", n, l)
		}
	}
}

func TestRejectRecord(t *testing.T) {
	e := testEngine(t, Options{}, nil)
	wk := e.anon.NewWorker()
	v := appendRejectRecord(nil, wk, []byte("raw-1-7"), transforms.ErrTime, []byte(garbage))
	var r struct {
		SchemaVersion int    `json:"schema_version"`
		ID            string `json:"id"`
		Reason        string `json:"reason"`
		Line          string `json:"line"`
	}
	if err := json.Unmarshal(v, &r); err != nil || r.SchemaVersion != transforms.SchemaVersion || r.ID != "raw-1-7" || r.Reason != "unparsable timestamp" ||
		r.Line != `{w} "{w}" {ip} {email} ` {
		t.Errorf("%s -> %+v %v", v, r, err)
	}
	if bytes.Contains(v, []byte("203.0.113.9")) || bytes.Contains(v, []byte("jdoe")) {
		t.Errorf("identifier in the rejected record: %s", v)
	}
}

// BenchmarkLine: the Kafka stage's per-line work (JSON event, hit).
func BenchmarkLine(b *testing.B) {
	w := testEngine(b, Options{Events: JSON, Rejects: Records, Hits: true, Salts: everyDay{}}, nil).NewWorker()
	w.SetSource("raw", 0)
	var batch Batch
	line := []byte(access)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			batch.Reset()
		}
		w.Line(&batch, line, int64(i))
	}
}

// kLine is a line of the visitor at addr at minute m.
func kLine(addr string, m int) string {
	return fmt.Sprintf(`%s - - [28/Nov/2026:10:%02d:00 +0000] "GET /shop HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`, addr, m)
}

// kEngine is an engine with k-anonymous events (k 5).
func kEngine(t *testing.T) *Engine {
	return testEngine(t, Options{Events: JSON, Rejects: Records, Salts: everyDay{}, Census: census.New(5, 1<<20)}, nil)
}

// releaseEvents reads lines as one batch, releases it and returns the
// events decoded.
func releaseEvents(t *testing.T, w *Worker, h *Holder, lines ...string) []map[string]any {
	t.Helper()
	b := &Batch{}
	b.Reset()
	for i, l := range lines {
		w.Read(b, []byte(l), int64(i))
	}
	h.Add(b)
	if n := h.Release(1); n != 1 {
		t.Fatalf("released %d batches", n)
	}
	var events []map[string]any
	for _, it := range b.Items {
		var m map[string]any
		if err := json.Unmarshal(it.Out, &m); err != nil {
			t.Fatalf("%v: %q", err, it.Out)
		}
		events = append(events, m)
	}
	return events
}

// field is each event's string field name ("" when absent).
func field(events []map[string]any, name string) []string {
	var out []string
	for _, m := range events {
		s, _ := m[name].(string)
		out = append(out, s)
	}
	return out
}

// release reads lines as one batch, releases it and returns each event's
// client_network.
func release(t *testing.T, w *Worker, h *Holder, lines ...string) []string {
	t.Helper()
	return field(releaseEvents(t, w, h, lines...), "client_network")
}

// TestKAnonymousEvents: an event's network, browser and the rest are
// written only in a class k visitors are written in that day. Four
// visitors of one /24 in a window do not show it; five do, and later
// events of theirs join the open class; a visitor alone never shows it,
// however many events it has.
func TestKAnonymousEvents(t *testing.T) {
	e := kEngine(t)
	w, h := e.NewWorker(), e.NewHolder()
	var four []string
	for n := 1; n <= 4; n++ {
		four = append(four, kLine(fmt.Sprintf("198.51.100.%d", n), n))
	}
	for i, got := range release(t, w, h, four...) {
		if got != "" {
			t.Fatalf("visitor %d of 4 in one /24: network %q written", i+1, got)
		}
	}
	five := append(four, kLine("198.51.100.5", 5))
	for i, got := range release(t, w, h, five...) {
		if got != "198.51.100.0/24" {
			t.Fatalf("visitor %d of 5 in one window: network %q, want the /24", i+1, got)
		}
	}
	if got := release(t, w, h, kLine("198.51.100.1", 30)); got[0] != "198.51.100.0/24" {
		t.Fatalf("a visitor of the open class later in the day: network %q", got[0])
	}
	var alone []string
	for m := range 20 {
		alone = append(alone, kLine("203.0.113.9", m))
	}
	for _, got := range release(t, w, h, alone...) {
		if got != "" {
			t.Fatalf("a visitor alone in its /24: network %q written", got)
		}
	}
	// The next day starts afresh.
	if got := release(t, w, h, strings.Replace(kLine("198.51.100.1", 1), "28/Nov", "29/Nov", 1)); got[0] != "" {
		t.Fatalf("a new day: network %q written before k visitors", got[0])
	}
	// Worker.Line waits for no one: it joins an open class or none.
	var b Batch
	b.Reset()
	w.Line(&b, []byte(kLine("198.51.100.2", 40)), 0)
	w.Line(&b, []byte(kLine("192.0.2.77", 41)), 1)
	if !bytes.Contains(b.Items[0].Out, []byte(`"client_network":"198.51.100.0/24"`)) || bytes.Contains(b.Items[1].Out, []byte(`client_network`)) {
		t.Fatalf("Line: %s\n%s", b.Items[0].Out, b.Items[1].Out)
	}
}

// TestHitsCarryTheirRung: with k-anonymous events, each hit says the rung
// its event was written at (the statistics' privacy record states the
// shares); without, none.
func TestHitsCarryTheirRung(t *testing.T) {
	e := testEngine(t, Options{Events: JSON, Rejects: Records, Hits: true, Salts: everyDay{}, Census: census.New(5, 1<<20)}, nil)
	w, h := e.NewWorker(), e.NewHolder()
	b := &Batch{}
	b.Reset()
	for n := 1; n <= 5; n++ {
		w.Read(b, []byte(kLine(fmt.Sprintf("198.51.100.%d", n), n)), int64(n))
	}
	w.Read(b, []byte(kLine("203.0.113.9", 9)), 9) // alone in its /24 and its device
	h.Add(b)
	h.Release(1)
	for i, it := range b.Items {
		hit := b.Hits[it.Hit]
		want := uint8(transforms.RungNetwork) + 1
		if i == 5 {
			want = uint8(b.Items[i].rung) + 1
			if b.Items[i].rung == transforms.RungNetwork {
				t.Fatalf("the lonely visitor was written at the network rung")
			}
		}
		if hit.Rung != want {
			t.Errorf("event %d: hit rung %d, want %d", i, hit.Rung, want)
		}
	}
	plain := testEngine(t, Options{Events: JSON, Hits: true, Salts: everyDay{}}, nil).NewWorker()
	var pb Batch
	pb.Reset()
	plain.Line(&pb, []byte(kLine("198.51.100.1", 1)), 0)
	if pb.Hits[0].Rung != 0 {
		t.Errorf("without k-anonymous events a hit has rung %d", pb.Hits[0].Rung)
	}
}

// TestHeldBatchKeepsNoOutput: a batch waiting in the window keeps no
// output buffer (the window's memory is its records); the buffer a
// written batch gives back is the one the next release writes into.
func TestHeldBatchKeepsNoOutput(t *testing.T) {
	e := kEngine(t)
	w, h := e.NewWorker(), e.NewHolder()
	b := &Batch{}
	read := func() {
		b.Reset()
		for n := 1; n <= 5; n++ {
			w.Read(b, []byte(kLine(fmt.Sprintf("198.51.100.%d", n), n)), int64(n))
		}
		h.Add(b)
	}
	read()
	if h.Release(1) != 1 || len(b.Out) == 0 {
		t.Fatalf("nothing written: %q", b.Out)
	}
	first := &b.Out[0]
	h.Reuse(b)
	read()
	if cap(b.Out) != 0 {
		t.Fatalf("a held batch keeps an output buffer of %d bytes", cap(b.Out))
	}
	if h.Release(1) != 1 || !bytes.Contains(b.Out, []byte(`"client_network":"198.51.100.0/24"`)) {
		t.Fatalf("second release: %q", b.Out)
	}
	if &b.Out[0] != first {
		t.Fatalf("the release did not write into the buffer given back")
	}
}

// TestKAnonymousClasses checks the guarantee as an analyst would, from the
// output alone and the raw lines: group the events of a day by the
// quasi-identifiers they carry, count the distinct visitors (address and
// user agent) behind each group — at least k for every group but the one
// that carries none, after every release (what a crash can leave), for
// random traffic cut into random batches and released at random.
func TestKAnonymousClasses(t *testing.T) {
	classed, events := 0, 0
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		e := kEngine(t)
		w, h := e.NewWorker(), e.NewHolder()
		agents := []string{
			"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
			"Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
		}
		type visitor struct{ addr, ua, host string }
		var people []visitor
		for range 40 + rng.IntN(60) {
			people = append(people, visitor{
				addr: fmt.Sprintf("10.%d.%d.%d", rng.IntN(3), rng.IntN(4), 1+rng.IntN(250)),
				ua:   agents[rng.IntN(len(agents))],
				host: []string{"a.example", "b.example"}[rng.IntN(2)],
			})
		}
		var batches []*Batch
		who := map[*Batch][]visitor{}
		classes := map[string]map[visitor]bool{}
		for range 10 + rng.IntN(20) {
			b := &Batch{}
			b.Reset()
			for i := range 1 + rng.IntN(30) {
				p := people[rng.IntN(len(people))]
				if rng.IntN(3) == 0 { // a few heavy visitors
					p = people[rng.IntN(3)]
				}
				line := fmt.Sprintf(`%s:443 %s - - [28/Nov/2026:10:00:00 +0000] "GET /p HTTP/1.1" 200 1 "-" %q`, p.host, p.addr, p.ua)
				w.Read(b, []byte(line), int64(i))
				who[b] = append(who[b], p)
			}
			h.Add(b)
			batches = append(batches, b)
			if rng.IntN(3) == 0 || h.Len() > 6 {
				n := h.Release(1 + rng.IntN(h.Len()))
				for _, rb := range batches[:n] {
					for i, it := range rb.Items {
						if it.Kind != Event {
							t.Fatalf("not an event: %s", it.Out)
						}
						c, floor := qiTuple(t, it.Out)
						events++
						if !floor {
							classed++
						} else {
							c = ""
						}
						if classes[c] == nil {
							classes[c] = map[visitor]bool{}
						}
						classes[c][who[rb][i]] = true
					}
				}
				batches = batches[n:]
				for c, vs := range classes {
					if c != "" && len(vs) < 5 {
						t.Fatalf("seed %d: class %s has %d visitors after a release", seed, c, len(vs))
					}
				}
			}
		}
	}
	// Not everything at the bottom rung: classes were opened and joined.
	if classed < events/2 {
		t.Fatalf("%d of %d events in a class", classed, events)
	}
	t.Logf("%d of %d events in a class", classed, events)
}

// qiTuple is the quasi-identifiers an event carries, as one string, and
// whether it is the floor: nothing but the traffic class, which every rung
// keeps.
func qiTuple(t *testing.T, out []byte) (string, bool) {
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var s []string
	floor := true
	for _, f := range []string{"client_network", "client_domain", "asn", "as_org", "country", "continent", "browser", "browser_version", "os", "device", "host", "traffic", "crawler"} {
		if v, ok := m[f]; ok {
			s = append(s, fmt.Sprint(f, "=", v))
			floor = floor && (f == "traffic" || f == "crawler")
		}
	}
	return strings.Join(s, " "), floor
}

// TestLadderFields: each rung writes what it keeps and leaves the rest
// out, and the event still validates against the schema.
func TestLadderFields(t *testing.T) {
	e := testEngine(t, Options{Events: JSON, Salts: everyDay{}}, nil)
	w := e.NewWorker()
	line := []byte(strings.Replace(kLine("198.51.100.7", 1), `"GET /shop`, `"GET /shop`, 1))
	want := map[transforms.Rung][]string{
		transforms.RungNetwork:     {"client_network", "country", "browser", "browser_version", "os", "device"},
		transforms.RungWideNetwork: {"client_network", "country", "browser", "browser_version", "os", "device"},
		transforms.RungProvider:    {"country", "browser", "browser_version", "os", "device"},
		transforms.RungBrowser:     {"country", "browser", "os", "device"},
		transforms.RungCountry:     {"country", "browser", "os", "device"},
		transforms.RungOS:          {"country", "os", "device"},
		transforms.RungDevice:      {"country", "device"},
		transforms.RungPlace:       {"country"},
		transforms.RungSite:        {},
		transforms.RungNone:        {},
	}
	qi := []string{"client_network", "country", "continent", "asn", "as_org", "browser", "browser_version", "os", "device", "host"}
	for rung := range transforms.NumRungs {
		if err := w.wk.Process(line); err != nil {
			t.Fatal(err)
		}
		transforms.Generalize(&w.wk.Rec, rung)
		var m map[string]any
		out := w.wk.AppendJSON(nil, &w.wk.Rec, nil)
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range qi {
			if _, ok := m[f]; ok {
				got = append(got, f)
			}
		}
		if strings.Join(got, " ") != strings.Join(want[rung], " ") {
			t.Errorf("%s: fields %v, want %v", rung, got, want[rung])
		}
		if rung == transforms.RungWideNetwork && m["client_network"] != "198.51.0.0/16" {
			t.Errorf("wide network %v", m["client_network"])
		}
		schematest.Validate(t, eventSchema(t), out)
	}
}

// BenchmarkHolder: a line of loggen traffic read, held and released at
// its rung (k 5) — the per-line cost of k-anonymous events; BenchmarkRead
// is the same lines written alone (events_k 1).
func BenchmarkHolder(b *testing.B) { benchmarkHeld(b, census.New(5, 64<<20)) }

func BenchmarkRead(b *testing.B) { benchmarkHeld(b, nil) }

func benchmarkHeld(b *testing.B, c *census.Counter) {
	e := testEngine(b, Options{Events: JSON, Rejects: Records, Hits: true, Salts: everyDay{}, Census: c}, nil)
	w := e.NewWorker()
	w.SetSource("raw", 0)
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 1}).WriteN(&in, 50000)
	lines := bytes.Split(bytes.TrimSuffix(in.Bytes(), []byte("\n")), []byte("\n"))
	var h *Holder
	if c != nil {
		h = e.NewHolder()
	}
	const perBatch, window = 1000, 4
	var queue, spare []*Batch
	next := func() *Batch {
		if len(spare) == 0 {
			spare = append(spare, &Batch{})
		}
		nb := spare[len(spare)-1]
		spare = spare[:len(spare)-1]
		nb.Reset()
		return nb
	}
	cur := next()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if h == nil {
			w.Line(cur, lines[i%len(lines)], int64(i))
		} else {
			w.Read(cur, lines[i%len(lines)], int64(i))
		}
		if len(cur.Items) < perBatch {
			continue
		}
		if h == nil {
			spare = append(spare, cur)
			cur = next()
			continue
		}
		h.Add(cur)
		queue = append(queue, cur)
		if h.Len() > window {
			n := h.Release(1)
			for _, q := range queue[:n] {
				h.Reuse(q)
			}
			spare = append(spare, queue[:n]...)
			queue = append(queue[:0], queue[n:]...)
		}
		cur = next()
	}
}

// pathLine is a line of the visitor at addr reading target at minute m.
func pathLine(addr, target string, m int) string {
	return fmt.Sprintf(`%s - - [28/Nov/2026:10:%02d:00 +0000] "GET %s HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"`, addr, m, target)
}

// paths reads lines as one batch, releases it and returns each event's path.
func paths(t *testing.T, w *Worker, h *Holder, lines ...string) []string {
	t.Helper()
	return field(releaseEvents(t, w, h, lines...), "path")
}

// TestPathByPopulation: a path value that is no sure identifier and no
// common word is written only when k distinct visitors used it that day
// (the census, as for the quasi-identifiers): four visitors of an id see
// its placeholder, five see it, later readers too, also the next day but
// not the day after; one visitor reading it twenty times never does; a
// person's name is replaced however many read it; the statistics see the
// shape's path whatever the census says.
func TestPathByPopulation(t *testing.T) {
	e := testEngine(t, Options{Events: JSON, Rejects: Records, Hits: true, Salts: everyDay{}, Census: census.New(5, 1<<20)}, nil)
	w, h := e.NewWorker(), e.NewHolder()
	var four []string
	for n := 1; n <= 4; n++ {
		four = append(four, pathLine(fmt.Sprintf("198.51.%d.7", n), "/articles/42137", n))
	}
	for i, got := range paths(t, w, h, four...) {
		if got != "/articles/{id}" {
			t.Fatalf("reader %d of 4: path %q", i+1, got)
		}
	}
	// A fifth visitor in the same window: all five are written as read (the
	// four before were already written with the placeholder).
	var five []string
	for n := 11; n <= 15; n++ {
		five = append(five, pathLine(fmt.Sprintf("203.0.%d.7", n), "/articles/77777", n))
	}
	for i, got := range paths(t, w, h, five...) {
		if got != "/articles/77777" {
			t.Fatalf("reader %d of 5: path %q", i+1, got)
		}
	}
	if got := paths(t, w, h, pathLine("192.0.2.99", "/articles/77777", 40)); got[0] != "/articles/77777" {
		t.Fatalf("a later reader of an admitted path: %q", got[0])
	}
	var alone []string
	for m := range 20 {
		alone = append(alone, pathLine("192.0.2.1", "/account/orders/123456", m))
	}
	for _, got := range paths(t, w, h, alone...) {
		if got != "/account/orders/{id}" {
			t.Fatalf("one visitor, twenty reads: path %q", got)
		}
	}
	var named []string
	for n := 1; n <= 10; n++ {
		named = append(named, pathLine(fmt.Sprintf("198.18.%d.7", n), "/patient-portal/john-smith", n))
	}
	for _, got := range paths(t, w, h, named...) {
		if got != "/patient-portal/{name}" {
			t.Fatalf("a popular name: path %q", got)
		}
	}
	// The next day, what k visitors used the day before is still admitted
	// (a two-day window); the day after that, it is not.
	next := strings.Replace(pathLine("192.0.2.98", "/articles/77777", 1), "28/Nov", "29/Nov", 1)
	if got := paths(t, w, h, next); got[0] != "/articles/77777" {
		t.Fatalf("the next day: %q, admitted the day before", got[0])
	}
	next = strings.Replace(pathLine("192.0.2.98", "/articles/42137", 1), "28/Nov", "29/Nov", 1)
	if got := paths(t, w, h, next); got[0] != "/articles/{id}" {
		t.Fatalf("the next day: %q, which four read the day before", got[0])
	}
	after := strings.Replace(pathLine("192.0.2.98", "/articles/77777", 1), "28/Nov", "30/Nov", 1)
	if got := paths(t, w, h, after); got[0] != "/articles/{id}" {
		t.Fatalf("two days later: %q before k readers", got[0])
	}
	// The hits see the path as the shape decides it.
	b := &Batch{}
	b.Reset()
	w.Read(b, []byte(pathLine("192.0.2.97", "/articles/77777", 50)), 0)
	if got := string(b.Hits[0].Page); got != "/articles/{id}" {
		t.Fatalf("hit page %q", got)
	}
}

// TestSiteVocabulary: a slug's unknown word that k visitors read in any of
// the site's paths that day is a word of the site: a slug made of it and
// common words is written however few read that slug. A word only one
// visitor used is not.
func TestSiteVocabulary(t *testing.T) {
	e := testEngine(t, Options{Events: JSON, Rejects: Records, Salts: everyDay{}, Census: census.New(5, 1<<20)}, nil)
	w, h := e.NewWorker(), e.NewHolder()
	var lines []string
	for n, slug := range []string{"zorblax-intro", "zorblax-setup", "install-zorblax", "zorblax", "zorblax-faq"} {
		lines = append(lines, pathLine(fmt.Sprintf("198.51.%d.7", n+1), "/docs/"+slug, n))
	}
	lines = append(lines, pathLine("192.0.2.1", "/docs/zorblax-tips", 10), pathLine("192.0.2.1", "/docs/qwzzt-tips", 11),
		pathLine("192.0.2.1", "/docs/zorblax-qwzzt", 12))
	got := paths(t, w, h, lines...)
	for i, want := range []string{"/docs/zorblax-intro", "/docs/zorblax-setup", "/docs/install-zorblax", "/docs/zorblax",
		"/docs/zorblax-faq", "/docs/zorblax-tips", "/docs/{slug}", "/docs/{slug}"} {
		if got[i] != want {
			t.Errorf("event %d: path %q, want %q", i, got[i], want)
		}
	}
}
