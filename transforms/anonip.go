package transforms

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
)

// Anonip is anonip's line filter (github.com/DigitaleGesellschaft/Anonip
// 1.1.0, BSD): the address in each chosen column of a line — or in each
// group of a regular expression — truncated by a number of bits and put
// back; the rest of the line is left as it is. It is `logveil anonip`, a
// drop-in for anonip with its flags and its output, checked against
// anonip's own test cases (anonip_test.go). It masks addresses only; the
// default-deny scrubbing of everything else is `logveil anonymize`.
type Anonip struct {
	// Columns are 0-based; nil is the first column.
	Columns []int
	// Delimiter splits a line into columns (anonip: " ").
	Delimiter []byte
	// V4Mask and V6Mask are the bits truncated (anonip: 12 and 84).
	V4Mask, V6Mask int
	// Replace, when set, replaces a column (or group) that holds no
	// address.
	Replace []byte
	// Regex, when set, is used instead of Columns: every group of its
	// match at the start of the line is a place for an address.
	Regex *regexp.Regexp
	// SkipPrivate leaves addresses in private and special-purpose ranges
	// as they are.
	SkipPrivate bool

	incHi, incLo uint64   // the increment added to a truncated address
	incHuge      bool     // an increment past 128 bits: every add overflows
	spans, repl  [][2]int // a line's columns, and their new values in tmp
	tmp          []byte
}

