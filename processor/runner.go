package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/logveil/logveil/transforms"
)

// Runner is the stream processor: a consumer-group member that anonymizes
// the raw topics into <prefix>.events, <prefix>.rejected and, for the
// statistics stage, <prefix>.visits.
//
// Delivery: each assigned partition has one goroutine that fetches a batch,
// anonymizes it, produces every output with acks=all and only then marks the
// batch's offsets for commit. A crash replays from the last commit; replayed
// records get the same event ids (topic-partition-offset), so consumers can
// drop duplicates. Events of one source partition go to the same partition
// of the events topic, in order.
type Runner struct {
	cfg    Config
	anon   *transforms.Anonymizer
	k      *kafkaClients
	m      *metrics
	h      *health
	log    *slog.Logger
	salts  *saltStore
	writer *kafka.Writer

	// HTTPBound, when set before Run, receives the metrics address.
	HTTPBound chan string

	// stopFatal ends the run with an error no retry can fix (set by Run).
	stopFatal context.CancelCauseFunc
	// retryLog keeps a new broker's settling errors at debug level.
	retryLog *retryLogger

	in, out, rejected atomic.Int64
}

// NewRunner validates cfg and opens the anonymizer's databases.
func NewRunner(cfg Config, log *slog.Logger) (*Runner, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	anon, err := transforms.New(cfg.Anonymize)
	if err != nil {
		return nil, fmt.Errorf("anonymize.%w", err)
	}
	k, err := newKafkaClients(cfg.Kafka)
	if err != nil {
		anon.Close()
		return nil, err
	}
	if !cfg.runs(StageAnonymize) {
		k.inputs = nil
	}
	k.stats = cfg.runs(StageAggregate) || cfg.runs(StageMerge)
	// kafka-go's zstd codec is one shared value; its fastest level costs a
	// fifth of the default's CPU for a few percent of size on log events.
	compress.ZstdCodec.Level = 1
	codec, err := compressionCodec(cfg.Kafka.Compression)
	if err != nil {
		anon.Close()
		return nil, err
	}
	m := newMetrics()
	r := &Runner{cfg: cfg, anon: anon, k: k, m: m, h: &health{m: m}, log: log, retryLog: &retryLogger{log: log}}
	// Producing is healthy until a produce fails: an idle processor is ready.
	r.h.produceOK.Store(true)
	r.salts = newSaltStore(k, log, m)
	r.writer = &kafka.Writer{
		Addr:         kafka.TCP(cfg.Kafka.Brokers...),
		Balancer:     outputBalancer{visits: cfg.Kafka.VisitsTopic(), partials: cfg.Kafka.PartialsTopic(), stats: cfg.Kafka.StatsTopic(), late: cfg.Kafka.LateTopic()},
		RequiredAcks: kafka.RequireAll,
		Compression:  codec,
		BatchTimeout: cfg.Kafka.Linger,
		BatchSize:    10000,
		BatchBytes:   int64(cfg.Kafka.BatchBytes),
		MaxAttempts:  3,
		Transport:    k.transport,
	}
	return r, nil
}

// Counts returns records consumed, produced to events, and rejected so far.
func (r *Runner) Counts() (in, out, rejected int64) {
	return r.in.Load(), r.out.Load(), r.rejected.Load()
}

// Ready reports readiness as /readyz does.
func (r *Runner) Ready() bool { return r.h.ready() }

// outputBalancer keeps events and rejects on the source record's partition
// (so per-partition order survives) and spreads visits by pseudonym with
// Kafka's Java-compatible murmur2, so one visitor's hits meet on one
// partition. Partials go by window (the key's "start|size" prefix) so one
// merger sees a whole window, except watermarks, which name their
// partition; stats rows and late hits go by key.
type outputBalancer struct{ visits, partials, stats, late string }

func (b outputBalancer) Balance(msg kafka.Message, partitions ...int) int {
	switch msg.Topic {
	case b.visits, b.stats, b.late, b.partials:
		if bytes.HasPrefix(msg.Key, watermarkKeyPrefix) || bytes.HasPrefix(msg.Key, hitsKeyPrefix) {
			break // a watermark for every partition; hits grouped by partition
		}
		if msg.Topic != b.partials {
			return kafka.Murmur2Balancer{}.Balance(msg, partitions...)
		}
		k := msg.Key
		if i := bytes.IndexByte(k, '|'); i >= 0 {
			if j := bytes.IndexByte(k[i+1:], '|'); j >= 0 {
				k = k[:i+1+j]
			}
		}
		return kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: k}, partitions...)
	}
	return partitions[msg.Partition%len(partitions)]
}

