package processor

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

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

// consume is the aggregate stage for one visits partition. Its hits come
// from every raw partition, interleaved; each raw partition's watermark
// (the largest event time the anonymize stage read from it) comes after its
// hits, and the windows close against the smallest watermark. A hit whose
// raw offset is not past the last one seen from its raw partition is a
// replay of the anonymize stage (after a crash): it is not counted twice.
func (s *aggregateStage) consume(p partitionRun) {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	agg, err := stats.NewAggregator(rt.cfg.Stats)
	if err != nil {
		rt.log.Error("statistics config", "err", err) // Validate checked it
		return
	}
	agg.UseExternalClock()
	expected, err := s.inputSources(p.genCtx)
	if err != nil {
		return
	}
	quietUntil, sources, ok := rt.restore(p.genCtx, "a1", p) // sources: raw partition -> watermark
	if !ok {
		return
	}
	advance := func() {
		var clock int64
		for i, src := range expected {
			t, ok := sources[src]
			if !ok {
				return // a raw partition not heard from yet
			}
			if i == 0 || t < clock {
				clock = t
			}
		}
		agg.Advance(clock)
	}
	advance()
	ch, stop := rt.reader(p.topic, p.pa.ID).start(p.runCtx, p.genCtx, p.pa.Offset)
	defer stop()

	partialsParts, err := rt.partitionCount(p.genCtx, kc.PartialsTopic())
	if err != nil {
		return
	}
	var (
		hit       stats.Hit
		scratch   []byte
		parts     []stats.Partial
		out, late []kafka.Message
		pos       = int64(-1)
		seen      = map[string]int64{} // raw source -> last raw offset counted
	)
	emit := func() bool {
		start := time.Now()
		parts = agg.Flush(parts[:0], p.pa.ID, false)
		quiet := pos < quietUntil
		out = out[:0]
		if !quiet {
			for i := range parts {
				part := &parts[i]
				v, _ := json.Marshal(part)
				out = append(out, kafka.Message{Topic: kc.PartialsTopic(), Key: part.AppendKey(nil), Value: v})
			}
			out = append(out, late...)
		}
		if !rt.produce(p.hardCtx, out) {
			return false
		}
		clock, started := agg.Clock()
		if !quiet && started {
			// The watermark goes after the partials it covers.
			out = out[:0]
			v := appendPartialsWatermark(nil, p.pa.ID, clock)
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
			if len(late) > 0 {
				rt.metrics.recordsOut.WithLabelValues(kc.LateTopic()).Add(float64(len(late)))
			}
		}
		late = late[:0]
		held, ok := agg.Held()
		if !ok {
			held = pos
		}
		p.acks.set(p.topic, p.pa.ID, held, encodeMeta("a1", max(pos, quietUntil), sources))
		rt.metrics.statsOpen.WithLabelValues(strconv.Itoa(p.pa.ID)).Set(float64(agg.Open()))
		rt.metrics.stage.WithLabelValues("aggregate_emit").Observe(time.Since(start).Seconds())
		return true
	}
	emitLoop(kc.StatsEmitInterval, ch, rt.done, emit, func(f fetched) bool {
		start := time.Now()
		hits := 0
		for i := range f.msgs {
			m := &f.msgs[i]
			if bytes.HasPrefix(m.Key, watermarkKeyPrefix) {
				src := m.Key[len(watermarkKeyPrefix):]
				t, ok := parseVisitsWatermark(m.Value)
				if !ok {
					rt.metrics.errors.WithLabelValues("visits_decode").Inc()
					continue
				}
				if old, ok := sources[string(src)]; !ok || t > old {
					sources[string(src)] = t
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
				if !agg.AddHit(&hit, m.Offset) && m.Offset >= quietUntil {
					rt.metrics.statsLate.Inc()
					if kc.Late {
						late = append(late, kafka.Message{Topic: kc.LateTopic(), Key: strconv.AppendUint(nil, hit.Visitor, 16), Value: line})
					}
				}
			}
		}
		pos = f.msgs[len(f.msgs)-1].Offset + 1
		rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-pos, 0))
		rt.metrics.statsHits.Add(float64(hits))
		rt.metrics.stage.WithLabelValues("aggregate").Observe(time.Since(start).Seconds())
		return len(late) > 10000
	})
}
