package transforms

import (
	"unicode/utf8"
	"unsafe"
)

// parseJSON reads one JSON object per line: nginx `escape=json` (keys are
// nginx variable names, see nginxKind), Matomo's documented nginx keys,
// Traefik's JSON access log and Caddy's (whose request and its headers are
// nested objects; jsonKind). Unknown keys and other nested values are
// skipped. No reflection, no allocation.
func parseJSON(line []byte, r *Raw) error {
	i := skipWS(line, 0)
	i, err := parseJSONObject(line, i, r, jsonTop)
	if err != nil {
		return err
	}
	if skipWS(line, i) != len(line) {
		return ErrJSON
	}
	return nil
}

// Where an object sits: its keys mean different things.
const (
	jsonTop     = iota
	jsonRequest // Caddy's "request"
	jsonHeaders // Caddy's "request"."headers": arrays of strings
)

// parseJSONObject reads the object at line[i] and returns the index after it.
func parseJSONObject(line []byte, i int, r *Raw, ctx int) (int, error) {
	if i >= len(line) || line[i] != '{' {
		return 0, ErrJSON
	}
	i++
	for first := true; ; first = false {
		i = skipWS(line, i)
		if i >= len(line) {
			return 0, ErrJSON
		}
		if line[i] == '}' {
			return i + 1, nil
		}
		if !first {
			if line[i] != ',' {
				return 0, ErrJSON
			}
			i = skipWS(line, i+1)
		}
		key, next, ok := r.jsonString(line, i)
		if !ok {
			return 0, ErrJSON
		}
		i = skipWS(line, next)
		if i >= len(line) || line[i] != ':' {
			return 0, ErrJSON
		}
		i = skipWS(line, i+1)
		if i >= len(line) {
			return 0, ErrJSON
		}
		name := unsafe.String(unsafe.SliceData(key), len(key))
		var val []byte
		switch c := line[i]; {
		case c == '"':
			val, i, ok = r.jsonString(line, i)
		case c == '{' && (ctx == jsonTop && name == "request" || ctx == jsonRequest && name == "headers"):
			var err error
			if i, err = parseJSONObject(line, i, r, ctx+1); err != nil {
				return 0, err
			}
			continue
		case c == '[' && ctx == jsonHeaders:
			// A header's values: the first is the one.
			j := skipWS(line, i+1)
			if j < len(line) && line[j] == '"' {
				if val, _, ok = r.jsonString(line, j); !ok {
					return 0, ErrJSON
				}
			}
			if i, ok = skipJSONValue(line, i); !ok {
				return 0, ErrJSON
			}
		case c == '{' || c == '[':
			i, ok = skipJSONValue(line, i)
			if ok {
				continue // nested values carry nothing logveil reads
			}
		default:
			start := i
			for i < len(line) && line[i] != ',' && line[i] != '}' && line[i] != ' ' && line[i] != '\t' {
				i++
			}
			val = line[start:i]
			ok = len(val) > 0
			if string(val) == "null" {
				val = nil
			}
		}
		if !ok {
			return 0, ErrJSON
		}
		kind := jsonKind(name, ctx)
		if r.Time != 0 && (kind == fTimeISO || kind == fTimeLocal || kind == fTimeMsec || kind == fTimeAny) {
			// The first time key wins: Traefik writes StartUTC, then a
			// "time" without a zone.
			continue
		}
		if err := r.set(kind, val); err != nil {
			return 0, err
		}
	}
}

// jsonKind maps a JSON key to a field: in Caddy's request and headers
// objects, else Traefik's and Matomo's keys, else nginx variable names.
func jsonKind(name string, ctx int) field {
	switch ctx {
	case jsonRequest:
		switch name {
		case "remote_ip", "client_ip": // client_ip: after trusted proxies, written later
			return fClient
		case "proto":
			return fProto
		case "method":
			return fMethod
		case "host":
			return fHost
		case "uri":
			return fURI
		}
		return fIgnore
	case jsonHeaders:
		return headerKind(name)
	}
	switch name {
	// Traefik
	case "ClientHost":
		return fClient
	case "RequestMethod":
		return fMethod
	case "RequestPath":
		return fURI
	case "RequestProtocol":
		return fProto
	case "RequestHost":
		return fHost
	case "DownstreamStatus":
		return fStatus
	case "DownstreamContentSize":
		return fBytes
	case "Duration":
		return fRequestTimeNS
	case "StartUTC":
		return fTimeISO
	case "request_User-Agent":
		return fUserAgent
	case "request_Referer":
		return fReferer
	// Matomo's nginx log_format
	case "ip":
		return fClient
	case "path":
		return fURI
	case "referrer":
		return fReferer
	case "user_agent":
		return fUserAgent
	case "length":
		return fBytes
	case "generation_time_milli":
		return fRequestTimeMS
	case "date":
		return fTimeISO
	// Caddy
	case "ts":
		return fTimeAny
	case "duration":
		return fRequestTimeSec
	case "size":
		return fBytes
	}
	kind := nginxKind(name)
	if kind == fTimeBracketed {
		kind = fTimeLocal
	}
	return kind
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// jsonString reads the string starting at line[i] == '"'. It returns the
// decoded value (aliasing line when it has no escapes) and the index after
// the closing quote.
func (r *Raw) jsonString(line []byte, i int) ([]byte, int, bool) {
	if i >= len(line) || line[i] != '"' {
		return nil, 0, false
	}
	start := i + 1
	escaped := false
	for j := start; j < len(line); j++ {
		switch line[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return line[start:j], j + 1, true
			}
			v, ok := r.jsonUnescape(line[start:j])
			return v, j + 1, ok
		}
	}
	return nil, 0, false
}

func (r *Raw) jsonUnescape(v []byte) ([]byte, bool) {
	start := len(r.unesc)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			r.unesc = append(r.unesc, c)
			continue
		}
		i++
		if i >= len(v) {
			return nil, false
		}
		switch v[i] {
		case '"', '\\', '/':
			r.unesc = append(r.unesc, v[i])
		case 'b':
			r.unesc = append(r.unesc, '\b')
		case 'f':
			r.unesc = append(r.unesc, '\f')
		case 'n':
			r.unesc = append(r.unesc, '\n')
		case 'r':
			r.unesc = append(r.unesc, '\r')
		case 't':
			r.unesc = append(r.unesc, '\t')
		case 'u':
			cp, ok := hex4(v, i+1)
			if !ok {
				return nil, false
			}
			i += 4
			if cp >= 0xD800 && cp < 0xDC00 && i+6 < len(v) && v[i+1] == '\\' && v[i+2] == 'u' {
				if lo, ok := hex4(v, i+3); ok && lo >= 0xDC00 && lo < 0xE000 {
					cp = 0x10000 + (cp-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			}
			r.unesc = utf8.AppendRune(r.unesc, rune(cp))
		default:
			return nil, false
		}
	}
	return r.unesc[start:len(r.unesc):len(r.unesc)], true
}

func hex4(v []byte, i int) (int, bool) {
	if i+4 > len(v) {
		return 0, false
	}
	n := 0
	for _, c := range v[i : i+4] {
		if !isHex(c) {
			return 0, false
		}
		n = n<<4 | int(unhex(c))
	}
	return n, true
}

// skipJSONValue skips a nested object or array starting at line[i].
func skipJSONValue(line []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(line); i++ {
		switch line[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case '"':
			end := i + 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(line) {
				return 0, false
			}
			i = end
		}
	}
	return 0, false
}
