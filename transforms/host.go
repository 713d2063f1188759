package transforms

import (
	"bytes"
	"strings"
	"unsafe"

	"golang.org/x/net/publicsuffix"
)

// Host names come in three places: the referrer's host, the request's Host
// and, with HostnameLookups on, the client's. Each is kept only as far as it
// names a public site, never a machine or a person:
//   - an address in any notation (dotted, hex, decimal, spelled in a label as
//     in "b663-93-121-209-129.ngrok-free.app") is ClassIP;
//   - a single label ("lysander-thinkpad") or a name under a TLD that is not
//     ICANN's (".local", ".lan", ".internal", ".corp", "home.arpa") is
//     ClassHost: a private name;
//   - a name under a private suffix of the Public Suffix List (ngrok,
//     github.io, herokuapp.com, cloud-provider host names) is reduced to that
//     suffix: the label below it is the user's;
//   - otherwise the registrable domain under the ICANN suffix is kept (for
//     the site's own Host, the full name when every label is route-like).

// hostLabelsSafe reports whether every label of name (lower-case already)
// is route-like: letters, digits and '-', no number of five digits or more,
// no spelled address, no token.
func hostLabelsSafe(name []byte) bool {
	for _, c := range name {
		if !isLowerASCII(c) && !isDigit(c) && c != '-' && c != '.' {
			return false
		}
	}
	return firstIdentifier(name, 5) == ClassNone && !hasTransitions(name, 3)
}

// hostAddress reports a host that is an address in some notation: an IP
// literal, digits and dots only ("1427229944", "081.241.209.138"), or a
// hexadecimal number ("0x97251392").
func hostAddress(h []byte) bool {
	if _, ok := parseAddrBytes(h); ok {
		return true
	}
	if hexIPv4(h) {
		return true
	}
	for _, c := range h {
		if !isDigit(c) && c != '.' {
			return false
		}
	}
	return len(h) > 0
}

// icannRegistrable returns the registrable domain of name under its ICANN
// suffix (skipping any private suffix), or "" when the name is a single
// label, has no ICANN suffix, or is a suffix itself.
func icannRegistrable(name string) string {
	for i := 0; i < len(name); i++ {
		if i > 0 && name[i-1] != '.' {
			continue
		}
		cand := name[i:]
		ps, icann := publicsuffix.PublicSuffix(cand)
		if !icann || ps != cand {
			continue
		}
		if i == 0 || cand == "arpa" || len(cand) > 5 && cand[len(cand)-5:] == ".arpa" {
			return "" // the name is a suffix; .arpa names are special-use
		}
		return name[strings.LastIndexByte(name[:i-1], '.')+1:]
	}
	return ""
}

// siteClass reduces a lower-case host name to what may be kept of it. keep
// is a suffix of name (so it aliases it) when cls is ClassNone. full keeps
// the whole name when every label is route-like (the site's own Host).
func siteClass(name []byte, full bool) (keep []byte, cls Class) {
	if len(name) == 0 {
		return nil, ClassHost
	}
	if hostAddress(name) {
		return nil, ClassIP
	}
	if bytes.IndexByte(name, '.') < 0 {
		return nil, ClassHost
	}
	s := unsafe.String(&name[0], len(name))
	ps, icann := publicsuffix.PublicSuffix(s)
	if !icann && strings.IndexByte(ps, '.') < 0 {
		return nil, ClassHost // unlisted TLD: .local, .lan, .internal, .corp
	}
	if !icann && len(ps) < len(s) {
		// Under a private suffix: the site is the suffix, if it is clean.
		if p := name[len(name)-len(ps):]; hostLabelsSafe(p) {
			return p, ClassNone
		}
	}
	reg := icannRegistrable(s)
	if reg == "" {
		return nil, ClassHost
	}
	if full && icann && hostLabelsSafe(name) {
		return name, ClassNone
	}
	r := name[len(name)-len(reg):]
	if !hostLabelsSafe(r) {
		if hostAddress(r[:bytes.IndexByte(r, '.')]) || firstIdentifier(r, 5) == ClassIP {
			return nil, ClassIP
		}
		return nil, ClassHost
	}
	return r, ClassNone
}

