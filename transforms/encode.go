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
	if r.Country != "" {
		dst = append(dst, `,"country":`...)
		dst = appendJSONString(dst, r.Country)
	}
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
		if len(r.SearchTerms) > 0 && w.a.p.SearchTermsInEvents {
			dst = append(dst, `,"search_terms":`...)
			dst = appendJSONString(dst, r.SearchTerms)
		}
		if len(r.Proto) > 0 {
			dst = append(dst, `,"protocol":`...)
			dst = appendJSONString(dst, r.Proto)
		}
	}
	if r.Status > 0 { // 0: the format logs no status
		dst = append(dst, `,"status":`...)
		dst = append(dst, byte('0'+r.Status/100), byte('0'+r.Status/10%10), byte('0'+r.Status%10))
	}
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
	if r.Rung < RungBrowser {
		dst = append(dst, r.uaJSON...) // browser, browser_version, os, device: set by Anonymize
	} else {
		dst = appendUAJSON(dst, r.Browser, r.BrowserMajor, r.OS, r.Device) // generalised
	}
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
