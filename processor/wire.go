package processor

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms/census"
	"github.com/logveil/logveil/transforms/stats"
)

// The internal topics' keys and values, and the commit metadata, in one
// place (README: output topics). The records themselves are encoded where
// they are defined: a hit line by stats.AppendHit, a partial and a row as
// JSON of stats.Partial and stats.Row.
//
//	<prefix>.visits    key b|<raw topic>/<partition>   value: hit lines (stats.AppendHit), for one visits partition
//	                   key wm|<raw topic>/<partition>  value: w1<TAB><unix seconds> (i1<TAB><unix seconds><TAB><idle seconds>), to every visits partition
//	<prefix>.partials  key stats.Partial.AppendKey     value: stats.Partial as JSON
//	                   key wm|<visits partition>       value: {"dim":"watermark","src":<partition>,"start":<unix seconds>}, to every partials partition
//	<prefix>.stats     key stats.Row.AppendKey         value: stats.Row as JSON; a tombstone removes a row
//	<prefix>.census    key c|<raw topic>/<partition>   value: census lines (appendObservation), for one census partition
//	<prefix>.admitted  key <day>|<key, 16 hex>        value: "k": the key reached k visitors that day
//	<prefix>.rejected  key event id                    value: {"schema_version":1,"id":…,"reason":…,"line":<the line's shape>} (engine)

var (
	// hitsKeyPrefix starts the key of a visits message holding many hits,
	// one per line, all for visitors of that visits partition (picked with
	// murmur2 of the pseudonym, as a keyed message would go).
	hitsKeyPrefix = []byte("b|")
	// watermarkKeyPrefix starts the key of a watermark record, in the
	// visits and in the partials topic.
	watermarkKeyPrefix = []byte("wm|")
	// censusKeyPrefix starts the key of a census message holding many
	// observations, all for keys of that census partition.
	censusKeyPrefix = []byte("c|")
)

// hitsMessageBytes bounds a visits message (the broker's default limit is
// 1 MiB).
const hitsMessageBytes = 512 << 10

// sourceName is a raw partition's name, "topic/partition".
func sourceName(topic string, partition int) []byte {
	return strconv.AppendInt(append([]byte(topic), '/'), int64(partition), 10)
}

// appendKey appends prefix and name: a hits or watermark key.
func appendKey(dst, prefix, name []byte) []byte {
	return append(append(dst, prefix...), name...)
}

// appendVisitsWatermark appends a raw partition's watermark as the visits
// topic carries it: "w1\t<unix seconds>", the largest event time read from
// it, after the hits it covers; or, idle (caught up, no record for idleFor
// seconds of wall time), "i1\t<unix seconds>\t<idle seconds>".
func appendVisitsWatermark(dst []byte, m sourceMark) []byte {
	if !m.idle {
		return strconv.AppendInt(append(dst, "w1\t"...), m.t, 10)
	}
	dst = strconv.AppendInt(append(dst, "i1\t"...), m.t, 10)
	return strconv.AppendInt(append(dst, '\t'), m.idleFor, 10)
}

// parseVisitsWatermark reads a visits watermark value.
func parseVisitsWatermark(v []byte) (m sourceMark, ok bool) {
	rest, active := bytes.CutPrefix(v, []byte("w1\t"))
	if !active {
		if rest, ok = bytes.CutPrefix(v, []byte("i1\t")); !ok {
			return m, false
		}
		t, idle, found := bytes.Cut(rest, []byte("\t"))
		var err error
		if m.idleFor, err = strconv.ParseInt(string(idle), 10, 64); !found || err != nil || m.idleFor < 0 {
			return m, false
		}
		rest, m.idle = t, true
	}
	var err error
	m.t, err = strconv.ParseInt(string(rest), 10, 64)
	return m, err == nil
}

// appendObservation appends one census observation as the census topic
// carries it: "<day>\t<key, 16 hex>\t<visitor, 16 hex>\n".
func appendObservation(dst []byte, o engine.Observation) []byte {
	dst = strconv.AppendInt(dst, int64(o.Day), 10)
	dst = append(dst, '\t')
	dst = appendHex16(dst, uint64(o.Key))
	dst = append(dst, '\t')
	dst = appendHex16(dst, uint64(o.Visitor))
	return append(dst, '\n')
}

// parseObservation reads one census line (without its newline).
func parseObservation(l []byte) (o engine.Observation, ok bool) {
	day, rest, ok1 := bytes.Cut(l, []byte{'\t'})
	key, visitor, ok2 := bytes.Cut(rest, []byte{'\t'})
	d, err := strconv.ParseInt(string(day), 10, 32)
	k, ok3 := parseHex16(key)
	v, ok4 := parseHex16(visitor)
	if !ok1 || !ok2 || err != nil || !ok3 || !ok4 {
		return o, false
	}
	return engine.Observation{Day: int32(d), Key: census.Key(k), Visitor: census.Visitor(v)}, true
}

