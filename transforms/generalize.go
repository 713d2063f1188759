package transforms

import (
	"encoding/binary"
	"net/netip"

	"github.com/cespare/xxhash/v2"

	"github.com/logveil/logveil/transforms/census"
)

// k-anonymous events (README: k-anonymous events): an event's
// quasi-identifiers — client network (or client domain), network provider,
// country and continent, browser and its version, OS, device, and the site
// — are written only in a class, their values at one rung of this ladder,
// that at least k distinct visitors (daily pseudonyms) are written in that
// day (processor/engine: Holder). Each rung keeps less than the one
// before; the last keeps none of them. The traffic class and crawler name,
// which every event carries, are part of every rung's key: a class does
// not mix people with bots.

// Rung is a step of the generalisation ladder.
type Rung uint8

const (
	RungNetwork     Rung = iota // the network at the policy's prefix, and everything below
	RungWideNetwork             // the network cut to a /16 (IPv6 /32)
	RungProvider                // the network provider (ASN) instead of the network
	RungBrowser                 // the browser without its version
	RungCountry                 // the country instead of the network provider
	RungOS                      // no browser: country, OS, device, site
	RungDevice                  // no OS: country, device, site
	RungPlace                   // country and site
	RungSite                    // the site only
	RungNone                    // none of them
	NumRungs
)

var rungNames = [NumRungs]string{"network", "wide_network", "provider", "browser", "country", "os", "device", "place", "site", "none"}

func (r Rung) String() string {
	if r < NumRungs {
		return rungNames[r]
	}
	return "?"
}

// NewCensus returns the census the policy's k-anonymous events are counted
// in; nil when they are off (events_k 1).
func (p Policy) NewCensus() *census.Counter {
	if p.EventsK <= 1 {
		return nil
	}
	return census.New(p.EventsK, p.CensusBytes)
}

// RungNames are the rungs' names, finest first (the privacy row's keys).
func RungNames() []string { return rungNames[:] }

// Ladder is a record's census keys at every rung and its visitor.
type Ladder struct {
	Day     int32 // the pseudonym's day
	Visitor census.Visitor
	Keys    [NumRungs - 1]census.Key // none for RungNone
	// Cands and Words are the census keys of the record's path candidates
	// and of its slugs' unknown words (population.go); PrevCands and
	// PrevWords the same under the day before's seed, when Prev.
	Cands, PrevCands [MaxCandidates]census.Key
	Words, PrevWords [MaxWords]census.Key
	Prev             bool
	OK               bool // false: no visitor to count (no pseudonym)
}

// field hashes, combined per rung.
type fieldHashes struct {
	seed                                                                 uint64
	net, wide, asn, country, browser, version, os, device, site, traffic uint64
}

// Ladder computes r's census keys. A record without a pseudonym has none:
// it can only be written at RungNone.
func (w *Worker) Ladder(r *Record) (l Ladder) {
	v, ok := visitorOf(r.Pseudonym)
	if !ok || w.pseudo == nil {
		return l
	}
	l.Day, l.Visitor, l.OK = int32(w.day(r.Time)), census.Visitor(v), true
	// The pseudonym was made under this day's salt, so its seed is the
	// pseudonymizer's now.
	h := fieldHashes{seed: w.pseudo.seed}
	var buf [18]byte
	switch {
	case r.Network.IsValid():
		h.net = hashPrefix(&buf, r.Network, r.Network.Bits())
		h.wide = hashPrefix(&buf, r.Network, min(r.Network.Bits(), wideBits(r.Network)))
	case len(r.ClientDomain) > 0:
		h.net = xxhash.Sum64(r.ClientDomain) | 1
		h.wide = h.net
	}
	h.asn = uint64(r.ASN)<<1 | 1
	h.country = xxhash.Sum64String(r.Country)
	h.browser = xxhash.Sum64String(r.Browser)
	h.version = xxhash.Sum64String(r.BrowserMajor)
	h.os = xxhash.Sum64String(r.OS)
	h.device = xxhash.Sum64String(r.Device)
	h.site = xxhash.Sum64(r.Host)
	h.traffic = xxhash.Sum64String(r.Traffic) ^ xxhash.Sum64String(r.Crawler)*0x9e3779b97f4a7c15
	for rung := range RungNone {
		l.Keys[rung] = h.key(rung)
	}
	l.Prev = w.CandidateKeys(r, &l.Cands, &l.PrevCands, &l.Words, &l.PrevWords)
	return l
}

// wideBits is the wide rung's prefix length: /16 for IPv4, /32 for IPv6.
func wideBits(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 16
	}
	return 32
}

func hashPrefix(buf *[18]byte, p netip.Prefix, bits int) uint64 {
	a, _ := p.Addr().Prefix(bits)
	b := a.Addr().As16()
	copy(buf[:16], b[:])
	buf[16], buf[17] = byte(bits), 0x5a
	return xxhash.Sum64(buf[:])
}

// key combines the fields rung keeps.
func (h *fieldHashes) key(rung Rung) census.Key {
	k := uint64(rung+1)*0x9e3779b97f4a7c15 ^ h.seed
	mix := func(f uint64) {
		k ^= f
		k *= 0xff51afd7ed558ccd
		k ^= k >> 33
	}
	if rung <= RungWideNetwork {
		if rung == RungNetwork {
			mix(h.net)
		} else {
			mix(h.wide)
		}
	}
	if rung <= RungBrowser {
		mix(h.asn)
	}
	if rung <= RungPlace {
		mix(h.country)
	}
	if rung <= RungCountry {
		mix(h.browser)
	}
	if rung <= RungProvider {
		mix(h.version)
	}
	if rung <= RungOS {
		mix(h.os)
	}
	if rung <= RungDevice {
		mix(h.device)
	}
	if rung <= RungSite {
		mix(h.site)
	}
	mix(h.traffic)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], k)
	return census.Key(xxhash.Sum64(b[:]))
}

// Generalize cuts r's quasi-identifiers to what rung keeps and notes the
// rung in r.
func Generalize(r *Record, rung Rung) {
	r.Rung = rung
	if rung >= RungWideNetwork && r.Network.IsValid() {
		if bits := wideBits(r.Network); r.Network.Bits() > bits {
			r.Network, _ = r.Network.Addr().Prefix(bits)
		}
	}
	if rung >= RungProvider {
		r.Network, r.ClientDomain = netip.Prefix{}, nil
	}
	if rung >= RungBrowser {
		r.BrowserMajor = ""
	}
	if rung >= RungCountry {
		r.ASN, r.ASOrg, r.asnJSON = 0, "", nil
	}
	if rung >= RungOS {
		r.Browser = ""
	}
	if rung >= RungDevice {
		r.OS = ""
	}
	if rung >= RungPlace {
		r.Device = ""
	}
	if rung >= RungSite {
		r.Country, r.Continent = "", ""
	}
	if rung >= RungNone {
		r.Host = nil
	}
}

// visitorOf is the first 8 bytes of a hex pseudonym.
func visitorOf(p []byte) (uint64, bool) {
	if len(p) < 16 {
		return 0, false
	}
	var v uint64
	for _, c := range p[:16] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}
