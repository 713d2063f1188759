package transforms

import (
	"bytes"
	"errors"
)

// Reasons a line is rejected. They are fixed strings, safe as metric labels.
var (
	ErrEmpty        = errors.New("empty line")
	ErrLiteral      = errors.New("line does not match the format's literal text")
	ErrUnterminated = errors.New("unterminated quoted field")
	ErrTime         = errors.New("unparsable timestamp")
	ErrNoTime       = errors.New("no timestamp")
	ErrStatus       = errors.New("unparsable status")
	ErrNumber       = errors.New("unparsable number")
	ErrJSON         = errors.New("malformed JSON object")
	ErrTooLong      = errors.New("line longer than the configured maximum")
	ErrDirective    = errors.New("W3C directive line (#Fields: and the like)")
)

// Parse splits line into r according to f. On error r is partly filled and
// must not be used. Slices in r alias line or r's scratch buffers.
func Parse(f *Format, line []byte, r *Raw) error {
	r.reset()
	r.Format = f
	if len(line) == 0 {
		return ErrEmpty
	}
	var err error
	if f.json {
		err = parseJSON(line, r)
	} else {
		err = parseText(f, line, r)
	}
	if err == nil && r.Time == 0 {
		err = ErrNoTime
	}
	return err
}

// parseAuto reads a line in the format its shape says (JSON for '{', a
// W3C, CDN or load-balancer format by sniff), else tries Combined,
// HAProxy, vhost_combined, Common, common_complete and common_vhost in
// turn.
func parseAuto(line []byte, r *Raw) error {
	if len(line) > 0 {
		switch line[0] {
		case '{':
			return Parse(JSONFormat, line, r)
		case '#':
			r.reset()
			return ErrDirective
		}
	}
	if f := sniff(line); f != nil {
		return Parse(f, line, r)
	}
	err := Parse(Combined, line, r)
	if err == nil {
		if bytes.IndexByte(r.Ident, '.') > 0 {
			// An ident with a dot is OVH's site, where Combined has the
			// ident (always "-" in practice).
			return Parse(OVH, line, r)
		}
		return nil
	}
	if isHAProxyLine(line) {
		return Parse(HAProxy, line, r)
	}
	for _, f := range [...]*Format{VhostCombined, Common, CommonComplete, CommonVhost, VhostCommon, Gandi} {
		if Parse(f, line, r) == nil {
			return nil
		}
	}
	// Report why the most common format failed.
	return err
}

func parseText(f *Format, line []byte, r *Raw) error {
	pos := 0
	if f.syslog {
		pos = skipSyslog(line)
	}
	segs := f.segs
	skip, dropQuote := -1, false
	var err error
	for i := range segs {
		s := &segs[i]
		if i == skip {
			continue
		}
		if s.isLit {
			lit := s.lit
			if dropQuote {
				// The field before was an unquoted "-": no closing quote.
				lit, dropQuote = lit[1:], false
				if len(lit) == 0 {
					continue
				}
			}
			if len(line)-pos >= len(lit) && string(line[pos:pos+len(lit)]) == lit {
				pos += len(lit)
				for lit[len(lit)-1] == ' ' && pos < len(line) && line[pos] == ' ' {
					pos++ // doubled spaces
				}
				continue
			}
			var bare bool
			if pos, bare, err = r.litMismatch(line, pos, segs, i, lit); err != nil {
				return err
			}
			if bare {
				skip, dropQuote = i+1, true
			}
			continue
		}
		var end int
		switch {
		case s.quoted:
			end = scanQuoted(line, pos)
			if end < 0 && i+2 == len(segs) {
				// The last quoted field of a line that ends in a
				// backslash before its quote ("…\""): the quote ends it.
				if q := bytes.LastIndexByte(line, '"'); q > pos {
					end = q
				}
			}
			if end < 0 {
				return ErrUnterminated
			}
		case s.kind == fTimeBracketed || s.kind == fTimeHAProxy:
			if pos >= len(line) || line[pos] != '[' {
				return ErrTime
			}
			j := bytes.IndexByte(line[pos:], ']')
			if j < 0 {
				return ErrTime
			}
			end = pos + j + 1
		case pos < len(line) && line[pos] == '"':
			// A quoted value where the format has none (a quoted client,
			// IIS's cookie): the quotes hold it.
			if pos, err = r.setQuoted(line, pos, s.kind); err != nil {
				return err
			}
			continue
		case i+1 < len(segs):
			sep := segs[i+1].lit[0]
			j := bytes.IndexByte(line[pos:], sep)
			if j < 0 {
				return ErrLiteral
			}
			end = pos + j
			// An address list ("203.0.113.5, 10.0.0.1": a proxy's
			// X-Forwarded-For logged as the client) runs on past ", "
			// (resolveClient takes its first public address).
			for s.kind == fClient && sep == ' ' && end > pos+1 && line[end-1] == ',' {
				k := bytes.IndexByte(line[end+1:], ' ')
				if k < 0 {
					break
				}
				end += 1 + k
			}
		default:
			end = len(line)
			if f.trailing {
				if j := bytes.IndexByte(line[pos:], f.sep); j >= 0 {
					end = pos + j
				}
			}
		}
		val := line[pos:end]
		pos = end
		if s.quoted && bytes.IndexByte(val, '\\') >= 0 {
			val = r.unescapeLog(val)
		}
		if err := r.set(s.kind, val); err != nil {
			return err
		}
	}
	for pos < len(line) && line[pos] == ' ' && f.sep == ' ' && !f.trailing {
		pos++ // trailing spaces
	}
	if pos != len(line) && (!f.trailing || line[pos] != f.sep) {
		return ErrLiteral
	}
	return nil
}

