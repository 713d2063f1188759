package stats

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"unsafe"

	"github.com/logveil/logveil/transforms"
)

// Hit is what the statistics need of one anonymized event: the value of the
// <prefix>.visits topic (AppendHit) and the input of Aggregator.AddHit.
// Byte slices alias the record or message they were read from.
type Hit struct {
	// Source is the raw topic and partition ("access-logs/3") and Offset the
	// raw record's offset: a replayed record is recognised as a duplicate.
	Source     []byte
	Offset     int64
	Time       int64
	Visitor    uint64 // the first 8 bytes of the day's pseudonym
	HasVisitor bool
	// Bot: not a person's page view (a crawler, a bot, a browser's agent
	// from a hosting network); Traffic says which, Crawler names a listed
	// crawler.
	Bot    bool
	Status int
	Bytes  int64
	// Page is the scrubbed path, or "(bad request)"; Referrer the referrer
	// site or its kind, e.g. "(direct)".
	Page, Referrer, Search       []byte
	Country, Browser, OS, Device []byte
	// Host is the site (the cleaned virtual host or Host header); the UTM
	// values are the kept, scrubbed query values of utm_source, utm_medium
	// and utm_campaign.
	Host, Traffic, Crawler            []byte
	UTMSource, UTMMedium, UTMCampaign []byte
	// Rung is 1 + the rung its event was written at (k-anonymous events,
	// transforms.Rung); 0 when events are not k-anonymous. The privacy
	// record states the shares.
	Rung uint8
}

// FromRecord fills h from an anonymized record.
func (h *Hit) FromRecord(r *transforms.Record) {
	h.Time, h.Status, h.Bytes = r.Time, r.Status, r.Bytes
	h.Bot = r.Bot || r.Traffic == transforms.TrafficDatacenter
	h.Visitor, h.HasVisitor = visitorID(r.Pseudonym)
	h.Page, h.Referrer, h.Search = pageOf(r), referrerOf(r), r.SearchTerms
	h.Country, h.Browser, h.OS, h.Device = bytesOf(r.Country), bytesOf(r.Browser), bytesOf(r.OS), bytesOf(r.Device)
	h.Host, h.Traffic, h.Crawler = r.Host, bytesOf(r.Traffic), bytesOf(r.Crawler)
	h.UTMSource, h.UTMMedium, h.UTMCampaign = nil, nil, nil
	for q := r.Query; len(q) > 0; {
		var kv []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			kv, q = q[:i], q[i+1:]
		} else {
			kv, q = q, nil
		}
		name, val, _ := bytes.Cut(kv, []byte{'='})
		switch string(name) {
		case "utm_source":
			h.UTMSource = val
		case "utm_medium":
			h.UTMMedium = val
		case "utm_campaign":
			h.UTMCampaign = val
		}
	}
}

// Detach copies the byte fields that alias a record or a worker's buffers
// (the others view immutable strings) to arena, so that h outlives them,
// and returns the grown arena.
func (h *Hit) Detach(arena []byte) []byte {
	for _, f := range [...]*[]byte{&h.Source, &h.Page, &h.Referrer, &h.Search, &h.Host, &h.UTMSource, &h.UTMMedium, &h.UTMCampaign} {
		if len(*f) == 0 {
			continue
		}
		start := len(arena)
		arena = append(arena, *f...)
		*f = arena[start:len(arena):len(arena)]
	}
	return arena
}

// traffic is h's class, for hits written before it was carried (h2).
func (h *Hit) traffic() []byte {
	switch {
	case len(h.Traffic) > 0:
		return h.Traffic
	case h.Bot:
		return bytesOf(transforms.TrafficBot)
	}
	return bytesOf(transforms.TrafficHuman)
}

// Hit versions: h4 adds the event's rung to h3; h3 adds host, traffic,
// crawler and the UTM values to h2,
// which carries the visitor id as its second field (many hits share one
// visits message); h1, the first version, had it in the key. All three are
// read, so an upgrade mid-stream loses nothing.
const (
	hitVersion   = "h4"
	hitVersionV3 = "h3"
	hitVersionV2 = "h2"
	hitVersionV1 = "h1"
)

// AppendHit appends the compact encoding of h, one line of a <prefix>.visits
// value: tab-separated fields (README: output schemas), with tab, newline and
// backslash escaped inside text fields.
func AppendHit(dst []byte, h *Hit) []byte {
	dst = append(dst, hitVersion...)
	dst = append(dst, '\t')
	if h.HasVisitor {
		const digits = "0123456789abcdef"
		for shift := 60; shift >= 0; shift -= 4 {
			dst = append(dst, digits[h.Visitor>>uint(shift)&15])
		}
	}
	dst = append(dst, '\t')
	dst = appendHitText(dst, h.Source)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, h.Offset, 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, h.Time, 10)
	dst = append(dst, '\t')
	if h.Bot {
		dst = append(dst, '1')
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(h.Status), 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, h.Bytes, 10)
	for _, f := range [...][]byte{h.Country, h.Browser, h.OS, h.Device, h.Referrer, h.Page, h.Search,
		h.Host, h.Traffic, h.Crawler, h.UTMSource, h.UTMMedium, h.UTMCampaign} {
		dst = append(dst, '\t')
		dst = appendHitText(dst, f)
	}
	dst = append(dst, '\t')
	return strconv.AppendInt(dst, int64(h.Rung), 10)
}

