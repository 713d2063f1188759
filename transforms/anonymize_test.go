package transforms

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/logveil/logveil/internal/schematest"
	"github.com/logveil/logveil/schema"
)

// process runs one line through a worker and returns the JSON event.
func process(t *testing.T, w *Worker, line string) map[string]any {
	t.Helper()
	if err := w.Process([]byte(line)); err != nil {
		t.Fatalf("Process(%q): %v", line, err)
	}
	out := w.AppendJSON(nil, &w.Rec, nil)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", out, err)
	}
	return m
}

const tsPart = `[10/Oct/2000:13:55:36 -0700]`

func combined(client, target, ref, ua string) string {
	return client + ` - user@example.com ` + tsPart + ` "GET ` + target + ` HTTP/1.1" 200 512 "` + ref + `" "` + ua + `"`
}

func TestCountryUsesFullAddress(t *testing.T) {
	for name, db := range map[string]string{"geoip2": geoip2CountryDB(t), "country_code": countryCodeDB(t)} {
		t.Run(name, func(t *testing.T) {
			a := newTestAnonymizer(t, Config{CountryDB: db, ASNDB: asnDB(t)})
			w := a.NewWorker()
			f := func(client, country string, asn float64, network string) {
				t.Helper()
				m := process(t, w, combined(client, "/", "-", "-"))
				if m["country"] != country || m["client_network"] != network {
					t.Errorf("%s: country %v network %v, want %s %s", client, m["country"], m["client_network"], country, network)
				}
				if asn != 0 && m["asn"] != asn {
					t.Errorf("%s: asn %v, want %v", client, m["asn"], asn)
				}
			}
			// 81.2.69.200 is FR; its /24 network address 81.2.69.0 would say GB.
			f("81.2.69.200", "FR", 3215, "81.2.69.0/24")
			f("81.2.69.5", "GB", 20712, "81.2.69.0/24")
			f("[2a02:cf40::1234]:443", "NO", 29695, "2a02:cf40::/32")
			f("::ffff:89.160.20.7", "SE", 29518, "89.160.20.0/24")
			f("192.168.1.20", CountryPrivate, 0, "192.168.1.0/24")
			f("100.64.3.4", CountryPrivate, 0, "100.64.3.0/24")
			f("8.8.8.8", CountryUnknown, 0, "8.8.8.0/24")
			f("216.160.83.56:8080", "US", 209, "216.160.83.0/24")
			// IPv6 with a port and no brackets, where the port is plain:
			// a five-digit last group, nine groups, a mapped IPv4.
			f("2a02:cf40::1234:51234", "NO", 29695, "2a02:cf40::/32")
			f("2a02:cf40:1:2:3:4:5:6:443", "NO", 29695, "2a02:cf40::/32")
			f("::ffff:89.160.20.7:8080", "SE", 29518, "89.160.20.0/24")
			// GeoIP2 records carry the continent; for country_code
			// databases it comes from the country.
			for client, want := range map[string]string{"81.2.69.5": "EU", "216.160.83.56": "NA", "2001:480::1": "NA"} {
				if m := process(t, w, combined(client, "/", "-", "-")); m["continent"] != want {
					t.Errorf("%s: continent %v, want %s", client, m["continent"], want)
				}
			}
		})
	}
}

func TestOpenDBErrors(t *testing.T) {
	if _, err := NewAnonymizer(testPolicy(t, Config{CountryDB: asnDB(t)})); err == nil || !strings.Contains(err.Error(), "country_db") {
		t.Errorf("ASN database as country_db: err = %v", err)
	}
	if _, err := NewAnonymizer(testPolicy(t, Config{ASNDB: geoip2CountryDB(t)})); err == nil || !strings.Contains(err.Error(), "asn_db") {
		t.Errorf("country database as asn_db: err = %v", err)
	}
	if _, err := NewAnonymizer(testPolicy(t, Config{CountryDB: "/nonexistent.mmdb"})); err == nil {
		t.Error("missing database accepted")
	}
}