// Run consumes until ctx ends, then stops fetching, produces and commits
// what is in flight, leaves the group and returns (within ShutdownTimeout).
func (r *Runner) Run(parent context.Context) error {
	defer r.anon.Close()
	hardCtx, hardCancel := context.WithCancel(context.Background())
	defer hardCancel()
	// A fatal Kafka error (credentials, permissions, certificates) stops
	// the run as a signal would, and is what Run returns.
	ctx, stopFatal := context.WithCancelCause(parent)
	defer stopFatal(nil)
	r.stopFatal = stopFatal

	// Topics: a missing input topic is fatal; an unreachable broker is retried.
	var bo backoff
	bo.min, bo.max = 200*time.Millisecond, 10*time.Second
	for {
		err := r.k.ensureTopics(ctx)
		if err == nil {
			break
		}
		var nf *notFoundError
		if errors.As(err, &nf) {
			return err
		}
		if fe := asFatal(err); fe != nil {
			return fe
		}
		if ctx.Err() != nil {
			return nil
		}
		r.retryLog.failed("kafka not ready; retrying", err)
		sleepCtx(ctx, bo.next())
	}

	httpCtx, httpCancel := context.WithCancel(context.Background())
	defer httpCancel()
	if r.cfg.HTTP.Listen != "-" {
		go func() {
			if err := serveHTTP(httpCtx, r.cfg.HTTP.Listen, r.cfg.HTTP.Pprof, r.m, r.h, r.log, r.HTTPBound); err != nil {
				r.log.Error("metrics endpoint failed", "err", err)
			}
		}()
	}
	saltCtx, saltCancel := context.WithCancel(context.Background())
	defer saltCancel()
	go r.salts.run(saltCtx)

	// Each stage is a consumer group of its own.
	type stage struct {
		name, group string
		topics      []string
		consume     consumeFunc
	}
	var stages []stage
	kc := &r.cfg.Kafka
	if r.cfg.runs(StageAnonymize) {
		stages = append(stages, stage{StageAnonymize, kc.GroupID, kc.InputTopics, r.consume})
	}
	if r.cfg.runs(StageAggregate) {
		stages = append(stages, stage{StageAggregate, kc.GroupID + ".aggregate", []string{kc.VisitsTopic()}, r.consumeVisits})
	}
	if r.cfg.runs(StageMerge) {
		stages = append(stages, stage{StageMerge, kc.GroupID + ".merge", []string{kc.PartialsTopic()}, r.consumeMerge})
	}
	r.h.stages.Store(int32(len(stages)))
	var wg sync.WaitGroup
	errs := make(chan error, len(stages))
	for _, st := range stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.runGroup(ctx, hardCtx, hardCancel, st.name, st.group, st.topics, st.consume); err != nil {
				errs <- fmt.Errorf("stage %s: %w", st.name, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	saltCancel()
	r.salts.close()
	err := r.writer.Close()
	if e := <-errs; e != nil {
		err = e
	}
	var fe *fatalError
	if cause := context.Cause(ctx); errors.As(cause, &fe) {
		err = fe
	}
	r.log.Info("stopped", "in", r.in.Load(), "out", r.out.Load(), "rejected", r.rejected.Load())
	return err
}

// consumeFunc runs one assigned partition of a stage until the generation
// or the run ends, reporting what may be committed to acks.
type consumeFunc func(runCtx, genCtx, hardCtx context.Context, group, topic string, pa kafka.PartitionAssignment, acks *ackTable)

// runGroup is one stage's consumer-group member: it joins, runs each
// generation's partitions with consume, and on ctx's end stops fetching,
// lets in-flight batches finish and commit, and leaves the group (within
// ShutdownTimeout, else hardCancel abandons them: they will be replayed).
func (r *Runner) runGroup(ctx, hardCtx context.Context, hardCancel func(), name, group string, topics []string, consume consumeFunc) error {
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                    group,
		Brokers:               r.cfg.Kafka.Brokers,
		Dialer:                r.k.dialer,
		Topics:                topics,
		StartOffset:           kafka.FirstOffset,
		HeartbeatInterval:     time.Second,
		SessionTimeout:        r.cfg.Kafka.SessionTimeout,
		RebalanceTimeout:      r.cfg.Kafka.SessionTimeout,
		JoinGroupBackoff:      time.Second,
		WatchPartitionChanges: true,
		Timeout:               10 * time.Second,
	})
	if err != nil {
		return err
	}
	r.log.Info("consuming", "stage", name, "group", group, "topics", topics, "brokers", r.cfg.Kafka.Brokers)
	joined := false
	setJoined := func(v bool) {
		if v != joined {
			joined = v
			if v {
				r.h.joined.Add(1)
			} else {
				r.h.joined.Add(-1)
			}
			r.h.update()
		}
	}
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			setJoined(false)
			r.m.errors.WithLabelValues("group").Inc()
			if fe := asFatal(err); fe != nil {
				r.stopFatal(fe)
				break
			}
			r.retryLog.failed("consumer group: retrying", err, "stage", name)
			continue
		}
		r.retryLog.ok()
		setJoined(true)
		r.startGeneration(ctx, hardCtx, group, gen, consume)
	}

	// Graceful stop: closing the group ends the generation; its goroutines
	// finish their batch, the committer commits, then the member leaves.
	r.log.Info("stopping: finishing in-flight batches", "stage", name, "timeout", r.cfg.ShutdownTimeout)
	done := make(chan struct{})
	go func() {
		cg.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(r.cfg.ShutdownTimeout):
		r.log.Error("shutdown timeout: abandoning in-flight batches (they will be replayed)", "stage", name)
		hardCancel()
		<-done
	}
	setJoined(false)
	return nil
}