// appendAdmittedKey appends an admitted record's key: "<day>|<key hex>".
func appendAdmittedKey(dst []byte, day int32, key census.Key) []byte {
	dst = strconv.AppendInt(dst, int64(day), 10)
	dst = append(dst, '|')
	return appendHex16(dst, uint64(key))
}

// parseAdmittedKey reads an admitted record's key.
func parseAdmittedKey(b []byte) (day int32, key census.Key, ok bool) {
	d, k, found := bytes.Cut(b, []byte{'|'})
	n, err := strconv.ParseInt(string(d), 10, 32)
	h, ok2 := parseHex16(k)
	return int32(n), census.Key(h), found && err == nil && ok2
}

func appendHex16(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, digits[v>>uint(i)&15])
	}
	return dst
}

func parseHex16(b []byte) (uint64, bool) {
	if len(b) != 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// watermarkDim marks an aggregator's watermark in the partials topic.
const watermarkDim = "watermark"

// appendPartialsWatermark appends an aggregator's watermark (the clock its
// windows close against) as the partials topic carries it. The fields are
// those of a stats.Partial (a reader of the first version decodes it as one).
func appendPartialsWatermark(dst []byte, source int, t int64) []byte {
	dst = append(dst, `{"dim":"`+watermarkDim+`","src":`...)
	dst = strconv.AppendInt(dst, int64(source), 10)
	dst = append(dst, `,"start":`...)
	dst = strconv.AppendInt(dst, t, 10)
	return append(dst, '}')
}

// partialsWatermark is what a merger reads of a watermark record.
type partialsWatermark struct {
	Dim    string `json:"dim"`
	Source int    `json:"src"`
	Time   int64  `json:"start"`
}

// Commit metadata holds a statistics stage's position and watermarks with
// its offset: the aggregate stage (tag a2) its clock and each raw
// partition's ("topic/partition") watermark and idleness, the merge stage
// (m1) each aggregator's watermark (by visits partition number). Kafka
// bounds metadata to offset.metadata.max.bytes (4 KiB by default), so it is
// written compactly:
//
//	<tag> <position> [<clock> <late>] <base> <prefix><p>.<d>[.<i>],<p>.<d>;<prefix><p>.<d>...
//
// the clock (a2 only; "-" before there is one) and the open windows'
// late_events counts (a2 only; "<start>.<size>.<n>,...", "-" for none),
// then sources grouped by
// their prefix up to the last "/" (a topic name, which cannot hold ",",
// ";" or "/"), partitions and base-watermark differences in base 36, and
// for an idle source the seconds it had been idle: six to eight bytes a
// partition, about 500 partitions in 4 KiB when their watermarks are within
// an hour of each other. The first form, "<tag> <position> <source>=<time>,...",
// is still read, and written for a source that is not "prefix/number"; so
// is the aggregate stage's earlier tag a1 (no clock, no idleness).
type stageMeta struct {
	pos      int64
	clock    int64 // a2: the clock the aggregator's windows closed against
	hasClock bool
	late     map[stats.WindowKey]int64 // a2: the open windows' late_events
	marks    map[string]sourceMark
}

// sourceMark is a statistics stage's watermark of one source.
type sourceMark struct {
	t int64 // the largest event time (aggregate) or clock (merge) the source said
	// idle (aggregate): the source's latest record said it was caught up
	// and had heard no record for idleFor wall seconds.
	idle    bool
	idleFor int64
}

// metaWithClock are the tags whose metadata carries a clock.
func metaWithClock(tag string) bool { return tag == "a2" }

func encodeMeta(tag string, m stageMeta) string {
	var b strings.Builder
	b.WriteString(tag)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(m.pos, 10))
	if metaWithClock(tag) {
		b.WriteByte(' ')
		if m.hasClock {
			b.WriteString(strconv.FormatInt(m.clock, 10))
		} else {
			b.WriteByte('-')
		}
		b.WriteByte(' ')
		if len(m.late) == 0 {
			b.WriteByte('-')
		}
		keys := slices.SortedFunc(maps.Keys(m.late), func(x, y stats.WindowKey) int {
			return cmp.Or(cmp.Compare(x.Start, y.Start), cmp.Compare(x.Size, y.Size))
		})
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d.%d.%d", k.Start, k.Size, m.late[k])
		}
	}
	if len(m.marks) == 0 {
		return b.String()
	}
	type source struct {
		prefix string
		part   uint64
		mark   sourceMark
	}
	sources := make([]source, 0, len(m.marks))
	base := int64(math.MinInt64)
	for k, mark := range m.marks {
		i := strings.LastIndexByte(k, '/') + 1
		n, err := strconv.ParseUint(k[i:], 10, 31)
		if err != nil || strings.ContainsAny(k[:i], ",; ") {
			return encodeMetaLong(&b, m.marks) // not "topic/partition": the first form
		}
		sources = append(sources, source{k[:i], n, mark})
		base = max(base, mark.t)
	}
	slices.SortFunc(sources, func(x, y source) int {
		if c := strings.Compare(x.prefix, y.prefix); c != 0 {
			return c
		}
		return cmp.Compare(x.part, y.part)
	})
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(base, 10))
	b.WriteByte(' ')
	for i, src := range sources {
		switch {
		case i == 0:
			b.WriteString(src.prefix)
		case src.prefix != sources[i-1].prefix:
			b.WriteByte(';')
			b.WriteString(src.prefix)
		default:
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(src.part, 36))
		b.WriteByte('.')
		// Wrapping uint64 arithmetic: exact for any pair of int64s.
		b.WriteString(strconv.FormatUint(uint64(base)-uint64(src.mark.t), 36))
		if src.mark.idle {
			b.WriteByte('.')
			b.WriteString(strconv.FormatUint(uint64(max(src.mark.idleFor, 0)), 36))
		}
	}
	return b.String()
}

