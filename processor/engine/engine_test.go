package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/logveil/logveil/transforms"
)

type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day), 1}, true }

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
