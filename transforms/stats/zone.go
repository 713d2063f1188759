package stats

import (
	"time"

	"github.com/logveil/logveil/transforms"
)

// zone puts windows, hours and weekdays in the site's local time
// (stats.time_zone): a window starts at a local boundary (a day window at
// local midnight), written as its UTC instant. A day with a daylight-saving
// change is 23 or 25 hours long but counted as a window of 24: its extra or
// missing hour is the next or previous day's. Offsets are cached per hour.
type zone struct {
	hour transforms.ZoneOffset // at the hit's hour
	day  transforms.ZoneOffset // at its local day's start
}

func newZone(loc *time.Location) zone {
	if loc == time.UTC {
		loc = nil
	}
	return zone{hour: transforms.ZoneOffset{Loc: loc}, day: transforms.ZoneOffset{Loc: loc}}
}

// offset is the offset at t.
func (z *zone) offset(t int64) int64 { return z.hour.At(t) }

// windowStart is the UTC start of the size-long local window holding t.
func (z *zone) windowStart(t, size int64) int64 {
	if z.hour.Loc == nil {
		return floorDiv(t, size) * size
	}
	off := z.offset(t)
	local := floorDiv(t+off, size) * size
	if size%86400 != 0 {
		return local - off
	}
	// A day starts at local midnight, with the offset in force then.
	return local - z.day.At(local-off)
}
