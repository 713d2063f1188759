package transforms

import (
	_ "embed"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
)

// Who the traffic is: a human, a named crawler, an AI crawler, another bot,
// or a client in a hosting network. The user agent decides the first four
// against the crawler-user-agents list (transforms/crawlers.json, from the
// MIT-licensed crawler-user-agents package: see crawlers.LICENSE and
// internal/crawlergen), once per distinct agent (the agent cache); the
// network provider of the full address decides the last, before the
// address is forgotten.
const (
	TrafficHuman      = "human"
	TrafficCrawler    = "crawler"    // a named crawler: search engines, SEO, previews, feeds, archives
	TrafficAICrawler  = "ai_crawler" // crawlers that collect for AI models and assistants
	TrafficBot        = "bot"        // other scripts: HTTP libraries, monitors, scanners, automation
	TrafficDatacenter = "datacenter" // a browser's agent from a hosting provider's network
)

//go:embed crawlers.json
var crawlersJSON []byte

type crawlerPattern struct {
	re     *regexp.Regexp
	prefix string // a literal every match starts with; "" when there is none
	name   string
	class  string
}

var crawlers struct {
	once sync.Once
	list []crawlerPattern
}

func loadCrawlers() {
	var in []struct {
		Pattern string   `json:"p"`
		Name    string   `json:"n"`
		Tags    []string `json:"t"`
	}
	if err := json.Unmarshal(crawlersJSON, &in); err != nil {
		panic("BUG: crawlers.json: " + err.Error())
	}
	for _, e := range in {
		re, err := regexp.Compile(e.Pattern)
		if err != nil {
			continue // crawlergen checked them with the same package
		}
		p, _ := re.LiteralPrefix()
		crawlers.list = append(crawlers.list, crawlerPattern{re: re, prefix: p, name: e.Name, class: crawlerClass(e.Tags)})
	}
}

// crawlerClass maps the list's tags to a traffic class.
func crawlerClass(tags []string) string {
	class := ""
	for _, t := range tags {
		switch t {
		case "ai-crawler":
			return TrafficAICrawler
		case "http-library", "browser-automation", "monitoring", "scanner":
			if class == "" {
				class = TrafficBot
			}
		default:
			class = TrafficCrawler
		}
	}
	if class == "" {
		class = TrafficCrawler
	}
	return class
}

// matchCrawler returns the name and class of the first crawler pattern ua
// matches. A pattern's literal prefix is looked for first, so most of the
// list costs a substring search; it runs once per distinct agent.
func matchCrawler(ua string) (name, class string, ok bool) {
	crawlers.once.Do(loadCrawlers)
	for i := range crawlers.list {
		c := &crawlers.list[i]
		if c.prefix != "" && !strings.Contains(ua, c.prefix) {
			continue
		}
		if c.re.MatchString(ua) {
			return c.name, c.class, true
		}
	}
	return "", "", false
}

// hostingASNs are the autonomous systems of hosting and cloud providers
// whose networks people do not browse from (Cloudflare, whose WARP serves
// people, and Google's 15169, which also carries Google's own crawlers and
// Fi customers, are left out).
var hostingASNs = map[uint32]bool{
	16509: true, 14618: true, 8987: true, // Amazon AWS
	396982: true, 19527: true, // Google Cloud
	8075: true, 8068: true, // Microsoft Azure
	14061: true,               // DigitalOcean
	16276: true,               // OVH
	24940: true, 213230: true, // Hetzner
	63949: true,              // Akamai Connected Cloud (Linode)
	20473: true,              // Vultr (Choopa)
	45102: true, 37963: true, // Alibaba Cloud
	132203: true, 45090: true, // Tencent Cloud
	31898: true,                           // Oracle Cloud
	51167: true,                           // Contabo
	12876: true,                           // Scaleway
	60781: true, 28753: true, 16265: true, // Leaseweb
	9009:  true,                           // M247
	8560:  true,                           // IONOS
	47583: true,                           // Hostinger
	26496: true,                           // GoDaddy
	19994: true, 27357: true, 33070: true, // Rackspace
	40676:  true, // Psychz
	8100:   true, // QuadraNet
	36007:  true, // Kamatera
	54290:  true, // Hostwinds
	197540: true, // netcup
	212238: true, // Datacamp (CDN77)
	7979:   true, // Servers.com
	21859:  true, // Zenlayer
	136907: true, // Huawei Cloud
	202425: true, // IP Volume
	62567:  true, // DigitalOcean (second)
	35916:  true, // MultaCom
	46606:  true, // Unified Layer
	30633:  true, // Leaseweb USA
}
