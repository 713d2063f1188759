package census

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestAdmitsAtK(t *testing.T) {
	c := New(5, 1<<20)
	const day = 20000
	for v := range Visitor(4) {
		for range 3 { // a visitor's repeats count once
			if admitted, _ := c.Observe(day, 42, v+1); admitted {
				t.Fatalf("admitted at %d visitors", v+1)
			}
		}
	}
	if c.Admitted(day, 42) {
		t.Fatal("admitted with 4 visitors")
	}
	if admitted, added := c.Observe(day, 42, 5); !admitted || !added {
		t.Fatalf("the fifth visitor: admitted %v, added %v", admitted, added)
	}
	if admitted, added := c.Observe(day, 42, 6); !admitted || added {
		t.Fatalf("after admission: admitted %v, added %v (nothing to tell a shared census)", admitted, added)
	}
	if !c.Admitted(day, 42) || c.Admitted(day+1, 42) || c.Admitted(day, 43) {
		t.Error("admission is per day and per key")
	}
	// A shared census's word admits a key here too.
	c.Admit(day, 77)
	if !c.Admitted(day, 77) {
		t.Error("Admit did not admit")
	}
	if admitted, _ := c.Observe(day, 77, 1); !admitted {
		t.Error("an admitted key forgot it was")
	}
	if st := c.Stats(); st.Admitted != 2 || st.Keys != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestKOne: k = 1 admits every key at its first visitor.
func TestKOne(t *testing.T) {
	c := New(1, 1<<20)
	if admitted, added := c.Observe(1, 9, 3); !admitted || !added {
		t.Error("k = 1 did not admit at once")
	}
}

// TestBoundedUnderFlood: a flood of keys each seen by one visitor stays in
// the table's bytes, and keys that reached k survive it while their day is
// current; keys of days before yesterday go first.
func TestBoundedUnderFlood(t *testing.T) {
	c := New(5, 1<<20)
	const day = 20000
	for key := range Key(50) {
		for v := range Visitor(5) {
			c.Observe(day, key<<8|1, v+1)
		}
	}
	for key := range Key(20) {
		c.Observe(day-3, key<<8|2, 1) // an old day's
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500000 {
		c.Observe(day, Key(rng.Uint64()), Visitor(rng.Uint64()))
	}
	st := c.Stats()
	if st.Bytes > 1<<20 || st.Forgotten == 0 {
		t.Errorf("flood: %+v", st)
	}
	for key := range Key(50) {
		if !c.Admitted(day, key<<8|1) {
			t.Fatalf("admitted key %d forgotten in a flood", key)
		}
	}
	for key := range Key(20) {
		if _, found := c.shard(key<<8|2).find(day-3, key<<8|2); found {
			t.Fatal("an old day's key outlived the flood")
		}
	}
	// Keys seen by more visitors outlive those seen by fewer.
	for v := range Visitor(4) {
		c.Observe(day, 999<<8|3, v+1)
	}
	for range 500000 {
		c.Observe(day, Key(rng.Uint64()), Visitor(rng.Uint64()))
	}
	if admitted, added := c.Observe(day, 999<<8|3, 5); !admitted || !added {
		t.Error("a key with four visitors was forgotten before single-visitor keys")
	}
}

// TestConcurrent: several goroutines counting the same keys admit each at
// exactly k distinct visitors.
func TestConcurrent(t *testing.T) {
	c := New(8, 4<<20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range Key(1000) {
				for v := range Visitor(2) {
					c.Observe(7, key*2654435761, Visitor(g)*2+v+1) // 8 visitors in all
				}
			}
		}()
	}
	wg.Wait()
	for key := range Key(1000) {
		if !c.Admitted(7, key*2654435761) {
			t.Fatalf("key %d not admitted with 8 visitors", key)
		}
	}
	if st := c.Stats(); st.Admitted != 1000 {
		t.Errorf("%d admitted, want 1000", st.Admitted)
	}
}

func TestObserveNoAllocs(t *testing.T) {
	c := New(5, 1<<20)
	v := Visitor(0)
	if n := testing.AllocsPerRun(1000, func() { v++; c.Observe(3, Key(v%500), v%7) }); n != 0 {
		t.Errorf("%.1f allocations per observation", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	c := New(5, 64<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]Key, 1<<16)
	for i := range keys {
		keys[i] = Key(rng.Uint64())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Observe(3, keys[i&(len(keys)-1)], Visitor(i%97))
		i++
	}
}

// TestMillionKeys: a day of a million distinct classes of one visitor
// each (the census keys of a million visitors with tuples of their own):
// the table never outgrows the default 64 MiB; what it cannot hold it
// forgets, one-visitor keys first.
func TestMillionKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("a million keys")
	}
	c := New(5, 64<<20)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 1_000_000 {
		c.Observe(20000, Key(rng.Uint64()), Visitor(i))
	}
	st := c.Stats()
	if st.Keys == 0 || st.Bytes > 64<<20 {
		t.Fatalf("%+v", st)
	}
	t.Logf("1 000 000 keys: %d kept in %d bytes, %d forgotten", st.Keys, st.Bytes, st.Forgotten)
	// Past the bound: keys are forgotten, the bytes stay.
	for i := range 3_000_000 {
		c.Observe(20000, Key(rng.Uint64()), Visitor(i))
	}
	if st = c.Stats(); st.Bytes > 64<<20 || st.Forgotten == 0 {
		t.Fatalf("past the bound: %+v", st)
	}
	t.Logf("4 000 000 keys offered: %d kept in %d bytes, %d forgotten", st.Keys, st.Bytes, st.Forgotten)
}
