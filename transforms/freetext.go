package transforms

// scanOpts say which numbers count as identifiers in a context.
type scanOpts struct {
	// minDigits: a number run of this many digits or more that matches no
	// validated shape is ClassNumber. 0 leaves such runs alone (audit).
	minDigits int
	// street: the text names a street, so any short number next to it
	// is a house number (ClassAddress).
	street bool
}

// nextIdentifier finds the first identifier in s at or after i and returns
// its span and class, or (len(s), len(s), ClassNone). It is the one scanner
// behind free-text scrubbing, segment and value judgement, and audit: whole
// words first (emails, addresses, MACs, tokens, base64 of text), then IBANs,
// month-name dates and UK postcodes at word starts, then coordinate pairs and
// numbers counted across separators at digit starts.
func nextIdentifier(s []byte, i int, opt scanOpts) (start, end int, cls Class) {
	start, end, cls = findIdentifier(s, i, opt)
	if cls != ClassNone {
		// An identifier inside a word takes the whole word: "GA1.2.3456789"
		// or "0000A00" leave no half-word that reads differently alone.
		for start > i && isWordByte(s[start-1]) && isWordByte(s[start]) {
			start--
		}
		for end < len(s) && isWordByte(s[end]) && isWordByte(s[end-1]) {
			end++
		}
	}
	return start, end, cls
}

func findIdentifier(s []byte, i int, opt scanOpts) (start, end int, cls Class) {
	var n numRun
	for i < len(s) {
		c := s[i]
		if isWordByte(c) && (i == 0 || !isWordByte(s[i-1])) {
			if e := scanIBAN(s, i); e > 0 {
				return i, e, ClassIBAN
			}
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if cls := classifyWord(s[i:j]); cls != ClassNone {
				return i, j, cls
			}
			if obfuscatedAt(s, j) || j+1 < len(s) && s[j] == ' ' && obfuscatedAt(s, j+1) {
				// "jdoe(at)example(dot)com", "jdoe [at] example.com": to the
				// end of the next word.
				k := j + 4
				if s[j] == ' ' {
					k++
				}
				for k < len(s) && s[k] == ' ' {
					k++
				}
				for k < len(s) && (isWordByte(s[k]) || s[k] == '(' || s[k] == ')' || s[k] == '[' || s[k] == ']') {
					k++
				}
				return i, k, ClassEmail
			}
			if isAlnum(c) && hasTransitions(s[i:j], 3) && !isDuration(s[i:j]) {
				return i, j, ClassCode // short codes: kq8x2m, a7f3k9, p4ssw0rd
			}
		}
		if isAlnum(c) && (i == 0 || !isAlnum(s[i-1])) {
			if e := scanIBAN(s, i); e > 0 {
				return i, e, ClassIBAN
			}
			if e := scanMonthDate(s, i); e > 0 {
				return i, e, ClassDate
			}
			if isLetter(c) {
				if e := scanPostcode(s, i); e > 0 {
					return i, e, ClassAddress
				}
			}
		}
		numStart := isDigit(c) || (c == '+' || c == '(') && i+1 < len(s) && isDigit(s[i+1])
		if numStart && (i == 0 || !isDigit(s[i-1])) {
			if isDigit(c) {
				if e := scanGeo(s, i); e > 0 {
					return i, e, ClassGeo
				}
			}
			scanNumber(s, i, &n)
			if e := scanDMS(s, n.end); e > 0 {
				return i, e, ClassGeo
			}
			cls := n.class()
			if cls == ClassNone && opt.minDigits > 0 && n.digits >= opt.minDigits {
				cls = ClassNumber
			}
			if cls == ClassNone && opt.street && n.digits > 0 && n.digits <= 5 {
				cls = ClassAddress
			}
			if cls == ClassNumber && opt.minDigits == 0 {
				cls = ClassNone
			}
			if cls != ClassNone {
				return i, n.end, cls
			}
			if c == '(' {
				i++ // the word after the parenthesis has not been judged yet
			} else {
				i = n.end
			}
			continue
		}
		i++
	}
	return len(s), len(s), ClassNone
}

// hasTransitions reports an alphanumeric run in w that switches between
// letters and digits at least n times ("a7f3k9": 5). Route words switch at
// most twice: x86, h264, mp3, b2b.
func hasTransitions(w []byte, n int) bool {
	t, prev := 0, byte(0) // 1 letter, 2 digit
	for _, c := range w {
		var k byte
		switch {
		case isDigit(c):
			k = 2
		case isLetter(c):
			k = 1
		default:
			prev = 0
			continue
		}
		if prev != 0 && k != prev {
			if t++; t >= n {
				return true
			}
		}
		prev = k
	}
	return false
}

// namesStreet reports a street word in s: any short number in the text is
// then taken for a house number.
func namesStreet(s []byte) bool {
	for i := 0; i < len(s); {
		if !isLetter(s[i]) && s[i] < 0x80 {
			i++
			continue
		}
		j := i
		for j < len(s) && (isLetter(s[j]) || s[j] >= 0x80) {
			j++
		}
		if isStreetWord(s[i:j]) {
			return true
		}
		i = j
	}
	return false
}

// appendScrubbedText copies free text s (already percent-decoded) to dst
// with every identifier replaced by its placeholder. Numbers of four digits
// or more that fit no shape become {number}; shorter ones are kept unless
// the text names a street, where they are house numbers ({address}). Words
// are kept: a name in lower-case free text cannot be told from a word, which
// is why search terms are published only k_search-anonymously.
func appendScrubbedText(dst, s []byte) []byte {
	if plainText(s) {
		return append(dst, s...)
	}
	opt := scanOpts{minDigits: 4, street: namesStreet(s)}
	for i := 0; i < len(s); {
		start, end, cls := nextIdentifier(s, i, opt)
		dst = append(dst, s[i:start]...)
		if cls == ClassNone {
			break
		}
		dst = append(dst, cls.Placeholder()...)
		i = end
	}
	return dst
}

// plainText is appendScrubbedText's fast path: words of ASCII letters and
// punctuation that no detector can match. Every detector needs a digit, an
// '@', a ':', a bracket for "(at)", a non-ASCII byte (the degree sign), an
// upper-case letter in a word of eight or more (base64), or a long run of
// hex letters (a token or a MAC without digits).
func plainText(s []byte) bool {
	word, hexOnly, upper := 0, true, false
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if word >= 12 && hexOnly || word >= 8 && upper {
				return false
			}
			word, hexOnly, upper = 0, true, false
			continue
		}
		c := s[i]
		switch {
		case isLowerASCII(c):
			hexOnly = hexOnly && c <= 'f'
		case isUpper(c):
			upper = true
			hexOnly = hexOnly && c <= 'F'
		case c == '-' || c == '.' || c == '_' || c == ',' || c == '\'' || c == '!' || c == '?' || c == '"' || c == '&':
		default:
			return false
		}
		word++
	}
	return true
}

// firstIdentifier returns the class of the first identifier in s for a
// value judged as a whole (a path segment, a query value), or ClassNone.
func firstIdentifier(s []byte, minDigits int) Class {
	_, _, cls := nextIdentifier(s, 0, scanOpts{minDigits: minDigits})
	return cls
}
