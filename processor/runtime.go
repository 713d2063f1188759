package processor

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/processor/config"
)

// runtime is what the stages share: the config, the Kafka clients and the
// one producer, metrics, health and logging, and the way to stop the run on
// an error no retry can fix.
type runtime struct {
	cfg      config.Settings
	kafka    *kafkaClients
	metrics  *metrics
	health   *health
	log      *slog.Logger
	retryLog *retryLogger // a new broker's settling errors at debug level
	writer   *kafka.Writer
	// stopFatal ends the run with an error no retry can fix (set by Run).
	stopFatal context.CancelCauseFunc
	// budget bounds the bytes of records the stages hold at once
	// (kafka.inflight_bytes).
	budget *byteBudget
}

// done gives a chunk's share of the in-flight budget back, once what was
// made of it is acknowledged (or will not be).
func (rt *runtime) done(f fetched) { rt.budget.release(f.budget) }

// reader returns the partition reader a stage reads its input with.
func (rt *runtime) reader(topic string, partition int) *partitionReader {
	return &partitionReader{k: rt.kafka, topic: topic, partition: partition, maxBytes: rt.cfg.Kafka.FetchMaxBytes,
		maxWait: rt.cfg.Kafka.FetchMaxWait, m: rt.metrics, stage: true, h: rt.health, retryLog: rt.retryLog,
		log: rt.log, fatal: func(err error) { rt.stopFatal(err) }, chunkBytes: rt.cfg.Kafka.ChunkBytes, budget: rt.budget}
}

// produce writes msgs with acks=all, retrying failed messages with backoff
// until they are all acknowledged. It gives up only when hardCtx ends or
// the error is fatal.
func (rt *runtime) produce(hardCtx context.Context, msgs []kafka.Message) bool {
	var bo backoff
	bo.min, bo.max = 100*time.Millisecond, 5*time.Second
	for len(msgs) > 0 {
		err := rt.writer.WriteMessages(hardCtx, msgs...)
		if err == nil {
			rt.health.produceOK.Store(true)
			rt.health.update()
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
		rt.health.produceOK.Store(false)
		rt.health.update()
		rt.metrics.errors.WithLabelValues("produce").Inc()
		if fe := asFatal(err); fe != nil {
			rt.stopFatal(fe)
			return false
		}
		if tooLarge {
			// Retrying cannot help: every later batch is refused too.
			rt.log.Error("produce refused: a batch is larger than a topic's max.message.bytes; lower kafka.batch_bytes or raise the limit",
				"messages", len(msgs), "batch_bytes", rt.cfg.Kafka.BatchBytes)
		} else {
			rt.retryLog.failed("produce failed; retrying", err, "messages", len(msgs))
		}
		if !sleepCtx(hardCtx, bo.next()) {
			return false
		}
	}
	return true
}

// partitionCount is a topic's number of partitions, retried until the
// broker answers or ctx ends.
func (rt *runtime) partitionCount(ctx context.Context, topic string) (int, error) {
	var bo backoff
	bo.min, bo.max = 200*time.Millisecond, 5*time.Second
	for {
		ids, err := rt.kafka.partitions(ctx, topic)
		if err == nil {
			return len(ids), nil
		}
		rt.metrics.errors.WithLabelValues("metadata").Inc()
		rt.retryLog.failed("cannot read topic metadata; retrying", err, "topic", topic)
		if !sleepCtx(ctx, bo.next()) {
			return 0, ctx.Err()
		}
	}
}
