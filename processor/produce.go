package processor

import (
	"bytes"

	"github.com/segmentio/kafka-go"
)

// newWriter returns the one producer every stage writes through: acks=all,
// the configured compression, batches bounded by kafka.batch_bytes, and the
// outputBalancer's partitioning.
func newWriter(k *kafkaClients) *kafka.Writer {
	cfg := k.cfg
	useLeanZstd()
	return &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Balancer:     outputBalancer{visits: cfg.VisitsTopic(), partials: cfg.PartialsTopic(), stats: cfg.StatsTopic(), late: cfg.LateTopic(), census: cfg.CensusTopic(), admitted: cfg.AdmittedTopic()},
		RequiredAcks: kafka.RequireAll,
		Compression:  cfg.Codec,
		BatchTimeout: cfg.Linger,
		BatchSize:    512, // kafka-go allocates this many messages for every batch, however small
		BatchBytes:   int64(cfg.BatchBytes),
		MaxAttempts:  3,
		Transport:    k.transport,
	}
}

// outputBalancer keeps events and rejects on the source record's partition
// (so per-partition order survives) and spreads visits by pseudonym with
// Kafka's Java-compatible murmur2, so one visitor's hits meet on one
// partition, and census observations each name theirs. Partials go by window (the key's "start|size" prefix) so one
// merger sees a whole window, except watermarks, which name their
// partition; stats rows and late hits go by key.
type outputBalancer struct{ visits, partials, stats, late, census, admitted string }

func (b outputBalancer) Balance(msg kafka.Message, partitions ...int) int {
	switch msg.Topic {
	case b.census:
		// Each observation batch names its partition (by key).
	case b.admitted:
		return partitions[0]
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
