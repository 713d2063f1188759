package processor

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/logveil/logveil/processor/config"
	"github.com/segmentio/kafka-go"
)

// TestSaltsOnRealBroker: the salts topic is created so that compaction
// really deletes, two instances agree on a day's salt (first record wins),
// and an expired salt is tombstoned and then refused by a fresh instance.
func TestSaltsOnRealBroker(t *testing.T) {
	b := os.Getenv("LOGVEIL_TEST_BROKERS")
	if b == "" {
		t.Skip("LOGVEIL_TEST_BROKERS is not set")
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	raw := "salt-raw-" + id
	cl := &kafka.Client{Addr: kafka.TCP(b), Timeout: 20 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: raw, NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	conf := config.Default()
	conf.Kafka.Brokers, conf.Kafka.TopicPrefix, conf.Kafka.InputTopics = []string{b}, "salt-"+id, []string{raw}
	cfg, err := conf.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	k := newKafkaClients(cfg.Kafka)
	for {
		if err = k.ensureTopics(ctx); err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond) // the raw topic may not be visible yet
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: cfg.Kafka.SaltsTopic()}}})
	if err != nil || len(resp.Resources) != 1 || resp.Resources[0].Error != nil {
		t.Fatalf("describe configs: %v %+v", err, resp)
	}
	got := map[string]string{}
	for _, e := range resp.Resources[0].ConfigEntries {
		got[e.ConfigName] = e.ConfigValue
	}
	for key, want := range map[string]string{"cleanup.policy": "compact", "segment.ms": "3600000",
		"delete.retention.ms": "3600000", "min.cleanable.dirty.ratio": "0.01", "max.compaction.lag.ms": "3600000"} {
		if got[key] != want {
			t.Errorf("salts topic %s = %q on the broker, want %q", key, got[key], want)
		}
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := newMetrics()
	start := func(s *saltStore) {
		go s.run(ctx)
		t.Cleanup(func() { s.close() })
	}
	day := time.Now().Unix() / 86400
	s1, s2 := newSaltStore(k, log, m), newSaltStore(k, log, m)
	start(s1)
	start(s2)
	a, ok1 := s1.Salt(day)
	c, ok2 := s2.Salt(day)
	if !ok1 || !ok2 || !bytes.Equal(a, c) || len(a) != 32 {
		t.Fatalf("two instances: %x %v / %x %v: want the same 32-byte salt", a, ok1, c, ok2)
	}
	if _, ok := s1.Salt(day - 3); ok {
		t.Error("a salt was made for a day past its retention")
	}

	// A third instance, started later, reads the same salt from the topic.
	late := newSaltStore(k, log, m)
	start(late)
	if l, ok := late.Salt(day); !ok || !bytes.Equal(l, a) {
		t.Fatalf("a later instance got %x %v, want %x", l, ok, a)
	}

	// An instance whose clock is three days later tombstones the salt.
	s3 := newSaltStore(k, log, m)
	s3.now = func() time.Time { return time.Now().Add(72 * time.Hour) }
	s3.janitorEvery = 100 * time.Millisecond
	start(s3)
	deadline := time.Now().Add(30 * time.Second)
	for {
		s4 := newSaltStore(k, log, m)
		s4Ctx, s4Cancel := context.WithCancel(ctx)
		go s4.run(s4Ctx)
		_, ok := s4.Salt(day)
		s4Cancel()
		s4.close()
		if !ok {
			break // destroyed: a fresh instance cannot get it back
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired salt was not tombstoned")
		}
		time.Sleep(500 * time.Millisecond)
	}
}
