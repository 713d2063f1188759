package transforms

import (
	"bytes"
	"strings"
)

// The message of an error-log line (errorlog.go), held to the rejects'
// default-deny rules with the servers' own words as vocabulary.

// appendErrorText scrubs error-message text: identifiers found across the
// whole text first (free text's scanner: numbers across separators, emails,
// addresses…) become placeholders; between them, a path (a word starting
// with '/') goes through the path scrubber with its query dropped, a URL is
// reduced to its site, a home directory's owner becomes {name}, and the
// rest is written as a rejected line's text with the message words of
// errorWords (and numbers of up to three digits: errno values, statuses)
// kept.
func (w *Worker) appendErrorText(dst, s []byte) []byte {
	opt := scanOpts{minDigits: 4, street: namesStreet(s)}
	for i := 0; i < len(s); {
		start, end, cls := nextIdentifier(s, i, opt)
		dst = w.appendErrorPlain(dst, s[i:start])
		if cls == ClassNone {
			break
		}
		dst = append(dst, cls.Placeholder()...)
		i = end
	}
	return dst
}

// appendErrorPlain is appendErrorText for text without identifiers.
func (w *Worker) appendErrorPlain(dst, s []byte) []byte {
	for len(s) > 0 {
		sp := bytes.IndexByte(s, ' ')
		tok := s
		if sp >= 0 {
			tok, s = s[:sp+1], s[sp+1:]
		} else {
			s = nil
		}
		// Leading and trailing punctuation stay as they are.
		i, j := 0, len(tok)
		for i < j && strings.IndexByte(`"'([{<`, tok[i]) >= 0 {
			i++
		}
		for j > i && strings.IndexByte(" \"')]}>,;:.!?", tok[j-1]) >= 0 {
			j--
		}
		core := tok[i:j]
		dst = append(dst, tok[:i]...)
		switch {
		case len(core) > 1 && core[0] == '/':
			dst = w.appendErrorPath(dst, core)
		case bytes.Contains(core, []byte("://")):
			scheme := bytes.Index(core, []byte("://"))
			end := scheme + 3
			for end < len(core) && core[end] != '/' && core[end] != '?' && core[end] != '#' {
				end++
			}
			info := reduceReferrer(core[:end], scheme)
			if end == scheme+3 {
				dst = appendRedactedShape(dst, core, w) // "http://" before an address
			} else if info.site == "" {
				dst = append(dst, ClassHost.Placeholder()...)
			} else {
				dst = append(dst, info.site...)
			}
			if end < len(core) {
				dst = append(dst, "/…"...)
			}
		default:
			dst = appendRedactedShape(dst, core, w)
		}
		dst = append(dst, tok[j:]...)
	}
	return dst
}

// appendErrorPath writes a file or URL path of a message: the owner of a
// home directory as {name}, the rest through the access-log path scrubber,
// a query as ?{query}.
func (w *Worker) appendErrorPath(dst, p []byte) []byte {
	var query bool
	if q := bytes.IndexByte(p, '?'); q >= 0 {
		p, query = p[:q], true
	}
	// "index.php:12": a line number.
	var line []byte
	if c := bytes.LastIndexByte(p, ':'); c > 0 && c < len(p)-1 && allDigits(p[c+1:]) {
		p, line = p[:c], p[c:]
	}
	// A system directory's own names are no one's ("/usr/share/" would
	// make the next name a shared secret's to the path scrubber).
	for _, sys := range []string{"/usr/share/", "/usr/local/", "/usr/lib/", "/var/www/", "/var/lib/", "/var/log/", "/etc/", "/srv/", "/opt/"} {
		if bytes.HasPrefix(p, []byte(sys)) {
			dst = append(dst, sys[:len(sys)-1]...)
			p = p[len(sys)-1:] // from its '/'
			break
		}
	}
	for _, home := range []string{"/home/", "/Users/", "/usr/home/"} {
		if rest, ok := bytes.CutPrefix(p, []byte(home)); ok && len(rest) > 0 {
			dst = append(dst, home...)
			dst = append(dst, ClassName.Placeholder()...)
			p = rest[bytes.IndexByte(append(rest[:len(rest):len(rest)], '/'), '/'):]
			break
		}
	}
	if len(p) > 0 {
		dst, w.Rec.tmp = appendScrubbedPath(dst, p, w.a.p.routes, w.a.p.SafeSegments, w.Rec.tmp, nil)
	}
	dst = append(dst, line...)
	if query {
		dst = append(dst, "?{query}"...)
	}
	return dst
}

