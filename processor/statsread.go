package processor

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/transforms"
)

// StatsFilter selects rows of <prefix>.stats; zero fields select all.
type StatsFilter struct {
	Window    time.Duration
	Dimension string
	Since     time.Time
}

// ReadStats reads <prefix>.stats from the start to its current end, as any
// analytics consumer would, and returns the latest value of each row that
// matches f (tombstones delete rows), ordered by window, dimension, value.
func ReadStats(ctx context.Context, cfg Config, f StatsFilter) ([]transforms.StatsRow, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	k, err := newKafkaClients(cfg.Kafka)
	if err != nil {
		return nil, err
	}
	defer k.transport.CloseIdleConnections() // stats --serve calls this every refresh
	topic := cfg.Kafka.StatsTopic()
	meta, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("cannot reach Kafka at %v: %w", cfg.Kafka.Brokers, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("topic %s: does not exist (is logveil run with the merge stage writing it?)", topic)
	}
	latest := map[string][]byte{}
	for _, p := range meta.Topics[0].Partitions {
		if err := readPartition(ctx, k, topic, p.ID, latest); err != nil {
			return nil, err
		}
	}
	var rows []transforms.StatsRow
	for key, v := range latest {
		var r transforms.StatsRow
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("%s: row %q: %w", topic, key, err)
		}
		if f.matches(&r) {
			rows = append(rows, r)
		}
	}
	SortRows(rows)
	return rows, nil
}

// matches reports whether r is selected by f.
func (f StatsFilter) matches(r *transforms.StatsRow) bool {
	if f.Dimension != "" && r.Dimension != f.Dimension {
		return false
	}
	if f.Window != 0 {
		if d, err := time.ParseDuration(r.WindowSize); err != nil || d != f.Window {
			return false
		}
	}
	if !f.Since.IsZero() {
		if t, err := time.Parse(time.RFC3339, r.WindowStart); err != nil || t.Before(f.Since) {
			return false
		}
	}
	return true
}

var dimOrder = map[string]int{"total": -2, "privacy": 100}

// SortRows orders rows by window start and size, then totals first, the
// dimensions, the privacy record last, values in order with "(other)" last.
func SortRows(rows []transforms.StatsRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		if a.WindowStart != b.WindowStart {
			return a.WindowStart < b.WindowStart
		}
		if a.WindowSize != b.WindowSize {
			da, _ := time.ParseDuration(a.WindowSize)
			db, _ := time.ParseDuration(b.WindowSize)
			return da < db
		}
		if a.Dimension != b.Dimension {
			oa, ob := dimOrder[a.Dimension], dimOrder[b.Dimension]
			if oa != ob {
				return oa < ob
			}
			return a.Dimension < b.Dimension
		}
		if (a.Value == transforms.Other) != (b.Value == transforms.Other) {
			return b.Value == transforms.Other
		}
		return a.Value < b.Value
	})
}

// readPartition reads one partition from its first to its last offset into
// latest (key -> value; a tombstone deletes).
func readPartition(ctx context.Context, k *kafkaClients, topic string, partition int, latest map[string][]byte) error {
	conn, err := k.dialer.DialLeader(ctx, "tcp", k.cfg.Brokers[0], topic, partition)
	if err != nil {
		return fmt.Errorf("%s/%d: %w", topic, partition, err)
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return fmt.Errorf("%s/%d: %w", topic, partition, err)
	}
	offset := first
	for offset < last {
		if _, err := conn.Seek(offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			return err
		}
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: 16 << 20, MaxWait: time.Second})
		n := 0
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			n++
			offset = m.Offset + 1
			if m.Value == nil {
				delete(latest, string(m.Key))
			} else {
				latest[string(m.Key)] = m.Value
			}
		}
		if err := batch.Close(); err != nil && n == 0 {
			return fmt.Errorf("%s/%d at %d: %w", topic, partition, offset, err)
		}
		if n == 0 {
			// Compaction can leave a gap: ask again from the next offset.
			offset++
		}
	}
	return nil
}
