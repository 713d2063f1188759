package processor

// eventClock is the aggregate stage's event time over the raw partitions it
// waits for (README: guarantees, event time). Each raw partition says, after
// its hits, the largest event time read from it, or that it is idle: caught
// up, with no record for a while. The clock is
//
//   - the smallest watermark of the partitions that are not idle: an idle
//     partition is left out instead of being moved to the wall clock, so a
//     partition that resumes with older data finds its windows open
//     while the others have not passed them by the lateness;
//   - when every partition is idle, the newest event time seen plus the
//     shortest time any of them has been idle: the stream's time goes on at
//     wall-clock pace from its last event, so a window closes once nothing
//     came for its remaining time plus the lateness (live traffic: the
//     lateness after its end), however old the data is;
//   - none until every partition has been heard from.
//
// It never goes back (the aggregator's Advance keeps the largest), and it
// depends only on what the visits topic holds, so a replay computes the
// same clock.
type eventClock struct {
	expected []string // "topic/partition" of every raw partition
	marks    map[string]sourceMark
}

func newEventClock(expected []string, saved map[string]sourceMark) *eventClock {
	c := &eventClock{expected: expected, marks: saved}
	if c.marks == nil {
		c.marks = map[string]sourceMark{}
	}
	return c
}

// mark takes a raw partition's watermark record; it reports whether the
// clock may have moved.
func (c *eventClock) mark(src string, m sourceMark) bool {
	old, seen := c.marks[src]
	m.t = max(m.t, old.t) // watermarks only grow; an idle record may not know it
	if !m.idle {
		m.idleFor = 0
	}
	if seen && m == old {
		return false
	}
	c.marks[src] = m
	return true
}

// clock is the event time windows close against; false before every raw
// partition has been heard from, or before any had an event.
func (c *eventClock) clock() (int64, bool) {
	var active, newest int64
	haveActive := false
	idleFor := int64(1) << 62
	for _, src := range c.expected {
		m, ok := c.marks[src]
		if !ok {
			return 0, false
		}
		newest = max(newest, m.t)
		if m.idle {
			idleFor = min(idleFor, m.idleFor)
			continue
		}
		if !haveActive || m.t < active {
			active, haveActive = m.t, true
		}
	}
	switch {
	case haveActive:
		return active, true
	case newest == 0 || len(c.expected) == 0:
		return 0, false // idle, and no event seen yet
	}
	return newest + idleFor, true
}
