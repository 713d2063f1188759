package transforms

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// route is a compiled route template: a path whose {name} or * segments
// match any one segment.
type route struct {
	text string
	segs []string // "" matches any segment
}

func compileRoutes(templates []string) []route {
	routes := make([]route, 0, len(templates))
	for _, t := range templates {
		parts := strings.Split(strings.TrimPrefix(t, "/"), "/")
		for i, p := range parts {
			if p == "*" || strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
				parts[i] = ""
			}
		}
		routes = append(routes, route{text: t, segs: parts})
	}
	return routes
}

func (rt *route) match(path []byte) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	path = path[1:]
	for i, want := range rt.segs {
		j := bytes.IndexByte(path, '/')
		seg := path
		if j >= 0 {
			seg = path[:j]
		}
		if want == "" && len(seg) == 0 || want != "" && string(seg) != want {
			return false
		}
		if j < 0 {
			return i == len(rt.segs)-1
		}
		path = path[j+1:]
	}
	return false
}

// identityParents are segments after which the next one names a person:
// /users/jdoe, /u/jdoe, /profile/jane-doe.
var identityParents = []string{"users", "user", "u", "profile", "profiles", "people", "person", "author",
	"authors", "members", "member", "customer", "customers", "employee", "employees", "staff", "patients",
	"patient", "students", "student", "benutzer", "mitglieder", "utilisateur", "utilisateurs", "usuario", "usuarios"}

// secretParents are segments after which the next one is a secret or a
// one-time code: /reset/<code>, /password/<pw>, /invite/<code>.
var secretParents = []string{"reset", "reset-password", "password-reset", "password", "passwd", "pwd", "pw",
	"pass", "token", "tokens", "verify", "verification", "confirm", "confirmation", "activate", "activation",
	"invite", "invitation", "invitations", "unsubscribe", "otp", "code", "codes", "key", "keys", "apikey",
	"api-key", "secret", "secrets", "session", "sessions", "magic", "magic-link", "login", "sso", "share",
	"shared", "ticket", "tickets", "voucher", "coupon", "download-link"}

// actionWords may follow an identity parent without naming anyone:
// /users/sign_in, /profile/edit.
var actionWords = []string{"me", "self", "current", "new", "edit", "create", "delete", "update", "list", "all",
	"index", "search", "settings", "preferences", "profile", "account", "password", "login", "logout",
	"signin", "sign_in", "sign-in", "signup", "sign_up", "sign-up", "sign_out", "sign-out", "register",
	"registration", "confirmation", "unlock", "auth", "oauth", "callback", "avatar", "photo", "orders",
	"addresses", "notifications", "security", "billing", "dashboard", "overview", "recent", "top", "popular"}

// secretFollowers may follow a secret parent without being the secret:
// /password/reset, /verify/email, /invite/accept.
var secretFollowers = []string{"new", "edit", "reset", "forgot", "forgotten", "change", "request", "confirm",
	"email", "phone", "sms", "send", "resend", "accept", "decline", "success", "done", "complete", "sent",
	"expired", "invalid", "callback", "start", "verify", "code", "token", "link", "google", "github",
	"facebook", "apple", "microsoft", "saml", "oidc", "oauth", "oauth2", "sso", "password", "login", "logout",
	"index", "index.html", "index.php", "form", "update", "settings", "api", "v1", "v2", "status", "check", "all"}

var (
	identityParentSet = newWordSet(identityParents)
	secretParentSet   = newWordSet(secretParents)
	actionWordSet     = newWordSet(actionWords)
	secretFollowerSet = newWordSet(secretFollowers)
)

// appendScrubbedPath writes path with every segment that is not known to be
// safe replaced by a typed placeholder, and matrix parameters
// (";jsessionid=...") dropped. A matching route template wins; safe lists
// segments kept verbatim wherever they appear. tmp is scratch for
// percent-decoding and is returned for reuse. With cands (population.go)
// a lexical segment is kept, a person's name replaced, and any other
// segment the shape does not mark as an identifier is written as it is and
// noted as a candidate; without, the shape alone decides.
func appendScrubbedPath(dst, path []byte, routes []route, safe []string, tmp []byte, cands *candidates) ([]byte, []byte) {
	for i := range routes {
		if routes[i].match(path) {
			return append(dst, routes[i].text...), tmp
		}
	}
	if len(path) == 0 {
		return append(dst, '/'), tmp
	}
	const (
		plainParent = iota
		identityParent
		secretParent
	)
	parent := plainParent
	base := len(dst)
	for i := 0; i < len(path); {
		if path[i] == '/' {
			dst = append(dst, '/')
			i++
			continue
		}
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		seg := path[i:j]
		i = j
		if k := bytes.IndexByte(seg, ';'); k >= 0 {
			seg = seg[:k]
		}
		if len(seg) == 0 {
			continue
		}
		if nameIn(seg, safe) {
			dst = append(dst, seg...)
			parent = plainParent
			continue
		}
		var cls Class
		var ext []byte
		dec := seg
		if !plainSegment(seg) {
			if hasPercent(seg) {
				tmp = appendFullyDecoded(tmp[:0], seg, false)
				dec = tmp
			}
			cls, ext = classifySegment(dec)
			if cls == ClassNone && hasPercent(seg) {
				// What is written is the raw segment: "%10.0.0.100" decodes
				// to no address but reads as one. Run the detectors on it too.
				cls = firstIdentifier(seg, 5)
			}
		}
		context := false
		switch {
		case cls != ClassNone:
		case parent == identityParent && !actionWordSet.has(dec):
			cls, ext, context = ClassName, nil, true
		case parent == secretParent && !secretFollowerSet.has(dec):
			cls, ext, context = ClassToken, nil, true
		}
		written := false
		if cands != nil && !context {
			switch cls {
			case ClassNone:
				if ok, name, words := lexical(dec, safe, cands); name {
					cls = ClassName
				} else if !ok {
					if written = cands.noteSlug(len(dst)-base, len(seg), words); !written {
						cls = ClassSlug // no room: replaced now
					}
				}
			case ClassID, ClassCode, ClassName:
				if cls == ClassID && allDigits(dec) && smallNumber(dec) {
					cls = ClassNone // a page number, a year, a month: lexical
					break
				}
				// A percent-encoded segment's extension is the decoded one's:
				// it is replaced as the shape says.
				if seg[0] != '~' && seg[0] != '@' && !hasPercent(seg) {
					written = cands.note(len(dst)-base, len(seg), len(ext), cls, false)
				}
			}
		}
		switch {
		case written, cls == ClassNone:
			dst = append(dst, seg...)
		case (seg[0] == '~' || seg[0] == '@') && (cls == ClassName || cls == ClassToken || cls == ClassCode):
			dst = append(dst, seg[0])
			dst = append(dst, ClassName.Placeholder()...)
		default:
			dst = append(dst, cls.Placeholder()...)
			dst = append(dst, ext...)
		}
		switch {
		case parent == secretParent && (cls == ClassToken || secretFollowerSet.has(dec)):
			// A secret covers what follows it: "/login/magic/<code>",
			// "/reset/confirm/<code>".
		case cls != ClassNone:
			parent = plainParent
		case identityParentSet.has(seg):
			parent = identityParent
		case secretParentSet.has(seg):
			parent = secretParent
		default:
			parent = plainParent
		}
	}
	return dst, tmp
}

