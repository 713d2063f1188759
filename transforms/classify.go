package transforms

// The one classifier for free text. Path segments (path.go), query values
// (query.go), search terms (freetext.go), host names (host.go), rejected
// lines (redact.go) and `logveil audit` (audit.go) all ask it what a piece
// of text is. It recognises the identifiers people put in URLs by shape and,
// where a shape has a check digit or a range, by validating it: payment
// cards (Luhn), IBANs (mod 97), phone numbers, national-id shapes, IMEIs,
// MAC addresses, coordinates, full dates, IPv4 and IPv6 in every spelling,
// emails, opaque tokens and base64 that decodes to text. What it cannot
// place, the callers treat as unsafe: keeping a value is the exception that
// has to be shown to be safe (default-deny).
//
// Everything here works on byte slices in place, with no allocation and no
// regexp.

// Class is what a piece of text was recognised as.
type Class uint8

// Classes, each with its placeholder ("{phone}") and its name in audit
// reports ("phone").
const (
	ClassNone    Class = iota
	ClassEmail         // local@domain
	ClassIP            // IPv4 (dotted, dashed, hex, zero-padded) or IPv6
	ClassMAC           // 00:1a:2b:3c:4d:5e, 001a.2b3c.4d5e, 001a2b3c4d5e
	ClassGeo           // 50.4581,10.7037
	ClassDate          // a full date: 1957-02-06, 06.02.1957, 6 feb 1957
	ClassPhone         // +49 151 2300 0245, 0151 23000245, (415) 555-2671
	ClassCard          // 13-19 digits passing Luhn
	ClassIBAN          // country, check digits, account; mod 97
	ClassIMEI          // 15 digits passing Luhn (not an Amex prefix)
	ClassNumber        // any other run of 5+ digits (account, national id, postcode, ...)
	ClassAddress       // a postcode or a house number next to a street name
	ClassToken         // session ids, keys, JWTs, base64 of text
	ClassCode          // a short code mixing letters and digits: a reset or one-time code, a password
	ClassID            // a numeric or UUID id in a path
	ClassName          // free text, mixed case, a user name after /users/
	ClassHost          // a host name that is not a public site: single label, private name
	numClasses
)

var classNames = [numClasses]string{"", "email", "ip", "mac", "geo", "date", "phone", "card", "iban", "imei",
	"number", "address", "token", "code", "id", "name", "host"}

var placeholders = func() (p [numClasses]string) {
	for c := ClassEmail; c < numClasses; c++ {
		p[c] = "{" + classNames[c] + "}"
	}
	return p
}()

// String is the class's name in audit reports and metrics.
func (c Class) String() string { return classNames[c] }

// Placeholder is what replaces a value of class c: "{phone}".
func (c Class) Placeholder() string { return placeholders[c] }

// personal reports the classes that are always an identifier wherever they
// appear (an audit finding); ClassCode, ClassID, ClassName and ClassHost are
// judgements of context.
func (c Class) personal() bool { return c >= ClassEmail && c <= ClassToken }

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isUpper(c byte) bool      { return c >= 'A' && c <= 'Z' }
func isLowerASCII(c byte) bool { return c >= 'a' && c <= 'z' }
func isLetter(c byte) bool     { return isLowerASCII(c) || isUpper(c) }

// --- numbers counted across separators ---

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

// --- month-name dates ---

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

// scanMonthDate recognises "6 feb 1957", "06-Feb-1957", "feb 6, 1957" and
// "February 6th 1957" starting at s[i] (a digit or a letter at a word
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
			if k == j {
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
	year := func(t tok) bool { return t.digits && t.end-t.start == 4 }
	month := func(t tok) bool { return !t.digits && isMonthName(s[t.start:t.end]) }
	if !year(toks[2]) {
		return 0
	}
	if day(toks[0]) && month(toks[1]) || day(toks[1]) && month(toks[0]) {
		return toks[2].end
	}
	return 0
}

// --- words: emails, addresses, tokens ---

// isWordByte reports bytes that can be part of an email, address or token;
// bytes of UTF-8 sequences count as letters.
func isWordByte(c byte) bool {
	return isAlnum(c) || c >= 0x80 ||
		c == '.' || c == '-' || c == '_' || c == '+' || c == '@' || c == ':' || c == '%' || c == '[' || c == ']' || c == '~' || c == '='
}

