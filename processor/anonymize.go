package processor

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

// anonymizeStage reads the raw topics and writes <prefix>.events,
// <prefix>.rejected and, for the statistics, <prefix>.visits.
//
// Delivery: each assigned partition has one goroutine that fetches a batch,
// anonymizes it, produces every output with acks=all and only then marks the
// batch's offsets for commit. A crash replays from the last commit; replayed
// records get the same event ids (topic-partition-offset), so consumers can
// drop duplicates. Events of one source partition go to the same partition
// of the events topic, in order.
type anonymizeStage struct {
	stageInfo
	rt    *runtime
	anon  *transforms.Anonymizer
	salts transforms.SaltSource // nil: no pseudonyms

	in, out, rejected atomic.Int64
}

// consume runs one raw partition until the generation or the run ends.
func (s *anonymizeStage) consume(p partitionRun) {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	ch, stop := rt.reader(p.topic, p.pa.ID).start(p.runCtx, p.genCtx, p.pa.Offset)
	defer stop()

	wk := s.anon.NewWorker()
	if s.salts != nil {
		wk.SetSaltSource(s.salts)
		loc, _ := s.rt.cfg.Stats.Location() // Validate checked it
		wk.SetTimeZone(loc)
	}
	wk.EmitPseudonym = kc.PseudonymInEvents
	b := &batchBuilder{wk: wk, topic: p.topic, partition: p.pa.ID, eventsTopic: kc.EventsTopic(),
		rejTopic: kc.RejectedTopic(), visTopic: kc.VisitsTopic(), source: sourceName(p.topic, p.pa.ID)}
	if kc.VisitsEnabled() {
		n, err := rt.partitionCount(p.genCtx, kc.VisitsTopic())
		if err != nil {
			return
		}
		b.setVisitsPartitions(n)
	}
	lastRecord := time.Now() // of this partition, for how long it has been idle
	for f := range ch {
		start := time.Now()
		if len(f.msgs) == 0 {
			// Idle: caught up, and no record for a while. The statistics
			// leave this partition out of their clock while it stays so
			// (eventclock.go); they hear for how long it has been quiet.
			if b.visitsPartitions > 0 {
				b.out, b.arena = b.out[:0], b.arena[:0]
				b.addWatermarks(sourceMark{t: b.watermark, idle: true, idleFor: int64(time.Since(lastRecord) / time.Second)})
				if !rt.produce(p.hardCtx, b.out) {
					return
				}
			}
			continue
		}
		lastRecord = start
		b.build(f.msgs)
		rt.metrics.stage.WithLabelValues("process").Observe(time.Since(start).Seconds())
		start = time.Now()
		ok := rt.produce(p.hardCtx, b.out)
		rt.done(f)
		if !ok {
			return // hard shutdown: not acknowledged, not committed
		}
		rt.metrics.stage.WithLabelValues("produce").Observe(time.Since(start).Seconds())
		last := f.msgs[len(f.msgs)-1].Offset
		p.acks.set(p.topic, p.pa.ID, last+1, "")
		rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-(last+1), 0))
		s.in.Add(int64(len(f.msgs)))
		s.out.Add(b.events)
		s.rejected.Add(b.rejects)
		m := rt.metrics
		m.recordsIn.Add(float64(len(f.msgs)))
		m.bytesIn.Add(float64(b.bytesIn))
		m.bytesOut.Add(float64(b.bytesOut))
		m.recordsOut.WithLabelValues(kc.EventsTopic()).Add(float64(b.events))
		m.recordsOut.WithLabelValues(kc.VisitsTopic()).Add(float64(b.visits))
		m.recordsOut.WithLabelValues(kc.RejectedTopic()).Add(float64(b.rejects))
		for reason, n := range b.reasons {
			m.rejected.WithLabelValues(reason).Add(float64(n))
		}
	}
}

// batchBuilder turns one fetched batch into output messages, reusing its
// buffers from batch to batch. Its messages alias its arena until the next
// build.
type batchBuilder struct {
	eventsTopic, rejTopic, visTopic string
	wk                              *transforms.Worker
	topic                           string
	partition                       int
	source                          []byte // "topic/partition"
	// visitsPartitions: every one gets this partition's watermark (the
	// largest event time read from it) after each batch's hits; 0: no
	// visits topic.
	visitsPartitions int
	visitsIDs        []int    // 0 … visitsPartitions-1
	hitBufs          [][]byte // per visits partition, this batch's hits
	hitsKey          []byte   // "b|topic/partition"
	watermark        int64

	arena                                      []byte
	hit                                        stats.Hit
	out                                        []kafka.Message
	events, visits, rejects, bytesIn, bytesOut int64
	reasons                                    map[string]int64
}

