package transforms

import (
	"bytes"
	"errors"
)

// Error logs. Apache 2.4's default ErrorLogFormat and nginx's error_log
// write lines such as
//
//	[Sat Nov 28 10:12:31.123456 2026] [core:error] [pid 1234:tid 5678] [client 203.0.113.9:51234] AH00126: Invalid URI in request GET /x HTTP/1.1, referer: https://example.com/p
//	2026/11/28 10:12:31 [error] 1234#1234: *5678 open() "/srv/www/x.png" failed (2: No such file or directory), client: 203.0.113.9, server: example.com, request: "GET /x.png HTTP/1.1", host: "example.com", referrer: "https://example.com/p"
//
// They are anonymized line for line: the client address truncated (and
// looked up, as in access logs), the request and the Host scrubbed like an
// access log's, the referrer reduced to its site, and the message held to
// the rejects' default-deny rules (redact.go) with the servers' own message
// words as vocabulary: paths go through the path scrubber, URLs are reduced
// to their site, identifiers become typed placeholders and every other word
// {w}, every other number of four digits or more {n}.

// ErrErrorLog is what Process returns for an error-log line: the line was
// parsed and anonymized into the worker's Err and Rec, to be written with
// AppendErrorLine or AppendErrorJSON by callers that write error logs, and
// rejected (with this reason) by those that only take accesses.
var ErrErrorLog = errors.New("error-log line")

// Error-log servers, as Config.InputFormat names them.
const (
	FormatApacheError = "apache-error"
	FormatNginxError  = "nginx-error"
)

// ErrorLine is what an anonymized error-log line keeps besides what it
// shares with an access (client network, country, request, Host, referrer:
// in Worker.Rec).
type ErrorLine struct {
	Server  string // "apache" or "nginx"
	Time    []byte // as the server wrote it (local time, no zone)
	Level   []byte // error, warn, notice, crit…
	Module  []byte // Apache's module (core, ssl, proxy_fcgi…); empty for nginx
	Process []byte // "pid 1234:tid 5678" (Apache) or "1234#1234: *5678" (nginx)
	Code    []byte // Apache's message code, AH00126
	Message []byte // scrubbed
	// Extra is nginx's other "key: value" pairs (upstream, subrequest…),
	// scrubbed like the message, each with its ", key: " in front.
	Extra []byte
	// HasRequest and friends say which of Rec's fields the line had.
	HasClient, HasRequest, HasHost, HasReferrer bool
	// HasServer: nginx's "server:" (kept in Rec.Host when there is no
	// "host:"); ServerName is the scrubbed value.
	ServerName []byte
}

// isApacheError reports the start of an Apache 2.x error-log line:
// "[Www Mmm ".
func isApacheError(line []byte) bool {
	return len(line) > 9 && line[0] == '[' && isUpper(line[1]) && isLowerASCII(line[2]) && isLowerASCII(line[3]) &&
		line[4] == ' ' && isUpper(line[5]) && isLowerASCII(line[6]) && isLowerASCII(line[7]) && line[8] == ' '
}

// isNginxError reports the start of an nginx error-log line:
// "yyyy/mm/dd hh:mm:ss [".
func isNginxError(line []byte) bool {
	if len(line) < 21 || line[4] != '/' || line[7] != '/' || line[10] != ' ' || line[13] != ':' || line[16] != ':' ||
		line[19] != ' ' || line[20] != '[' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(line[i]) {
			return false
		}
	}
	return true
}

