package transforms

// Numbers counted across separators, and the shapes they take: addresses,
// dates, phone, card and IMEI numbers, coordinates. Part of the classifier
// (classify.go).

const (
	maxGroups = 16
	maxDigits = 40
)

// numRun is a run of digit groups joined by short separators (space, '-',
// '.', '/', '(' and ')'), as people write phone, card and account numbers.
type numRun struct {
	end    int // index after the last digit
	digits int
	groups int
	glen   [maxGroups]uint8
	sep    [maxGroups]byte // the first separator byte after group i
	d      [maxDigits]byte // digit values
	plus   bool            // written with a leading '+'
	paren  bool            // a '(' or ')' among the separators
}

func isNumSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '_'
}

// scanNumber reads the number run starting at s[i], which is a digit, or a
// '+' or '(' before one. The caller makes sure s[i-1] is not a digit.
func scanNumber(s []byte, i int, n *numRun) {
	*n = numRun{}
	j := i
	switch s[j] {
	case '+':
		n.plus = true
		j++
	case '(':
		n.paren = true
		j++
	}
	for {
		start := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		// A group that runs on into a word ("0A0A0", "0::1") is that
		// word's, not the number's: the run ends before it.
		if n.groups > 0 && j < len(s) && isWordByte(s[j]) && !isNumSep(s[j]) {
			return
		}
		for k := start; k < j; k++ {
			if n.digits < maxDigits {
				n.d[n.digits] = s[k] - '0'
			}
			n.digits++
		}
		if n.groups < maxGroups {
			n.glen[n.groups] = uint8(min(j-start, 255))
		}
		n.groups++
		n.end = j
		// One or two separator bytes, then a digit, continue the run.
		k := j
		for k < len(s) && k-j < 2 && isNumSep(s[k]) {
			k++
		}
		if k == j || k >= len(s) || !isDigit(s[k]) {
			return
		}
		if n.groups <= maxGroups {
			n.sep[n.groups-1] = s[j]
		}
		for _, c := range s[j:k] {
			n.paren = n.paren || c == '(' || c == ')'
		}
		j = k
	}
}

// value returns the digits of groups [g, g+count) as a number (small groups).
func (n *numRun) group(g int) (v int, digits int) {
	off := 0
	for k := 0; k < g; k++ {
		off += int(n.glen[k])
	}
	for k := 0; k < int(n.glen[g]) && off+k < maxDigits; k++ {
		v = v*10 + int(n.d[off+k])
	}
	return v, int(n.glen[g])
}

// class decides what a number run is. Runs of four digits or fewer that
// match no shape are ClassNone: the caller decides whether short numbers
// are kept.
func (n *numRun) class() Class {
	g := min(n.groups, maxGroups)
	// IPv4 written with dots or dashes: four groups of 1-3 digits, each at
	// most 255, anywhere in the run.
	for k := 0; k+4 <= g; k++ {
		if n.ipv4At(k) {
			return ClassIP
		}
	}
	// MAC with decimal-looking pairs: 00-11-22-33-44-55.
	if g == 6 && n.digits == 12 && (n.sep[0] == '-' || n.sep[0] == '.') {
		all2 := true
		for k := 0; k < 6; k++ {
			all2 = all2 && n.glen[k] == 2 && (k == 5 || n.sep[k] == n.sep[0])
		}
		if all2 {
			return ClassMAC
		}
	}
	if n.isDate() {
		return ClassDate
	}
	if n.digits > maxDigits {
		return ClassNumber
	}
	switch {
	case n.plus && n.digits >= 7 && n.digits <= 15:
		return ClassPhone
	case n.paren && n.digits >= 10 && n.digits <= 12:
		return ClassPhone
	case n.digits >= 13 && n.digits <= 19 && luhn(n.d[:n.digits]):
		if n.digits == 15 && !(n.d[0] == 3 && (n.d[1] == 4 || n.d[1] == 7)) {
			return ClassIMEI
		}
		return ClassCard
	case n.d[0] == 0 && n.digits >= 8 && n.digits <= 13 && (n.d[1] != 0 || n.digits >= 10):
		return ClassPhone // national trunk prefix: 0151 2300 0245, 030 1234567; 00 is international
	case g == 3 && n.glen[0] == 3 && n.glen[1] == 3 && n.glen[2] == 4:
		return ClassPhone // 415-555-2671, 415.555.2671
	case n.digits >= 5:
		return ClassNumber // national ids (123-45-6789), accounts, postcodes, order numbers
	}
	return ClassNone
}

