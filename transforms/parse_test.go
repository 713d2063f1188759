package transforms

import (
	"strings"
	"testing"
)

func TestParseFormats(t *testing.T) {
	type want struct {
		client, method, path, query, proto, ref, ua, host, user, xff string
		status                                                       int
		bytes, rtUS                                                  int64
		time                                                         int64
		bad                                                          bool
	}
	f := func(format, line string, w want) {
		t.Helper()
		var r Raw
		var err error
		if format == "auto" {
			err = parseAuto([]byte(line), &r)
		} else {
			fm, ferr := NewFormat(format)
			if ferr != nil {
				t.Fatalf("NewFormat(%q): %v", format, ferr)
			}
			err = Parse(fm, []byte(line), &r)
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		got := want{string(r.Client), string(r.Method), string(r.RawPath), string(r.RawQuery), string(r.Proto),
			string(r.Referer), string(r.UserAgent), string(r.Host), string(r.User), string(r.XFF),
			r.Status, r.Bytes, r.RequestTimeUS, r.Time, r.BadRequest}
		if got != w {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", line, got, w)
		}
	}
	// 10/Oct/2000:13:55:36 -0700 = 2000-10-10T20:55:36Z = 971211336
	const ts = 971211336
	f("combined", `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
		want{client: "127.0.0.1", method: "GET", path: "/apache_pb.gif", query: "a=1", proto: "HTTP/1.0", ref: "http://www.example.com/start.html", ua: "Mozilla/4.08 [en] (Win98; I ;Nav)", user: "frank", status: 200, bytes: 2326, rtUS: -1, time: ts})
	f("common", `::1 - - [10/Oct/2000:13:55:36 -0700] "POST /login HTTP/1.1" 302 -`,
		want{client: "::1", method: "POST", path: "/login", proto: "HTTP/1.1", status: 302, bytes: -1, rtUS: -1, time: ts})
	// Apache escapes quotes as \" and backslashes as \\; nginx writes \x22.
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /a\"b HTTP/1.1" 404 0 "-" "say \"hi\" \\o/"`,
		want{client: "1.2.3.4", method: "GET", path: `/a"b`, proto: "HTTP/1.1", ua: `say "hi" \o/`, status: 404, bytes: 0, rtUS: -1, time: ts - 7*3600})
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /x HTTP/1.1" 200 5 "-" "a\x22b"`,
		want{client: "1.2.3.4", method: "GET", path: "/x", proto: "HTTP/1.1", ua: `a"b`, status: 200, bytes: 5, rtUS: -1, time: ts - 7*3600})
	// Extra trailing fields (request time) after combined.
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/2.0" 200 5 "-" "ua" 0.123 "upstream"`,
		want{client: "1.2.3.4", method: "GET", path: "/", proto: "HTTP/2.0", ua: "ua", status: 200, bytes: 5, rtUS: -1, time: ts - 7*3600})
	f("vhost_combined", `www.example.com:443 [2001:db8::1]:51234 - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.1" 200 1 "-" "-"`,
		want{client: "[2001:db8::1]:51234", host: "www.example.com", method: "GET", path: "/x", proto: "HTTP/1.1", status: 200, bytes: 1, rtUS: -1, time: ts})
	// Bad request lines keep status and time only.
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01\x02\x00\x01" 400 157 "-" "-"`,
		want{client: "1.2.3.4", status: 400, bytes: 157, rtUS: -1, time: ts, bad: true})
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "-" 408 0 "-" "-"`,
		want{client: "1.2.3.4", status: 408, bytes: 0, rtUS: -1, time: ts, bad: true})
	// Absolute-form target loses scheme and authority.
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET http://proxy.example/p?q=1 HTTP/1.1" 200 1 "-" "-"`,
		want{client: "1.2.3.4", method: "GET", path: "/p", query: "q=1", proto: "HTTP/1.1", status: 200, bytes: 1, rtUS: -1, time: ts})
	// Auto detection.
	f("auto", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1`,
		want{client: "1.2.3.4", method: "GET", path: "/", proto: "HTTP/1.1", status: 200, bytes: 1, rtUS: -1, time: ts})
	f("auto", `h.example:80 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "u"`,
		want{client: "1.2.3.4", host: "h.example", method: "GET", path: "/", proto: "HTTP/1.1", ua: "u", status: 200, bytes: 1, rtUS: -1, time: ts})
	f("auto", `{"remote_addr":"1.2.3.4","time_iso8601":"2000-10-10T13:55:36-07:00","request":"GET /s?q=x HTTP/1.1","status":"200","body_bytes_sent":"12","http_referer":"","http_user_agent":"a\"b\\c\u00e9","http_x_forwarded_for":"5.6.7.8","request_time":"0.250","host":"ex.com","extra":{"n":[1,"}"]}}`,
		want{client: "1.2.3.4", method: "GET", path: "/s", query: "q=x", proto: "HTTP/1.1", ua: "a\"b\\c\u00e9", xff: "5.6.7.8", host: "ex.com", status: 200, bytes: 12, rtUS: 250000, time: ts})
	// JSON with separate method/uri, numbers and time_local.
	f("json", `{ "remote_addr": "10.0.0.1", "time_local": "10/Oct/2000:13:55:36 -0700", "request_method": "PUT", "request_uri": "/u/1?x=2", "status": 201, "body_bytes_sent": 0, "request_time": 1.5, "remote_user": "bob" }`,
		want{client: "10.0.0.1", method: "PUT", path: "/u/1", query: "x=2", user: "bob", status: 201, bytes: 0, rtUS: 1500000, time: ts})
	// Custom Apache LogFormat (as written in httpd.conf) and nginx log_format.
	f(`%a %l %u %t \"%r\" %>s %b %D \"%{Referer}i\" \"%{User-agent}i\" \"%{X-Forwarded-For}i\"`,
		`10.0.0.2 - - [10/Oct/2000:13:55:36 -0700] "GET /z HTTP/1.1" 200 3 1234 "-" "ua" "9.9.9.9, 10.0.0.3"`,
		want{client: "10.0.0.2", method: "GET", path: "/z", proto: "HTTP/1.1", ua: "ua", xff: "9.9.9.9, 10.0.0.3", status: 200, bytes: 3, rtUS: 1234, time: ts})
	f(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time`,
		`10.0.0.2 - alice [10/Oct/2000:13:55:36 -0700] "GET /z HTTP/1.1" 200 3 "https://r.example/x" "ua" rt=0.004`,
		want{client: "10.0.0.2", method: "GET", path: "/z", proto: "HTTP/1.1", ref: "https://r.example/x", ua: "ua", user: "alice", status: 200, bytes: 3, rtUS: 4000, time: ts})
	f(`%h %{sec}t "%m %U%q %H" %s %b`,
		`10.0.0.2 971211336 "GET /p?a=b HTTP/1.1" 200 3`,
		want{client: "10.0.0.2", method: "GET", path: "/p", query: "a=b", proto: "HTTP/1.1", status: 200, bytes: 3, rtUS: -1, time: ts})
}

// parseAs parses line in format ("auto": parseAuto) into r.
func parseAs(t *testing.T, format, line string, r *Raw) error {
	t.Helper()
	if format == "auto" {
		return parseAuto([]byte(line), r)
	}
	fm, err := NewFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(fm, []byte(line), r)
}

func TestParseRejects(t *testing.T) {
	f := func(format, line string, want error) {
		t.Helper()
		var r Raw
		if err := parseAs(t, format, line, &r); err != want {
			t.Errorf("Parse(%.60q) error = %v, want %v", line, err, want)
		}
	}
	f("combined", "", ErrEmpty)
	f("combined", "garbage", ErrLiteral)
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "never closed`, ErrUnterminated)
	f("combined", `1.2.3.4 - - [99/Foo/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"`, ErrTime)
	f("combined", `1.2.3.4 - - [31/Feb/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"`, ErrTime)
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 1 "-" "-"`, ErrStatus)
	f("combined", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1x "-" "-"`, ErrNumber)
	f("common", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 trailing`, ErrNumber)
	f("json", `{"remote_addr":"1.2.3.4"`, ErrJSON)
	f("json", `{"remote_addr":"1.2.3.4"} x`, ErrJSON)
	f("json", `{"remote_addr":"1.2.3.4","status":"200"}`, ErrNoTime)
	f("json", `{"remote_addr":"\x"}`, ErrJSON)
	f("auto", "\xff\xfe\x00garbage", ErrLiteral)
	f("auto", strings.Repeat("A", 100<<10), ErrLiteral)
}

func TestNewFormatErrors(t *testing.T) {
	for _, spec := range []string{"nonsense", "%h%u", "%{Referer", "$remote_addr$remote_user", "${x", "  "} {
		if _, err := NewFormat(spec); err == nil {
			t.Errorf("NewFormat(%q) accepted", spec)
		}
	}
}

func TestTimestamps(t *testing.T) {
	f := func(s string, want int64) {
		t.Helper()
		var got int64
		var ok bool
		if strings.Contains(s, "/") {
			got, _, ok = parseCLFTime([]byte(s))
		} else {
			got, _, ok = parseISO8601([]byte(s))
		}
		if !ok || got != want {
			t.Errorf("parse(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	f("01/Jan/1970:00:00:00 +0000", 0)
	f("29/Feb/2024:23:59:59 +0530", 1709251199-5*3600-30*60)
	f("2024-02-29T23:59:59Z", 1709251199)
	f("2024-02-29T23:59:59.123+00:00", 1709251199)
	f("2024-03-01T01:00:00+0100", 1709251200)
	for _, ts := range []int64{0, 951782400, 1709251199, 4102444800} {
		for _, off := range []int32{0, 3600, -25200, 19800} {
			b := appendCLFTime(nil, ts, off)
			got, gotOff, ok := parseCLFTime(b)
			if !ok || got != ts || gotOff != off {
				t.Errorf("round trip %d %d via %q = %d %d", ts, off, b, got, gotOff)
			}
		}
	}
}

func TestNginxURIArgs(t *testing.T) {
	fm, err := NewFormat(`$remote_addr [$time_local] "$request_method $uri$is_args$args" $status`)
	if err != nil {
		t.Fatal(err)
	}
	var r Raw
	if err := Parse(fm, []byte(`1.2.3.4 [10/Oct/2000:13:55:36 -0700] "GET /a?b=c" 200`), &r); err != nil {
		t.Fatal(err)
	}
	if string(r.RawPath) != "/a" || string(r.RawQuery) != "b=c" || r.Status != 200 {
		t.Errorf("got path %q query %q status %d", r.RawPath, r.RawQuery, r.Status)
	}
}

func TestParseIPv4Fast(t *testing.T) {
	f := func(s string, ok bool) {
		t.Helper()
		a, got := parseIPv4Fast([]byte(s))
		if got != ok || ok && a.String() != s {
			t.Errorf("parseIPv4Fast(%q) = %v %v, want ok=%v", s, a, got, ok)
		}
	}
	f("1.2.3.4", true)
	f("255.255.255.255", true)
	f("0.0.0.0", true)
	f("256.1.1.1", false)
	f("01.2.3.4", false)
	f("1.2.3", false)
	f("1.2.3.4.5", false)
	f("1..3.4", false)
	f("1.2.3.4:80", false)
	f("1234.1.1.1", false)
	f("", false)
}

func TestCLFCacheAcrossMinutesAndZones(t *testing.T) {
	var c clfCache
	for _, s := range []string{"10/Oct/2000:13:55:36 -0700", "10/Oct/2000:13:55:59 -0700", "10/Oct/2000:13:56:00 -0700",
		"10/Oct/2000:13:56:00 +0200", "10/Oct/2000:13:56:07 +0200", "11/Oct/2000:13:56:07 +0200", "11/Oct/2000:13:56:99 +0200"} {
		got, gotOff, gotOK := c.parse([]byte(s))
		want, wantOff, wantOK := parseCLFTime([]byte(s))
		if got != want || gotOff != wantOff || gotOK != wantOK {
			t.Errorf("%s: cached %d %d %v, direct %d %d %v", s, got, gotOff, gotOK, want, wantOff, wantOK)
		}
	}
}