// processError parses and anonymizes an error-log line of the given server
// into w.Err and w.Rec. It returns ErrErrorLog, or a parse error.
func (w *Worker) processError(line []byte, server string) error {
	raw := &w.raw
	raw.reset()
	e := &w.Err
	*e = ErrorLine{Server: server}
	w.errBuf = w.errBuf[:0]
	var msg []byte
	var ok bool
	if server == "apache" {
		msg, ok = w.parseApacheError(line)
	} else {
		msg, ok = w.parseNginxError(line)
	}
	if !ok {
		return ErrLiteral
	}
	// The access-log scrubbing of what the two share.
	raw.Time = 0
	r := &w.Rec
	w.Anonymize(raw, r)
	r.Pseudonym = nil // no visitor: an error line is not a page view
	start := len(w.errBuf)
	w.errBuf = w.appendErrorText(w.errBuf, msg)
	e.Message = w.errBuf[start:len(w.errBuf):len(w.errBuf)]
	return ErrErrorLog
}

// parseApacheError splits an Apache line into e and r and returns the
// message (with its code taken off).
func (w *Worker) parseApacheError(line []byte) ([]byte, bool) {
	e, r := &w.Err, &w.raw
	rest := line
	bracket := func() ([]byte, bool) {
		if len(rest) == 0 || rest[0] != '[' {
			return nil, false
		}
		j := bytes.IndexByte(rest, ']')
		if j < 0 {
			return nil, false
		}
		v := rest[1:j]
		rest = bytes.TrimLeft(rest[j+1:], " ")
		return v, true
	}
	var ok bool
	if e.Time, ok = bracket(); !ok || !timeText(e.Time) {
		return nil, false
	}
	lv, ok := bracket()
	if !ok {
		return nil, false
	}
	if i := bytes.IndexByte(lv, ':'); i >= 0 {
		e.Module, e.Level = lv[:i], lv[i+1:]
	} else {
		e.Level = lv
	}
	if !plainWord(e.Level) || !plainWord(e.Module) {
		return nil, false
	}
	for len(rest) > 0 && rest[0] == '[' {
		j := bytes.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		v := rest[1:j]
		switch {
		case bytes.HasPrefix(v, []byte("pid ")) && len(v) < 48 && digitsAndSeparators(v[4:]):
			e.Process = v
		case bytes.HasPrefix(v, []byte("client ")), bytes.HasPrefix(v, []byte("remote ")):
			// Apache writes the client as address:port, IPv6 unbracketed.
			r.Client = stripPort(v[7:])
			e.HasClient = true
		default:
			return w.apacheMessage(rest), true // a bracket of the message
		}
		rest = bytes.TrimLeft(rest[j+1:], " ")
	}
	return w.apacheMessage(rest), true
}

// apacheMessage takes the code and the trailing ", referer: …" off an
// Apache message.
func (w *Worker) apacheMessage(msg []byte) []byte {
	e, r := &w.Err, &w.raw
	if len(msg) > 8 && msg[0] == 'A' && msg[1] == 'H' && allDigits(msg[2:7]) && msg[7] == ':' {
		e.Code, msg = msg[:7], bytes.TrimLeft(msg[8:], " ")
	}
	if i := bytes.LastIndex(msg, []byte(", referer: ")); i >= 0 {
		r.Referer, msg = msg[i+len(", referer: "):], msg[:i]
		e.HasReferrer = true
	}
	return msg
}

// stripPort takes the port off "address:port" when the address alone is
// one (Apache always writes the port, and IPv6 without brackets).
func stripPort(v []byte) []byte {
	if i := bytes.LastIndexByte(v, ':'); i > 0 && allDigits(v[i+1:]) && len(v)-i <= 6 {
		if _, ok := parseClientAddr(v[:i]); ok {
			return v[:i]
		}
	}
	return v
}

// nginxKeys are the context nginx appends to an error message, in order.
var nginxKeys = [][]byte{[]byte(", client: "), []byte(", server: "), []byte(", request: "), []byte(", subrequest: "),
	[]byte(", upstream: "), []byte(", host: "), []byte(", referrer: ")}

