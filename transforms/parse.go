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

// parseAuto tries JSON for '{', else Combined, VhostCombined and Common in turn.
func parseAuto(line []byte, r *Raw) error {
	if len(line) > 0 && line[0] == '{' {
		return Parse(JSONFormat, line, r)
	}
	err := Parse(Combined, line, r)
	if err == nil {
		return nil
	}
	if Parse(VhostCombined, line, r) == nil {
		return nil
	}
	if Parse(Common, line, r) == nil {
		return nil
	}
	// Report why the most common format failed.
	return err
}

func parseText(f *Format, line []byte, r *Raw) error {
	pos := 0
	segs := f.segs
	for i := range segs {
		s := &segs[i]
		if s.isLit {
			if len(line)-pos < len(s.lit) || string(line[pos:pos+len(s.lit)]) != s.lit {
				return ErrLiteral
			}
			pos += len(s.lit)
			continue
		}
		var end int
		switch {
		case s.quoted:
			end = scanQuoted(line, pos)
			if end < 0 {
				return ErrUnterminated
			}
		case s.kind == fTimeBracketed:
			if pos >= len(line) || line[pos] != '[' {
				return ErrTime
			}
			j := bytes.IndexByte(line[pos:], ']')
			if j < 0 {
				return ErrTime
			}
			end = pos + j + 1
		case i+1 < len(segs):
			j := bytes.IndexByte(line[pos:], segs[i+1].lit[0])
			if j < 0 {
				return ErrLiteral
			}
			end = pos + j
		default:
			end = len(line)
			if f.trailing {
				if j := bytes.IndexByte(line[pos:], ' '); j >= 0 {
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
	if pos != len(line) && (!f.trailing || line[pos] != ' ') {
		return ErrLiteral
	}
	return nil
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
		n, ok := parseUint(v)
		if !ok || n < 100 || n > 999 {
			return ErrStatus
		}
		r.Status = int(n)
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
	case fRequestTimeSec, fRequestTimeUS, fRequestTimeMS:
		if v == nil {
			return nil
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
