package transforms

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	useragent "github.com/medama-io/go-useragent"
)

// Anonymizer holds the resolved policy and the opened databases. It is
// immutable and shared; each goroutine processes lines through its own Worker.
type Anonymizer struct {
	p       Policy
	country *GeoDB
	asnDB   *GeoDB
	ua      *useragent.Parser
	// jsonPrefix is every event's constant start: schema and policy version.
	jsonPrefix []byte
}

// NewAnonymizer opens the policy's databases; it fails only on them.
func NewAnonymizer(p Policy) (*Anonymizer, error) {
	a := &Anonymizer{p: p, ua: useragent.NewParser()}
	a.jsonPrefix = append([]byte(`{"schema_version":`), strconv.Itoa(SchemaVersion)...)
	a.jsonPrefix = append(a.jsonPrefix, `,"policy_version":`...)
	a.jsonPrefix = appendJSONString(a.jsonPrefix, p.PolicyVersion)
	var err error
	if p.CountryDB != "" {
		if a.country, err = OpenCountryDB(p.CountryDB); err != nil {
			return nil, fmt.Errorf("country_db: %w", err)
		}
	}
	if p.ASNDB != "" {
		if a.asnDB, err = OpenASNDB(p.ASNDB); err != nil {
			a.country.Close()
			return nil, fmt.Errorf("asn_db: %w", err)
		}
	}
	return a, nil
}

// Warnings are what is odd about the databases (GeoDB.Warning), for the
// caller to report.
func (a *Anonymizer) Warnings() []string {
	var w []string
	for _, g := range []*GeoDB{a.country, a.asnDB} {
		if g != nil && g.Warning != "" {
			w = append(w, g.Warning)
		}
	}
	return w
}

// Policy is the policy the Anonymizer runs.
func (a *Anonymizer) Policy() Policy { return a.p }

// Close releases the databases. Workers must not be used afterwards.
func (a *Anonymizer) Close() error {
	return errors.Join(a.country.Close(), a.asnDB.Close())
}

func (a *Anonymizer) trusted(ip netip.Addr) bool {
	for _, p := range a.p.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a *Anonymizer) truncate(ip netip.Addr) netip.Prefix {
	bits := a.p.IPv6Prefix
	if ip.Is4() {
		bits = a.p.IPv4Prefix
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		panic("BUG: prefix length validated but rejected: " + err.Error())
	}
	return p
}

// Worker runs lines through the steps, one at a time, each step with its
// own buffers and caches: parse (into raw) → enrich from the full address
// (geo) → scrub (path, queries, hosts, referrers, agents; pseudonym) →
// encode (encode.go, line.go). It is not safe for concurrent use.
type Worker struct {
	// EmitPseudonym writes Record.Pseudonym as "visitor" in AppendJSON.
	EmitPseudonym bool
	// Population decides path segments by population (population.go): the
	// caller asks the census about Record.Candidates and calls
	// Record.Admit before writing the record.
	Population bool

	a   *Anonymizer
	raw Raw // the line as parsed, read by Anonymize only
	// Rec is the anonymized event of the last line Process accepted.
	Rec Record

	geo       geoLookup
	queries   queries
	hosts     hosts
	referrers referrers
	agents    agents
	pseudo    *pseudonymizer
	// dayZone is the pseudonyms' time zone (Policy.DayZone).
	dayZone ZoneOffset

	redactBuf []byte
	// w3c is the field list of the input's last W3C #Fields: line.
	w3c w3cHeader
	// Err is the last error-log line Process read (ErrErrorLog); errBuf
	// holds its scrubbed text.
	Err       ErrorLine
	errBuf    []byte
	timeCache struct {
		minute int64
		ok     bool
		buf    [20]byte
	}
}

// NewWorker returns a Worker for one goroutine.
func (a *Anonymizer) NewWorker() *Worker {
	p := &a.p
	return &Worker{
		a:         a,
		dayZone:   newZoneOffset(p.DayZone),
		geo:       newGeoLookup(a.country, a.asnDB, p.IPv4Prefix, p.IPv6Prefix),
		queries:   queries{allow: p.QueryAllow, search: p.SearchParams},
		hosts:     hosts{internal: p.InternalHosts, cache: newCache[hostInfo]()},
		referrers: referrers{internal: p.InternalHosts, cache: newCache[refInfo]()},
		agents:    agents{parser: a.ua, cache: newCache[uaInfo]()},
	}
}

