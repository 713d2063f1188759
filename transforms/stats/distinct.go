package stats

import (
	"math"
	"math/bits"
	"slices"
)

// distinct counts distinct visitors: exactly up to exactMax, then with a
// HyperLogLog sketch (2^14 registers, about 0.8 % standard error). Cells
// that matter for k-anonymity (a few visitors) are always exact; large
// cells cost 16 KiB however many visitors they see. Both forms merge, so
// partial results can be combined.
//
// The exact set is an open-addressing table of visitor ids (the first 8
// bytes of a keyed hash: uniform, so an id is its own hash), 0 marking an
// empty slot and the id 0 kept aside. It holds at most half full: 16 KiB
// at exactMax, a third of what a Go map takes, and no hashing.
type distinct struct {
	set    []uint64
	n      int  // ids in set
	zero   bool // the id 0 was seen
	sketch *hll
}

// exactMax is where a set turns into a sketch.
const exactMax = 1024

func (d *distinct) add(v uint64) {
	if d.sketch != nil {
		d.sketch.add(v)
		return
	}
	if v == 0 {
		d.zero = true
	} else if !d.insert(v) {
		return
	}
	if d.len() > exactMax {
		d.sketch = &hll{}
		d.each(d.sketch.add)
		d.set, d.n, d.zero = nil, 0, false
	}
}

// insert adds a non-zero id to the table; false when it was there.
func (d *distinct) insert(v uint64) bool {
	if 2*(d.n+1) > len(d.set) {
		d.grow()
	}
	mask := uint64(len(d.set) - 1)
	for i := v & mask; ; i = (i + 1) & mask {
		switch d.set[i] {
		case v:
			return false
		case 0:
			d.set[i] = v
			d.n++
			return true
		}
	}
}

// grow doubles the table (at least 8 slots) and puts the ids back.
func (d *distinct) grow() {
	old := d.set
	d.set = make([]uint64, max(8, 2*len(old)))
	mask := uint64(len(d.set) - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := v & mask
		for d.set[i] != 0 {
			i = (i + 1) & mask
		}
		d.set[i] = v
	}
}

func (d *distinct) len() int {
	if d.zero {
		return d.n + 1
	}
	return d.n
}

// each calls f with every id of the exact set.
func (d *distinct) each(f func(uint64)) {
	if d.zero {
		f(0)
	}
	for _, v := range d.set {
		if v != 0 {
			f(v)
		}
	}
}

// count is the exact count, or the sketch's estimate rounded.
func (d *distinct) count() int64 {
	if d.sketch != nil {
		return int64(math.Round(d.sketch.estimate()))
	}
	return int64(d.len())
}

func (d *distinct) merge(o *distinct) {
	if o.sketch != nil {
		if d.sketch == nil {
			d.sketch = &hll{}
			d.each(d.sketch.add)
			d.set, d.n, d.zero = nil, 0, false
		}
		d.sketch.merge(o.sketch)
		return
	}
	o.each(d.add)
}

const hllP = 14

// hll is a HyperLogLog sketch with linear counting for small cardinalities.
type hll struct{ reg [1 << hllP]uint8 }

func (h *hll) add(x uint64) {
	x = mix64(x)
	idx := x >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1))) + 1
	if rank > h.reg[idx] {
		h.reg[idx] = rank
	}
}

func (h *hll) merge(o *hll) {
	for i, r := range o.reg {
		if r > h.reg[i] {
			h.reg[i] = r
		}
	}
}

func (h *hll) estimate() float64 {
	const m = float64(1 << hllP)
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return e
}

// mix64 is SplitMix64's finalizer: visitor ids are already hashes, but a
// mixer makes the sketch independent of how they were made.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// ids returns the exact set, sorted; nil once it is a sketch.
func (d *distinct) ids() []uint64 {
	if d.sketch != nil {
		return nil
	}
	out := make([]uint64, 0, d.len())
	d.each(func(x uint64) { out = append(out, x) })
	slices.Sort(out)
	return out
}
