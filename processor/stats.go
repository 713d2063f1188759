package processor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/transforms"
)

// The statistics stages (README: statistics).
//
// aggregate: one transforms.Aggregator per <prefix>.visits partition (one
// visitor's hits are all on one partition). Every stats_emit_interval, and
// when windows close, it writes the partials of the windows that changed to
// <prefix>.partials, then its watermark (largest event time seen) to every
// partials partition, then marks for commit the oldest visits offset an
// open window holds, with "a1 <largest time> <position>" as metadata. A
// restart replays from that offset with the largest time restored and
// writes nothing until it is past the position: the open windows are
// rebuilt from their first hit, closed ones stay closed, and the partials
// it then writes are the ones an uninterrupted run would have written.
//
// merge: one transforms.Merger per partials partition (partials are
// partitioned by window). A window is final when every visits partition's
// watermark has passed its end by the lateness. After each batch it writes
// the rows of the windows that changed to <prefix>.stats (a tombstone for a
// row that is no longer published), final ones with "final": true, and
// commits the oldest partials offset an open window holds, with the
// watermarks as metadata ("m1 <position> <partition>:<time>,...").

// watermarkKeyPrefix starts the key of a watermark record in the partials
// topic.
var watermarkKeyPrefix = []byte("wm|")

// hitsKeyPrefix starts the key of a visits message holding many hits, one
// per line, all for visitors of that partition (the anonymize stage picks
// it with murmur2 of the pseudonym, as a keyed message would go).
var hitsKeyPrefix = []byte("b|")

const watermarkDim = "watermark"

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

// restore reads what a statistics stage committed with a partition's
// offset (metadata tagged tag), retrying while the broker cannot answer:
// the position to stay quiet until (-1 when nothing was committed) and the
// watermarks. ok is false when ctx ended first.
func (r *Runner) restore(ctx context.Context, tag, group, topic string, pa kafka.PartitionAssignment) (quietUntil int64, wm map[string]int64, ok bool) {
	var bo backoff
	bo.min, bo.max = 200*time.Millisecond, 5*time.Second
	for {
		meta, err := r.commitMetadata(ctx, group, topic, pa.ID)
		if err == nil {
			if pos, saved, ok := decodeMeta(tag, meta); ok {
				r.log.Info("statistics: rebuilding open windows by replay", "topic", topic, "partition", pa.ID,
					"from", pa.Offset, "quiet_until", pos)
				return pos, saved, true
			}
			return -1, map[string]int64{}, true
		}
		r.m.errors.WithLabelValues("offset_fetch").Inc()
		r.retryLog.failed("cannot read committed metadata; retrying", err, "topic", topic, "partition", pa.ID)
		if !sleepCtx(ctx, bo.next()) {
			return 0, nil, false
		}
	}
}

// startFetch runs r.fetch for one partition until the generation or the
// run ends.
func (r *Runner) startFetch(runCtx, genCtx context.Context, topic string, partition int, offset int64) (<-chan fetched, func()) {
	fetchCtx, cancel := context.WithCancel(runCtx)
	go func() {
		select {
		case <-genCtx.Done():
		case <-fetchCtx.Done():
		}
		cancel()
	}()
	ch := make(chan fetched, 1)
	go r.fetch(fetchCtx, topic, partition, offset, ch)
	return ch, cancel
}

// inputSources lists the raw topics' partitions as "topic/partition": the
// sources whose watermarks the aggregate stage waits for.
func (r *Runner) inputSources(ctx context.Context) ([]string, error) {
	var out []string
	for _, t := range r.cfg.Kafka.InputTopics {
		n, err := r.partitionCount(ctx, t)
		if err != nil {
			return nil, err
		}
		for p := range n {
			out = append(out, string(sourceName(t, p)))
		}
	}
	return out, nil
}

