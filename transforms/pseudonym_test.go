package transforms

import (
	"encoding/json"
	"net/netip"
	"testing"
)

type fixedSalts map[int64][]byte

func (f fixedSalts) Salt(day int64) ([]byte, bool) { s, ok := f[day]; return s, ok }

func TestPseudonym(t *testing.T) {
	day := int64(1793491200 / 86400) // 2026-11-01
	salts := fixedSalts{day: []byte("salt-a"), day + 1: []byte("salt-b")}
	w := newTestAnonymizer(t, Config{}).NewWorker()
	w.SetSaltSource(salts)
	w.EmitPseudonym = true
	p := func(client, ts, ua string) string {
		t.Helper()
		line := client + ` - - [` + ts + ` +0000] "GET / HTTP/1.1" 200 1 "-" "` + ua + `"`
		if err := w.Process([]byte(line)); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(w.AppendJSON(nil, &w.Rec, nil), &m)
		v, _ := m["visitor"].(string)
		if v != string(w.Rec.Pseudonym) {
			t.Fatalf("visitor %q != Pseudonym %q", v, w.Rec.Pseudonym)
		}
		return v
	}
	a := p("81.2.69.1", "01/Nov/2026:10:00:00", "UA1")
	if len(a) != PseudonymLen {
		t.Fatalf("pseudonym %q", a)
	}
	if b := p("81.2.69.1", "01/Nov/2026:23:59:59", "UA1"); b != a {
		t.Error("same visitor, same day: different pseudonyms")
	}
	if b := p("81.2.69.2", "01/Nov/2026:10:00:00", "UA1"); b == a {
		t.Error("addresses in the same /24 share a pseudonym: it must use the full address")
	}
	if b := p("81.2.69.1", "01/Nov/2026:10:00:00", "UA2"); b == a {
		t.Error("different user agents share a pseudonym")
	}
	if b := p("81.2.69.1", "02/Nov/2026:00:00:00", "UA1"); b == a || b == "" {
		t.Errorf("next day: pseudonym %q, want a new one", b)
	}
	if b := p("81.2.69.1", "03/Nov/2026:00:00:00", "UA1"); b != "" {
		t.Errorf("day without salt: pseudonym %q, want none", b)
	}
	w.EmitPseudonym = false
	p2 := w.AppendJSON(nil, &w.Rec, nil)
	var m map[string]any
	json.Unmarshal(p2, &m)
	if _, ok := m["visitor"]; ok {
		t.Error("visitor written without EmitPseudonym")
	}
}

// BenchmarkPseudonym is the keyed hash every line with statistics on pays:
// a realistic address, user agent and host.
func BenchmarkPseudonym(b *testing.B) {
	w := newTestAnonymizer(b, Config{}).NewWorker()
	w.SetSaltSource(fixedSalts{20393: []byte("0123456789abcdef0123456789abcdef")})
	addr := netip.MustParseAddr("81.2.69.160")
	raw := Raw{UserAgent: []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"),
		Host: []byte("shop.example")}
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if dst, ok = w.pseudo.appendPseudonym(dst[:0], addr, &raw, 20393); !ok {
			b.Fatal("no pseudonym")
		}
	}
}
