package processor

import (
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms"
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
	// shareCensus: the census of k-anonymous events is shared with the
	// other instances through <prefix>.census and <prefix>.admitted.
	shareCensus bool
	// admitted is closed when the keys admitted so far are known (census.go).
	admitted <-chan struct{}

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
	if s.shareCensus {
		select {
		case <-s.admitted:
		case <-p.genCtx.Done():
			return
		}
		n, err := rt.partitionCount(p.genCtx, kc.CensusTopic())
		if err != nil {
			return
		}
		b.setCensusPartitions(n, kc.CensusTopic())
	}
	h := s.engine.NewHolder() // nil: events are not k-anonymous
	if h == nil {
		s.run(p, ch, b)
		return
	}
	s.runHeld(p, ch, b, h)
}

// run produces each fetched batch's outputs as it comes.
func (s *anonymizeStage) run(p partitionRun, ch <-chan fetched, b *batchBuilder) {
	rt := s.rt
	lastRecord := time.Now() // of this partition, for how long it has been idle
	for f := range ch {
		start := time.Now()
		if len(f.msgs) == 0 {
			if !s.idle(p, b, lastRecord) {
				return
			}
			continue
		}
		lastRecord = start
		b.build(f.msgs)
		rt.metrics.stage.WithLabelValues("process").Observe(time.Since(start).Seconds())
		ok := s.produce(p, b, []fetched{f})
		if !ok {
			return // hard shutdown: not acknowledged, not committed
		}
	}
}

// runHeld holds the fetched batches in the census's window (k-anonymous
// events: engine.Holder) and produces them in order once they have waited
// enough: lookahead_lines after them, or hold, or while other readers wait
// for the byte budget. A batch is committed only once produced, so a crash
// replays what was held; when the generation ends, what is held is left to
// the partition's next owner.
func (s *anonymizeStage) runHeld(p partitionRun, ch <-chan fetched, b *batchBuilder, h *engine.Holder) {
	rt := s.rt
	pol := rt.cfg.Anonymize
	type heldFetch struct {
		f  fetched
		eb *engine.Batch
		at time.Time
	}
	var held []heldFetch
	var fs []fetched
	defer func() {
		for _, x := range held {
			rt.done(x.f)
		}
	}()
	release := func(all bool) bool {
		n := 0
		after := h.Lines()
		for _, x := range held {
			after -= x.eb.Lines
			if !all && after < int64(pol.LookaheadLines) && time.Since(x.at) < pol.Hold && !rt.budget.contended() {
				break
			}
			n++
		}
		if n == 0 {
			return true
		}
		start := time.Now()
		n = h.Release(n)
		b.begin()
		fs = fs[:0]
		for _, x := range held[:n] {
			b.assemble(x.eb)
			fs = append(fs, x.f)
		}
		b.finish()
		rt.metrics.stage.WithLabelValues("process").Observe(time.Since(start).Seconds())
		ok := s.produce(p, b, fs)
		for _, x := range held[:n] {
			h.Reuse(x.eb)
			b.recycle(x.eb)
		}
		held = append(held[:0], held[n:]...)
		return ok
	}
	tick := time.NewTicker(max(pol.Hold/4, 100*time.Millisecond))
	defer tick.Stop()
	lastRecord := time.Now()
	for {
		var f fetched
		select {
		case x, ok := <-ch:
			if !ok {
				return
			}
			f = x
		case <-tick.C:
			if !release(false) {
				return
			}
			continue
		}
		start := time.Now()
		if len(f.msgs) == 0 {
			// Idle: say so only with nothing held, else the statistics
			// would leave out the partition whose hits are still to come.
			if len(held) == 0 && !s.idle(p, b, lastRecord) {
				return
			}
			if !release(false) {
				return
			}
			continue
		}
		lastRecord = start
		eb := b.read(f.msgs)
		h.Add(eb)
		held = append(held, heldFetch{f, eb, start})
		rt.metrics.stage.WithLabelValues("read").Observe(time.Since(start).Seconds())
		if !release(false) {
			return
		}
	}
}

