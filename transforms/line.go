package transforms

import "strconv"

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
	case fDate, fTimeOfDay:
		start := len(dst)
		dst = appendRFC3339(dst, r.Time) // 2006-01-02T15:04:05Z
		if kind == fDate {
			return dst[:start+10]
		}
		n := copy(dst[start:], dst[start+11:start+19])
		return dst[:start+n]
	case fTimeHAProxy:
		dst = append(dst, '[')
		dst = appendCLFTime(dst, r.Time, 0)
		return append(dst[:len(dst)-6], ".000]"...)
	case fCacheStatus:
		dst = append(dst, "NONE/"...)
		if r.Status == 0 {
			return append(dst, "000"...)
		}
		return strconv.AppendInt(dst, int64(r.Status), 10)
	case fUserAgentW3C:
		start := len(dst)
		dst = appendUASummary(dst, r)
		for i := start; i < len(dst); i++ {
			if dst[i] == ' ' {
				dst[i] = '+'
			}
		}
		return dst
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
		if r.Status == 0 {
			return append(dst, '-') // the format logs no status
		}
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
	if r.Status > 0 {
		dst = append(dst, byte('0'+r.Status/100), byte('0'+r.Status/10%10), byte('0'+r.Status%10))
	} else {
		dst = append(dst, "null"...) // the format logs no status
	}
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