// classifyWord returns the class of a word (a run of isWordByte) that is an
// identifier as a whole, or ClassNone. Numbers are judged separately
// (scanNumber), since they run across spaces.
func classifyWord(w []byte) Class {
	var at, colons, dots, digits, upper int
	for _, c := range w {
		switch {
		case c == '@':
			at++
		case c == ':':
			colons++
		case c == '.':
			dots++
		case isDigit(c):
			digits++
		case isUpper(c):
			upper++
		}
	}
	if at > 0 && isEmailish(w) {
		return ClassEmail
	}
	if digits >= 12 && isTimestamp(w) {
		return ClassDate
	}
	if colons == 5 && isMAC(w) || dots == 2 && len(w) == 14 && isMAC(w) || len(w) == 12 && isMAC(w) {
		return ClassMAC
	}
	if digits > 0 && dots >= 3 && containsIPv4(w) || colons >= 2 && containsIPv6(w) {
		return ClassIP // dotted quads; "2001:db8::1", "::1", "fe80::"
	}
	if hexIPv4(w) {
		return ClassIP
	}
	if len(w) >= 16 && isOpaqueToken(w) {
		return ClassToken
	}
	if len(w) >= 8 && (digits > 0 || upper > 0) && base64Text(w) {
		return ClassToken
	}
	return ClassNone
}

// obfuscatedAt reports "(at)", "[at]" or "{at}" at s[j]: "jdoe(at)example.com".
func obfuscatedAt(s []byte, j int) bool {
	if j+4 > len(s) || s[j] != '(' && s[j] != '[' && s[j] != '{' {
		return false
	}
	return lower(s[j+1]) == 'a' && lower(s[j+2]) == 't' && (s[j+3] == ')' || s[j+3] == ']' || s[j+3] == '}')
}

// isEmailish: something before an '@' and something after it.
func isEmailish(w []byte) bool {
	for i, c := range w {
		if c == '@' && i > 0 && i < len(w)-1 {
			return true // user@localhost still names a person
		}
	}
	return false
}

// isMAC: six hex pairs joined by ':' or '-', three hex quads joined by '.',
// or twelve bare hex digits with at least one letter and one digit.
func isMAC(w []byte) bool {
	switch len(w) {
	case 17:
		sep := w[2]
		if sep != ':' && sep != '-' {
			return false
		}
		for i, c := range w {
			if i%3 == 2 {
				if c != sep {
					return false
				}
			} else if !isHex(c) {
				return false
			}
		}
		return true
	case 14:
		for i, c := range w {
			if i%5 == 4 {
				if c != '.' {
					return false
				}
			} else if !isHex(c) {
				return false
			}
		}
		return true
	case 12:
		letters, digits := 0, 0
		for _, c := range w {
			switch {
			case isDigit(c):
				digits++
			case isHex(c):
				letters++
			default:
				return false
			}
		}
		return letters > 0 && digits > 0
	}
	return false
}

// hexIPv4: "0x91B15448", an address written as one hexadecimal number.
func hexIPv4(w []byte) bool {
	if len(w) < 9 || len(w) > 10 || w[0] != '0' || w[1] != 'x' && w[1] != 'X' {
		return false
	}
	for _, c := range w[2:] {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// containsIPv4 finds four dot-separated groups of 1-3 digits anywhere in w.
func containsIPv4(w []byte) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' || i > 0 && w[i-1] >= '0' && w[i-1] <= '9' {
			continue
		}
		j, groups := i, 0
		for groups < 4 {
			n := 0
			for j < len(w) && n < 4 && w[j] >= '0' && w[j] <= '9' {
				j++
				n++
			}
			if n == 0 || n > 3 {
				break
			}
			groups++
			if groups == 4 {
				if j == len(w) || w[j] < '0' || w[j] > '9' {
					return true
				}
				break
			}
			if j >= len(w) || w[j] != '.' {
				break
			}
			j++
		}
	}
	return false
}

// containsIPv6 finds a run of hex digits, colons and dots that is, or
// contains, something a reader could take for an IPv6 address: a "::" or at
// least five colons (full and embedded-IPv4 forms). Clock times ("10:30:00")
// have neither. Deliberately wider than netip's grammar: "00001::" or
// "1::00001" are not valid, but a sloppy reader sees "1::" in them.
func containsIPv6(w []byte) bool {
	for i := 0; i < len(w); {
		if !isHex(w[i]) && w[i] != ':' {
			i++
			continue
		}
		colons, double := 0, false
		for ; i < len(w) && (isHex(w[i]) || w[i] == ':' || w[i] == '.'); i++ {
			if w[i] == ':' {
				colons++
				double = double || i > 0 && w[i-1] == ':'
			}
		}
		if double || colons >= 5 {
			return true
		}
	}
	return false
}