func encodeMetaLong(b *strings.Builder, marks map[string]sourceMark) string {
	b.WriteByte(' ')
	for i, src := range slices.Sorted(maps.Keys(marks)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(src)
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(marks[src].t, 10))
		if marks[src].idle {
			b.WriteByte('.')
			b.WriteString(strconv.FormatInt(max(marks[src].idleFor, 0), 10))
		}
	}
	return b.String()
}

// decodeMeta reads what encodeMeta wrote with tag.
func decodeMeta(tag, s string) (m stageMeta, ok bool) {
	f := strings.Fields(s)
	if len(f) < 2 || f[0] != tag {
		return m, false
	}
	pos, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return m, false
	}
	m.pos, f = pos, f[2:]
	if metaWithClock(tag) {
		if len(f) < 2 {
			return m, false
		}
		if f[0] != "-" {
			if m.clock, err = strconv.ParseInt(f[0], 10, 64); err != nil {
				return m, false
			}
			m.hasClock = true
		}
		if f[1] != "-" {
			m.late = map[stats.WindowKey]int64{}
			for _, w := range strings.Split(f[1], ",") {
				var k stats.WindowKey
				var n int64
				parts := strings.Split(w, ".")
				if len(parts) != 3 {
					return m, false
				}
				var err1, err2, err3 error
				k.Start, err1 = strconv.ParseInt(parts[0], 10, 64)
				k.Size, err2 = strconv.ParseInt(parts[1], 10, 64)
				n, err3 = strconv.ParseInt(parts[2], 10, 64)
				if err1 != nil || err2 != nil || err3 != nil {
					return m, false
				}
				m.late[k] = n
			}
		}
		f = f[2:]
	}
	m.marks = map[string]sourceMark{}
	switch len(f) {
	case 0:
	case 1: // the first form: source=time[.idle],...
		for _, kv := range strings.Split(f[0], ",") {
			k, v, found := strings.Cut(kv, "=")
			t, idle, hasIdle := strings.Cut(v, ".")
			mark := sourceMark{idle: hasIdle}
			var err1, err2 error
			mark.t, err1 = strconv.ParseInt(t, 10, 64)
			if hasIdle {
				mark.idleFor, err2 = strconv.ParseInt(idle, 10, 64)
			}
			if !found || err1 != nil || err2 != nil {
				return m, false
			}
			m.marks[k] = mark
		}
	case 2:
		base, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, false
		}
		for _, group := range strings.Split(f[1], ";") {
			i := strings.LastIndexByte(group, '/') + 1
			prefix := group[:i]
			for _, pd := range strings.Split(group[i:], ",") {
				parts := strings.Split(pd, ".")
				if len(parts) < 2 || len(parts) > 3 {
					return m, false
				}
				n, err1 := strconv.ParseUint(parts[0], 36, 31)
				diff, err2 := strconv.ParseUint(parts[1], 36, 64)
				var idle uint64
				var err3 error
				if len(parts) == 3 {
					idle, err3 = strconv.ParseUint(parts[2], 36, 63)
				}
				if err1 != nil || err2 != nil || err3 != nil {
					return m, false
				}
				m.marks[prefix+strconv.FormatUint(n, 10)] = sourceMark{t: int64(uint64(base) - diff), idle: len(parts) == 3, idleFor: int64(idle)}
			}
		}
	default:
		return m, false
	}
	return m, true
}
