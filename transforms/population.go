package transforms

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"

	"github.com/logveil/logveil/transforms/census"
)

// Path segments in three tiers (README: path values by population), when
// the policy decides by population (events_k above 1):
//
//  1. sure identifiers — what the classifier recognises by a checkable
//     shape (emails, cards, phones, addresses, tokens, …), what follows an
//     identity or secret parent, and a person's name the detector finds —
//     are replaced however many people used them;
//  2. lexical segments — common words of the major languages (the
//     lexicon), web words, small numbers, the site's safe_segments — are
//     kept;
//  3. everything else — other slugs, ids, codes, mixed-case words — is a
//     Candidate: written only if at least k distinct visitors used that
//     path up to and including it on that site that day or the day before
//     (the census, as for the events' quasi-identifiers), or, for a slug,
//     each of its unknown words in any path of the site; else its
//     placeholder.
//
// Anonymize writes a candidate as it is and notes it in the record; the
// engine asks the census and calls Admit before the event is written.

// MaxCandidates is how many candidate segments a path may have; those
// after them (and those past 64 KiB into it) are replaced at once.
// MaxWords is how many unknown words the slugs among them may have. Every
// held record carries room for them (and its ladder their keys, today's
// and yesterday's), so they are few.
const (
	MaxCandidates = 4
	MaxWords      = 4
)

// A Candidate is a path segment of the third tier.
type Candidate struct {
	Off, Len uint16 // the segment in Record.Path
	Ext      uint8  // the length of the extension kept after the placeholder
	Class    Class  // the placeholder when not admitted
	// Shape: the shape alone keeps it (a route-like slug). The statistics
	// see the path as the shape decides it (Record.Page).
	Shape bool
	// Words, from Word on: a slug's words the lexicon does not know. The
	// slug is admitted too when each of them is, on its own, a word of the
	// site's vocabulary: k visitors read paths with it that day (or the
	// day before).
	Word, Words uint8
}

// candidates are a record's, and the unknown words of its slugs (their
// hashes).
type candidates struct {
	n      uint8
	nwords uint8
	list   [MaxCandidates]Candidate
	words  [MaxWords]uint64
}

// Candidates are r's third-tier path segments.
func (r *Record) Candidates() []Candidate { return r.cands.list[:r.cands.n] }

// Page is the path as the statistics see it: each candidate as its shape
// decides, as when nothing is decided by population. The statistics
// publish a page only when k visitors read it.
func (r *Record) Page() []byte {
	if r.page != nil {
		return r.page
	}
	return r.Path
}

// setPage writes r.page when a candidate's shape would replace it.
func (r *Record) setPage() {
	mask := uint32(0)
	for i, c := range r.Candidates() {
		if c.Shape {
			mask |= 1 << i
		}
	}
	if mask == 1<<r.cands.n-1 {
		return
	}
	start := len(r.scratch)
	r.scratch = r.appendAdmitted(r.scratch, mask)
	r.page = r.scratch[start:len(r.scratch):len(r.scratch)]
}

// Admit rewrites r.Path with every candidate whose bit in admitted is
// clear replaced by its placeholder, into buf (returned for reuse). The
// candidates are gone after it.
func (r *Record) Admit(admitted uint32, buf []byte) []byte {
	if r.cands.n == 0 {
		return buf
	}
	if admitted&(1<<r.cands.n-1) != 1<<r.cands.n-1 {
		buf = r.appendAdmitted(buf[:0], admitted)
		r.Path = buf
	}
	r.cands.n = 0
	return buf
}

func (r *Record) appendAdmitted(dst []byte, admitted uint32) []byte {
	at := 0
	for i, c := range r.Candidates() {
		if admitted&(1<<i) != 0 {
			continue
		}
		dst = append(dst, r.Path[at:c.Off]...)
		dst = append(dst, c.Class.Placeholder()...)
		end := int(c.Off) + int(c.Len)
		dst = append(dst, r.Path[end-int(c.Ext):end]...)
		at = end
	}
	return append(dst, r.Path[at:]...)
}

// note records a candidate at dst[off:] (seg as written); false when the
// record has no room for another.
func (c *candidates) note(off, n int, ext int, cls Class, shape bool) bool {
	if c == nil || int(c.n) == MaxCandidates || off+n > 0xffff {
		return false
	}
	c.list[c.n] = Candidate{Off: uint16(off), Len: uint16(n), Ext: uint8(min(ext, 255)), Class: cls, Shape: shape}
	c.n++
	return true
}

// noteSlug notes a slug whose unknown words lexical noted (words of them,
// the last ones; -1: none can admit it).
func (c *candidates) noteSlug(off, n, words int) bool {
	if !c.note(off, n, 0, ClassSlug, true) {
		if words > 0 {
			c.nwords -= uint8(words)
		}
		return false
	}
	if words > 0 {
		c.list[c.n-1].Word, c.list[c.n-1].Words = c.nwords-uint8(words), uint8(words)
	}
	return true
}

// CandidateKeys are the census keys of r's candidates — the site and the
// path up to and including each — and of its slugs' unknown words — the
// site and the word —, under the day's seed (so that the keys a shared
// census carries cannot be tried against guesses); and, when the day
// before's salt is known, the same under its seed (prev reports it): a
// value k visitors used yesterday is admitted today too.
func (w *Worker) CandidateKeys(r *Record, keys, prevKeys *[MaxCandidates]census.Key, words, prevWords *[MaxWords]census.Key) (prev bool) {
	p := w.pseudo
	if p == nil {
		return false
	}
	site := xxhash.Sum64(r.Host)
	for i, c := range r.Candidates() {
		h := xxhash.Sum64(r.Path[:int(c.Off)+int(c.Len)])
		keys[i] = populationKey(p.seed, spaceSegments, site, h)
		if p.prevOK {
			prevKeys[i] = populationKey(p.prevSeed, spaceSegments, site, h)
		}
	}
	for i, h := range r.cands.words[:r.cands.nwords] {
		words[i] = populationKey(p.seed, spaceWords, site, h)
		if p.prevOK {
			prevWords[i] = populationKey(p.prevSeed, spaceWords, site, h)
		}
	}
	return p.prevOK
}

const (
	spaceSegments = 0x7061746873656773 // "pathsegs"
	spaceWords    = 0x70617468776f7264 // "pathword"
)

func populationKey(seed, space, site, value uint64) census.Key {
	k := seed ^ space
	for _, f := range [2]uint64{site, value} {
		k ^= f
		k *= 0xff51afd7ed558ccd
		k ^= k >> 33
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], k)
	return census.Key(xxhash.Sum64(b[:]))
}

// Words are the number of r's slugs' unknown words (their keys: Ladder).
func (r *Record) Words() int { return int(r.cands.nwords) }
