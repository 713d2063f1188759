package processor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/processor/config"
)

// kafkaClients holds what every Kafka connection of one process shares.
type kafkaClients struct {
	cfg       config.KafkaSettings
	dialer    *kafka.Dialer
	transport *kafka.Transport
	client    *kafka.Client
	// inputs are the topics that must exist (the anonymize stage's raw
	// topics); stats, census: the statistics and census topics are created
	// too.
	inputs        []string
	stats, census bool
}

func newKafkaClients(cfg config.KafkaSettings) *kafkaClients {
	dialer := &kafka.Dialer{ClientID: cfg.ClientID, Timeout: 10 * time.Second, DualStack: true, TLS: cfg.TLSConfig, SASLMechanism: cfg.Mechanism}
	transport := &kafka.Transport{ClientID: cfg.ClientID, DialTimeout: 10 * time.Second, TLS: cfg.TLSConfig, SASL: cfg.Mechanism,
		MetadataTTL: 30 * time.Second, IdleTimeout: time.Minute}
	return &kafkaClients{
		cfg: cfg, dialer: dialer, transport: transport, inputs: cfg.InputTopics, stats: cfg.Visits,
		client: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 15 * time.Second, Transport: transport},
	}
}

// topicSpec is an output topic logveil creates when missing.
type topicSpec struct {
	name       string
	partitions int
	configs    map[string]string
}

func (k *kafkaClients) outputTopics() []topicSpec {
	c := k.cfg
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	specs := []topicSpec{
		{c.EventsTopic(), c.Partitions, map[string]string{"retention.ms": ms(c.EventsRetention), "cleanup.policy": "delete"}},
		{c.RejectedTopic(), c.Partitions, map[string]string{"retention.ms": ms(c.RejectedRetention), "cleanup.policy": "delete"}},
		// One partition so that "first record for a day wins" is one order;
		// compaction that really deletes: tombstones go after an hour, the
		// active segment rolls hourly so it can be cleaned.
		{c.SaltsTopic(), 1, map[string]string{"cleanup.policy": "compact", "segment.ms": "3600000",
			"min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "3600000", "min.compaction.lag.ms": "0",
			"max.compaction.lag.ms": "3600000"}},
	}
	if c.Visits {
		specs = append(specs, topicSpec{c.VisitsTopic(), c.Partitions, map[string]string{
			"retention.ms": ms(c.VisitsRetention), "cleanup.policy": "delete", "segment.ms": "3600000"}})
	}
	if k.stats {
		// Partials: the latest per cell and partition (compaction), and
		// nothing older than partials_retention (deletion): they carry
		// visitor ids of small cells. Stats: the latest row per key.
		specs = append(specs,
			topicSpec{c.PartialsTopic(), c.Partitions, map[string]string{"cleanup.policy": "compact,delete",
				"retention.ms": ms(c.PartialsRetention), "segment.ms": "3600000", "min.cleanable.dirty.ratio": "0.1"}},
			topicSpec{c.StatsTopic(), c.Partitions, map[string]string{"cleanup.policy": "compact", "segment.ms": "3600000",
				"min.cleanable.dirty.ratio": "0.1", "delete.retention.ms": "86400000"}})
		if c.Late {
			specs = append(specs, topicSpec{c.LateTopic(), c.Partitions, map[string]string{
				"retention.ms": ms(c.VisitsRetention), "cleanup.policy": "delete"}})
		}
	}
	if k.census {
		// The census: visitor ids by key, kept as long as visits; the
		// admitted keys, one partition every anonymizer reads whole.
		specs = append(specs,
			topicSpec{c.CensusTopic(), c.Partitions, map[string]string{"retention.ms": ms(c.VisitsRetention), "cleanup.policy": "delete",
				"segment.ms": "3600000"}},
			topicSpec{c.AdmittedTopic(), 1, map[string]string{"cleanup.policy": "compact,delete", "retention.ms": ms(c.VisitsRetention),
				"segment.ms": "3600000", "min.cleanable.dirty.ratio": "0.1"}})
	}
	return specs
}

// ensureTopics checks the input topics exist and creates missing output
// topics, then waits until every partition has a leader.
func (k *kafkaClients) ensureTopics(ctx context.Context) error {
	meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return fmt.Errorf("cannot reach Kafka at %s: %w", strings.Join(k.cfg.Brokers, ","), err)
	}
	have := map[string]bool{}
	for _, t := range meta.Topics {
		if t.Error == nil {
			have[t.Name] = true
		}
	}
	for _, t := range k.inputs {
		if !have[t] {
			return &notFoundError{fmt.Sprintf("input topic %q does not exist on %s (create it, or fix kafka.input_topics)", t, strings.Join(k.cfg.Brokers, ","))}
		}
	}
	var create []kafka.TopicConfig
	var names []string
	for _, s := range k.outputTopics() {
		names = append(names, s.name)
		if have[s.name] {
			continue
		}
		tc := kafka.TopicConfig{Topic: s.name, NumPartitions: s.partitions, ReplicationFactor: k.cfg.ReplicationFactor}
		for key, v := range s.configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: key, ConfigValue: v})
		}
		create = append(create, tc)
	}
	if len(create) > 0 {
		resp, err := k.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: create})
		if err != nil {
			return fmt.Errorf("cannot create topics: %w", err)
		}
		// CreateTopics returns nil even when a topic failed: read each error.
		for name, terr := range resp.Errors {
			if terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
				return fmt.Errorf("cannot create topic %q: %w", name, terr)
			}
		}
	}
	return k.waitForLeaders(ctx, names)
}

func (k *kafkaClients) waitForLeaders(ctx context.Context, topics []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		ready := err == nil
		if ready {
			for _, t := range meta.Topics {
				if t.Error != nil || len(t.Partitions) == 0 {
					ready = false
					break
				}
				for _, p := range t.Partitions {
					if p.Error != nil || p.Leader.Host == "" {
						ready = false
					}
				}
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topics %v have no leader after 30s (last error: %v)", topics, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// backoff is a capped exponential backoff with jitter.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else if b.cur *= 2; b.cur > b.max {
		b.cur = b.max
	}
	return b.cur/2 + time.Duration(time.Now().UnixNano()%int64(b.cur/2+1))
}

func (b *backoff) reset() { b.cur = 0 }

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// CreateInputTopics creates raw input topics (logveil never creates them
// itself, so a typo in kafka.input_topics cannot) with the process's
// clients: TLS and SASL as configured. It returns each topic's outcome:
// nil, an error wrapping kafka.TopicAlreadyExists, or why it failed.
func CreateInputTopics(ctx context.Context, cfg config.KafkaSettings, names []string, partitions, replication int, retention time.Duration) (map[string]error, error) {
	k := newKafkaClients(cfg)
	defer k.transport.CloseIdleConnections()
	var req kafka.CreateTopicsRequest
	for _, t := range names {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(retention.Milliseconds(), 10)}}})
	}
	resp, err := k.client.CreateTopics(ctx, &req)
	if err != nil {
		if fe := asFatal(err); fe != nil {
			return nil, fe
		}
		return nil, fmt.Errorf("cannot create topics on %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	out := make(map[string]error, len(names))
	for _, t := range names {
		out[t] = resp.Errors[t]
	}
	return out, nil
}
