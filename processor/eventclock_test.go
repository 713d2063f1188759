package processor

import (
	"testing"
	"time"
)

func TestEventClock(t *testing.T) {
	type mark struct {
		src string
		m   sourceMark
	}
	active := func(src string, t int64) mark { return mark{src, sourceMark{t: t}} }
	idle := func(src string, t, idleFor int64) mark {
		return mark{src, sourceMark{t: t, idle: true, idleFor: idleFor}}
	}
	f := func(name string, want int64, wantOK bool, marks ...mark) {
		t.Helper()
		c := newEventClock([]string{"raw/0", "raw/1", "raw/2"}, nil)
		for _, m := range marks {
			c.mark(m.src, m.m)
		}
		if got, ok := c.clock(); got != want || ok != wantOK {
			t.Errorf("%s: clock %d %v, want %d %v", name, got, ok, want, wantOK)
		}
	}
	f("nothing heard", 0, false)
	f("one partition not heard from", 0, false, active("raw/0", 100), active("raw/1", 200))
	f("all active: the smallest", 100, true, active("raw/0", 100), active("raw/1", 200), active("raw/2", 300))
	// The failure of #27: an idle partition's watermark stayed behind as the
	// others went on, or was moved to the wall clock. Now it is left out.
	f("an idle partition is left out", 200, true, active("raw/0", 300), idle("raw/1", 100, 50), active("raw/2", 200))
	f("a partition idle from the start is left out", 250, true, active("raw/0", 300), idle("raw/1", 0, 50), active("raw/2", 250))
	f("all idle: newest event plus the shortest idle time", 300+20, true, idle("raw/0", 300, 20), idle("raw/1", 100, 50), idle("raw/2", 200, 400))
	f("all idle with no event yet", 0, false, idle("raw/0", 0, 20), idle("raw/1", 0, 50), idle("raw/2", 0, 400))
	// A partition that resumes (active again) with older data holds the
	// clock back to its watermark; the aggregator never moves back.
	f("resumed with older data", 120, true, idle("raw/0", 300, 20), active("raw/1", 120), idle("raw/2", 200, 400))
	// An idle record may not know the watermark (a new owner after a
	// restart): the largest one stays.
	f("watermarks only grow", 405, true, active("raw/0", 400), idle("raw/0", 0, 5), idle("raw/1", 100, 5), idle("raw/2", 100, 9))

	c := newEventClock([]string{"raw/0"}, nil)
	if !c.mark("raw/0", sourceMark{t: 5}) || c.mark("raw/0", sourceMark{t: 5}) || c.mark("raw/0", sourceMark{t: 4}) {
		t.Error("mark reports a change only when the mark changed")
	}
	if !c.mark("raw/0", sourceMark{t: 5, idle: true, idleFor: 5}) || !c.mark("raw/0", sourceMark{t: 5, idle: true, idleFor: 10}) {
		t.Error("an idle partition's growing idle time moves the clock")
	}
	if got, _ := c.clock(); got != 15 {
		t.Errorf("clock %d, want 15", got)
	}
}

func TestWindowLabel(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 24 * time.Hour: "24h", 10 * time.Minute: "10m", 90 * time.Minute: "1h30m", 30 * time.Second: "30s", 48 * time.Hour: "48h"} {
		if got := windowLabel(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}
