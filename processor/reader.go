package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// The one partition reader: every consumer of a topic reads through it.
// A stage's partition and the salts topic stream with partitionReader.run
// (leader failover, capped backoff, idle notices); logveil stats, the page
// and audit read a range with kafkaClients.readRange.

// idleEvery is how often a caught-up partition's consumer hears so.
const idleEvery = 5 * time.Second

// fetched is one fetch response's records; none when the partition is
// caught up and idle.
type fetched struct {
	msgs []kafka.Message
	hwm  int64
	// budget is what the chunk holds of the process's in-flight budget:
	// the consumer gives it back (runtime.done) once the chunk's outputs
	// are acknowledged.
	budget int
}

// partitionReader streams one partition from an offset until its context
// ends, reconnecting with backoff on errors and through the next bootstrap
// broker each time.
type partitionReader struct {
	k         *kafkaClients
	topic     string
	partition int
	maxBytes  int
	maxWait   time.Duration
	m         *metrics
	// stage: a stage's input, whose fetch latency, lag and fetch health are
	// reported (the salts topic's are not).
	stage     bool
	h         *health
	retryLog  *retryLogger
	log       *slog.Logger
	errLabel  string      // the errors metric's op for failed fetches ("salt" for the salts topic)
	fatal     func(error) // an error no retry can fix; nil: retried like any
	idleFirst bool        // say "caught up" at once the first time, not after idleEvery
	// chunkBytes bounds the records of one hand-over; budget is the
	// process's in-flight bound they are taken from (nil: none).
	chunkBytes int
	budget     *byteBudget
}

// start runs the reader until genCtx or runCtx ends, on a channel. stop
// ends it and gives back the budget of the chunks it had sent that were not
// received; the consumer gives back those it received (runtime.done).
func (p *partitionReader) start(runCtx, genCtx context.Context, offset int64) (ch <-chan fetched, stop func()) {
	ctx, cancel := context.WithCancel(runCtx)
	go func() {
		select {
		case <-genCtx.Done():
		case <-ctx.Done():
		}
		cancel()
	}()
	c := make(chan fetched, 1)
	go p.run(ctx, offset, c)
	return c, func() {
		cancel()
		for f := range c {
			p.budget.release(f.budget)
		}
	}
}

// run reads whole fetch responses from the partition leader from offset
// (-1: the first offset) and sends them on ch. It closes ch when ctx ends.
func (p *partitionReader) run(ctx context.Context, offset int64, ch chan<- fetched) {
	defer close(ch)
	var conn *kafka.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var bo backoff
	bo.min, bo.max = 100*time.Millisecond, 5*time.Second
	brokers := p.k.cfg.Brokers
	attempt := 0
	sizeHint := 256 // records per fetch, learnt from the last one
	lastIdle := time.Now()
	if p.idleFirst {
		lastIdle = time.Time{}
	}
	setOK := func(ok bool) {
		if p.h != nil {
			p.h.fetchOK.Store(ok)
			p.h.update()
		}
	}
	fail := func(op string, err error) {
		if conn != nil {
			conn.Close()
			conn = nil
		}
		if ctx.Err() != nil {
			return // stopping: a fetch cut short by shutdown is not a failure
		}
		setOK(false)
		if p.errLabel != "" {
			op = p.errLabel
		}
		p.m.errors.WithLabelValues(op).Inc()
		if fe := asFatal(err); fe != nil && p.fatal != nil {
			p.fatal(fe)
			return
		}
		p.retryLog.failed("fetch failed; retrying", err, "topic", p.topic, "partition", p.partition)
		sleepCtx(ctx, bo.next())
	}
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			conn, err = p.k.dialer.DialLeader(ctx, "tcp", brokers[attempt%len(brokers)], p.topic, p.partition)
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
		conn.SetReadDeadline(time.Now().Add(p.maxWait + 10*time.Second))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: p.maxBytes, MaxWait: p.maxWait})
		hwm := batch.HighWaterMark()
		// The response is handed over in chunks of at most chunkBytes of
		// records, each taken from the process's budget first: what a
		// partition, and all of them, hold stays bounded however large the
		// backlog and the producers' batches are.
		n, read := 0, 0
		var msgs []kafka.Message
		for {
			if msgs == nil {
				if !p.budget.acquire(ctx, p.chunkBytes) {
					batch.Close()
					return
				}
				msgs = make([]kafka.Message, 0, sizeHint)
			}
			m, rerr := batch.ReadMessage()
			if rerr == nil {
				msgs = append(msgs, m)
				read += len(m.Key) + len(m.Value)
				if read < p.chunkBytes {
					continue
				}
			}
			if len(msgs) == 0 {
				p.budget.release(p.chunkBytes)
				break
			}
			n += len(msgs)
			sizeHint = max(sizeHint, len(msgs)+len(msgs)/8)
			offset = msgs[len(msgs)-1].Offset + 1
			if p.stage {
				p.m.stage.WithLabelValues("fetch").Observe(time.Since(start).Seconds())
			}
			select {
			case ch <- fetched{msgs: msgs, hwm: hwm, budget: p.chunkBytes}:
			case <-ctx.Done():
				p.budget.release(p.chunkBytes)
				batch.Close()
				return
			}
			if rerr != nil {
				break
			}
			start, read, msgs = time.Now(), 0, nil
			conn.SetReadDeadline(time.Now().Add(p.maxWait + 10*time.Second))
		}
		err := batch.Close()
		if n > 0 && !lastIdle.IsZero() {
			// Idle means no records for idleEvery: a partition that has
			// just caught up is not idle yet (its next records may be a
			// moment away, with event times far behind the wall clock).
			// idleFirst's first notice still comes at once.
			lastIdle = time.Now()
		}
		if n > 0 && isTimeout(err) {
			// A deadline in the middle of a response (a slow consumer):
			// the connection is not safe to reuse; read on from offset.
			conn.Close()
			conn, err = nil, nil
		}
		if n == 0 && (err == nil || isTimeout(err)) {
			if p.stage {
				p.m.setLag(p.topic, p.partition, max(hwm-offset, 0))
			}
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
			setOK(true)
		case errors.Is(err, kafka.OffsetOutOfRange):
			p.m.offsetReset.Inc()
			p.log.Warn("offset no longer in the log (retention); restarting at the earliest", "topic", p.topic, "partition", p.partition, "offset", offset)
			offset = -1
		default:
			fail("fetch", err)
		}
	}
}