// appendLowerHost appends h lower-cased, or reports false when h has a byte
// no host name has.
func appendLowerHost(dst, h []byte) ([]byte, bool) {
	for _, c := range h {
		if !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return dst, false
		}
		dst = append(dst, lower(c))
	}
	return dst, true
}

// hostInfo is what a request Host reduces to (cached per worker).
type hostInfo struct{ host string }

// hosts is the Host step: what a request's Host becomes (cached: Hosts
// repeat), given the site's own names.
type hosts struct {
	internal []string // internal_hosts
	cache    cache[hostInfo]
}

// cleanHost keeps of the request's Host (client-controlled) what siteClass
// allows, with its port: the whole name when the site lists it in
// internal_hosts or when every label is route-like under an ICANN suffix; a
// placeholder for an address or a private name.
func (hs *hosts) clean(raw *Raw, r *Record) {
	h := raw.Host
	if len(h) == 0 || len(h) > 253 {
		return
	}
	info, ok := hs.cache.get(h)
	if !ok {
		info = hostInfo{host: hs.reduce(h)}
		hs.cache.put(h, info)
	}
	if info.host != "" {
		start := len(r.scratch)
		r.scratch = append(r.scratch, info.host...)
		r.Host = r.scratch[start:len(r.scratch):len(r.scratch)]
	}
}

// reduce is what the Host h becomes: a kept name with its port, a
// placeholder, or nothing.
func (hs *hosts) reduce(h []byte) string {
	name, port := h, []byte(nil)
	if len(name) > 0 && name[0] == '[' {
		if j := bytes.IndexByte(name, ']'); j > 0 {
			if _, ok := parseAddrBytes(name[1:j]); ok {
				return ClassIP.Placeholder()
			}
		}
		return ""
	}
	if j := bytes.LastIndexByte(name, ':'); j >= 0 {
		if bytes.IndexByte(name[:j], ':') >= 0 {
			if _, ok := parseAddrBytes(name); ok {
				return ClassIP.Placeholder()
			}
			return ""
		}
		name, port = name[:j], name[j:]
		if !allDigits(port[1:]) || len(port) > 6 {
			return ""
		}
	}
	low, ok := appendLowerHost(nil, bytes.TrimSuffix(name, []byte(".")))
	if !ok {
		return ""
	}
	for _, d := range hs.internal {
		if hostMatches(low, d) {
			return string(h)
		}
	}
	keep, cls := siteClass(low, true)
	if cls != ClassNone {
		return cls.Placeholder()
	}
	return string(keep) + string(port)
}

// registrableDomain returns the client host name's registrable domain under
// its ICANN suffix ("c-73-12-34-56.hsd1.ca.comcast.net" → "comcast.net"),
// never the labels below it, which often spell out the address, and never a
// private name. nil when there is none or it is not route-like.
func registrableDomain(r *Record, host []byte) []byte {
	if len(host) > 253 || bytes.IndexByte(host, '.') < 0 {
		return nil
	}
	start := len(r.scratch)
	var ok bool
	r.scratch, ok = appendLowerHost(r.scratch, bytes.TrimSuffix(host, []byte(".")))
	name := r.scratch[start:]
	if !ok || len(name) == 0 || name[0] == '.' || hostAddress(name) {
		r.scratch = r.scratch[:start]
		return nil
	}
	reg := icannRegistrable(unsafe.String(&name[0], len(name)))
	if reg == "" || !hostLabelsSafe(name[len(name)-len(reg):]) {
		r.scratch = r.scratch[:start]
		return nil
	}
	n := copy(r.scratch[start:], name[len(name)-len(reg):])
	r.scratch = r.scratch[:start+n]
	return r.scratch[start : start+n : start+n]
}