func TestConfigErrorsNameFieldAndValue(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		_, err := withDefaults(c).Resolve()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%+v) = %v, want error containing %q", c, err, want)
		}
	}
	f(Config{IPv4Prefix: 33}, "ipv4_prefix: 33")
	f(Config{IPv4Prefix: 32}, "ipv4_prefix: 32")
	f(Config{IPv6Prefix: 129}, "ipv6_prefix: 129")
	f(Config{TimePrecision: "day"}, `time_precision: "day"`)
	f(Config{InputFormat: "bogus"}, `input_format: unknown input format "bogus"`)
	f(Config{TrustedProxies: []string{"10.0.0.0/33"}}, `trusted_proxies: "10.0.0.0/33"`)
	f(Config{RouteTemplates: []string{"blog/{x}"}}, `route_templates: "blog/{x}"`)
	f(Config{MaxLineBytes: 10}, "max_line_bytes: 10")
	f(Config{PolicyVersion: "", QueryAllow: []string{"q"}}, `query_allow: "q" is also a search parameter`)
	c := Default()
	c.PolicyVersion = ""
	if _, err := c.Resolve(); err == nil {
		t.Error("an empty policy_version resolved")
	}
}

// TestPrefixZero: a prefix of 0 keeps nothing of the address; the country
// still comes from the full one.
func TestPrefixZero(t *testing.T) {
	p := testPolicy(t, Config{CountryDB: geoip2CountryDB(t)})
	p.IPv4Prefix, p.IPv6Prefix = 0, 0
	a, err := NewAnonymizer(p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := a.NewWorker()
	// Two addresses of one /0 but different networks: each its own country.
	for client, want := range map[string]string{"81.2.69.5": "GB", "81.2.69.200": "FR"} {
		if m := process(t, w, combined(client, "/", "-", "-")); m["client_network"] != "0.0.0.0/0" || m["country"] != want {
			t.Errorf("prefix 0, %s: %v", client, m)
		}
	}
	if m := process(t, w, combined("2001:480::1", "/", "-", "-")); m["client_network"] != "::/0" || m["country"] != "US" {
		t.Errorf("prefix 0 (IPv6): %v", m)
	}
}

func TestPrefixesConfigurable(t *testing.T) {
	w := newTestAnonymizer(t, Config{IPv4Prefix: 16, IPv6Prefix: 48}).NewWorker()
	if m := process(t, w, combined("203.0.113.77", "/", "-", "-")); m["client_network"] != "203.0.0.0/16" {
		t.Errorf("v4 network %v", m["client_network"])
	}
	if m := process(t, w, combined("2001:db8:aaaa:bbbb::1", "/", "-", "-")); m["client_network"] != "2001:db8:aaaa::/48" {
		t.Errorf("v6 network %v", m["client_network"])
	}
}

func TestXFFTrustedProxies(t *testing.T) {
	w := newTestAnonymizer(t, Config{
		InputFormat:    `%h %t "%r" %>s %b "%{X-Forwarded-For}i"`,
		TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"},
	}).NewWorker()
	f := func(client, xff, want string) {
		t.Helper()
		m := process(t, w, client+` `+tsPart+` "GET / HTTP/1.1" 200 1 "`+xff+`"`)
		if m["client_network"] != want {
			t.Errorf("client %s xff %q: network %v, want %s", client, xff, m["client_network"], want)
		}
	}
	f("10.1.1.1", "198.51.100.7, 10.2.2.2", "198.51.100.0/24")            // right-most untrusted
	f("10.1.1.1", "1.1.1.1, 198.51.100.7", "198.51.100.0/24")             // spoofed left entries ignored
	f("203.0.113.9", "198.51.100.7", "203.0.113.0/24")                    // untrusted peer: XFF ignored
	f("2001:db8::1", "[2001:db8:1::5]:1234", "2001:db8::/32")             // bracketed v6 with port
	f("10.1.1.1", "-", "10.1.1.0/24")                                     // no XFF
	f("10.1.1.1", "junk, 10.3.3.3", "10.3.3.0/24")                        // garbage stops the walk
	f("10.1.1.1", "198.51.100.7,10.2.2.2,  10.9.9.9 ", "198.51.100.0/24") // spacing
}

func TestHostnameClientKeepsRegistrableDomain(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	f := func(client, want string) {
		t.Helper()
		m := process(t, w, combined(client, "/", "-", "-"))
		got, _ := m["client_domain"].(string)
		if got != want || m["client_network"] != nil {
			t.Errorf("%s: client_domain %q network %v, want %q", client, got, m["client_network"], want)
		}
		if line := string(w.AppendLine(nil, &w.Rec)); strings.Contains(line, "73-12") {
			t.Errorf("host part survived: %s", line)
		}
	}
	f("c-73-12-34-56.hsd1.ca.comcast.net", "comcast.net")
	f("host86-1-2-3.range86-1.btcentralplus.co.uk", "btcentralplus.co.uk")
	f("localhost", "")
	f("co.uk", "")
	f("evil\x01name.example.com", "")
}

func TestPathScrub(t *testing.T) {
	w := newTestAnonymizer(t, Config{RouteTemplates: []string{"/blog/{slug}", "/files/*/raw"}}).NewWorker()
	f := func(target, want string) {
		t.Helper()
		m := process(t, w, combined("1.2.3.4", target, "-", "-"))
		if m["path"] != want {
			t.Errorf("path of %q = %v, want %q", target, m["path"], want)
		}
	}
	f("/", "/")
	f("/about/team", "/about/team")
	f("/users/12345/orders/987", "/users/{id}/orders/{id}")
	f("/account/reset/9f86d081884c7d659a2feaa0c55ad015", "/account/reset/{token}")
	f("/o/123e4567-e89b-12d3-a456-426614174000/view", "/o/{id}/view")
	f("/unsubscribe/jane.doe@example.com", "/unsubscribe/{email}")
	f("/unsubscribe/jane.doe%40example.com", "/unsubscribe/{email}")
	f("/u/jane.doe%2540example.com", "/u/{email}")
	f("/debug/192.168.10.23/ping", "/debug/{ip}/ping")
	f("/debug/2001:db8::7/ping", "/debug/{ip}/ping")
	f("/debug/2001%3Adb8%3A%3A7/ping", "/debug/{ip}/ping")
	f("/%10.0.0.100A0000A0", "/{name}") // decodes to no address, but the raw form reads as one
	f("/cart;jsessionid=ABC123DEF456GHI789", "/cart")
	f("/img/12345.jpg", "/img/{id}.jpg")
	f("/api/v1/keys/sk_live_4eC39HqLyjWDarjtT1zdp7dc", "/api/v1/keys/{token}")
	f("/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", "/t/{token}")
	f("/how-to-anonymize-access-logs-in-kafka", "/how-to-anonymize-access-logs-in-kafka")
	f("/blog/my-first-post", "/blog/{slug}")
	f("/files/abc/raw", "/files/*/raw")
	f("/files/abc/raw/more", "/files/abc/raw/more")
	f("/invoice-2024-000123.pdf", "/{number}.pdf")
	f("/2024/11/hello", "/{id}/{id}/hello")
	f("/img/logo@2x.png", "/img/logo@2x.png")
	f("/img/icon@1.5x.webp", "/img/icon@1.5x.webp")
	f("/img/jdoe@example.png", "/img/{email}")
	f("/u/jdoe@2x", "/u/{email}")
	f("/archive/06nov1949", "/archive/{date}")
	f("/events/2002-dec-10", "/events/{date}")
	f("/login/magic/apple-river-stone", "/login/{token}/{token}")
	f("/reset/confirm/apple-river-stone", "/reset/confirm/{token}")
	f("/reset/9f86d081884c7d659a2feaa0c55ad015/done-page", "/reset/{token}/{token}")
}

func TestQueryAndSearchTerms(t *testing.T) {
	w := newTestAnonymizer(t, Config{SearchTermsInEvents: true}).NewWorker()
	f := func(target, query, terms string) {
		t.Helper()
		m := process(t, w, combined("1.2.3.4", target, "-", "-"))
		gq, _ := m["query"].(string)
		gt, _ := m["search_terms"].(string)
		if gq != query || gt != terms {
			t.Errorf("%q: query %q terms %q, want %q %q", target, gq, gt, query, terms)
		}
	}
	f("/p?utm_source=news&session=abc&utm_medium=email", "utm_source=news&utm_medium=email", "")
	f("/p?ref=a%40b.com&token=x", "ref={email}", "")
	f("/p?utm_campaign=10.1.2.3", "utm_campaign={ip}", "")
	f("/p?utm_campaign=%10.1.2.3", "utm_campaign={name}", "")
	f("/p?utm_source=x;uid=48219933", "utm_source=x", "")
	f("/p?utm_source=Max+Mustermann&utm_medium=cpc", "utm_source={name}&utm_medium=cpc", "")
	f("/p?utm_campaign=GA1.2.1234567890.1234567890", "utm_campaign={number}", "")
	f("/p?ref=4111+1111+1111+1111", "ref={card}", "")
	f("/p?utm_medium=%2B1-415-555-2671", "utm_medium={phone}", "")
	f("/p?utm_campaign=black-friday-2026&utm_medium=", "utm_campaign=black-friday-2026&utm_medium=", "")
	f("/search?q=Red+Shoes&page=2", "", "red shoes")
	f("/search?q=call+me+0612345678+or+me%40x.org", "", "call me {phone} or {email}")
	f("/search?q=call+0151+2300+0245", "", "call {phone}")
	f("/search?q=6011+2347+9058+4345", "", "{card}")
	f("/search?q=128-14-1148", "", "{number}")
	f("/search?q=born+1957-02-06", "", "born {date}")
	f("/search?q=12+Baker+Street", "", "{address} baker street")
	f("/search?q=iphone+15+case", "", "iphone 15 case")
	f("/search?q=%20%20Mixed%20%20Case%20&s=second", "", "mixed case second")
	f("/search?query=from+2001:db8::1", "", "from {ip}")
	f("/search?q=", "", "")
}

func TestReferrer(t *testing.T) {
	w := newTestAnonymizer(t, Config{InternalHosts: []string{"shop.example"}}).NewWorker()
	f := func(ref, site, typ string) {
		t.Helper()
		m := process(t, w, combined("1.2.3.4", "/", ref, "-"))
		gs, _ := m["referrer_site"].(string)
		if gs != site || m["referrer_type"] != typ {
			t.Errorf("%q: site %q type %v, want %q %q", ref, gs, m["referrer_type"], site, typ)
		}
	}
	f("-", "", RefDirect)
	f("https://www.google.com/search?q=secret", "https://google.com", RefSearch)
	f("https://www.google.co.uk/", "https://google.co.uk", RefSearch)
	f("https://duckduckgo.com/?q=x", "https://duckduckgo.com", RefSearch)
	f("https://user:pass@Blog.Example.ORG:8443/post/1?email=a@b.c", "https://example.org", RefExternal)
	f("https://www.shop.example/cart", "https://www.shop.example", RefInternal)
	f("http://192.168.7.99:8080/admin", "http://{ip}", RefExternal)
	f("http://[2001:db8:1:2::9]/x", "http://{ip}", RefExternal)
	f("http://1427229944/", "http://{ip}", RefExternal)
	f("http://0x97251392/", "http://{ip}", RefExternal)
	f("https://b663-93-121-209-129.ngrok-free.app/", "https://ngrok-free.app", RefExternal)
	f("https://jdoe.github.io/x", "https://github.io", RefExternal)
	f("http://ec2-54-12-1-9.compute-1.amazonaws.com/", "http://amazonaws.com", RefExternal)
	f("http://lysander-thinkpad:8080/", "http://{host}", RefExternal)
	f("http://alices-macbook-pro.local/", "http://{host}", RefExternal)
	f("http://nas.home.arpa/", "http://{host}", RefExternal)
	f("android-app://com.google.android.gm/", "android-app://com.google", RefExternal)
	f("android-app://com.janedoe-photos/", "android-app://com.janedoe-photos", RefExternal)
	f("chrome-extension://aapbdbdomjkkjkaonfhkkikfgjllcleb/", "chrome-extension://{host}", RefExternal)
	f("ftp://files.jane-doe.example.org/pub/cv.pdf", "ftp://example.org", RefExternal)
	f("ftp://192.168.1.20/x", "ftp://{ip}", RefExternal)
	f("http://5.6.7.8a/", "http://{host}", RefExternal)
	f("https://1.2.3.4.nip.io/x", "https://nip.io", RefExternal)
	f("https://93-121-209-129.example.com/x", "https://example.com", RefExternal)
	f("https://93-121-209-129.com/x", "https://{ip}", RefExternal)
	f("not a url", "", RefUnknown)
	f("https://exa mple.com/", "", RefUnknown)
}

func TestUserAgent(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	f := func(ua, browser, major, os, device string, bot bool) {
		t.Helper()
		for range 2 { // second pass comes from the cache
			m := process(t, w, combined("1.2.3.4", "/", "-", ua))
			gv, _ := m["browser_version"].(string)
			if m["browser"] != browser || gv != major || m["os"] != os || m["device"] != device || m["bot"] != bot {
				t.Errorf("%q: %v %v %v %v %v", ua, m["browser"], gv, m["os"], m["device"], m["bot"])
			}
		}
	}
	f("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36", "Chrome", "118", "Windows", "Desktop", false)
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari", "17", "iOS", "Mobile", false)
	f("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Other", "", "Other", "Bot", true)
	f("curl/8.4.0", "Other", "", "Other", "Bot", true)
	// A version that is not a small number is not written.
	f("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/4155550134", "Firefox", "", "Linux", "Desktop", false)
	f("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/0132", "Firefox", "", "Linux", "Desktop", false)
	f("-", "Other", "", "Other", "Unknown", false)
}

func TestTimePrecision(t *testing.T) {
	f := func(p, want string) {
		t.Helper()
		w := newTestAnonymizer(t, Config{TimePrecision: p}).NewWorker()
		m := process(t, w, `1.2.3.4 - - [10/Oct/2000:13:55:36 +0530] "GET / HTTP/1.1" 200 1 "-" "-"`)
		if m["time"] != want {
			t.Errorf("precision %s: time %v, want %s", p, m["time"], want)
		}
		// The rewritten line keeps the zone and shows the truncated local time.
		line := string(w.AppendLine(nil, &w.Rec))
		if p == "hour" && !strings.Contains(line, "[10/Oct/2000:13:00:00 +0530]") {
			t.Errorf("hour precision line: %s", line)
		}
	}
	f("second", "2000-10-10T08:25:36Z")
	f("minute", "2000-10-10T08:25:00Z")
	f("hour", "2000-10-10T07:30:00Z")
}

func TestAppendLineRewritesInOwnFormat(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	f := func(format, in, want string) {
		t.Helper()
		w.a.p.format, _ = NewFormat(format)
		if format == "auto" {
			w.a.p.format = nil
		}
		if err := w.Process([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := string(w.AppendLine(nil, &w.Rec)); got != want {
			t.Errorf("AppendLine(%q)\n got %s\nwant %s", in, got, want)
		}
	}
	f("combined",
		`203.0.113.77 - frank [10/Oct/2000:13:55:36 -0700] "GET /users/42?utm_source=x&sid=9 HTTP/1.1" 200 2326 "https://www.a.example.com/p?x=1" "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0" 0.123`,
		`203.0.113.0 - - [10/Oct/2000:13:55:36 -0700] "GET /users/{id}?utm_source=x HTTP/1.1" 200 2326 "https://example.com" "Firefox/119 (Linux; Desktop)"`)
	f("common",
		`2001:db8:1234::5 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03" 400 -`,
		`2001:db8:: - - [10/Oct/2000:13:55:36 -0700] "-" 400 -`)
	f(`$remote_addr [$time_local] "$request" $status "$http_x_forwarded_for" $request_time`,
		`198.51.100.3 [10/Oct/2000:13:55:36 -0700] "GET /a\x22b/c HTTP/1.1" 200 "9.9.9.9" 0.5`,
		`198.51.100.0 [10/Oct/2000:13:55:36 -0700] "GET /{name}/c HTTP/1.1" 200 "-" 0.500`)
	f("auto",
		`{"remote_addr":"198.51.100.3","time_iso8601":"2000-10-10T13:55:36-07:00","request":"GET /s?q=hi HTTP/1.1","status":200,"body_bytes_sent":5,"http_user_agent":"curl/8.0","http_x_forwarded_for":"9.9.9.9"}`,
		`{"remote_addr":"198.51.100.0","time_iso8601":"2000-10-10T20:55:36Z","request":"GET /s HTTP/1.1","status":200,"body_bytes_sent":5,"http_referer":"","http_user_agent":"Other (Other; Bot)"}`)
}

func TestRejectedLineRedacted(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(AppendRedactedLine(nil, []byte(in))); got != want {
			t.Errorf("AppendRedactedLine(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f(`203.0.113.7 garbage john@example.com [2001:db8::1]:80 x`, `{ip} {w} {email} {ip} {w}`)
	f(`GET /r?e=jane%2540x.org&ip=10.1.2.3&t=9f86d081884c7d659a2feaa0c55ad015 "ua"`, `GET /{w}?{email}&{ip}&{token} "{w}"`)
	f("bell\x07and\x00nul", "{w} {w} {w}")
	f(`10/Oct/2000:13:55:36 -0700 plain`, `{n}/Oct/{n}:{n}:{n}:{n} -{n} {w}`)
	// The shape of a line the parser refused: format words, the status after
	// the request and the protocol stay; the rest is classes.
	f(`203.0.113.9 - John Smith [10/Oct/2000:13:55:36 -0700] "GET /users/jdoe/call/0151-2300-0245?name=Max+M%C3%BCller HTTP/1.1" 200 512 "https://b663-93-121-209-129.ngrok-free.app/" "Mozilla/5.0 (X11)"`,
		`{ip} - {w} {w} [{n}/Oct/{n}:{n}:{n}:{n} -{n}] "GET /{w}/{w}/{w}/{n}-{n}-{n}?{w}={w}+{w} HTTP/1.1" 200 {n} "https://{w}{n}-{n}-{n}-{n}-{n}.{w}-{w}.{w}/" "{w}/{n}.{n} ({w}{n})"`)
	f(`{"remote_addr":"1.2.3.4","time_iso8601":"bad","remote_user":"jdoe"}`, `{"remote_addr":"{ip}","time_iso8601":"{w}","remote_user":"{w}"}`)
}

func TestEventSchemaFields(t *testing.T) {
	w := newTestAnonymizer(t, Config{PolicyVersion: "2026-01", SearchTermsInEvents: true}).NewWorker()
	if err := w.Process([]byte(combined("1.2.3.4", "/a?q=x", "-", "-"))); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	out := w.AppendJSON(nil, &w.Rec, []byte("raw-0-42"))
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"schema_version": 1.0, "policy_version": "2026-01", "id": "raw-0-42",
		"time": "2000-10-10T20:55:36Z", "status": 200.0, "bytes": 512.0, "method": "GET", "path": "/a",
		"search_terms": "x", "protocol": "HTTP/1.1", "ip_version": 4.0, "referrer_type": "direct"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if strings.Contains(string(out), "user@example.com") || strings.Contains(string(out), "1.2.3.4") {
		t.Errorf("identifier in event: %s", out)
	}
}

func TestInvalidUTF8Output(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	line := `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /caf\xe9/\xff/caf%C3%A9 HTTP/1.1" 200 1 "https://h\xffst.example.com/" "\xff\xfeMozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0"`
	if err := w.Process([]byte(line)); err != nil {
		t.Fatal(err)
	}
	for _, out := range [][]byte{w.AppendJSON(nil, &w.Rec, nil), w.AppendLine(nil, &w.Rec)} {
		if !utf8.Valid(out) {
			t.Errorf("invalid UTF-8 written: %q", out)
		}
	}
	// Invalid UTF-8 is no route: the segment is replaced; valid é is kept.
	m := process(t, w, line)
	if m["path"] != "/{name}/{name}/caf%C3%A9" || m["referrer_type"] != RefUnknown || m["browser"] != "Firefox" {
		t.Errorf("path %q referrer %v browser %v", m["path"], m["referrer_type"], m["browser"])
	}
}

// TestPlainSegmentIsSound: the fast path never keeps a segment the full
// classifier would replace.
func TestPlainSegmentIsSound(t *testing.T) {
	alphabet := []byte("abcdefgxyz-_.~")
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		n := 1 + rng.IntN(40)
		s := make([]byte, n)
		for i := range s {
			s[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if plainSegment(s) {
			if cls, _ := classifySegment(s); cls != ClassNone {
				t.Fatalf("fast path keeps %q, classifier says %s", s, cls)
			}
		}
	}
	for _, s := range []string{"deadbeefcafebabe0", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "deadbeefcafebabedeadbeef"} {
		if plainSegment([]byte(s)) {
			t.Errorf("fast path keeps %q", s)
		}
	}
}

func TestAppendPrefix(t *testing.T) {
	for _, s := range []string{"0.0.0.0/0", "1.2.3.0/24", "255.255.255.0/24", "10.0.0.0/8", "100.64.0.0/10", "2001:db8::/32", "::/0",
		"2a02:cf40::/32", "0:0:1::/48", "1:0:0:2::/64", "0:1::/32", "ffff:ffff:ffff:ffff::/64", "2001:db8:0:1::/64", "0:0:0:1::/64"} {
		p := netip.MustParsePrefix(s)
		if got := string(appendPrefix(nil, p)); got != p.String() {
			t.Errorf("appendPrefix(%s) = %s", p, got)
		}
	}
}

func TestAppendPrefixRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		var b [16]byte
		for i := range b[:8] {
			if rng.IntN(3) > 0 {
				b[i] = byte(rng.Uint32())
			}
		}
		bits := rng.IntN(65)
		p, _ := netip.AddrFrom16(b).Prefix(bits)
		if got := string(appendPrefix(nil, p)); got != p.String() {
			t.Fatalf("appendPrefix(%s) = %s", p, got)
		}
	}
}

func TestIsPrivateV4(t *testing.T) {
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	old := func(a netip.Addr) bool {
		return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
			a.IsMulticast() || a.IsLinkLocalMulticast() || cgnat.Contains(a)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 1000000 {
		a := netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		got, want := isPrivate(a), old(a)
		extra := a.As4()[0] == 0 || a.As4()[0] >= 240 // this-network and reserved: also unplaceable
		if got != want && !(got && extra) {
			t.Fatalf("isPrivate(%s) = %v, reference %v", a, got, want)
		}
	}
}

// TestNoStatusLogged: a format without a status field (Apache's stock
// ssl_request_log) gives an event without "status" — valid JSON that the
// schema accepts — and a rewritten line with "-" where the status would be.
func TestNoStatusLogged(t *testing.T) {
	w := newTestAnonymizer(t, Config{InputFormat: `%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b`}).NewWorker()
	m := process(t, w, `[10/Oct/2000:13:55:36 +0000] 203.0.113.9 TLSv1.3 TLS_AES_256_GCM_SHA384 "GET /shop HTTP/1.1" 512`)
	if _, ok := m["status"]; ok || m["path"] != "/shop" {
		t.Errorf("event %v", m)
	}
	schematest.Validate(t, schematest.Compile(t, "event.v1.json", schema.EventV1), w.AppendJSON(nil, &w.Rec, []byte("raw-0-1")))
	// A JSON line without status, rewritten as JSON.
	w = newTestAnonymizer(t, Config{}).NewWorker()
	m = process(t, w, `{"remote_addr":"203.0.113.9","time_iso8601":"2000-10-10T13:55:36Z","request":"GET /shop HTTP/1.1"}`)
	if _, ok := m["status"]; ok {
		t.Errorf("event %v", m)
	}
	line := w.AppendLine(nil, &w.Rec)
	var lm map[string]any
	if err := json.Unmarshal(line, &lm); err != nil || lm["status"] != nil {
		t.Errorf("line %s: %v", line, err)
	}
}

// TestDamagedDatabaseRefused: a database with junk before it, or with a
// record's bytes changed (its tree and metadata intact), is refused when
// opened, naming the file; a sound one opens. A database without any of
// the well-known public addresses opens with a warning.
func TestDamagedDatabaseRefused(t *testing.T) {
	for name, path := range map[string]string{"country_code": countryCodeDB(t), "geoip2": geoip2CountryDB(t)} {
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		g, err := OpenCountryDB(path)
		if err != nil {
			t.Fatalf("%s: the sound file: %v", name, err)
		}
		if !strings.Contains(g.Warning, "well-known public addresses") {
			t.Errorf("%s: a fixture without 8.8.8.8 and the like: warning %q", name, g.Warning)
		}
		g.Close()
		// A record's country code "SE" (a UTF-8 string of 2 bytes: 0x42)
		// made "S\x01", in the data section.
		i := bytes.Index(good, []byte("\x42SE"))
		if i < 0 {
			t.Fatalf("%s: no SE record in the fixture", name)
		}
		flipped := bytes.Clone(good)
		flipped[i+2] = 0x01
		for what, b := range map[string][]byte{"junk before it": append([]byte("JUNKJUNKJUNK"), good...), "a byte flipped": flipped} {
			p := filepath.Join(t.TempDir(), "bad.mmdb")
			os.WriteFile(p, b, 0o644)
			if g, err := OpenCountryDB(p); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), p) {
				g.Close()
				t.Errorf("%s, %s: %v", name, what, err)
			}
		}
	}
	if db := os.Getenv("LOGVEIL_TEST_COUNTRY_DB"); db != "" {
		g, err := OpenCountryDB(db)
		if err != nil || g.Warning != "" {
			t.Errorf("the real database: %v %q", err, g.Warning)
		}
		g.Close()
	}
}
