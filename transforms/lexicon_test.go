package transforms

import (
	"runtime"
	"testing"
)

// BenchmarkLexiconLoad: reading the embedded lexicon into its tables, and
// the bytes they hold.
func BenchmarkLexiconLoad(b *testing.B) {
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		t := &lexiconTables{words: newWordTable(wordsGz), nameTables: &nameTables{given: newWordTable(givenGz), surnames: newWordTable(surnamesGz)}}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(t)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB")
}

// TestWordTable: every word of the list is found, and words not in it are
// not.
func TestWordTable(t *testing.T) {
	lx := lexicon()
	for _, w := range []string{"about", "contact", "kontakt", "ueber", "über", "zwiebel", "ephemeral", "headless"} {
		if !lx.words.has([]byte(w)) {
			t.Errorf("%q not in the lexicon", w)
		}
	}
	for _, w := range []string{"zorblax", "qwzzt", "", "aboutx", "jennifer"} {
		if lx.words.has([]byte(w)) {
			t.Errorf("%q in the lexicon", w)
		}
	}
	if !lx.given.has([]byte("jennifer")) || !lx.surnames.has([]byte("kowalski")) {
		t.Error("the name lists lack jennifer or kowalski")
	}
}
