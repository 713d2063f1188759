package transforms

import (
	"net/netip"
	"strconv"
	"unicode/utf8"
)

// SchemaVersion is the version of the event JSON written by AppendJSON
// (schema/event.v1.json).
const SchemaVersion = 1

// AppendJSON appends r as one JSON event (no trailing newline). id, when not
// empty, is the event's deterministic id. Optional fields with no value are
// omitted. The layout is fixed: see schema/event.v1.json.
func (w *Worker) AppendJSON(dst []byte, r *Record, id []byte) []byte {
	dst = append(dst, w.a.jsonPrefix...)
	if len(id) > 0 {
		dst = append(dst, `,"id":`...)
		dst = appendJSONString(dst, id)
	}
	dst = append(dst, `,"time":"`...)
	// Consecutive lines mostly share their minute: format it once and
	// patch the seconds.
	tc := &w.timeCache
	if minute := floorDiv(r.Time, 60); minute != tc.minute || !tc.ok {
		appendRFC3339(tc.buf[:0], minute*60)
		tc.minute, tc.ok = minute, true
	}
	sec := int(r.Time - tc.minute*60)
	tc.buf[17], tc.buf[18] = byte('0'+sec/10), byte('0'+sec%10)
	dst = append(dst, tc.buf[:]...)
	dst = append(dst, '"')
	if len(r.Host) > 0 {
		dst = append(dst, `,"host":`...)
		dst = appendJSONString(dst, r.Host)
	}
	if r.Network.IsValid() {
		dst = append(dst, `,"client_network":"`...)
		dst = appendPrefix(dst, r.Network)
		dst = append(dst, `","ip_version":`...)
		if r.Network.Addr().Is4() {
			dst = append(dst, '4')
		} else {
			dst = append(dst, '6')
		}
	}
	if len(r.ClientDomain) > 0 {
		dst = append(dst, `,"client_domain":`...)
		dst = appendJSONString(dst, r.ClientDomain)
	}
	dst = append(dst, `,"country":`...)
	dst = appendJSONString(dst, r.Country)
	if r.Continent != "" {
		dst = append(dst, `,"continent":`...)
		dst = appendJSONString(dst, r.Continent)
	}
	if r.ASN != 0 {
		dst = append(dst, r.asnJSON...)
	}
	if r.BadRequest {
		dst = append(dst, `,"bad_request":true`...)
	} else {
		if len(r.Method) > 0 {
			dst = append(dst, `,"method":`...)
			dst = appendJSONString(dst, r.Method)
		}
		dst = append(dst, `,"path":`...)
		dst = appendJSONString(dst, r.Path)
		if len(r.Query) > 0 {
			dst = append(dst, `,"query":`...)
			dst = appendJSONString(dst, r.Query)
		}
		if len(r.SearchTerms) > 0 && w.a.cfg.SearchTermsInEvents {
			dst = append(dst, `,"search_terms":`...)
			dst = appendJSONString(dst, r.SearchTerms)
		}
		if len(r.Proto) > 0 {
			dst = append(dst, `,"protocol":`...)
			dst = appendJSONString(dst, r.Proto)
		}
	}
	dst = append(dst, `,"status":`...)
	dst = append(dst, byte('0'+r.Status/100), byte('0'+r.Status/10%10), byte('0'+r.Status%10))
	if r.Bytes >= 0 {
		dst = append(dst, `,"bytes":`...)
		dst = strconv.AppendInt(dst, r.Bytes, 10)
	}
	if r.RequestTimeUS >= 0 {
		dst = append(dst, `,"request_time_ms":`...)
		dst = appendMillis(dst, r.RequestTimeUS)
	}
	dst = append(dst, `,"referrer_type":"`...)
	dst = append(dst, r.ReferrerType...)
	dst = append(dst, '"')
	if len(r.ReferrerSite) > 0 {
		dst = append(dst, `,"referrer_site":`...)
		dst = appendJSONString(dst, r.ReferrerSite)
	}
	dst = append(dst, r.uaJSON...) // browser, browser_version, os, device: set by Anonymize
	if w.EmitPseudonym && len(r.Pseudonym) > 0 {
		dst = append(dst, `,"visitor":"`...)
		dst = append(dst, r.Pseudonym...)
		dst = append(dst, '"')
	}
	if r.Traffic != "" {
		dst = append(dst, `,"traffic":"`...)
		dst = append(dst, r.Traffic...)
		dst = append(dst, '"')
	}
	if r.Crawler != "" {
		dst = append(dst, `,"crawler":`...)
		dst = appendJSONString(dst, r.Crawler)
	}
	if r.Bot {
		dst = append(dst, `,"bot":true}`...)
	} else {
		dst = append(dst, `,"bot":false}`...)
	}
	return dst
}

