package transforms

import (
	"strings"
	"unsafe"

	useragent "github.com/medama-io/go-useragent"
)

// uaInfo is all that is kept of a user agent: browser family and major
// version, OS family, device class and whether it is a bot.
type uaInfo struct {
	browser, major, os, device string
	bot                        bool
	// traffic is the class the agent alone decides (human, crawler,
	// ai_crawler, bot); crawler the list's name for it.
	traffic, crawler string
	// json is the event's `,"browser":…,"os":…,"device":…` fields, encoded
	// once per cached agent.
	json string
}

// botMarkers catch crawlers and scripts the trie parser files under a
// browser or leaves blank.
var botMarkers = []string{"bot", "crawl", "spider", "slurp", "curl/", "wget/", "python", "go-http-client",
	"java/", "okhttp", "headless", "httpclient", "libwww", "scrapy", "axios/", "node-fetch", "facebookexternalhit",
	"monitor", "preview", "lighthouse", "pingdom"}

// agents is the user-agent step: what an agent becomes (cached: agents
// repeat; matching a new one against the crawler list costs about 38 µs).
type agents struct {
	parser *useragent.Parser // shared, read-only
	cache  cache[uaInfo]
}

func (as *agents) info(ua []byte) uaInfo {
	if len(ua) == 0 {
		return emptyUA
	}
	if info, ok := as.cache.get(ua); ok {
		return info
	}
	info := parseUserAgent(as.parser, unsafe.String(&ua[0], len(ua)))
	as.cache.put(ua, info)
	return info
}

func parseUserAgent(p *useragent.Parser, s string) uaInfo {
	a := p.Parse(s)
	info := uaInfo{
		browser: string(a.Browser()),
		os:      string(a.OS()),
		device:  string(a.Device()),
		bot:     a.IsBot(),
	}
	if v := a.BrowserVersion(); v != "" {
		if i := strings.IndexByte(v, '.'); i >= 0 {
			v = v[:i]
		}
		if majorOK(v) {
			info.major = v
		}
	}
	if name, class, ok := matchCrawler(s); ok {
		info.bot, info.crawler, info.traffic = true, name, class
	}
	if !info.bot {
		low := strings.ToLower(s)
		for _, m := range botMarkers {
			if strings.Contains(low, m) {
				info.bot = true
				break
			}
		}
	}
	if info.bot {
		info.device = "Bot"
		if info.traffic == "" {
			info.traffic = TrafficBot
		}
	} else {
		info.traffic = TrafficHuman
	}
	if info.browser == "" {
		info.browser, info.major = "Other", ""
	}
	if info.os == "" {
		info.os = "Other"
	}
	if info.device == "" {
		info.device = "Unknown"
	}
	return info.withJSON()
}

// majorOK: a major version is kept when it is a small number (1 to 3
// digits, no leading zero): the parser copies any digit run after a
// browser's name, which can be a phone number or an id.
func majorOK(v string) bool {
	if len(v) == 0 || len(v) > 3 || len(v) > 1 && v[0] == '0' {
		return false
	}
	for i := range len(v) {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// emptyUA is a line without a user agent.
var emptyUA = uaInfo{browser: "Other", os: "Other", device: "Unknown", traffic: TrafficHuman}.withJSON()

func (u uaInfo) withJSON() uaInfo {
	u.json = string(appendUAJSON(nil, u.browser, u.major, u.os, u.device))
	return u
}

// appendUAJSON appends the event's user-agent fields; an empty one (cut
// by the generalisation ladder) is left out.
func appendUAJSON(dst []byte, browser, major, os, device string) []byte {
	if browser != "" {
		dst = append(dst, `,"browser":`...)
		dst = appendJSONString(dst, browser)
	}
	if major != "" {
		dst = append(dst, `,"browser_version":`...)
		dst = appendJSONString(dst, major)
	}
	if os != "" {
		dst = append(dst, `,"os":`...)
		dst = appendJSONString(dst, os)
	}
	if device != "" {
		dst = append(dst, `,"device":`...)
		dst = appendJSONString(dst, device)
	}
	return dst
}
