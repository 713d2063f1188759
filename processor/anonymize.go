package processor

import (
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms/stats"
)

// anonymizeStage reads the raw topics and writes <prefix>.events,
// <prefix>.rejected and, for the statistics, <prefix>.visits.
//
// Delivery: each assigned partition has one goroutine that fetches a batch,
// runs it through the engine (the per-line loop every driver shares),
// produces every output with acks=all and only then marks the batch's
// offsets for commit. A crash replays from the last commit; replayed
// records get the same event ids (topic-partition-offset), so consumers can
// drop duplicates. Events of one source partition go to the same partition
// of the events topic, in order.
type anonymizeStage struct {
	stageInfo
	rt     *runtime
	engine *engine.Engine

	in, out, rejected atomic.Int64
}

// consume runs one raw partition until the generation or the run ends.
func (s *anonymizeStage) consume(p partitionRun) {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	ch, stop := rt.reader(p.topic, p.pa.ID).start(p.runCtx, p.genCtx, p.pa.Offset)
	defer stop()

	b := newBatchBuilder(s.engine, kc, p.topic, p.pa.ID)
	if kc.Visits {
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
				b.marks, b.arena = b.marks[:0], b.arena[:0]
				b.addWatermarks(sourceMark{t: b.watermark, idle: true, idleFor: int64(time.Since(lastRecord) / time.Second)})
				if !rt.produce(p.hardCtx, b.marks) {
					return
				}
			}
			continue
		}
		lastRecord = start
		b.build(f.msgs)
		rt.metrics.stage.WithLabelValues("process").Observe(time.Since(start).Seconds())
		start = time.Now()
		// The watermark only once the hits it covers are acknowledged: a
		// produce retries what failed, so one call would not keep a hit
		// that failed once before the watermark that succeeded.
		ok := rt.produce(p.hardCtx, b.out) && rt.produce(p.hardCtx, b.marks)
		rt.done(f)
		if !ok {
			return // hard shutdown: not acknowledged, not committed
		}
		rt.metrics.stage.WithLabelValues("produce").Observe(time.Since(start).Seconds())
		last := f.msgs[len(f.msgs)-1].Offset
		p.acks.set(p.topic, p.pa.ID, last+1, "")
		rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-(last+1), 0))
		eb := &b.batch
		s.in.Add(eb.Lines)
		s.out.Add(eb.Events + eb.Errors)
		s.rejected.Add(eb.Rejects)
		m := rt.metrics
		m.recordsIn.Add(float64(eb.Lines))
		m.bytesIn.Add(float64(b.bytesIn))
		m.bytesOut.Add(float64(b.bytesOut))
		m.recordsOut.WithLabelValues(kc.EventsTopic()).Add(float64(eb.Events + eb.Errors))
		m.recordsOut.WithLabelValues(kc.VisitsTopic()).Add(float64(b.visits))
		m.recordsOut.WithLabelValues(kc.RejectedTopic()).Add(float64(eb.Rejects))
		for reason, n := range eb.Reasons {
			m.rejected.WithLabelValues(reason.Error()).Add(float64(n))
		}
	}
}

// batchBuilder runs one fetched batch through the engine and turns what it
// made into output messages, reusing its buffers from batch to batch. Its
// messages alias its buffers until the next build.
type batchBuilder struct {
	eventsTopic, rejTopic, visTopic string
	wk                              *engine.Worker
	partition                       int
	batch                           engine.Batch
	// visitsPartitions: every one gets this partition's watermark (the
	// largest event time read from it) after each batch's hits; 0: no
	// visits topic.
	visitsPartitions int
	visitsIDs        []int    // 0 … visitsPartitions-1
	hitBufs          [][]byte // per visits partition, this batch's hits
	hitsKey          []byte   // "b|topic/partition"
	source           []byte   // "topic/partition"
	watermark        int64

	arena []byte
	// out are the batch's events, rejects and hits; marks its watermarks,
	// produced after them.
	out, marks                []kafka.Message
	visits, bytesIn, bytesOut int64
}

func newBatchBuilder(e *engine.Engine, kc *config.KafkaSettings, topic string, partition int) *batchBuilder {
	b := &batchBuilder{wk: e.NewWorker(), partition: partition, eventsTopic: kc.EventsTopic(),
		rejTopic: kc.RejectedTopic(), visTopic: kc.VisitsTopic(), source: sourceName(topic, partition)}
	b.wk.SetSource(topic, partition)
	return b
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
	b.out, b.marks, b.arena = b.out[:0], b.marks[:0], b.arena[:0]
	b.visits, b.bytesIn, b.bytesOut = 0, 0, 0
	eb := &b.batch
	eb.Reset()
	for i := range msgs {
		b.wk.Line(eb, msgs[i].Value, msgs[i].Offset)
		b.bytesIn += int64(len(msgs[i].Value))
	}
	if want := len(eb.Items) + b.visitsPartitions; cap(b.out) < want {
		b.out = make([]kafka.Message, 0, want+want/4)
	}
	for i := range eb.Items {
		it := &eb.Items[i]
		switch it.Kind {
		case engine.Rejected:
			b.add(b.rejTopic, it.ID, it.Out)
		default:
			b.add(b.eventsTopic, it.ID, it.Out)
		}
		if it.Hit >= 0 && b.visitsPartitions > 0 {
			// The statistics stage's input: what it needs of the event,
			// one line in the message for the visitor's visits partition
			// (a hit without a visitor goes with this partition's).
			p := b.partition % b.visitsPartitions
			if v := it.Visitor; len(v) > 0 {
				p = kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: v}, b.visitsIDs...)
			}
			b.hitBufs[p] = append(stats.AppendHit(b.hitBufs[p], &eb.Hits[it.Hit]), '\n')
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
		b.watermark = max(b.watermark, eb.MaxTime)
		if b.watermark > 0 {
			b.addWatermarks(sourceMark{t: b.watermark})
		}
	}
}

// addHits adds the hits gathered for visits partition p as one message.
func (b *batchBuilder) addHits(p int) {
	start := len(b.arena)
	b.arena = append(b.arena, b.hitBufs[p]...)
	b.bytesOut += int64(len(b.hitBufs[p]))
	b.out = append(b.out, kafka.Message{Topic: b.visTopic, Key: b.hitsKey, Value: b.arena[start:len(b.arena):len(b.arena)], Partition: p})
	b.hitBufs[p] = b.hitBufs[p][:0]
}

// addWatermarks adds the partition's watermark record for every visits
// partition to marks, which are produced once the batch's hits are
// acknowledged: each visits partition gets it after this batch's hits.
func (b *batchBuilder) addWatermarks(m sourceMark) {
	start := len(b.arena)
	b.arena = appendKey(b.arena, watermarkKeyPrefix, b.source)
	key := b.arena[start:len(b.arena):len(b.arena)]
	start = len(b.arena)
	b.arena = appendVisitsWatermark(b.arena, m)
	value := b.arena[start:len(b.arena):len(b.arena)]
	for i := range b.visitsPartitions {
		b.marks = append(b.marks, kafka.Message{Topic: b.visTopic, Key: key, Value: value, Partition: i})
	}
}

func (b *batchBuilder) add(topic string, key, value []byte) {
	b.bytesOut += int64(len(value))
	b.out = append(b.out, kafka.Message{Topic: topic, Key: key, Value: value, Partition: b.partition})
}
