package transforms

import ()

// Placeholders written where an identifier was.
const (
	phID     = "{id}"
	phToken  = "{token}"
	phEmail  = "{email}"
	phIP     = "{ip}"
	phNumber = "{number}"
)

// isWordByte reports bytes that can be part of an email, address or token.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == '+' || c == '@' || c == ':' || c == '%' || c == '[' || c == ']' || c == '~'
}

// appendRedacted copies s to dst with every email, IPv4/IPv6 literal and
// opaque token replaced by a placeholder; with numbers, digit runs of six or
// more (phone, card, account numbers) too. s should be percent-decoded first.
func appendRedacted(dst, s []byte, numbers bool) []byte {
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			dst = append(dst, s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		w := s[i:j]
		if ph := classifyWord(w, numbers); ph != "" {
			dst = append(dst, ph...)
		} else {
			dst = append(dst, w...)
		}
		i = j
	}
	return dst
}

// sensitive reports whether appendRedacted would change s.
func sensitive(s []byte) bool { return firstPlaceholder(s) != "" }

// firstPlaceholder returns the placeholder of the first word of s that
// identifies someone, or "".
func firstPlaceholder(s []byte) string {
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if ph := classifyWord(s[i:j], false); ph != "" {
			return ph
		}
		i = j
	}
	return ""
}

// classifyWord returns the placeholder for a word that identifies someone,
// or "" to keep it.
func classifyWord(w []byte, numbers bool) string {
	var at, colons, dots, digits, maxDigitRun, run int
	for _, c := range w {
		switch {
		case c == '@':
			at++
		case c == ':':
			colons++
		case c == '.':
			dots++
		}
		if c >= '0' && c <= '9' {
			digits++
			run++
			if run > maxDigitRun {
				maxDigitRun = run
			}
			continue
		}
		run = 0
	}
	if at > 0 && isEmailish(w) {
		return phEmail
	}
	if digits > 0 && dots >= 3 && containsIPv4(w) || colons >= 2 && containsIPv6(w) {
		return phIP // dotted quads; "2001:db8::1", "::1", "fe80::"
	}
	if len(w) >= 16 && isOpaqueToken(w) {
		return phToken
	}
	if numbers && maxDigitRun >= 6 {
		return phNumber
	}
	return ""
}

// isEmailish: something before an '@' and a dotted or bracketed domain after.
func isEmailish(w []byte) bool {
	for i, c := range w {
		if c != '@' || i == 0 {
			continue
		}
		rest := w[i+1:]
		for k, d := range rest {
			if (d == '.' || d == '[') && k > 0 || d == '.' && k == 0 && len(rest) > 1 {
				return true
			}
		}
		if len(rest) > 0 {
			return true // user@localhost still names a person
		}
	}
	return false
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

// appendPercentDecoded decodes %XX escapes (and '+' as space when plus).
// Invalid escapes are copied as they are.
func appendPercentDecoded(dst, s []byte, plus bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendFullyDecoded percent-decodes s twice (in place the second time, as
// decoding never grows), so double-encoded identifiers are seen too.
func appendFullyDecoded(dst, s []byte, plus bool) []byte {
	start := len(dst)
	dst = appendPercentDecoded(dst, s, plus)
	if hasPercent(dst[start:]) {
		dec := appendPercentDecoded(dst[start:start], dst[start:], false)
		dst = dst[:start+len(dec)]
	}
	return dst
}

func hasPercent(s []byte) bool {
	for _, c := range s {
		if c == '%' {
			return true
		}
	}
	return false
}

// AppendRedactedLine writes a rejected line with every address, email and
// token masked, percent-encoded forms included (the line is decoded twice
// first, which also catches double encoding). Control bytes become spaces so
// a rejects file keeps one line per input line.
func AppendRedactedLine(dst, line []byte) []byte {
	dst, _ = appendRedactedLine(dst, line, nil)
	return dst
}

// AppendRedactedLine is the package function with the worker's scratch
// buffer, so rejecting a line does not allocate.
func (w *Worker) AppendRedactedLine(dst, line []byte) []byte {
	dst, w.redactBuf = appendRedactedLine(dst, line, w.redactBuf)
	return dst
}

func appendRedactedLine(dst, line, buf []byte) ([]byte, []byte) {
	dec := line
	if hasPercent(dec) {
		buf = appendFullyDecoded(buf[:0], dec, false)
		dec = buf
	}
	start := len(dst)
	dst = appendRedacted(dst, dec, false)
	for i := start; i < len(dst); i++ {
		if dst[i] < 0x20 || dst[i] == 0x7f {
			dst[i] = ' '
		}
	}
	return dst, buf
}
