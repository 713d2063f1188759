package transforms

import (
	"fmt"
	"strings"
)

// field is what one directive of a log format holds.
type field uint8

const (
	fIgnore field = iota
	fClient
	fIdent
	fUser
	fTimeBracketed // Apache %t: "[10/Oct/2000:13:55:36 -0700]"
	fTimeLocal     // nginx $time_local: same without brackets
	fTimeISO       // nginx $time_iso8601
	fTimeMsec      // nginx $msec, Apache %{msec_frac}t-less %{msec}t: "1700000000.123"
	fTimeSec       // Apache %{sec}t
	fRequest
	fMethod
	fURI   // path and query
	fPath  // path only
	fQuery // query string; Apache %q includes the "?"
	fProto
	fStatus
	fBytes
	fReferer
	fUserAgent
	fXFF
	fHost
	fRequestTimeSec // seconds with fraction: nginx $request_time, Apache %T
	fRequestTimeUS  // Apache %D
	fRequestTimeMS  // Apache %{ms}T
	fIsArgs         // nginx $is_args: "?" or nothing, only between $uri and $args
	fRequestTimeNS  // Traefik Duration: nanoseconds
	fDate           // W3C date: "2014-05-23" (UTC)
	fTimeOfDay      // W3C time: "01:13:11" (UTC, with the date)
	fTimeHAProxy    // HAProxy: "[25/Sep/2018:06:05:27.584]", the host's clock, taken as UTC
	fCacheStatus    // Squid: "TCP_MISS/200", the status after the slash
	fUserAgentW3C   // W3C cs(User-Agent): "+" for spaces, URL-encoded (CloudFront twice)
	fTimeAny        // JSON "ts": Unix seconds with a fraction, or RFC 3339
)

// segment is a literal run or a field of a compiled format.
type segment struct {
	lit    string // literal text when kind is a literal
	isLit  bool
	kind   field
	quoted bool   // field sits between double quotes: scan to the unescaped quote
	seek   bool   // literal: skip any text up to its last byte (compileFields' "~")
	name   string // directive as written, for error messages
}

// Format is a compiled log format. Built-in formats are Combined, Common and
// VhostCombined; NewFormat compiles Apache LogFormat or nginx log_format
// strings. A Format is immutable and safe for concurrent use.
type Format struct {
	Name string
	json bool
	segs []segment
	// trailing allows extra space-separated fields after the last directive
	// (request time and the like appended to Combined).
	trailing bool
	// sep separates trailing fields (a space, a tab for CloudFront).
	sep byte
	// syslog: the line may begin with a syslog prefix ("Sep 25 06:05:27
	// host haproxy[6801]: "), skipped up to its "]: ".
	syslog bool
}

