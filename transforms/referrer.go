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
func hostMatches(host []byte, d string) bool {
	if len(host) < len(d) || string(host[len(host)-len(d):]) != d {
		return false
	}
	return len(host) == len(d) || host[len(host)-len(d)-1] == '.'
}

// scrubReferrer keeps scheme and host of the referrer (an address host is
// truncated), drops credentials, path and query, and classifies it.
func (w *Worker) scrubReferrer(r *Record) {
	ref := r.Referer
	if len(ref) == 0 {
		r.ReferrerType = RefDirect
		return
	}
	r.ReferrerType = RefUnknown
	i := bytes.Index(ref, []byte("://"))
	if i <= 0 || i > 32 {
		return
	}
	scheme := ref[:i]
	for _, c := range scheme {
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return
		}
	}
	auth := ref[i+3:]
	for j, c := range auth {
		if c == '/' || c == '?' || c == '#' {
			auth = auth[:j]
			break
		}
	}
	if j := bytes.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:] // user:password@
	}
	host := auth
	if len(host) > 0 && host[0] == '[' {
		if j := bytes.IndexByte(host, ']'); j > 0 {
			host = host[1:j]
		} else {
			return
		}
	} else if j := bytes.LastIndexByte(host, ':'); j >= 0 {
		host = host[:j]
	}
	if len(host) == 0 {
		return
	}
	start := len(r.scratch)
	for _, c := range scheme {
		r.scratch = append(r.scratch, lower(c))
	}
	r.scratch = append(r.scratch, "://"...)
	hostStart := len(r.scratch)
	if a, ok := parseAddrBytes(host); ok {
		a = a.Unmap()
		p := w.a.truncate(a)
		if a.Is6() {
			r.scratch = append(r.scratch, '[')
			r.scratch = p.Addr().AppendTo(r.scratch)
			r.scratch = append(r.scratch, ']')
		} else {
			r.scratch = p.Addr().AppendTo(r.scratch)
		}
		r.ReferrerType = RefExternal
		r.ReferrerSite = r.scratch[start:len(r.scratch):len(r.scratch)]
		return
	}
	for _, c := range host {
		if !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			r.scratch = r.scratch[:start]
			return
		}
		r.scratch = append(r.scratch, lower(c))
	}
	h := r.scratch[hostStart:]
	if containsIPv4(h) || containsIPv6(h) {
		// "5.6.7.8a", "1.2.3.4.nip.io": a name that spells out an address.
		r.scratch = append(r.scratch[:hostStart], phIP...)
		r.ReferrerType = RefExternal
		r.ReferrerSite = r.scratch[start:len(r.scratch):len(r.scratch)]
		return
	}
	switch {
	case w.isInternal(h, r.Host):
		r.ReferrerType = RefInternal
	default:
		r.ReferrerType = w.externalType(h)
	}
	r.ReferrerSite = r.scratch[start:len(r.scratch):len(r.scratch)]
}

// externalType classifies a referrer host as search or external, cached per
// worker: referrer hosts repeat far more than they vary.
func (w *Worker) externalType(h []byte) string {
	if t, ok := w.refCache[string(h)]; ok {
		return t
	}
	t := RefExternal
	if isSearchEngine(h) {
		t = RefSearch
	}
	if len(w.refCache) >= uaCacheMax {
		clear(w.refCache)
	}
	w.refCache[string(h)] = t
	return t
}

func (w *Worker) isInternal(host, reqHost []byte) bool {
	if len(reqHost) > 0 {
		rh := reqHost
		if j := bytes.LastIndexByte(rh, ':'); j >= 0 && bytes.IndexByte(rh, ']') < j {
			rh = rh[:j]
		}
		if len(rh) == len(host) && bytesEqualFold(rh, host) {
			return true
		}
	}
	for _, d := range w.a.cfg.InternalHosts {
		if hostMatches(host, d) {
			return true
		}
	}
	return false
}

func bytesEqualFold(a, b []byte) bool {
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
