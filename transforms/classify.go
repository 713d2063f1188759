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
	ClassSlug          // a route-like path segment of no common words that too few visitors used (population.go)
	numClasses
)

var classNames = [numClasses]string{"", "email", "ip", "mac", "geo", "date", "phone", "card", "iban", "imei",
	"number", "address", "token", "code", "id", "name", "host", "slug"}

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

// isEmailish: something before an '@' and something after it, but for
// an image's scale ("logo@2x.png").
func isEmailish(w []byte) bool {
	for i, c := range w {
		if c == '@' && i > 0 && i < len(w)-1 {
			return scaleSuffix(w[i:]) == 0 // user@localhost still names a person
		}
	}
	return false
}

// scaleSuffix is the length of "@2x" (1x to 4x, or 1.5x) when s starts with
// it and a file extension follows it to the end; else 0.
func scaleSuffix(s []byte) int {
	n := 0
	switch {
	case len(s) >= 4 && s[0] == '@' && s[1] >= '1' && s[1] <= '4' && s[2] == 'x':
		n = 3
	case len(s) >= 6 && s[0] == '@' && s[1] == '1' && s[2] == '.' && s[3] == '5' && s[4] == 'x':
		n = 5
	default:
		return 0
	}
	ext := s[n:] // ".png"
	if len(ext) < 2 || len(ext) > 6 || ext[0] != '.' {
		return 0
	}
	for _, c := range ext[1:] {
		if !isLowerASCII(c) && !isDigit(c) {
			return 0
		}
	}
	return n
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
	// Long base64url runs; a slug of lower-case words and dashes is not
	// one, nor is one with a number of its own in it
	// ("installing-windows-8-consumer-preview"): a part between the
	// separators must mix digits with letters, or have upper case.
	b64, mixed := 0, false
	letter, digit := false, false
	for _, c := range w {
		switch {
		case isAlnum(c):
			b64++
			digit = digit || isDigit(c)
			letter = letter || isLetter(c)
			mixed = mixed || isUpper(c) || digit && letter
		case c == '-' || c == '_' || c == '+' || c == '=' || c == '~':
			b64++
			letter, digit = false, false
		default:
			b64, mixed, letter, digit = 0, false, false, false
		}
		if b64 >= 32 && mixed {
			return true
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
