package transforms

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestScrubText(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(appendScrubbedText(nil, []byte(in))); got != want {
			t.Errorf("appendScrubbedText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	f("red running shoes", "red running shoes")
	f("iphone 15 pro 256gb", "iphone 15 pro 256gb")
	// phones: international, national trunk prefix, US shapes, tel: prefix
	f("call +1-415-550-2016 now", "call {phone} now")
	f("+49 151 23000245", "{phone}")
	f("call 0151 2300 0245", "call {phone}")
	f("(415) 555-2671", "{phone}")
	f("415.555.2671", "{phone}")
	f("tel:+14155550123", "{phone}")
	// cards (Luhn), IMEI, IBAN (mod 97), national ids, other long numbers
	f("6011 1111 1111 1117", "{card}")
	f("4111-1111-1111-1111", "{card}")
	f("3782 822463 10005", "{card}")
	f("35-209900-176148-1", "{imei}")
	f("DE89 3704 0044 0532 0130 00 please", "{iban} please")
	f("gb29nwbk60161331926819", "{iban}")
	f("128-14-1148", "{number}")
	f("order 2024 of 12345", "order {number} of {number}")
	// addresses: dotted, dashed, hex, v6; MAC; coordinates
	f("from 10.1.2.3 or 86-248-48-74", "from {ip} or {ip}")
	f("0x91B15448", "{ip}")
	f("fe80::1%eth0 and 2001:db8::7", "{ip} and {ip}")
	f("mac 00:1A:2B:3C:4D:5E 001a.2b3c.4d5e 0004f2a1b2c3", "mac {mac} {mac} {mac}")
	f("at 50.4581,10.7037 or -33.8688, 151.2093", "at {geo} or {geo}")
	f("50°27'29.2\"N 10°42'13\"E", "{geo} {geo}")
	// dates of birth, numeric and with month names
	f("born 1957-02-06", "born {date}")
	f("06.02.1957, 02/06/1957, 6.2.57", "{date}, {date}, {date}")
	f("6 Feb 1957, February 6th 1957", "{date}, {date}")
	f("06nov1949 2002-dec-10 jan-22-41 22-jan-41", "{date} {date} {date} {date}")
	f("in nov 12 people", "in nov 12 people")
	// emails, obfuscated too; tokens; base64 of an email or a number
	f("mail jane.doe+x@example.org", "mail {email}")
	f("jdoe(at)example.com", "{email}")
	f("jdoe [at] example.com", "{email}")
	f("code kq8x2m", "code {code}")
	f("am9obkBleGFtcGxlLmNvbQ== NDgyMTk5MzM=", "{token} {token}")
	f("GA1.2.1234567890.1234567890", "{number}")
	// postcodes and house numbers
	f("sw1a 1aa", "{address}")
	f("K1A 0B1", "{address}")
	f("D02 X285", "{address}")
	f("10115 berlin", "{number} berlin")
	f("12 baker street", "{address} baker street")
	f("hauptstraße 12", "hauptstraße {address}")
}

func TestClassifySegment(t *testing.T) {
	f := func(in string, want Class) {
		t.Helper()
		if got, _ := classifySegment([]byte(in)); got != want {
			t.Errorf("classifySegment(%q) = %v, want %v", in, got, want)
		}
	}
	for _, keep := range []string{"products", "red-running-shoes", "blog_post", "index.html", "v2", "x86_64",
		"iphone-15-pro", "jquery-3.7.1.min.js", "2024-report", "schuhe-für-damen", "ニュース", ".well-known"} {
		f(keep, ClassNone)
	}
	f("12345", ClassID)
	f("2024", ClassID)
	f("123e4567-e89b-12d3-a456-426614174000", ClassID)
	f("+1-415-550-2016", ClassPhone)
	f("5125-5168-5764-0548", ClassCard)
	f("107-11-1037", ClassNumber)
	f("86-248-48-74", ClassIP)
	f("0x91B15448", ClassIP)
	f("0004f2a1b2c3.cfg", ClassMAC)
	f("@50.4581,10.7037,17z", ClassGeo)
	f("1957-02-06", ClassDate)
	f("born-6-feb-1957", ClassDate)
	f("Maximilian Kaczmarczyk", ClassName)
	f("JohnSmith", ClassName)
	f("~jdoe", ClassName)
	f("Summer2024!", ClassName)
	f("a7f3k9", ClassCode)
	f("am9obkBleGFtcGxlLmNvbQ", ClassToken)
	f("jane.doe@example.com", ClassEmail)
	f("caf\xe9", ClassName) // invalid UTF-8
}

func TestPathParents(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, _ := appendScrubbedPath(nil, []byte(in), nil, []string{"Impressum"}, nil, nil)
		if string(got) != want {
			t.Errorf("path %q = %q, want %q", in, got, want)
		}
	}
	f("/users/jdoe", "/users/{name}")
	f("/users/jdoe/settings", "/users/{name}/settings")
	f("/users/sign_in", "/users/sign_in")
	f("/u/jane.doe", "/u/{name}")
	f("/~jdoe/index.html", "/~{name}/index.html")
	f("/@jdoe", "/@{name}")
	f("/reset/abcdefgh", "/reset/{token}")
	f("/password/reset", "/password/reset")
	f("/api/otp/send/+1-415-550-2016", "/api/otp/send/{phone}")
	f("/cards/for/Maximilian%20Kaczmarczyk", "/cards/for/{name}")
	f("/Impressum", "/Impressum")
	f("/account/orders/100123", "/account/orders/{id}")
}

func TestSiteClass(t *testing.T) {
	f := func(in, keep string, cls Class) {
		t.Helper()
		k, c := siteClass([]byte(in), false)
		if string(k) != keep || c != cls {
			t.Errorf("siteClass(%q) = %q %v, want %q %v", in, k, c, keep, cls)
		}
	}
	f("www.google.co.uk", "google.co.uk", ClassNone)
	f("b663-93-121-209-129.ngrok-free.app", "ngrok-free.app", ClassNone)
	f("ec2-54-1-2-3.compute-1.amazonaws.com", "amazonaws.com", ClassNone)
	f("jdoe.github.io", "github.io", ClassNone)
	f("jdoe-photos.s3.amazonaws.com", "s3.amazonaws.com", ClassNone) // the private suffix, not just amazonaws.com
	f("foo.bar.eu.ngrok.io", "eu.ngrok.io", ClassNone)
	f("x.r.appspot.com", "appspot.com", ClassNone) // a wildcard suffix holds the user's label
	f("1427229944", "", ClassIP)
	f("081.241.209.138", "", ClassIP)
	f("0x97251392", "", ClassIP)
	f("lysander-thinkpad", "", ClassHost)
	f("alices-macbook-pro.local", "", ClassHost)
	f("nas.home.arpa", "", ClassHost)
	f("db.internal", "", ClassHost)
	f("93-121-209-129.com", "", ClassIP)
	f("c-73-12-34-56.hsd1.ca.comcast.net", "comcast.net", ClassNone)
}

// Independent checks (regexps are fine in tests): what appendScrubbedText
// writes holds no email, no address with host bits, no run of four digits,
// and no 13-19 digit number however it is grouped.
var (
	reEmail  = regexp.MustCompile(`[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.[A-Za-z]{2,}`)
	reDigits = regexp.MustCompile(`[0-9]{4}`)
	reCard   = regexp.MustCompile(`[0-9](?:[ -]?[0-9]){12,18}`)
)

func FuzzScrubText(f *testing.F) {
	for _, s := range []string{"call 0151 2300 0245", "jane@x.org", "10.1.2.3", "4111 1111 1111 1111",
		"DE89 3704 0044 0532 0130 00", "50.4581,10.7037", "6 Feb 1957", "am9obkBleGFtcGxlLmNvbQ=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := string(appendScrubbedText(nil, []byte(in)))
		for _, re := range []*regexp.Regexp{reEmail, reDigits, reCard} {
			if m := re.FindString(out); m != "" {
				t.Fatalf("%q survives in %q (from %q)", m, out, in)
			}
		}
		checkNoHostBits(t, in, []byte(out), 0, 0)
		// Scrubbing is stable: a scrubbed text is scrubbed again unchanged.
		if again := string(appendScrubbedText(nil, []byte(out))); again != out {
			t.Fatalf("not stable: %q -> %q -> %q", in, out, again)
		}
	})
}

