package processor

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

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
