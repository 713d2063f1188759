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
// normalised, redacted search terms. Everything else is dropped. One pass:
// search terms gather in the worker's buffer and are copied after.
func (w *Worker) scrubQuery(r *Record) {
	start := len(r.scratch)
	w.search = w.search[:0]
	for q := r.RawQuery; len(q) > 0; {
		var name, val []byte
		name, val, q = nextParam(q)
		if nameIn(name, w.a.cfg.SearchParams) {
			w.search = r.appendSearchTerms(w.search, val)
			continue
		}
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
		// The raw value is what is written: judge it as well as its decoding.
		if sensitive(r.tmp) || hasPercent(val) && sensitive(val) {
			r.scratch = append(r.scratch, "{redacted}"...)
		} else {
			r.scratch = append(r.scratch, val...)
		}
	}
	r.Query = r.scratch[start:len(r.scratch):len(r.scratch)]
	if len(w.search) > 0 {
		start = len(r.scratch)
		r.scratch = append(r.scratch, w.search...)
		r.SearchTerms = r.scratch[start:len(r.scratch):len(r.scratch)]
	}
}

// maxSearchTerms bounds the search_terms field.
const maxSearchTerms = 200

// appendSearchTerms decodes a search value, masks identifiers and long
// numbers, lower-cases ASCII and collapses white space onto dst, which holds
// the terms gathered so far.
func (r *Record) appendSearchTerms(dst, val []byte) []byte {
	r.tmp = appendFullyDecoded(r.tmp[:0], val, true)
	mark := len(r.tmp)
	r.tmp = appendRedacted(r.tmp, r.tmp[:mark], true)
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