const (
	combinedSpec      = `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`
	commonSpec        = `%h %l %u %t "%r" %>s %b`
	vhostCombinedSpec = `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
)

var (
	// Combined is the Apache/nginx combined format; extra trailing fields are allowed.
	Combined = mustFormat("combined", combinedSpec, true)
	// Common is the Common Log Format.
	Common = mustFormat("common", commonSpec, false)
	// VhostCombined is Apache's vhost_combined: "host:port " before Combined.
	VhostCombined = mustFormat("vhost_combined", vhostCombinedSpec, true)
	// JSONFormat is nginx `log_format ... escape=json`: one flat object per line.
	JSONFormat = &Format{Name: "json", json: true}
)

func mustFormat(name, spec string, trailing bool) *Format {
	f, err := compileApache(spec)
	if err != nil {
		panic("BUG: built-in format " + name + ": " + err.Error())
	}
	f.Name, f.trailing = name, trailing
	return f
}

func mustFields(name, spec string, sep byte, trailing bool) *Format {
	f, err := compileFields(spec, sep)
	if err != nil {
		panic("BUG: built-in format " + name + ": " + err.Error())
	}
	f.Name, f.trailing = name, trailing
	return f
}

// NewFormat returns the format called name (combined, common, vhost_combined,
// json), or compiles name as an Apache LogFormat string (it contains '%') or an
// nginx log_format string (it contains '$'). "auto" is not a Format: an
// Anonymizer without one tries JSON, Combined, vhost_combined and Common in
// turn (parseAuto).
func NewFormat(name string) (*Format, error) {
	switch name {
	case "combined":
		return Combined, nil
	case "common":
		return Common, nil
	case "vhost_combined":
		return VhostCombined, nil
	case "json", "caddy", "traefik_json":
		return JSONFormat, nil
	}
	if f := serverFormats[name]; f != nil {
		return f, nil
	}
	var f *Format
	var err error
	switch {
	case strings.HasPrefix(name, "w3c:"):
		f, err = compileW3C(strings.TrimPrefix(name, "w3c:"), ' ', false)
	case strings.HasPrefix(name, "w3c-tab:"):
		f, err = compileW3C(strings.TrimPrefix(name, "w3c-tab:"), '\t', true)
	case strings.Contains(name, "%"):
		f, err = compileApache(name)
	case strings.Contains(name, "$"):
		f, err = compileNginx(name)
	default:
		return nil, fmt.Errorf("unknown input format %q: want auto, one of %s, w3c:<#Fields: list>, w3c-tab:<#Fields: list>, an Apache LogFormat or an nginx log_format string", name, strings.Join(FormatNames(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot compile input format %q: %w", name, err)
	}
	f.Name = name
	return f, nil
}

// compileApache compiles an Apache LogFormat string. Both `"` and `\"` (as
// written inside httpd.conf) are accepted for quotes.
func compileApache(spec string) (*Format, error) {
	spec = strings.ReplaceAll(spec, `\"`, `"`)
	var b builder
	for i := 0; i < len(spec); {
		c := spec[i]
		if c != '%' {
			b.lit(c)
			i++
			continue
		}
		start := i
		i++
		if i < len(spec) && spec[i] == '%' {
			b.lit('%')
			i++
			continue
		}
		// Modifiers: status conditions ("400,501" or "!200"), "<" and ">".
		for i < len(spec) && (spec[i] == '<' || spec[i] == '>' || spec[i] == '!' || spec[i] == ',' || (spec[i] >= '0' && spec[i] <= '9')) {
			i++
		}
		arg := ""
		if i < len(spec) && spec[i] == '{' {
			end := strings.IndexByte(spec[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed %%{ at offset %d", start)
			}
			arg = spec[i+1 : i+end]
			i += end + 1
		}
		if i >= len(spec) {
			return nil, fmt.Errorf("directive at offset %d has no letter", start)
		}
		letter := spec[i]
		i++
		kind := apacheKind(letter, arg)
		if err := b.field(kind, spec[start:i]); err != nil {
			return nil, err
		}
	}
	return b.done()
}

func apacheKind(letter byte, arg string) field {
	switch letter {
	case 'h', 'a':
		return fClient
	case 'l':
		return fIdent
	case 'u':
		return fUser
	case 't':
		switch arg {
		case "":
			return fTimeBracketed
		case "sec":
			return fTimeSec
		case "msec":
			return fTimeMsec
		}
		return fIgnore
	case 'r':
		return fRequest
	case 'm':
		return fMethod
	case 'U':
		return fPath
	case 'q':
		return fQuery
	case 'H':
		return fProto
	case 's':
		return fStatus
	case 'b', 'B', 'O':
		return fBytes
	case 'v', 'V':
		return fHost
	case 'D':
		return fRequestTimeUS
	case 'T':
		switch arg {
		case "ms":
			return fRequestTimeMS
		case "us":
			return fRequestTimeUS
		}
		return fRequestTimeSec
	case 'i':
		return headerKind(arg)
	}
	return fIgnore
}

func headerKind(h string) field {
	// EqualFold, not ToLower: Caddy's JSON log names every header of every
	// request, and this runs per key without allocating.
	switch {
	case strings.EqualFold(h, "referer"), strings.EqualFold(h, "referrer"):
		return fReferer
	case strings.EqualFold(h, "user-agent"):
		return fUserAgent
	case strings.EqualFold(h, "x-forwarded-for"):
		return fXFF
	case strings.EqualFold(h, "host"):
		return fHost
	}
	return fIgnore
}

// nginxKind maps an nginx variable name, also used as a JSON key, to a field.
func nginxKind(name string) field {
	switch name {
	case "remote_addr", "realip_remote_addr", "binary_remote_addr_text", "client_ip", "client_addr":
		return fClient
	case "remote_user":
		return fUser
	case "time_local":
		return fTimeLocal
	case "time_iso8601", "timestamp", "time":
		return fTimeISO
	case "msec":
		return fTimeMsec
	case "request":
		return fRequest
	case "request_method", "method":
		return fMethod
	case "request_uri":
		return fURI
	case "uri", "document_uri":
		return fPath
	case "args", "query_string":
		return fQuery
	case "server_protocol":
		return fProto
	case "status":
		return fStatus
	case "body_bytes_sent", "bytes_sent":
		return fBytes
	case "http_referer", "http_referrer":
		return fReferer
	case "http_user_agent":
		return fUserAgent
	case "http_x_forwarded_for":
		return fXFF
	case "host", "http_host", "server_name":
		return fHost
	case "request_time":
		return fRequestTimeSec
	case "is_args":
		return fIsArgs
	}
	return fIgnore
}

// compileNginx compiles an nginx log_format string.
func compileNginx(spec string) (*Format, error) {
	var b builder
	for i := 0; i < len(spec); {
		c := spec[i]
		if c != '$' {
			b.lit(c)
			i++
			continue
		}
		start := i
		i++
		braced := i < len(spec) && spec[i] == '{'
		if braced {
			i++
		}
		j := i
		for j < len(spec) && (spec[j] == '_' || spec[j] >= 'a' && spec[j] <= 'z' || spec[j] >= 'A' && spec[j] <= 'Z' || spec[j] >= '0' && spec[j] <= '9') {
			j++
		}
		name := spec[i:j]
		if name == "" {
			return nil, fmt.Errorf("empty variable name at offset %d", start)
		}
		if braced {
			if j >= len(spec) || spec[j] != '}' {
				return nil, fmt.Errorf("unclosed ${ at offset %d", start)
			}
			j++
		}
		i = j
		if err := b.field(nginxKind(name), spec[start:i]); err != nil {
			return nil, err
		}
	}
	return b.done()
}

type builder struct {
	segs []segment
	lits []byte
}

func (b *builder) lit(c byte) { b.lits = append(b.lits, c) }

func (b *builder) flushLit() {
	if len(b.lits) > 0 {
		b.segs = append(b.segs, segment{isLit: true, lit: string(b.lits)})
		b.lits = b.lits[:0]
	}
}

func (b *builder) field(kind field, name string) error {
	b.flushLit()
	if n := len(b.segs); n > 0 && !b.segs[n-1].isLit {
		// Path and query written back to back (%U%q, $uri$is_args$args) are
		// one request target.
		prev := &b.segs[n-1]
		switch {
		case prev.kind == fPath && kind == fIsArgs:
			prev.name += name
			return nil
		case prev.kind == fPath && kind == fQuery:
			prev.kind, prev.name = fURI, prev.name+name
			return nil
		}
		return fmt.Errorf("directives %s and %s have no separator between them", b.segs[n-1].name, name)
	}
	b.segs = append(b.segs, segment{kind: kind, name: name})
	return nil
}

func (b *builder) done() (*Format, error) {
	b.flushLit()
	hasField := false
	for i := range b.segs {
		s := &b.segs[i]
		if s.isLit {
			continue
		}
		hasField = true
		s.quoted = i > 0 && strings.HasSuffix(b.segs[i-1].lit, `"`) &&
			i+1 < len(b.segs) && strings.HasPrefix(b.segs[i+1].lit, `"`)
	}
	if !hasField {
		return nil, fmt.Errorf("format has no directives")
	}
	for _, s := range b.segs {
		if !s.isLit && s.kind == fIsArgs {
			return nil, fmt.Errorf("%s is only understood between $uri and $args", s.name)
		}
	}
	return &Format{segs: b.segs, sep: ' '}, nil
}
