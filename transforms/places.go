package transforms

// Identifiers with letters and digits in a fixed shape: IBANs, postcodes,
// and house numbers next to a street name. Part of the classifier
// (classify.go).

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
