package transforms

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// The access-log formats of CDNs, load balancers, object stores, proxies
// and servers other than Apache and nginx, by name (--input-format), and
// how auto mode tells them from the shape of a line. Each is a field list
// compiled into the same segments as an Apache LogFormat, so one parser
// (parseText) reads them all and AppendLine rewrites them.
//
// The field lists come from each vendor's documentation; the tests read
// lines of Matomo log-analytics' test logs (testdata/peers) with them.

// fieldKinds are the field names of compileFields' lists.
var fieldKinds = map[string]field{
	"skip": fIgnore, "client": fClient, "ident": fIdent, "user": fUser,
	"time": fTimeBracketed, "time_iso": fTimeISO, "time_msec": fTimeMsec, "time_haproxy": fTimeHAProxy,
	"date": fDate, "time_of_day": fTimeOfDay,
	"request": fRequest, "method": fMethod, "uri": fURI, "path": fPath, "query": fQuery, "proto": fProto,
	"status": fStatus, "cache_status": fCacheStatus, "bytes": fBytes,
	"referer": fReferer, "user_agent": fUserAgent, "user_agent_w3c": fUserAgentW3C, "host": fHost, "xff": fXFF,
	"rt_sec": fRequestTimeSec, "rt_ms": fRequestTimeMS, "rt_us": fRequestTimeUS,
}

// compileFields compiles a list of field names (fieldKinds) separated by
// sep in the log. A name in double quotes is a quoted field; a leading
// "~" lets the field start after any text up to its opening quote (what
// HAProxy writes between the byte count and the request varies with its
// configuration).
func compileFields(spec string, sep byte) (*Format, error) {
	var b builder
	seek := map[int]bool{}
	for i, tok := range strings.Fields(spec) {
		if i > 0 {
			b.lit(sep)
		}
		if strings.HasPrefix(tok, "~") {
			tok = tok[1:]
			seek[len(b.segs)+1] = true // the field after the quote's literal
		}
		quoted := len(tok) > 2 && tok[0] == '"' && tok[len(tok)-1] == '"'
		name := strings.Trim(tok, `"`)
		kind, ok := fieldKinds[name]
		if !ok {
			return nil, fmt.Errorf("unknown field %q", name)
		}
		if quoted {
			b.lit('"')
		}
		if err := b.field(kind, name); err != nil {
			return nil, err
		}
		if quoted {
			b.lit('"')
		}
	}
	f, err := b.done()
	if err != nil {
		return nil, err
	}
	f.sep = sep
	for i := range f.segs {
		if seek[i] {
			// The literal before the field: the separator and the quote.
			f.segs[i-1].seek = true
		}
	}
	return f, nil
}

// w3cKind maps a W3C extended log field (the names of a #Fields: line) to
// a field. time-taken is milliseconds in IIS and seconds in CloudFront:
// secs says which.
func w3cKind(name string, secs bool) field {
	switch strings.ToLower(name) {
	case "date", "date-local": // -local: IIS Advanced Logging; taken as UTC
		return fDate
	case "time", "time-local":
		return fTimeOfDay
	case "c-ip":
		return fClient
	case "cs-username":
		return fUser
	case "cs-method":
		return fMethod
	case "cs-uri-stem":
		return fURI // SHOUTcast writes the query in the stem
	case "cs-uri-query":
		return fQuery
	case "sc-status", "c-status":
		return fStatus
	case "sc-bytes":
		return fBytes
	case "time-taken":
		if secs {
			return fRequestTimeSec
		}
		return fRequestTimeMS
	case "timetakenms": // IIS Advanced Logging
		return fRequestTimeMS
	case "cs(user-agent)", "c-user-agent":
		return fUserAgentW3C
	case "cs(referer)", "cs(referrer)", "c-referrer":
		return fReferer
	case "cs-host", "cs(host)", "x-host-header":
		return fHost
	case "x-forwarded-for":
		return fXFF
	case "cs-version", "cs-protocol-version":
		return fProto
	}
	return fIgnore
}

// compileW3C compiles the field list of a W3C extended log's #Fields: line
// (the "#Fields:" itself may be left out); secs: time-taken is in seconds.
func compileW3C(fields string, sep byte, secs bool) (*Format, error) {
	fields = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(fields), "#Fields:"))
	var b builder
	names := strings.Fields(fields)
	if !slices.ContainsFunc(names, func(n string) bool { return w3cKind(n, false) == fDate }) ||
		!slices.ContainsFunc(names, func(n string) bool { return w3cKind(n, false) == fTimeOfDay }) {
		return nil, fmt.Errorf("a W3C field list needs date and time")
	}
	for i, name := range names {
		if i > 0 {
			b.lit(sep)
		}
		if err := b.field(w3cKind(name, secs), name); err != nil {
			return nil, err
		}
	}
	f, err := b.done()
	if err != nil {
		return nil, err
	}
	f.sep, f.trailing = sep, sep == '\t' // CloudFront adds fields at the end over the years
	return f, nil
}

func mustW3C(name, fields string, sep byte) *Format {
	return mustW3CTime(name, fields, sep, sep == '\t')
}

