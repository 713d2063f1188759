package transforms

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/logveil/logveil/transforms/census"
)

// Config is the anonymize section of the configuration: how lines are
// parsed and what of them is kept. Default holds every key's default;
// Resolve checks a Config once and returns the Policy an Anonymizer runs.
type Config struct {
	// InputFormat is auto, combined, common, vhost_combined, json,
	// apache-error, nginx-error, or an Apache LogFormat / nginx log_format
	// string. Auto: JSON when the line starts with '{', error-log lines by
	// their layout, else combined, vhost_combined, common in turn.
	InputFormat string `yaml:"input_format"`
	// IPv4Prefix and IPv6Prefix are the prefix lengths kept of client
	// addresses: at most 24 and 64; 0 keeps nothing of the address (its
	// country and network are still looked up from the full one).
	IPv4Prefix int `yaml:"ipv4_prefix"`
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// TrustedProxies are CIDRs (or single addresses) of proxies in front of
	// the web server: when the connection comes from one, the client is the
	// right-most untrusted address of X-Forwarded-For.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// CountryDB is a MaxMind-format country or city database (GeoIP2/GeoLite2,
	// DB-IP, or ip-location-db's country_code schema). Empty: no countries.
	CountryDB string `yaml:"country_db"`
	// ASNDB is an optional ASN database (GeoLite2-ASN schema) giving the
	// network provider.
	ASNDB string `yaml:"asn_db"`
	// TimePrecision truncates event times: second, minute or hour.
	TimePrecision string `yaml:"time_precision"`
	// QueryAllow lists query parameters kept (values still scrubbed of
	// emails, addresses and tokens).
	QueryAllow []string `yaml:"query_allow"`
	// SearchParams are site-search parameters whose redacted, normalised
	// values become search_terms.
	SearchParams []string `yaml:"search_params"`
	// RouteTemplates map paths to templates before the generic id rules,
	// e.g. "/blog/{slug}" or "/files/*". {name} and * match one segment.
	RouteTemplates []string `yaml:"route_templates"`
	// SafeSegments are path segments kept verbatim wherever they appear,
	// for a site whose routes are not lower-case words ("Impressum",
	// "FAQ"): every other segment is kept only when it is route-like.
	SafeSegments []string `yaml:"safe_segments"`
	// SearchTermsInEvents also writes search_terms into each event. Off by
	// default: search terms are free text that may name a person, so they
	// are published only in the statistics, where a term needs k_search
	// distinct visitors.
	SearchTermsInEvents bool `yaml:"search_terms_in_events"`
	// InternalHosts are the site's own host names: a referrer from one of
	// them (or a subdomain) is "internal". The request's Host, when logged,
	// always counts.
	InternalHosts []string `yaml:"internal_hosts"`
	// PolicyVersion is the privacy-policy version written into each event.
	PolicyVersion string `yaml:"policy_version"`
	// MaxLineBytes: a longer line is rejected (counted, set aside as its
	// shape, cut to this length), whichever way it came.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// EventsK makes events k-anonymous: an event's quasi-identifiers are
	// written only at a rung of the generalisation ladder that at least
	// this many visitors share that day (generalize.go); 1 turns it off.
	EventsK int `yaml:"events_k"`
	// CensusBytes bounds the census that counts them.
	CensusBytes int `yaml:"census_bytes"`
	// LookaheadLines and Hold: an event waits for company (to open a
	// class with k-1 other visitors) until this many later lines have
	// come, or for Hold at most, whichever is first.
	LookaheadLines int           `yaml:"lookahead_lines"`
	Hold           time.Duration `yaml:"hold"`
}

// Default is the documented default policy: every key's default, written
// here once.
func Default() Config {
	return Config{
		InputFormat:    "auto",
		IPv4Prefix:     24,
		IPv6Prefix:     32, // a /48 is often a single household
		TrustedProxies: []string{},
		TimePrecision:  "second",
		QueryAllow:     []string{"utm_source", "utm_medium", "utm_campaign", "ref"},
		SearchParams:   []string{"q", "query", "s", "search"},
		RouteTemplates: []string{},
		SafeSegments:   []string{},
		InternalHosts:  []string{},
		PolicyVersion:  "1",
		MaxLineBytes:   1 << 20,
		EventsK:        5,
		CensusBytes:    64 << 20,
		LookaheadLines: 16384,
		Hold:           10 * time.Second,
	}
}

