package transforms

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// peerLine is the first log line (not a # directive) of a peer's test log
// (testdata/peers: Matomo log-analytics' tests/logs).
func peerLine(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "peers", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Bytes(); len(l) > 0 && l[0] != '#' {
			return append([]byte(nil), l...)
		}
	}
	t.Fatalf("%s: no log line", name)
	return nil
}

// TestPeerLogs reads the first line of each of Matomo log-analytics' test
// logs in auto mode and by its name, and checks what Matomo's
// tests/test_main.py asserts for the same line: client, time, method,
// path, status, size, user agent, host, and the time taken.
func TestPeerLogs(t *testing.T) {
	type want struct {
		format, client, time, method, path, query, ua, host string
		status                                              int
		bytes                                               int64
		rtUS                                                int64 // -1: none
	}
	chrome17 := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0.963.56 Safari/535.11"
	cases := map[string]want{
		"elb": {format: "elb", client: "1.2.3.4:2817", time: "2015-05-13T23:39:43Z", method: "GET", path: "/path/index.html",
			ua: chrome17, status: 200, bytes: 57, rtUS: 1048},
		"alb": {format: "alb", client: "1.2.3.4:2817", time: "2020-01-01T00:55:04Z", method: "GET", path: "/path/index.html",
			ua: chrome17, status: 200, bytes: 24950, rtUS: 102000},
		"amazon_cloudfront_web": {format: "cloudfront", client: "192.0.2.10", time: "2014-05-23T01:13:11Z", method: "GET",
			path: "/view/my/file.html", host: "example.com", status: 200, bytes: 182, rtUS: 1000,
			ua: "Mozilla/5.0 (Windows; U; Windows NT 6.1; de-DE) AppleWebKit/534.17 (KHTML, like Gecko) Chrome/10.0.649.0 Safari/534.17"},
		"iis": {format: "iis_full", client: "1.2.3.4", time: "2012-04-01T00:00:13Z", method: "GET", path: "/foo/bar",
			query: "topCat1=divinity&submit=Search", host: "example.com", status: 200, bytes: 27028, rtUS: 1687000,
			ua: "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.2.7) Gecko/20100722 Firefox/3.6.7"},
		"netscaler": {format: "netscaler", client: "172.20.1.0", time: "2012-08-16T11:55:13Z", method: "GET",
			path: "/Citrix/XenApp/Wan/auth/login.jsp", status: 302, bytes: 355, rtUS: 1000000,
			ua: "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; Trident/4.0; .NET CLR 1.1.4322; .NET CLR 2.0.50727; .NET CLR 3.0.04506.648; .NET CLR 3.5.21022)"},
		"s3": {format: "s3", client: "1.2.3.4", time: "2012-02-10T21:42:07Z", method: "GET", path: "/index", host: "www.example.com",
			ua: chrome17, status: 200, bytes: 368, rtUS: 10000},
		"haproxy": {format: "haproxy", client: "4.3.2.1:55008", time: "2018-09-25T06:05:27Z", method: "POST", path: "/user/",
			status: 200, bytes: 7456, rtUS: -1},
		"caddy_json": {format: "caddy", client: "1.2.3.4", time: "2023-12-23T23:17:54Z", method: "GET", path: "/beta/",
			host: "example.com", status: 200, bytes: 3609, rtUS: 1335,
			ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"},
		"traefik_json": {format: "traefik_json", client: "1.2.3.4", time: "2023-08-11T11:39:21Z", method: "GET", path: "/my/app/auth",
			query: "id=1234&user=dude", host: "localhost", ua: "Prometheus/2.40.5", status: 200, bytes: 15, rtUS: 10002425284 / 1000},
		"nginx_json": {format: "json", client: "1.2.3.4", time: "2013-10-10T14:52:00Z", path: "/piwik.php", query: "*", host: "www.piwik.org",
			status: 200, bytes: 192, rtUS: 8, // Matomo's key says milliseconds: 0.008 of them
			ua: "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.17 (KHTML, like Gecko) Chrome/24.0.1312.57 Safari/537.17"},
		"common_vhost": {format: "common_vhost", client: "1.2.3.4", time: "2012-02-10T21:42:07Z", method: "GET", path: "/",
			host: "www.example.com", status: 301, bytes: 368, rtUS: -1},
		"common_complete": {format: "common_complete", client: "1.2.3.4", time: "2012-02-10T21:42:07Z", method: "GET", path: "/",
			host: "www.example.com", status: 301, bytes: 368, rtUS: -1, ua: chrome17},
		"ovh": {format: "ovh", client: "1.2.3.4", time: "2012-02-10T21:42:07Z", method: "GET", path: "/",
			host: "www.example.com", status: 301, bytes: 368, rtUS: -1, ua: chrome17},
		"gandi": {format: "gandi", client: "1.2.3.4", time: "2012-02-10T21:42:07Z", method: "GET", path: "/",
			host: "www.example.com", status: 301, bytes: 368, rtUS: 0, ua: chrome17},
	}
	for name, w := range cases {
		line := peerLine(t, name)
		f, err := NewFormat(w.format)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"auto", "named"} {
			var r Raw
			if mode == "auto" {
				err = parseAuto(line, &r)
			} else {
				err = Parse(f, line, &r)
			}
			if err != nil {
				t.Errorf("%s (%s): %v\n%s", name, mode, err, line)
				continue
			}
			got := want{format: w.format, client: string(r.Client), time: time.Unix(r.Time, 0).UTC().Format(time.RFC3339),
				method: string(r.Method), path: string(r.RawPath), query: string(r.RawQuery), ua: string(r.UserAgent),
				host: string(r.Host), status: r.Status, bytes: r.Bytes, rtUS: r.RequestTimeUS}
			if w.query == "*" && len(r.RawQuery) > 0 {
				got.query = "*" // long; read, not compared
			}
			if got != w {
				t.Errorf("%s (%s):\n got %+v\nwant %+v", name, mode, got, w)
			}
			if mode == "auto" && r.Format != f && !(f.json && r.Format.json) {
				t.Errorf("%s: auto read it as %s, want %s", name, r.Format.Name, f.Name)
			}
		}
	}
}