// classifySegment judges a decoded path segment as a whole. It returns
// ClassNone only for a route-like segment: lower-case words (any script's
// lower-case or caseless letters), digits in short groups, '-', '_' and
// '.', and an optional file extension. Identifiers get their class; digits
// and UUIDs ClassID; free text (spaces, '+', other punctuation) and
// mixed-case words ClassName. ext is the extension to keep after the
// placeholder.
func classifySegment(s []byte) (Class, []byte) {
	if len(s) == 0 {
		return ClassNone, nil
	}
	if allDigits(s) {
		var n numRun
		scanNumber(s, 0, &n)
		if cls := n.class(); cls != ClassNone && cls != ClassNumber {
			return cls, nil // a card, a phone number, a date
		}
		return ClassID, nil
	}
	if cls := classifyWord(s); cls != ClassNone {
		if cls == ClassToken && isUUID(s) {
			return ClassID, nil
		}
		return cls, nil
	}
	base, ext := s, extension(s)
	if ext != nil {
		base = s[:len(s)-len(ext)]
		if at := bytes.LastIndexByte(base, '@'); at > 0 && scaleSuffix(s[at:]) > 0 {
			base = base[:at] // "logo@2x.png" is judged as "logo.png"
		}
		if cls := classifyWord(base); cls != ClassNone {
			if cls == ClassToken && isUUID(base) {
				return ClassID, ext
			}
			return cls, ext
		}
	}
	if cls := firstIdentifier(base, 5); cls != ClassNone {
		if cls == ClassNumber && allDigits(base) {
			cls = ClassID
		}
		return cls, ext
	}
	if isNumeric(base) {
		return ClassID, ext
	}
	if cls := routeLike(base); cls != ClassNone {
		return cls, ext
	}
	return ClassNone, nil
}

// routeLike returns ClassNone for lower-case words in short groups, else
// the class of what breaks the rule.
func routeLike(s []byte) Class {
	if s[0] == '~' || s[0] == '@' {
		return ClassName
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isLowerASCII(c) || isDigit(c) || c == '-' || c == '_' || c == '.':
			i++
		case c >= 0x80:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError || unicode.IsUpper(r) || unicode.IsTitle(r) || !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) {
				return ClassName
			}
			i += size
		default:
			return ClassName // upper case, spaces, '+', punctuation: free text or a name
		}
	}
	if hasTransitions(s, 3) && !isDuration(s) {
		return ClassCode
	}
	return ClassNone
}

func allDigits(s []byte) bool {
	for _, c := range s {
		if !isDigit(c) {
			return false
		}
	}
	return len(s) > 0
}

// isNumeric: digits and number separators only, at least one digit.
func isNumeric(s []byte) bool {
	d := 0
	for _, c := range s {
		switch {
		case isDigit(c):
			d++
		case c == '-' || c == '.' || c == '_' || c == '+' || c == ',':
		default:
			return false
		}
	}
	return d > 0
}

// extension returns ".ext" when s ends in a short lower-case extension
// with a letter in it (mp3, 7z).
func extension(s []byte) []byte {
	dot := bytes.LastIndexByte(s, '.')
	if dot <= 0 || len(s)-dot-1 < 1 || len(s)-dot-1 > 5 {
		return nil
	}
	letter := false
	for _, c := range s[dot+1:] {
		if !isLowerASCII(c) && !isDigit(c) {
			return nil
		}
		letter = letter || isLowerASCII(c)
	}
	if !letter {
		return nil // ".00000" is a number, not an extension
	}
	return s[dot:]
}

// plainSegment is the fast path: a segment that classifySegment keeps.
// Lower-case letters, '-', '_' and '.' only, so no number, address, email,
// escape or matrix parameter; shorter than 16 or with a letter past 'f', so
// no hex token; and no upper case, so no base64.
func plainSegment(s []byte) bool {
	nonHex := false
	for _, c := range s {
		switch {
		case c >= 'g' && c <= 'z':
			nonHex = true
		case c >= 'a' && c <= 'f', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return len(s) < 16 || nonHex
}
