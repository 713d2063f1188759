package transforms

import "bytes"

// nameIn reports whether name is one of list (no allocation).
func nameIn(name []byte, list []string) bool {
	for _, s := range list {
		if string(name) == s {
			return true
		}
	}
	return false
}

// nextParam splits the first parameter off a query string. Both '&' and
// ';' separate parameters: "utm_source=x;uid=48219933" is two.
func nextParam(q []byte) (name, val, rest []byte) {
	p := q
	for i, c := range q {
		if c == '&' || c == ';' {
			p, rest = q[:i], q[i+1:]
			break
		}
	}
	name = p
	if i := bytes.IndexByte(p, '='); i >= 0 {
		name, val = p[:i], p[i+1:]
	}
	return name, val, rest
}

// queries is the query-string step: the parameters kept and those that
// are site searches, and the buffer search terms gather in.
type queries struct {
	allow, search []string // query_allow, search_params
	terms         []byte
}

// scrub keeps allow-listed parameters whose values are known to be safe
// (judged like a path segment: lower-case words and short numbers; anything
// else becomes its typed placeholder) and turns site-search parameters into
// normalised, scrubbed search terms. Everything else is dropped. One pass:
// search terms gather in the step's buffer and are copied after.
func (qs *queries) scrub(raw *Raw, r *Record) {
	start := len(r.scratch)
	qs.terms = qs.terms[:0]
	for q := raw.RawQuery; len(q) > 0; {
		var name, val []byte
		name, val, q = nextParam(q)
		if nameIn(name, qs.search) {
			qs.terms = r.appendSearchTerms(qs.terms, val)
			continue
		}
		if !nameIn(name, qs.allow) {
			continue
		}
		if len(r.scratch) > start {
			r.scratch = append(r.scratch, '&')
		}
		r.scratch = append(r.scratch, name...)
		if val == nil {
			continue
		}
		r.scratch = append(r.scratch, '=')
		if len(val) == 0 {
			continue
		}
		var cls Class
		if plainSegment(val) {
			cls = ClassNone
		} else {
			r.tmp = appendFullyDecoded(r.tmp[:0], val, true)
			cls, _ = classifySegment(r.tmp)
			// The raw value is what is written: run the detectors on it too.
			if cls == ClassNone && hasPercent(val) {
				cls = firstIdentifier(val, 5)
			}
		}
		if cls == ClassNone {
			r.scratch = append(r.scratch, val...)
		} else {
			r.scratch = append(r.scratch, cls.Placeholder()...)
		}
	}
	r.Query = r.scratch[start:len(r.scratch):len(r.scratch)]
	if len(qs.terms) > 0 {
		start = len(r.scratch)
		r.scratch = append(r.scratch, qs.terms...)
		r.SearchTerms = r.scratch[start:len(r.scratch):len(r.scratch)]
	}
}

// maxSearchTerms bounds the search_terms field.
const maxSearchTerms = 200

// appendSearchTerms decodes a search value, replaces identifiers with their
// placeholders (appendScrubbedText) and a person's name (a given name, then
// a surname) with {name}, lower-cases ASCII and collapses white space onto
// dst, which holds the terms gathered so far.
func (r *Record) appendSearchTerms(dst, val []byte) []byte {
	from := len(dst)
	dst = r.appendTerms(dst, val)
	// A person's name is replaced however many searched it.
	dst, r.tmp = scrubNames(dst, from, r.tmp)
	return dst
}

func (r *Record) appendTerms(dst, val []byte) []byte {
	r.tmp = appendFullyDecoded(r.tmp[:0], val, true)
	mark := len(r.tmp)
	r.tmp = appendScrubbedText(r.tmp, r.tmp[:mark])
	space := len(dst) > 0
	for _, c := range r.tmp[mark:] {
		if c <= ' ' || c == 0x7f {
			space = len(dst) > 0
			continue
		}
		if len(dst) >= maxSearchTerms {
			break
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, lower(c))
	}
	return dst
}
