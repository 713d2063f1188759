package transforms

import (
	"fmt"
	"strings"
	"testing"
)

func TestTrafficClasses(t *testing.T) {
	a := newTestAnonymizer(t, Config{ASNDB: asnDB(t)})
	w := a.NewWorker()
	for _, c := range []struct {
		client, ua, traffic, crawler string
		bot                          bool
	}{
		{"81.2.69.5", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", TrafficHuman, "", false},
		{"81.2.69.5", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", TrafficCrawler, "Googlebot", true},
		{"81.2.69.5", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", TrafficAICrawler, "GPTBot", true},
		{"81.2.69.5", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", TrafficAICrawler, "ClaudeBot", true},
		{"81.2.69.5", "python-requests/2.31.0", TrafficBot, "python-requests", true},
		{"81.2.69.5", "SomeMonitor/1.0 (uptime bot)", TrafficBot, "", true},
		{"81.2.69.5", "", TrafficHuman, "", false},
	} {
		m := process(t, w, combined(c.client, "/", "-", c.ua))
		if m["traffic"] != c.traffic || c.crawler != "" && !strings.EqualFold(fmt.Sprint(m["crawler"]), c.crawler) || c.crawler == "" && m["crawler"] != nil || m["bot"] != c.bot {
			t.Errorf("%q: traffic %v crawler %v bot %v; want %s %q %v", c.ua, m["traffic"], m["crawler"], m["bot"], c.traffic, c.crawler, c.bot)
		}
	}
	// A browser's agent from a hosting network is datacenter traffic: the
	// ASN fixture's 89.160.20.0/24 (AS29518) stands in for a hosting
	// provider here.
	hostingASNs[29518] = true
	defer delete(hostingASNs, 29518)
	m := process(t, w, combined("89.160.20.7", "/", "-", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"))
	if m["traffic"] != TrafficDatacenter || m["bot"] != false {
		t.Errorf("hosting network: traffic %v bot %v", m["traffic"], m["bot"])
	}
}

// BenchmarkMatchCrawler: the crawler list on a browser's agent, which
// matches none of it (a cache miss's cost).
func BenchmarkMatchCrawler(b *testing.B) {
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	matchCrawler(ua)
	for b.Loop() {
		if _, _, ok := matchCrawler(ua); ok {
			b.Fatal("a browser matched")
		}
	}
}