// consumeVisits is the aggregate stage for one visits partition. Its hits
// come from every raw partition, interleaved; each raw partition's
// watermark (the largest event time the anonymize stage read from it) comes
// after its hits, and the windows close against the smallest watermark. A
// hit whose raw offset is not past the last one seen from its raw partition
// is a replay of the anonymize stage (after a crash): it is not counted twice.
func (r *Runner) consumeVisits(runCtx, genCtx, hardCtx context.Context, group, topic string, pa kafka.PartitionAssignment, acks *ackTable) {
	agg, err := transforms.NewAggregator(r.cfg.Stats)
	if err != nil {
		r.log.Error("statistics config", "err", err) // Validate checked it
		return
	}
	agg.UseExternalClock()
	expected, err := r.inputSources(genCtx)
	if err != nil {
		return
	}
	quietUntil, sources, ok := r.restore(genCtx, "a1", group, topic, pa) // sources: raw partition -> watermark
	if !ok {
		return
	}
	advance := func() {
		var clock int64
		for i, src := range expected {
			t, ok := sources[src]
			if !ok {
				return // a raw partition not heard from yet
			}
			if i == 0 || t < clock {
				clock = t
			}
		}
		agg.Advance(clock)
	}
	advance()
	ch, cancel := r.startFetch(runCtx, genCtx, topic, pa.ID, pa.Offset)
	defer cancel()

	kc := &r.cfg.Kafka
	partialsParts, err := r.partitionCount(genCtx, kc.PartialsTopic())
	if err != nil {
		return
	}
	var (
		hit       transforms.Hit
		scratch   []byte
		parts     []transforms.Partial
		out, late []kafka.Message
		pos       = int64(-1)
		seen      = map[string]int64{} // raw source -> last raw offset counted
	)
	emit := func() bool {
		start := time.Now()
		parts = agg.Flush(parts[:0], pa.ID, false)
		quiet := pos < quietUntil
		out = out[:0]
		if !quiet {
			for i := range parts {
				p := &parts[i]
				v, _ := json.Marshal(p)
				out = append(out, kafka.Message{Topic: kc.PartialsTopic(), Key: p.AppendKey(nil), Value: v})
			}
			out = append(out, late...)
		}
		if !r.produce(hardCtx, out) {
			return false
		}
		clock, started := agg.Clock()
		if !quiet && started {
			// The watermark goes after the partials it covers.
			out = out[:0]
			v, _ := json.Marshal(transforms.Partial{Dim: watermarkDim, Source: pa.ID, Start: clock})
			key := strconv.AppendInt(append([]byte(nil), watermarkKeyPrefix...), int64(pa.ID), 10)
			for i := range partialsParts {
				out = append(out, kafka.Message{Topic: kc.PartialsTopic(), Key: key, Value: v, Partition: i})
			}
			if !r.produce(hardCtx, out) {
				return false
			}
		}
		if !quiet {
			r.m.recordsOut.WithLabelValues(kc.PartialsTopic()).Add(float64(len(parts)))
			if len(late) > 0 {
				r.m.recordsOut.WithLabelValues(kc.LateTopic()).Add(float64(len(late)))
			}
		}
		late = late[:0]
		held, ok := agg.Held()
		if !ok {
			held = pos
		}
		acks.set(topic, pa.ID, held, encodeMeta("a1", max(pos, quietUntil), sources))
		r.m.statsOpen.WithLabelValues(strconv.Itoa(pa.ID)).Set(float64(agg.Open()))
		r.m.stage.WithLabelValues("aggregate_emit").Observe(time.Since(start).Seconds())
		return true
	}
	r.emitLoop(ch, emit, func(f fetched) bool {
		start := time.Now()
		hits := 0
		for i := range f.msgs {
			m := &f.msgs[i]
			if bytes.HasPrefix(m.Key, watermarkKeyPrefix) {
				src := m.Key[len(watermarkKeyPrefix):]
				t, ok := parseWatermark(m.Value)
				if !ok {
					r.m.errors.WithLabelValues("visits_decode").Inc()
					continue
				}
				if old, ok := sources[string(src)]; !ok || t > old {
					sources[string(src)] = t
					advance()
				}
				continue
			}
			value := m.Value
			for len(value) > 0 {
				line := value
				if i := bytes.IndexByte(value, '\n'); i >= 0 {
					line, value = value[:i], value[i+1:]
				} else {
					value = nil
				}
				if len(line) == 0 {
					continue
				}
				hits++
				scratch, err = transforms.ParseHit(m.Key, line, &hit, scratch)
				if err != nil {
					// Only logveil writes this topic: a newer version's record.
					r.m.errors.WithLabelValues("visits_decode").Inc()
					continue
				}
				if last, ok := seen[string(hit.Source)]; ok && hit.Offset <= last {
					r.m.statsDuplicates.Inc()
					continue
				}
				seen[string(hit.Source)] = hit.Offset
				if !agg.AddHit(&hit, m.Offset) && m.Offset >= quietUntil {
					r.m.statsLate.Inc()
					if kc.Late {
						late = append(late, kafka.Message{Topic: kc.LateTopic(), Key: strconv.AppendUint(nil, hit.Visitor, 16), Value: line})
					}
				}
			}
		}
		pos = f.msgs[len(f.msgs)-1].Offset + 1
		r.m.setLag(topic, pa.ID, max(f.hwm-pos, 0))
		r.m.statsHits.Add(float64(hits))
		r.m.stage.WithLabelValues("aggregate").Observe(time.Since(start).Seconds())
		return len(late) > 10000
	})
}