type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// commitPoint is an offset that may be committed, with the metadata the
// partition's stage needs to resume from it.
type commitPoint struct {
	offset int64
	meta   string
}

// ackTable holds, per partition, the next offset whose predecessors are all
// produced and acknowledged (for the statistics stages: the oldest offset
// an open window still holds): what may be committed.
type ackTable struct {
	mu      sync.Mutex
	acked   map[string]map[int]commitPoint
	changed bool
}

func (a *ackTable) set(topic string, partition int, next int64, meta string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.acked[topic] == nil {
		a.acked[topic] = map[int]commitPoint{}
	}
	a.acked[topic][partition] = commitPoint{next, meta}
	a.changed = true
}

func (a *ackTable) take() map[string][]kafka.OffsetCommit {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.changed {
		return nil
	}
	a.changed = false
	out := make(map[string][]kafka.OffsetCommit, len(a.acked))
	for t, ps := range a.acked {
		for p, c := range ps {
			out[t] = append(out[t], kafka.OffsetCommit{Partition: p, Offset: c.offset, Metadata: c.meta})
		}
	}
	return out
}

func (r *Runner) startGeneration(runCtx, hardCtx context.Context, group string, gen *kafka.Generation, consume consumeFunc) {
	acks := &ackTable{acked: map[string]map[int]commitPoint{}}
	var partitions sync.WaitGroup
	n := 0
	for topic, pas := range gen.Assignments {
		for _, pa := range pas {
			n++
			partitions.Add(1)
			gen.Start(func(genCtx context.Context) {
				defer partitions.Done()
				consume(runCtx, genCtx, hardCtx, group, topic, pa, acks)
			})
		}
	}
	r.log.Info("generation joined", "group", group, "generation", gen.ID, "partitions", n)
	gen.Start(func(genCtx context.Context) {
		t := time.NewTicker(r.cfg.Kafka.CommitInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.commit(gen, acks)
				continue
			case <-genCtx.Done():
			case <-runCtx.Done():
			}
			break
		}
		partitions.Wait()
		r.commit(gen, acks)
	})
}

// commit commits what acks holds, with each partition's metadata, as a
// member of gen (a member that lost its partitions is refused).
func (r *Runner) commit(gen *kafka.Generation, acks *ackTable) {
	offsets := acks.take()
	if offsets == nil {
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := r.k.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: gen.GroupID, GenerationID: int(gen.ID),
		MemberID: gen.MemberID, Topics: offsets})
	if err == nil {
	check:
		for _, ps := range resp.Topics {
			for _, p := range ps {
				if p.Error != nil {
					err = p.Error
					break check
				}
			}
		}
	}
	if err != nil {
		// Not fatal: the records are replayed with the same ids.
		r.m.errors.WithLabelValues("commit").Inc()
		if errors.Is(err, kafka.OffsetMetadataTooLarge) {
			// Every later commit fails too: the statistics stages keep one
			// watermark per raw partition in the metadata.
			r.log.Error("commit refused: the statistics' watermarks exceed the brokers' offset.metadata.max.bytes; raise it (about 8 bytes per raw partition)", "err", err)
			return
		}
		r.log.Warn("commit failed; records since the last commit will be replayed", "err", err)
		return
	}
	r.m.commitLat.Observe(time.Since(start).Seconds())
}

