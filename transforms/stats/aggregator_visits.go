package stats

// visitorState is one visitor in one window: their visits, and per hit
// dimension the cell they were last counted in (a visitor's country,
// browser, hour... rarely change within a window, so most hits skip the
// distinct-visitor set).
type visitorState struct {
	sessions []session
	counted  [numHitDims]*cell
	// Differential privacy: the values kept per dimension (dp.go) and all
	// the visitor's views in the window.
	dp    *dpState
	views int64
}

// add counts a hit in dim's cell for value; v is the visitor when hasV, vs
// their state, nil when the hit has no visitor or the window does not
// follow them (past max_visitors).
func (w *window) add(dim int, value []byte, v uint64, hasV bool, vs *visitorState, max int) {
	// A visitor's hits mostly repeat their country, browser, status, hour…:
	// the cell they were last counted in is checked before the map.
	if vs != nil {
		if c := vs.counted[dim]; c != nil && !c.capped && c.key == string(value) {
			c.views++
			return
		}
	}
	c := w.dims[dim][string(value)]
	if c == nil {
		if len(w.dims[dim]) >= max {
			c = &w.capped[dim]
			c.capped = true
			w.cappedEvents++
		} else {
			c = &cell{key: string(value)}
			w.dims[dim][c.key] = c
		}
	}
	c.views++
	switch {
	case vs != nil && vs.counted[dim] != c:
		c.visitors.add(v)
		vs.counted[dim] = c
	case vs == nil && hasV:
		c.visitors.add(v)
	}
}

// visit adds a hit to the visitor's visits in w. Visits are the visitor's
// hits in the window split where two consecutive hits are more than the
// session gap apart, whatever order the hits arrive in.
func (a *Aggregator) visit(vs *visitorState, t int64, h *Hit, ref hitRef) {
	ss := vs.sessions
	i := 0 // the first visit that does not end more than a gap before t
	for i < len(ss) && ss[i].last+a.gap < t {
		i++
	}
	if i == len(ss) || ss[i].start-a.gap > t {
		page, country := a.intern(h.Page), a.intern(h.Country)
		ss = append(ss, session{})
		copy(ss[i+1:], ss[i:])
		ss[i] = session{start: t, last: t, pages: 1, entry: ref, exit: ref, entryPage: page, exitPage: page, country: country}
		vs.sessions = ss
		return
	}
	s := &ss[i]
	s.pages++
	if t < s.start || t == s.start && ref.less(s.entry) {
		s.start, s.entry, s.entryPage, s.country = t, ref, a.intern(h.Page), a.intern(h.Country)
	}
	if t > s.last || t == s.last && s.exit.less(ref) {
		s.last, s.exit, s.exitPage = t, ref, a.intern(h.Page)
	}
	// A hit can bridge this visit and the next one.
	if i+1 < len(ss) && ss[i+1].start-a.gap <= s.last {
		n := ss[i+1]
		s.pages += n.pages
		if n.last > s.last || n.last == s.last && s.exit.less(n.exit) {
			s.last, s.exit, s.exitPage = n.last, n.exit, n.exitPage
		}
		ss = append(ss[:i+1], ss[i+2:]...)
		vs.sessions = ss
	}
}
