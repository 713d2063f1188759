package transforms

// Hand-written timestamp parsers: time.Parse is too slow for the hot path.

// month maps an English month abbreviation to 1..12, or 0.
func month(b []byte) int {
	switch string(b) {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// parseCLFTime parses "10/Oct/2000:13:55:36 -0700" into Unix seconds and the
// zone offset in seconds.
func parseCLFTime(b []byte) (int64, int32, bool) {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return 0, 0, false
	}
	mon := month(b[3:6])
	if mon == 0 {
		return 0, 0, false
	}
	day, ok1 := digits(b[0:2])
	year, ok2 := digits(b[7:11])
	hh, ok3 := digits(b[12:14])
	mm, ok4 := digits(b[15:17])
	ss, ok5 := digits(b[18:20])
	off, ok6 := parseZone(b[21:])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, 0, false
	}
	t, ok := civil(year, mon, day, hh, mm, ss)
	return t - int64(off), off, ok
}

// parseISO8601 parses "2000-10-10T13:55:36-07:00", with optional fraction and
// "Z", "+0000" or "+00:00" zones.
func parseISO8601(b []byte) (int64, int32, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, 0, false
	}
	year, ok1 := digits(b[0:4])
	mon, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hh, ok4 := digits(b[11:13])
	mm, ok5 := digits(b[14:16])
	ss, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, 0, false
	}
	rest := b[19:]
	if rest[0] == '.' || rest[0] == ',' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		rest = rest[i:]
	}
	var off int32
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && rest[3] == ':':
		var tmp [5]byte
		tmp[0], tmp[1], tmp[2], tmp[3], tmp[4] = rest[0], rest[1], rest[2], rest[4], rest[5]
		var ok bool
		if off, ok = parseZone(tmp[:]); !ok {
			return 0, 0, false
		}
	case len(rest) == 5:
		var ok bool
		if off, ok = parseZone(rest); !ok {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	t, ok := civil(year, mon, day, hh, mm, ss)
	return t - int64(off), off, ok
}

func parseZone(b []byte) (int32, bool) {
	if len(b) != 5 || (b[0] != '+' && b[0] != '-') {
		return 0, false
	}
	h, ok1 := digits(b[1:3])
	m, ok2 := digits(b[3:5])
	if !ok1 || !ok2 || h > 14 || m > 59 {
		return 0, false
	}
	off := int32(h*3600 + m*60)
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// civil converts a UTC calendar time to Unix seconds (Howard Hinnant's
// days_from_civil), rejecting out-of-range fields.
func civil(y, m, d, hh, mm, ss int) (int64, bool) {
	if y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	return days*86400 + int64(hh*3600+mm*60+ss), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendCLFTime writes t (Unix seconds) at offset off as "10/Oct/2000:13:55:36 -0700".
func appendCLFTime(dst []byte, t int64, off int32) []byte {
	y, mo, d, hh, mm, ss := fromUnix(t + int64(off))
	dst = append2(dst, d)
	dst = append(dst, '/')
	dst = append(dst, monthNames[mo-1]...)
	dst = append(dst, '/')
	dst = append4(dst, y)
	dst = append(dst, ':')
	dst = append2(dst, hh)
	dst = append(dst, ':')
	dst = append2(dst, mm)
	dst = append(dst, ':')
	dst = append2(dst, ss)
	dst = append(dst, ' ')
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = append2(dst, int(off/3600))
	return append2(dst, int(off%3600/60))
}

// appendRFC3339 writes t (Unix seconds) as "2000-10-10T20:55:36Z".
func appendRFC3339(dst []byte, t int64) []byte {
	y, mo, d, hh, mm, ss := fromUnix(t)
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, mo)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, hh)
	dst = append(dst, ':')
	dst = append2(dst, mm)
	dst = append(dst, ':')
	dst = append2(dst, ss)
	return append(dst, 'Z')
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// fromUnix is civil's inverse (Hinnant's civil_from_days).
func fromUnix(t int64) (y, m, d, hh, mm, ss int) {
	days := t / 86400
	secs := int(t % 86400)
	if secs < 0 {
		secs += 86400
		days--
	}
	hh, mm, ss = secs/3600, secs%3600/60, secs%60
	z := days + 719468
	era := z / 146097
	doe := int(z - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + int(era)*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10%10), byte('0'+n%10)) }

func append4(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
