package processor

import (
	"bytes"
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/logveil/logveil/transforms"
)

// The internal topics' keys and values, and the commit metadata, in one
// place (README: output topics). The records themselves are encoded where
// they are defined: a hit line by stats.AppendHit, a partial and a row as
// JSON of stats.Partial and stats.Row.
//
//	<prefix>.visits    key b|<raw topic>/<partition>   value: hit lines (stats.AppendHit), for one visits partition
//	                   key wm|<raw topic>/<partition>  value: w1<TAB><unix seconds>, to every visits partition
//	<prefix>.partials  key stats.Partial.AppendKey     value: stats.Partial as JSON
//	                   key wm|<visits partition>       value: {"dim":"watermark","src":<partition>,"start":<unix seconds>}, to every partials partition
//	<prefix>.stats     key stats.Row.AppendKey         value: stats.Row as JSON; a tombstone removes a row
//	<prefix>.rejected  key event id                    value: {"schema_version":1,"id":…,"reason":…,"line":<the line's shape>}

var (
	// hitsKeyPrefix starts the key of a visits message holding many hits,
	// one per line, all for visitors of that visits partition (picked with
	// murmur2 of the pseudonym, as a keyed message would go).
	hitsKeyPrefix = []byte("b|")
	// watermarkKeyPrefix starts the key of a watermark record, in the
	// visits and in the partials topic.
	watermarkKeyPrefix = []byte("wm|")
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
// topic carries it: "w1\t<unix seconds>".
func appendVisitsWatermark(dst []byte, t int64) []byte {
	return strconv.AppendInt(append(dst, "w1\t"...), t, 10)
}

// parseVisitsWatermark reads a visits watermark value.
func parseVisitsWatermark(v []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(v, []byte("w1\t"))
	if !ok {
		return 0, false
	}
	t, err := strconv.ParseInt(string(rest), 10, 64)
	return t, err == nil
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

// appendRejected writes the rejected-topic record: the reason and the
// line's shape (transforms: no value of it survives).
func appendRejected(dst []byte, wk *transforms.Worker, id []byte, reason error, line []byte) []byte {
	dst = append(dst, `{"schema_version":`...)
	dst = strconv.AppendInt(dst, transforms.SchemaVersion, 10)
	dst = append(dst, `,"id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","reason":"`...)
	dst = append(dst, reason.Error()...)
	dst = append(dst, `","line":`...)
	// The shape is JSON-escaped through a scratch copy.
	mark := len(dst)
	dst = wk.AppendRedactedLine(dst, line)
	red := dst[mark:]
	dst = transforms.AppendJSONString(dst, red)
	dst = append(dst[:mark], dst[mark+len(red):]...)
	return append(dst, '}')
}

// Commit metadata holds a statistics stage's watermarks with its offset:
// the aggregate stage (tag a1) each raw partition's ("topic/partition"), the
// merge stage (m1) each aggregator's (by visits partition number). Kafka
// bounds metadata to offset.metadata.max.bytes (4 KiB by default), so it is
// written compactly:
//
//	<tag> <position> <base> <prefix><p>.<d>,<p>.<d>;<prefix><p>.<d>...
//
// sources grouped by their prefix up to the last "/" (a topic name, which
// cannot hold ",", ";" or "/"), partitions and base-watermark differences
// in base 36: six to eight bytes a partition, about 500 partitions in 4 KiB
// when their watermarks are within an hour of each other. The first form,
// "<tag> <position> <source>=<time>,...", is still read, and written for a
// source that is not "prefix/number".
func encodeMeta(tag string, pos int64, wm map[string]int64) string {
	var b strings.Builder
	b.WriteString(tag)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(pos, 10))
	if len(wm) == 0 {
		return b.String()
	}
	type source struct {
		prefix string
		part   uint64
		t      int64
	}
	sources := make([]source, 0, len(wm))
	base := int64(math.MinInt64)
	for k, t := range wm {
		i := strings.LastIndexByte(k, '/') + 1
		n, err := strconv.ParseUint(k[i:], 10, 31)
		if err != nil || strings.ContainsAny(k[:i], ",; ") {
			return encodeMetaLong(&b, wm) // not "topic/partition": the first form
		}
		sources = append(sources, source{k[:i], n, t})
		base = max(base, t)
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
		b.WriteString(strconv.FormatUint(uint64(base)-uint64(src.t), 36))
	}
	return b.String()
}

func encodeMetaLong(b *strings.Builder, wm map[string]int64) string {
	b.WriteByte(' ')
	for i, src := range slices.Sorted(maps.Keys(wm)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(src)
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(wm[src], 10))
	}
	return b.String()
}

func decodeMeta(tag, s string) (pos int64, wm map[string]int64, ok bool) {
	f := strings.Fields(s)
	if len(f) < 2 || len(f) > 4 || f[0] != tag {
		return 0, nil, false
	}
	pos, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, nil, false
	}
	wm = map[string]int64{}
	switch len(f) {
	case 3: // the first form: source=time,...
		for _, kv := range strings.Split(f[2], ",") {
			k, v, found := strings.Cut(kv, "=")
			t, err := strconv.ParseInt(v, 10, 64)
			if !found || err != nil {
				return 0, nil, false
			}
			wm[k] = t
		}
	case 4:
		base, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return 0, nil, false
		}
		for _, group := range strings.Split(f[3], ";") {
			i := strings.LastIndexByte(group, '/') + 1
			prefix := group[:i]
			for _, pd := range strings.Split(group[i:], ",") {
				p, d, found := strings.Cut(pd, ".")
				n, err1 := strconv.ParseUint(p, 36, 31)
				diff, err2 := strconv.ParseUint(d, 36, 64)
				if !found || err1 != nil || err2 != nil {
					return 0, nil, false
				}
				wm[prefix+strconv.FormatUint(n, 10)] = int64(uint64(base) - diff)
			}
		}
	}
	return pos, wm, true
}
