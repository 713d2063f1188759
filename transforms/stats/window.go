package stats

import (
	"cmp"
	"slices"
)

// WindowKey names a tumbling event-time window: its start and size in
// seconds.
type WindowKey struct {
	Start, Size int64
}

// End is when the window ends (exclusive), in Unix seconds.
func (k WindowKey) End() int64 { return k.Start + k.Size }

// compare orders windows by size, then start.
func (k WindowKey) compare(o WindowKey) int {
	if k.Size != o.Size {
		return cmp.Compare(k.Size, o.Size)
	}
	return cmp.Compare(k.Start, o.Start)
}

// sortWindows orders keys by size, then start.
func sortWindows(keys []WindowKey) {
	slices.SortFunc(keys, WindowKey.compare)
}