// setQuoted sets field kind to the quoted value at line[pos] and returns
// the position after its closing quote.
func (r *Raw) setQuoted(line []byte, pos int, kind field) (int, error) {
	q := scanQuoted(line, pos+1)
	if q < 0 {
		return pos, ErrUnterminated
	}
	val := line[pos+1 : q]
	if bytes.IndexByte(val, '\\') >= 0 {
		val = r.unescapeLog(val)
	}
	return q + 1, r.set(kind, val)
}

// litMismatch is parseText's slow path, where literal lit of segs[i]
// (lit: without a quote a bare field before it did not close) does not
// match line[pos:] as it is: a bare "-" for the quoted field after it
// (bare: that field is set, its closing quote is to be dropped), or the
// spaces and seeks matchLit tolerates. It returns the position after
// what it matched.
func (r *Raw) litMismatch(line []byte, pos int, segs []segment, i int, lit string) (int, bool, error) {
	s := &segs[i]
	if !s.seek && lit[len(lit)-1] == '"' && i+2 < len(segs) && segs[i+1].quoted {
		// An unquoted "-" where the format quotes the field (a referrer
		// or user agent some servers write bare).
		pre := lit[:len(lit)-1]
		if p := pos + len(pre); p < len(line) && string(line[pos:p]) == pre && line[p] == '-' && (p+1 == len(line) || line[p+1] == ' ') {
			return p + 1, true, r.set(segs[i+1].kind, nil)
		}
	}
	if lit != s.lit {
		return pos, false, ErrLiteral
	}
	pos, ok := matchLit(line, pos, s)
	if !ok {
		return pos, false, ErrLiteral
	}
	return pos, false, nil
}

// matchLit matches literal s at line[pos:] and returns the position after
// it. A space in the literal matches a run of spaces (fields padded or
// doubled by hand-written formats); a seek literal skips any text up to
// its last byte.
// (parseText has matched it exactly already.)
func matchLit(line []byte, pos int, s *segment) (int, bool) {
	lit := s.lit
	if s.seek {
		j := bytes.IndexByte(line[pos:], lit[len(lit)-1])
		return pos + j + 1, j >= 0
	}
	for k := 0; k < len(lit); k++ {
		if pos >= len(line) || line[pos] != lit[k] {
			return pos, false
		}
		pos++
		if lit[k] == ' ' {
			for pos < len(line) && line[pos] == ' ' {
				pos++
			}
		}
	}
	return pos, true
}

// scanQuoted returns the index of the closing quote of a field starting at
// pos, skipping backslash escapes, or -1.
func scanQuoted(line []byte, pos int) int {
	for i := pos; i < len(line); {
		j := bytes.IndexByte(line[i:], '"')
		if j < 0 {
			return -1
		}
		q := i + j
		// The quote is escaped when an odd number of backslashes precede it.
		bs := 0
		for k := q - 1; k >= pos && line[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return q
		}
		i = q + 1
	}
	return -1
}