// emitLoop runs a statistics stage's partition: handle takes each fetched
// batch (and says whether to write at once); emit writes what changed, at
// most every stats_emit_interval, and once more when the fetch ends (the
// generation or the run is over), so that a graceful stop leaves nothing
// for the next owner to replay. It returns when the fetch ends or emit
// fails (a hard stop).
func (r *Runner) emitLoop(ch <-chan fetched, emit func() bool, handle func(fetched) (now bool)) {
	interval := r.cfg.Kafka.StatsEmitInterval
	tick := time.NewTicker(min(interval, time.Second))
	defer tick.Stop()
	dirty, last := false, time.Now()
	write := func() bool {
		dirty, last = false, time.Now()
		return emit()
	}
	for {
		select {
		case f, ok := <-ch:
			if !ok {
				if dirty {
					write()
				}
				return
			}
			if len(f.msgs) == 0 {
				continue // idle
			}
			dirty = true
			if now := handle(f); (now || time.Since(last) >= interval) && !write() {
				return
			}
		case <-tick.C:
			if dirty && time.Since(last) >= interval && !write() {
				return
			}
		}
	}
}

// parseWatermark reads a visits watermark value, "w1\t<unix seconds>".
func parseWatermark(v []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(v, []byte("w1\t"))
	if !ok {
		return 0, false
	}
	t, err := strconv.ParseInt(string(rest), 10, 64)
	return t, err == nil
}

// partitionCount is a topic's number of partitions.
func (r *Runner) partitionCount(ctx context.Context, topic string) (int, error) {
	var bo backoff
	bo.min, bo.max = 200*time.Millisecond, 5*time.Second
	for {
		meta, err := r.k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err == nil && len(meta.Topics) == 1 && meta.Topics[0].Error == nil && len(meta.Topics[0].Partitions) > 0 {
			return len(meta.Topics[0].Partitions), nil
		}
		if err == nil && len(meta.Topics) == 1 {
			err = meta.Topics[0].Error
		}
		r.m.errors.WithLabelValues("metadata").Inc()
		r.retryLog.failed("cannot read topic metadata; retrying", err, "topic", topic)
		if !sleepCtx(ctx, bo.next()) {
			return 0, ctx.Err()
		}
	}
}