// FuzzSegment: a path segment classifySegment keeps is route-like by an
// independent definition.
func FuzzSegment(f *testing.F) {
	for _, s := range []string{"products", "x86_64", "+1-415-550-2016", "0004f2a1b2c3.cfg", "Maximilian Kaczmarczyk", "a7f3k9"} {
		f.Add(s)
	}
	route := regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{Lm}\p{M}\p{Nd}._-]*$`)
	scale := regexp.MustCompile(`.@(?:[1-4]|1\.5)x(\.[a-z0-9]{1,5})$`) // logo@2x.png
	f.Add("logo@2x.png")
	f.Fuzz(func(t *testing.T, seg string) {
		if cls, _ := classifySegment([]byte(seg)); cls == ClassNone {
			if m := scale.FindStringSubmatchIndex(seg); m != nil {
				seg = seg[:m[0]+1] + seg[m[2]:]
			}
			if !route.MatchString(seg) || regexp.MustCompile(`[0-9]{5}`).MatchString(seg) || strings.Contains(seg, "@") {
				t.Fatalf("kept %q", seg)
			}
		}
	})
}

// TestPlainTextIsSound: the fast path never keeps a text the scanner would
// change.
func TestPlainTextIsSound(t *testing.T) {
	alphabet := []byte("abcdefABCDEFxyzXYZ -._,'!?\"&")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300000 {
		s := make([]byte, 1+rng.IntN(40))
		for i := range s {
			s[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if plainText(s) {
			if _, _, cls := nextIdentifier(s, 0, scanOpts{minDigits: 4, street: namesStreet(s)}); cls != ClassNone {
				t.Fatalf("fast path keeps %q, scanner finds %v", s, cls)
			}
		}
	}
}

// TestOrdinaryRoutesKept: the routes of common site software keep their
// path; what default-deny replaces in them is listed.
func TestOrdinaryRoutesKept(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	f := func(path, want string) {
		t.Helper()
		if want == "" {
			want = path
		}
		m := process(t, w, combined("1.2.3.4", path, "-", "-"))
		if m["path"] != want {
			t.Errorf("%s -> %v, want %s", path, m["path"], want)
		}
	}
	for _, p := range []string{"/", "/wp-login.php", "/wp-admin/admin-ajax.php", "/wp-json/wp/v2/posts",
		"/wp-content/themes/twentytwentyfour/style.css", "/category/uncategorized/", "/tag/privacy/", "/feed/",
		"/robots.txt", "/sitemap.xml", "/favicon.ico", "/apple-touch-icon-precomposed.png", "/.well-known/security.txt",
		"/collections/all", "/products/wool-socks", "/cart", "/checkout", "/blog/how-to-choose-running-shoes",
		"/api/v2/orders", "/docs/getting-started/installation", "/en-us/help/faq", "/static/css/site.min.css",
		"/assets/js/jquery-3.7.1.min.js", "/users/sign_in", "/users/password/new", "/account/login", "/search",
		"/node/edit", "/about-us", "/de/produkte/schuhe-für-damen", "/blog/iphone-15-vs-pixel-8"} {
		f(p, "")
	}
	f("/2024/03/hello-world/", "/{id}/{id}/hello-world/")
	f("/static/js/main.8f3a2b1c.js", "/static/js/{code}.js")
	f("/products/12345", "/products/{id}")
	f("/Impressum", "/{name}")
}