// parseNginxError splits an nginx line into e and r and returns the
// message.
func (w *Worker) parseNginxError(line []byte) ([]byte, bool) {
	e, r := &w.Err, &w.raw
	e.Time = line[:19]
	rest := line[20:]
	j := bytes.IndexByte(rest, ']')
	if j < 0 || !plainWord(rest[1:j]) {
		return nil, false
	}
	e.Level, rest = rest[1:j], bytes.TrimLeft(rest[j+1:], " ")
	// "1234#1234: *5678 " (the connection number is optional).
	k := 0
	for k < len(rest) && (isDigit(rest[k]) || rest[k] == '#') {
		k++
	}
	if k > 0 && k+1 < len(rest) && rest[k] == ':' && rest[k+1] == ' ' {
		end := k + 2
		if end < len(rest) && rest[end] == '*' {
			m := end + 1
			for m < len(rest) && isDigit(rest[m]) {
				m++
			}
			if m > end+1 {
				end = m
			}
		}
		e.Process, rest = rest[:end], bytes.TrimLeft(rest[end:], " ")
		e.Process = bytes.TrimSuffix(e.Process, []byte(" "))
	}
	// The context starts at the first ", client: " (nginx writes it first);
	// without a client there is only the message.
	ci := bytes.Index(rest, nginxKeys[0])
	if ci < 0 {
		return rest, true
	}
	msg, ctx := rest[:ci], rest[ci:]
	for len(ctx) > 0 {
		key := -1
		for i, k := range nginxKeys {
			if bytes.HasPrefix(ctx, k) {
				key = i
				break
			}
		}
		if key < 0 {
			// Not a key nginx writes: the rest is judged as message text.
			start := len(w.errBuf)
			w.errBuf = w.appendErrorText(w.errBuf, ctx)
			e.Extra = w.errBuf[start:len(w.errBuf):len(w.errBuf)]
			break
		}
		ctx = ctx[len(nginxKeys[key]):]
		// A value runs to the next known key (quoted values to their quote).
		end := len(ctx)
		if len(ctx) > 0 && ctx[0] == '"' {
			if q := scanQuoted(ctx, 1); q > 0 {
				end = q + 1
			}
		} else {
			for i := range ctx {
				if ctx[i] == ',' && nextNginxKey(ctx[i:]) {
					end = i
					break
				}
			}
		}
		v := ctx[:end]
		ctx = ctx[end:]
		unq := bytes.Trim(v, `"`)
		switch key {
		case 0:
			r.Client, e.HasClient = unq, true
		case 1:
			start := len(w.errBuf)
			w.errBuf = append(w.errBuf, w.hosts.reduce(unq)...)
			e.ServerName = w.errBuf[start:len(w.errBuf):len(w.errBuf)]
		case 2, 3:
			if key == 2 {
				r.setRequest(unq)
				e.HasRequest = !r.BadRequest
			}
		case 4:
			start := len(w.errBuf)
			w.errBuf = append(w.errBuf, ", upstream: \""...)
			w.errBuf = w.appendErrorText(w.errBuf, unq)
			w.errBuf = append(w.errBuf, '"')
			e.Extra = append(w.errBuf[start:len(w.errBuf):len(w.errBuf)], e.Extra...)
		case 5:
			r.Host, e.HasHost = unq, true
		case 6:
			r.Referer, e.HasReferrer = unq, true
		}
	}
	return msg, true
}

func nextNginxKey(s []byte) bool {
	for _, k := range nginxKeys {
		if bytes.HasPrefix(s, k) {
			return true
		}
	}
	return false
}

// plainWord: letters, digits, '_' and '-' only (a level or a module name).
func plainWord(s []byte) bool {
	if len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// timeText: what a server's own timestamp is made of.
func timeText(s []byte) bool {
	if len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !isAlnum(c) && c != ' ' && c != ':' && c != '.' && c != '/' && c != '-' {
			return false
		}
	}
	return true
}

func digitsAndSeparators(s []byte) bool {
	for _, c := range s {
		if !isDigit(c) && c != ':' && c != ' ' && c != 't' && c != 'i' && c != 'd' {
			return false
		}
	}
	return true
}
