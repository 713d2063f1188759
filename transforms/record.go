package transforms

import "net/netip"

// Raw is one access-log line split into fields, as parsed: personal data
// (the client address or name, the user, the raw request target and
// referrer, the user agent). Only the anonymizer reads it; no encoder takes
// it. Byte slices alias the input line or the Raw's own buffer: they stay
// valid until the next Parse into it. Empty means absent or "-".
type Raw struct {
	// Format is the compiled format that parsed the line.
	Format *Format

	Client    []byte
	Ident     []byte
	User      []byte
	XFF       []byte
	Method    []byte
	RawPath   []byte // the request path, before scrubbing
	RawQuery  []byte // the query string without "?", before scrubbing
	Proto     []byte
	Referer   []byte
	UserAgent []byte
	Host      []byte
	// RequestTimeUS is the request duration in microseconds, -1 when absent.
	RequestTimeUS int64
	Status        int
	// Bytes is the response size; -1 when logged as "-".
	Bytes int64
	// Time is the event time in Unix seconds (UTC); TZOffset is the offset in
	// seconds east of UTC the line was written in.
	Time     int64
	TZOffset int32
	// BadRequest is set when the request line was not "METHOD target [proto]"
	// (TLS probes, binary junk): the event keeps status and time, not the text.
	BadRequest bool

	clfCache clfCache // survives reset
	unesc    []byte   // unescaped field values
}

// reset clears the raw record for the next line, keeping buffer capacity.
func (r *Raw) reset() {
	unesc, cc := r.unesc[:0], r.clfCache
	*r = Raw{unesc: unesc, clfCache: cc, RequestTimeUS: -1, Bytes: -1}
}

// Record is one anonymized event: what the policy keeps of a Raw, enriched
// from the full address before it was forgotten. It is what the encoders
// write and the statistics count. Byte slices alias the raw line or the
// record's own buffer: they stay valid until the worker's next Process.
type Record struct {
	// Format is the format the line was read in; AppendLine rewrites the
	// line in it.
	Format *Format
	// As read, where the policy keeps them: the method (an unknown one is
	// OTHER), the protocol, the site (a plain host name).
	Method, Proto, Host []byte
	RequestTimeUS       int64
	Status              int
	Bytes               int64
	// Time is truncated to time_precision; TZOffset is the line's offset
	// east of UTC, to rewrite it.
	Time       int64
	TZOffset   int32
	BadRequest bool

	Network      netip.Prefix
	ClientDomain []byte // registrable domain when the client field was a host name
	Country      string
	Continent    string
	ASN          uint32
	ASOrg        string
	asnJSON      []byte // `,"asn":N,"as_org":"…"`, encoded once per database record
	uaJSON       string // `,"browser":…,"device":…`, encoded once per cached user agent
	Path         []byte
	Query        []byte
	SearchTerms  []byte
	ReferrerSite []byte
	ReferrerType string
	Browser      string
	BrowserMajor string
	OS           string
	Device       string
	Bot          bool
	// Traffic is who the request came from (traffic.go): human, crawler,
	// ai_crawler, bot or datacenter; Crawler the crawler list's name.
	Traffic string
	Crawler string
	// Pseudonym is the day's visitor pseudonym (see Worker.SetSaltSource);
	// empty without a salt source, a client address or a salt for the day.
	Pseudonym []byte
	// Rung is how far Generalize cut the quasi-identifiers (RungNetwork:
	// not at all).
	Rung Rung

	// cands are the path's third-tier segments (population.go), page the
	// path as the statistics see it when it differs.
	cands candidates
	page  []byte

	scratch []byte // scrubbed field values
	tmp     []byte // short-lived decode buffer
}

// reset clears the record for the next line, keeping buffer capacity.
func (r *Record) reset() {
	scratch, tmp := r.scratch[:0], r.tmp[:0]
	*r = Record{scratch: scratch, tmp: tmp, RequestTimeUS: -1, Bytes: -1}
}

// CloneInto returns a copy of the anonymized record r whose byte fields live
// in arena (appended to it), so that it outlives the worker's next Process,
// and the grown arena. Only anonymized fields are kept.
func (r *Record) CloneInto(arena []byte) (Record, []byte) {
	c := Record{
		Format: r.Format, Status: r.Status, Bytes: r.Bytes, Time: r.Time, TZOffset: r.TZOffset,
		RequestTimeUS: r.RequestTimeUS, BadRequest: r.BadRequest, Network: r.Network,
		Country: r.Country, Continent: r.Continent, ASN: r.ASN, ASOrg: r.ASOrg, asnJSON: r.asnJSON,
		ReferrerType: r.ReferrerType, Browser: r.Browser, BrowserMajor: r.BrowserMajor, OS: r.OS,
		Device: r.Device, Bot: r.Bot, uaJSON: r.uaJSON, Traffic: r.Traffic, Crawler: r.Crawler, Rung: r.Rung,
		cands: r.cands,
	}
	for _, f := range [...]struct {
		dst *[]byte
		src []byte
	}{
		{&c.Method, r.Method}, {&c.Proto, r.Proto}, {&c.Host, r.Host}, {&c.ClientDomain, r.ClientDomain},
		{&c.Path, r.Path}, {&c.Query, r.Query}, {&c.SearchTerms, r.SearchTerms},
		{&c.ReferrerSite, r.ReferrerSite}, {&c.Pseudonym, r.Pseudonym},
	} {
		if len(f.src) == 0 {
			continue
		}
		start := len(arena)
		arena = append(arena, f.src...)
		*f.dst = arena[start:len(arena):len(arena)]
	}
	return c, arena
}
