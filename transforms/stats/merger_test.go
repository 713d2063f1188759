package stats

import (
	"slices"
	"testing"
)

// TestCellKeysCoverFoldedRows: a row published before the window is final
// that max_values folds later is among CellKeys, so a merger that did not
// publish it can take it back; the final rows lack it.
func TestCellKeysCoverFoldedRows(t *testing.T) {
	m := testMerger(Config{MaxValues: 1}, Masks{})
	key := m.Add(&Partial{Start: 3600, Size: 3600, Dim: "total", Views: 40, Visitors: 30})
	m.Add(&Partial{Start: 3600, Size: 3600, Dim: "country", Value: "XP", Views: 10, Visitors: 10})
	rowKeys := func(final bool) []string {
		var keys []string
		for _, r := range m.WindowRows(nil, key, final) {
			keys = append(keys, string(r.AppendKey(nil)))
		}
		return keys
	}
	xp := "1970-01-01T01:00:00Z|1h0m0s|country|XP"
	if !slices.Contains(rowKeys(false), xp) {
		t.Fatalf("XP is not published while it is the only country: %v", rowKeys(false))
	}
	m.Add(&Partial{Start: 3600, Size: 3600, Dim: "country", Value: "DE", Views: 30, Visitors: 20})
	if final := rowKeys(true); slices.Contains(final, xp) {
		t.Fatalf("XP still published past max_values: %v", final)
	}
	keys := m.CellKeys(nil, key)
	slices.Sort(keys)
	want := []string{"1970-01-01T01:00:00Z|1h0m0s|country|DE", xp}
	if !slices.Equal(keys, want) {
		t.Fatalf("CellKeys = %v, want %v", keys, want)
	}
}