// mustW3CSecs: a space-separated W3C log whose time-taken is in seconds.
func mustW3CSecs(name, fields string) *Format { return mustW3CTime(name, fields, ' ', true) }

func mustW3CTime(name, fields string, sep byte, secs bool) *Format {
	f, err := compileW3C(fields, sep, secs)
	if err != nil {
		panic("BUG: built-in format " + name + ": " + err.Error())
	}
	f.Name = name
	return f
}

var (
	// ELB is the classic Elastic Load Balancer access log.
	ELB = mustFields("elb", `time_iso skip client skip skip rt_sec skip status skip skip bytes "request" "user_agent"`, ' ', true)
	// ALB is the Application Load Balancer access log; later versions added
	// fields at the end only.
	ALB = mustFields("alb", `skip time_iso skip client skip skip rt_sec skip status skip skip bytes "request" "user_agent"`, ' ', true)
	// S3 is the S3 server access log (the bucket is the site).
	S3 = mustFields("s3", `skip host time client skip skip skip skip "request" status skip bytes skip rt_ms skip "referer" "user_agent"`, ' ', true)
	// HAProxy is HAProxy's HTTP log (option httplog), with or without the
	// syslog prefix; its clock has no zone and is taken as UTC.
	HAProxy = func() *Format {
		f := mustFields("haproxy", `client time_haproxy skip skip skip status bytes ~"request"`, ' ', true)
		f.syslog = true
		return f
	}()
	// Squid is Squid's native access log.
	Squid = mustFields("squid", `time_msec rt_ms client cache_status bytes method uri user skip skip`, ' ', true)
	// CommonVhost and CommonComplete are Common and Combined after the
	// virtual host (Matomo's common_vhost and common_complete).
	CommonVhost    = mustFormat("common_vhost", `%v %h %l %u %t "%r" %>s %b`, false)
	CommonComplete = mustFormat("common_complete", `%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`, true)
	// OVH is OVH's shared-hosting log: the site in place of the ident.
	OVH = mustFormat("ovh", `%h %v %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`, true)
	// VhostCommon is Common after "host:port " (GoAccess's VCOMMON).
	VhostCommon = mustFormat("vhost_common", `%v:%p %h %l %u %t "%r" %>s %O`, false)
	// Gandi is Gandi's simple hosting log: the time taken after the time.
	Gandi = mustFormat("gandi", `%v %h %l %u %t (%T s) "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`, true)
	// Shoutcast is SHOUTcast's W3C log.
	Shoutcast = mustW3C("shoutcast", "c-ip c-dns date time cs-uri-stem c-status cs(User-Agent) sc-bytes x-duration avgbandwidth", ' ')
	// IIS is IIS's default W3C field list; IISFull every field IIS offers,
	// in its order; Netscaler NSWL's.
	IIS        = mustW3C("iis", "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken", ' ')
	IISFull    = mustW3C("iis_full", "date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken", ' ')
	Netscaler  = mustW3CSecs("netscaler", "date time c-ip cs-username sc-servicename s-ip s-port cs-method cs-uri-stem cs-uri-query sc-status cs-bytes sc-bytes time-taken cs-version cs(User-Agent) cs(Cookie) cs(Referer)")
	CloudFront = mustW3C("cloudfront", "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken", '\t')
)

// serverFormats are the named formats of this file.
var serverFormats = func() map[string]*Format {
	m := map[string]*Format{}
	for _, f := range []*Format{ELB, ALB, S3, HAProxy, Squid, CommonVhost, CommonComplete, VhostCommon, Gandi, OVH, Shoutcast, IIS, IISFull, Netscaler, CloudFront} {
		m[f.Name] = f
	}
	return m
}()

// FormatNames are the names --input-format takes.
func FormatNames() []string {
	names := []string{"combined", "common", "vhost_combined", "json", "caddy", "traefik_json"}
	for name := range serverFormats {
		names = append(names, name)
	}
	slices.Sort(names[6:])
	return names
}

// sniff returns the format a line's shape says it is in, where it says
// so: a W3C date and time, an ISO time first (ELB) or after the request
// type (ALB), a Unix time with milliseconds (Squid), a 64-digit bucket
// owner (S3), a syslog tag or an address:port before a bracketed time
// with milliseconds (HAProxy, checked by parseAuto only once Combined has
// failed). nil: none of them (Apache, nginx, JSON).
func sniff(line []byte) *Format {
	if len(line) < 24 {
		return nil
	}
	c := line[0]
	switch {
	case c >= '0' && c <= '9':
		if isDate(line) {
			switch line[10] {
			case 'T':
				return ELB
			case '\t':
				return CloudFront
			case ' ':
				switch countFields(line) {
				case 14, 15:
					return IIS
				case 18:
					return Netscaler
				case 22:
					return IISFull
				}
			}
			return nil
		}
		if dot := bytes.IndexByte(line[:12], '.'); dot >= 9 && allDigits(line[:dot]) && len(line) > dot+4 && allDigits(line[dot+1:dot+4]) && line[dot+4] == ' ' {
			return Squid
		}
		if isHex64(line) {
			return S3
		}
	case c >= 'a' && c <= 'f':
		if isHex64(line) {
			return S3
		}
		fallthrough
	case c >= 'g' && c <= 'z':
		if sp := bytes.IndexByte(line[:7], ' '); sp > 0 && len(line) > sp+11 && isDate(line[sp+1:]) && line[sp+11] == 'T' {
			switch string(line[:sp]) {
			case "http", "https", "h2", "grpcs", "ws", "wss":
				return ALB
			}
		}
	}
	return nil
}

