package engine

import (
	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/census"
)

// Holder makes a driver's events k-anonymous (README: k-anonymous events)
// in the manner of CASTLE (Cao et al., ICDE 2008): events wait in a
// bounded window, and each is written in a class — its quasi-identifiers
// at one rung of the ladder (transforms: generalize.go) — that at least k
// distinct visitors are written in that day:
//
//   - a class is open when k visitors were written in it today (the
//     census counts who was written where, and a shared census adds the
//     other instances'); an event may join an open class at once;
//   - a class opens when k distinct visitors of the window share it: the
//     event that must be written now and one event of each of k-1 others
//     are all written in it, in the same release;
//   - an event is written at the finest rung where either holds, and at
//     RungNone (none of them) when neither does at any rung.
//
// So each published class has k visitors: it counts the visitors written
// in it, not the visitors who could have been (a visitor written in a
// finer class does not hide anyone in a coarser one). What waits longer
// finds company more often; the driver chooses how long (lookahead_lines,
// hold) and calls Release.
//
// A Holder is used by one goroutine; the census may be shared.
type Holder struct {
	e       *Engine
	wk      *Worker
	k       int
	batches []heldBatch // oldest first
	ev      []heldEvent // the held events, in order; ev[i] has sequence number base+i
	base    int64
	groups  map[groupKey]*group
	spare   []*group
	swept   int64 // events released since the last sweep of groups
	pick    []int64
	seen    []census.Visitor
	lines   int64
	// outs are output buffers for the batches Release writes. A held batch
	// has nothing to write yet, so Add takes its buffer here (up to
	// maxSpareOuts): the window's memory is its records, not the capacity
	// of outputs written long ago.
	outs [][]byte
}

const maxSpareOuts = 8

type heldBatch struct {
	b   *Batch
	end int64 // sequence number after its last event
}

type heldEvent struct {
	b    *Batch
	item int32
	// fine: the first rung whose class was open when the event came; the
	// rungs before it are the ones it may still open or join.
	fine transforms.Rung
	rung transforms.Rung
	done bool
}

type groupKey struct {
	day int32
	key census.Key
}

// group is the held events of one class not open when they came: their
// sequence numbers, and up to k distinct visitors among them (an upper
// bound: some may have been written in another class since).
type group struct {
	members []int64
	ids     []census.Visitor
	last    int64
}

// Census is the engine's census; nil without k-anonymous events.
func (e *Engine) Census() *census.Counter { return e.census }

// NewHolder returns a holder for the engine's k-anonymous events; nil when
// they are off.
func (e *Engine) NewHolder() *Holder {
	if e.census == nil {
		return nil
	}
	return &Holder{e: e, wk: e.NewWorker(), k: e.census.K(), groups: map[groupKey]*group{}}
}

// Lines is how many lines the held batches hold.
func (h *Holder) Lines() int64 { return h.lines }

// Len is how many batches are held.
func (h *Holder) Len() int { return len(h.batches) }

// Add holds b (read with Worker.Read) until Release writes it.
func (h *Holder) Add(b *Batch) {
	if len(b.Out) > 0 {
		panic("BUG: a held batch has output before its release")
	}
	if cap(b.Out) > 0 {
		if len(h.outs) < maxSpareOuts {
			h.outs = append(h.outs, b.Out)
		}
		b.Out = nil
	}
	h.e.observe(b, 0)
	c := h.e.census
	seq := h.base + int64(len(h.ev))
	for i := range b.Items {
		it := &b.Items[i]
		if it.rec < 0 {
			continue
		}
		l := &b.ladders[it.rec]
		he := heldEvent{b: b, item: int32(i), fine: transforms.RungNone}
		if l.OK {
			for r := range transforms.RungNone {
				if c.Admitted(l.Day, l.Keys[r]) {
					he.fine = r
					break
				}
			}
			for r := range he.fine {
				h.join(groupKey{l.Day, l.Keys[r]}, seq, l.Visitor)
			}
		}
		h.ev = append(h.ev, he)
		seq++
	}
	h.batches = append(h.batches, heldBatch{b: b, end: seq})
	h.lines += b.Lines
}

// join adds event seq of visitor v to the group of key.
func (h *Holder) join(key groupKey, seq int64, v census.Visitor) {
	g := h.groups[key]
	if g == nil {
		if n := len(h.spare); n > 0 {
			g, h.spare = h.spare[n-1], h.spare[:n-1]
		} else {
			g = &group{}
		}
		h.groups[key] = g
	}
	// Drop the members already released.
	i := 0
	for i < len(g.members) && g.members[i] < h.base {
		i++
	}
	if i > 0 {
		g.members = append(g.members[:0], g.members[i:]...)
	}
	g.members = append(g.members, seq)
	g.last = seq
	if len(g.ids) < h.k {
		for _, id := range g.ids {
			if id == v {
				return
			}
		}
		g.ids = append(g.ids, v)
	}
}