// commitMetadata reads the metadata committed with a partition's offset.
func (r *Runner) commitMetadata(ctx context.Context, group, topic string, partition int) (string, error) {
	resp, err := r.k.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {partition}}})
	if err != nil {
		return "", err
	}
	if resp.Error != nil {
		return "", resp.Error
	}
	for _, p := range resp.Topics[topic] {
		if p.Partition == partition {
			if p.Error != nil {
				return "", p.Error
			}
			if p.CommittedOffset < 0 {
				return "", nil
			}
			return p.Metadata, nil
		}
	}
	return "", nil
}

// idleEvery is how often a caught-up partition's consumer hears so.
const idleEvery = 5 * time.Second

// fetched is one fetch response's records; none when the partition is
// caught up and idle.
type fetched struct {
	msgs []kafka.Message
	hwm  int64
}

// consume runs one assigned partition until the generation or the run ends.
func (r *Runner) consume(runCtx, genCtx, hardCtx context.Context, _, topic string, pa kafka.PartitionAssignment, acks *ackTable) {
	ch, cancel := r.startFetch(runCtx, genCtx, topic, pa.ID, pa.Offset)
	defer cancel()

	wk := r.anon.NewWorker()
	if r.cfg.Kafka.VisitsEnabled() || r.cfg.Kafka.PseudonymInEvents {
		wk.SetSaltSource(r.salts)
	}
	b := &batchBuilder{r: r, wk: wk, topic: topic, partition: pa.ID, eventsTopic: r.cfg.Kafka.EventsTopic(),
		rejTopic: r.cfg.Kafka.RejectedTopic(), visTopic: r.cfg.Kafka.VisitsTopic(), source: sourceName(topic, pa.ID)}
	if r.cfg.Kafka.VisitsEnabled() {
		n, err := r.partitionCount(genCtx, r.cfg.Kafka.VisitsTopic())
		if err != nil {
			return
		}
		b.visitsPartitions = n
		b.hitBufs = make([][]byte, n)
		for i := range n {
			b.visitsIDs = append(b.visitsIDs, i)
		}
		b.hitsKey = append(append([]byte(nil), hitsKeyPrefix...), b.source...)
	}
	for f := range ch {
		start := time.Now()
		if len(f.msgs) == 0 {
			// Idle: this partition's future records will be about as new as
			// the wall clock, so its watermark moves to now.
			if b.visitsPartitions > 0 {
				b.watermark = max(b.watermark, time.Now().Unix())
				b.out, b.arena = b.out[:0], b.arena[:0]
				b.addWatermarks()
				if !r.produce(hardCtx, b.out) {
					return
				}
			}
			continue
		}
		b.build(f.msgs)
		r.m.stage.WithLabelValues("process").Observe(time.Since(start).Seconds())
		start = time.Now()
		if !r.produce(hardCtx, b.out) {
			return // hard shutdown: not acknowledged, not committed
		}
		r.m.stage.WithLabelValues("produce").Observe(time.Since(start).Seconds())
		last := f.msgs[len(f.msgs)-1].Offset
		acks.set(topic, pa.ID, last+1, "")
		r.m.setLag(topic, pa.ID, max(f.hwm-(last+1), 0))
		r.in.Add(int64(len(f.msgs)))
		r.out.Add(b.events)
		r.rejected.Add(b.rejects)
		r.m.recordsIn.Add(float64(len(f.msgs)))
		r.m.bytesIn.Add(float64(b.bytesIn))
		r.m.bytesOut.Add(float64(b.bytesOut))
		r.m.recordsOut.WithLabelValues(r.cfg.Kafka.EventsTopic()).Add(float64(b.events))
		r.m.recordsOut.WithLabelValues(r.cfg.Kafka.VisitsTopic()).Add(float64(b.visits))
		r.m.recordsOut.WithLabelValues(r.cfg.Kafka.RejectedTopic()).Add(float64(b.rejects))
		for reason, n := range b.reasons {
			r.m.rejected.WithLabelValues(reason).Add(float64(n))
		}
	}
}