// SetIncrement sets the number added to every truncated address (anonip's
// --increment); an address it would carry past the family's last address
// is left truncated, as anonip does.
func (a *Anonip) SetIncrement(n *big.Int) {
	a.incHi, a.incLo, a.incHuge = 0, 0, false
	if n.Sign() <= 0 {
		return
	}
	if n.BitLen() > 128 {
		a.incHuge = true
		return
	}
	b := n.FillBytes(make([]byte, 16))
	a.incHi, a.incLo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// AppendLine appends line (without its line end) filtered. Trailing white
// space is dropped, as anonip does.
func (a *Anonip) AppendLine(dst, line []byte) []byte {
	line = bytes.TrimRight(line, " \t\r\n\v\f")
	if len(bytes.TrimLeft(line, " \t\r\n\v\f")) == 0 {
		return append(dst, line...)
	}
	if a.Regex != nil {
		return a.appendRegex(dst, line)
	}
	delim := a.Delimiter
	if len(delim) == 0 {
		delim = []byte(" ")
	}
	columns := a.Columns
	if columns == nil {
		columns = []int{0}
	}
	// The columns' spans, as far as the last column asked for; the rest
	// of the line is copied as it is.
	last := 0
	for _, c := range columns {
		last = max(last, c)
	}
	a.spans = a.spans[:0]
	for start := 0; len(a.spans) <= last; {
		i := bytes.Index(line[start:], delim)
		if i < 0 {
			a.spans = append(a.spans, [2]int{start, len(line)})
			break
		}
		a.spans = append(a.spans, [2]int{start, start + i})
		start += i + len(delim)
	}
	// Each column asked for, its new value in a.tmp (repl).
	a.repl = a.repl[:0]
	for range a.spans {
		a.repl = append(a.repl, [2]int{-1, -1})
	}
	a.tmp = a.tmp[:0]
	for _, c := range columns {
		if c >= len(a.spans) {
			continue // anonip: "Column n does not exist!"
		}
		col := line[a.spans[c][0]:a.spans[c][1]]
		if r := a.repl[c]; r[0] >= 0 {
			col = a.tmp[r[0]:r[1]] // a column named twice
		}
		if len(col) == 0 {
			continue
		}
		mark := len(a.tmp)
		if ipStr, addr, ok := anonipExtract(col); ok {
			var ab [48]byte
			a.tmp = replaceAll(a.tmp, col, ipStr, appendPyAddr(ab[:0], a.process(addr)))
		} else if a.Replace != nil {
			a.tmp = append(a.tmp, a.Replace...)
		} else {
			continue
		}
		a.repl[c] = [2]int{mark, len(a.tmp)}
	}
	for i, s := range a.spans {
		if i > 0 {
			dst = append(dst, delim...)
		}
		if r := a.repl[i]; r[0] >= 0 {
			dst = append(dst, a.tmp[r[0]:r[1]]...)
		} else {
			dst = append(dst, line[s[0]:s[1]]...)
		}
	}
	return append(dst, line[a.spans[len(a.spans)-1][1]:]...)
}

// appendRegex is anonip's --regex: the pattern matches at the start of
// the line, and every distinct non-empty group that holds an address has
// every occurrence of that address in the line truncated (or, with
// Replace, a group without one replaced).
func (a *Anonip) appendRegex(dst, line []byte) []byte {
	m := a.Regex.FindSubmatchIndex(line)
	if m == nil || m[0] != 0 {
		return append(dst, line...)
	}
	var groups [][]byte
	for g := 2; g+1 < len(m); g += 2 {
		if m[g] < 0 || m[g] == m[g+1] {
			continue
		}
		v := append([]byte(nil), line[m[g]:m[g+1]]...)
		seen := false
		for _, o := range groups {
			seen = seen || bytes.Equal(o, v)
		}
		if !seen {
			groups = append(groups, v)
		}
	}
	out := append([]byte(nil), line...)
	for _, g := range groups {
		if ipStr, addr, ok := anonipExtract(g); ok {
			var ab [48]byte
			out = replaceAll(nil, out, ipStr, appendPyAddr(ab[:0], a.process(addr)))
		} else if a.Replace != nil {
			out = replaceAll(nil, out, g, a.Replace)
		}
	}
	return append(dst, out...)
}

// process truncates addr (anonip's process_ip).
func (a *Anonip) process(addr netip.Addr) netip.Addr {
	if a.SkipPrivate && anonipPrivate(addr) {
		return addr
	}
	bits := addr.BitLen() - a.V4Mask
	if addr.Is6() {
		bits = addr.BitLen() - a.V6Mask
	}
	p, _ := addr.Prefix(max(bits, 0))
	t := p.Addr()
	if a.incHi == 0 && a.incLo == 0 && !a.incHuge {
		return t
	}
	if a.incHuge {
		return t // past every address: anonip logs the overflow and keeps the truncated one
	}
	b := t.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	if t.Is4() {
		v := uint64(binary.BigEndian.Uint32(b[12:]))
		if a.incHi != 0 || a.incLo > 1<<32-1-v {
			return t
		}
		var o [4]byte
		binary.BigEndian.PutUint32(o[:], uint32(v+a.incLo))
		return netip.AddrFrom4(o)
	}
	nlo := lo + a.incLo
	carry := uint64(0)
	if nlo < lo {
		carry = 1
	}
	nhi := hi + a.incHi + carry
	if nhi < hi || nhi == hi && (a.incHi != 0 || carry != 0) {
		return t // carried past ffff:…:ffff
	}
	binary.BigEndian.PutUint64(b[:8], nhi)
	binary.BigEndian.PutUint64(b[8:], nlo)
	return netip.AddrFrom16(b)
}

// appendPyAddr writes an address as Python's str() does: as netip does,
// but for an IPv4-mapped IPv6 address, written in hex ("::ffff:3a5a:b90a"),
// as Python up to 3.12 writes it.
func appendPyAddr(dst []byte, a netip.Addr) []byte {
	if !a.Is4In6() {
		return a.AppendTo(dst)
	}
	b := a.As16()
	dst = append(dst, "::ffff:"...)
	dst = strconv.AppendUint(dst, uint64(b[12])<<8|uint64(b[13]), 16)
	dst = append(dst, ':')
	return strconv.AppendUint(dst, uint64(b[14])<<8|uint64(b[15]), 16)
}

// anonipExtract finds the address in a column as anonip's extract_ip
// does: the whole column, or the host of "//"+column read as a URL
// authority ("192.168.100.200:80", "[2001:db8::1]:443", with one ']'
// too many dropped). ipStr is the address as written, a part of col.
func anonipExtract(col []byte) (ipStr []byte, addr netip.Addr, ok bool) {
	if a, ok := anonipAddr(col); ok {
		return col, a, true
	}
	c := col
	if n := len(c); n > 0 && (c[0] == '[' && n >= 2 && c[n-2] == ']' && c[n-1] == ']' || c[0] != '[' && c[n-1] == ']') {
		c = c[:n-1]
	}
	netloc := c
	if i := bytes.IndexAny(netloc, "/?#"); i >= 0 {
		netloc = netloc[:i]
	}
	// urlsplit refuses an unbalanced bracket in the authority.
	if bytes.IndexByte(netloc, '[') >= 0 != (bytes.IndexByte(netloc, ']') >= 0) {
		return nil, netip.Addr{}, false
	}
	host := netloc
	if i := bytes.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := bytes.IndexByte(host, '['); i >= 0 {
		host = host[i+1:]
		if j := bytes.IndexByte(host, ']'); j >= 0 {
			host = host[:j]
		}
	} else if j := bytes.IndexByte(host, ':'); j >= 0 {
		host = host[:j]
	}
	if a, ok := anonipAddr(host); ok {
		return host, a, true
	}
	return nil, netip.Addr{}, false
}

// anonipAddr reads an address as Python's ipaddress does: dotted decimal
// without leading zeros, or IPv6 (a zone is dropped); also as a /32 or
// /128 network.
func anonipAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4Fast(b); ok {
		return a, true
	}
	bits := ""
	if i := bytes.IndexByte(b, '/'); i >= 0 {
		b, bits = b[:i], string(b[i+1:])
	}
	if i := bytes.IndexByte(b, '%'); i > 0 && bytes.IndexByte(b, ':') >= 0 {
		b = b[:i]
	}
	a, ok := parseIPv4Fast(b)
	if !ok {
		if a, ok = parseAddrBytes(b); !ok {
			return netip.Addr{}, false
		}
	}
	if bits != "" && (a.Is4() && bits != "32" || a.Is6() && bits != "128") {
		return netip.Addr{}, false
	}
	return a, true
}

// anonipPrivate is Python's ipaddress is_private (3.11.7): the IANA
// special-purpose ranges; an IPv4-mapped address by its IPv4 address.
func anonipPrivate(a netip.Addr) bool {
	if a.Is4In6() {
		a = a.Unmap()
	}
	for _, p := range anonipPrivateNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var anonipPrivateNets = func() (ps []netip.Prefix) {
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/29",
		"192.0.0.170/31", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::1/128", "::/128", "::ffff:0:0/96", "100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32", "2001:10::/28",
		"fc00::/7", "fe80::/10",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// replaceAll appends s with every occurrence of old replaced by new.
func replaceAll(dst, s, old, new []byte) []byte {
	for {
		i := bytes.Index(s, old)
		if i < 0 || len(old) == 0 {
			return append(dst, s...)
		}
		dst = append(append(dst, s[:i]...), new...)
		s = s[i+len(old):]
	}
}
