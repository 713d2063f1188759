package transforms

// cache memoises a pure function of a short text per worker (a user agent's
// class, a referrer's site, a Host's reduction): real traffic repeats a few
// thousand values. It is bounded in entries and in bytes; when a bound is
// reached it is cleared whole, which keeps the steady state allocation-free
// and a flood of distinct values from growing memory.
type cache[V any] struct {
	m     map[string]V
	bytes int
}

const (
	cacheMaxEntries = 1 << 14
	cacheMaxBytes   = 4 << 20 // keys plus an estimate per entry
	cacheMaxKey     = 2048    // longer values are computed every time
	cacheEntryBytes = 160     // map slot, string headers, the value's strings
)

func newCache[V any]() cache[V] { return cache[V]{m: make(map[string]V)} }

func (c *cache[V]) get(k []byte) (V, bool) {
	v, ok := c.m[string(k)]
	return v, ok
}

func (c *cache[V]) put(k []byte, v V) {
	if len(k) > cacheMaxKey {
		return
	}
	if len(c.m) >= cacheMaxEntries || c.bytes+len(k)+cacheEntryBytes > cacheMaxBytes {
		clear(c.m)
		c.bytes = 0
	}
	c.m[string(k)] = v
	c.bytes += len(k) + cacheEntryBytes
}

// wordSet answers "is this one of a fixed list of words", ASCII
// case-insensitively, with a compare or two: words are bucketed by length
// and checked on their first byte before the rest.
type wordSet struct {
	byLen [33][]string
}

func newWordSet(words ...[]string) *wordSet {
	ws := &wordSet{}
	for _, list := range words {
		for _, w := range list {
			if len(w) >= len(ws.byLen) {
				panic("BUG: word too long for a wordSet: " + w)
			}
			ws.byLen[len(w)] = append(ws.byLen[len(w)], w)
		}
	}
	return ws
}

func (ws *wordSet) has(w []byte) bool {
	if len(w) == 0 || len(w) >= len(ws.byLen) {
		return false
	}
	first := lower(w[0])
	for _, s := range ws.byLen[len(w)] {
		if s[0] == first && equalFoldASCII(w, s) {
			return true
		}
	}
	return false
}