// unescapeW3C undoes a W3C field's encoding into r.unesc: "+" for a space
// (IIS) and %XX, which CloudFront applies twice ("%2520").
func (r *Raw) unescapeW3C(v []byte) []byte {
	if bytes.IndexByte(v, '+') < 0 && bytes.IndexByte(v, '%') < 0 {
		return v
	}
	for range 2 {
		start := len(r.unesc)
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '+':
				r.unesc = append(r.unesc, ' ')
			case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
				r.unesc = append(r.unesc, unhex(v[i+1])<<4|unhex(v[i+2]))
				i += 2
			default:
				r.unesc = append(r.unesc, c)
			}
		}
		v = r.unesc[start:len(r.unesc):len(r.unesc)]
		if !bytes.Contains(v, []byte("%2")) {
			break
		}
	}
	return v
}

// unescapeLog undoes Apache (\" \\ \xHH) and nginx (\xHH) escaping into r.unesc.
func (r *Raw) unescapeLog(v []byte) []byte {
	start := len(r.unesc)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			r.unesc = append(r.unesc, c)
			continue
		}
		i++
		switch v[i] {
		case 'x':
			if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
				r.unesc = append(r.unesc, unhex(v[i+1])<<4|unhex(v[i+2]))
				i += 2
				continue
			}
			r.unesc = append(r.unesc, '\\', 'x')
		case 'n':
			r.unesc = append(r.unesc, '\n')
		case 't':
			r.unesc = append(r.unesc, '\t')
		case 'r':
			r.unesc = append(r.unesc, '\r')
		default:
			r.unesc = append(r.unesc, v[i])
		}
	}
	return r.unesc[start:len(r.unesc):len(r.unesc)]
}

// set stores one field value. "-" means absent.
func (r *Raw) set(kind field, v []byte) error {
	if len(v) == 1 && v[0] == '-' {
		v = nil
	}
	switch kind {
	case fIgnore, fIsArgs:
	case fClient:
		r.Client = v
	case fIdent:
		r.Ident = v
	case fUser:
		r.User = v
	case fTimeBracketed:
		if len(v) < 2 {
			return ErrTime
		}
		return r.setTimeLocal(v[1 : len(v)-1])
	case fTimeLocal:
		return r.setTimeLocal(v)
	case fTimeISO:
		t, off, ok := parseISO8601(v)
		if !ok {
			return ErrTime
		}
		r.Time, r.TZOffset = t, off
	case fTimeMsec, fTimeSec:
		us, ok := parseDecimalMicros(v)
		if !ok || us <= 0 {
			return ErrTime
		}
		if kind == fTimeMsec && bytes.IndexByte(v, '.') < 0 {
			us /= 1000 // Apache %{msec}t is integer milliseconds
		}
		r.Time = us / 1e6
	case fRequest:
		r.setRequest(v)
	case fMethod:
		r.Method = v
	case fURI:
		r.setTarget(v)
	case fPath:
		r.RawPath = v
	case fQuery:
		if len(v) > 0 && v[0] == '?' {
			v = v[1:]
		}
		r.RawQuery = v
	case fProto:
		r.Proto = v
	case fStatus:
		if v == nil {
			return nil // "-": no response (an ELB TCP connection, a client gone)
		}
		n, ok := parseUint(v)
		if !ok || n < 100 || n > 999 {
			return ErrStatus
		}
		r.Status = int(n)
	case fCacheStatus:
		// Squid's "TCP_MISS/200"; "/000": no response.
		j := bytes.LastIndexByte(v, '/')
		if j < 0 {
			return ErrStatus
		}
		n, ok := parseUint(v[j+1:])
		if !ok || n > 999 || n > 0 && n < 100 {
			return ErrStatus
		}
		r.Status = int(n)
	case fDate:
		if len(v) != 10 || !isDate(v) {
			return ErrTime
		}
		y, _ := digits(v[0:4])
		m, _ := digits(v[5:7])
		d, _ := digits(v[8:10])
		t, ok := civil(y, m, d, 0, 0, 0)
		if !ok {
			return ErrTime
		}
		r.Time += t
	case fTimeOfDay:
		if len(v) < 8 || v[2] != ':' || v[5] != ':' {
			return ErrTime
		}
		hh, ok1 := digits(v[0:2])
		mm, ok2 := digits(v[3:5])
		ss, ok3 := digits(v[6:8])
		if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 60 {
			return ErrTime
		}
		r.Time += int64(hh*3600 + mm*60 + ss)
	case fTimeHAProxy:
		// "[25/Sep/2018:06:05:27.584]": CLF without a zone, with milliseconds.
		if len(v) != 26 || v[21] != '.' {
			return ErrTime
		}
		var buf [26]byte
		copy(buf[:], v[1:21])
		copy(buf[20:], " +0000")
		return r.setTimeLocal(buf[:])
	case fTimeAny:
		switch {
		case bytes.IndexByte(v, '-') > 0:
			return r.set(fTimeISO, v)
		case bytes.IndexByte(v, '.') < 0:
			return r.set(fTimeSec, v)
		}
		return r.set(fTimeMsec, v)
	case fUserAgentW3C:
		r.UserAgent = r.unescapeW3C(v)
	case fBytes:
		if v == nil {
			r.Bytes = -1
			return nil
		}
		n, ok := parseUint(v)
		if !ok {
			return ErrNumber
		}
		r.Bytes = n
	case fReferer:
		r.Referer = v
	case fUserAgent:
		r.UserAgent = v
	case fXFF:
		r.XFF = v
	case fHost:
		r.Host = v
	case fRequestTimeSec, fRequestTimeUS, fRequestTimeMS, fRequestTimeNS:
		if v == nil || len(v) > 1 && v[0] == '-' {
			return nil // "-1": ALB's time of a request it never sent on
		}
		us, ok := parseDecimalMicros(v)
		if !ok {
			return ErrNumber
		}
		switch kind {
		case fRequestTimeUS:
			us /= 1e6
		case fRequestTimeMS:
			us /= 1e3
		case fRequestTimeNS:
			us /= 1e9
		}
		r.RequestTimeUS = us
	default:
		panic("BUG: unhandled field kind")
	}
	return nil
}