func (n *numRun) ipv4At(k int) bool {
	sep := n.sep[k]
	if sep != '.' && sep != '-' {
		return false
	}
	for q := k; q < k+4; q++ {
		if q < k+3 && n.sep[q] != sep {
			return false
		}
		v, d := n.group(q)
		if d == 0 || d > 3 || v > 255 {
			return false
		}
	}
	return true
}

// isDate: year-month-day, day-month-year or month-day-year with one
// separator, a two-digit year after day and month, or eight digits that
// are a date between 1900 and 2099.
func (n *numRun) isDate() bool {
	g := min(n.groups, maxGroups)
	if g == 1 && n.digits == 8 {
		y, _ := n.groupSpan(0, 4)
		m, _ := n.groupSpan(4, 2)
		d, _ := n.groupSpan(6, 2)
		if y >= 1900 && y <= 2099 && validDay(m, d) {
			return true
		}
		d, _ = n.groupSpan(0, 2)
		m, _ = n.groupSpan(2, 2)
		y, _ = n.groupSpan(4, 4)
		return y >= 1900 && y <= 2099 && validDay(m, d)
	}
	for k := 0; k+3 <= g; k++ {
		sep := n.sep[k]
		if sep != '-' && sep != '.' && sep != '/' || n.sep[k+1] != sep {
			continue
		}
		a, la := n.group(k)
		b, lb := n.group(k + 1)
		c, lc := n.group(k + 2)
		switch {
		case la == 4 && lb <= 2 && lc <= 2 && validDay(b, c):
			return true
		case la <= 2 && lb <= 2 && (lc == 4 || lc == 2) && (validDay(b, a) || validDay(a, b)):
			return true
		}
	}
	return false
}

// groupSpan reads count digits at digit offset off.
func (n *numRun) groupSpan(off, count int) (int, bool) {
	v := 0
	for k := off; k < off+count; k++ {
		v = v*10 + int(n.d[k])
	}
	return v, true
}

func validDay(month, day int) bool { return month >= 1 && month <= 12 && day >= 1 && day <= 31 }

// luhn checks the payment-card (and IMEI) check digit.
func luhn(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i])
		if (len(d)-1-i)%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// scanGeo reports a coordinate pair at s[i:]: two decimals with at least
// three decimal places, the first within ±90 and the second within ±180,
// joined by ',' or ';' (and an optional space). It returns the end.
func scanGeo(s []byte, i int) int {
	j, ok := scanDecimal(s, i, 90)
	if !ok || j >= len(s) || s[j] != ',' && s[j] != ';' {
		return 0
	}
	j++
	if j < len(s) && s[j] == ' ' {
		j++
	}
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	end, ok := scanDecimal(s, j, 180)
	if !ok {
		return 0
	}
	return end
}

func scanDecimal(s []byte, i, limit int) (int, bool) {
	v, j := 0, i
	for j < len(s) && isDigit(s[j]) && j-i < 3 {
		v = v*10 + int(s[j]-'0')
		j++
	}
	if j == i || j >= len(s) || s[j] != '.' || v > limit {
		return 0, false
	}
	j++
	k := j
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j, j-k >= 3
}

// scanDMS reports degrees written with a degree sign after the number run
// ending at j ("50°27'29.2\"N"), and returns the end of the coordinate.
func scanDMS(s []byte, j int) int {
	if j+1 >= len(s) || s[j] != 0xc2 || s[j+1] != 0xb0 {
		return 0
	}
	j += 2
	for k := 0; j < len(s) && k < 16; k++ {
		c := s[j]
		if !isDigit(c) && c != '.' && c != '\'' && c != '"' && c != 'N' && c != 'S' && c != 'E' && c != 'W' {
			break
		}
		j++
	}
	return j
}

// isTimestamp: an RFC 3339 or ISO 8601 date and time ("2026-11-27T10:15:32Z",
// "2026-11-27 10:15"), an event's time, not a date of birth.
func isTimestamp(w []byte) bool {
	return len(w) >= 16 && pat(w, 0, "9999-99-99") && (w[10] == 'T' || w[10] == ' ') && pat(w, 11, "99") && w[13] == ':'
}