// Reuse takes back the output buffer of b, which Release wrote and the
// driver has written on: a later release writes into it.
func (h *Holder) Reuse(b *Batch) {
	if cap(b.Out) > 0 && len(h.outs) < maxSpareOuts {
		h.outs = append(h.outs, b.Out[:0])
	}
	b.Out = nil
}

// Release writes the n oldest held batches (their Out, in item order),
// and any later ones that hold events written in a class one of them
// opened, so that a class and its k visitors are written together. It
// returns how many batches, oldest first, are now written and no longer
// held (at least n, at most all).
func (h *Holder) Release(n int) int {
	n = min(n, len(h.batches))
	if n == 0 {
		return 0
	}
	s := h.base
	for i := 0; i < n; i++ {
		for end := h.batches[i].end; s < end; s++ {
			if last := h.decide(s); last >= 0 {
				// A partner in a later batch: that one goes now too.
				for h.batches[n-1].end <= last {
					n++
				}
			}
		}
	}
	for i := range n {
		h.write(h.batches[i].b)
		h.lines -= h.batches[i].b.Lines
	}
	end := h.batches[n-1].end
	released := end - h.base
	h.ev = h.ev[released:]
	if cap(h.ev) > 1024 && len(h.ev) < cap(h.ev)/4 {
		h.ev = append(make([]heldEvent, 0, cap(h.ev)/2), h.ev...)
	}
	h.base = end
	h.batches = append(h.batches[:0], h.batches[n:]...)
	h.swept += released
	if h.swept > int64(len(h.groups)) {
		h.sweep()
	}
	return n
}

// sweep recycles the groups whose events were all released.
func (h *Holder) sweep() {
	h.swept = 0
	for key, g := range h.groups {
		if g.last < h.base {
			delete(h.groups, key)
			g.members, g.ids = g.members[:0], g.ids[:0]
			h.spare = append(h.spare, g)
		}
	}
}

// decide chooses the class of event seq unless it has one, and returns the
// largest sequence number it pinned in a class it opened (-1: none).
func (h *Holder) decide(seq int64) int64 {
	he := &h.ev[seq-h.base]
	if he.done {
		return -1
	}
	it := &he.b.Items[he.item]
	l := &he.b.ladders[it.rec]
	if !l.OK {
		h.commit(he, transforms.RungNone)
		return -1
	}
	c := h.e.census
	for r := range transforms.RungNone {
		if c.Admitted(l.Day, l.Keys[r]) {
			h.commit(he, r)
			return -1
		}
		if r >= he.fine {
			continue // forgotten since (the census's bound): not open now
		}
		if g := h.groups[groupKey{l.Day, l.Keys[r]}]; g != nil && len(g.ids) >= h.k {
			if last, ok := h.open(g, seq, r); ok {
				return last
			}
		}
	}
	h.commit(he, transforms.RungNone)
	return -1
}

// open writes event seq and one event of each of k-1 other visitors of
// g in class r, if g still has k distinct visitors not yet written
// elsewhere; it returns the largest sequence number it pinned.
func (h *Holder) open(g *group, seq int64, r transforms.Rung) (int64, bool) {
	he := &h.ev[seq-h.base]
	self := he.b.ladders[he.b.Items[he.item].rec].Visitor
	h.pick, h.seen = append(h.pick[:0], seq), append(h.seen[:0], self)
	for _, m := range g.members {
		if len(h.seen) == h.k {
			break
		}
		if m < h.base || m == seq {
			continue
		}
		o := &h.ev[m-h.base]
		if o.done {
			continue
		}
		v := o.b.ladders[o.b.Items[o.item].rec].Visitor
		dup := false
		for _, id := range h.seen {
			if id == v {
				dup = true
				break
			}
		}
		if !dup {
			h.seen = append(h.seen, v)
			h.pick = append(h.pick, m)
		}
	}
	if len(h.seen) < h.k {
		// Fewer than the bound said: remember the true count.
		g.ids = append(g.ids[:0], h.seen...)
		return -1, false
	}
	last := int64(-1)
	for _, m := range h.pick {
		h.commit(&h.ev[m-h.base], r)
		last = max(last, m)
	}
	return last, true
}

