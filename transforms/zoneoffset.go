package transforms

import "time"

// ZoneOffset is a time zone's offset east of UTC, cached for the hour last
// asked about: consecutive events mostly share their hour, and zones change
// offset on whole hours. The zero value (or a nil Loc) is UTC.
type ZoneOffset struct {
	Loc       *time.Location
	hour, off int64
	set       bool
}

// At is the offset in seconds at Unix time t.
func (z *ZoneOffset) At(t int64) int64 {
	if z.Loc == nil {
		return 0
	}
	if h := floorDiv(t, 3600); !z.set || h != z.hour {
		_, off := time.Unix(h*3600, 0).In(z.Loc).Zone()
		z.hour, z.off, z.set = h, int64(off), true
	}
	return z.off
}

func newZoneOffset(loc *time.Location) ZoneOffset {
	if loc == time.UTC {
		loc = nil
	}
	return ZoneOffset{Loc: loc}
}
