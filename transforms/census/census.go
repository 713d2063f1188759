// Package census counts how many people use a value: the distinct
// visitors (daily pseudonyms) of a key within a day, up to k. A key whose
// count reaches k is admitted: at least k people used it that day. It is
// the one mechanism behind "kept because enough people share it": an
// event's quasi-identifiers at a rung of the generalisation ladder
// (transforms: generalize.go), a URL value in its place.
//
// Counts are sets of visitor ids, so a replayed or duplicated observation
// changes nothing, and admission is monotone: a key once admitted stays so
// for its day. An admitted key saw at least k distinct ids; an id is the
// first 8 bytes of a keyed hash, so two people share one with odds of about
// n²/2⁶⁵ in a day of n visitors. Memory is bounded in bytes: when the table
// is full, what can least be admitted soon is forgotten first — keys of
// past days, then keys seen by one visitor, then by two, … — so a key may be
// admitted later than it could have been, never earlier.
package census

import (
	"sync"
)

// Key names a value in its place (the caller hashes it; see Hash).
type Key uint64

// Visitor is a visitor's id: the first 8 bytes of the day's pseudonym.
type Visitor uint64

// Counter counts visitors per (day, key). It is safe for concurrent use.
type Counter struct {
	k      int
	shards [numShards]shard
}

const numShards = 16

// shard is an open-addressing table: for each slot its day and key, how
// many visitors it has (k: admitted) and the ids of the first k-1.
type shard struct {
	mu     sync.Mutex
	k      int
	days   []int32 // 0: the slot is free (day 0 of Unix time is not used)
	keys   []Key
	counts []uint8
	ids    []Visitor // k-1 per slot
	used   int
	newest int32
	stats  Stats
}

// Stats are a counter's figures.
type Stats struct {
	Keys, Admitted int   // in the table now
	Forgotten      int64 // keys forgotten to stay within the bound
	Bytes          int64 // the table's size
}

// MaxK is the largest k a Counter counts to.
const MaxK = 64

// bytesPerSlot is a slot's size for k: day, key, count and k-1 ids.
func bytesPerSlot(k int) int { return 4 + 8 + 1 + 8*(k-1) }

// New returns a counter that admits a key at k distinct visitors and holds
// at most budget bytes (at least 64 KiB).
func New(k, budget int) *Counter {
	k = min(max(k, 1), MaxK)
	slots := max(budget/numShards/bytesPerSlot(k), 64)
	// A power of two, for the probe mask.
	n := 64
	for n*2 <= slots {
		n *= 2
	}
	c := &Counter{k: k}
	for i := range c.shards {
		s := &c.shards[i]
		s.k = k
		s.days, s.keys, s.counts, s.ids = make([]int32, n), make([]Key, n), make([]uint8, n), make([]Visitor, n*(k-1))
		s.stats.Bytes = int64(n * bytesPerSlot(k))
	}
	return c
}

// K is the count at which a key is admitted.
func (c *Counter) K() int { return c.k }

func (c *Counter) shard(key Key) *shard { return &c.shards[uint64(key)>>60] }

// slot hashes (day, key) to a table index.
func slot(day int32, key Key, mask int) int {
	h := uint64(key) ^ uint64(day)*0x9e3779b97f4a7c15
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return int(h) & mask
}

// find returns the slot of (day, key), or the free slot where it goes.
func (s *shard) find(day int32, key Key) (i int, found bool) {
	mask := len(s.days) - 1
	for i = slot(day, key, mask); ; i = (i + 1) & mask {
		switch {
		case s.days[i] == 0:
			return i, false
		case s.days[i] == day && s.keys[i] == key:
			return i, true
		}
	}
}

// Observe counts visitor v for key on day. It reports whether the key is
// admitted (after this observation), and whether v was new for the key
// (so that a shared census must hear of it).
func (c *Counter) Observe(day int32, key Key, v Visitor) (admitted, added bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := s.find(day, key)
	if !found {
		if i = s.insert(day, key); i < 0 {
			return false, false
		}
	}
	n := int(s.counts[i])
	if n >= s.k {
		return true, false
	}
	ids := s.ids[i*(s.k-1) : i*(s.k-1)+n]
	for _, id := range ids {
		if id == v {
			return false, false
		}
	}
	if n+1 < s.k {
		s.ids[i*(s.k-1)+n] = v
	} else {
		s.stats.Admitted++
	}
	s.counts[i]++
	return n+1 >= s.k, true
}

// Admitted reports whether key has reached k visitors on day.
func (c *Counter) Admitted(day int32, key Key) bool {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := s.find(day, key)
	return found && int(s.counts[i]) >= s.k
}

// Admit records that key reached k visitors on day elsewhere (a shared
// census that counted other instances' visitors too).
func (c *Counter) Admit(day int32, key Key) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := s.find(day, key)
	if !found {
		if i = s.insert(day, key); i < 0 {
			return
		}
	}
	if int(s.counts[i]) < s.k {
		s.counts[i] = uint8(s.k)
		s.stats.Admitted++
	}
}

// insert takes a free slot for (day, key), first making room when the
// table is three quarters full; -1 when no room can be made.
func (s *shard) insert(day int32, key Key) int {
	if day > s.newest {
		s.newest = day
	}
	if s.used >= len(s.days)*3/4 {
		s.forget()
		if s.used >= len(s.days)*3/4 {
			return -1
		}
	}
	i, _ := s.find(day, key)
	s.days[i], s.keys[i], s.counts[i] = day, key, 0
	s.used++
	return i
}

// forget empties the table down to half full, least admissible first:
// days before yesterday, then keys with one visitor, two, ... Admitted
// keys of today and yesterday go last of all.
func (s *shard) forget() {
	target := len(s.days) / 2
	var byCount [MaxK + 1]int // of today's and yesterday's keys
	for i, day := range s.days {
		if day != 0 && day >= s.newest-1 {
			byCount[s.counts[i]]++
		}
	}
	// Keep the keys with more than level visitors: the smallest level
	// that gets the table down to target.
	level, kept := 0, 0
	for _, n := range byCount {
		kept += n
	}
	for ; level < s.k && kept > target; level++ {
		kept -= byCount[level]
	}
	s.rebuild(func(i int) bool { return s.days[i] >= s.newest-1 && int(s.counts[i]) >= level })
}

// rebuild keeps the slots keep says and rehashes them.
func (s *shard) rebuild(keep func(i int) bool) {
	n, k1 := len(s.days), s.k-1
	days, keys, counts, ids := s.days, s.keys, s.counts, s.ids
	var drop []bool
	for i := range days {
		drop = append(drop, days[i] != 0 && !keep(i))
	}
	s.days, s.keys, s.counts, s.ids = make([]int32, n), make([]Key, n), make([]uint8, n), make([]Visitor, n*k1)
	used := 0
	for i := range days {
		if days[i] == 0 {
			continue
		}
		if drop[i] {
			s.stats.Forgotten++
			if int(counts[i]) >= s.k {
				s.stats.Admitted--
			}
			continue
		}
		j, _ := s.find(days[i], keys[i])
		s.days[j], s.keys[j], s.counts[j] = days[i], keys[i], counts[i]
		copy(s.ids[j*k1:(j+1)*k1], ids[i*k1:(i+1)*k1])
		used++
	}
	s.used = used
}

// Stats sums the shards' figures.
func (c *Counter) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Keys += s.used
		st.Admitted += s.stats.Admitted
		st.Forgotten += s.stats.Forgotten
		st.Bytes += s.stats.Bytes
		s.mu.Unlock()
	}
	return st
}
