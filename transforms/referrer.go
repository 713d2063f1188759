package transforms

import (
	"bytes"
	"net/netip"
	"strings"
	"unsafe"
)

// Referrer types.
const (
	RefDirect   = "direct"   // no referrer
	RefInternal = "internal" // the site itself
	RefSearch   = "search"   // a known search engine
	RefExternal = "external" // any other site
	RefUnknown  = "unknown"  // not a URL (garbage, or a scheme-less string)
)

// searchEngines match a host when it ends with the entry (after a dot or at
// the start); entries ending in '.' match any TLD ("google." → google.co.uk).
var searchEngines = []string{
	"google.", "bing.com", "duckduckgo.com", "search.yahoo.com", "search.yahoo.co.jp", "yandex.",
	"baidu.com", "ecosia.org", "startpage.com", "search.brave.com", "qwant.com", "ask.com",
	"naver.com", "seznam.cz", "sogou.com", "so.com", "kagi.com", "presearch.com", "mojeek.com",
}

func isSearchEngine(host []byte) bool {
	for _, e := range searchEngines {
		if strings.HasSuffix(e, ".") {
			// google. → "google.com", "www.google.de", "google.co.uk", not
			// "com.google.android.gm".
			for i := 0; i+len(e) <= len(host); i++ {
				if (i == 0 || host[i-1] == '.') && string(host[i:i+len(e)]) == e && isTLDLike(host[i+len(e):]) {
					return true
				}
			}
			continue
		}
		if hostMatches(host, e) {
			return true
		}
	}
	return false
}

// hostMatches reports host == d or host is a subdomain of d.
func hostMatches[S []byte | string](host S, d string) bool {
	if len(host) < len(d) || string(host[len(host)-len(d):]) != d {
		return false
	}
	return len(host) == len(d) || host[len(host)-len(d)-1] == '.'
}

// refInfo is what a referrer's scheme and authority reduce to.
type refInfo struct {
	site string // scheme://site: the registrable domain, a private suffix or a placeholder
	full string // scheme://host as written (lower-cased), used when the host is the site's own
	host string // the host part of full, for the internal check; "" for addresses
	typ  string // RefExternal, RefSearch or RefUnknown (RefInternal is decided per line)
}

// referrers is the referrer step: what a scheme://authority becomes
// (cached: referrers repeat), given the site's own names.
type referrers struct {
	internal []string // internal_hosts
	cache    cache[refInfo]
}

// scrub keeps the referrer's scheme and site (host.go: the
// registrable domain, a private suffix, or a placeholder for an address or
// a private name), drops credentials, path and query, and classifies it. The
// reduction of a scheme://authority is cached per worker: referrers repeat.
func (rs *referrers) scrub(raw *Raw, r *Record) {
	ref := raw.Referer
	if len(ref) == 0 {
		r.ReferrerType = RefDirect
		return
	}
	i := bytes.Index(ref, []byte("://"))
	if i <= 0 || i > 32 {
		r.ReferrerType = RefUnknown
		return
	}
	end := i + 3
	for end < len(ref) && ref[end] != '/' && ref[end] != '?' && ref[end] != '#' {
		end++
	}
	key := ref[:end]
	info, ok := rs.cache.get(key)
	if !ok {
		info = reduceReferrer(key, i)
		rs.cache.put(key, info)
	}
	r.ReferrerType = info.typ
	if info.site == "" {
		return
	}
	site := info.site
	if info.host != "" && rs.isInternal(info.host, r.Host) {
		// The site's own host (equal to the cleaned Host, or listed in
		// internal_hosts) is kept whole.
		r.ReferrerType, site = RefInternal, info.full
	}
	start := len(r.scratch)
	r.scratch = append(r.scratch, site...)
	r.ReferrerSite = r.scratch[start:len(r.scratch):len(r.scratch)]
}

