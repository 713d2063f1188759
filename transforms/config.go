package transforms

import (
	"fmt"
	"net/netip"
	"strings"
)

// Config says how lines are parsed and what of them is kept. The zero value
// plus defaults (see withDefaults) is the documented default policy.
type Config struct {
	// InputFormat is auto, combined, common, vhost_combined, json, or an
	// Apache LogFormat / nginx log_format string. Default auto: JSON when the
	// line starts with '{', else combined, vhost_combined, common in turn.
	InputFormat string `yaml:"input_format"`
	// IPv4Prefix and IPv6Prefix are the prefix lengths kept of client
	// addresses. Defaults 24 and 32 (a /48 is often a single household).
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
	// TimePrecision truncates event times: second (default), minute or hour.
	TimePrecision string `yaml:"time_precision"`
	// QueryAllow lists query parameters kept (values still scrubbed of
	// emails, addresses and tokens). Default utm_source, utm_medium,
	// utm_campaign, ref.
	QueryAllow []string `yaml:"query_allow"`
	// SearchParams are site-search parameters whose redacted, normalised
	// values become search_terms. Default q, query, s, search.
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
}

// Fixed country codes for addresses no database can place (ISO 3166
// user-assigned range).
const (
	CountryPrivate = "XP" // private, loopback, link-local, CGNAT, unique-local
	CountryUnknown = "ZZ" // not in the database, no database, or a host name
)

func (c Config) withDefaults() Config {
	if c.InputFormat == "" {
		c.InputFormat = "auto"
	}
	if c.IPv4Prefix == 0 {
		c.IPv4Prefix = 24
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = 32
	}
	if c.TimePrecision == "" {
		c.TimePrecision = "second"
	}
	if c.QueryAllow == nil {
		c.QueryAllow = []string{"utm_source", "utm_medium", "utm_campaign", "ref"}
	}
	if c.SearchParams == nil {
		c.SearchParams = []string{"q", "query", "s", "search"}
	}
	if c.PolicyVersion == "" {
		c.PolicyVersion = "1"
	}
	return c
}

// Validate applies defaults and checks every field, naming the field and value.
func (c Config) Validate() (Config, error) {
	c = c.withDefaults()
	if c.IPv4Prefix < 0 || c.IPv4Prefix > 32 {
		return c, fmt.Errorf("ipv4_prefix: %d is out of range 0..32", c.IPv4Prefix)
	}
	if c.IPv6Prefix < 0 || c.IPv6Prefix > 128 {
		return c, fmt.Errorf("ipv6_prefix: %d is out of range 0..128", c.IPv6Prefix)
	}
	if c.IPv4Prefix > 24 {
		return c, fmt.Errorf("ipv4_prefix: %d keeps more than a /24, which identifies a connection; use 24 or less", c.IPv4Prefix)
	}
	if c.IPv6Prefix > 64 {
		return c, fmt.Errorf("ipv6_prefix: %d keeps more than a /64, which identifies a household; use 64 or less", c.IPv6Prefix)
	}
	if _, ok := precisions[c.TimePrecision]; !ok {
		return c, fmt.Errorf("time_precision: %q is not one of second, minute, hour", c.TimePrecision)
	}
	if c.InputFormat != "auto" && c.InputFormat != FormatApacheError && c.InputFormat != FormatNginxError {
		if _, err := NewFormat(c.InputFormat); err != nil {
			return c, fmt.Errorf("input_format: %w", err)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			return c, fmt.Errorf("trusted_proxies: %q is not a CIDR or address", p)
		}
	}
	for _, t := range c.RouteTemplates {
		if !strings.HasPrefix(t, "/") {
			return c, fmt.Errorf("route_templates: %q does not start with /", t)
		}
	}
	for _, seg := range c.SafeSegments {
		if seg == "" || strings.ContainsAny(seg, "/?#") {
			return c, fmt.Errorf("safe_segments: %q is not a single path segment", seg)
		}
	}
	for _, n := range c.QueryAllow {
		for _, s := range c.SearchParams {
			if n == s {
				return c, fmt.Errorf("query_allow: %q is also a search parameter; list it in one place", n)
			}
		}
	}
	return c, nil
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
