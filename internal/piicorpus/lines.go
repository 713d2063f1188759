package piicorpus

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
)

// Plant is one identifier placed in a line.
type Plant struct {
	Category Category
	Value    string
	Field    string // where it was put: path, query, search, referrer-host, ...
}

// Line is one generated line.
type Line struct {
	Text   string
	Format string // the format it is written in (an --input-format value)
	Broken bool   // no parser can read it: it must end up in the rejects
	Plants []Plant
}

// Formats the generator writes, as logveil's --input-format values.
const (
	FormatApache = `%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" \"%{Cookie}i\" %{Host}i`
	FormatNginx  = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $host`
)

var formats = []string{"combined", "common", "vhost_combined", "json", FormatApache, FormatNginx}

// Gen generates lines. It is not safe for concurrent use.
type Gen struct {
	rng *rand.Rand
}

// New returns a generator.
func New(seed uint64) *Gen {
	return &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))}
}

// Where each category can be planted so that a rule of logveil's applies:
// every category anywhere it is dropped whole (user agent, auth user,
// referrer path, cookie, X-Forwarded-For); path segments, query values and
// search terms for what the classifier recognises; hosts for host names.
var (
	anywhere    = All
	inPath      = without(All, UserName, Password, ShortCode, PrivateHost, PrivateSuffx, HostWithIP, Street, Postcode, IPv4Decimal)
	inQuery     = without(All, UserName, Password, PrivateHost, PrivateSuffx, HostWithIP, Street, Postcode)
	inSearch    = without(All, UserName, FullName, Password, PrivateHost, PrivateSuffx, HostWithIP)
	inHost      = []Category{HostWithIP, PrivateHost, PrivateSuffx, IPv4, IPv4Decimal, IPv4Hex, IPv4Padded}
	inClient    = []Category{IPv4, IPv4Padded, IPv6}
	identParent = []string{"users", "u", "profile", "people", "author", "members"}
	secretPar   = []string{"reset", "password", "invite", "verify", "unsubscribe", "otp"}
)

func without(l []Category, drop ...Category) []Category {
	var out []Category
	for _, c := range l {
		keep := true
		for _, d := range drop {
			keep = keep && c != d
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

func (g *Gen) cat(l []Category) Category { return l[g.rng.IntN(len(l))] }

// Line returns a line with identifiers planted in every field its format has.
func (g *Gen) Line() Line {
	r := g.rng
	var plants []Plant
	plant := func(field string, from []Category) string {
		c := g.cat(from)
		v := g.Value(c)
		plants = append(plants, Plant{c, v, field})
		return v
	}
	client := plant("client", inClient)
	if strings.Contains(client, ":") {
		switch r.IntN(3) {
		case 0:
			client = "[" + client + "]:" + fmt.Sprint(1024+r.IntN(60000))
		case 1:
			client = "::ffff:" + g.v4s()
		}
	} else if r.IntN(4) == 0 {
		client += fmt.Sprint(":", 1024+r.IntN(60000))
	}

	// The request target: segments of words, one planted value, maybe after
	// a parent that says what it is.
	var path strings.Builder
	path.WriteString("/" + g.pick([]string{"shop", "api/v2", "account", "blog", "files", "maps"}))
	switch r.IntN(4) {
	case 0:
		v := plant("path", []Category{UserName})
		if r.IntN(3) == 0 {
			path.WriteString("/~" + v)
		} else if r.IntN(2) == 0 {
			path.WriteString("/@" + v)
		} else {
			path.WriteString("/" + g.pick(identParent) + "/" + url.PathEscape(v))
		}
	case 1:
		v := plant("path", []Category{Password, ShortCode, HexToken})
		path.WriteString("/" + g.pick(secretPar) + "/" + url.PathEscape(v))
	default:
		v := plant("path", inPath)
		path.WriteString("/" + g.pick([]string{"call", "cards", "geo", "verify", "by", "x"}) + "/" + g.encodeSeg(v))
		if r.IntN(3) == 0 {
			path.WriteString(g.pick([]string{".cfg", ".json", ".html", ""}))
		}
	}
	q := url.Values{}
	q.Set(g.pick([]string{"utm_source", "utm_medium", "utm_campaign", "ref"}), plant("query", inQuery))
	q.Set(g.pick([]string{"q", "search", "s"}), plant("search", inSearch))
	q.Set(g.pick([]string{"email", "phone", "uid", "lat", "token"}), plant("query-dropped", anywhere))
	target := path.String() + "?" + q.Encode()
	if r.IntN(4) == 0 {
		target = strings.Replace(target, "&", ";", 1)
	}

	refHost := plant("referrer-host", inHost)
	referrer := g.pick([]string{"https://", "http://"}) + refHost + "/" + url.PathEscape(plant("referrer-path", anywhere)) +
		"?u=" + url.QueryEscape(plant("referrer-query", anywhere))
	if r.IntN(4) == 0 {
		referrer = "https://" + url.PathEscape(plant("referrer-userinfo", []Category{UserName, Email})) + ":pw@www.example.com/"
	}
	ua := "Mozilla/5.0 (X11; Linux x86_64; " + plant("user-agent", anywhere) + ") Gecko/20100101 Firefox/132.0"
	user := plant("auth-user", anywhere)
	host := plant("host", inHost)
	cookie := "sid=" + plant("cookie", anywhere)
	xff := plant("x-forwarded-for", []Category{IPv4, IPv6})
	ts := fmt.Sprintf("%02d/Nov/2026:%02d:%02d:%02d +0100", 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
	status, size := g.pick([]string{"200", "404", "302", "500"}), fmt.Sprint(r.IntN(100000))

	format := formats[r.IntN(len(formats))]
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) }
	req := "GET " + target + " HTTP/1.1"
	var text string
	switch format {
	case "combined":
		text = fmt.Sprintf(`%s - %s [%s] "%s" %s %s "%s" "%s"`, client, esc(user), ts, esc(req), status, size, esc(referrer), esc(ua))
	case "common":
		text = fmt.Sprintf(`%s - %s [%s] "%s" %s %s`, client, esc(user), ts, esc(req), status, size)
	case "vhost_combined":
		text = fmt.Sprintf(`%s:443 %s - %s [%s] "%s" %s %s "%s" "%s"`, host, client, esc(user), ts, esc(req), status, size, esc(referrer), esc(ua))
	case "json":
		text = fmt.Sprintf(`{"remote_addr":%q,"remote_user":%q,"time_local":%q,"request":%q,"status":%s,"body_bytes_sent":%s,"http_referer":%q,"http_user_agent":%q,"http_x_forwarded_for":%q,"host":%q,"http_cookie":%q}`,
			client, user, ts, req, status, size, referrer, ua, xff, host, cookie)
	case FormatApache:
		text = fmt.Sprintf(`%s - %s [%s] "%s" %s %s "%s" "%s" "%s" %s`, client, esc(user), ts, esc(req), status, size, esc(referrer), esc(ua), esc(cookie), host)
	case FormatNginx:
		text = fmt.Sprintf(`%s - %s [%s] "%s" %s %s "%s" "%s" "%s" %s`, client, esc(user), ts, esc(req), status, size, esc(referrer), esc(ua), xff, host)
	}
	// Auth users with spaces are quoted by nobody: the line no longer parses.
	if strings.ContainsAny(user, " ") && format != "json" {
		return Line{Text: text, Format: format, Broken: true, Plants: plants}
	}
	return Line{Text: text, Format: format, Plants: plants}
}

// encodeSeg writes a value into a path segment the ways clients do: as it
// is where it is a valid segment, percent-encoded, or double-encoded.
func (g *Gen) encodeSeg(v string) string {
	switch g.rng.IntN(3) {
	case 0:
		return strings.NewReplacer("%", "%25", " ", "%20", "/", "%2F", "?", "%3F", "#", "%23").Replace(v)
	case 1:
		return percentAll(v)
	}
	return strings.ReplaceAll(percentAll(v), "%", "%25")
}

// percentAll escapes every byte that is not a letter or digit.
func percentAll(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// BrokenLine returns a line no parser reads, carrying identifiers: a line
// with a syslog prefix, $time_iso8601 in brackets, cut short, or in another
// format than the one configured (the caller's choice: see Text of Line).
func (g *Gen) BrokenLine() Line {
	l := g.Line()
	switch g.rng.IntN(4) {
	case 0:
		l.Text = "<134>Nov 27 10:15:32 web01 nginx: " + l.Text
	case 1:
		l.Text = strings.Replace(l.Text, "/Nov/2026:", "-11-2026T", 1)
		if l.Format == "json" {
			l.Text = strings.Replace(l.Text, `"time_local"`, `"time_local_x"`, 1)
		}
	case 2:
		l.Text = l.Text[:len(l.Text)*2/3]
	default:
		l.Text = "garbage " + l.Text
	}
	l.Broken = true
	return l
}