// reduceReferrer reduces "scheme://[user@]host[:port]" (schemeEnd is the
// index of "://").
func reduceReferrer(ref []byte, schemeEnd int) refInfo {
	scheme := ref[:schemeEnd]
	for _, c := range scheme {
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return refInfo{typ: RefUnknown}
		}
	}
	auth := ref[schemeEnd+3:]
	if j := bytes.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:] // user:password@
	}
	host := auth
	if len(host) > 0 && host[0] == '[' {
		j := bytes.IndexByte(host, ']')
		if j < 0 {
			return refInfo{typ: RefUnknown}
		}
		host = host[1:j]
	} else if j := bytes.LastIndexByte(host, ':'); j >= 0 {
		host = host[:j]
	}
	if len(host) == 0 {
		return refInfo{typ: RefUnknown}
	}
	var site []byte
	for _, c := range scheme {
		site = append(site, lower(c))
	}
	site = append(site, "://"...)
	hostStart := len(site)
	if _, ok := parseAddrBytes(host); ok {
		return refInfo{site: string(append(site, ClassIP.Placeholder()...)), typ: RefExternal}
	}
	site, ok := appendLowerHost(site, host)
	if !ok {
		return refInfo{typ: RefUnknown}
	}
	h := site[hostStart:]
	full := string(site)
	typ := RefExternal
	if isSearchEngine(h) {
		typ = RefSearch
	}
	var keep []byte
	var cls Class
	switch web := string(site[:hostStart]); {
	case web == "http://" || web == "https://" || web == "ftp://" || web == "ftps://" || web == "ws://" || web == "wss://":
		keep, cls = siteClass(h, false)
	case hostAddress(h):
		cls = ClassIP
	default:
		// An app id ("android-app://com.google.android.gm") keeps its
		// publisher, the reversed domain's first two labels
		// ("com.google"), as a web referrer keeps its registrable
		// domain; one label, or labels that are not route-like, are a
		// placeholder.
		keep, cls = appPublisher(h), ClassNone
		if keep == nil || !hostLabelsSafe(keep) {
			keep, cls = nil, ClassHost
		}
	}
	var reduced string
	if cls != ClassNone {
		reduced = string(append(site[:hostStart], cls.Placeholder()...))
	} else {
		reduced = string(append(site[:hostStart], keep...))
	}
	return refInfo{site: reduced, full: full, host: full[hostStart:], typ: typ}
}

// appPublisher is an app id's first two labels; nil for one label.
func appPublisher(h []byte) []byte {
	i := bytes.IndexByte(h, '.')
	if i <= 0 {
		return nil
	}
	if j := bytes.IndexByte(h[i+1:], '.'); j >= 0 {
		return h[:i+1+j]
	}
	return h
}

func (rs *referrers) isInternal(host string, reqHost []byte) bool {
	if len(reqHost) > 0 {
		rh := reqHost
		if j := bytes.LastIndexByte(rh, ':'); j >= 0 && bytes.IndexByte(rh, ']') < j {
			rh = rh[:j]
		}
		if len(rh) == len(host) && bytesEqualFold(rh, host) {
			return true
		}
	}
	for _, d := range rs.internal {
		if hostMatches(host, d) {
			return true
		}
	}
	return false
}

func bytesEqualFold(a []byte, b string) bool {
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// parseAddrBytes parses an IPv4 or IPv6 literal without allocating; bytes
// that cannot be in an address are rejected before netip sees them.
func parseAddrBytes(b []byte) (netip.Addr, bool) {
	if len(b) < 2 || len(b) > 45 {
		return netip.Addr{}, false
	}
	for _, c := range b {
		if !isHex(c) && c != '.' && c != ':' {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	return a, err == nil
}

// isTLDLike: one or two short labels ("com", "co.uk", "com.br").
func isTLDLike(s []byte) bool {
	labels, n := 1, 0
	for _, c := range s {
		if c == '.' {
			labels, n = labels+1, 0
			continue
		}
		if n++; n > 3 {
			return false
		}
	}
	return len(s) > 0 && labels <= 2 && s[len(s)-1] != '.'
}