// commit writes he in class r.
func (h *Holder) commit(he *heldEvent, r transforms.Rung) {
	he.done, he.rung = true, r
	h.e.commit(he.b, int(he.item), r)
}

// commit writes item i of b in class r: the census counts its visitor
// there (and a shared census hears of it through b.Census).
func (e *Engine) commit(b *Batch, i int, r transforms.Rung) {
	it := &b.Items[i]
	it.rung = r
	if r == transforms.RungNone {
		return
	}
	l := &b.ladders[it.rec]
	if _, added := e.census.Observe(l.Day, l.Keys[r], l.Visitor); added && e.opt.ShareCensus {
		b.Census = append(b.Census, Observation{Day: l.Day, Key: l.Keys[r], Visitor: l.Visitor})
	}
}

// writeAlone writes b's held events from item from on without a window:
// each joins the finest open class, or none (Worker.Line).
func (w *Worker) writeAlone(b *Batch, from int) {
	c := w.e.census
	for i := from; i < len(b.Items); i++ {
		it := &b.Items[i]
		if it.rec < 0 {
			continue
		}
		rung := transforms.RungNone
		if l := &b.ladders[it.rec]; l.OK {
			for r := range transforms.RungNone {
				if c.Admitted(l.Day, l.Keys[r]) {
					rung = r
					break
				}
			}
		}
		w.e.commit(b, i, rung)
	}
	w.write(b, from)
}

// write encodes b's held records in their classes and its error records,
// in item order.
func (h *Holder) write(b *Batch) {
	if b.Out == nil {
		if n := len(h.outs); n > 0 {
			b.Out, h.outs = h.outs[n-1], h.outs[:n-1]
		}
	}
	h.wk.write(b, 0)
}

func (w *Worker) write(b *Batch, from int) {
	for i := from; i < len(b.Items); i++ {
		it := &b.Items[i]
		switch {
		case it.rec == -2:
			start := len(b.Out)
			b.Out = append(b.Out, it.Out...)
			it.Out = b.endOut(start, &w.e.opt)
		case it.rec >= 0:
			rec := &b.recs[it.rec]
			w.admit(b, rec, &b.ladders[it.rec])
			transforms.Generalize(rec, it.rung)
			b.Rungs[it.rung]++
			if it.Hit >= 0 {
				b.Hits[it.Hit].Rung = uint8(it.rung) + 1
			}
			it.Out = w.encode(b, rec, it.ID)
		}
	}
}

// observe counts, for b's held events from item from on, their visitors
// as users of their path candidates: a candidate is written when k did
// (admit). It runs where the events are put in order (Holder.Add,
// Worker.Line), so that what is admitted does not depend on how workers
// were scheduled.
func (e *Engine) observe(b *Batch, from int) {
	for i := from; i < len(b.Items); i++ {
		it := &b.Items[i]
		if it.rec < 0 {
			continue
		}
		l := &b.ladders[it.rec]
		if !l.OK {
			continue
		}
		rec := &b.recs[it.rec]
		for j := range rec.Candidates() {
			e.observeKey(b, l, l.Cands[j])
		}
		for j := range rec.Words() {
			e.observeKey(b, l, l.Words[j])
		}
	}
}

func (e *Engine) observeKey(b *Batch, l *transforms.Ladder, key census.Key) {
	if _, added := e.census.Observe(l.Day, key, l.Visitor); added && e.opt.ShareCensus {
		b.Census = append(b.Census, Observation{Day: l.Day, Key: key, Visitor: l.Visitor})
	}
}

// admit writes rec's path candidates that k visitors used as they are and
// the others as their placeholders.
func (w *Worker) admit(b *Batch, rec *transforms.Record, l *transforms.Ladder) {
	n := len(rec.Candidates())
	if n == 0 {
		return
	}
	admitted, kept := uint32(0), int64(0)
	if l.OK {
		c := w.e.census
		// Admitted today, or yesterday (a two-day window).
		seen := func(key, prev census.Key) bool {
			return c.Admitted(l.Day, key) || l.Prev && c.Admitted(l.Day-1, prev)
		}
		for i, cand := range rec.Candidates() {
			ok := seen(l.Cands[i], l.PrevCands[i])
			if !ok && cand.Words > 0 {
				// Every unknown word of the slug is in the site's vocabulary.
				ok = true
				for j := cand.Word; j < cand.Word+cand.Words; j++ {
					ok = ok && seen(l.Words[j], l.PrevWords[j])
				}
			}
			if ok {
				admitted |= 1 << i
				kept++
			}
		}
	}
	w.path = rec.Admit(admitted, w.path)
	b.Admitted += kept
	b.Withheld += int64(n) - kept
}