func appendHitText(dst, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\\':
			dst = append(dst, '\\', '\\')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Errors of ParseHit.
var (
	ErrHitVersion = errors.New("visits record: unknown version")
	ErrHitFields  = errors.New("visits record: wrong number of fields")
	ErrHitNumber  = errors.New("visits record: bad number")
)

// ParseHit reads one hit: a line of a <prefix>.visits value (AppendHit;
// key is not used), or a version-1 message whose key is the pseudonym.
// Escaped text is unescaped into scratch, which is returned for reuse;
// fields alias value or scratch.
func ParseHit(key, value []byte, h *Hit, scratch []byte) ([]byte, error) {
	scratch = scratch[:0]
	nFields := 21
	switch {
	case bytes.HasPrefix(value, []byte(hitVersion+"\t")), bytes.HasPrefix(value, []byte(hitVersionV3+"\t")), bytes.HasPrefix(value, []byte(hitVersionV2+"\t")):
		switch value[1] {
		case '2':
			nFields = 14
		case '3':
			nFields = 20
		}
		value = value[len(hitVersion)+1:]
		i := bytes.IndexByte(value, '\t')
		if i < 0 {
			return scratch, ErrHitFields
		}
		h.Visitor, h.HasVisitor = visitorID(value[:i])
		if i > 0 && !h.HasVisitor {
			return scratch, ErrHitNumber
		}
		value = value[i+1:]
	case bytes.HasPrefix(value, []byte(hitVersionV1+"\t")):
		h.Visitor, h.HasVisitor = visitorID(key)
		value = value[len(hitVersionV1)+1:]
		nFields = 14
	default:
		return scratch, ErrHitVersion
	}
	var all [21][]byte
	fields := all[:nFields]
	n, done := 0, false
	fields[0] = nil // the version, already read
	for n = 1; n < len(fields) && !done; n++ {
		i := bytes.IndexByte(value, '\t')
		if i < 0 {
			fields[n], done = value, true
			continue
		}
		fields[n], value = value[:i], value[i+1:]
	}
	if n != len(fields) || !done {
		return scratch, ErrHitFields
	}
	var ok0, ok1, ok2, ok3 bool
	h.Offset, ok0 = atoi64(fields[2])
	h.Time, ok1 = atoi64(fields[3])
	status, ok2 := atoi64(fields[5])
	h.Bytes, ok3 = atoi64(fields[6])
	if !ok0 || !ok1 || !ok2 || !ok3 || len(fields[4]) != 1 {
		return scratch, ErrHitNumber
	}
	h.Status, h.Bot = int(status), fields[4][0] == '1'
	h.Rung = 0
	if nFields > 20 {
		rung, ok := atoi64(fields[20])
		if !ok || rung < 0 || rung > int64(transforms.NumRungs) {
			return scratch, ErrHitNumber
		}
		h.Rung = uint8(rung)
	}
	texts := [...]struct {
		dst   *[]byte
		field int
	}{{&h.Source, 1}, {&h.Country, 7}, {&h.Browser, 8}, {&h.OS, 9}, {&h.Device, 10}, {&h.Referrer, 11}, {&h.Page, 12}, {&h.Search, 13},
		{&h.Host, 14}, {&h.Traffic, 15}, {&h.Crawler, 16}, {&h.UTMSource, 17}, {&h.UTMMedium, 18}, {&h.UTMCampaign, 19}}
	for _, t := range texts {
		if t.field >= nFields {
			*t.dst = nil
			continue
		}
		p, f := t.dst, fields[t.field]
		if bytes.IndexByte(f, '\\') < 0 {
			*p = f
			continue
		}
		start := len(scratch)
		for j := 0; j < len(f); j++ {
			c := f[j]
			if c == '\\' && j+1 < len(f) {
				j++
				switch f[j] {
				case 't':
					c = '\t'
				case 'n':
					c = '\n'
				default:
					c = f[j]
				}
			}
			scratch = append(scratch, c)
		}
		*p = scratch[start:len(scratch):len(scratch)]
	}
	return scratch, nil
}

// atoi64 parses an optionally negative decimal (no allocation but on
// error).
func atoi64(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(unsafe.String(&b[0], len(b)), 10, 64)
	return n, err == nil
}

// visitorID is the first 8 bytes of a hex pseudonym.
func visitorID(p []byte) (uint64, bool) {
	if len(p) < 16 {
		return 0, false
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], p[:16]); err != nil {
		return 0, false
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v, true
}

// bytesOf views a string as bytes for a map lookup; the result must not be
// written to.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

var badRequestPage = []byte("(bad request)")

func pageOf(r *transforms.Record) []byte {
	if r.BadRequest {
		return badRequestPage
	}
	return r.Page()
}

var referrerTypeValues = map[string][]byte{transforms.RefDirect: []byte("(direct)"), transforms.RefInternal: []byte("(internal)"),
	transforms.RefSearch: []byte("(search)"), transforms.RefExternal: []byte("(external)"), transforms.RefUnknown: []byte("(unknown)")}

func referrerOf(r *transforms.Record) []byte {
	if len(r.ReferrerSite) == 0 {
		return referrerTypeValues[r.ReferrerType]
	}
	return r.ReferrerSite
}
