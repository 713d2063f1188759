package processor

import "time"

// The statistics stages (README: statistics).
//
// aggregate: one stats.Aggregator per <prefix>.visits partition (one
// visitor's hits are all on one partition). Its clock is eventClock's over
// the raw partitions' watermark and idle records (eventclock.go). Every
// stats_emit_interval, and when windows close, it writes the partials of
// the windows that changed to <prefix>.partials, then its clock to every
// partials partition, then marks for commit the oldest visits offset an
// open window holds, with its position, clock, late counts and the raw
// partitions' marks as metadata ("a2 …", wire.go). A restart replays from
// that offset at the restored clock, ignores the watermark records it has
// already taken, and writes nothing until it is past the position: the
// open windows are rebuilt from their first hit, closed ones stay closed,
// and the partials it then writes are the ones an uninterrupted run would
// have written.
//
// merge: one stats.Merger per partials partition (partials are
// partitioned by window). A window is final when every visits partition's
// watermark has passed its end by the lateness. After each batch it writes
// the rows of the windows that changed to <prefix>.stats (a tombstone for a
// row that is no longer published), final ones with "final": true, and
// commits the oldest partials offset an open window holds, with the
// watermarks as metadata ("m1 <position> <partition>:<time>,...").

// emitLoop runs a statistics stage's partition: handle takes each fetched
// batch (and says whether to write at once), done then gives its share of
// the in-flight budget back (the stage keeps no record); emit writes what changed, at
// most every interval, and once more when the fetch ends (the generation or
// the run is over), so that a graceful stop leaves nothing for the next
// owner to replay. It returns when the fetch ends or emit fails (a hard
// stop).
func emitLoop(interval time.Duration, ch <-chan fetched, done func(fetched), emit func() bool, handle func(fetched) (now bool)) {
	tick := time.NewTicker(min(interval, time.Second))
	defer tick.Stop()
	dirty, last := false, time.Now()
	write := func() bool {
		dirty, last = false, time.Now()
		return emit()
	}
	for {
		select {
		case f, ok := <-ch:
			if !ok {
				if dirty {
					write()
				}
				return
			}
			if len(f.msgs) == 0 {
				continue // idle
			}
			dirty = true
			now := handle(f)
			done(f)
			if (now || time.Since(last) >= interval) && !write() {
				return
			}
		case <-tick.C:
			if dirty && time.Since(last) >= interval && !write() {
				return
			}
		}
	}
}