// isOpaqueToken: a UUID, a hex run of 16+, an alphanumeric run of 16+ mixing
// letters and digits, or a base64-ish run of 32+ (session ids, reset tokens,
// API keys, JWT parts).
func isOpaqueToken(w []byte) bool {
	if isUUID(w) {
		return true
	}
	runStart := 0
	for i := 0; i <= len(w); i++ {
		if i < len(w) && isAlnum(w[i]) {
			continue
		}
		if tokenRun(w[runStart:i]) {
			return true
		}
		runStart = i + 1
	}
	// Long base64url runs; a slug of lower-case words and dashes is not one.
	b64, mixed := 0, false
	for _, c := range w {
		if isAlnum(c) || c == '-' || c == '_' || c == '+' || c == '=' || c == '~' {
			b64++
			mixed = mixed || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
			if b64 >= 32 && mixed {
				return true
			}
		} else {
			b64, mixed = 0, false
		}
	}
	return false
}

func tokenRun(r []byte) bool {
	if len(r) < 16 {
		return false
	}
	var d, l, hex int
	for _, c := range r {
		if c >= '0' && c <= '9' {
			d++
		} else {
			l++
		}
		if isHex(c) {
			hex++
		}
	}
	return hex == len(r) || d > 0 && l > 0
}

// base64Text reports a base64 or base64url run (padding optional) that
// decodes to at least five bytes of printable text: an email or a user
// number hidden from a reader, never a route. Runs over 64 characters are
// judged by their first 64.
func base64Text(w []byte) bool {
	n := 0
	for n < len(w) && n < 64 && b64val(w[n]) >= 0 {
		n++
	}
	pad := n
	for pad < len(w) && w[pad] == '=' && pad-n < 2 {
		pad++
	}
	if n < 8 || pad < len(w) && n < 64 || n%4 == 1 {
		return false
	}
	var acc uint32
	bits, out, printable := 0, 0, 0
	for _, c := range w[:n] {
		acc = acc<<6 | uint32(b64val(c))
		bits += 6
		if bits >= 8 {
			bits -= 8
			b := byte(acc >> uint(bits))
			out++
			if b >= 0x20 && b < 0x7f {
				printable++
			} else {
				return false
			}
		}
	}
	return out >= 5 && printable == out
}

