package transforms

import (
	"bytes"
	"strings"
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

// appendScrubbedPath writes path with identifying segments replaced by
// placeholders ({id}, {token}, {email}, {ip}) and matrix parameters
// (";jsessionid=...") dropped. A matching route template wins. tmp is
// scratch for percent-decoding and is returned for reuse.
func appendScrubbedPath(dst, path []byte, routes []route, tmp []byte) ([]byte, []byte) {
	for i := range routes {
		if routes[i].match(path) {
			return append(dst, routes[i].text...), tmp
		}
	}
	if len(path) == 0 {
		return append(dst, '/'), tmp
	}
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
		if plainSegment(seg) {
			dst = append(dst, seg...)
			i = j
			continue
		}
		if k := bytes.IndexByte(seg, ';'); k >= 0 {
			seg = seg[:k]
		}
		dec := seg
		if hasPercent(seg) {
			tmp = appendFullyDecoded(tmp[:0], seg, false)
			dec = tmp
		}
		ph, ext := classifySegment(dec)
		if ph == "" && hasPercent(seg) {
			// What is written is the raw segment: "%10.0.0.100" decodes to no
			// address but reads as one. Judge both forms.
			ph, ext = classifySegment(seg)
		}
		if ph != "" {
			dst = append(dst, ph...)
			dst = append(dst, ext...)
		} else {
			dst = append(dst, seg...)
		}
		i = j
	}
	return dst, tmp
}

// classifySegment returns the placeholder for a path segment that is an id,
// or "". A file extension is ignored when judging the name before it, and
// returned to be kept after the placeholder.
func classifySegment(s []byte) (string, []byte) {
	if ph := classifyWord(s, false); ph != "" {
		if ph == phToken && isUUID(s) {
			return phID, nil
		}
		return ph, nil
	}
	base, ext := s, extension(s)
	if ext != nil {
		base = s[:len(s)-len(ext)]
	}
	if len(base) == 0 {
		return "", nil
	}
	if len(base) == 36 && isUUID(base) {
		return phID, ext
	}
	digits, run, maxRun := 0, 0, 0
	for _, c := range base {
		if c >= '0' && c <= '9' {
			digits++
			run++
			maxRun = max(maxRun, run)
		} else {
			run = 0
		}
	}
	if digits == len(base) || maxRun >= 6 {
		return phID, ext
	}
	if len(base) >= 16 && isOpaqueToken(base) {
		return phToken, ext
	}
	// A segment with non-word bytes ("unsub:john@x.com!") is judged word by
	// word too.
	for _, c := range s {
		if !isWordByte(c) {
			return firstPlaceholder(s), nil
		}
	}
	return "", nil
}

// extension returns ".ext" when s ends in a short alphanumeric extension.
func extension(s []byte) []byte {
	dot := bytes.LastIndexByte(s, '.')
	if dot <= 0 || len(s)-dot-1 < 1 || len(s)-dot-1 > 5 {
		return nil
	}
	for _, c := range s[dot+1:] {
		if !isAlnum(c) {
			return nil
		}
	}
	return s[dot:]
}

// plainSegment is the fast path: a segment that no rule can match. Ids,
// numbers and addresses need digits, emails '@', IPv6 ':', escapes '%',
// matrix parameters ';', long base64 tokens an upper-case letter or digit,
// and long hex tokens only hex letters.
func plainSegment(s []byte) bool {
	nonHex := false
	for _, c := range s {
		switch {
		case c >= 'g' && c <= 'z':
			nonHex = true
		case c >= 'a' && c <= 'f', c == '-', c == '_', c == '.', c == '~':
		default:
			return false
		}
	}
	return len(s) < 16 || nonHex
}
