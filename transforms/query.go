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

// nextParam splits the first parameter off a query string.
func nextParam(q []byte) (name, val, rest []byte) {
	p := q
	if i := bytes.IndexByte(q, '&'); i >= 0 {
		p, rest = q[:i], q[i+1:]
	}
	name = p
	if i := bytes.IndexByte(p, '='); i >= 0 {
		name, val = p[:i], p[i+1:]
	}
	return name, val, rest
}

// scrubQuery keeps allow-listed parameters (a value that holds an email,
// address or token becomes {redacted}) and turns site-search parameters into
// normalised, redacted search terms. Everything else is dropped.
func (w *Worker) scrubQuery(r *Record) {
	start := len(r.scratch)
	for q := r.RawQuery; len(q) > 0; {
		var name, val []byte
		name, val, q = nextParam(q)
		if !nameIn(name, w.a.cfg.QueryAllow) {
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
		r.tmp = appendFullyDecoded(r.tmp[:0], val, true)
		if sensitive(r.tmp) {
			r.scratch = append(r.scratch, "{redacted}"...)
		} else {
			r.scratch = append(r.scratch, val...)
		}
	}
	r.Query = r.scratch[start:len(r.scratch):len(r.scratch)]

	start = len(r.scratch)
	for q := r.RawQuery; len(q) > 0; {
		var name, val []byte
		name, val, q = nextParam(q)
		if nameIn(name, w.a.cfg.SearchParams) {
			r.appendSearchTerms(val, start)
		}
	}
	r.SearchTerms = r.scratch[start:len(r.scratch):len(r.scratch)]
}

// maxSearchTerms bounds the search_terms field.
const maxSearchTerms = 200

// appendSearchTerms decodes a search value, masks identifiers and long
// numbers, lower-cases ASCII and collapses white space onto r.scratch, whose
// search terms began at start.
func (r *Record) appendSearchTerms(val []byte, start int) {
	r.tmp = appendFullyDecoded(r.tmp[:0], val, true)
	mark := len(r.tmp)
	r.tmp = appendRedacted(r.tmp, r.tmp[:mark], true)
	space := len(r.scratch) > start
	for _, c := range r.tmp[mark:] {
		if c <= ' ' || c == 0x7f {
			space = len(r.scratch) > start
			continue
		}
		if len(r.scratch)-start >= maxSearchTerms {
			break
		}
		if space {
			r.scratch = append(r.scratch, ' ')
			space = false
		}
		r.scratch = append(r.scratch, lower(c))
	}
}
