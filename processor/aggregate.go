package processor

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/transforms/stats"
)

// aggregateStage reads <prefix>.visits and writes <prefix>.partials: one
// stats.Aggregator per visits partition (emit.go).
type aggregateStage struct {
	stageInfo
	rt *runtime
}

// inputSources lists the raw topics' partitions as "topic/partition": the
// sources whose watermarks the aggregate stage waits for.
func (s *aggregateStage) inputSources(ctx context.Context) ([]string, error) {
	var out []string
	for _, t := range s.rt.cfg.Kafka.InputTopics {
		n, err := s.rt.partitionCount(ctx, t)
		if err != nil {
			return nil, err
		}
		for p := range n {
			out = append(out, string(sourceName(t, p)))
		}
	}
	return out, nil
}

// windowLabel names a window size as the config writes it: 1h, 24h, 30m.
func windowLabel(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// consume is the aggregate stage for one visits partition. Its hits come
// from every raw partition, interleaved; each raw partition's watermark
// (the largest event time the anonymize stage read from it), or its idle
// record, comes after its hits, and the windows close against eventClock's
// clock. A hit whose
// raw offset is not past the last one seen from its raw partition is a
// replay of the anonymize stage (after a crash): it is not counted twice.
func (s *aggregateStage) consume(p partitionRun) {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	agg := stats.NewAggregator(rt.cfg.Stats)
	agg.UseExternalClock()
	expected, err := s.inputSources(p.genCtx)
	if err != nil {
		return
	}
	saved, ok := rt.restore(p.genCtx, p, "a2", "a1")
	if !ok {
		return
	}
	quietUntil := saved.pos
	clock := newEventClock(expected, saved.marks)
	advance := func() {
		if t, ok := clock.clock(); ok {
			agg.Advance(t)
		}
	}
	if saved.hasClock {
		agg.Advance(saved.clock)
	} else {
		advance() // a1: every source as if active
	}
	ch, stop := rt.reader(p.topic, p.pa.ID).start(p.runCtx, p.genCtx, p.pa.Offset)
	defer stop()

	partialsParts, err := rt.partitionCount(p.genCtx, kc.PartialsTopic())
	if err != nil {
		return
	}
	// Late hits are counted by window size; a hit late for every size is
	// in no window at all.
	lateBySize := make([]prometheus.Counter, len(rt.cfg.Stats.Windows))
	for i, w := range rt.cfg.Stats.Windows {
		lateBySize[i] = rt.metrics.statsLate.WithLabelValues(windowLabel(w))
	}
	allLate := stats.LateMask(1)<<len(lateBySize) - 1
	var (
		hit          stats.Hit
		scratch      []byte
		parts        []stats.Partial
		out, lateOut []kafka.Message
		pos          = int64(-1)
		seen         = map[string]int64{} // raw source -> last raw offset counted
		replayed     = quietUntil <= 0
		// late hits since the last warning about them (at most one a minute)
		lateSince  int64
		lateWarned time.Time
	)
	// caughtUp ends the replay: the state is the checkpoint's again, but for
	// the late counts the replay could not tell (it ran at the checkpoint's
	// clock).
	caughtUp := func() {
		if !replayed {
			agg.SetLateCounts(saved.late)
			replayed = true
		}
	}
	emit := func() bool {
		start := time.Now()
		quiet := pos < quietUntil
		if !quiet {
			caughtUp()
		}
		parts = agg.Flush(parts[:0], p.pa.ID, false)
		out = out[:0]
		if !quiet {
			for i := range parts {
				part := &parts[i]
				v, _ := json.Marshal(part)
				out = append(out, kafka.Message{Topic: kc.PartialsTopic(), Key: part.AppendKey(nil), Value: v})
			}
			out = append(out, lateOut...)
		}
		if !rt.produce(p.hardCtx, out) {
			return false
		}
		now, started := agg.Clock()
		if !quiet && started {
			// The watermark goes after the partials it covers.
			out = out[:0]
			v := appendPartialsWatermark(nil, p.pa.ID, now)
			key := appendKey(nil, watermarkKeyPrefix, strconv.AppendInt(nil, int64(p.pa.ID), 10))
			for i := range partialsParts {
				out = append(out, kafka.Message{Topic: kc.PartialsTopic(), Key: key, Value: v, Partition: i})
			}
			if !rt.produce(p.hardCtx, out) {
				return false
			}
		}
		if !quiet {
			rt.metrics.recordsOut.WithLabelValues(kc.PartialsTopic()).Add(float64(len(parts)))
			if len(lateOut) > 0 {
				rt.metrics.recordsOut.WithLabelValues(kc.LateTopic()).Add(float64(len(lateOut)))
			}
		}
		lateOut = lateOut[:0]
		if lateSince > 0 && time.Since(lateWarned) >= time.Minute {
			rt.log.Warn("hits came after their window had closed: its statistics miss them (logveil_stats_late_total by window; stats.lateness)",
				"hits", lateSince, "partition", p.pa.ID)
			lateSince, lateWarned = 0, time.Now()
		}
		held, ok := agg.Held()
		if !ok {
			held = pos
		}
		late := saved.late // replaying: the checkpoint's, at a new held offset
		if !quiet {
			late = agg.LateCounts()
		}
		p.acks.set(p.topic, p.pa.ID, held, encodeMeta("a2", stageMeta{pos: max(pos, quietUntil), clock: now, hasClock: started, late: late, marks: clock.marks}))
		rt.metrics.statsOpen.WithLabelValues(strconv.Itoa(p.pa.ID)).Set(float64(agg.Open()))
		rt.metrics.stage.WithLabelValues("aggregate_emit").Observe(time.Since(start).Seconds())
		return true
	}
	emitLoop(kc.StatsEmitInterval, ch, rt.done, emit, func(f fetched) bool {
		start := time.Now()
		hits := 0
		for i := range f.msgs {
			m := &f.msgs[i]
			if m.Offset >= quietUntil {
				caughtUp()
			}
			if bytes.HasPrefix(m.Key, watermarkKeyPrefix) {
				if m.Offset < quietUntil {
					continue // replayed: the restored clock and marks already hold it
				}
				mark, ok := parseVisitsWatermark(m.Value)
				if !ok {
					rt.metrics.errors.WithLabelValues("visits_decode").Inc()
					continue
				}
				if clock.mark(string(m.Key[len(watermarkKeyPrefix):]), mark) {
					advance()
				}
				continue
			}
			value := m.Value
			for len(value) > 0 {
				line := value
				if i := bytes.IndexByte(value, '\n'); i >= 0 {
					line, value = value[:i], value[i+1:]
				} else {
					value = nil
				}
				if len(line) == 0 {
					continue
				}
				hits++
				scratch, err = stats.ParseHit(m.Key, line, &hit, scratch)
				if err != nil {
					// Only logveil writes this topic: a newer version's record.
					rt.metrics.errors.WithLabelValues("visits_decode").Inc()
					continue
				}
				if last, ok := seen[string(hit.Source)]; ok && hit.Offset <= last {
					rt.metrics.statsDuplicates.Inc()
					continue
				}
				seen[string(hit.Source)] = hit.Offset
				late := agg.AddHit(&hit, m.Offset)
				if late == 0 || m.Offset < quietUntil {
					continue
				}
				lateSince++
				for i, c := range lateBySize {
					if late&(1<<i) != 0 {
						c.Inc()
					}
				}
				if late == allLate && kc.Late {
					lateOut = append(lateOut, kafka.Message{Topic: kc.LateTopic(), Key: strconv.AppendUint(nil, hit.Visitor, 16), Value: line})
				}
			}
		}
		pos = f.msgs[len(f.msgs)-1].Offset + 1
		rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-pos, 0))
		rt.metrics.statsHits.Add(float64(hits))
		rt.metrics.stage.WithLabelValues("aggregate").Observe(time.Since(start).Seconds())
		return len(lateOut) > 10000
	})
}