func (r *Raw) setTimeLocal(v []byte) error {
	t, off, ok := r.clfCache.parse(v)
	if !ok {
		return ErrTime
	}
	r.Time, r.TZOffset = t, off
	return nil
}

// setRequest splits "METHOD target PROTO". Anything else marks BadRequest and
// keeps nothing of the text.
func (r *Raw) setRequest(v []byte) {
	sp := bytes.IndexByte(v, ' ')
	if sp <= 0 || !isMethod(v[:sp]) {
		r.BadRequest = true
		return
	}
	rest := v[sp+1:]
	target := rest
	if last := bytes.LastIndexByte(rest, ' '); last >= 0 {
		target, r.Proto = rest[:last], rest[last+1:]
		if !bytes.HasPrefix(r.Proto, []byte("HTTP/")) {
			r.BadRequest = true
			r.Proto = nil
			return
		}
	}
	r.Method = v[:sp]
	r.setTarget(target)
}

// setTarget splits a request target into path and query. An absolute-form
// target (proxy requests) loses its scheme and authority.
func (r *Raw) setTarget(t []byte) {
	if len(t) > 0 && t[0] != '/' {
		if i := bytes.Index(t, []byte("://")); i > 0 {
			t = t[i+3:]
			if j := bytes.IndexByte(t, '/'); j >= 0 {
				t = t[j:]
			} else {
				t = []byte("/")
			}
		}
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		r.RawPath, r.RawQuery = t[:q], t[q+1:]
		return
	}
	r.RawPath = t
}

func isMethod(b []byte) bool {
	if len(b) > 24 {
		return false
	}
	for _, c := range b {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseDecimalMicros parses "12", "0.123" or "1700000000.123456" into
// millionths of the unit.
func parseDecimalMicros(b []byte) (int64, bool) {
	dot := bytes.IndexByte(b, '.')
	intPart, frac := b, []byte(nil)
	if dot >= 0 {
		intPart, frac = b[:dot], b[dot+1:]
	}
	n, ok := parseUint(intPart)
	if !ok && !(len(intPart) == 0 && dot == 0) {
		return 0, false
	}
	us := n * 1e6
	scale := int64(1e5)
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		us += int64(c-'0') * scale
		scale /= 10
	}
	return us, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// clfCache remembers the minute of the last timestamp parsed: lines arrive
// in time order, so neighbours mostly share their minute and zone, and only
// the seconds need reading.
type clfCache struct {
	text [26]byte
	base int64 // Unix time of second 00 of the cached minute
	off  int32
	ok   bool
}

func (c *clfCache) parse(v []byte) (int64, int32, bool) {
	if c.ok && len(v) == 26 && string(v[:18]) == string(c.text[:18]) && string(v[20:]) == string(c.text[20:]) {
		if ss, ok := digits(v[18:20]); ok && ss <= 60 {
			return c.base + int64(ss), c.off, true
		}
	}
	t, off, ok := parseCLFTime(v)
	if ok {
		copy(c.text[:], v)
		ss, _ := digits(v[18:20])
		c.base, c.off, c.ok = t-int64(ss), off, true
	}
	return t, off, ok
}