// errorWords are the words Apache's and nginx's own messages are made of
// (and PHP's, which php-fpm and mod_php write through them). A message word
// outside this list is written {w}: it may be a user name, a file name or
// anything a client sent.
var errorWords = []string{
	"a", "about", "accept", "access", "accessing", "address", "after", "ah", "alert", "all", "allowed", "already",
	"an", "and", "any", "apache", "argument", "array", "as", "at", "attempt", "authentication", "authorization",
	"auth", "available", "bad", "be", "because", "before", "being", "body", "broken", "buffer", "buffered", "but",
	"by", "cache", "call", "called", "can", "cannot", "certificate", "cgi", "child", "client", "closed", "closing",
	"code", "command", "configured", "configuration", "connect", "connecting", "connection", "constant",
	"content", "could", "crit", "critical", "data", "debug", "declaration", "deny", "denied", "deprecated",
	"did", "directive", "directory", "disabled", "does", "domain", "done", "downstream", "during", "emerg",
	"empty", "enabled", "end", "error", "errors", "established", "exceeded", "exception", "exist", "exists",
	"expected", "expired", "failed", "failure", "fatal", "fcgi", "fastcgi", "file", "filename", "files",
	"finished", "for", "forbidden", "found", "from", "function", "gateway", "got", "handler", "handshake",
	"has", "have", "header", "headers", "host", "http", "https", "idle", "illegal", "in", "include", "index",
	"info", "initialized", "input", "integer", "interrupted", "invalid", "is", "it", "key", "large", "length",
	"level", "limit", "limiting", "line", "listing", "loaded", "location", "long", "malformed", "match",
	"maximum", "may", "memory", "method", "mismatch", "missing", "mod", "mode", "module", "more", "must", "name",
	"negotiation", "new", "no", "not", "notice", "null", "object", "of", "offset", "on", "only", "open", "opened",
	"options", "or", "out", "output", "overflow", "parse", "password", "path", "peer", "permission", "php",
	"pid", "prematurely", "premature", "primary", "process", "protocol", "proxy", "read", "reading", "ready",
	"reason", "received", "recv", "refused", "remote", "request", "requests", "reset", "resolve", "resource",
	"response", "result", "returned", "rewrite", "rule", "running", "script", "search", "send", "sending",
	"sent", "server", "session", "set", "shutdown", "signal", "size", "so", "socket", "ssl", "stack",
	"started", "starting", "status", "stderr", "stdout", "such", "support", "syntax", "system", "temporarily",
	"temporary", "terminated", "than", "that", "the", "this", "timed", "timeout", "tls", "to", "too", "trace",
	"type", "unable", "undefined", "unexpected", "unknown", "upstream", "uri", "url", "use", "used", "user",
	"using", "valid", "value", "variable", "version", "via", "warn", "warning", "was", "when", "while", "with",
	"without", "worker", "write", "writing", "wrong", "zone",
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "HTTP",
}

var errorWordSet = newWordSet(errorWords)

// appendRedactedShape writes s as a rejected line's text with errorWords
// kept.
func appendRedactedShape(dst, s []byte, w *Worker) []byte {
	dst, w.redactBuf = appendRedactedText(dst, s, w.redactBuf, errorWordSet)
	return dst
}