// appendMillis writes microseconds as milliseconds with three decimals.
func appendMillis(dst []byte, us int64) []byte {
	dst = strconv.AppendInt(dst, us/1000, 10)
	frac := us % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString[S []byte | string](dst []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		// Copy the run of bytes that need no escaping in one append.
		j := i
		for j < len(s) && jsonSafe[s[j]] {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// AppendLine appends r rewritten in the format it was read in, with the
// scrubbed values: the truncated network address for the client, "-" for
// ident, user and fields logveil does not know, the scrubbed request,
// referrer site and a user agent reduced to "Browser/major (OS; device)".
// JSON input is rewritten as JSON with nginx variable names.
func (w *Worker) AppendLine(dst []byte, r *Record) []byte {
	f := r.Format
	if f.json {
		return w.appendNginxJSON(dst, r)
	}
	for i := range f.segs {
		s := &f.segs[i]
		if s.isLit {
			dst = append(dst, s.lit...)
			continue
		}
		start := len(dst)
		dst = w.appendField(dst, r, s.kind)
		switch {
		case len(dst) == start:
			dst = append(dst, '-')
		case s.quoted:
			dst = escapeQuotedInPlace(dst, start)
		}
	}
	return dst
}

func (w *Worker) appendField(dst []byte, r *Record, kind field) []byte {
	switch kind {
	case fClient:
		switch {
		case r.Network.IsValid():
			return r.Network.Addr().AppendTo(dst)
		case len(r.ClientDomain) > 0:
			return append(dst, r.ClientDomain...)
		}
	case fTimeBracketed:
		dst = append(dst, '[')
		dst = appendCLFTime(dst, r.Time, r.TZOffset)
		return append(dst, ']')
	case fTimeLocal:
		return appendCLFTime(dst, r.Time, r.TZOffset)
	case fTimeISO:
		return appendRFC3339(dst, r.Time)
	case fTimeSec:
		return strconv.AppendInt(dst, r.Time, 10)
	case fTimeMsec:
		dst = strconv.AppendInt(dst, r.Time, 10)
		return append(dst, ".000"...)
	case fRequest:
		if r.BadRequest {
			return dst
		}
		dst = append(dst, r.Method...)
		dst = append(dst, ' ')
		dst = w.appendTarget(dst, r)
		if len(r.Proto) > 0 {
			dst = append(dst, ' ')
			dst = append(dst, r.Proto...)
		}
		return dst
	case fMethod:
		return append(dst, r.Method...)
	case fURI:
		return w.appendTarget(dst, r)
	case fPath:
		return append(dst, r.Path...)
	case fQuery:
		if len(r.Query) > 0 {
			dst = append(dst, '?')
			dst = append(dst, r.Query...)
		}
		return dst
	case fProto:
		return append(dst, r.Proto...)
	case fStatus:
		return strconv.AppendInt(dst, int64(r.Status), 10)
	case fBytes:
		if r.Bytes >= 0 {
			return strconv.AppendInt(dst, r.Bytes, 10)
		}
	case fReferer:
		return append(dst, r.ReferrerSite...)
	case fUserAgent:
		return appendUASummary(dst, r)
	case fHost:
		return append(dst, r.Host...)
	case fRequestTimeSec:
		if r.RequestTimeUS >= 0 {
			dst = strconv.AppendInt(dst, r.RequestTimeUS/1e6, 10)
			frac := r.RequestTimeUS % 1e6 / 1000
			return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		}
	case fRequestTimeUS:
		if r.RequestTimeUS >= 0 {
			return strconv.AppendInt(dst, r.RequestTimeUS, 10)
		}
	case fRequestTimeMS:
		if r.RequestTimeUS >= 0 {
			return strconv.AppendInt(dst, r.RequestTimeUS/1000, 10)
		}
	}
	return dst // ident, user, X-Forwarded-For, unknown directives: nothing
}

func (w *Worker) appendTarget(dst []byte, r *Record) []byte {
	dst = append(dst, r.Path...)
	if len(r.Query) > 0 {
		dst = append(dst, '?')
		dst = append(dst, r.Query...)
	}
	return dst
}

func appendUASummary(dst []byte, r *Record) []byte {
	if r.Browser == "" {
		return dst
	}
	dst = append(dst, r.Browser...)
	if r.BrowserMajor != "" {
		dst = append(dst, '/')
		dst = append(dst, r.BrowserMajor...)
	}
	dst = append(dst, " ("...)
	dst = append(dst, r.OS...)
	dst = append(dst, "; "...)
	dst = append(dst, r.Device...)
	return append(dst, ')')
}

// escapeQuotedInPlace escapes '"', '\\' and control bytes written since
// start as \xHH (nginx style, which Apache-format readers also accept).
func escapeQuotedInPlace(dst []byte, start int) []byte {
	n := 0
	for _, c := range dst[start:] {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			n++
		}
	}
	if n == 0 {
		return dst
	}
	const hexDigits = "0123456789ABCDEF"
	end := len(dst)
	dst = append(dst, make([]byte, 3*n)...)
	j := len(dst)
	for i := end - 1; i >= start; i-- {
		c := dst[i]
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			j -= 4
			dst[j], dst[j+1], dst[j+2], dst[j+3] = '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf]
		} else {
			j--
			dst[j] = c
		}
	}
	return dst
}

// appendNginxJSON rewrites a JSON line with nginx variable names.
func (w *Worker) appendNginxJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"remote_addr":"`...)
	dst = w.appendField(dst, r, fClient)
	dst = append(dst, '"')
	dst = append(dst, `,"time_iso8601":"`...)
	dst = appendRFC3339(dst, r.Time)
	dst = append(dst, `","request":`...)
	mark := len(dst)
	dst = w.appendField(dst, r, fRequest)
	req := dst[mark:]
	dst = appendJSONString(dst, req)
	dst = append(dst[:mark], dst[mark+len(req):]...)
	dst = append(dst, `,"status":`...)
	dst = append(dst, byte('0'+r.Status/100), byte('0'+r.Status/10%10), byte('0'+r.Status%10))
	dst = append(dst, `,"body_bytes_sent":`...)
	dst = strconv.AppendInt(dst, max(r.Bytes, 0), 10)
	dst = append(dst, `,"http_referer":`...)
	dst = appendJSONString(dst, r.ReferrerSite)
	dst = append(dst, `,"http_user_agent":"`...)
	dst = appendUASummary(dst, r)
	dst = append(dst, '"')
	if len(r.Host) > 0 {
		dst = append(dst, `,"host":`...)
		dst = appendJSONString(dst, r.Host)
	}
	if r.RequestTimeUS >= 0 {
		dst = append(dst, `,"request_time":`...)
		dst = w.appendField(dst, r, fRequestTimeSec)
	}
	return append(dst, '}')
}

