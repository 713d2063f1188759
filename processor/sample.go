package processor

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/processor/config"
)

// SampleTopic hands fn the newest records of topic, about n of them spread
// evenly over its partitions (all of them when n <= 0), as any consumer
// would read them: for `logveil audit` over an output topic.
func SampleTopic(ctx context.Context, cfg config.KafkaSettings, topic string, n int, fn func(key, value []byte)) error {
	k := newKafkaClients(cfg)
	defer k.transport.CloseIdleConnections()
	meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("cannot reach Kafka at %v: %w", cfg.Brokers, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return fmt.Errorf("topic %s does not exist", topic)
	}
	parts := meta.Topics[0].Partitions
	per := int64(0)
	if n > 0 {
		per = int64((n + len(parts) - 1) / len(parts))
	}
	for _, p := range parts {
		pick := func(first, end int64) int64 {
			if per == 0 {
				return first
			}
			return end - per
		}
		if _, err := k.readRange(ctx, topic, p.ID, 1<<20, pick, func(m kafka.Message) error {
			fn(m.Key, m.Value)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
