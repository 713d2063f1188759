// Package loggen writes realistic, deterministic access logs: returning
// visitors with multi-page visits, Zipf page popularity, site searches,
// diurnal traffic, IPv4 and IPv6 (about 1 in 5, from allocated networks:
// IPv6Networks), real browser and bot user
// agents, referrers, a status mix and optional malformed lines. Same seed,
// same bytes.
package loggen

import (
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
)

// Options configure a Generator.
type Options struct {
	Seed      uint64
	Format    string  // combined (default) or json
	Start     int64   // Unix seconds of the first line; default 2026-11-01T00:00:00Z
	Rate      float64 // lines per second of log time at the daily peak (diurnal); default 50
	Visitors  int     // distinct visitors; default 20000
	Pages     int     // distinct pages; default 2000
	Malformed float64 // fraction of malformed lines; default 0
	Host      string  // the site; default shop.example.com
	// Flat drops the diurnal curve: Rate lines per second at every hour, so
	// that n lines span the same time whatever hour they start at (a test
	// whose input must end at a given time).
	Flat bool
}

// Generator produces lines. It is not safe for concurrent use.
type Generator struct {
	opt      Options
	rng      *rand.Rand
	zipf     *rand.Zipf
	visitors []visitor
	pages    []string
	now      float64
	ceiling  float64 // Cap: the clock never passes it (0: no ceiling)
	active   []int   // visitors in a visit
	ts       int64
	tsBuf    []byte
}

type visitor struct {
	addr      netip.Addr
	ua        int
	ref       int
	pagesLeft int
}

// New returns a Generator.
func New(opt Options) *Generator {
	if opt.Format == "" {
		opt.Format = "combined"
	}
	if opt.Start == 0 {
		opt.Start = 1793491200 // 2026-11-01T00:00:00Z
	}
	if opt.Rate <= 0 {
		opt.Rate = 50
	}
	if opt.Visitors <= 0 {
		opt.Visitors = 20000
	}
	if opt.Pages <= 0 {
		opt.Pages = 2000
	}
	if opt.Host == "" {
		opt.Host = "shop.example.com"
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	g := &Generator{opt: opt, rng: rng, now: float64(opt.Start)}
	g.zipf = rand.NewZipf(rng, 1.1, 1, uint64(opt.Pages-1))
	g.pages = make([]string, opt.Pages)
	for i := range g.pages {
		g.pages[i] = pagePath(rng, i)
	}
	g.visitors = make([]visitor, opt.Visitors)
	for i := range g.visitors {
		v := &g.visitors[i]
		if rng.IntN(5) == 0 {
			var b [16]byte
			n := IPv6Networks[rng.IntN(len(IPv6Networks))].Prefix
			b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
			for k := 4; k < 16; k++ {
				b[k] = byte(rng.Uint32())
			}
			v.addr = netip.AddrFrom16(b)
		} else {
			v.addr = netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.Uint32()), byte(rng.Uint32()), byte(1 + rng.IntN(254))})
		}
		v.ua = pickWeighted(rng, uaWeights)
		v.ref = rng.IntN(len(referrers))
	}
	return g
}

// IPv6Networks are the /32s loggen's IPv6 visitors come from: allocations
// of access networks that the RIRs' delegation files place in Country (read
// from ip-location-db's geo-whois-asn-country database, 2026), so a real
// country database finds them, weighted like a European shop's traffic.
var IPv6Networks = []struct {
	Prefix  uint32 // the first 32 bits
	Country string
}{
	{0x200305bd, "DE"}, {0x2a022ad1, "DE"}, {0x20030c88, "DE"}, {0x2a057dc2, "DE"}, {0x20030ea5, "DE"},
	{0x2003072e, "DE"}, {0x20030ba4, "DE"}, {0x2a0af541, "DE"},
	{0x26001f48, "US"}, {0x26030782, "US"}, {0x26055980, "US"}, {0x2601a8a2, "US"}, {0x26030992, "US"},
	{0x2603011d, "US"}, {0x200148eb, "US"}, {0x2601a2cd, "US"},
	{0x2a05bf07, "GB"}, {0x2a002273, "GB"}, {0x20015185, "GB"}, {0x200157b0, "GB"}, {0x20014a01, "GB"},
	{0x2a01cba7, "FR"}, {0x2a01caba, "FR"}, {0x2a01dbbe, "FR"}, {0x2a05bb45, "FR"}, {0x2a01d42c, "FR"},
	{0x2a04b701, "NL"}, {0x2a0625c5, "NL"}, {0x2a007c86, "NL"},
	{0x2a012301, "IT"}, {0x2a012924, "IT"}, {0x2a012c23, "IT"},
	{0x2a05bf85, "ES"}, {0x2a057904, "ES"}, {0x2a0290b9, "ES"},
	{0x2a0112c7, "PL"}, {0x2a0115d0, "PL"}, {0x2a02d045, "SE"}, {0x20012b55, "SE"},
	{0x2a047706, "AT"}, {0x2a022b00, "AT"}, {0x2a00a500, "CH"}, {0x2a060ac7, "CH"}, {0x2a02a030, "BE"},
	{0x2a046d05, "DK"}, {0x26056840, "CA"}, {0x2607f699, "CA"}, {0x240080c0, "IN"}, {0x240941a7, "IN"},
	{0x28043fb8, "BR"}, {0x2804470c, "BR"}, {0x240023e4, "JP"}, {0x24002d5b, "JP"},
}