// Fixed country codes for addresses no database can place (ISO 3166
// user-assigned range).
const (
	CountryPrivate = "XP" // private, loopback, link-local, CGNAT, unique-local
	CountryUnknown = "ZZ" // not in the database, no database, or a host name
)

// Policy is a resolved Config: every value checked, and parsed once, for
// an Anonymizer, which cannot fail on configuration afterwards.
type Policy struct {
	Config
	// DayZone is the pseudonyms' time zone (the statistics' time_zone): a
	// local day's visitors are counted under one salt. Nil is UTC.
	DayZone *time.Location

	format      *Format // nil: auto-detect per line
	errorServer string  // apache or nginx: the input is that server's error log
	trusted     []netip.Prefix
	routes      []route
	precision   int64
}

// Resolve checks every field, naming the field and value, and parses what
// the Anonymizer needs parsed.
func (c Config) Resolve() (Policy, error) {
	p := Policy{Config: c}
	if c.IPv4Prefix < 0 || c.IPv4Prefix > 24 {
		return p, fmt.Errorf("ipv4_prefix: %d is not in 0..24 (more than a /24 identifies a connection)", c.IPv4Prefix)
	}
	if c.IPv6Prefix < 0 || c.IPv6Prefix > 64 {
		return p, fmt.Errorf("ipv6_prefix: %d is not in 0..64 (more than a /64 identifies a household)", c.IPv6Prefix)
	}
	var ok bool
	if p.precision, ok = precisions[c.TimePrecision]; !ok {
		return p, fmt.Errorf("time_precision: %q is not one of second, minute, hour", c.TimePrecision)
	}
	switch c.InputFormat {
	case "auto":
	case FormatApacheError:
		p.errorServer = "apache"
	case FormatNginxError:
		p.errorServer = "nginx"
	default:
		f, err := NewFormat(c.InputFormat)
		if err != nil {
			return p, fmt.Errorf("input_format: %w", err)
		}
		p.format = f
	}
	for _, s := range c.TrustedProxies {
		px, err := parsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("trusted_proxies: %q is not a CIDR or address", s)
		}
		p.trusted = append(p.trusted, px)
	}
	for _, t := range c.RouteTemplates {
		if !strings.HasPrefix(t, "/") {
			return p, fmt.Errorf("route_templates: %q does not start with /", t)
		}
	}
	p.routes = compileRoutes(c.RouteTemplates)
	for _, seg := range c.SafeSegments {
		if seg == "" || strings.ContainsAny(seg, "/?#") {
			return p, fmt.Errorf("safe_segments: %q is not a single path segment", seg)
		}
	}
	for _, n := range c.QueryAllow {
		if slices.Contains(c.SearchParams, n) {
			return p, fmt.Errorf("query_allow: %q is also a search parameter; list it in one place", n)
		}
	}
	if c.PolicyVersion == "" {
		return p, fmt.Errorf("policy_version: empty")
	}
	if c.MaxLineBytes < 1<<10 || c.MaxLineBytes > 64<<20 {
		return p, fmt.Errorf("max_line_bytes: %d is not in 1KiB..64MiB", c.MaxLineBytes)
	}
	if c.EventsK < 1 || c.EventsK > census.MaxK {
		return p, fmt.Errorf("events_k: %d is not in 1..%d (1 turns k-anonymous events off)", c.EventsK, census.MaxK)
	}
	if c.CensusBytes < 1<<20 || c.CensusBytes > 64<<30 {
		return p, fmt.Errorf("census_bytes: %d is not in 1MiB..64GiB", c.CensusBytes)
	}
	if c.LookaheadLines < 0 || c.LookaheadLines > 10_000_000 {
		return p, fmt.Errorf("lookahead_lines: %d is not in 0..10000000", c.LookaheadLines)
	}
	if c.Hold < 0 || c.Hold > time.Hour {
		return p, fmt.Errorf("hold: %v is not in 0s..1h", c.Hold)
	}
	return p, nil
}

var precisions = map[string]int64{"second": 1, "minute": 60, "hour": 3600}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