// idle tells the statistics that the partition is caught up and has had
// no record for a while: they leave it out of their clock while it stays
// so (eventclock.go), and hear for how long it has been quiet.
func (s *anonymizeStage) idle(p partitionRun, b *batchBuilder, lastRecord time.Time) bool {
	if b.visitsPartitions == 0 {
		return true
	}
	b.marks, b.arena = b.marks[:0], b.arena[:0]
	b.addWatermarks(sourceMark{t: b.watermark, idle: true, idleFor: int64(time.Since(lastRecord) / time.Second)})
	return s.rt.produce(p.hardCtx, b.marks)
}

// produce writes what b assembled from the fetched batches fs, then their
// watermarks, and marks their offsets for commit; false on a hard
// shutdown (nothing acknowledged is then committed).
func (s *anonymizeStage) produce(p partitionRun, b *batchBuilder, fs []fetched) bool {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	start := time.Now()
	// The watermark only once the hits it covers are acknowledged: a
	// produce retries what failed, so one call would not keep a hit
	// that failed once before the watermark that succeeded.
	ok := rt.produce(p.hardCtx, b.out) && rt.produce(p.hardCtx, b.marks)
	for _, f := range fs {
		rt.done(f)
	}
	if !ok {
		return false
	}
	rt.metrics.stage.WithLabelValues("produce").Observe(time.Since(start).Seconds())
	f := fs[len(fs)-1]
	last := f.msgs[len(f.msgs)-1].Offset
	p.acks.set(p.topic, p.pa.ID, last+1, "")
	rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-(last+1), 0))
	c := &b.counts
	s.in.Add(c.Lines)
	s.out.Add(c.Events + c.Errors)
	s.rejected.Add(c.Rejects)
	m := rt.metrics
	m.recordsIn.Add(float64(c.Lines))
	m.bytesIn.Add(float64(b.bytesIn))
	m.bytesOut.Add(float64(b.bytesOut))
	m.recordsOut.WithLabelValues(kc.EventsTopic()).Add(float64(c.Events + c.Errors))
	m.recordsOut.WithLabelValues(kc.VisitsTopic()).Add(float64(b.visits))
	m.recordsOut.WithLabelValues(kc.RejectedTopic()).Add(float64(c.Rejects))
	for reason, n := range c.Reasons {
		m.rejected.WithLabelValues(reason.Error()).Add(float64(n))
	}
	for r, n := range c.Rungs {
		if n > 0 {
			m.rungs.WithLabelValues(transforms.Rung(r).String()).Add(float64(n))
		}
	}
	if c.Admitted+c.Withheld > 0 {
		m.pathValues.WithLabelValues("admitted").Add(float64(c.Admitted))
		m.pathValues.WithLabelValues("withheld").Add(float64(c.Withheld))
	}
	if cs := s.engine.Census(); cs != nil {
		st := cs.Stats()
		m.census.WithLabelValues("keys").Set(float64(st.Keys))
		m.census.WithLabelValues("admitted").Set(float64(st.Admitted))
		m.census.WithLabelValues("forgotten").Set(float64(st.Forgotten))
		m.census.WithLabelValues("bytes").Set(float64(st.Bytes))
	}
	return true
}

