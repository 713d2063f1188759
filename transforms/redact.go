package transforms

import "bytes"

// A rejected line is set aside so that an operator can see why the parser
// refused it, never what it said: it keeps its shape and nothing else.
// Delimiters, spaces, quotes and brackets stay; an identifier the classifier
// recognises becomes its typed placeholder ({ip}, {email}, {token}, ...);
// every other run of letters becomes {w} and every run of digits {n}, unless
// it is a fixed vocabulary word of the log formats (an HTTP method, HTTP/1.1,
// a month abbreviation, an nginx variable name as a JSON key, "-") or a
// three-digit status right after the quoted request.
//
//	203.0.113.9 - jdoe [10/Oct/2000:13:55:36 -0700] "GET /u/jdoe?p=1 HTTP/1.1" 200 512
//	{ip} - {w} [{n}/Oct/{n}:{n}:{n}:{n} -{n}] "GET /{w}/{w}?{w}={n} HTTP/1.1" 200 {n}

// shapeWords are kept verbatim in rejected lines: they say which format a
// line was in and can identify no one.
var shapeWords = []string{
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PROPFIND", "PROPPATCH",
	"MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PRI", "HTTP", "http", "https",
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	"remote_addr", "realip_remote_addr", "client_ip", "client_addr", "remote_user", "time_local",
	"time_iso8601", "timestamp", "time", "msec", "request", "request_method", "method", "request_uri", "uri",
	"document_uri", "args", "query_string", "server_protocol", "status", "body_bytes_sent", "bytes_sent",
	"http_referer", "http_referrer", "http_user_agent", "http_x_forwarded_for", "host", "http_host",
	"server_name", "request_time", "is_args", "upstream_response_time", "null", "true", "false",
}

// AppendRedactedLine is the package form of Worker.AppendRedactedLine, for
// callers without a worker.
func AppendRedactedLine(dst, line []byte) []byte {
	dst, _ = appendRedactedLine(dst, line, nil)
	return dst
}

// AppendRedactedLine writes the shape of a rejected line (see above), with
// the worker's scratch buffer so that rejecting a line does not allocate.
// The line is percent-decoded twice first, so encoded identifiers are
// judged as what they decode to. Control bytes become spaces, so a rejects
// file keeps one line per input line.
func (w *Worker) AppendRedactedLine(dst, line []byte) []byte {
	dst, w.redactBuf = appendRedactedLine(dst, line, w.redactBuf)
	return dst
}

func appendRedactedLine(dst, line, buf []byte) ([]byte, []byte) {
	return appendRedactedText(dst, line, buf, nil)
}

// appendRedactedText is appendRedactedLine with vocab's words kept too.
func appendRedactedText(dst, line, buf []byte, vocab *wordSet) ([]byte, []byte) {
	s := line
	if hasPercent(s) {
		buf = appendFullyDecoded(buf[:0], s, false)
		s = buf
	}
	for i := 0; i < len(s); {
		c := s[i]
		if isWordByte(c) && (i == 0 || !isWordByte(s[i-1])) {
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if cls := classifyWord(s[i:j]); cls != ClassNone {
				dst = append(dst, cls.Placeholder()...)
				i = j
				continue
			}
		}
		switch {
		case isAlnum(c) || c >= 0x80 || c == '_':
			j := i
			for j < len(s) && (isAlnum(s[j]) || s[j] >= 0x80 || s[j] == '_') {
				j++
			}
			dst = appendShapeRun(dst, s, i, j, vocab)
			i = j
		case c < 0x20 || c == 0x7f:
			dst = append(dst, ' ')
			i++
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, buf
}

// appendShapeRun writes the alphanumeric run s[i:j]: a vocabulary word, a
// status code or the version of "HTTP/1.1" as it is; otherwise each run of
// letters as {w} and each run of digits as {n}.
func appendShapeRun(dst, s []byte, i, j int, vocab *wordSet) []byte {
	run := s[i:j]
	if nameIn(run, shapeWords) || vocab != nil && (vocab.has(run) || allDigits(run) && len(run) <= 3) {
		return append(dst, run...)
	}
	if allDigits(run) {
		// A status after the request's closing quote.
		if len(run) == 3 && run[0] >= '1' && run[0] <= '5' && i >= 2 && s[i-2] == '"' && s[i-1] == ' ' {
			return append(dst, run...)
		}
		// The version in HTTP/1.1, HTTP/2.0, HTTP/2.
		// (As written: an "HTTP" that was part of an identifier is gone.)
		if len(run) == 1 && httpAt(s, i-5) && bytes.HasSuffix(dst, []byte("HTTP/")) ||
			len(run) == 1 && i >= 2 && s[i-1] == '.' && isDigit(s[i-2]) && httpAt(s, i-7) && httpVersionEnd(dst) {
			return append(dst, run...)
		}
	}
	for k := 0; k < len(run); {
		m := k
		digits := isDigit(run[k])
		for m < len(run) && isDigit(run[m]) == digits {
			m++
		}
		if digits {
			dst = append(dst, "{n}"...)
		} else {
			dst = append(dst, "{w}"...)
		}
		k = m
	}
	return dst
}

// httpVersionEnd reports dst ending in "HTTP/<digit>." as written.
func httpVersionEnd(dst []byte) bool {
	n := len(dst)
	return n >= 7 && string(dst[n-7:n-2]) == "HTTP/" && isDigit(dst[n-2]) && dst[n-1] == '.'
}

// httpAt reports a standalone "HTTP/" at s[i:].
func httpAt(s []byte, i int) bool {
	return i >= 0 && i+5 <= len(s) && string(s[i:i+5]) == "HTTP/" && (i == 0 || !isAlnum(s[i-1]) && s[i-1] != '_' && s[i-1] < 0x80)
}

// appendPercentDecoded decodes %XX escapes (and '+' as space when plus).
// Invalid escapes are copied as they are.
func appendPercentDecoded(dst, s []byte, plus bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendFullyDecoded percent-decodes s twice (in place the second time, as
// decoding never grows), so double-encoded identifiers are seen too.
func appendFullyDecoded(dst, s []byte, plus bool) []byte {
	start := len(dst)
	dst = appendPercentDecoded(dst, s, plus)
	if hasPercent(dst[start:]) {
		dec := appendPercentDecoded(dst[start:start], dst[start:], false)
		dst = dst[:start+len(dec)]
	}
	return dst
}

func hasPercent(s []byte) bool {
	for _, c := range s {
		if c == '%' {
			return true
		}
	}
	return false
}
