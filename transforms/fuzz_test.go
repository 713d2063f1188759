package transforms

import (
	"net/netip"
	"regexp"
	"testing"
)

// Independent of the production scanners: a regexp finds every address-like
// token in the output (fine in tests; never on the hot path).
var (
	reV4 = regexp.MustCompile(`(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:$|[^0-9.])`)
	reV6 = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}`)
)

// checkNoHostBits fails if out holds an address with host bits set beyond
// the configured prefixes, unless that exact text was already in the input
// as something other than an address-bearing field (it cannot be: every
// field that could hold one is scrubbed).
func checkNoHostBits(t testing.TB, in string, out []byte, v4bits, v6bits int) {
	t.Helper()
	for _, m := range reV4.FindAllSubmatch(out, -1) {
		a, err := netip.ParseAddr(string(m[1]))
		if err != nil {
			continue
		}
		if p, _ := a.Prefix(v4bits); p.Addr() != a {
			t.Fatalf("address %s with host bits in output\n in: %q\nout: %q", a, in, out)
		}
	}
	for _, m := range reV6.FindAll(out, -1) {
		a, err := netip.ParseAddr(string(m))
		if err != nil || !a.Is6() || a.Is4In6() {
			continue
		}
		if p, _ := a.Prefix(v6bits); p.Addr() != a {
			t.Fatalf("address %s with host bits in output\n in: %q\nout: %q", a, in, out)
		}
	}
}

func fuzzFormat(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	a, err := NewAnonymizer(testPolicy(f, Config{InputFormat: format}))
	if err != nil {
		f.Fatal(err)
	}
	w := a.NewWorker()
	f.Fuzz(func(t *testing.T, line []byte) {
		if w.Process(line) != nil {
			checkNoHostBits(t, string(line), AppendRedactedLine(nil, line), 0, 0)
			return
		}
		checkNoHostBits(t, string(line), w.AppendJSON(nil, &w.Rec, nil), 24, 32)
		checkNoHostBits(t, string(line), w.AppendLine(nil, &w.Rec), 24, 32)
	})
}

func FuzzCombined(f *testing.F) {
	fuzzFormat(f, "auto",
		// plain combined
		`81.2.69.200 - - [27/Nov/2026:10:15:32 +0100] "GET /a?b=c HTTP/1.1" 200 1 "https://r.example/p" "Mozilla/5.0"`,
		// escapes and an address in every field
		`10.0.0.1 - u [27/Nov/2026:10:15:32 +0100] "GET /x/1.2.3.4/\"q HTTP/1.1" 200 1 "http://5.6.7.8/" "a\x22 9.9.9.9"`,
		// vhost and IPv6 with port
		`h.example:443 [2001:db8::1]:8 - - [27/Nov/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 1 "-" "-"`,
		// common, bad request
		`::ffff:1.2.3.4 - - [27/Nov/2026:10:15:32 +0100] "\x16\x03" 400 -`,
	)
}

func FuzzJSON(f *testing.F) {
	fuzzFormat(f, "json",
		`{"remote_addr":"1.2.3.4","time_iso8601":"2026-11-27T10:15:32+01:00","request":"GET /u/a@b.c HTTP/1.1","status":200}`,
		`{"remote_addr":"2001:db8::5","time_local":"27/Nov/2026:10:15:32 +0100","request_method":"GET","request_uri":"/?q=1.2.3.4","status":"404","http_x_forwarded_for":"9.9.9.9","x":[{"y":"}"}]}`,
		`{"remote_addr":"\u0031.2.3.4","msec":"1764234932.123","request":"GET / HTTP/1.1","status":200}`,
	)
}

func FuzzNginxFormat(f *testing.F) {
	fuzzFormat(f, `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time`,
		`1.2.3.4 - - [27/Nov/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 1 "-" "-" "5.6.7.8" 0.001`,
		`2001:db8::1 - bob [27/Nov/2026:10:15:32 +0100] "GET /%31.2.3.4 HTTP/1.1" 200 1 "http://[2001:db8::9]/" "x" "-" -`,
	)
}

func FuzzApacheFormat(f *testing.F) {
	fuzzFormat(f, `%v %a %l %u %t \"%r\" %>s %O %D \"%{Referer}i\" \"%{User-Agent}i\"`,
		`www.example.com 1.2.3.4 - - [27/Nov/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 1 1234 "-" "-"`,
	)
}

func FuzzRedactLine(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "a@b.co", "[::1]:80", "x%401.2.3.4", "2001%3Adb8%3A%3A1",
		`1.2.3.4 - John Smith [10/Oct/2000:13:55:36 -0700] "GET /u/jdoe HTTP/1.1" 200 512 "-" "Mozilla/5.0"`} {
		f.Add([]byte(s))
	}
	words := map[string]bool{}
	for _, w := range shapeWords {
		words[w] = true
	}
	for c := ClassEmail; c < numClasses; c++ {
		words[c.String()] = true
	}
	words["w"], words["n"] = true, true
	f.Fuzz(func(t *testing.T, line []byte) {
		out := AppendRedactedLine(nil, line)
		checkNoHostBits(t, string(line), out, 0, 0)
		// Shape only: every run of letters, digits and '_' is a placeholder's
		// name, a vocabulary word, a status after a quote or HTTP's version.
		for _, m := range reRun.FindAllIndex(out, -1) {
			run := string(out[m[0]:m[1]])
			inBraces := m[0] > 0 && out[m[0]-1] == '{' && m[1] < len(out) && out[m[1]] == '}'
			status := len(run) == 3 && m[0] >= 2 && string(out[m[0]-2:m[0]]) == `" `
			version := len(run) == 1 && m[0] >= 5 && (string(out[m[0]-5:m[0]]) == "HTTP/" || m[0] >= 7 && string(out[m[0]-7:m[0]-2]) == "HTTP/")
			if !(inBraces && words[run]) && !words[run] && !status && !version {
				t.Fatalf("%q kept in %q (from %q)", run, out, line)
			}
		}
	})
}

var reRun = regexp.MustCompile(`[A-Za-z0-9_\x80-\xff]+`)

// FuzzServerFormats: the CDN, load-balancer, proxy and JSON formats in auto
// mode, seeded with the first line of each peer test log.
func FuzzServerFormats(f *testing.F) {
	var seeds []string
	for _, name := range []string{"elb", "alb", "amazon_cloudfront_web", "iis", "netscaler", "s3", "haproxy", "caddy_json", "traefik_json", "nginx_json", "gandi"} {
		seeds = append(seeds, string(peerLine(f, name)))
	}
	seeds = append(seeds, `1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ - DIRECT/74.125.45.104 text/html`,
		// a header, then a line it says how to read (the worker keeps the header)
		`#Fields: date time c-ip cs(User-Agent) cs-uri-stem sc-status`, `2026-11-27 10:00:00 81.2.69.160 Mozilla/5.0+(X11) /a/1.2.3.4 200`)
	fuzzFormat(f, "auto", seeds...)
}
