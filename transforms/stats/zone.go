package stats

import "time"

// zone puts windows, hours and weekdays in the site's local time
// (stats.time_zone): a window starts at a local boundary (a day window at
// local midnight), written as its UTC instant. A day with a daylight-saving
// change is 23 or 25 hours long but counted as a window of 24: its extra or
// missing hour is the next or previous day's. Offsets are cached per hour.
type zone struct {
	loc             *time.Location // nil: UTC
	hour, hourOff   int64
	day, dayOff     int64
	hourSet, daySet bool
}

// offsetAt is the offset east of UTC in seconds at t, cached in (key, off).
func (z *zone) offsetAt(t int64, key, off *int64, set *bool) int64 {
	h := floorDiv(t, 3600)
	if !*set || h != *key {
		_, o := time.Unix(h*3600, 0).In(z.loc).Zone()
		*key, *off, *set = h, int64(o), true
	}
	return *off
}

// offset is the offset at t.
func (z *zone) offset(t int64) int64 {
	if z.loc == nil {
		return 0
	}
	return z.offsetAt(t, &z.hour, &z.hourOff, &z.hourSet)
}

// windowStart is the UTC start of the size-long local window holding t.
func (z *zone) windowStart(t, size int64) int64 {
	if z.loc == nil {
		return floorDiv(t, size) * size
	}
	off := z.offset(t)
	local := floorDiv(t+off, size) * size
	if size%86400 != 0 {
		return local - off
	}
	// A day starts at local midnight, with the offset in force then.
	return local - z.offsetAt(local-off, &z.day, &z.dayOff, &z.daySet)
}
