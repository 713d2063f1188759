package transforms

import (
	"bytes"
	"net/netip"
)

// parseClientAddr reads the client field: IPv4, IPv6 (zone dropped),
// "[v6]:port" and "v4:port". IPv4-mapped IPv6 becomes IPv4.
func parseClientAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4Fast(b); ok {
		return a, true
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		j := bytes.IndexByte(b, ']')
		if j < 0 {
			return netip.Addr{}, false
		}
		b = b[1:j]
	} else if c := bytes.IndexByte(b, ':'); c >= 0 && bytes.IndexByte(b[c+1:], ':') < 0 {
		b = b[:c] // v4:port
	}
	if z := bytes.IndexByte(b, '%'); z >= 0 {
		b = b[:z]
	}
	a, ok := parseAddrBytes(b)
	if !ok {
		if a, ok = parseIPv6Port(b); ok {
			return a, true
		}
		return parseIPv4Padded(b)
	}
	return a.Unmap(), true
}

// parseIPv6Port reads an IPv6 address with a port and no brackets, as some
// proxies write it, where that is unambiguous: the text is no address as
// a whole ("2001:db8::1:51234": no group has five digits; nine groups), and
// is one without its last group, which is a port number. Where the whole
// text is an address too ("2001:db8::1:8080") it is taken as that address:
// the port cannot be told from a group.
func parseIPv6Port(b []byte) (netip.Addr, bool) {
	i := bytes.LastIndexByte(b, ':')
	if i < 2 || bytes.Count(b, []byte{':'}) < 3 || len(b)-i-1 < 1 || len(b)-i-1 > 5 || !allDigits(b[i+1:]) {
		return netip.Addr{}, false
	}
	if port, _ := parseUint(b[i+1:]); port > 65535 {
		return netip.Addr{}, false
	}
	a, ok := parseAddrBytes(b[:i])
	if !ok || !a.Is6() {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseIPv4Padded reads a dotted quad with zero-padded groups
// ("081.241.209.138", written by some log tools) as decimal: it is still
// the client's address, to be looked up and truncated, not a host name.
func parseIPv4Padded(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	k, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && isDigit(b[i]) {
			n, digits = n*10+int(b[i]-'0'), digits+1
			continue
		}
		if digits == 0 || digits > 3 || n > 255 || k > 3 || i < len(b) && b[i] != '.' {
			return netip.Addr{}, false
		}
		ip[k] = byte(n)
		k, n, digits = k+1, 0, 0
	}
	if k != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// resolveClient returns the client's full address: the client field's, or
// when the connection comes from a trusted proxy X-Forwarded-For's, walking
// right to left to the first address that is not a trusted proxy. A client
// field that is a host name gives r its registrable domain instead.
func (w *Worker) resolveClient(raw *Raw, r *Record) netip.Addr {
	a, ok := parseClientAddr(raw.Client)
	if !ok && bytes.IndexByte(raw.Client, ',') >= 0 {
		// A list (a proxy chain logged as the client): its first public
		// address is the client.
		raw.Client = firstPublic(raw.Client)
		a, ok = parseClientAddr(raw.Client)
	}
	if !ok {
		if len(raw.Client) > 0 {
			r.ClientDomain = registrableDomain(r, raw.Client)
		}
		return netip.Addr{}
	}
	if len(raw.XFF) > 0 && w.a.trusted(a) {
		xff := raw.XFF
		for len(xff) > 0 {
			i := bytes.LastIndexByte(xff, ',')
			hop := xff[i+1:]
			if i < 0 {
				xff = nil
			} else {
				xff = xff[:i]
			}
			h, ok := parseClientAddr(hop)
			if !ok {
				break // garbage in the chain: trust nothing left of it
			}
			a = h
			if !w.a.trusted(h) {
				break
			}
		}
	}
	return a
}

// parseIPv4Fast parses a plain dotted-quad, the common case, in one pass.
func parseIPv4Fast(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	k, n, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && n == 0 || digits == 3 { // leading zero or too long
				return netip.Addr{}, false
			}
			n = n*10 + int(c-'0')
			digits++
		case c == '.' && digits > 0 && k < 3:
			if n > 255 {
				return netip.Addr{}, false
			}
			ip[k] = byte(n)
			k, n, digits = k+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 || n > 255 {
		return netip.Addr{}, false
	}
	ip[3] = byte(n)
	return netip.AddrFrom4(ip), true
}

// firstPublic returns the first public address of a comma-separated list
// (a client field that holds a proxy chain), else its first item.
func firstPublic(list []byte) []byte {
	var first []byte
	for rest := list; len(rest) > 0; {
		item := rest
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			item, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		item = bytes.TrimSpace(item)
		if len(item) == 0 {
			continue
		}
		if first == nil {
			first = item
		}
		if a, ok := parseClientAddr(item); ok && !isPrivate(a) {
			return item
		}
	}
	return first
}
