package processor

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// The one partition reader: a stage's partition and the salts topic stream
// through it (leader failover, capped backoff, idle notices); logveil
// stats, the page and audit read a range with kafkaClients.readRange
// (topicread.go).

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