var sections = []string{"products", "blog", "category", "help", "account", "cart", "search", "about"}
var words = []string{"red", "running", "shoes", "winter", "jacket", "how", "to", "choose", "size", "guide",
	"return", "policy", "gift", "ideas", "wool", "socks", "trail", "boots", "sale", "new"}

func pagePath(rng *rand.Rand, i int) string {
	switch i {
	case 0:
		return "/"
	case 1:
		return "/search"
	}
	s := sections[i%len(sections)]
	switch s {
	case "products":
		return "/products/" + strconv.Itoa(10000+i)
	case "blog":
		return "/blog/" + words[rng.IntN(len(words))] + "-" + words[rng.IntN(len(words))] + "-" + strconv.Itoa(i)
	case "account":
		return "/account/orders/" + strconv.Itoa(100000+i)
	case "search":
		return "/search"
	}
	return "/" + s + "/" + words[i%len(words)]
}

// Real user agents, with weights.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"curl/8.4.0",
}
var uaWeights = []int{30, 20, 10, 8, 12, 8, 4, 4, 2, 2}

var referrers = []string{"-", "-", "-", "https://www.google.com/search?q=shoes", "https://www.bing.com/search?q=boots",
	"https://duckduckgo.com/", "https://news.example.org/article/123", "https://www.facebook.com/", "android-app://com.google.android.gm/"}