// isDuration: a Go or ISO-style duration, "1h0m0s", "90s", "250ms".
func isDuration(w []byte) bool {
	if len(w) < 2 || !isDigit(w[0]) {
		return false
	}
	for i := 0; i < len(w); {
		j := i
		for j < len(w) && (isDigit(w[j]) || w[j] == '.') {
			j++
		}
		if j == i {
			return false
		}
		k := j
		for k < len(w) && isLowerASCII(w[k]) {
			k++
		}
		switch string(w[j:k]) {
		case "h", "m", "s", "ms", "us", "ns", "d", "w":
		default:
			return false
		}
		i = k
	}
	return true
}

var dateMonthNames = []string{
	"jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june", "jul", "july",
	"aug", "august", "sep", "sept", "september", "oct", "october", "nov", "november", "dec", "december",
	"januar", "februar", "märz", "maerz", "mai", "juni", "juli", "oktober", "okt", "dezember", "dez",
	"janvier", "février", "fevrier", "mars", "avril", "juin", "juillet", "août", "aout", "septembre",
	"octobre", "novembre", "décembre", "decembre", "enero", "febrero", "marzo", "abril", "mayo", "junio",
	"julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre", "gennaio", "febbraio", "aprile",
	"maggio", "giugno", "luglio", "settembre", "ottobre", "dicembre",
}

var monthNameSet = newWordSet(dateMonthNames)

// isMonthName compares a letter run case-insensitively (ASCII folding).
func isMonthName(w []byte) bool { return monthNameSet.has(w) }

func equalFoldASCII(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != b[i] {
			return false
		}
	}
	return true
}

// scanMonthDate recognises "6 feb 1957", "06-Feb-1957", "feb 6, 1957",
// "February 6th 1957", "06nov1949", "jan-22-41" and "2002-dec-10" starting
// at s[i] (a digit or a letter at a word
// start) and returns the end, or 0.
func scanMonthDate(s []byte, i int) int {
	type tok struct {
		start, end int
		digits     bool
	}
	var toks [3]tok
	j := i
	for t := 0; t < 3; t++ {
		if t > 0 {
			k := j
			for k < len(s) && k-j < 2 && (s[k] == ' ' || s[k] == '-' || s[k] == '.' || s[k] == '/' || s[k] == ',') {
				k++
			}
			// "06nov1949": no separator where a digit run meets a
			// letter run.
			if k == j && (j >= len(s) || isDigit(s[j]) == toks[t-1].digits) {
				return 0
			}
			j = k
		}
		start := j
		// day month year or month day year: the second token is of the
		// other kind than the first, the third digits.
		wantDigits := t == 2 || t == 1 && !toks[0].digits
		if t > 0 && j < len(s) && isDigit(s[j]) != wantDigits {
			return 0
		}
		switch {
		case j < len(s) && isDigit(s[j]):
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			toks[t] = tok{start, j, true}
			// ordinal suffix: 6th, 1st, 2nd, 3rd
			if j+1 < len(s) && isLetter(s[j]) && isLetter(s[j+1]) && (j+2 >= len(s) || !isLetter(s[j+2])) {
				j += 2
			}
		case j < len(s) && (isLetter(s[j]) || s[j] >= 0x80):
			for j < len(s) && (isLetter(s[j]) || s[j] >= 0x80) {
				j++
			}
			toks[t] = tok{start, j, false}
		default:
			return 0
		}
	}
	day := func(t tok) bool {
		if !t.digits || t.end-t.start > 2 {
			return false
		}
		v := int(s[t.start] - '0')
		if t.end-t.start == 2 {
			v = v*10 + int(s[t.start+1]-'0')
		}
		return v >= 1 && v <= 31
	}
	year := func(t tok) bool { return t.digits && (t.end-t.start == 4 || t.end-t.start == 2) }
	month := func(t tok) bool { return !t.digits && isMonthName(s[t.start:t.end]) }
	if (day(toks[0]) && month(toks[1]) || day(toks[1]) && month(toks[0])) && year(toks[2]) ||
		toks[0].digits && toks[0].end-toks[0].start == 4 && month(toks[1]) && day(toks[2]) { // "2002-dec-10"
		return toks[2].end
	}
	return 0
}