func b64val(c byte) int {
	switch {
	case isUpper(c):
		return int(c - 'A')
	case isLowerASCII(c):
		return int(c-'a') + 26
	case isDigit(c):
		return int(c-'0') + 52
	case c == '+' || c == '-':
		return 62
	case c == '/' || c == '_':
		return 63
	}
	return -1
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isUUID matches 8-4-4-4-12 hex.
func isUUID(w []byte) bool {
	if len(w) != 36 {
		return false
	}
	for i, c := range w {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

// scanIBAN recognises an IBAN at s[i] (a word start): two letters, two check
// digits, then up to 30 letters and digits, in groups separated by single
// spaces or dashes, passing the ISO 13616 mod-97 check. It returns the end
// of the longest valid prefix (at least 15 characters), or 0.
func scanIBAN(s []byte, i int) int {
	if i+4 > len(s) || !isLetter(s[i]) || !isLetter(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return 0
	}
	// The check moves the first four characters to the end: fold the rest
	// first, remembering the running remainder, and append the four at each
	// candidate length.
	head := [4]byte{lower(s[i]), lower(s[i+1]), s[i+2], s[i+3]}
	rem, count, best := 0, 4, 0
	for j := i + 4; j < len(s) && count < 34; j++ {
		c := s[j]
		if (c == ' ' || c == '-') && j+1 < len(s) && isAlnum(s[j+1]) && isAlnum(s[j-1]) {
			continue
		}
		if !isAlnum(c) {
			break
		}
		rem = mod97Append(rem, lower(c))
		count++
		if count >= 15 && (j+1 == len(s) || !isAlnum(s[j+1])) {
			r := rem
			for _, h := range head {
				r = mod97Append(r, h)
			}
			if r == 1 {
				best = j + 1
			}
		}
	}
	return best
}

func mod97Append(rem int, c byte) int {
	if isDigit(c) {
		return (rem*10 + int(c-'0')) % 97
	}
	return (rem*100 + int(c-'a') + 10) % 97
}

// scanPostcode recognises the postcodes that are not plain numbers (those
// are counted as numbers): British, Canadian and Irish.
func scanPostcode(s []byte, i int) int {
	if e := scanUKPostcode(s, i); e > 0 {
		return e
	}
	// Canada: A9A 9A9.
	if pat(s, i, "a9a") {
		j := i + 3
		if j < len(s) && s[j] == ' ' {
			j++
		}
		if pat(s, j, "9a9") && (j+3 == len(s) || !isAlnum(s[j+3])) {
			return j + 3
		}
	}
	// Ireland (Eircode): A99 or A9W, then four letters or digits.
	if pat(s, i, "a99") || pat(s, i, "a9") && i+2 < len(s) && (s[i+2] == 'w' || s[i+2] == 'W') {
		j := i + 3
		if j < len(s) && s[j] == ' ' {
			j++
		}
		if j+4 <= len(s) && isAlnum(s[j]) && isAlnum(s[j+1]) && isAlnum(s[j+2]) && isAlnum(s[j+3]) &&
			(j+4 == len(s) || !isAlnum(s[j+4])) && hasDigit(s[j:j+4]) {
			return j + 4
		}
	}
	return 0
}

// pat matches s at i against a pattern of 'a' (a letter) and '9' (a digit).
func pat(s []byte, i int, p string) bool {
	if i+len(p) > len(s) {
		return false
	}
	for k := 0; k < len(p); k++ {
		if p[k] == 'a' && !isLetter(s[i+k]) || p[k] == '9' && !isDigit(s[i+k]) {
			return false
		}
	}
	return true
}

func hasDigit(s []byte) bool {
	for _, c := range s {
		if isDigit(c) {
			return true
		}
	}
	return false
}

// scanUKPostcode recognises "sw1a 1aa", "m1 1ae", "EC1A1BB" at a word
// start: an outward code of a letter or two, a digit and an optional letter
// or digit, then an inward code of a digit and two letters.
func scanUKPostcode(s []byte, i int) int {
	j := i
	n := 0
	for j < len(s) && isLetter(s[j]) && n < 2 {
		j, n = j+1, n+1
	}
	if n == 0 || j >= len(s) || !isDigit(s[j]) {
		return 0
	}
	j++
	if j < len(s) && isAlnum(s[j]) && !(j+2 < len(s) && isDigit(s[j]) && isLetter(s[j+1]) && isLetter(s[j+2]) && (j+3 == len(s) || !isAlnum(s[j+3]))) {
		j++
	}
	if j < len(s) && s[j] == ' ' {
		j++
	}
	if j+3 > len(s) || !isDigit(s[j]) || !isLetter(s[j+1]) || !isLetter(s[j+2]) || j+3 < len(s) && isAlnum(s[j+3]) {
		return 0
	}
	return j + 3
}

// streetWords are the words that make a nearby short number a house number.
var streetWords = []string{"street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr",
	"boulevard", "blvd", "court", "ct", "place", "pl", "square", "sq", "terrace", "close", "crescent", "way",
	"straße", "strasse", "str", "weg", "allee", "platz", "gasse", "ring", "damm", "ufer", "chaussee",
	"rue", "chemin", "impasse", "calle", "avenida", "plaza", "via", "viale", "piazza", "corso",
	"straat", "laan", "plein", "gracht", "gade", "vej", "gatan", "vägen", "veien", "ulica", "ul", "apt", "apartment", "suite"}

// streetSuffixes end German and Dutch compound street names: "hauptstraße".
var streetSuffixes = []string{"straße", "strasse", "str", "weg", "allee", "platz", "gasse", "damm", "straat", "laan", "gatan", "vägen", "veien", "vej", "gade"}

var streetWordSet = newWordSet(streetWords)

// isStreetWord reports whether a letter run names a street.
func isStreetWord(w []byte) bool {
	if len(w) < 2 || len(w) > 40 {
		return false
	}
	if streetWordSet.has(w) {
		return true
	}
	if len(w) < 6 {
		return false
	}
	switch lower(w[len(w)-1]) {
	case 'e', 'r', 'g', 'z', 'm', 't', 'n', 'j':
	default:
		return false
	}
	for _, s := range streetSuffixes {
		if len(w) > len(s)+2 && equalFoldASCII(w[len(w)-len(s):], s) {
			return true
		}
	}
	return false
}