// Process parses line into w.Rec and anonymizes it. On error the line is to
// be rejected (see AppendRedactedLine); the error is one of the Err values,
// safe to use as a metric label. w.Rec aliases line until the next call.
func (w *Worker) Process(line []byte) error {
	var err error
	switch {
	case w.a.p.errorServer != "":
		return w.processError(line, w.a.p.errorServer)
	case w.a.p.format == nil && isApacheError(line):
		return w.processError(line, "apache")
	case w.a.p.format == nil && isNginxError(line):
		return w.processError(line, "nginx")
	case w.a.p.format == nil:
		err = w.parseAuto(line)
	default:
		err = Parse(w.a.p.format, line, &w.raw)
	}
	if err != nil {
		return err
	}
	w.Anonymize(&w.raw, &w.Rec)
	return nil
}

// Anonymize writes into r what the policy keeps of raw: the country and
// network provider of the full address, the address truncated, and every
// other field scrubbed. The address is never stored; r has no field for
// what the policy drops (user, ident, X-Forwarded-For, the raw request,
// referrer and user agent).
func (w *Worker) Anonymize(raw *Raw, r *Record) {
	r.reset()
	r.Format, r.Method, r.Proto = raw.Format, raw.Method, raw.Proto
	r.RequestTimeUS, r.Status, r.Bytes = raw.RequestTimeUS, raw.Status, raw.Bytes
	r.Time, r.TZOffset, r.BadRequest = raw.Time, raw.TZOffset, raw.BadRequest
	hosting := false
	if a := w.resolveClient(raw, r); a.IsValid() {
		hosting = w.geo.enrich(a, r)
		r.Network = w.a.truncate(a)
		if w.pseudo != nil {
			start := len(r.scratch)
			var ok bool
			if r.scratch, ok = w.pseudo.appendPseudonym(r.scratch, a, raw, w.day(r.Time)); ok {
				r.Pseudonym = r.scratch[start:len(r.scratch):len(r.scratch)]
			}
		}
	} else {
		r.Country = CountryUnknown
	}

	if p := w.a.p.precision; p > 1 {
		local := r.Time + int64(r.TZOffset)
		r.Time -= local % p
	}

	if !r.BadRequest {
		start := len(r.scratch)
		var cands *candidates
		if w.Population {
			cands = &r.cands
		}
		r.scratch, r.tmp = appendScrubbedPath(r.scratch, raw.RawPath, w.a.p.routes, w.a.p.SafeSegments, r.tmp, cands)
		r.Path = r.scratch[start:len(r.scratch):len(r.scratch)]
		if r.cands.n > 0 {
			r.setPage()
		}
		w.queries.scrub(raw, r)
	} else {
		r.Method, r.Proto = nil, nil
	}
	if len(r.Method) == 0 || !isMethod(r.Method) {
		r.Method = nil // none logged (Matomo's nginx JSON), or not a method
	} else if !nameIn(r.Method, knownMethods) {
		r.Method = methodOther
	}
	if len(r.Proto) > 16 || !isProto(r.Proto) {
		r.Proto = nil
	}
	w.hosts.clean(raw, r)
	w.referrers.scrub(raw, r)

	ua := w.agents.info(raw.UserAgent)
	r.Browser, r.BrowserMajor, r.OS, r.Device, r.Bot, r.uaJSON = ua.browser, ua.major, ua.os, ua.device, ua.bot, ua.json
	r.Traffic, r.Crawler = ua.traffic, ua.crawler
	if r.Traffic == TrafficHuman && hosting {
		r.Traffic = TrafficDatacenter
	}
}

func isProto(p []byte) bool {
	if len(p) < 6 || string(p[:5]) != "HTTP/" {
		return false
	}
	for _, c := range p[5:] {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// knownMethods are written as they are; any other method (an upper-case
// word the client chose) becomes methodOther.
var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "PURGE", "PRI"}

var methodOther = []byte("OTHER")

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
