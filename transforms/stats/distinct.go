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
type distinct struct {
	exact  map[uint64]struct{}
	sketch *hll
}

// exactMax is where a set turns into a sketch.
const exactMax = 1024

func (d *distinct) add(v uint64) {
	if d.sketch != nil {
		d.sketch.add(v)
		return
	}
	if d.exact == nil {
		d.exact = make(map[uint64]struct{}, 4)
	}
	d.exact[v] = struct{}{}
	if len(d.exact) > exactMax {
		d.sketch = &hll{}
		for x := range d.exact {
			d.sketch.add(x)
		}
		d.exact = nil
	}
}

// count is the exact count, or the sketch's estimate rounded.
func (d *distinct) count() int64 {
	if d.sketch != nil {
		return int64(math.Round(d.sketch.estimate()))
	}
	return int64(len(d.exact))
}

func (d *distinct) merge(o *distinct) {
	if o.sketch != nil {
		if d.sketch == nil {
			d.sketch = &hll{}
			for x := range d.exact {
				d.sketch.add(x)
			}
			d.exact = nil
		}
		d.sketch.merge(o.sketch)
		return
	}
	for x := range o.exact {
		d.add(x)
	}
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
	out := make([]uint64, 0, len(d.exact))
	for x := range d.exact {
		out = append(out, x)
	}
	slices.Sort(out)
	return out
}
