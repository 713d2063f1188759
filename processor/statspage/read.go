package statspage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/transforms/stats"
	"github.com/segmentio/kafka-go"
)

// Filter selects rows of <prefix>.stats; zero fields select all.
type Filter struct {
	Window    time.Duration
	Dimension string
	Since     time.Time
	// Site selects a table: "" the all-sites one, a host that site's,
	// AllSites every table.
	Site string
}

// AllSites is the Filter.Site that selects every table.
const AllSites = "*"

// Read reads <prefix>.stats from the start to its current end, as any
// analytics consumer would, and returns the latest value of each row that
// matches f (tombstones delete rows), ordered by window, dimension, value.
func Read(ctx context.Context, cfg config.KafkaSettings, f Filter) ([]stats.Row, error) {
	r := newReader(cfg, func() Filter { return f })
	defer r.close()
	if err := r.update(ctx); err != nil {
		return nil, err
	}
	return r.selectRows(f), nil
}

// reader holds the latest row of every key of <prefix>.stats that its
// keep filter selects, and brings it up to date by reading each partition
// from where its previous read ended.
type reader struct {
	k     *processor.TopicReader
	topic string
	keep  func() Filter // evaluated at each update: "since" may move
	next  map[int]int64 // partition -> the offset to read from
	rows  map[string]stats.Row
}

func newReader(cfg config.KafkaSettings, keep func() Filter) *reader {
	return &reader{k: processor.NewTopicReader(cfg), topic: cfg.StatsTopic(), keep: keep, next: map[int]int64{},
		rows: map[string]stats.Row{}}
}

func (s *reader) close() { s.k.Close() }

// update reads what was written since the last update.
func (s *reader) update(ctx context.Context) error {
	parts, err := s.k.Partitions(ctx, s.topic)
	if errors.Is(err, processor.ErrNoTopic) {
		return fmt.Errorf("%w (is logveil run with the merge stage writing it?)", err)
	}
	if err != nil {
		return err
	}
	keep := s.keep()
	for _, p := range parts {
		next, err := s.readPartition(ctx, p, s.next[p], keep)
		s.next[p] = next // past a row that did not decode: reported once
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
func (s *reader) selectRows(f Filter) []stats.Row {
	rows := make([]stats.Row, 0, len(s.rows))
	for _, r := range s.rows {
		if f.matches(&r) {
			rows = append(rows, r)
		}
	}
	SortRows(rows)
	return rows
}

// matches reports whether r is selected by f.
func (f Filter) matches(r *stats.Row) bool {
	if f.Dimension != "" && r.Dimension != f.Dimension {
		return false
	}
	if f.Site != AllSites && r.Site != f.Site {
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
func SortRows(rows []stats.Row) {
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
		if a.Site != b.Site {
			return a.Site < b.Site // the all-sites table ("") first
		}
		if a.Dimension != b.Dimension {
			oa, ob := dimOrder[a.Dimension], dimOrder[b.Dimension]
			if oa != ob {
				return oa < ob
			}
			return a.Dimension < b.Dimension
		}
		if (a.Value == stats.Other) != (b.Value == stats.Other) {
			return b.Value == stats.Other
		}
		return a.Value < b.Value
	})
}

// readPartition applies one partition's records from offset from (or its
// first offset, when from is before it or past its end: a re-read ends in the
// same state) to its current end, and returns the offset to read from next.
func (s *reader) readPartition(ctx context.Context, partition int, from int64, keep Filter) (int64, error) {
	pick := func(first, end int64) int64 {
		if from < first || from > end {
			return first
		}
		return from
	}
	next, err := s.k.ReadRange(ctx, s.topic, partition, 16<<20, pick, func(m kafka.Message) error {
		if m.Value == nil {
			delete(s.rows, string(m.Key))
			return nil
		}
		var r stats.Row
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