// produce writes msgs with acks=all, retrying failed messages with backoff
// until they are all acknowledged. It gives up only when hardCtx ends.
func (r *Runner) produce(hardCtx context.Context, msgs []kafka.Message) bool {
	var bo backoff
	bo.min, bo.max = 100*time.Millisecond, 5*time.Second
	for len(msgs) > 0 {
		err := r.writer.WriteMessages(hardCtx, msgs...)
		if err == nil {
			r.h.produceOK.Store(true)
			r.h.update()
			return true
		}
		if hardCtx.Err() != nil {
			return false
		}
		tooLarge := errors.Is(err, kafka.MessageSizeTooLarge)
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) {
			failed := msgs[:0:0]
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, msgs[i])
					tooLarge = tooLarge || errors.Is(e, kafka.MessageSizeTooLarge)
				}
			}
			msgs = failed
		}
		r.h.produceOK.Store(false)
		r.h.update()
		r.m.errors.WithLabelValues("produce").Inc()
		if fe := asFatal(err); fe != nil {
			r.stopFatal(fe)
			return false
		}
		if tooLarge {
			// Retrying cannot help: every later batch is refused too.
			r.log.Error("produce refused: a batch is larger than a topic's max.message.bytes; lower kafka.batch_bytes or raise the limit",
				"messages", len(msgs), "batch_bytes", r.cfg.Kafka.BatchBytes)
		} else {
			r.retryLog.failed("produce failed; retrying", err, "messages", len(msgs))
		}
		if !sleepCtx(hardCtx, bo.next()) {
			return false
		}
	}
	return true
}

// fetch reads whole fetch responses from the partition leader and sends
// them on ch, reconnecting with backoff on errors. It closes ch when ctx ends.
func (r *Runner) fetch(ctx context.Context, topic string, partition int, offset int64, ch chan<- fetched) {
	defer close(ch)
	var conn *kafka.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var bo backoff
	bo.min, bo.max = 100*time.Millisecond, 5*time.Second
	brokers := r.cfg.Kafka.Brokers
	attempt := 0
	sizeHint := 256 // records per fetch, learnt from the last one
	lastIdle := time.Now()
	fail := func(op string, err error) {
		if conn != nil {
			conn.Close()
			conn = nil
		}
		r.h.fetchOK.Store(false)
		r.h.update()
		r.m.errors.WithLabelValues(op).Inc()
		if fe := asFatal(err); fe != nil {
			r.stopFatal(fe)
			return
		}
		r.retryLog.failed("fetch failed; retrying", err, "topic", topic, "partition", partition)
		sleepCtx(ctx, bo.next())
	}
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			conn, err = r.k.dialer.DialLeader(ctx, "tcp", brokers[attempt%len(brokers)], topic, partition)
			attempt++
			if err != nil {
				fail("dial", err)
				continue
			}
		}
		if offset < 0 {
			first, err := conn.ReadFirstOffset()
			if err != nil {
				fail("fetch", err)
				continue
			}
			offset = first
		}
		if _, err := conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			fail("fetch", err)
			continue
		}
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(r.cfg.Kafka.FetchMaxWait + 10*time.Second))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: r.cfg.Kafka.FetchMaxBytes, MaxWait: r.cfg.Kafka.FetchMaxWait})
		msgs := make([]kafka.Message, 0, sizeHint)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		err := batch.Close()
		hwm := batch.HighWaterMark()
		if len(msgs) > 0 {
			sizeHint = len(msgs) + len(msgs)/8
			offset = msgs[len(msgs)-1].Offset + 1
			r.m.stage.WithLabelValues("fetch").Observe(time.Since(start).Seconds())
			select {
			case ch <- fetched{msgs: msgs, hwm: hwm}:
			case <-ctx.Done():
				return
			}
		} else if err == nil || isTimeout(err) {
			r.m.setLag(topic, partition, max(hwm-offset, 0))
			// Caught up: tell the consumer, at most every idleEvery, so it
			// can move its watermark along while no records come.
			if hwm <= offset && time.Since(lastIdle) >= idleEvery {
				lastIdle = time.Now()
				select {
				case ch <- fetched{hwm: hwm}:
				case <-ctx.Done():
					return
				}
			}
		}
		switch {
		case err == nil || isTimeout(err):
			bo.reset()
			r.h.fetchOK.Store(true)
			r.h.update()
		case errors.Is(err, kafka.OffsetOutOfRange):
			r.m.offsetReset.Inc()
			r.log.Warn("offset no longer in the log (retention); restarting at the earliest", "topic", topic, "partition", partition, "offset", offset)
			offset = -1
		default:
			fail("fetch", err)
		}
	}
}

