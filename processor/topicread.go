package processor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/processor/config"
)

// Reading whole partitions of logveil's topics, outside the stages: for
// logveil stats, the statistics page and logveil audit.

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

// NewTopicReader returns a reader with the Kafka settings (brokers, TLS,
// SASL).
func NewTopicReader(cfg config.KafkaSettings) *TopicReader {
	return &TopicReader{k: newKafkaClients(cfg)}
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