// consumeMerge is the merge stage for one partials partition.
func (r *Runner) consumeMerge(runCtx, genCtx, hardCtx context.Context, group, topic string, pa kafka.PartitionAssignment, acks *ackTable) {
	kc := &r.cfg.Kafka
	sources, err := r.partitionCount(genCtx, kc.VisitsTopic())
	if err != nil {
		return
	}
	quietUntil, wm, ok := r.restore(genCtx, "m1", group, topic, pa) // wm: aggregator (visits partition) -> watermark
	if !ok {
		return
	}
	srcNames := make([]string, sources)
	for i := range srcNames {
		srcNames[i] = strconv.Itoa(i)
	}
	ch, cancel := r.startFetch(runCtx, genCtx, topic, pa.ID, pa.Offset)
	defer cancel()

	lateness := int64(r.cfg.Stats.Lateness / time.Second)
	merger := transforms.NewMerger(r.cfg.Stats)
	merger.Masks = [2]int{r.cfg.Anonymize.IPv4Prefix, r.cfg.Anonymize.IPv6Prefix}
	closed := func(key [2]int64) bool {
		for _, s := range srcNames {
			t, ok := wm[s]
			if !ok || t-lateness < key[0]+key[1] {
				return false
			}
		}
		return true
	}
	held := map[[2]int64]int64{}                  // open window -> its oldest partial's offset
	published := map[[2]int64]map[string]string{} // window -> row key -> value written
	changed := map[[2]int64]bool{}
	var (
		pos  = int64(-1)
		out  []kafka.Message
		rows []transforms.StatsRow
		p    transforms.Partial
	)
	emit := func() bool {
		start := time.Now()
		quiet := pos < quietUntil
		out = out[:0]
		finals := 0
		for _, key := range merger.Windows() {
			final := closed(key)
			if !changed[key] && !final {
				continue
			}
			rows = merger.WindowRows(rows[:0], key, final)
			was := published[key]
			now := make(map[string]string, len(rows))
			for i := range rows {
				k := string(rows[i].AppendKey(nil))
				v, _ := json.Marshal(&rows[i])
				now[k] = string(v)
				if was[k] != string(v) {
					out = append(out, kafka.Message{Topic: kc.StatsTopic(), Key: []byte(k), Value: v})
				}
			}
			for k := range was {
				if _, ok := now[k]; !ok {
					out = append(out, kafka.Message{Topic: kc.StatsTopic(), Key: []byte(k)}) // tombstone
				}
			}
			published[key] = now
			delete(changed, key)
			if final {
				finals++
				merger.Drop(key)
				delete(held, key)
				delete(published, key)
			}
		}
		if quiet {
			out = out[:0]
		}
		if !r.produce(hardCtx, out) {
			return false
		}
		r.m.recordsOut.WithLabelValues(kc.StatsTopic()).Add(float64(len(out)))
		oldest := pos
		for _, o := range held {
			oldest = min(oldest, o)
		}
		acks.set(topic, pa.ID, oldest, encodeMeta("m1", max(pos, quietUntil), wm))
		r.m.stage.WithLabelValues("merge_emit").Observe(time.Since(start).Seconds())
		return true
	}
	r.emitLoop(ch, emit, func(f fetched) bool {
		anyClosed := false
		for i := range f.msgs {
			m := &f.msgs[i]
			if m.Value == nil {
				continue // a tombstone
			}
			p = transforms.Partial{}
			if err := json.Unmarshal(m.Value, &p); err != nil {
				r.m.errors.WithLabelValues("partials_decode").Inc()
				continue
			}
			if p.Dim == watermarkDim {
				src := strconv.Itoa(p.Source)
				if t, ok := wm[src]; !ok || p.Start > t {
					wm[src] = p.Start
					anyClosed = true
				}
				continue
			}
			key := [2]int64{p.Start, p.Size}
			if closed(key) {
				continue // the window's final rows are written
			}
			merger.Add(&p)
			if _, ok := held[key]; !ok {
				held[key] = m.Offset
			}
			changed[key] = true
		}
		pos = f.msgs[len(f.msgs)-1].Offset + 1
		r.m.setLag(topic, pa.ID, max(f.hwm-pos, 0))
		return anyClosed // a watermark moved: windows may be final
	})
}