// batchBuilder runs one fetched batch through the engine and turns what it
// made into output messages, reusing its buffers from batch to batch. Its
// messages alias its buffers until the next build.
type batchBuilder struct {
	eventsTopic, rejTopic, visTopic string
	e                               *engine.Engine
	wk                              *engine.Worker
	partition                       int
	batch                           engine.Batch    // build's
	free                            []*engine.Batch // read's, recycled
	// counts sum the assembled batches' counts.
	counts engine.Batch
	// censusPartitions: what the census heard goes to the census stage,
	// each observation to the partition of its key; 0: no shared census.
	censusPartitions int
	censusTopic      string
	censusBufs       [][]byte
	censusKey        []byte // "c|topic/partition"
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
	b := &batchBuilder{e: e, wk: e.NewWorker(), partition: partition, eventsTopic: kc.EventsTopic(),
		rejTopic: kc.RejectedTopic(), visTopic: kc.VisitsTopic(), source: sourceName(topic, partition)}
	b.wk.SetSource(topic, partition)
	return b
}

// setCensusPartitions makes the builder write what the census heard to a
// census topic of n partitions.
func (b *batchBuilder) setCensusPartitions(n int, topic string) {
	b.censusPartitions, b.censusTopic = n, topic
	b.censusBufs = make([][]byte, n)
	b.censusKey = appendKey(nil, censusKeyPrefix, b.source)
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

// build runs msgs through the engine into b.batch and assembles its
// messages (events that wait for no census).
func (b *batchBuilder) build(msgs []kafka.Message) {
	b.begin()
	b.readInto(&b.batch, msgs)
	b.assemble(&b.batch)
	b.finish()
}

// read runs msgs through the engine into a batch of its own, for a Holder
// to write; recycle gives it back once produced.
func (b *batchBuilder) read(msgs []kafka.Message) *engine.Batch {
	var eb *engine.Batch
	if n := len(b.free); n > 0 {
		eb, b.free = b.free[n-1], b.free[:n-1]
	} else {
		eb = &engine.Batch{}
	}
	b.readInto(eb, msgs)
	return eb
}

// recycle keeps eb for a later read, up to maxFreeBatches: each keeps the
// capacity of the largest fetch it held, so an unbounded free list would
// hold the most batches ever held times the largest fetch — a ratchet
// that a soak over simulated days showed (bench/soak) — not what is held.
func (b *batchBuilder) recycle(eb *engine.Batch) {
	if len(b.free) < maxFreeBatches {
		b.free = append(b.free, eb)
	}
}

const maxFreeBatches = 4

func (b *batchBuilder) readInto(eb *engine.Batch, msgs []kafka.Message) {
	eb.Reset()
	for i := range msgs {
		b.wk.Read(eb, msgs[i].Value, msgs[i].Offset)
		eb.Bytes += int64(len(msgs[i].Value))
	}
}

// begin starts the messages of a produce.
func (b *batchBuilder) begin() {
	b.out, b.marks, b.arena = b.out[:0], b.marks[:0], b.arena[:0]
	b.visits, b.bytesIn, b.bytesOut = 0, 0, 0
	b.counts.Reset()
}

// assemble adds eb's events, rejects, hits and census observations.
func (b *batchBuilder) assemble(eb *engine.Batch) {
	b.counts.Add(eb)
	b.bytesIn += eb.Bytes
	if want := len(b.out) + len(eb.Items) + b.visitsPartitions; cap(b.out) < want {
		b.out = append(make([]kafka.Message, 0, want+want/4), b.out...)
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
	if b.censusPartitions > 0 {
		for _, o := range eb.Census {
			p := int(uint64(o.Key) % uint64(b.censusPartitions))
			b.censusBufs[p] = appendObservation(b.censusBufs[p], o)
		}
	}
	b.watermark = max(b.watermark, eb.MaxTime)
}

// finish adds the gathered hits and census observations, and the
// watermarks that follow them.
func (b *batchBuilder) finish() {
	for p, buf := range b.censusBufs {
		if len(buf) == 0 {
			continue
		}
		start := len(b.arena)
		b.arena = append(b.arena, buf...)
		b.out = append(b.out, kafka.Message{Topic: b.censusTopic, Key: b.censusKey, Value: b.arena[start:len(b.arena):len(b.arena)], Partition: p})
		b.censusBufs[p] = buf[:0]
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