// isDate: b begins with YYYY-MM-DD.
func isDate(b []byte) bool {
	return len(b) >= 10 && b[4] == '-' && b[7] == '-' && allDigits(b[:4]) && allDigits(b[5:7]) && allDigits(b[8:10])
}

func isHex64(b []byte) bool {
	if len(b) < 65 || b[64] != ' ' {
		return false
	}
	for _, c := range b[:64] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// countFields counts space-separated fields, a quoted one as one.
func countFields(line []byte) int {
	n, in, quoted := 0, false, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
			if !in {
				in, n = true, n+1
			}
		case c == ' ' && !quoted:
			in = false
		case !in:
			in, n = true, n+1
		}
	}
	return n
}

// isHAProxyLine: after an optional syslog prefix, an address:port and a
// bracketed time with milliseconds ("[25/Sep/2018:06:05:27.584]").
func isHAProxyLine(line []byte) bool {
	i := bytes.Index(line, []byte(" ["))
	if i < 0 || len(line) < i+27 {
		return false
	}
	t := line[i+2:]
	return t[2] == '/' && t[6] == '/' && t[11] == ':' && t[20] == '.' && t[24] == ']' && bytes.IndexByte(line[:i], ':') > 0
}

// skipSyslog returns where a line written through syslog begins: after the
// tag's "]: " (or ": " after a tag without a pid) when the line starts
// with a syslog timestamp or priority, else 0.
func skipSyslog(line []byte) int {
	if len(line) == 0 || !(line[0] == '<' || line[0] >= 'A' && line[0] <= 'Z') {
		return 0
	}
	if i := bytes.Index(line, []byte("]: ")); i >= 0 {
		return i + 3
	}
	// "Sep 25 06:05:27 host haproxy: ": the fourth space-separated field
	// ends with a colon.
	n := 0
	for i := 0; i < len(line)-1; i++ {
		if line[i] == ' ' {
			n++
			if n >= 4 && line[i-1] == ':' {
				return i + 1
			}
		}
	}
	return 0
}

// w3cHeader is a worker's W3C field list, from the input's last "#Fields:"
// line: IIS, Netscaler and others let the administrator choose the fields,
// and the header says which. A driver that reads a source in order gives
// each worker the header of what came before (SetW3CFields); a #Fields:
// line the worker reads itself applies to the lines after it.
type w3cHeader struct {
	text       []byte  // the line it was compiled from
	space, tab *Format // for space- and tab-separated lines (CloudFront)
}

// SetW3CFields makes line, a "#Fields: …" line (nil: none), the field list
// of the W3C lines that follow in auto mode. A list that does not compile
// (no date or time) is no list.
func (w *Worker) SetW3CFields(line []byte) {
	if bytes.Equal(line, w.w3c.text) {
		return
	}
	w.w3c.text = append(w.w3c.text[:0], line...)
	w.w3c.space, w.w3c.tab = nil, nil
	if len(line) == 0 {
		return
	}
	if f, err := compileW3C(string(line), ' ', false); err == nil {
		f.Name = "w3c"
		w.w3c.space = f
	}
	if f, err := compileW3C(string(line), '\t', true); err == nil {
		f.Name = "w3c"
		w.w3c.tab = f
	}
}

var fieldsDirective = []byte("#Fields:")

// parseAuto is auto mode with the worker's W3C header: a #Fields: line
// sets it, and the lines after it are read with it first.
func (w *Worker) parseAuto(line []byte) error {
	if bytes.HasPrefix(line, fieldsDirective) {
		w.SetW3CFields(line)
		w.raw.reset()
		return ErrDirective
	}
	if w.w3c.space != nil && len(line) > 0 && line[0] != '#' && line[0] != '{' {
		f := w.w3c.space
		if bytes.IndexByte(line, '\t') >= 0 {
			f = w.w3c.tab
		}
		if Parse(f, line, &w.raw) == nil {
			return nil
		}
	}
	return parseAuto(line, &w.raw)
}

// LastW3CFields returns the last "#Fields:" line in data (whole lines),
// or nil: what a driver that cuts its input into chunks hands the chunks
// after it (SetW3CFields).
func LastW3CFields(data []byte) []byte {
	i := bytes.LastIndex(data, fieldsDirective)
	for i > 0 && data[i-1] != '\n' {
		i = bytes.LastIndex(data[:i], fieldsDirective)
	}
	if i < 0 {
		return nil
	}
	line := data[i:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return bytes.TrimRight(line, "\r")
}
