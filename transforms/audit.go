package transforms

import "net/netip"

// Finding is an identifier Audit found in a line: its class and where.
type Finding struct {
	Class      Class
	Start, End int
}

// AuditLine appends the identifiers in one line of output to dst, with the
// classifier that scrubs logveil's outputs (classify.go), so an operator can
// run the same detectors over any output before signing it off. A line that
// is a JSON object is judged by its strings only (its numbers are counts);
// in every line, a date followed by a time of day is a timestamp, and an
// address whose host bits are zero (logveil's client_network, a truncated
// client) is a network, not a finding. Plain numbers that match no shape,
// and the context judgements (ids, names, private host names), are not
// findings either: they are only meaningful where logveil writes them.
func AuditLine(dst []Finding, line []byte) []Finding {
	if len(line) > 0 && line[0] == '{' {
		for i := 0; i < len(line); i++ {
			if line[i] != '"' {
				continue
			}
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(line))
			dst = auditText(dst, line, i+1, j)
			i = j
		}
		return dst
	}
	return auditText(dst, line, 0, len(line))
}

func auditText(dst []Finding, line []byte, from, to int) []Finding {
	s := line[:to]
	for i := from; i < to; {
		start, end, cls := findIdentifier(s, i, scanOpts{})
		if cls == ClassNone {
			break
		}
		i = end
		if !cls.personal() || cls == ClassDate && (isTimestamp(s[start:end]) || timestampAt(s, end)) ||
			cls == ClassIP && network(s[start:end]) {
			continue
		}
		dst = append(dst, Finding{cls, start, end})
	}
	return dst
}

// timestampAt reports a time of day right after a date: "T10:15", ":10:15".
func timestampAt(s []byte, i int) bool {
	return i+2 < len(s) && (s[i] == 'T' || s[i] == ':' || s[i] == ' ') && isDigit(s[i+1]) && isDigit(s[i+2])
}

// network reports an address with no host bits beyond /24 (IPv4) or /64
// (IPv6), as logveil writes truncated clients; brackets and a port are
// allowed around it.
func network(w []byte) bool {
	if len(w) > 0 && w[0] == '[' {
		w = w[1:]
		for k, c := range w {
			if c == ']' {
				w = w[:k]
				break
			}
		}
	}
	a, ok := parseAddrBytes(w)
	if !ok {
		return false
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	return err == nil && p.Addr() == a && a != netip.Addr{}
}