// jsonSafe marks ASCII bytes copied into a JSON string as they are.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendJSONString appends s as a JSON string (invalid UTF-8 becomes U+FFFD).
func AppendJSONString(dst, s []byte) []byte { return appendJSONString(dst, s) }

// appendPrefix writes a network in CIDR notation; IPv4 without netip's
// general formatter, which is the slow part for the common case.
func appendPrefix(dst []byte, p netip.Prefix) []byte {
	a := p.Addr()
	if !a.Is4() {
		if p.Bits() > 64 || a.Zone() != "" {
			return p.AppendTo(dst)
		}
		return appendPrefix6(dst, a, p.Bits())
	}
	b := a.As4()
	for i, x := range b {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = appendSmall(dst, int(x))
	}
	dst = append(dst, '/')
	return appendSmall(dst, p.Bits())
}

// appendSmall writes 0..999.
func appendSmall(dst []byte, n int) []byte {
	switch {
	case n >= 100:
		return append(dst, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	case n >= 10:
		return append(dst, byte('0'+n/10), byte('0'+n%10))
	}
	return append(dst, byte('0'+n))
}

// appendPrefix6 writes an IPv6 network of at most 64 bits. Its last four
// groups are zero, so RFC 5952's longest zero run is the trailing one
// (or all of it): write the groups up to the last non-zero one, then "::".
func appendPrefix6(dst []byte, a netip.Addr, bits int) []byte {
	const hexDigits = "0123456789abcdef"
	b := a.As16()
	last := -1
	for g := 0; g < 4; g++ {
		if b[2*g] != 0 || b[2*g+1] != 0 {
			last = g
		}
	}
	for g := 0; g <= last; g++ {
		if g > 0 {
			dst = append(dst, ':')
		}
		v := uint16(b[2*g])<<8 | uint16(b[2*g+1])
		started := false
		for shift := 12; shift >= 0; shift -= 4 {
			d := v >> shift & 0xf
			if d != 0 || started || shift == 0 {
				dst = append(dst, hexDigits[d])
				started = true
			}
		}
	}
	dst = append(dst, ':', ':', '/')
	return appendSmall(dst, bits)
}