// readRange reads one partition of topic from the offset pick chooses
// (given the partition's first and end offsets when the read starts) up to
// that end, handing each record to fn, and returns the offset to read from
// next. A failed dial moves on to the next bootstrap broker, so one broker
// being down is not an error while another answers. Compaction gaps are
// stepped over. fn returning an error stops the read.
func (k *kafkaClients) readRange(ctx context.Context, topic string, partition, maxBytes int,
	pick func(first, end int64) int64, fn func(m kafka.Message) error) (int64, error) {
	var conn *kafka.Conn
	var err error
	for i, b := range k.cfg.Brokers {
		if conn, err = k.dialer.DialLeader(ctx, "tcp", b, topic, partition); err == nil || ctx.Err() != nil || i == len(k.cfg.Brokers)-1 {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%s/%d: %w", topic, partition, err)
	}
	defer conn.Close()
	first, end, err := conn.ReadOffsets()
	if err != nil {
		return 0, fmt.Errorf("%s/%d: %w", topic, partition, err)
	}
	offset := max(first, min(pick(first, end), end))
	for offset < end {
		if _, err := conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			return offset, err
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: maxBytes, MaxWait: time.Second})
		n := 0
		var fnErr error
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			n++
			offset = m.Offset + 1
			if fnErr = fn(m); fnErr != nil {
				break
			}
		}
		if err := batch.Close(); err != nil && n == 0 {
			return offset, fmt.Errorf("%s/%d at %d: %w", topic, partition, offset, err)
		}
		if fnErr != nil {
			return offset, fnErr
		}
		if n == 0 {
			// Compaction can leave a gap: ask again from the next offset.
			offset++
		}
	}
	return offset, nil
}

// ErrNoTopic is the error (wrapped) for a topic that does not exist.
var ErrNoTopic = errors.New("does not exist")

// partitions lists a topic's partitions.
func (k *kafkaClients) partitions(ctx context.Context, topic string) ([]int, error) {
	meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("cannot reach Kafka at %v: %w", k.cfg.Brokers, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil || len(meta.Topics[0].Partitions) == 0 {
		err := fmt.Errorf("topic %s %w", topic, ErrNoTopic)
		if len(meta.Topics) == 1 && meta.Topics[0].Error != nil {
			err = fmt.Errorf("topic %s: %w", topic, meta.Topics[0].Error)
		}
		return nil, err
	}
	ids := make([]int, len(meta.Topics[0].Partitions))
	for i, p := range meta.Topics[0].Partitions {
		ids[i] = p.ID
	}
	return ids, nil
}

// TopicReader reads whole partitions of logveil's topics for the readers
// outside the stages: logveil stats, the statistics page, logveil audit.
type TopicReader struct {
	k *kafkaClients
}

// NewTopicReader validates cfg and returns a reader with its Kafka settings
// (brokers, TLS, SASL).
func NewTopicReader(cfg Config) (*TopicReader, Config, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, cfg, err
	}
	k, err := newKafkaClients(cfg.Kafka)
	if err != nil {
		return nil, cfg, err
	}
	return &TopicReader{k: k}, cfg, nil
}

// Partitions lists the partitions of topic; an error when it does not exist.
func (r *TopicReader) Partitions(ctx context.Context, topic string) ([]int, error) {
	return r.k.partitions(ctx, topic)
}

// ReadRange reads one partition from the offset pick chooses up to its end
// when the read starts (see kafkaClients.readRange).
func (r *TopicReader) ReadRange(ctx context.Context, topic string, partition, maxBytes int,
	pick func(first, end int64) int64, fn func(m kafka.Message) error) (int64, error) {
	return r.k.readRange(ctx, topic, partition, maxBytes, pick, fn)
}

// Brokers are the bootstrap brokers, for messages.
func (r *TopicReader) Brokers() []string { return r.k.cfg.Brokers }

// Close lets go of idle connections.
func (r *TopicReader) Close() { r.k.transport.CloseIdleConnections() }

// byteBudget bounds the bytes of records held across a process's partition
// readers: a reader takes a chunk's worth before reading it and the
// consumer gives it back once the chunk's outputs are acknowledged. A nil
// budget bounds nothing.
type byteBudget struct {
	mu    sync.Mutex
	free  int
	avail chan struct{} // closed and replaced when bytes are given back
}

func newByteBudget(n int) *byteBudget { return &byteBudget{free: n, avail: make(chan struct{})} }

// acquire takes n bytes, waiting until they are free; false when ctx ends.
func (b *byteBudget) acquire(ctx context.Context, n int) bool {
	if b == nil {
		return true
	}
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return true
		}
		avail := b.avail
		b.mu.Unlock()
		select {
		case <-avail:
		case <-ctx.Done():
			return false
		}
	}
}

// release gives n bytes back.
func (b *byteBudget) release(n int) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.avail)
	b.avail = make(chan struct{})
	b.mu.Unlock()
}