// TestServerFormatShapes: what the formats tolerate and refuse.
func TestServerFormatShapes(t *testing.T) {
	f := func(format, line, wantPath string, wantStatus int, wantErr error) {
		t.Helper()
		var r Raw
		err := parseAs(t, format, line, &r)
		if err != wantErr {
			t.Fatalf("%s %q: error %v, want %v", format, line, err, wantErr)
		}
		if err == nil && (string(r.RawPath) != wantPath || r.Status != wantStatus) {
			t.Fatalf("%s %q: path %q status %d, want %q %d", format, line, r.RawPath, r.Status, wantPath, wantStatus)
		}
	}
	// Doubled and padded spaces between fields.
	f("auto", `1.2.3.4  -  - [10/Oct/2000:13:55:36 -0700]  "GET /a HTTP/1.0"  200 2326  "-"  "x"`, "/a", 200, nil)
	f("squid", `1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/search?q=x - DIRECT/74.125.45.104 text/html`, "/search", 200, nil)
	f("auto", `1286536308.779    180 192.168.0.224 TCP_MISS/000 0 GET http://www.google.com/ - NONE/- -`, "/", 0, nil)
	// A last quoted field that ends in a backslash (GoAccess's CI log).
	f("auto", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /b HTTP/1.0" 200 1 "-" "agent\"`, "/b", 200, nil)
	// Unquoted "-" for the referrer and the user agent.
	f("auto", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /u HTTP/1.0" 200 1 - -`, "/u", 200, nil)
	f("auto", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /u HTTP/1.0" 200 1 - "x"`, "/u", 200, nil)
	f("auto", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /u HTTP/1.0" 200 1 "-" -`, "/u", 200, nil)
	// An address list as the client: the first public one is it.
	f("auto", `10.0.0.7, 203.0.113.5, 198.51.100.1 - - [10/Oct/2000:13:55:36 -0700] "GET /l HTTP/1.0" 200 1 "-" "x"`, "/l", 200, nil)
	// A quoted client.
	f("auto", `"1.2.3.4" - - [10/Oct/2000:13:55:36 -0700] "GET /c HTTP/1.0" 200 1 "-" "x"`, "/c", 200, nil)
	// HAProxy behind syslog with captured headers, and without the prefix.
	f("auto", `Sep 25 06:05:27 lb1 haproxy[6801]: 4.3.2.1:55008 [25/Sep/2018:06:05:27.584] ft bk/s1 0/0/0/72/72 404 7456 - - ---- 5/4/0/1/0 0/0 {example.com|Mozilla} {} "GET /h HTTP/1.1"`, "/h", 404, nil)
	f("auto", `4.3.2.1:55008 [25/Sep/2018:06:05:27.584] ft bk/s1 0/0/0/72/72 200 7456 - - ---- 5/4/0/1/0 0/0 "GET /i HTTP/1.1"`, "/i", 200, nil)
	// GoAccess's VCOMMON.
	f("auto", `example.com:80 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /v HTTP/1.0" 200 1`, "/v", 200, nil)
	// An ELB TCP connection: no status, no request.
	f("elb", `2015-05-13T23:39:43.945958Z lb 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -`, "", 0, nil)
	// W3C directives are set aside with their own reason; a custom field list.
	f("auto", `#Fields: date time c-ip`, "", 0, ErrDirective)
	f("w3c:c-ip c-dns date cs-uri-stem c-status cs(User-Agent) sc-bytes x-duration avgbandwidth time",
		`1.2.3.4 5.6.7.8 2015-12-07 /stream 200 NSPlayer%2F10.0 65580 1 524640 10:37:05`, "/stream", 200, nil)
	f("shoutcast", `1.2.3.4 5.6.7.8 2015-12-07 10:37:05 /stream?title=x 200 NSPlayer%2F10.0 65580 1 524640`, "/stream", 200, nil)
	f("iis", `2012-04-01 00:00:13 10.0.0.1 GET /bad - 80 - 1.2.3.4 UA - 200 0 0 x`, "", 0, ErrNumber)
	f("iis", `2012-13-01 00:00:13 10.0.0.1 GET /bad - 80 - 1.2.3.4 UA - 200 0 0 15`, "", 0, ErrTime)
	// Caddy's other messages carry no request; JSON with a nested request.
	f("caddy", `{"level":"info","ts":1703373474.5,"logger":"http.log.access","request":{"remote_ip":"1.2.3.4","method":"GET","uri":"/j?x=1","headers":{"User-Agent":["a","b"]}},"status":200,"size":1}`, "/j", 200, nil)
}

// TestServerFormatsRewrite: each named format's line written back in its
// own format (AppendLine) reads again as that format, with the truncated
// address, and the same path and status.
func TestServerFormatsRewrite(t *testing.T) {
	for name, format := range map[string]string{"elb": "elb", "alb": "alb", "amazon_cloudfront_web": "cloudfront", "iis": "iis_full",
		"netscaler": "netscaler", "s3": "s3", "haproxy": "haproxy", "common_vhost": "common_vhost", "gandi": "gandi"} {
		a, err := NewAnonymizer(testPolicy(t, Config{InputFormat: format}))
		if err != nil {
			t.Fatal(err)
		}
		w := a.NewWorker()
		if err := w.Process(peerLine(t, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path, status := string(w.Rec.Path), w.Rec.Status
		out := w.AppendLine(nil, &w.Rec)
		if err := w.Process(out); err != nil {
			t.Fatalf("%s: the rewritten line does not read: %v\n%s", name, err, out)
		}
		if string(w.Rec.Path) != path || w.Rec.Status != status || !strings.Contains(string(out), w.Rec.Network.Addr().String()) {
			t.Fatalf("%s: rewritten %q", name, out)
		}
	}
}

func BenchmarkServerFormats(b *testing.B) {
	for _, c := range []struct{ name, format string }{{"elb", "elb"}, {"alb", "alb"}, {"amazon_cloudfront_web", "cloudfront"},
		{"iis", "iis_full"}, {"s3", "s3"}, {"haproxy", "haproxy"}, {"caddy_json", "caddy"}, {"traefik_json", "traefik_json"}} {
		line := peerLine(b, c.name)
		for _, mode := range []string{c.format, "auto"} {
			b.Run(c.name+"/"+mode, func(b *testing.B) {
				a, err := NewAnonymizer(testPolicy(b, Config{InputFormat: mode}))
				if err != nil {
					b.Fatal(err)
				}
				w := a.NewWorker()
				b.SetBytes(int64(len(line)))
				b.ReportAllocs()
				for b.Loop() {
					if err := w.Process(line); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestClientList: a client field that holds a proxy chain is its first
// public address; a chain of private ones, its first.
func TestClientList(t *testing.T) {
	a, err := NewAnonymizer(testPolicy(t, Config{InputFormat: "auto"}))
	if err != nil {
		t.Fatal(err)
	}
	w := a.NewWorker()
	f := func(client, want string) {
		t.Helper()
		line := client + ` - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "x"`
		if err := w.Process([]byte(line)); err != nil || w.Rec.Network.String() != want {
			t.Fatalf("%q: network %v, %v; want %s", client, w.Rec.Network, err, want)
		}
	}
	f("10.0.0.7, 203.0.113.5, 198.51.100.1", "203.0.113.0/24")
	f("203.0.113.5,10.0.0.1", "203.0.113.0/24")
	f("10.0.0.7, 192.168.1.1", "10.0.0.0/24")
	f(`"198.51.100.7, 10.0.0.1"`, "198.51.100.0/24")
}

// TestW3CHeader: in auto mode a W3C log's own #Fields: line says how the
// lines after it read — Matomo's iis_custom.log (IIS Advanced Logging,
// its own field names, quoted values), checked against what Matomo's
// test_iis_custom_format asserts for its first three hits.
func TestW3CHeader(t *testing.T) {
	a, err := NewAnonymizer(testPolicy(t, Config{InputFormat: "auto"}))
	if err != nil {
		t.Fatal(err)
	}
	w := a.NewWorker()
	b, err := os.ReadFile(filepath.Join("testdata", "peers", "iis_custom.log"))
	if err != nil {
		t.Fatal(err)
	}
	type hit struct {
		client, path, ua string
		status           int
		rtUS             int64
	}
	var got []hit
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		err := w.parseAuto(line)
		if line[0] == '#' {
			if err != ErrDirective {
				t.Fatalf("%q: %v", line, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if time.Unix(w.raw.Time, 0).UTC().Format(time.DateTime) != "2012-08-15 17:00:00" {
			t.Errorf("time %v", time.Unix(w.raw.Time, 0).UTC())
		}
		got = append(got, hit{string(w.raw.Client), string(w.raw.RawPath), string(w.raw.UserAgent), w.raw.Status, w.raw.RequestTimeUS})
	}
	want := []hit{
		{"70.95.0.0", "/Products/theProduct", "Mozilla/5.0 (Linux; Android 4.4.4; SM-G900V Build/KTU84P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/39.0.2171.59 Mobile Safari/537.36", 200, 109000},
		{"", "/Topic/hw43061", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.1 Safari/537.36", 301, 0},
		{"173.5.0.0", "/hello/world/6,681965", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.124 Safari/537.36", 404, 359000},
	}
	if len(got) < 3 {
		t.Fatalf("%d hits", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("hit %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// Without the header the lines are not read: the list is the header's.
	first := b[bytes.Index(b, []byte("\n2012-"))+1:]
	first = first[:bytes.IndexByte(first, '\n')]
	w2 := a.NewWorker()
	if w2.parseAuto(first) == nil {
		t.Error("a custom W3C line read without its #Fields: line")
	}
	// What a driver hands the chunks after the header.
	if h := LastW3CFields(b); !bytes.HasPrefix(h, []byte("#Fields:   date-local")) || bytes.ContainsAny(h, "\r\n") {
		t.Errorf("LastW3CFields: %q", h)
	}
	w2.SetW3CFields(LastW3CFields(b))
	if err := w2.parseAuto(first); err != nil || w2.raw.Status != 200 {
		t.Errorf("with the header handed over: %v, status %d", err, w2.raw.Status)
	}
}