// batchBuilder turns one fetched batch into output messages, reusing its
// buffers from batch to batch.
type batchBuilder struct {
	r                               *Runner
	eventsTopic, rejTopic, visTopic string
	wk                              *transforms.Worker
	topic                           string
	partition                       int
	source                          []byte // "topic/partition"
	// visitsPartitions: every one gets this partition's watermark (the
	// largest event time read from it) after each batch's hits.
	visitsPartitions int
	visitsIDs        []int    // 0 … visitsPartitions-1
	hitBufs          [][]byte // per visits partition, this batch's hits
	hitsKey          []byte   // "b|topic/partition"
	watermark        int64

	arena                                      []byte
	hit                                        transforms.Hit
	out                                        []kafka.Message
	events, visits, rejects, bytesIn, bytesOut int64
	reasons                                    map[string]int64
}

func (b *batchBuilder) build(msgs []kafka.Message) {
	cfg := &b.r.cfg.Kafka
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
	visits := cfg.VisitsEnabled()
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

		err := b.wk.Process(line)
		if err == nil {
			b.watermark = max(b.watermark, b.wk.Rec.Time)
		}
		if err != nil {
			b.rejects++
			b.reasons[err.Error()]++
			start := len(b.arena)
			b.arena = appendRejected(b.arena, b.wk, id, err, line)
			b.add(b.rejTopic, id, b.arena[start:])
			continue
		}
		rec := &b.wk.Rec
		b.wk.EmitPseudonym = cfg.PseudonymInEvents
		start := len(b.arena)
		b.arena = b.wk.AppendJSON(b.arena, rec, id)
		event := b.arena[start:len(b.arena):len(b.arena)]
		b.add(b.eventsTopic, id, event)
		b.events++
		if visits && len(rec.Pseudonym) > 0 {
			// The statistics stage's input: what it needs of the event,
			// one line in the message for the visitor's visits partition.
			b.hit.FromRecord(rec)
			b.hit.Source, b.hit.Offset = b.source, m.Offset
			p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: rec.Pseudonym}, b.visitsIDs...)
			b.hitBufs[p] = append(transforms.AppendHit(b.hitBufs[p], &b.hit), '\n')
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
			b.addWatermarks()
		}
	}
}

// hitsMessageBytes bounds a visits message (the broker's default limit is
// 1 MiB).
const hitsMessageBytes = 512 << 10

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
func (b *batchBuilder) addWatermarks() {
	start := len(b.arena)
	b.arena = append(b.arena, watermarkKeyPrefix...)
	b.arena = append(b.arena, b.source...)
	key := b.arena[start:len(b.arena):len(b.arena)]
	start = len(b.arena)
	b.arena = append(b.arena, "w1\t"...)
	b.arena = strconv.AppendInt(b.arena, b.watermark, 10)
	value := b.arena[start:len(b.arena):len(b.arena)]
	for i := range b.visitsPartitions {
		b.out = append(b.out, kafka.Message{Topic: b.visTopic, Key: key, Value: value, Partition: i})
	}
}

func sourceName(topic string, partition int) []byte {
	return strconv.AppendInt(append([]byte(topic), '/'), int64(partition), 10)
}

func (b *batchBuilder) add(topic string, key, value []byte) {
	b.bytesOut += int64(len(value))
	b.out = append(b.out, kafka.Message{Topic: topic, Key: key, Value: value, Partition: b.partition})
}

// appendRejected writes the rejected-topic record: the reason and the line
// with every address, email and token masked.
func appendRejected(dst []byte, wk *transforms.Worker, id []byte, reason error, line []byte) []byte {
	dst = append(dst, `{"schema_version":1,"id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","reason":"`...)
	dst = append(dst, reason.Error()...)
	dst = append(dst, `","line":`...)
	// The redacted line is JSON-escaped through a scratch copy.
	mark := len(dst)
	dst = wk.AppendRedactedLine(dst, line)
	red := dst[mark:]
	dst = transforms.AppendJSONString(dst, red)
	dst = append(dst[:mark], dst[mark+len(red):]...)
	return append(dst, '}')
}
