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
	r, err := newStatsReader(cfg, func() StatsFilter { return f })
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.update(ctx); err != nil {
		return nil, err
	}
	return r.selectRows(f), nil
}

// statsReader holds the latest row of every key of <prefix>.stats that its
// keep filter selects, and brings it up to date by reading each partition
// from where its previous read ended.
type statsReader struct {
	k     *kafkaClients
	topic string
	keep  func() StatsFilter // evaluated at each update: "since" may move
	next  map[int]int64      // partition -> the offset to read from
	rows  map[string]transforms.StatsRow
}

func newStatsReader(cfg Config, keep func() StatsFilter) (*statsReader, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	k, err := newKafkaClients(cfg.Kafka)
	if err != nil {
		return nil, err
	}
	return &statsReader{k: k, topic: cfg.Kafka.StatsTopic(), keep: keep, next: map[int]int64{},
		rows: map[string]transforms.StatsRow{}}, nil
}

func (s *statsReader) close() { s.k.transport.CloseIdleConnections() }

// update reads what was written since the last update.
func (s *statsReader) update(ctx context.Context) error {
	meta, err := s.k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{s.topic}})
	if err != nil {
		return fmt.Errorf("cannot reach Kafka at %v: %w", s.k.cfg.Brokers, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return fmt.Errorf("topic %s: does not exist (is logveil run with the merge stage writing it?)", s.topic)
	}
	keep := s.keep()
	for _, p := range meta.Topics[0].Partitions {
		next, err := s.readPartition(ctx, p.ID, s.next[p.ID], keep)
		s.next[p.ID] = next // past a row that did not decode: reported once
		if err != nil {
			return err
		}
	}
	// Windows that fell out of a moving "since" are let go.
	for key, r := range s.rows {
		if !keep.matches(&r) {
			delete(s.rows, key)
		}
	}
	return nil
}

// selectRows returns the held rows f selects, sorted.
func (s *statsReader) selectRows(f StatsFilter) []transforms.StatsRow {
	rows := make([]transforms.StatsRow, 0, len(s.rows))
	for _, r := range s.rows {
		if f.matches(&r) {
			rows = append(rows, r)
		}
	}
	SortRows(rows)
	return rows
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

// readPartition applies one partition's records from offset from (or its
// first offset, when from is before it or past its end: a re-read ends in the
// same state) to its current end, and returns the offset to read from next.
func (s *statsReader) readPartition(ctx context.Context, partition int, from int64, keep StatsFilter) (int64, error) {
	pick := func(first, end int64) int64 {
		if from < first || from > end {
			return first
		}
		return from
	}
	next, err := s.k.readRange(ctx, s.topic, partition, 16<<20, pick, func(m kafka.Message) error {
		if m.Value == nil {
			delete(s.rows, string(m.Key))
			return nil
		}
		var r transforms.StatsRow
		if err := json.Unmarshal(m.Value, &r); err != nil {
			return fmt.Errorf("%s/%d at %d: row %q: %w", s.topic, partition, m.Offset, m.Key, err)
		}
		if keep.matches(&r) {
			s.rows[string(m.Key)] = r
		} else {
			delete(s.rows, string(m.Key))
		}
		return nil
	})
	if err != nil && next == 0 {
		return from, err // not reached: read again from the same place
	}
	return next, err
}