// setVisitsPartitions makes the builder write hits and watermarks for a
// visits topic of n partitions.
func (b *batchBuilder) setVisitsPartitions(n int) {
	b.visitsPartitions = n
	b.hitBufs = make([][]byte, n)
	b.visitsIDs = b.visitsIDs[:0]
	for i := range n {
		b.visitsIDs = append(b.visitsIDs, i)
	}
	b.hitsKey = appendKey(nil, hitsKeyPrefix, b.source)
}

func (b *batchBuilder) build(msgs []kafka.Message) {
	b.out, b.arena = b.out[:0], b.arena[:0]
	b.events, b.visits, b.rejects, b.bytesIn, b.bytesOut = 0, 0, 0, 0, 0
	if b.reasons == nil {
		b.reasons = map[string]int64{}
	}
	clear(b.reasons)
	// Size the arena for the batch so it rarely grows (growing is safe:
	// earlier messages keep pointing at the old, unchanged array).
	need := 0
	for i := range msgs {
		need += 3*len(msgs[i].Value) + 512
	}
	if cap(b.arena) < need {
		b.arena = make([]byte, 0, need+need/4)
	}
	if want := 3 * len(msgs); cap(b.out) < want {
		b.out = make([]kafka.Message, 0, want)
	}
	for i := range msgs {
		m := &msgs[i]
		line := m.Value
		for n := len(line); n > 0 && (line[n-1] == '\n' || line[n-1] == '\r'); n = len(line) {
			line = line[:n-1]
		}
		b.bytesIn += int64(len(m.Value))
		// The event id: source topic, partition and offset.
		idStart := len(b.arena)
		b.arena = append(b.arena, b.topic...)
		b.arena = append(b.arena, '-')
		b.arena = strconv.AppendInt(b.arena, int64(b.partition), 10)
		b.arena = append(b.arena, '-')
		b.arena = strconv.AppendInt(b.arena, m.Offset, 10)
		id := b.arena[idStart:len(b.arena):len(b.arena)]

		if err := b.wk.Process(line); err != nil {
			b.rejects++
			b.reasons[err.Error()]++
			start := len(b.arena)
			b.arena = appendRejected(b.arena, b.wk, id, err, line)
			b.add(b.rejTopic, id, b.arena[start:])
			continue
		}
		rec := &b.wk.Rec
		b.watermark = max(b.watermark, rec.Time)
		start := len(b.arena)
		b.arena = b.wk.AppendJSON(b.arena, rec, id)
		b.add(b.eventsTopic, id, b.arena[start:len(b.arena):len(b.arena)])
		b.events++
		if b.visitsPartitions > 0 && len(rec.Pseudonym) > 0 {
			// The statistics stage's input: what it needs of the event,
			// one line in the message for the visitor's visits partition.
			b.hit.FromRecord(rec)
			b.hit.Source, b.hit.Offset = b.source, m.Offset
			p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: rec.Pseudonym}, b.visitsIDs...)
			b.hitBufs[p] = append(stats.AppendHit(b.hitBufs[p], &b.hit), '\n')
			if len(b.hitBufs[p]) >= hitsMessageBytes {
				b.addHits(p)
			}
			b.visits++
		}
	}
	if b.visitsPartitions > 0 {
		for p := range b.hitBufs {
			if len(b.hitBufs[p]) > 0 {
				b.addHits(p)
			}
		}
		if b.watermark > 0 {
			b.addWatermarks(sourceMark{t: b.watermark})
		}
	}
}

// addHits adds the hits gathered for visits partition p as one message.
func (b *batchBuilder) addHits(p int) {
	start := len(b.arena)
	b.arena = append(b.arena, b.hitsKey...)
	key := b.arena[start:len(b.arena):len(b.arena)]
	start = len(b.arena)
	b.arena = append(b.arena, b.hitBufs[p]...)
	b.bytesOut += int64(len(b.hitBufs[p]))
	b.out = append(b.out, kafka.Message{Topic: b.visTopic, Key: key, Value: b.arena[start:len(b.arena):len(b.arena)], Partition: p})
	b.hitBufs[p] = b.hitBufs[p][:0]
}

// addWatermarks adds the partition's watermark record for every visits
// partition; in the same produce call as the hits, after them, so each
// visits partition gets it after this batch's hits.
func (b *batchBuilder) addWatermarks(m sourceMark) {
	start := len(b.arena)
	b.arena = appendKey(b.arena, watermarkKeyPrefix, b.source)
	key := b.arena[start:len(b.arena):len(b.arena)]
	start = len(b.arena)
	b.arena = appendVisitsWatermark(b.arena, m)
	value := b.arena[start:len(b.arena):len(b.arena)]
	for i := range b.visitsPartitions {
		b.out = append(b.out, kafka.Message{Topic: b.visTopic, Key: key, Value: value, Partition: i})
	}
}

func (b *batchBuilder) add(topic string, key, value []byte) {
	b.bytesOut += int64(len(value))
	b.out = append(b.out, kafka.Message{Topic: topic, Key: key, Value: value, Partition: b.partition})
}