func pickWeighted(rng *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := rng.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

// diurnal scales traffic by local hour: quiet at night, peak in the evening.
func diurnal(t float64) float64 {
	h := math.Mod(t/3600, 24)
	return 0.55 + 0.45*math.Sin((h-9)/24*2*math.Pi)
}

// StartFor returns the Start from which lines at rate (Options.Rate) end
// about at end (Unix seconds): the diurnal curve makes the same number of
// lines span hours at night and minutes in the evening, so a feed that must
// end before now walks the curve back from end, a minute at a time.
func StartFor(end int64, lines int, rate float64) int64 {
	if rate <= 0 {
		rate = 50
	}
	t, need := float64(end), float64(lines)
	for need > 0 {
		perMinute := rate * diurnal(t-30) * 60
		if perMinute >= need {
			return int64(t - need/perMinute*60)
		}
		need -= perMinute
		t -= 60
	}
	return int64(t)
}

// Cap holds the clock at t (Unix seconds) at most: a feed that runs for as
// long as it is left running calls it with the wall clock, so that no line
// is stamped in the future however fast the diurnal curve would run.
func (g *Generator) Cap(t int64) { g.ceiling = float64(t) }

// Line appends the next line (with newline) to dst.
func (g *Generator) Line(dst []byte) []byte {
	rng := g.rng
	if g.opt.Flat {
		g.now += rng.ExpFloat64() / g.opt.Rate
	} else {
		g.now += rng.ExpFloat64() / (g.opt.Rate * diurnal(g.now))
	}
	if g.ceiling > 0 && g.now > g.ceiling {
		g.now = g.ceiling
	}
	if g.opt.Malformed > 0 && rng.Float64() < g.opt.Malformed {
		return g.malformed(dst)
	}
	// Continue an active visit or start a new one.
	var vi int
	if len(g.active) > 0 && rng.IntN(4) != 0 {
		k := rng.IntN(len(g.active))
		vi = g.active[k]
		v := &g.visitors[vi]
		v.pagesLeft--
		if v.pagesLeft <= 0 {
			g.active[k] = g.active[len(g.active)-1]
			g.active = g.active[:len(g.active)-1]
		}
	} else {
		// Returning visitors: a skewed pick so some come back often.
		vi = int(float64(len(g.visitors)) * math.Pow(rng.Float64(), 2))
		v := &g.visitors[vi]
		v.pagesLeft = 1 + rng.IntN(8)
		if v.pagesLeft > 1 && len(g.active) < 5000 {
			g.active = append(g.active, vi)
		}
	}
	v := &g.visitors[vi]
	page := int(g.zipf.Uint64())
	path := g.pages[page]
	query := ""
	if path == "/search" {
		query = "?q=" + words[rng.IntN(len(words))] + "+" + words[rng.IntN(len(words))]
	} else if rng.IntN(20) == 0 {
		query = "?utm_source=newsletter&utm_medium=email&sid=" + strconv.FormatUint(rng.Uint64(), 36)
	}
	status := 200
	switch n := rng.IntN(100); {
	case n < 3:
		status = 404
	case n < 5:
		status = 304
	case n < 6:
		status = 500
	case n < 8:
		status = 302
	}
	method := "GET"
	if rng.IntN(30) == 0 {
		method = "POST"
	}
	ref := referrers[v.ref]
	if rng.IntN(2) == 0 {
		ref = "https://" + g.opt.Host + "/"
	}
	size := 200 + rng.IntN(40000)
	t := int64(g.now)
	if g.opt.Format == "json" {
		return g.jsonLine(dst, v, t, method, path+query, status, size, ref)
	}
	dst = v.addr.AppendTo(dst)
	dst = append(dst, " - - ["...)
	dst = g.clf(dst, t)
	dst = append(dst, "] \""...)
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, path...)
	dst = append(dst, query...)
	dst = append(dst, " HTTP/1.1\" "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(size), 10)
	dst = append(dst, " \""...)
	dst = append(dst, ref...)
	dst = append(dst, "\" \""...)
	dst = append(dst, userAgents[v.ua]...)
	return append(dst, "\"\n"...)
}

func (g *Generator) jsonLine(dst []byte, v *visitor, t int64, method, target string, status, size int, ref string) []byte {
	dst = append(dst, `{"remote_addr":"`...)
	dst = v.addr.AppendTo(dst)
	dst = append(dst, `","time_local":"`...)
	dst = g.clf(dst, t)
	dst = append(dst, `","request":"`...)
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, target...)
	dst = append(dst, ` HTTP/1.1","status":"`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `","body_bytes_sent":"`...)
	dst = strconv.AppendInt(dst, int64(size), 10)
	dst = append(dst, `","http_referer":"`...)
	if ref != "-" {
		dst = append(dst, ref...)
	}
	dst = append(dst, `","http_user_agent":"`...)
	dst = append(dst, userAgents[v.ua]...)
	dst = append(dst, `","host":"`...)
	dst = append(dst, g.opt.Host...)
	return append(dst, "\"}\n"...)
}

func (g *Generator) malformed(dst []byte) []byte {
	switch g.rng.IntN(3) {
	case 0:
		return append(dst, "\x16\x03\x01 garbage from 203.0.113.9 user@example.com\n"...)
	case 1:
		return append(dst, "10.0.0.1 - - [not a time] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n"...)
	}
	return append(dst, "\n"...)
}

// clf formats t as "01/Nov/2026:00:00:00 +0000", cached per second.
func (g *Generator) clf(dst []byte, t int64) []byte {
	if t != g.ts || g.tsBuf == nil {
		g.ts = t
		g.tsBuf = time.Unix(t, 0).UTC().AppendFormat(g.tsBuf[:0], "02/Jan/2006:15:04:05 -0700")
	}
	return append(dst, g.tsBuf...)
}

// WriteN writes n lines to w.
func (g *Generator) WriteN(w io.Writer, n int) error {
	buf := make([]byte, 0, 1<<20)
	for i := 0; i < n; i++ {
		buf = g.Line(buf)
		if len(buf) >= 1<<20-4096 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}
